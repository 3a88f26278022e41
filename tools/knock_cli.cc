// tools/knock_cli.cc — `netwakectl keygen FILE` and `netwakectl knock HOST[:PORT] TARGET
// --key-file F [--port N]`: argument parsing, messages and exit status only (0/1/2); no daemon.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/text.h"
#include "tools/knock_send.h"

namespace nw::tools {
namespace {

constexpr const char* kKeygenUsage =
    "usage: netwakectl keygen FILE\n"
    "  Writes a new random 32-byte SPA key (base64, one line) to FILE, mode 0600.\n"
    "  FILE must not exist. Put it in a knock's spa.key_file and give a copy to the client.\n";

constexpr const char* kKnockUsage =
    "usage: netwakectl knock HOST[:PORT] TARGET --key-file FILE [--port N]\n"
    "  Sends one authenticated knock (SPA datagram) asking netwaked to start TARGET.\n"
    "  HOST may be a name, an IPv4 address or [IPv6]; PORT defaults to --port, else 62201.\n"
    "  -k, --key-file FILE   the knock's key (as written by netwakectl keygen)\n"
    "  -p, --port N          UDP port when HOST has none (default 62201)\n";

int usage_error(const char* cmd, const std::string& msg, const char* usage) {
    std::fprintf(stderr, "netwakectl %s: %s\n%s", cmd, msg.c_str(), usage);
    return 2;
}

bool is_help(const char* a) { return !std::strcmp(a, "-h") || !std::strcmp(a, "--help"); }

// Matches "--name VALUE", "-s VALUE" or "--name=VALUE"; advances *i past the value.
// Returns 1 on a match, 0 if `a` is another argument, -1 if the value is missing.
int take_opt(int argc, char** argv, int* i, const char* lng, const char* shrt, std::string* val) {
    const char* a = argv[*i];
    size_t ln = std::strlen(lng);
    if (!std::strncmp(a, lng, ln) && a[ln] == '=') {
        *val = a + ln + 1;
        return 1;
    }
    if (std::strcmp(a, lng) && std::strcmp(a, shrt)) return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

}  // namespace

int keygen_cli_main(int argc, char** argv) {
    std::vector<std::string> pos;
    bool dashdash = false;
    for (int i = 1; i < argc; ++i) {
        if (!dashdash && is_help(argv[i])) {
            std::fputs(kKeygenUsage, stdout);
            return 0;
        }
        if (!dashdash && !std::strcmp(argv[i], "--")) {
            dashdash = true;
            continue;
        }
        if (!dashdash && argv[i][0] == '-' && argv[i][1])
            return usage_error("keygen", "unknown option \"" + std::string(argv[i]) + "\"", kKeygenUsage);
        pos.emplace_back(argv[i]);
    }
    if (pos.size() != 1) return usage_error("keygen", "expected exactly one FILE", kKeygenUsage);
    std::string err;
    if (!keygen_file(pos[0], &err)) {
        std::fprintf(stderr, "netwakectl keygen: %s\n", err.c_str());
        return 1;
    }
    std::printf("wrote a new %zu-byte key to %s (mode 0600)\n", kKeygenBytes, pos[0].c_str());
    return 0;
}

int knock_cli_main(int argc, char** argv) {
    std::vector<std::string> pos;
    std::string key_file, port_text;
    bool have_port = false, dashdash = false;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (!dashdash) {
            if (is_help(a)) {
                std::fputs(kKnockUsage, stdout);
                return 0;
            }
            if (!std::strcmp(a, "--")) {
                dashdash = true;
                continue;
            }
            int r = take_opt(argc, argv, &i, "--key-file", "-k", &key_file);
            if (r < 0) return usage_error("knock", "--key-file needs a FILE", kKnockUsage);
            if (r > 0) continue;
            r = take_opt(argc, argv, &i, "--port", "-p", &port_text);
            if (r < 0) return usage_error("knock", "--port needs a number", kKnockUsage);
            if (r > 0) {
                have_port = true;
                continue;
            }
            if (a[0] == '-' && a[1]) return usage_error("knock", "unknown option \"" + std::string(a) + "\"", kKnockUsage);
        }
        pos.emplace_back(a);
    }
    if (pos.size() != 2) return usage_error("knock", "expected HOST[:PORT] and TARGET", kKnockUsage);
    if (key_file.empty()) return usage_error("knock", "--key-file FILE is required", kKnockUsage);
    uint16_t port = config::SpaConf{}.port;
    if (have_port) {
        uint64_t v = 0;
        if (!config::parse_uint(port_text, 65535, &v) || v == 0)
            return usage_error("knock", "--port must be 1-65535, got \"" + port_text + "\"", kKnockUsage);
        port = uint16_t(v);
    }
    if (!config::valid_target_name(pos[1]))
        return usage_error("knock", "TARGET \"" + pos[1] + "\" is not a valid target name ([A-Za-z0-9_.-], 1-64 characters)",
                           kKnockUsage);
    std::string err, where;
    if (!send_knock(pos[0], pos[1], key_file, port, &err, &where)) {
        std::fprintf(stderr, "netwakectl knock: %s\n", err.c_str());
        return 1;
    }
    std::printf("knock for %s sent to %s\n", pos[1].c_str(), where.c_str());
    return 0;
}

}  // namespace nw::tools

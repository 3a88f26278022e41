// tools/netwakectl.cc — the netwaked client (SPEC §1, §11): talks to the daemon's control
// socket, and (hook points below) sends magic packets and knocks without a daemon. Holds no state.
#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "remote.h"
#include "action/wol.h"
#include "config/model.h"
#include "control/protocol.h"
#include "packet/parse.h"
#include "packet/wol.h"
#include "sys/fd.h"
#include "cli_args.h"
#include "cli_help.h"
#include "register_client.h"
#include "wake_args.h"
#include "tools/knock_send.h"

#ifndef NETWAKED_VERSION
#define NETWAKED_VERSION "unknown"
#endif

namespace {

namespace ctl = nw::control;

constexpr int kOk = 0, kFail = 1, kUsage = 2;  // SPEC §1 exit statuses
constexpr const char* kDefaultSocket = "/run/netwaked/control.sock";
constexpr int kReplyTimeoutS = 10;
constexpr size_t kMaxReply = 64u << 20;

using Args = nw::tools::Args;

struct Ctx {
    std::string socket = kDefaultSocket;
};

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "netwakectl: %s\nTry 'netwakectl --help'.\n", msg.c_str());
    return kUsage;
}

int fail(const std::string& msg) {
    std::fprintf(stderr, "netwakectl: %s\n", msg.c_str());
    return kFail;
}

// ---- talking to the daemon ------------------------------------------------------------

// Sends one request and reads the one-line reply into *reply. Returns kOk or an exit status
// after printing why.
int call(const Ctx& ctx, const ctl::Request& req, std::string* reply) {
    sockaddr_un sa{};
    if (ctx.socket.empty() || ctx.socket.size() >= sizeof sa.sun_path)
        return usage_error("socket path \"" + ctx.socket + "\" is empty or too long");
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, ctx.socket.data(), ctx.socket.size());

    nw::sys::unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail(std::string("socket: ") + std::strerror(errno));
    const timeval tv{kReplyTimeoutS, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // bounds connect() too
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        const int e = errno;
        if (e == ENOENT || e == ECONNREFUSED)
            return fail("netwaked is not running (no control socket at " + ctx.socket + ")");
        if (e == EACCES || e == EPERM)
            return fail("cannot connect to " + ctx.socket + ": " + std::strerror(e) +
                        " (run as root or as a member of the daemon's group)");
        if (e == EAGAIN || e == EINPROGRESS)
            return fail("netwaked did not accept the connection within " + std::to_string(kReplyTimeoutS) + " s");
        return fail("cannot connect to " + ctx.socket + ": " + std::strerror(e));
    }

    const std::string line = ctl::format_request(req);
    for (size_t off = 0; off < line.size();) {
        const ssize_t n = ::send(fd.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(std::string("sending request: ") + std::strerror(errno));
        off += size_t(n);
    }

    reply->clear();
    char buf[65536];
    for (;;) {
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return fail("netwaked did not answer within " + std::to_string(kReplyTimeoutS) + " s");
        if (n < 0) return fail(std::string("reading reply: ") + std::strerror(errno));
        if (n == 0) break;
        reply->append(buf, size_t(n));
        if (reply->find('\n', reply->size() - size_t(n)) != std::string::npos) break;
        if (reply->size() > kMaxReply) return fail("reply from netwaked is too large");
    }
    if (const auto nl = reply->find('\n'); nl != std::string::npos) reply->resize(nl + 1);
    if (reply->empty()) return fail("netwaked closed the connection without answering");
    return kOk;
}

// Sends `req`; on {"ok":true} prints the optional message. The common case for actions.
int simple_call(const Ctx& ctx, const ctl::Request& req) {
    std::string line, err;
    if (int rc = call(ctx, req, &line)) return rc;
    ctl::Reply r;
    if (!ctl::parse_reply(line, &r, &err)) return fail("unexpected reply from netwaked: " + err);
    if (!r.ok) return fail(r.error);
    if (!r.message.empty()) std::printf("%s\n", r.message.c_str());
    return kOk;
}

int target_call(const Ctx& ctx, ctl::Cmd cmd, const Args& a) {
    const std::string name(ctl::cmd_name(cmd));
    if (a.size() != 1) return usage_error(name + " needs exactly one TARGET");
    if (!ctl::valid_target_name(a[0]))
        return usage_error("bad target name \"" + a[0] + "\" (want [A-Za-z0-9_.-]{1,64})");
    return simple_call(ctx, {cmd, a[0]});
}

// ---- local (daemon-less) commands: hook points --------------------------------------

// Local Wake-on-LAN without a daemon (SPEC §7, the etherwake/wakeonlan use case); the forms
// are parsed in wake_args.cc. -i sends an EtherType 0x0842 frame on IF (to the MAC and
// broadcast); --udp a datagram; with neither, a UDP datagram to 255.255.255.255:9.
int cmd_wake_local(const nw::tools::WakeArgs& a) {
    const nw::config::WolConf& w = a.wol;
    std::string desc, err;
    if (!nw::action::wol_send_once(w, w.repeat, w.interval, &desc, &err)) {
        if (!desc.empty()) std::printf("sent: %s\n", desc.c_str());
        return fail("wake " + a.subject + ": " + err);
    }
    std::printf("magic packet%s for %s sent: %s\n", w.repeat > 1 ? "s" : "", a.subject.c_str(), desc.c_str());
    return kOk;
}

// netwakectl keygen FILE / knock HOST[:PORT] TARGET --key-file F [--port N] (SPEC §10):
// implemented in tools/knock_cli.cc; `args` are the words after the command name.
int run_argv(int (*fn)(int, char**), const char* name, const Args& args) {
    std::vector<std::string> words{name};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    return fn(static_cast<int>(words.size()), argv.data());
}
int cmd_keygen(const Ctx&, const Args& args) { return run_argv(nw::tools::keygen_cli_main, "keygen", args); }
int cmd_knock(const Ctx&, const Args& args) { return run_argv(nw::tools::knock_cli_main, "knock", args); }
int cmd_remote(const Ctx&, const Args& args) { return run_argv(nw::tools::remote_main, "remote", args); }  // tools/remote.cc

// ---- daemon commands ---------------------------------------------------------------

int cmd_status(const Ctx& ctx, const Args& a) {
    bool json = false;
    for (const auto& w : a) {
        if (w == "--json")
            json = true;
        else
            return usage_error("status: unexpected argument \"" + w + "\"");
    }
    std::string line, err;
    if (int rc = call(ctx, {ctl::Cmd::Status, ""}, &line)) return rc;
    ctl::Reply r;
    if (!ctl::parse_reply(line, &r, &err)) return fail("unexpected reply from netwaked: " + err);
    if (!r.ok) return fail(r.error);
    if (json) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        return kOk;
    }
    ctl::Status s;
    if (!ctl::parse_status(line, &s, &err)) return fail(err);
    std::fputs(ctl::render_status_text(s).c_str(), stdout);
    return kOk;
}

int cmd_start(const Ctx& ctx, const Args& a) { return target_call(ctx, ctl::Cmd::Start, a); }
int cmd_stop(const Ctx& ctx, const Args& a) { return target_call(ctx, ctl::Cmd::Stop, a); }

int cmd_wake(const Ctx& ctx, const Args& a) {
    nw::tools::WakeArgs w;
    std::string err;
    if (!nw::tools::parse_wake_args(a, &w, &err)) return usage_error("wake: " + err);
    if (w.local) return cmd_wake_local(w);
    return target_call(ctx, ctl::Cmd::Wake, {w.target});
}

int cmd_forget(const Ctx& ctx, const Args& a) {
    if (a.size() != 1) return usage_error("forget needs exactly one NAME");
    if (!ctl::valid_registration_name(a[0])) return usage_error("bad registration name \"" + a[0] + "\"");
    return simple_call(ctx, {ctl::Cmd::Forget, a[0]});
}

int cmd_reload(const Ctx& ctx, const Args& a) {
    if (!a.empty()) return usage_error("reload takes no arguments");
    return simple_call(ctx, {ctl::Cmd::Reload, ""});
}

int cmd_help(const Ctx&, const Args&);
int cmd_register(const Ctx&, const Args& a) { return nw::tools::register_main(a); }

// The dispatch table: add a subcommand by adding a line (and its function above).
struct Subcommand {
    const char* name;
    const char* synopsis;
    const char* help;
    int (*run)(const Ctx&, const Args&);
};

constexpr Subcommand kCommands[] = {
    {"status", "status [--json]", "show sensors, targets and counters (--json: the raw reply)", cmd_status},
    {"start", "start TARGET", "start TARGET now, as if traffic had arrived", cmd_start},
    {"stop", "stop TARGET", "stop TARGET now, without waiting for its TTL", cmd_stop},
    {"wake", "wake TARGET", "send TARGET's magic packets (configured wol)", cmd_wake},
    {"wake-mac", "wake MAC [-i IF] [-b] [--udp HOST[:PORT]] [-p PW] [--repeat N]",
     "send magic packets to MAC without a daemon (options before or after MAC)", nullptr},
    {"register", "register SERVER[:PORT] [-i IF] [--ports LIST|auto] [--name NAME] [--dry-run]",
     "register this machine with a sleep proxy before it sleeps (no daemon here)", cmd_register},
    {"forget", "forget NAME", "drop the registration NAME (sleep proxy)", cmd_forget},
    {"reload", "reload", "reload the configuration file", cmd_reload},
    {"keygen", "keygen FILE", "write a new authenticated-knock key to FILE", cmd_keygen},
    {"knock", "knock HOST[:PORT] TARGET --key-file F", "send one authenticated knock for TARGET", cmd_knock},
    {"remote", "remote ACTION TARGET --broker URL [--key-file F] ...", "publish one MQTT command, wait for the result", cmd_remote},
    {"help", "help [COMMAND]", "show this help, or COMMAND's (every COMMAND also takes --help)", cmd_help},
};

void print_help(FILE* f) {
    std::fprintf(f,
                 "usage: netwakectl [-s SOCKET] COMMAND [ARGS]\n"
                 "\n"
                 "Control a running netwaked, or send magic packets and knocks without one.\n"
                 "\n"
                 "commands:\n");
    for (const auto& c : kCommands) std::fprintf(f, "  %s\n      %s\n", c.synopsis, c.help);
    std::fprintf(f,
                 "\n"
                 "options:\n"
                 "  -s, --socket SOCKET   control socket (default %s, or $NETWAKECTL_SOCKET)\n"
                 "  -h, --help            show this help\n"
                 "  -V, -v, --version     show the version\n"
                 "\n"
                 "exit status: 0 success, 1 failure (or netwaked not running), 2 usage error\n",
                 kDefaultSocket);
}

int cmd_help(const Ctx&, const Args& a) {
    if (a.size() > 1) return usage_error("help takes at most one COMMAND");
    if (a.empty()) {
        print_help(stdout);
        return kOk;
    }
    const char* text = nw::tools::command_usage(a[0]);
    if (!text) return usage_error("no help for unknown command \"" + a[0] + "\"");
    std::fputs(text, stdout);
    return kOk;
}

}  // namespace

int main(int argc, char** argv) {
    Ctx ctx;
    if (const char* env = std::getenv("NETWAKECTL_SOCKET"); env && *env) ctx.socket = env;

    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            print_help(stdout);
            return kOk;
        }
        if (a == "-V" || a == "-v" || a == "--version") {
            std::printf("netwakectl %s\n", NETWAKED_VERSION);
            return kOk;
        }
        if (a == "-s" || a == "--socket") {
            if (i + 1 >= argc) return usage_error(std::string(a) + " needs a SOCKET path");
            ctx.socket = argv[++i];
        } else if (a.rfind("--socket=", 0) == 0) {
            ctx.socket = std::string(a.substr(9));
        } else if (a.size() > 2 && a.rfind("-s", 0) == 0) {
            ctx.socket = std::string(a.substr(2));
        } else if (a == "--") {
            ++i;
            break;
        } else if (!a.empty() && a[0] == '-') {
            return usage_error("unknown option \"" + std::string(a) + "\"");
        } else {
            break;
        }
    }
    if (i >= argc) return usage_error("no command given");

    const std::string name = argv[i];
    const Args args(argv + i + 1, argv + argc);
    for (const auto& c : kCommands) {
        if (!c.run || name != c.name) continue;
        if (nw::tools::wants_help(args)) return cmd_help(ctx, {name});  // never contacts the daemon
        return c.run(ctx, args);
    }
    return usage_error("unknown command \"" + name + "\"");
}

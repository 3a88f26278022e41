// tools/wake_args.cc — `netwakectl wake` argument parsing (see wake_args.h).
#include "wake_args.h"
#include "packet/parse.h"

#include <cstdlib>

namespace nw::tools {

namespace {

// `n` groups of 1-2 hex digits separated by one separator (':' or '-', the same throughout).
bool hex_groups(std::string_view s, size_t n, std::vector<uint8_t>* out) {
    std::vector<uint8_t> v;
    char sep = 0;
    size_t i = 0;
    for (size_t g = 0; g < n; ++g) {
        if (g > 0) {
            if (i >= s.size() || (s[i] != ':' && s[i] != '-') || (sep && s[i] != sep)) return false;
            sep = s[i++];
        }
        int val = 0, digits = 0;
        while (i < s.size() && digits < 2 && packet::hex_digit(s[i]) >= 0) val = val * 16 + packet::hex_digit(s[i++]), ++digits;
        if (digits == 0) return false;
        v.push_back(static_cast<uint8_t>(val));
    }
    if (i != s.size()) return false;
    *out = std::move(v);
    return true;
}

// Exactly 2*n hex digits, no separator.
bool bare_hex(std::string_view s, size_t n, std::vector<uint8_t>* out) {
    if (s.size() != 2 * n) return false;
    std::vector<uint8_t> v;
    for (size_t i = 0; i < s.size(); i += 2) {
        if (packet::hex_digit(s[i]) < 0 || packet::hex_digit(s[i + 1]) < 0) return false;
        v.push_back(static_cast<uint8_t>(packet::hex_digit(s[i]) * 16 + packet::hex_digit(s[i + 1])));
    }
    *out = std::move(v);
    return true;
}

bool dotted_quad(std::string_view s, std::vector<uint8_t>* out) {
    std::vector<uint8_t> v;
    size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0 && (i >= s.size() || s[i++] != '.')) return false;
        unsigned val = 0, digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 3)
            val = val * 10 + unsigned(s[i++] - '0'), ++digits;
        if (digits == 0 || val > 255) return false;
        v.push_back(static_cast<uint8_t>(val));
    }
    if (i != s.size()) return false;
    *out = std::move(v);
    return true;
}

}  // namespace

bool parse_loose_mac(std::string_view s, packet::Mac* out, std::string* err) {
    std::vector<uint8_t> v;
    if (hex_groups(s, 6, &v) || bare_hex(s, 6, &v) || packet::parse_mac(s, out, nullptr)) {
        if (!v.empty()) std::copy(v.begin(), v.end(), out->begin());
        return true;
    }
    if (err)
        *err = "\"" + std::string(s) +
               "\" is not a MAC address (expected aa:bb:cc:dd:ee:ff, 0:b:c:d:e:f, aa-bb-cc-dd-ee-ff, "
               "aabb.ccdd.eeff or aabbccddeeff)";
    return false;
}

bool looks_like_mac(std::string_view s) {
    packet::Mac m;
    return parse_loose_mac(s, &m, nullptr);
}

bool parse_secureon(std::string_view s, std::vector<uint8_t>* out, std::string* err) {
    if (hex_groups(s, 6, out) || bare_hex(s, 6, out) || hex_groups(s, 4, out) || dotted_quad(s, out)) return true;
    if (err)
        *err = "invalid SecureOn password \"" + std::string(s) +
               "\": expected 6 hex bytes (00:11:22:33:44:55), 4 hex bytes (0a:0b:0c:0d) or a dotted quad "
               "(192.168.1.1)";
    return false;
}

bool parse_wake_args(const Args& args, WakeArgs* out, std::string* err) {
    static const std::vector<OptSpec> specs = {
        {'i', "interface", true}, {0, "udp", true},          {'p', "password", true},
        {0, "repeat", true},      {'b', "broadcast", false}, {0, "unicast", false},
    };
    Scanned sc;
    if (!scan_args(args, specs, &sc, err)) return false;
    if (sc.positional.size() != 1) {
        *err = sc.positional.empty() ? "wake needs a TARGET or a MAC"
                                     : "wake takes one TARGET or MAC, got \"" + sc.positional[1] + "\" too";
        return false;
    }
    *out = WakeArgs{};
    out->subject = sc.positional[0];
    config::WolConf& w = out->wol;
    out->local = parse_loose_mac(out->subject, &w.mac, nullptr);
    if (!out->local) {
        if (out->subject.find(':') != std::string::npos) return parse_loose_mac(out->subject, &w.mac, err);
        if (!sc.opts.empty()) {
            *err = "wake TARGET takes no options (options apply to wake MAC)";
            return false;
        }
        out->target = out->subject;
        return true;
    }
    if (packet::is_multicast(w.mac)) {
        *err = out->subject + " is a multicast/broadcast MAC, not a machine's address";
        return false;
    }
    w.methods = 0;
    w.repeat = 1;
    w.interval = std::chrono::milliseconds(100);
    for (const auto& [name, val] : sc.opts) {
        if (name == "interface") {
            w.interface = val;
            w.methods |= static_cast<uint8_t>(config::WolMethod::Ethernet);
        } else if (name == "udp") {
            w.udp_to = val;
            w.methods |= static_cast<uint8_t>(config::WolMethod::Udp);
        } else if (name == "password") {
            if (!parse_secureon(val, &w.password, err)) return false;
        } else if (name == "broadcast") {
            w.ethernet_to = config::EthernetTo::Broadcast;
        } else if (name == "unicast") {
            w.ethernet_to = config::EthernetTo::Unicast;
        } else if (name == "repeat") {
            char* end = nullptr;
            const long n = std::strtol(val.c_str(), &end, 10);
            if (val.empty() || *end || n < 1 || n > 100) {
                *err = "--repeat \"" + val + "\" is not a count (1-100)";
                return false;
            }
            w.repeat = static_cast<uint32_t>(n);
        }
    }
    if (w.methods == 0) w.methods = static_cast<uint8_t>(config::WolMethod::Udp);
    return true;
}

}  // namespace nw::tools

// tools/wake_args.cc — `netwakectl wake` argument parsing (see wake_args.h).
#include "wake_args.h"
#include "packet/parse.h"
#include "packet/wol.h"

#include <cstdlib>

namespace nw::tools {


bool parse_loose_mac(std::string_view s, packet::Mac* out, std::string* err) {
    return packet::parse_mac_loose(s, out, err);
}

bool parse_secureon(std::string_view s, std::vector<uint8_t>* out, std::string* err) {
    return packet::parse_password(s, out, err);
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

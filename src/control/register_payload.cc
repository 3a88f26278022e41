// control/register_payload.cc — the registration side of SPEC §9 that needs no socket: the
// payload parser, the incremental end-of-object scanner and the checks against the register
// settings and the host (pure apart from the RegisterEnv callbacks). The server is in
// register_server.cc.
#include "control/register.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "config/text.h"
#include "control/protocol.h"
#include "packet/parse.h"
#include "sys/log.h"

namespace nw::control {

using json = nlohmann::json;

namespace {

// User text inside a message: at most `max` bytes, control characters shown as '?'.
std::string shown(std::string_view s, size_t max = 40) {
    std::string o;
    for (unsigned char c : s.substr(0, max)) o += (c < 0x20 || c == 0x7f) ? '?' : char(c);
    return s.size() > max ? o + "..." : o;
}
std::string shown_json(const json& v) { return shown(v.dump(-1, ' ', false, json::error_handler_t::replace)); }

// Deepest nesting of objects/arrays outside strings (checked before parsing).
int max_depth(std::string_view t) {
    int d = 0, m = 0;
    bool str = false, esc = false;
    for (char c : t) {
        if (str) {
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            m = std::max(m, ++d);
        } else if (c == '}' || c == ']') {
            --d;
        }
    }
    return m;
}

// Why `a` can never be a machine's unicast address ("" if it can).
std::string unusable(const packet::Addr& a) {
    if (a.is_v4()) {
        const uint32_t v = a.v4_host();
        if (v == 0) return "is the unspecified address";
        if (v == 0xffffffffu) return "is the broadcast address";
        if ((v >> 24) == 0) return "is in 0.0.0.0/8 (this network)";
        if ((v >> 24) == 127) return "is a loopback address";
        if ((v >> 28) == 0xe) return "is a multicast address";
        if ((v >> 28) == 0xf) return "is in the reserved range 240.0.0.0/4";
        return "";
    }
    if (a == packet::Addr{}) return "is the unspecified address";
    packet::Addr one;
    one.b[15] = 1;
    if (a == one) return "is the loopback address";
    if (a.b[0] == 0xff) return "is a multicast address";
    return "";
}

bool parse_ports(const json& v, const std::string& where, std::vector<uint16_t>* out, std::string* err) {
    if (!v.is_array()) {
        *err = where + ": expected a list of ports, got " + shown_json(v);
        return false;
    }
    if (v.empty()) {
        *err = where + ": at least one port is needed";
        return false;
    }
    if (v.size() > kRegisterMaxPorts) {
        *err = fmt::format("{}: {} ports (at most {})", where, v.size(), kRegisterMaxPorts);
        return false;
    }
    for (size_t k = 0; k < v.size(); ++k) {
        const json& p = v[k];
        const std::string w = fmt::format("{}[{}]", where, k);
        if (!p.is_number_integer()) {
            *err = w + ": expected a port number, got " + shown_json(p);
            return false;
        }
        const bool neg = p.is_number_unsigned() ? false : p.get<int64_t>() < 0;
        const uint64_t n = neg ? 0 : p.get<uint64_t>();
        if (neg || n < 1 || n > 65535) {
            *err = w + ": " + shown_json(p) + " is not a port (1-65535)";
            return false;
        }
        out->push_back(uint16_t(n));
    }
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
    return true;
}

bool parse_monitor(const json& m, size_t i, Registration* r, std::string* err) {
    const std::string where = fmt::format("monitor[{}]", i);
    if (!m.is_object()) {
        *err = where + ": expected an object {\"ip\": ..., \"port\": [...]}, got " + shown_json(m);
        return false;
    }
    RegMonitor e;
    auto ip = m.find("ip");
    if (ip == m.end() || !ip->is_string()) {
        *err = where + ".ip: " + (ip == m.end() ? std::string("missing") : "expected a string, got " + shown_json(*ip));
        return false;
    }
    const std::string text = ip->get<std::string>();
    if (!packet::parse_addr(text, &e.ip, nullptr)) {
        *err = where + ".ip: \"" + shown(text) + "\" is not an IPv4 or IPv6 address";
        return false;
    }
    if (const std::string why = unusable(e.ip); !why.empty()) {
        *err = where + ".ip: " + e.ip.str() + " " + why;
        return false;
    }
    for (size_t k = 0; k < r->monitor.size(); ++k)
        if (r->monitor[k].ip == e.ip) {
            *err = fmt::format("{}.ip: {} is already listed in monitor[{}]", where, e.ip.str(), k);
            return false;
        }
    auto port = m.find("port");
    if (port == m.end()) {
        *err = where + ".port: missing";
        return false;
    }
    if (!parse_ports(*port, where + ".port", &e.ports, err)) return false;
    r->monitor.push_back(std::move(e));
    return true;
}

}  // namespace

bool parse_registration(std::string_view text, Registration* out, std::string* err) {
    if (text.size() > kRegisterMaxPayload) {
        *err = fmt::format("payload too large ({} bytes, at most {})", text.size(), kRegisterMaxPayload);
        return false;
    }
    if (max_depth(text) > kRegisterMaxDepth) {
        *err = "invalid JSON: nested too deeply";
        return false;
    }
    json j;
    try {
        j = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        std::string w = e.what();
        if (const size_t p = w.find("] "); p != std::string::npos) w.erase(0, p + 2);
        *err = "invalid JSON: " + shown(w, 200);
        return false;
    }
    if (!j.is_object()) {
        *err = "expected a JSON object, got " + shown_json(j);
        return false;
    }
    Registration r;
    auto mac = j.find("mac");
    if (mac == j.end() || !mac->is_string()) {
        *err = "mac: " + (mac == j.end() ? std::string("missing") : "expected a string, got " + shown_json(*mac));
        return false;
    }
    const std::string mtext = mac->get<std::string>();
    if (!packet::parse_mac(mtext, &r.mac, nullptr)) {
        *err = "mac: \"" + shown(mtext) + "\" is not a MAC address";
        return false;
    }
    if (packet::is_multicast(r.mac) || packet::is_zero(r.mac)) {
        *err = "mac: " + packet::mac_str(r.mac) + " is not a unicast MAC address";
        return false;
    }
    r.name = packet::mac_str(r.mac);
    if (auto name = j.find("name"); name != j.end() && !name->is_null()) {
        if (!name->is_string() || !valid_registration_name(name->get<std::string>())) {
            *err = "name: expected 1-64 characters without control characters, got " + shown_json(*name);
            return false;
        }
        r.name = name->get<std::string>();
    }
    auto mon = j.find("monitor");
    if (mon == j.end() || !mon->is_array() || mon->empty()) {
        *err = "monitor: " + (mon == j.end() ? std::string("missing") : "expected a non-empty list, got " + shown_json(*mon));
        return false;
    }
    if (mon->size() > kRegisterMaxMonitor) {
        *err = fmt::format("monitor: {} addresses (at most {})", mon->size(), kRegisterMaxMonitor);
        return false;
    }
    for (size_t i = 0; i < mon->size(); ++i)
        if (!parse_monitor((*mon)[i], i, &r, err)) return false;
    *out = std::move(r);
    return true;
}

ObjectScanner::Result ObjectScanner::feed(std::string_view buf) {
    for (; pos_ < buf.size(); ++pos_) {
        const char c = buf[pos_];
        if (!started_) {
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
            if (c != '{') return Result::Invalid;
            started_ = true;
            depth_ = 1;
            continue;
        }
        if (in_str_) {
            if (esc_) esc_ = false;
            else if (c == '\\') esc_ = true;
            else if (c == '"') in_str_ = false;
        } else if (c == '"') {
            in_str_ = true;
        } else if (c == '{' || c == '[') {
            if (++depth_ > kRegisterMaxDepth) return Result::Invalid;
        } else if (c == '}' || c == ']') {
            if (--depth_ == 0) {
                end_ = ++pos_;
                return Result::Complete;
            }
        }
    }
    return Result::Incomplete;
}

bool validate_registration(const Registration& r, const packet::Addr& peer, const RegisterEnv& env,
                           std::string* err) {
    const config::RegisterConf& rc = *env.conf;
    bool allowed = false;
    for (const auto& c : rc.allow)
        if (packet::cidr_contains(c.addr, c.prefix_len, peer)) allowed = !c.negate;
    if (!allowed) {
        *err = "peer " + peer.str() + " may not register (not in register.allow)";
        return false;
    }
    if (!rc.any_mac) {
        packet::Mac seen{};
        std::string why;
        if (!env.neighbor(rc.interface, peer, &seen, &why)) {
            *err = "mac: cannot check it against the peer's own: " + why;
            return false;
        }
        if (seen != r.mac) {
            *err = fmt::format("mac: {} is not the registering peer's MAC ({} is at {})", packet::mac_str(r.mac),
                               peer.str(), packet::mac_str(seen));
            return false;
        }
    }
    const auto addrs = env.host->if_addrs(rc.interface);
    for (size_t i = 0; i < r.monitor.size(); ++i) {
        const packet::Addr& ip = r.monitor[i].ip;
        const std::string where = fmt::format("monitor[{}].ip: {}", i, ip.str());
        if (env.host->own_addr(ip)) {
            *err = where + " belongs to this host";
            return false;
        }
        const core::IfAddr* net = nullptr;
        for (const auto& a : addrs)
            if (a.addr.is_v4() == ip.is_v4() && packet::cidr_contains(a.addr, a.prefix_len, ip)) net = &a;
        if (!net) {
            *err = where + " is not on-link on " + rc.interface;
            return false;
        }
        if (ip.is_v4() && net->prefix_len <= 126) {  // IPv4 /30 or shorter: network/broadcast exist
            const uint32_t mask = (uint32_t(1) << (128 - net->prefix_len)) - 1, host = ip.v4_host() & mask;
            if (host == mask || host == 0) {
                *err = fmt::format("{} is the {} address of its /{} network on {}", where,
                                   host == 0 ? "network" : "broadcast", net->prefix_len - 96, rc.interface);
                return false;
            }
        }
    }
    return true;
}

}  // namespace nw::control

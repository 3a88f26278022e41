// tools/register_payload.cc — the pure half of `netwakectl register`: server and port syntax,
// /proc/net/tcp{,6} and /proc/net/if_inet6 parsing, address selection, the JSON payload.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "register_client.h"
#include "packet/parse.h"

namespace nw::tools {

namespace {

bool parse_u16(std::string_view s, uint16_t* out) {
    if (s.empty() || s.size() > 5) return false;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + unsigned(c - '0');
    }
    if (v < 1 || v > 65535) return false;
    *out = uint16_t(v);
    return true;
}

// n hex digits -> value; false on a non-hex digit.
bool hex_num(std::string_view s, uint32_t* out) {
    if (s.empty() || s.size() > 8) return false;
    uint32_t v = 0;
    for (char c : s) {
        if (packet::hex_digit(c) < 0) return false;
        v = v * 16 + uint32_t(packet::hex_digit(c));
    }
    *out = v;
    return true;
}

bool is_loopback(const packet::Addr& a) {
    if (a.is_v4()) return (a.v4_host() >> 24) == 127;
    packet::Addr one;
    one.b[15] = 1;
    return a == one;
}

bool is_wildcard(const Listener& l) {
    if (l.v6) return l.addr == packet::Addr{};
    return l.addr.v4_host() == 0;
}

}  // namespace

bool parse_server(std::string_view s, std::string* host, uint16_t* port, std::string* err) {
    *port = kRegisterDefaultPort;
    std::string_view h = s, p;
    if (!s.empty() && s[0] == '[') {
        const size_t close = s.find(']');
        if (close == std::string_view::npos) return *err = "SERVER \"" + std::string(s) + "\": missing ']'", false;
        h = s.substr(1, close - 1);
        std::string_view rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') return *err = "SERVER \"" + std::string(s) + "\": expected :PORT after ']'", false;
            p = rest.substr(1);
            if (p.empty()) return *err = "SERVER \"" + std::string(s) + "\": empty PORT", false;
        }
    } else if (std::count(s.begin(), s.end(), ':') == 1) {
        const size_t c = s.find(':');
        h = s.substr(0, c);
        p = s.substr(c + 1);
        if (p.empty()) return *err = "SERVER \"" + std::string(s) + "\": empty PORT", false;
    }
    if (h.empty()) return *err = "SERVER \"" + std::string(s) + "\": empty host", false;
    if (!p.empty() && !parse_u16(p, port))
        return *err = "SERVER \"" + std::string(s) + "\": \"" + std::string(p) + "\" is not a port (1-65535)", false;
    *host = std::string(h);
    return true;
}

bool parse_port_list(std::string_view s, std::vector<uint16_t>* out, std::string* err) {
    out->clear();
    size_t start = 0;
    while (start <= s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string_view::npos) comma = s.size();
        uint16_t p;
        if (!parse_u16(s.substr(start, comma - start), &p)) {
            *err = "\"" + std::string(s) + "\" is not a list of ports like 22,445 (each 1-65535)";
            return false;
        }
        out->push_back(p);
        start = comma + 1;
    }
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
    return true;
}

std::vector<Listener> parse_proc_net_tcp(std::string_view text, bool v6) {
    std::vector<Listener> out;
    std::istringstream in{std::string(text)};
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string sl, local, remote, state;
        if (!(ls >> sl >> local >> remote >> state) || state != "0A") continue;
        const size_t colon = local.find(':');
        if (colon == std::string::npos) continue;
        const std::string_view hexaddr = std::string_view(local).substr(0, colon);
        uint32_t port;
        if (!hex_num(std::string_view(local).substr(colon + 1), &port) || port == 0 || port > 65535) continue;
        Listener l;
        l.v6 = v6;
        l.port = uint16_t(port);
        // The kernel prints each 32-bit word of the address as the hex of its in-memory value.
        const size_t words = v6 ? 4 : 1;
        if (hexaddr.size() != words * 8) continue;
        uint8_t bytes[16];
        bool ok = true;
        for (size_t w = 0; w < words && ok; ++w) {
            uint32_t v;
            ok = hex_num(hexaddr.substr(w * 8, 8), &v);
            std::memcpy(bytes + 4 * w, &v, 4);
        }
        if (!ok) continue;
        l.addr = v6 ? packet::Addr::v6_bytes(bytes) : packet::Addr::v4_bytes(bytes);
        out.push_back(l);
    }
    return out;
}

std::vector<uint16_t> ports_for(const packet::Addr& a, const std::vector<Listener>& ls) {
    std::vector<uint16_t> out;
    for (const auto& l : ls) {
        if (is_loopback(l.addr)) continue;
        // A wildcard tcp6 listener takes IPv4 too (unless v6only, which /proc does not show).
        const bool fits = l.addr == a || (is_wildcard(l) && (l.v6 || a.is_v4()));
        if (fits) out.push_back(l.port);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<Inet6Entry> parse_if_inet6(std::string_view text) {
    std::vector<Inet6Entry> out;
    std::istringstream in{std::string(text)};
    std::string hex, idx, plen, scope, flags, name;
    while (in >> hex >> idx >> plen >> scope >> flags >> name) {
        if (hex.size() != 32) continue;
        uint8_t b[16];
        bool ok = true;
        for (size_t i = 0; i < 16 && ok; ++i) {
            const int hi = packet::hex_digit(hex[2 * i]), lo = packet::hex_digit(hex[2 * i + 1]);
            ok = hi >= 0 && lo >= 0;
            b[i] = uint8_t(hi * 16 + lo);
        }
        uint32_t sc, fl;
        if (!ok || !hex_num(scope, &sc) || !hex_num(flags, &fl)) continue;
        out.push_back({packet::Addr::v6_bytes(b), name, sc, fl});
    }
    return out;
}

bool usable_v6(const Inet6Entry& e, bool link_local, bool temporary) {
    constexpr unsigned kTemporary = 0x01, kDadFailed = 0x08, kDeprecated = 0x20, kTentative = 0x40;
    if (e.scope != 0 && !(link_local && e.scope == 0x20)) return false;
    if (e.flags & (kDadFailed | kTentative)) return false;
    if (!temporary && (e.flags & (kTemporary | kDeprecated))) return false;
    return true;
}

bool usable_v4(const packet::Addr& a, bool link_local) {
    const uint32_t v = a.v4_host();
    if ((v >> 24) == 127 || v == 0) return false;
    if ((v >> 16) == 0xa9fe) return link_local;
    return true;
}

std::vector<Monitor> choose_monitors(const std::vector<packet::Addr>& addrs, const std::vector<uint16_t>& ports,
                                     const std::vector<std::pair<packet::Addr, std::vector<uint16_t>>>& per_address,
                                     const std::vector<Listener>& listeners, std::vector<packet::Addr>* skipped) {
    std::vector<Monitor> out;
    for (const auto& a : addrs) {
        Monitor m{a, ports};
        bool given = !ports.empty();
        for (const auto& [pa, ps] : per_address)
            if (pa == a) m.ports = ps, given = true;
        if (!given) m.ports = ports_for(a, listeners);
        if (m.ports.empty() && !given) {
            skipped->push_back(a);
            continue;
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::string build_payload(const packet::Mac& mac, const std::string& name, const std::vector<Monitor>& mon) {
    nlohmann::ordered_json j;
    j["mac"] = packet::mac_str(mac);
    if (!name.empty()) j["name"] = name;
    j["monitor"] = nlohmann::ordered_json::array();
    for (const auto& m : mon) {
        nlohmann::ordered_json e;
        e["ip"] = m.ip.str();
        e["port"] = m.ports;
        j["monitor"].push_back(std::move(e));
    }
    return j.dump();
}

}  // namespace nw::tools

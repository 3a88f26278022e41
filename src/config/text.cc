// config/text.cc — pure conversions between configuration values and text (see text.h).
// No YAML, no I/O, no globals.
#include "config/text.h"

#include <cctype>
#include <cstdio>

#include "packet/parse.h"

namespace nw::config {

namespace {

constexpr int64_t kMaxDurationMs = int64_t{100} * 365 * 86400 * 1000;  // 100 years

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

const char* const kFlagNames[8] = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};

}  // namespace

bool parse_uint(std::string_view s, uint64_t max, uint64_t* out) {
    if (!all_digits(s) || s.size() > 19) return false;
    uint64_t v = 0;
    for (char c : s) v = v * 10 + uint64_t(c - '0');
    if (v > max) return false;
    *out = v;
    return true;
}

bool parse_duration(std::string_view s, Duration* out) {
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    std::string_view num = s.substr(0, i), unit = s.substr(i);
    uint64_t n = 0;
    if (!parse_uint(num, uint64_t(kMaxDurationMs), &n)) return false;
    int64_t mult;
    if (unit.empty() || unit == "s") mult = 1000;
    else if (unit == "ms") mult = 1;
    else if (unit == "m") mult = 60 * 1000;
    else if (unit == "h") mult = 3600 * 1000;
    else if (unit == "d") mult = 86400 * 1000;
    else return false;
    if (int64_t(n) > kMaxDurationMs / mult) return false;
    *out = Duration(int64_t(n) * mult);
    return true;
}

std::string format_duration(Duration d) {
    int64_t ms = d.count();
    if (ms == 0) return "0s";
    struct U { int64_t ms; const char* name; };
    static const U units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (const U& u : units)
        if (ms % u.ms == 0) return std::to_string(ms / u.ms) + u.name;
    return std::to_string(ms) + "ms";
}

bool parse_port_range(std::string_view s, bool allow_negate, PortRange* out, std::string* err) {
    PortRange p;
    if (!s.empty() && s[0] == '!') {
        if (!allow_negate) {
            *err = "negation is not allowed here";
            return false;
        }
        p.negate = true;
        s.remove_prefix(1);
    }
    // 0: a port, 1: not a number, 2: a number above 65535
    auto num = [](std::string_view t, uint64_t* v) {
        if (!all_digits(t)) return 1;
        if (!parse_uint(t, 65535, v)) return 2;
        return 0;
    };
    size_t dash = s.find('-');
    uint64_t lo = 0, hi = 0;
    int r1 = num(s.substr(0, dash), &lo);
    int r2 = dash == std::string_view::npos ? (hi = lo, r1) : num(s.substr(dash + 1), &hi);
    if (r1 == 1 || r2 == 1) {
        *err = "expected a port 0-65535, a range \"a-b\" or a list";
        return false;
    }
    if (r1 == 2 || r2 == 2) {
        *err = "out of range (min 0, max 65535)";
        return false;
    }
    if (lo > hi) {
        *err = "range start is above its end";
        return false;
    }
    p.lo = uint16_t(lo);
    p.hi = uint16_t(hi);
    *out = p;
    return true;
}

std::string format_port_range(const PortRange& p) {
    std::string s = p.negate ? "!" : "";
    s += std::to_string(p.lo);
    if (p.hi != p.lo) s += "-" + std::to_string(p.hi);
    return s;
}

bool parse_tcp_flags(std::string_view s, TcpFlags* out, std::string* err) {
    TcpFlags f;
    size_t pos = 0;
    bool any = false;
    while (pos <= s.size()) {
        size_t end = s.find_first_of(",|", pos);
        if (end == std::string_view::npos) end = s.size();
        std::string_view tok = s.substr(pos, end - pos);
        while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
        while (!tok.empty() && tok.back() == ' ') tok.remove_suffix(1);
        bool neg = false;
        if (!tok.empty() && tok[0] == '!') {
            neg = true;
            tok.remove_prefix(1);
        }
        int bit = -1;
        for (int i = 0; i < 8; ++i) {
            std::string_view n = kFlagNames[i];
            if (tok.size() == n.size()) {
                bool eq = true;
                for (size_t k = 0; k < n.size(); ++k)
                    if (std::tolower(static_cast<unsigned char>(tok[k])) != n[k]) eq = false;
                if (eq) bit = i;
            }
        }
        if (bit < 0) {
            *err = "expected flag names fin, syn, rst, psh, ack, urg, ece, cwr, each optionally "
                   "negated with \"!\", separated by \",\"";
            return false;
        }
        uint8_t b = uint8_t(1u << bit);
        if (f.mask & b) {
            *err = std::string("flag \"") + kFlagNames[bit] + "\" given twice";
            return false;
        }
        f.mask |= b;
        if (!neg) f.value |= b;
        any = true;
        pos = end + 1;
    }
    if (!any) {
        *err = "empty flag expression";
        return false;
    }
    *out = f;
    return true;
}

std::string format_tcp_flags(const TcpFlags& f) {
    std::string s;
    for (int i = 0; i < 8; ++i) {
        uint8_t b = uint8_t(1u << i);
        if (!(f.mask & b)) continue;
        if (!s.empty()) s += ",";
        if (!(f.value & b)) s += "!";
        s += kFlagNames[i];
    }
    return s;
}

std::string format_password(const std::vector<uint8_t>& pw) {
    char buf[32];
    if (pw.size() == 4) {
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", pw[0], pw[1], pw[2], pw[3]);
        return buf;
    }
    std::string s;
    for (size_t i = 0; i < pw.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%s%02x", i ? ":" : "", pw[i]);
        s += buf;
    }
    return s;
}

bool parse_proto(std::string_view s, Proto* out) {
    static const struct { const char* n; Proto p; } names[] = {
        {"any", Proto::Any}, {"tcp", Proto::Tcp},     {"udp", Proto::Udp},
        {"icmp", Proto::Icmp}, {"icmp6", Proto::Icmp6}, {"arp", Proto::Arp},
    };
    for (const auto& n : names)
        if (s == n.n) {
            *out = n.p;
            return true;
        }
    return false;
}

// The one target-name rule (configuration, control requests, registrations, MQTT topics).
// ASCII ranges, not isalnum(): the answer must not depend on the locale.
bool valid_target_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (unsigned char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

bool valid_sensor_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-' && c != ':')
            return false;
    return true;
}

bool valid_ifname(std::string_view s) {
    if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
    for (char c : s)
        if (c == '/' || c <= ' ' || c == 0x7f || c == ':' || c == '%') return false;
    return true;
}

bool base64_decode(std::string_view s, std::vector<uint8_t>* out) {
    std::vector<uint8_t> r;
    uint32_t acc = 0;
    int bits = 0;
    bool pad = false;
    for (char c : s) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else if (c == '=') { pad = true; continue; }
        else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        else return false;
        if (pad) return false;  // data after padding
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            r.push_back(uint8_t(acc >> bits));
        }
    }
    *out = std::move(r);
    return true;
}

namespace {
// "[h]:p", "[h]", "h:p" (one colon) or "h" (v4 alone, or a bare v6) into host and port text
// (*p empty: no port given).
bool split_hostport(std::string_view s, std::string_view* h, std::string_view* p, std::string* err) {
    if (!s.empty() && s[0] == '[') {
        size_t close = s.find(']');
        if (close == std::string_view::npos) {
            *err = "missing \"]\"";
            return false;
        }
        *h = s.substr(1, close - 1);
        std::string_view rest = s.substr(close + 1);
        if (rest.empty()) return true;
        if (rest[0] != ':') {
            *err = "expected \":PORT\" after \"]\"";
            return false;
        }
        *p = rest.substr(1);
    } else {
        size_t first = s.find(':'), last = s.rfind(':');
        if (first == std::string_view::npos || first != last) {
            *h = s;
            return true;
        }
        *h = s.substr(0, first);
        *p = s.substr(first + 1);
    }
    if (p->empty()) {
        *err = "empty port";
        return false;
    }
    return true;
}
}  // namespace

bool parse_hostport(std::string_view s, uint16_t default_port, packet::Addr* host, std::string* scope,
                    uint16_t* port, std::string* err) {
    std::string_view h, p;
    if (!split_hostport(s, &h, &p, err)) return false;
    std::string_view sc;
    size_t pct = h.find('%');
    if (pct != std::string_view::npos) {
        sc = h.substr(pct + 1);
        h = h.substr(0, pct);
        if (!valid_ifname(sc)) {
            *err = "bad interface name after \"%\"";
            return false;
        }
    }
    packet::Addr a;
    if (!packet::parse_addr(h, &a, nullptr)) {
        *err = "expected an IP address (\"a.b.c.d:port\" or \"[v6]:port\")";
        return false;
    }
    if (!sc.empty() && a.is_v4()) {
        *err = "an interface scope (\"%if\") needs an IPv6 address";
        return false;
    }
    uint64_t pv = default_port;
    if (!p.empty() && (!parse_uint(p, 65535, &pv) || pv == 0)) {
        *err = "port must be 1-65535";
        return false;
    }
    *host = a;
    *scope = std::string(sc);
    *port = uint16_t(pv);
    return true;
}

std::string format_hostport(const packet::Addr& host, const std::string& scope, uint16_t port) {
    if (host.is_v4()) return host.str() + ":" + std::to_string(port);
    std::string s = "[" + host.str();
    if (!scope.empty()) s += "%" + scope;
    return s + "]:" + std::to_string(port);
}

}  // namespace nw::config

// packet/parse.cc — pure text parsers for addresses, CIDRs and MACs (see parse.h).
// Pure: no syscalls, no logging, no globals (inet_pton/inet_ntop are pure libc functions).
#include "packet/parse.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace nw::packet {
namespace {

void set_err(std::string* err, std::string msg) {
    if (err) *err = std::move(msg);
}

// The value as it appears in messages: quoted, cut if absurdly long, control bytes escaped.
std::string quote(std::string_view s) {
    std::string q = "\"";
    for (size_t i = 0; i < s.size() && i < 80; ++i) {
        const unsigned char c = uint8_t(s[i]);
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            static constexpr char kHex[] = "0123456789abcdef";
            q += "\\x";
            q += kHex[c >> 4];
            q += kHex[c & 15];
        } else {
            q += char(c);
        }
    }
    if (s.size() > 80) q += "...";
    return q + "\"";
}

// Reads 12 hex digits from `s` at the given positions into a MAC.
bool mac_from_digits(std::string_view s, const uint8_t (&pos)[12], Mac* out) {
    Mac m{};
    for (size_t i = 0; i < 12; ++i) {
        const int v = hex_digit(s[pos[i]]);
        if (v < 0) return false;
        m[i / 2] = uint8_t(m[i / 2] << 4 | v);
    }
    *out = m;
    return true;
}

bool all_at(std::string_view s, std::initializer_list<size_t> at, char c) {
    for (size_t i : at)
        if (s[i] != c) return false;
    return true;
}

}  // namespace

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool parse_hex(std::string_view s, uint8_t* out, size_t n) {
    if (s.size() != 2 * n) return false;
    for (size_t i = 0; i < n; ++i) {
        const int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = uint8_t(hi << 4 | lo);
    }
    return true;
}

bool parse_addr(std::string_view s, Addr* out, std::string* err) {
    char buf[INET6_ADDRSTRLEN + 1] = {};
    bool ok = !s.empty() && s.size() < sizeof buf && s.find('\0') == std::string_view::npos;
    if (ok) {
        std::memcpy(buf, s.data(), s.size());
        uint8_t raw[16];
        if (s.find(':') != std::string_view::npos) {
            ok = inet_pton(AF_INET6, buf, raw) == 1;
            if (ok) *out = Addr::v6_bytes(raw);
        } else {
            ok = inet_pton(AF_INET, buf, raw) == 1;
            if (ok) *out = Addr::v4_bytes(raw);
        }
    }
    if (!ok)
        set_err(err, quote(s) + " is not an IP address (expected e.g. 192.0.2.1 or 2001:db8::1)");
    return ok;
}

bool parse_cidr(std::string_view s, Cidr* out, std::string* err) {
    Cidr c;
    std::string_view rest = s;
    if (!rest.empty() && rest[0] == '!') {
        c.negate = true;
        rest.remove_prefix(1);
    }
    const size_t slash = rest.find('/');
    std::string sub_err;
    if (!parse_addr(rest.substr(0, slash), &c.addr, &sub_err)) {
        set_err(err, quote(s) + " is not an address or CIDR (expected e.g. 10.0.0.0/8, !192.0.2.1 or 2001:db8::/32)");
        return false;
    }
    const bool v4 = c.addr.is_v4() && rest.substr(0, slash).find(':') == std::string_view::npos;
    const unsigned max = v4 ? 32 : 128;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        std::string_view p = rest.substr(slash + 1);
        bool ok = !p.empty() && p.size() <= 3;
        len = 0;
        for (char ch : p) {
            if (ch < '0' || ch > '9') ok = false;
            len = len * 10 + unsigned(ch - '0');
        }
        if (!ok || len > max) {
            set_err(err, "prefix length " + quote(p) + " in " + quote(s) + " is out of range (" +
                             (v4 ? "IPv4: 0-32)" : "IPv6: 0-128)"));
            return false;
        }
    }
    c.prefix_len = uint8_t(v4 ? len + 96 : len);
    // Clear host bits below the prefix.
    for (unsigned bit = c.prefix_len; bit < 128; ++bit) c.addr.b[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
    *out = c;
    return true;
}

bool parse_mac(std::string_view s, Mac* out, std::string* err) {
    static constexpr uint8_t kColon[12] = {0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16};
    static constexpr uint8_t kCisco[12] = {0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13};
    static constexpr uint8_t kBare[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    bool ok = false;
    if (s.size() == 17 && (all_at(s, {2, 5, 8, 11, 14}, ':') || all_at(s, {2, 5, 8, 11, 14}, '-')))
        ok = mac_from_digits(s, kColon, out);
    else if (s.size() == 14 && all_at(s, {4, 9}, '.'))
        ok = mac_from_digits(s, kCisco, out);
    else if (s.size() == 12)
        ok = mac_from_digits(s, kBare, out);
    if (!ok)
        set_err(err, quote(s) +
                         " is not a MAC address (expected aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, "
                         "aabb.ccdd.eeff or aabbccddeeff)");
    return ok;
}

bool parse_byte_groups(std::string_view s, size_t n, std::vector<uint8_t>* out) {
    std::vector<uint8_t> v(n);
    if (s.size() == 2 * n && parse_hex(s, v.data(), n)) {  // no separator
        *out = std::move(v);
        return true;
    }
    char sep = 0;
    size_t i = 0;
    for (size_t g = 0; g < n; ++g) {
        if (g > 0) {
            if (i >= s.size() || (s[i] != ':' && s[i] != '-') || (sep && s[i] != sep)) return false;
            sep = s[i++];
        }
        int val = 0, digits = 0;
        for (; i < s.size() && digits < 2 && hex_digit(s[i]) >= 0; ++i, ++digits) val = val * 16 + hex_digit(s[i]);
        if (digits == 0) return false;
        v[g] = uint8_t(val);
    }
    if (i != s.size()) return false;
    *out = std::move(v);
    return true;
}

bool parse_mac_loose(std::string_view s, Mac* out, std::string* err) {
    std::vector<uint8_t> v;
    if (parse_mac(s, out, nullptr)) return true;
    if (parse_byte_groups(s, 6, &v)) {
        std::copy(v.begin(), v.end(), out->begin());
        return true;
    }
    set_err(err, quote(s) + " is not a MAC address (expected aa:bb:cc:dd:ee:ff, 0:b:c:d:e:f, aa-bb-cc-dd-ee-ff, "
                            "aabb.ccdd.eeff or aabbccddeeff)");
    return false;
}

bool is_multicast(const Mac& m) { return (m[0] & 1) != 0; }

bool is_zero(const Mac& m) {
    for (uint8_t b : m)
        if (b != 0) return false;
    return true;
}

bool cidr_contains(const Addr& net, uint8_t prefix_len, const Addr& a) {
    if (prefix_len > 128) return false;
    if (prefix_len < 96 && a.is_v4()) return false;
    const unsigned full = prefix_len / 8, rem = prefix_len % 8;
    if (std::memcmp(net.b.data(), a.b.data(), full) != 0) return false;
    if (rem == 0) return true;
    const uint8_t mask = uint8_t(0xff00u >> rem);
    return (net.b[full] & mask) == (a.b[full] & mask);
}

std::string cidr_str(const Cidr& c) {
    const bool v4 = c.addr.is_v4() && c.prefix_len >= 96;
    std::string s = c.negate ? "!" : "";
    if (v4 || !c.addr.is_v4()) {
        s += c.addr.str();
    } else {  // an IPv6 prefix shorter than /96 whose bits look v4-mapped: keep it IPv6
        char buf[INET6_ADDRSTRLEN] = {};
        if (inet_ntop(AF_INET6, c.addr.b.data(), buf, sizeof buf)) s += buf;
    }
    if (c.prefix_len != 128) s += "/" + std::to_string(v4 ? c.prefix_len - 96 : c.prefix_len);
    return s;
}

}  // namespace nw::packet

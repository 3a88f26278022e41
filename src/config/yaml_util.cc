// config/yaml_util.cc — loader internals (see yaml_util.h): positioned errors, mapping reader,
// scalar readers, hook and key-file checks. Never throws; never reads YAML outside config/.
#include "config/yaml_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "config/text.h"
#include "packet/parse.h"

namespace nw::config::detail {

void Ctx::error(const YAML::Mark& m, std::string msg) {
    int line = m.line >= 0 ? m.line + 1 : 1;
    int col = m.column >= 0 ? m.column + 1 : 1;
    errs.push_back({line, col, std::move(msg)});
}

std::string quote(std::string_view s) {
    std::string r = "\"";
    size_t n = 0;
    for (unsigned char ch : s) {
        if (++n > 60) {
            r += "...";
            break;
        }
        if (ch == '"' || ch == '\\') {
            r += '\\';
            r += char(ch);
        } else if (ch < 0x20 || ch == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", ch);
            r += buf;
        } else {
            r += char(ch);
        }
    }
    return r + "\"";
}

std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a mapping";
        case YAML::NodeType::Scalar: return quote(n.Scalar());
        default: return "nothing";
    }
}

MapReader::MapReader(Ctx& c, const Val& v, std::string what, std::string prefix,
                     std::initializer_list<const char*> known)
    : c_(c), what_(std::move(what)), prefix_(std::move(prefix)), mark_(v.mark) {
    if (v.node.IsNull()) {  // "key:" with nothing: an empty mapping
        ok_ = true;
        return;
    }
    if (!v.node.IsMap()) {
        c_.error(v.mark, (v.key.empty() ? what_ : v.key) + ": expected a mapping, got " + describe(v.node));
        return;
    }
    ok_ = true;
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
        YAML::Node k = it->first;
        if (!k.IsScalar()) {
            c_.error(k.Mark(), "keys of " + what_ + " must be names, got " + describe(k));
            continue;
        }
        const std::string ks = k.Scalar();
        bool dup = false;
        for (const Entry& e : entries_)
            if (e.key == ks) {
                c_.error(k.Mark(), "duplicate key " + quote(ks) + " in " + what_ + " (first given at line " +
                                       std::to_string(e.k.Mark().line + 1) + ")");
                dup = true;
                break;
            }
        if (dup) continue;
        bool is_known = false;
        for (const char* kn : known)
            if (ks == kn) is_known = true;
        if (!is_known) {
            std::string list;
            for (const char* kn : known) list += (list.empty() ? "" : ", ") + std::string(kn);
            c_.error(k.Mark(), "unknown key " + quote(ks) + " in " + what_ + " (expected one of: " + list + ")");
            continue;
        }
        YAML::Node val = it->second;
        entries_.push_back({ks, k, val});
    }
}

bool MapReader::has(std::string_view key) const {
    for (const Entry& e : entries_)
        if (e.key == key) return true;
    return false;
}

std::string MapReader::name(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

Val MapReader::get(std::string_view key) const {
    for (const Entry& e : entries_)
        if (e.key == key) {
            return Val(e.v, e.v.IsNull() ? e.k.Mark() : e.v.Mark(), name(key));
        }
    return Val{};
}

void MapReader::require(std::string_view key) {
    if (ok_ && !has(key)) c_.error(mark_, (prefix_.empty() ? what_ : prefix_) + ": missing key " + quote(key));
}

std::vector<Val> read_list(Ctx& c, const Val& v, bool allow_scalar, const char* expected) {
    std::vector<Val> r;
    if (v.node.IsSequence()) {
        for (auto it = v.node.begin(); it != v.node.end(); ++it) {
            YAML::Node n = *it;
            r.emplace_back(n, n.IsNull() ? v.mark : n.Mark(), v.key);
        }
    } else if (allow_scalar && v.node.IsScalar()) {
        r.push_back(v);
    } else {
        c.error(v.mark, v.key + ": expected " + expected + ", got " + describe(v.node));
    }
    return r;
}

bool read_string(Ctx& c, const Val& v, std::string* out, bool allow_empty) {
    if (v.node.IsNull() && allow_empty) {
        out->clear();
        return true;
    }
    if (!v.node.IsScalar()) {
        c.error(v.mark, v.key + ": expected a string, got " + describe(v.node));
        return false;
    }
    if (v.node.Scalar().empty() && !allow_empty) {
        c.error(v.mark, v.key + ": must not be empty");
        return false;
    }
    *out = v.node.Scalar();
    return true;
}

bool read_uint(Ctx& c, const Val& v, uint64_t lo, uint64_t hi, uint64_t* out) {
    std::string range = "(min " + std::to_string(lo) + ", max " + std::to_string(hi) + ")";
    if (!v.node.IsScalar()) {
        c.error(v.mark, v.key + ": expected an integer " + range + ", got " + describe(v.node));
        return false;
    }
    const std::string& s = v.node.Scalar();
    uint64_t x = 0;
    bool neg = s.size() > 1 && s[0] == '-' && parse_uint(std::string_view(s).substr(1), UINT64_MAX, &x);
    bool big = !neg && s.size() > 19 && s.find_first_not_of("0123456789") == std::string::npos;
    if (!neg && !big && !parse_uint(s, UINT64_MAX, &x)) {
        c.error(v.mark, v.key + ": expected an integer " + range + ", got " + quote(s));
        return false;
    }
    if (neg || big || x < lo || x > hi) {
        c.error(v.mark, v.key + ": value " + quote(s) + " out of range " + range);
        return false;
    }
    *out = x;
    return true;
}

bool read_bool(Ctx& c, const Val& v, bool* out) {
    if (v.node.IsScalar()) {
        const std::string& s = v.node.Scalar();
        for (const char* t : {"true", "yes", "on", "True", "Yes", "On", "TRUE", "YES", "ON"})
            if (s == t) {
                *out = true;
                return true;
            }
        for (const char* f : {"false", "no", "off", "False", "No", "Off", "FALSE", "NO", "OFF"})
            if (s == f) {
                *out = false;
                return true;
            }
    }
    c.error(v.mark, v.key + ": expected true or false, got " + describe(v.node));
    return false;
}

bool read_duration(Ctx& c, const Val& v, Duration lo, Duration hi, Duration* out) {
    Duration d{};
    if (!v.node.IsScalar() || !parse_duration(v.node.Scalar(), &d)) {
        c.error(v.mark, v.key + ": expected a duration (seconds, or a number with unit ms, s, m, h, d), got " +
                            describe(v.node));
        return false;
    }
    if (d < lo || d > hi) {
        c.error(v.mark, v.key + ": value " + quote(v.node.Scalar()) + " out of range (min " + format_duration(lo) +
                            ", max " + format_duration(hi) + ")");
        return false;
    }
    *out = d;
    return true;
}

bool read_path(Ctx& c, const Val& v, std::string* out, bool allow_empty) {
    std::string s;
    if (!read_string(c, v, &s, allow_empty)) return false;
    if (!s.empty() && s[0] != '/') {
        c.error(v.mark, v.key + ": " + quote(s) + " is not an absolute path");
        return false;
    }
    if (s.find('\0') != std::string::npos) {
        c.error(v.mark, v.key + ": path contains a NUL byte");
        return false;
    }
    *out = s;
    return true;
}

bool read_ifname(Ctx& c, const Val& v, std::string* out, bool allow_empty) {
    std::string s;
    if (!read_string(c, v, &s, allow_empty)) return false;
    if (!s.empty() && !valid_ifname(s)) {
        c.error(v.mark, v.key + ": " + quote(s) + " is not an interface name (1-15 characters, no \"/\", \":\", \"%\" or spaces)");
        return false;
    }
    *out = s;
    return true;
}

void check_hook(Ctx& c, const Val& v, const std::string& path) {
    if (!c.opt.check_files || path.empty()) return;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        c.error(v.mark, v.key + ": " + quote(path) + ": " + std::strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        c.error(v.mark, v.key + ": " + quote(path) + " is not a regular file");
    } else if ((st.st_mode & 0111) == 0 || access(path.c_str(), X_OK) != 0) {
        c.error(v.mark, v.key + ": " + quote(path) + " is not executable");
    }
}

bool check_file(Ctx& c, const Val& v, const std::string& path, bool secret) {
    if (!c.opt.check_files || path.empty()) return false;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        c.error(v.mark, v.key + ": " + quote(path) + ": " + std::strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        c.error(v.mark, v.key + ": " + quote(path) + " is not a regular file");
        return false;
    }
    if (secret && (st.st_mode & 0044)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        c.error(v.mark, v.key + ": " + quote(path) + " is readable by group or others (mode " + mode +
                            "); make it readable only by its owner (chmod 600)");
        return false;
    }
    if (access(path.c_str(), R_OK) != 0) {
        c.error(v.mark, v.key + ": " + quote(path) + ": cannot read: " + std::strerror(errno));
        return false;
    }
    return true;
}

void check_key_file(Ctx& c, const Val& v, const std::string& path) {
    if (!check_file(c, v, path, true)) return;
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        c.error(v.mark, v.key + ": " + quote(path) + ": cannot read: " + std::strerror(errno));
        return;
    }
    std::string text;
    char buf[4096];
    while (f.read(buf, sizeof buf) || f.gcount() > 0) {
        text.append(buf, size_t(f.gcount()));
        if (text.size() > 65536) break;
    }
    std::vector<uint8_t> key;
    if (text.size() > 65536 || !base64_decode(text, &key)) {
        c.error(v.mark, v.key + ": " + quote(path) + " does not hold a base64 key on one line");
        return;
    }
    if (key.size() < 32) {
        c.error(v.mark, v.key + ": " + quote(path) + " holds a " + std::to_string(key.size()) +
                            "-byte key (min 32 bytes once decoded)");
    }
}

bool read_cidr(Ctx& c, const Val& v, bool allow_negate, Cidr* out) {
    std::string s;
    if (!v.node.IsScalar()) {
        c.error(v.mark, v.key + ": expected an address or CIDR, got " + describe(v.node));
        return false;
    }
    s = v.node.Scalar();
    std::string_view body = s;
    bool neg = false;
    if (!body.empty() && body[0] == '!') {
        if (!allow_negate) {
            c.error(v.mark, v.key + ": negation is not allowed here, got " + quote(s));
            return false;
        }
        neg = true;
        body.remove_prefix(1);
    }
    packet::Cidr pc;
    if (!packet::parse_cidr(body, &pc, nullptr) || pc.negate) {
        c.error(v.mark, v.key + ": expected an address or CIDR (\"192.0.2.1\", \"10.0.0.0/8\", \"2001:db8::/32\"" +
                            std::string(allow_negate ? ", \"!\" to negate" : "") + "), got " + quote(s));
        return false;
    }
    Cidr r;
    r.addr = pc.addr;
    r.prefix_len = pc.prefix_len;
    r.negate = neg;
    *out = r;
    return true;
}

bool read_mac(Ctx& c, const Val& v, bool allow_negate, bool unicast_only, Mac6* out) {
    if (!v.node.IsScalar()) {
        c.error(v.mark, v.key + ": expected a MAC address, got " + describe(v.node));
        return false;
    }
    const std::string& s = v.node.Scalar();
    std::string_view body = s;
    Mac6 r;
    if (allow_negate && !body.empty() && body[0] == '!') {
        r.negate = true;
        body.remove_prefix(1);
    }
    if (!packet::parse_mac_loose(body, &r.mac, nullptr)) {  // every form `netwakectl wake` takes (SPEC §7)
        c.error(v.mark, v.key + ": expected a MAC address (aa:bb:cc:dd:ee:ff, 0:b:c:d:e:f, aabbccddeeff), got " +
                            quote(s));
        return false;
    }
    if (unicast_only && packet::is_multicast(r.mac)) {
        c.error(v.mark, v.key + ": " + quote(s) + " is a multicast/broadcast MAC (a machine's own MAC is unicast)");
        return false;
    }
    if (unicast_only && packet::is_zero(r.mac)) {
        c.error(v.mark, v.key + ": " + quote(s) + " is the all-zero MAC");
        return false;
    }
    *out = r;
    return true;
}

bool read_port_list(Ctx& c, const Val& v, bool allow_negate, std::vector<PortRange>* out) {
    std::vector<PortRange> r;
    bool ok = true;
    for (const Val& e : read_list(c, v, true, "a port, a range \"a-b\" or a list of them")) {
        std::string err;
        PortRange p;
        if (!e.node.IsScalar()) {
            c.error(e.mark, e.key + ": expected a port 0-65535 or a range \"a-b\", got " + describe(e.node));
            ok = false;
        } else if (!parse_port_range(e.node.Scalar(), allow_negate, &p, &err)) {
            if (err.rfind("out of range", 0) == 0)
                c.error(e.mark, e.key + ": value " + quote(e.node.Scalar()) + " " + err);
            else
                c.error(e.mark, e.key + ": " + err + ", got " + quote(e.node.Scalar()));
            ok = false;
        } else {
            r.push_back(p);
        }
    }
    if (!v.node.IsSequence() && !v.node.IsScalar()) ok = false;
    if (ok) *out = std::move(r);
    return ok;
}

bool read_tcp_flags(Ctx& c, const Val& v, TcpFlags* out) {
    std::string err;
    if (!v.node.IsScalar()) {
        c.error(v.mark, v.key + ": expected a flag expression such as \"syn,!ack\", got " + describe(v.node));
        return false;
    }
    if (!parse_tcp_flags(v.node.Scalar(), out, &err)) {
        c.error(v.mark, v.key + ": " + err + ", got " + quote(v.node.Scalar()));
        return false;
    }
    return true;
}

}  // namespace nw::config::detail

// config/yaml_util.h — loader internals: error collection with positions, a mapping reader
// that rejects unknown/duplicate keys, and typed scalar readers. Private to config/*.cc:
// nothing outside config/ may include this (it is the only place YAML types appear).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/load.h"
#include "config/model.h"

namespace nw::config::detail {

struct Ctx {
    struct Err {
        int line, col;  // 1-based
        std::string msg;
    };
    std::string source;
    LoadOptions opt;
    std::vector<Err> errs;
    std::optional<std::map<std::string, std::vector<packet::IfAddr>>> host;  // opt.host_addrs(), once
    Interner strings;  // hook paths, sensor/interface names in rules: one copy per load
    void error(const YAML::Mark& m, std::string msg);
};

// A value together with the name it is reported under ("ttl", "wol.mac") and its position
// (the value's, or the key's when the value is empty/null).
// Never assigned after construction: YAML::Node's operator= would overwrite the document.
struct Val {
    Val() = default;
    Val(const YAML::Node& n, const YAML::Mark& m, std::string k) : node(n), mark(m), key(std::move(k)), present(true) {}
    Val(const Val&) = default;
    Val& operator=(const Val&) = delete;
    YAML::Node node;
    YAML::Mark mark;
    std::string key;
    bool present = false;
};

// Quotes a scalar for a message: "abc" (escaped, cut after 60 characters).
std::string quote(std::string_view s);
// "a list", "a mapping", "nothing", or the quoted scalar.
std::string describe(const YAML::Node& n);

// Reads one YAML mapping. Reports "expected a mapping", duplicate keys and unknown keys at
// construction; get() then hands out the values by key.
class MapReader {
   public:
    // `what` names the mapping in messages ("target", "wol"); `prefix` is prepended to key names
    // ("wol" -> "wol.mac"; empty for list items).
    MapReader(Ctx& c, const Val& v, std::string what, std::string prefix,
              std::initializer_list<const char*> known);
    bool ok() const { return ok_; }
    bool has(std::string_view key) const;
    Val get(std::string_view key) const;  // present == false if absent
    const YAML::Mark& mark() const { return mark_; }
    std::string name(std::string_view key) const;  // message name of a key
    void require(std::string_view key);            // reports "<what>: missing key "k"" if absent

   private:
    struct Entry {
        std::string key;
        YAML::Node k, v;
    };
    Ctx& c_;
    bool ok_ = false;
    std::string what_, prefix_;
    YAML::Mark mark_;
    std::vector<Entry> entries_;
};

// Elements of a list (a scalar counts as a one-element list if allow_scalar). Each element
// keeps the list's key name. Reports "expected a list" otherwise and returns nothing.
std::vector<Val> read_list(Ctx& c, const Val& v, bool allow_scalar, const char* expected);

// Scalar readers: false (and one error reported) when the value is unusable.
bool read_string(Ctx& c, const Val& v, std::string* out, bool allow_empty = true);
bool read_uint(Ctx& c, const Val& v, uint64_t lo, uint64_t hi, uint64_t* out);
template <class T>
bool read_uint_as(Ctx& c, const Val& v, uint64_t lo, uint64_t hi, T* out) {
    uint64_t x = 0;
    if (!read_uint(c, v, lo, hi, &x)) return false;
    *out = static_cast<T>(x);
    return true;
}
bool read_bool(Ctx& c, const Val& v, bool* out);
bool read_duration(Ctx& c, const Val& v, Duration lo, Duration hi, Duration* out);
// An absolute path (or empty if allow_empty).
bool read_path(Ctx& c, const Val& v, std::string* out, bool allow_empty);
bool read_ifname(Ctx& c, const Val& v, std::string* out, bool allow_empty = false);

// Semantic checks shared by sections.
void check_hook(Ctx& c, const Val& v, const std::string& path);
// With opt.check_files: `path` is a readable regular file and, if `secret`, not readable by
// group or others. Each problem is an error at v's mark; true if the file passed.
bool check_file(Ctx& c, const Val& v, const std::string& path, bool secret);
void check_key_file(Ctx& c, const Val& v, const std::string& path);

// Whole-value readers for recurring value kinds.
bool read_cidr(Ctx& c, const Val& v, bool allow_negate, Cidr* out);
bool read_mac(Ctx& c, const Val& v, bool allow_negate, bool unicast_only, Mac6* out);
bool read_port_list(Ctx& c, const Val& v, bool allow_negate, std::vector<PortRange>* out);
bool read_tcp_flags(Ctx& c, const Val& v, TcpFlags* out);

}  // namespace nw::config::detail

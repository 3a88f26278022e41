// core/match_impl.h — the compiled form of a Ruleset, shared by its two halves: core/match_compile.cc
// (configuration -> compiled rules and index) and core/match.cc (classify). Internal to core/match*.
#pragma once

#include <endian.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/match.h"

namespace nw::core::match_detail {

using config::Proto;

// A 128-bit address as two big-endian halves, so a CIDR test is two AND/compare pairs.
struct U128 {
    uint64_t hi = 0, lo = 0;
    bool operator==(const U128&) const = default;
};
inline U128 load(const packet::Addr& a) {
    uint64_t h, l;
    std::memcpy(&h, a.b.data(), 8);
    std::memcpy(&l, a.b.data() + 8, 8);
    return {be64toh(h), be64toh(l)};
}
inline bool is_v4(const U128& a) { return a.hi == 0 && (a.lo >> 32) == 0xffff; }  // ::ffff:0:0/96
inline U128 prefix_mask(unsigned len) {
    U128 m;
    m.hi = len == 0 ? 0 : len >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - len);
    m.lo = len <= 64 ? 0 : len >= 128 ? ~uint64_t{0} : ~uint64_t{0} << (128 - len);
    return m;
}
inline U128 masked(const U128& a, const U128& m) { return {a.hi & m.hi, a.lo & m.lo}; }

struct U128Hash {
    size_t operator()(const U128& k) const {
        uint64_t h = k.hi * 0x9e3779b97f4a7c15ull ^ (k.lo + 0x632be59bd9b4e019ull + (k.hi >> 17));
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
        return size_t(h ^ (h >> 32));
    }
};

// Open-addressing hash table from a masked destination to a bucket (linear probing,
// power-of-two size, at most half full): one multiply and usually one cache line per lookup.
template <class V>
class FlatMap {
   public:
    void build(const std::vector<std::pair<U128, V>>& items) {
        size_t n = 2;
        while (n < items.size() * 2) n *= 2;
        slots_.assign(n, Slot{});
        mask_ = n - 1;
        for (const auto& [k, v] : items) {
            size_t i = U128Hash{}(k) & mask_;
            while (slots_[i].used) i = (i + 1) & mask_;
            slots_[i] = Slot{k, v, true};
        }
    }
    const V* find(const U128& k) const {
        for (size_t i = U128Hash{}(k) & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (!s.used) return nullptr;
            if (s.key == k) return &s.value;
        }
    }

   private:
    struct Slot {
        U128 key;
        V value{};
        bool used = false;
    };
    std::vector<Slot> slots_;
    size_t mask_ = 0;
};

struct Net {
    U128 mask, value;
    uint8_t len = 128;
    bool v6_only = false;  // IPv6 net shorter than /96: holds no IPv4 address (packet/parse.h)
    bool holds(const U128& a, bool a_v4) const { return masked(a, mask) == value && !(v6_only && a_v4); }
};

// A rule's list inside a pool: `npos` positive entries from `off`, then `nneg` negated ones.
struct Slice {
    uint32_t off = 0;
    uint16_t npos = 0, nneg = 0;
    bool empty() const { return npos == 0 && nneg == 0; }
};
// "Any non-negated entry holds (or there is none) and no negated entry holds" (config/model.h).
template <class T, class F>
inline bool holds(const std::vector<T>& pool, Slice s, F in) {
    const T* p = pool.data() + s.off;
    bool ok = s.npos == 0;
    for (uint32_t i = 0; i < s.npos && !ok; ++i) ok = in(p[i]);
    if (!ok) return false;
    for (uint32_t i = s.npos; i < uint32_t(s.npos) + s.nneg; ++i)
        if (in(p[i])) return false;
    return true;
}
struct StrRef {
    uint32_t off = 0, len = 0;
    bool set = false;
};

// Every rule's variable-length data lives in these pools, so a rule is one small struct and a
// check touches few cache lines.
struct Pools {
    std::vector<Net> nets;
    std::vector<config::PortRange> ports;
    std::vector<packet::Mac> macs;
    std::vector<uint64_t> sensor_words;
    std::string chars;
    std::string_view str(StrRef r) const { return {chars.data() + r.off, r.len}; }
};

constexpr uint8_t kMatch = 1, kKeepalive = 2;

// One rule with every name resolved and every value in its compare-ready form.
struct CRule {
    uint32_t target = 0;
    uint8_t kinds = 0;  // kMatch | kKeepalive
    Proto proto = Proto::Any;
    bool has_flags = false;
    uint8_t fmask = 0, fvalue = 0;
    bool sensors_set = false;  // false: any sensor; true: only those in the bitmap
    uint16_t sensors_n = 0;    // words of the bitmap in Pools::sensor_words
    uint32_t sensors_off = 0;
    int32_t vlan = -1;
    // Set by index() for a rule filed under the destination-port index whose only other
    // condition is its protocol: reaching its bucket proves the port, so only proto is checked.
    bool port_only = false;
    StrRef prefix, in_iface, out_iface;
    Slice src, dst, sport, dport, mac;
};

// What classify() derives from a packet once, before looking at any rule.
struct Pkt {
    U128 src, dst;
    bool has_ip = false, v4 = false, has_ports = false, is_tcp = false;
};

// Compile side (core/match_compile.cc), also used by rule_matches().
int sensor_index(const config::Config& cfg, std::string_view name);
// `allowed`: the target's sensor bitmap (empty = all). False if a sensor name is unknown.
bool compile_rule(const config::Rule& r, const config::Config& cfg, const std::vector<uint64_t>& allowed,
                  Pools* x, CRule* out, std::string* err);

}  // namespace nw::core::match_detail

namespace nw::core {

struct Ruleset::Impl {
    using U128 = match_detail::U128;
    using CRule = match_detail::CRule;
    using Pools = match_detail::Pools;
    using Pkt = match_detail::Pkt;
    template <class V>
    using FlatMap = match_detail::FlatMap<V>;
    struct Span {
        uint32_t begin = 0, count = 0;
    };
    struct DstLen {
        uint8_t len = 0;
        U128 mask;
        FlatMap<Span> map;
    };

    std::vector<std::shared_ptr<TargetShared>> slots;
    std::vector<CRule> rules;
    Pools pools;
    std::vector<uint32_t> ids;                            // bucket contents, referenced by Spans
    std::unordered_map<std::string_view, Span> by_prefix;  // views into pools.chars
    std::vector<DstLen> by_dst;                           // one hash per distinct prefix length
    std::vector<Span> by_port;                            // 65536 entries when many ports are indexed
    FlatMap<Span> by_port_few;                            // otherwise (a dense table is 512 KiB)
    bool ports_indexed = false;
    bool uses_ifaces = false;                             // some rule names in_iface/out_iface
    bool uses_addrs = false;                              // some rule has src or dst
    bool uses_prefix = false;                             // some rule names a prefix
    bool uses_packet = false;                             // some rule reads the decoded packet
    bool uses_link = false;                               // some rule has src_mac or vlan
    bool keyed = true;                                    // see Ruleset::keyed()
    std::vector<uint32_t> generic;                        // rules with no indexable field

    void index();  // match_compile.cc
    void publish(std::unordered_map<std::string_view, std::vector<uint32_t>>& pfx,
                 std::unordered_map<U128, std::vector<uint32_t>, match_detail::U128Hash> (&dst)[129],
                 std::unordered_map<uint32_t, std::vector<uint32_t>>& port);
    // Rules of one target are adjacent in every bucket (ids are sorted), so merging into the
    // previous Verdict keeps `out` near one entry per target even before classify()'s final merge.
    void emit(const CRule& r, std::vector<Verdict>* out) const {
        bool mt = (r.kinds & match_detail::kMatch) != 0, ka = (r.kinds & match_detail::kKeepalive) != 0;
        if (!out->empty() && out->back().index == r.target) {
            out->back().match = out->back().match || mt;
            out->back().keepalive = out->back().keepalive || ka;
            return;
        }
        out->push_back({slots[r.target].get(), r.target, mt, ka});
    }
    // Checks the rules of one bucket (core/match.cc: the hot path).
    void run(Span s, const packet::Decoded& d, const PacketMeta& m, const Pkt& p, std::vector<Verdict>* out,
             uint64_t* checked) const;
};

}  // namespace nw::core

// core/match.cc — compiles every target's match/keepalive rules once and classifies packets
// against an index (NFLOG prefix, destination network, destination port) instead of scanning
// targets. Per packet: no allocation (once `out` has capacity), no locks, no strings parsed.
#include "core/match.h"

#include <endian.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <unordered_map>

namespace nw::core {

namespace {

using config::Proto;

// A 128-bit address as two big-endian halves, so a CIDR test is two AND/compare pairs.
struct U128 {
    uint64_t hi = 0, lo = 0;
    bool operator==(const U128&) const = default;
};
U128 load(const packet::Addr& a) {
    uint64_t h, l;
    std::memcpy(&h, a.b.data(), 8);
    std::memcpy(&l, a.b.data() + 8, 8);
    return {be64toh(h), be64toh(l)};
}
bool is_v4(const U128& a) { return a.hi == 0 && (a.lo >> 32) == 0xffff; }  // ::ffff:0:0/96
U128 prefix_mask(unsigned len) {
    U128 m;
    m.hi = len == 0 ? 0 : len >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - len);
    m.lo = len <= 64 ? 0 : len >= 128 ? ~uint64_t{0} : ~uint64_t{0} << (128 - len);
    return m;
}
U128 masked(const U128& a, const U128& m) { return {a.hi & m.hi, a.lo & m.lo}; }

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
bool holds(const std::vector<T>& pool, Slice s, F in) {
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
// `addrs`: load src/dst too (only some rule or index compares addresses).
Pkt prepare(const packet::Decoded& d, bool addrs = true) {
    Pkt p;
    p.has_ip = d.l3 == 4 || d.l3 == 6 || d.l3 == 'a';
    if (p.has_ip && addrs) {
        p.src = load(d.src);
        p.dst = load(d.dst);
        p.v4 = is_v4(p.dst);
    }
    bool ip = d.l3 == 4 || d.l3 == 6;
    p.is_tcp = ip && d.has_l4 && !d.fragment && d.proto == packet::kProtoTcp;
    p.has_ports = ip && d.has_l4 && !d.fragment && (d.proto == packet::kProtoTcp || d.proto == packet::kProtoUdp);
    return p;
}

bool proto_ok(Proto want, const packet::Decoded& d) {
    bool ip = d.l3 == 4 || d.l3 == 6;
    switch (want) {
        case Proto::Any: return true;
        case Proto::Tcp: return ip && d.proto == packet::kProtoTcp;
        case Proto::Udp: return ip && d.proto == packet::kProtoUdp;
        case Proto::Icmp: return d.l3 == 4 && d.proto == packet::kProtoIcmp;
        case Proto::Icmp6: return d.l3 == 6 && d.proto == packet::kProtoIcmp6;
        case Proto::Arp: return d.l3 == 'a';
    }
    return false;
}

bool check(const CRule& r, const Pools& x, const packet::Decoded& d, const PacketMeta& m, const Pkt& p) {
    if (r.sensors_set) {
        size_t w = m.sensor / 64;
        if (w >= r.sensors_n || !(x.sensor_words[r.sensors_off + w] >> (m.sensor % 64) & 1)) return false;
    }
    if (r.proto != Proto::Any && !proto_ok(r.proto, d)) return false;
    if (r.prefix.set && (!m.has_prefix || m.prefix != x.str(r.prefix))) return false;
    auto port_in = [](uint16_t port) { return [port](const config::PortRange& pr) { return port >= pr.lo && port <= pr.hi; }; };
    if (!r.dport.empty() && (!p.has_ports || !holds(x.ports, r.dport, port_in(d.dst_port)))) return false;
    if (!r.dst.empty() &&
        (!p.has_ip || !holds(x.nets, r.dst, [&](const Net& n) { return n.holds(p.dst, p.v4); })))
        return false;
    if (!r.src.empty() &&
        (!p.has_ip || !holds(x.nets, r.src, [&](const Net& n) { return n.holds(p.src, p.v4); })))
        return false;
    if (!r.sport.empty() && (!p.has_ports || !holds(x.ports, r.sport, port_in(d.src_port)))) return false;
    if (r.has_flags && (!p.is_tcp || (d.tcp_flags & r.fmask) != r.fvalue)) return false;
    if (r.in_iface.set && m.in_iface != x.str(r.in_iface)) return false;
    if (r.out_iface.set && m.out_iface != x.str(r.out_iface)) return false;
    if (!r.mac.empty() &&
        (!d.has_eth || !holds(x.macs, r.mac, [&](const packet::Mac& mac) { return mac == d.src_mac; })))
        return false;
    if (r.vlan >= 0 && (d.vlan_count == 0 || (d.vlan != r.vlan && !(d.vlan_count == 2 && d.vlan_inner == r.vlan))))
        return false;
    return true;
}

int sensor_index(const config::Config& cfg, const std::string& name) {
    for (size_t i = 0; i < cfg.sensors.size(); ++i)
        if (cfg.sensors[i].name == name) return cfg.sensors[i].id >= 0 ? cfg.sensors[i].id : int(i);
    return -1;
}

void set_bit(std::vector<uint64_t>* bits, size_t i) {
    if (bits->size() <= i / 64) bits->resize(i / 64 + 1, 0);
    (*bits)[i / 64] |= uint64_t{1} << (i % 64);
}

Net compile_net(const config::Cidr& c) {
    Net n;
    n.len = c.prefix_len > 128 ? 128 : c.prefix_len;
    n.mask = prefix_mask(n.len);
    n.value = masked(load(c.addr), n.mask);
    n.v6_only = n.len < 96;
    return n;
}

template <class T, class In, class F>
Slice add_slice(std::vector<T>* pool, const std::vector<In>& items, F convert) {
    Slice s;
    s.off = uint32_t(pool->size());
    for (const In& it : items)
        if (!it.negate) pool->push_back(convert(it)), ++s.npos;
    for (const In& it : items)
        if (it.negate) pool->push_back(convert(it)), ++s.nneg;
    return s;
}

StrRef add_str(Pools* x, const std::string& s, bool set) {
    StrRef r{uint32_t(x->chars.size()), uint32_t(s.size()), set};
    x->chars += s;
    return r;
}

// `allowed`: the target's sensor bitmap (empty = all). False if a sensor name is unknown.
bool compile_rule(const config::Rule& r, const config::Config& cfg, const std::vector<uint64_t>& allowed,
                  Pools* x, CRule* out, std::string* err) {
    CRule c;
    std::vector<uint64_t> bits = allowed;
    c.sensors_set = !allowed.empty();
    if (!r.sensor.empty()) {
        int idx = sensor_index(cfg, r.sensor);
        if (idx < 0) {
            if (err) *err = "unknown sensor \"" + r.sensor + "\"";
            return false;
        }
        size_t w = size_t(idx) / 64;
        bool ok = allowed.empty() || (w < allowed.size() && (allowed[w] >> (idx % 64) & 1));
        bits.assign(w + 1, 0);
        if (ok) set_bit(&bits, size_t(idx));  // else an all-zero bitmap: never matches
        c.sensors_set = true;
    }
    if (c.sensors_set) {
        c.sensors_off = uint32_t(x->sensor_words.size());
        c.sensors_n = uint16_t(bits.size());
        x->sensor_words.insert(x->sensor_words.end(), bits.begin(), bits.end());
    }
    c.prefix = add_str(x, r.prefix.value_or(""), r.prefix.has_value());
    c.in_iface = add_str(x, r.in_iface, !r.in_iface.empty());
    c.out_iface = add_str(x, r.out_iface, !r.out_iface.empty());
    c.proto = r.proto;
    c.src = add_slice(&x->nets, r.src, compile_net);
    c.dst = add_slice(&x->nets, r.dst, compile_net);
    auto same = [](const config::PortRange& p) { return p; };
    c.sport = add_slice(&x->ports, r.src_port, same);
    c.dport = add_slice(&x->ports, r.dst_port, same);
    c.mac = add_slice(&x->macs, r.src_mac, [](const config::Mac6& m) { return m.mac; });
    if (r.tcp_flags) {
        c.has_flags = true;
        c.fmask = r.tcp_flags->mask;
        c.fvalue = r.tcp_flags->value & r.tcp_flags->mask;
    }
    if (r.vlan) c.vlan = *r.vlan;
    *out = c;
    return true;
}

// Debug counter: rules fully checked by classify() on this thread (tests, benchmarks).
thread_local uint64_t tl_rules_checked = 0;

}  // namespace

namespace debug {
uint64_t rules_checked() { return tl_rules_checked; }
}  // namespace debug

struct Ruleset::Impl {
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

    void index();
    // Rules of one target are adjacent in every bucket (ids are sorted), so merging into the
    // previous Verdict keeps `out` near one entry per target even before classify()'s final merge.
    void emit(const CRule& r, std::vector<Verdict>* out) const {
        bool mt = (r.kinds & kMatch) != 0, ka = (r.kinds & kKeepalive) != 0;
        if (!out->empty() && out->back().index == r.target) {
            out->back().match = out->back().match || mt;
            out->back().keepalive = out->back().keepalive || ka;
            return;
        }
        out->push_back({slots[r.target].get(), r.target, mt, ka});
    }
    void run(Span s, const packet::Decoded& d, const PacketMeta& m, const Pkt& p, std::vector<Verdict>* out,
             uint64_t* checked) const {
        for (uint32_t i = s.begin; i < s.begin + s.count; ++i) {
            const CRule& r = rules[ids[i]];
            ++*checked;
            if (r.port_only ? proto_ok(r.proto, d) : check(r, pools, d, m, p)) emit(r, out);
        }
    }
};

// Puts each rule in the bucket family where it lands in the smallest bucket: a destination
// network (per prefix length), its NFLOG prefix, or its destination ports (small sets only).
void Ruleset::Impl::index() {
    constexpr size_t kMaxPortsPerRule = 1024;
    std::unordered_map<std::string_view, std::vector<uint32_t>> pfx;
    std::unordered_map<U128, std::vector<uint32_t>, U128Hash> dst[129];
    std::unordered_map<uint32_t, std::vector<uint32_t>> port;
    // Count how many rules propose each key, to compare candidate bucket sizes.
    std::unordered_map<std::string_view, size_t> n_pfx;
    std::unordered_map<U128, size_t, U128Hash> n_dst[129];
    std::vector<uint32_t> n_port(65536, 0);
    // The positive entries of a rule's lists, and its prefix, straight from the pools.
    auto dst_pos = [&](const CRule& r) { return std::span<const Net>(pools.nets.data() + r.dst.off, r.dst.npos); };
    auto dport_pos = [&](const CRule& r) {
        return std::span<const config::PortRange>(pools.ports.data() + r.dport.off, r.dport.npos);
    };
    auto port_count = [&](const CRule& r) {
        size_t n = 0;
        for (const auto& pr : dport_pos(r)) n += size_t(pr.hi - pr.lo) + 1;
        return n;
    };
    for (const CRule& r : rules) {
        if (r.prefix.set) ++n_pfx[pools.str(r.prefix)];
        for (const Net& n : dst_pos(r)) ++n_dst[n.len][n.value];
        if (r.dport.npos && port_count(r) <= kMaxPortsPerRule)
            for (const auto& pr : dport_pos(r))
                for (uint32_t q = pr.lo; q <= pr.hi; ++q) ++n_port[q];
    }
    for (uint32_t i = 0; i < rules.size(); ++i) {
        const CRule& r = rules[i];
        const size_t kNone = SIZE_MAX;
        size_t c_dst = kNone, c_pfx = kNone, c_port = kNone;
        if (r.dst.npos) {
            c_dst = 0;
            for (const Net& n : dst_pos(r)) c_dst = std::max(c_dst, n_dst[n.len][n.value]);
        }
        if (r.prefix.set) c_pfx = n_pfx[pools.str(r.prefix)];
        if (r.dport.npos && port_count(r) <= kMaxPortsPerRule) {
            c_port = 0;
            for (const auto& pr : dport_pos(r))
                for (uint32_t q = pr.lo; q <= pr.hi; ++q) c_port = std::max<size_t>(c_port, n_port[q]);
        }
        size_t best = std::min({c_dst, c_pfx, c_port});
        if (best == kNone) generic.push_back(i);
        else if (best == c_dst)
            for (const Net& n : dst_pos(r)) dst[n.len][n.value].push_back(i);
        else if (best == c_pfx) pfx[pools.str(r.prefix)].push_back(i);
        else {
            for (const auto& pr : dport_pos(r))
                for (uint32_t q = pr.lo; q <= pr.hi; ++q) port[q].push_back(i);
            CRule& w = rules[i];
            w.port_only = !w.sensors_set && !w.prefix.set && !w.has_flags && !w.in_iface.set && !w.out_iface.set &&
                          w.vlan < 0 && w.dport.nneg == 0 && w.src.empty() && w.dst.empty() && w.sport.empty() &&
                          w.mac.empty() &&
                          (w.proto == Proto::Any || w.proto == Proto::Tcp || w.proto == Proto::Udp);
        }
    }
    auto flatten = [&](std::vector<uint32_t>& v) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        Span s{uint32_t(ids.size()), uint32_t(v.size())};
        ids.insert(ids.end(), v.begin(), v.end());
        return s;
    };
    for (auto& [k, v] : pfx) by_prefix.emplace(k, flatten(v));
    for (unsigned len = 0; len <= 128; ++len) {
        if (dst[len].empty()) continue;
        DstLen dl;
        dl.len = uint8_t(len);
        dl.mask = prefix_mask(len);
        std::vector<std::pair<U128, Span>> items;
        for (auto& [k, v] : dst[len]) items.emplace_back(k, flatten(v));
        dl.map.build(items);
        by_dst.push_back(std::move(dl));
    }
    if (!port.empty()) {
        ports_indexed = true;
        if (port.size() > 8192) {  // the hash would be larger than the dense table
            by_port.assign(65536, Span{});
            for (auto& [q, v] : port) by_port[q] = flatten(v);
        } else {
            std::vector<std::pair<U128, Span>> items;
            for (auto& [q, v] : port) items.emplace_back(U128{0, q}, flatten(v));
            by_port_few.build(items);
        }
    }
}

Ruleset::Ruleset(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ruleset::~Ruleset() = default;

std::unique_ptr<Ruleset> Ruleset::build(const config::Config& cfg, std::vector<std::shared_ptr<TargetShared>> slots,
                                        std::string* err) {
    if (slots.size() != cfg.targets.size()) {
        if (err) *err = "match: " + std::to_string(slots.size()) + " slots for " + std::to_string(cfg.targets.size()) +
                        " targets";
        return nullptr;
    }
    auto impl = std::make_unique<Impl>();
    impl->slots = std::move(slots);
    for (uint32_t t = 0; t < cfg.targets.size(); ++t) {
        const config::TargetConf& tc = cfg.targets[t];
        std::vector<uint64_t> allowed;
        for (const std::string& s : tc.sensors) {
            int idx = sensor_index(cfg, s);
            if (idx < 0) {
                if (err) *err = "target \"" + tc.name + "\": unknown sensor \"" + s + "\"";
                return nullptr;
            }
            set_bit(&allowed, size_t(idx));
        }
        auto add = [&](const std::vector<config::Rule>& rules, uint8_t kinds) {
            for (const config::Rule& r : rules) {
                CRule c;
                std::string e;
                if (!compile_rule(r, cfg, allowed, &impl->pools, &c, &e)) {
                    if (err) *err = "target \"" + tc.name + "\": " + e;
                    return false;
                }
                c.target = t;
                c.kinds = kinds;
                impl->uses_ifaces = impl->uses_ifaces || c.in_iface.set || c.out_iface.set;
                impl->uses_addrs = impl->uses_addrs || !c.src.empty() || !c.dst.empty();
                impl->uses_prefix = impl->uses_prefix || c.prefix.set;
                impl->uses_link = impl->uses_link || !c.mac.empty() || c.vlan >= 0;
                impl->keyed = impl->keyed && c.sport.empty() && !c.has_flags &&
                              !c.in_iface.set && !c.out_iface.set && c.mac.empty() && c.vlan < 0;
                impl->uses_packet = impl->uses_packet || impl->uses_link || c.proto != Proto::Any || c.has_flags ||
                                    !c.src.empty() || !c.dst.empty() || !c.sport.empty() || !c.dport.empty();
                impl->rules.push_back(std::move(c));
            }
            return true;
        };
        if (!add(tc.match, tc.keepalive ? kMatch : uint8_t(kMatch | kKeepalive))) return nullptr;
        if (tc.keepalive && !add(*tc.keepalive, kKeepalive)) return nullptr;
    }
    impl->index();
    return std::unique_ptr<Ruleset>(new Ruleset(std::move(impl)));
}

void Ruleset::classify(const packet::Decoded& d, const PacketMeta& m, std::vector<Verdict>* out) const {
    out->clear();
    const Impl& x = *impl_;
    Pkt p = prepare(d, x.uses_addrs);  // by_dst is only filled from rules with dst
    uint64_t checked = 0;
    if (m.has_prefix && !x.by_prefix.empty()) {
        auto it = x.by_prefix.find(m.prefix);
        if (it != x.by_prefix.end()) x.run(it->second, d, m, p, out, &checked);
    }
    if (p.has_ip)
        for (const Impl::DstLen& dl : x.by_dst) {
            if (const Impl::Span* s = dl.map.find(masked(p.dst, dl.mask))) x.run(*s, d, m, p, out, &checked);
        }
    if (p.has_ports && x.ports_indexed) {
        if (!x.by_port.empty()) x.run(x.by_port[d.dst_port], d, m, p, out, &checked);
        else if (const Impl::Span* s = x.by_port_few.find(U128{0, d.dst_port})) x.run(*s, d, m, p, out, &checked);
    }
    for (uint32_t i : x.generic) {
        const CRule& r = x.rules[i];
        ++checked;
        if (check(r, x.pools, d, m, p)) x.emit(r, out);
    }
    tl_rules_checked += checked;
    if (out->size() > 1) {  // one Verdict per target: merge rules of the same target
        std::sort(out->begin(), out->end(), [](const Verdict& a, const Verdict& b) { return a.index < b.index; });
        size_t w = 0;
        for (size_t r = 1; r < out->size(); ++r) {
            Verdict& last = (*out)[w];
            const Verdict& v = (*out)[r];
            if (v.index == last.index) {
                last.match = last.match || v.match;
                last.keepalive = last.keepalive || v.keepalive;
            } else {
                (*out)[++w] = v;
            }
        }
        out->resize(w + 1);
    }
}

size_t Ruleset::size() const { return impl_->slots.size(); }

bool Ruleset::uses_ifaces() const { return impl_->uses_ifaces; }
bool Ruleset::uses_prefix() const { return impl_->uses_prefix; }
bool Ruleset::uses_packet() const { return impl_->uses_packet; }
bool Ruleset::uses_link() const { return impl_->uses_link; }
bool Ruleset::keyed() const { return impl_->keyed; }
bool Ruleset::uses_addrs() const { return impl_->uses_addrs; }

TargetShared* Ruleset::slot(uint32_t index) const {
    return index < impl_->slots.size() ? impl_->slots[index].get() : nullptr;
}

bool rule_matches(const config::Rule& r, const config::Config& cfg, const packet::Decoded& d, const PacketMeta& m) {
    CRule c;
    Pools x;
    if (!compile_rule(r, cfg, {}, &x, &c, nullptr)) return false;
    return check(c, x, d, m, prepare(d));
}

}  // namespace nw::core

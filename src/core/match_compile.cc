// core/match_compile.cc — turns a configuration's match/keepalive rules into a Ruleset: every
// name resolved, every value in compare-ready form (core/match_impl.h), and the index that lets
// classify() (core/match.cc) look at a few rules per packet instead of every target's.
#include <algorithm>
#include <span>

#include "core/match_impl.h"

namespace nw::core {

namespace match_detail {

int sensor_index(const config::Config& cfg, std::string_view name) {
    for (size_t i = 0; i < cfg.sensors.size(); ++i)
        if (cfg.sensors[i].name == name) return cfg.sensors[i].id >= 0 ? cfg.sensors[i].id : int(i);
    return -1;
}

namespace {

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
Slice add_slice(std::vector<T>* pool, const config::List<In>& items, F convert) {
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

}  // namespace

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

}  // namespace match_detail

using namespace match_detail;

namespace {

constexpr size_t kMaxPortsPerRule = 1024;  // a rule with more destination ports is not port-indexed
constexpr size_t kNone = SIZE_MAX;

// The index under construction: how many rules propose each key (to compare candidate bucket
// sizes), then the rules placed per key. Reads the rules and their pools; writes nothing else.
struct IndexBuilder {
    IndexBuilder(const std::vector<CRule>& r, const Pools& p) : rules(r), pools(p) {}
    const std::vector<CRule>& rules;
    const Pools& pools;
    std::unordered_map<std::string_view, size_t> n_pfx;
    std::unordered_map<U128, size_t, U128Hash> n_dst[129];
    std::vector<uint32_t> n_port = std::vector<uint32_t>(65536, 0);
    std::unordered_map<std::string_view, std::vector<uint32_t>> pfx;
    std::unordered_map<U128, std::vector<uint32_t>, U128Hash> dst[129];
    std::unordered_map<uint32_t, std::vector<uint32_t>> port;

    // The positive entries of a rule's lists, straight from the pools.
    std::span<const Net> dst_pos(const CRule& r) const { return {pools.nets.data() + r.dst.off, r.dst.npos}; }
    std::span<const config::PortRange> dport_pos(const CRule& r) const {
        return {pools.ports.data() + r.dport.off, r.dport.npos};
    }
    bool port_indexable(const CRule& r) const {
        size_t n = 0;
        for (const auto& pr : dport_pos(r)) n += size_t(pr.hi - pr.lo) + 1;
        return r.dport.npos && n <= kMaxPortsPerRule;
    }
    template <class F> void each_port(const CRule& r, F f) const {
        for (const auto& pr : dport_pos(r))
            for (uint32_t q = pr.lo; q <= pr.hi; ++q) f(q);
    }

    void count() {
        for (const CRule& r : rules) {
            if (r.prefix.set) ++n_pfx[pools.str(r.prefix)];
            for (const Net& n : dst_pos(r)) ++n_dst[n.len][n.value];
            if (port_indexable(r)) each_port(r, [&](uint32_t q) { ++n_port[q]; });
        }
    }

    // Puts rule i in the family where its largest bucket is smallest, and says which (None: the
    // rule has no indexable field and is checked for every packet).
    enum class Family { None, Dst, Prefix, Port };
    Family place(uint32_t i) {
        const CRule& r = rules[i];
        size_t c_dst = kNone, c_pfx = kNone, c_port = kNone;
        if (r.dst.npos) {
            c_dst = 0;
            for (const Net& n : dst_pos(r)) c_dst = std::max(c_dst, n_dst[n.len][n.value]);
        }
        if (r.prefix.set) c_pfx = n_pfx[pools.str(r.prefix)];
        if (port_indexable(r)) {
            c_port = 0;
            each_port(r, [&](uint32_t q) { c_port = std::max<size_t>(c_port, n_port[q]); });
        }
        const size_t best = std::min({c_dst, c_pfx, c_port});
        if (best == kNone) return Family::None;
        if (best == c_dst) {
            for (const Net& n : dst_pos(r)) dst[n.len][n.value].push_back(i);
            return Family::Dst;
        }
        if (best == c_pfx) {
            pfx[pools.str(r.prefix)].push_back(i);
            return Family::Prefix;
        }
        each_port(r, [&](uint32_t q) { port[q].push_back(i); });
        return Family::Port;
    }
};

// A port-indexed rule that tests nothing but protocol (TCP, UDP or any) and its destination ports:
// the bucket hit alone decides it.
bool port_only(const CRule& w) {
    return !w.sensors_set && !w.prefix.set && !w.has_flags && !w.in_iface.set && !w.out_iface.set && w.vlan < 0 &&
           w.dport.nneg == 0 && w.src.empty() && w.dst.empty() && w.sport.empty() && w.mac.empty() &&
           (w.proto == Proto::Any || w.proto == Proto::Tcp || w.proto == Proto::Udp);
}

}  // namespace

// Puts each rule in the bucket family where it lands in the smallest bucket: a destination
// network (per prefix length), its NFLOG prefix, or its destination ports (small sets only).
void Ruleset::Impl::index() {
    IndexBuilder b(rules, pools);
    b.count();
    for (uint32_t i = 0; i < rules.size(); ++i) {
        const IndexBuilder::Family f = b.place(i);
        if (f == IndexBuilder::Family::None) generic.push_back(i);
        if (f == IndexBuilder::Family::Port) rules[i].port_only = port_only(rules[i]);
    }
    publish(b.pfx, b.dst, b.port);
}

// The placed buckets, flattened into `ids` and looked up by prefix, by destination network per
// prefix length, and by port (a dense table when many ports are indexed, else a small hash).
void Ruleset::Impl::publish(std::unordered_map<std::string_view, std::vector<uint32_t>>& pfx,
                            std::unordered_map<U128, std::vector<uint32_t>, U128Hash> (&dst)[129],
                            std::unordered_map<uint32_t, std::vector<uint32_t>>& port) {
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
    if (port.empty()) return;
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

}  // namespace nw::core

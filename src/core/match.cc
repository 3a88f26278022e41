// core/match.cc — classifies packets against a compiled Ruleset (core/match_compile.cc builds it):
// an index (NFLOG prefix, destination network, destination port) instead of a scan of targets.
// Per packet: no allocation (once `out` has capacity), no locks, no strings parsed.
#include <algorithm>

#include "core/match_impl.h"

namespace nw::core {

using namespace match_detail;

namespace {

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

// Debug counter: rules fully checked by classify() on this thread (tests, benchmarks).
thread_local uint64_t tl_rules_checked = 0;

}  // namespace

namespace debug {
uint64_t rules_checked() { return tl_rules_checked; }
}  // namespace debug

void Ruleset::Impl::run(Span s, const packet::Decoded& d, const PacketMeta& m, const Pkt& p,
                        std::vector<Verdict>* out, uint64_t* checked) const {
    for (uint32_t i = s.begin; i < s.begin + s.count; ++i) {
        const CRule& r = rules[ids[i]];
        ++*checked;
        if (r.port_only ? proto_ok(r.proto, d) : check(r, pools, d, m, p)) emit(r, out);
    }
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
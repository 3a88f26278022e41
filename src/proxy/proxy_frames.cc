// proxy/proxy_frames.cc — what the sleep proxy does with a received frame: notice machines that
// are back, count probe answers, answer ARP/NS for held addresses (never DAD or ARP probes, never
// the host's own requests), detect conflicts, and start wakes on wake-worthy traffic (SPEC §8).
// Logic over decoded frames only; frames go out through the FrameSink.
#include <algorithm>
#include <cstring>
#include <utility>

#include "core/core.h"
#include "packet/encode.h"
#include "packet/parse.h"
#include "proxy/machine.h"
#include "proxy/proxy.h"
#include "sys/log.h"

namespace nw::proxy {

namespace {

bool port_ok(const std::vector<config::PortRange>& ports, uint16_t p) {
    bool any_positive = false, hit = false;
    for (const auto& r : ports) {
        const bool in = p >= r.lo && p <= r.hi;
        if (r.negate) {
            if (in) return false;
        } else {
            any_positive = true;
            hit = hit || in;
        }
    }
    return !any_positive || hit;
}

core::Hit make_hit(const std::string& ifname, const packet::Decoded& d, int64_t t_ns) {
    core::Hit h;
    h.kind = core::HitKind::Proxy;
    h.t_ns = t_ns;
    h.d = d;
    std::memcpy(h.in_iface, ifname.data(), std::min(ifname.size(), sizeof h.in_iface - 1));
    return h;
}

// RFC 4861 §7.1.1/§7.1.2 validity checks we can make: hop limit 255, code 0, checksum, a
// unicast target, the whole message present.
bool nd_valid(const packet::Decoded& d, std::span<const uint8_t> frame) {
    if (d.ttl != packet::kNdHopLimit || d.icmp_code != 0 || d.ip_total_len == 0) return false;
    const size_t end = d.l3_offset + d.ip_total_len;
    if (end > frame.size() || end < d.l4_offset + 24 || d.nd_target.b[0] == 0xff) return false;
    return packet::l4_checksum(d.src, d.dst, packet::kProtoIcmp6, frame.subspan(d.l4_offset, end - d.l4_offset)) == 0;
}

}  // namespace

bool SleepProxy::send(const std::string& ifname, std::span<const uint8_t> frame) {
    if (d_.frames->send(ifname, frame)) return true;
    ++stats_.send_errors;
    return false;
}

void SleepProxy::on_frame(const std::string& ifname, std::span<const uint8_t> frame, int64_t t_ns) {
    ++stats_.frames;
    packet::Decoded d;
    const packet::Error e = packet::decode(packet::LinkType::Ethernet, frame, &d);
    if (e != packet::Error::Ok) {
        if (e != packet::Error::Unsupported) ++stats_.malformed;
        return;
    }
    if (!d.has_eth || d.vlan_count != 0) return;  // tagged frames belong to another interface
    for (auto& [id, m] : machines_)
        if (m->spec.interface == ifname && m->spec.mac == d.src_mac) {
            const core::Hit h = make_hit(ifname, d, t_ns);
            if (m->state != State::Up) transition(*m, State::Up, core::Reason::Probe,
                                                  "frame from its MAC: " + packet::summarize(d), &h);
            else heard_from(*m, "frame from its MAC");
        }
    if (d_.host->own_mac(d.src_mac)) {
        ++stats_.own;  // the host's own frames are never answered
    } else if (d.l3 == 'a') {
        on_arp(ifname, d);
    } else if (d.l3 == 6 && d.proto == packet::kProtoIcmp6 && d.has_nd_target) {
        on_nd(ifname, d, frame);
    } else if ((d.l3 == 4 || d.l3 == 6) && (d.proto == packet::kProtoTcp || d.proto == packet::kProtoUdp)) {
        on_traffic(ifname, d, t_ns);
    }
    reap_doomed();
}

// The machine is alive (state up): its probes count as answered. A machine restored as asleep
// that turns out to be awake is not taken over, and its registration has served its sleep; a
// registration restored up starts its shutdown_timeout now.
void SleepProxy::heard_from(Machine& m, const std::string& what) {
    if (m.state != State::Up) return;
    for (auto& a : m.addr) {
        a.awaiting = false;
        a.misses = 0;
    }
    if (std::exchange(m.shutdown_on_answer, false)) arm_shutdown(m);
    if (m.resuming)  // up -> up: its `awake` (no cause packet, as before the move existed)
        transition(m, State::Up, core::Reason::Probe, what + " after the restart: awake, not taking over");
}

// A frame shows that `from` answers for `a`: probe bookkeeping of up/lost machines listing `a`.
void SleepProxy::answered(const std::string& ifname, const packet::Addr& a, const packet::Mac& from) {
    for (auto& [id, m] : machines_) {
        if (m->spec.interface != ifname || (m->state != State::Up && m->state != State::Lost)) continue;
        for (size_t i = 0; i < m->addr.size(); ++i) {
            if (m->spec.addresses[i].addr != a) continue;
            m->addr[i].answered_by = from;  // who owns it (registration checks)
            if (from == m->spec.mac) {
                heard_from(*m, "answered a probe");
                if (m->state == State::Lost) transition(*m, State::Up, core::Reason::Probe, a.str() + " answers again");
                continue;
            }
            m->addr[i].awaiting = false;  // someone answers: never take over an address in use
            m->addr[i].misses = 0;
            if (!std::exchange(m->said_other_mac, true))
                log::warn("{}: {} is answered by {}, not by {}: not taken over while that lasts", m->spec.name,
                          a.str(), packet::mac_str(from), packet::mac_str(m->spec.mac));
            // The MAC that answers owns it: never taken over for this registration (one with
            // nothing else never sleeps; shutdown_timeout ends it).
            if (m->spec.registered) m->addr[i].disowned = true;
        }
    }
}

void SleepProxy::conflict(Machine& m, const packet::Addr& a, const packet::Mac& from, const char* how) {
    for (size_t i = 0; i < m.addr.size(); ++i)
        if (m.spec.addresses[i].addr == a)
            release_address(m, i, fmt::format("{} claims {} ({})", packet::mac_str(from), a.str(), how));
}

void SleepProxy::on_arp(const std::string& ifname, const packet::Decoded& d) {
    if (d.arp_op != packet::kArpRequest && d.arp_op != packet::kArpReply) return;
    const packet::Addr &spa = d.src, &tpa = d.dst;
    const packet::Mac& sha = d.arp_sha;
    if (packet::is_multicast(sha) || packet::is_zero(sha)) return;
    if (spa == packet::Addr::v4(0)) {  // RFC 5227 probe: someone is about to use tpa
        if (Machine* m = holder(ifname, tpa); m && d.arp_op == packet::kArpRequest)
            transition(*m, State::Up, core::Reason::Probe,
                       fmt::format("ARP probe for {} from {}", tpa.str(), packet::mac_str(sha)));
        return;  // never answered
    }
    if (sha != d.src_mac)
        for (auto& [id, m] : machines_)
            if (m->spec.interface == ifname && m->spec.mac == sha && m->state != State::Up)
                transition(*m, State::Up, core::Reason::Probe, "ARP from its MAC for " + spa.str());
    answered(ifname, spa, sha);
    if (Machine* m = holder(ifname, spa); m && sha != m->spec.mac && !d_.host->own_mac(sha))
        conflict(*m, spa, sha, d.arp_op == packet::kArpRequest ? "ARP request" : "ARP reply");
    if (d.arp_op != packet::kArpRequest || tpa == spa) return;
    Machine* m = holder(ifname, tpa);
    if (!m) return;
    const auto our = d_.host->if_mac(ifname);
    if (!our) return;
    uint8_t buf[packet::kArpFrameLen];
    const size_t n = packet::encode_arp_reply(buf, *our, tpa, sha, spa);
    if (n && send(ifname, std::span<const uint8_t>(buf, n))) ++stats_.arp_answered;
}

void SleepProxy::on_nd(const std::string& ifname, const packet::Decoded& d, std::span<const uint8_t> frame) {
    if (!nd_valid(d, frame)) {
        ++stats_.bad_nd;
        return;
    }
    const packet::Addr& target = d.nd_target;
    if (d.icmp_type == packet::kIcmp6NeighborSolicit) {
        Machine* m = holder(ifname, target);
        if (!m) return;
        if (d.src == packet::Addr{}) {  // RFC 4862 §5.4.2 DAD: the owner is (re)configuring it
            transition(*m, State::Up, core::Reason::Probe,
                       fmt::format("DAD probe for {} from {}", target.str(), packet::mac_str(d.src_mac)));
            return;  // never answered
        }
        if (d.dst != target && d.dst != packet::solicited_node(target)) return;
        const auto our = d_.host->if_mac(ifname);
        if (!our) return;
        const packet::Mac to = d.has_nd_lladdr ? d.nd_lladdr : d.src_mac;
        uint8_t buf[packet::kNdFrameLen];
        // Override set (RFC 4861 §7.2.8 lets a proxy clear it, but then clients that cached the
        // sleeping machine's MAC would ignore us, §7.2.5).
        const size_t n = packet::encode_na_solicited(buf, *our, to, d.src, target, *our, packet::kNaOverride);
        if (n && send(ifname, std::span<const uint8_t>(buf, n))) ++stats_.ns_answered;
    } else if (d.icmp_type == packet::kIcmp6NeighborAdvert) {
        const packet::Mac who = d.has_nd_lladdr ? d.nd_lladdr : d.src_mac;
        if (who != d.src_mac)
            for (auto& [id, m] : machines_)
                if (m->spec.interface == ifname && m->spec.mac == who && m->state != State::Up)
                    transition(*m, State::Up, core::Reason::Probe, "NA for its MAC for " + target.str());
        answered(ifname, target, who);
        if (Machine* m = holder(ifname, target); m && who != m->spec.mac && !d_.host->own_mac(who))
            conflict(*m, target, who, "NA");
    }
}

// TCP SYN (no ACK, RST, FIN) or UDP to a held address (and listed port) wakes the machine, once
// per connection attempt; everything else is ignored (counted).
void SleepProxy::on_traffic(const std::string& ifname, const packet::Decoded& d, int64_t t_ns) {
    Machine* m = holder(ifname, d.dst);
    if (!m) return;
    const auto our = d_.host->if_mac(ifname);
    const bool to_us = d.has_dst_mac && ((our && d.dst_mac == *our) || d.dst_mac == m->spec.mac);
    const uint8_t f = d.tcp_flags & (packet::kTcpSyn | packet::kTcpAck | packet::kTcpRst | packet::kTcpFin);
    const bool worthy = d.proto == packet::kProtoUdp || (d.proto == packet::kProtoTcp && f == packet::kTcpSyn);
    size_t i = 0;
    while (i < m->spec.addresses.size() && m->spec.addresses[i].addr != d.dst) ++i;
    if (!to_us || !d.has_l4 || d.fragment || !worthy || !port_ok(m->spec.addresses[i].ports, d.dst_port)) {
        ++stats_.ignored_traffic;
        return;
    }
    while (!m->keys.empty() && t_ns - m->keys.front().first_ns > kRetransmitWindowNs) m->keys.pop_front();
    const WakeKey k{d.proto, d.src, d.dst, d.src_port, d.dst_port, t_ns};
    const bool seen = std::any_of(m->keys.begin(), m->keys.end(), [&](const WakeKey& o) { return o.same(k); });
    if (seen) {
        ++stats_.retransmits;
        return;
    }
    if (m->keys.size() >= kMaxWakeKeys) m->keys.pop_front();
    m->keys.push_back(k);
    if (m->state != State::Asleep) return;  // waking: the burst in progress is not restarted
    ++stats_.wake_packets;
    const core::Hit h = make_hit(ifname, d, t_ns);
    // wol.cooldown: a new cycle no sooner than `cooldown` after the last one that was not
    // answered; what arrives meanwhile wakes the machine when it ends (one cycle, the first cause).
    const int64_t ready = m->cycle_ns + int64_t(m->spec.wol.cooldown.count()) * 1000000;
    if (m->cycle_ns != 0 && d_.clock->now_ns() < ready) {
        ++stats_.wakes_deferred;
        if (m->deferred) return;
        m->deferred = std::make_unique<core::Hit>(h);
        timers_.arm({m->id, kCooldown}, ready);
        log::info("{}: wake deferred by wol.cooldown ({} ms left): {}", m->spec.name,
                  (ready - d_.clock->now_ns()) / 1000000, packet::summarize(d));
        return;
    }
    transition(*m, State::Waking, core::Reason::Traffic, packet::summarize(d), &h);
}

}  // namespace nw::proxy

// proxy/proxy_probe.cc — the sleep proxy's timed work: probes (up -> asleep, and of asleep
// machines), shutdown_timeout, and takeover / give-back announcements (SPEC §8); waking is
// proxy_wake.cc's. Logic only; frames leave through the FrameSink and the Announcer.
//
// Probe choice (IPv4): a broadcast ARP *request* with the host's own address on the interface as
// sender (the one whose prefix holds the target, else any). Every ARP stack answers it (Linux
// with any arp_ignore/arp_filter setting, as the target is configured on the receiving
// interface), and the only cache it can update is the host's own, correct, entry. We avoid the
// RFC 5227 probe (sender 0.0.0.0): a machine that is booting and running address conflict
// detection (dhcpcd, Windows, macOS, systemd-networkd) must treat someone else's probe for its
// address as a conflict (§2.1.1) and would give the address up. Only when the host has no IPv4
// address on the interface do we fall back to that probe form. Any answer counts — also one
// from another MAC: an address someone answers for is never taken over.
// IPv6: a neighbor solicitation to the target's solicited-node group from the host's link-local
// address (or, if it has none, the EUI-64 link-local derived from the interface MAC), with our
// source link-layer address option; never from :: (that is DAD, which a booting owner would
// read as a duplicate, RFC 4862 §5.4.3). Asleep/waking machines get the same probes unicast to
// their own MAC: an answer means they are back.
#include <algorithm>
#include <utility>

#include "core/core.h"
#include "packet/encode.h"
#include "packet/parse.h"
#include "packet/probe.h"
#include "proxy/machine.h"
#include "proxy/proxy.h"
#include "sys/log.h"

namespace nw::proxy {

namespace {
constexpr int64_t kMs = 1000000;
int64_t ns(config::Duration d) { return int64_t(d.count()) * kMs; }
}  // namespace

// The machine's timeouts on the loop's queue (and the announcer's next frame) land here.
void SleepProxy::fire(core::KeyedTimers::Key key, int64_t now) {
    if (key.first == 0 && key.second == kSend) {
        announcer_.on_time(now);
        arm_announcer();
    } else if (auto it = machines_.find(key.first); it != machines_.end()) {
        on_timer(*it->second, key.second, now);
    }
    reap_doomed();
}

void SleepProxy::arm_announcer() {
    const int64_t next = announcer_.next_deadline_ns();
    if (next > 0) timers_.arm({0, kSend}, next);
    else timers_.cancel({0, kSend});
}

void SleepProxy::on_timer(Machine& m, uint8_t kind, int64_t now) {
    switch (kind) {
        case kProbe: probe_tick(m, now); break;
        case kWol: send_wol_copy(m); break;
        case kAnnounce:
            if (m.state == State::Asleep || m.state == State::Waking) announce_takeover(m);
            break;
        case kCooldown:
            if (auto cause = std::move(m.deferred); cause && m.state == State::Asleep)
                transition(m, State::Waking, core::Reason::Traffic,
                           "after the cooldown: " + packet::summarize(cause->d), cause.get());
            break;
        case kShutdown:
            if (m.state == State::Up)
                transition(m, State::Lost, core::Reason::Probe,
                           fmt::format("still answering {} s after it registered (shutdown_timeout)",
                                       m.spec.timing.shutdown_timeout.count() / 1000));
            break;
    }
}

void SleepProxy::probe_tick(Machine& m, int64_t now) {
    if (m.state == State::Waking) return;  // the wake cycle probes (probe()); leaving it re-arms this
    timers_.arm({m.id, kProbe}, now + ns(m.spec.timing.probe_interval));
    if (m.state == State::Up && !m.addr.empty()) {
        // The kernel dropped frames on our socket during the round: the answers may have been
        // among them, so the round is not silence (no miss counted; the next round decides).
        const uint64_t drops = d_.frames->drops(m.spec.interface);
        const bool lossy = drops != std::exchange(m.drops_seen, drops);
        bool all = std::any_of(m.addr.begin(), m.addr.end(), [](const AddrState& a) { return !a.disowned; });
        bool voided = false;
        uint32_t least = UINT32_MAX;
        for (auto& a : m.addr) {
            if (a.awaiting && lossy) voided = true;
            else if (a.awaiting) ++a.misses;
            if (a.disowned) continue;  // another MAC's: its silence is not this machine's sleep
            least = std::min(least, a.misses);
            all = all && a.misses >= m.spec.timing.probe_misses;
        }
        if (voided) ++stats_.lossy_rounds;
        if (all && d_.host->if_mac(m.spec.interface)) {
            transition(m, State::Asleep, core::Reason::Probe,
                       fmt::format("{} misses{}", least, m.resuming ? ", resumed after a restart" : ""));
            return;
        }
    }
    send_probes(m, m.state == State::Asleep);
}

void SleepProxy::send_probes(Machine& m, bool unicast) {
    const auto our = d_.host->if_mac(m.spec.interface);
    if (!our) return;
    const auto addrs = d_.host->if_addrs(m.spec.interface);
    for (size_t i = 0; i < m.addr.size(); ++i) {
        if (unicast && !m.addr[i].held) continue;
        const packet::Addr& x = m.spec.addresses[i].addr;
        uint8_t buf[packet::kProbeFrameMaxLen];  // the probe frame is shared with wake verification (packet/probe.h)
        const size_t n = packet::encode_probe(buf, *our, addrs, x, unicast ? std::optional(m.spec.mac) : std::nullopt);
        if (n == 0 || !send(m.spec.interface, std::span<const uint8_t>(buf, n))) continue;
        ++stats_.probes_sent;
        if (!unicast) m.addr[i].awaiting = true;
    }
}

// Gratuitous ARP (RFC 5227 §2.3 announcement form) / unsolicited NA with Override (RFC 4861
// §7.2.6) for every held address, naming our MAC.
void SleepProxy::announce_takeover(Machine& m) {
    const auto our = d_.host->if_mac(m.spec.interface);
    if (!our) return;
    const int64_t now = d_.clock->now_ns();
    for (size_t i = 0; i < m.addr.size(); ++i) {
        if (!m.addr[i].held) continue;
        const packet::Addr& x = m.spec.addresses[i].addr;
        std::vector<uint8_t> f(packet::kNdFrameLen);
        const size_t n = x.is_v4() ? packet::encode_arp_announce(f, *our, *our, x)
                                   : packet::encode_na_unsolicited(f, *our, x, *our, packet::kNaOverride);
        if (n == 0) continue;
        f.resize(n);
        announcer_.push(m.spec.interface, m.id, std::move(f), now);
        arm_announcer();
    }
}

// On the machine's behalf: its own MAC for address i, sent from our port (eth source = our MAC,
// so switches keep the machine's MAC where it is). Owner 0: never cancelled.
void SleepProxy::announce_behalf(Machine& m, size_t i) {
    const auto our = d_.host->if_mac(m.spec.interface);
    if (!our) return;
    const packet::Addr& x = m.spec.addresses[i].addr;
    std::vector<uint8_t> f(packet::kNdFrameLen);
    const size_t n = x.is_v4() ? packet::encode_arp_announce(f, *our, m.spec.mac, x)
                               : packet::encode_na_unsolicited(f, *our, x, m.spec.mac, packet::kNaOverride);
    if (n == 0) return;
    f.resize(n);
    announcer_.push(m.spec.interface, 0, std::move(f), d_.clock->now_ns());
    arm_announcer();
}

}  // namespace nw::proxy

// daemon/wake_service.cc — WakeService (see wake_service.h): WakeCycle + timer queue + packet
// sockets on the wol interfaces while waking; signs of life are frames from the target's MAC and
// ARP / neighbor advertisements for its verify address from another MAC than the host's own.
#include "daemon/wake_service.h"

#include <set>

#include "packet/probe.h"
#include "proxy/host.h"
#include "proxy/packet_io.h"
#include "sys/log.h"
#include "sys/wallclock.h"

namespace nw::daemon {

namespace {
constexpr int64_t kMsNs = 1'000'000;
}

WakeService::WakeService(sys::Loop& loop, core::Clock& clock, core::TimerQueue& q, Wiring w)
    : loop_(loop), clock_(clock), w_(std::move(w)), q_(q) {
    host_ = std::make_unique<proxy::HostInfo>(clock_);
    io_ = std::make_unique<proxy::PacketIo>(loop_, q_, [this](const std::string& ifname, std::span<const uint8_t> f,
                                                          int64_t) { on_frame(ifname, f); });
    cycle_ = std::make_unique<core::WakeCycle>(q_, *this, [this](core::Event e) { emit(std::move(e)); });
}

WakeService::~WakeService() {
    cycle_.reset();
    q_.cancel_owner(this);
}

void WakeService::configure(const config::Config& cfg) {
    wol_.clear();
    params_.clear();
    std::vector<std::string> names;
    for (const auto& t : cfg.targets) {
        if (!t.wol || !t.wol->verify.on) continue;
        const auto& v = t.wol->verify;
        core::WakeParams p;
        p.attempts = v.attempts;
        p.timeout_ns = int64_t(v.timeout.count()) * kMsNs;
        p.grace_ns = int64_t(v.grace.count()) * kMsNs;
        p.probe_interval_ns = std::min<int64_t>(1000 * kMsNs, std::max<int64_t>(p.timeout_ns / 4, 100 * kMsNs));
        wol_[t.name] = *t.wol;
        params_[t.name] = p;
        names.push_back(t.name);
    }
    cycle_->retain(names);
    apply_watch();
}

uint32_t WakeService::burst_sent(const std::string& target) {
    auto it = params_.find(target);
    if (it == params_.end()) return 1;
    return cycle_->burst_sent(target, it->second);
}

core::WakeView WakeService::view(const std::string& target) const { return cycle_->view(target); }

bool WakeService::send_burst(const std::string& target, uint32_t attempt) {
    log::notice("{}: no sign of life yet: wake attempt {}", target, attempt);
    return w_.send_burst && w_.send_burst(target);
}

void WakeService::watch(const std::string& target, bool on) {
    watching_[target] = on;
    if (!on) watching_.erase(target);
    // Closing a socket is deferred to the next loop turn: this may run inside its receive callback.
    if (on) apply_watch();
    else q_.arm_in(this, 0, 0, [this](int64_t) { apply_watch(); });
    if (w_.on_state_changed) w_.on_state_changed();
}

// One socket per wol interface of a waking target; none while nothing is waking.
void WakeService::apply_watch() {
    std::map<std::string, proxy::Interest> want;
    for (auto it = watching_.begin(); it != watching_.end();) {
        auto w = wol_.find(it->first);
        if (w == wol_.end()) {
            it = watching_.erase(it);
            continue;
        }
        if (!w->second.interface.empty()) want[w->second.interface].macs.push_back(w->second.mac);
        ++it;
    }
    std::vector<std::string> ifs;
    for (const auto& [name, in] : want) ifs.push_back(name);
    std::string err;
    if (!io_->set_interfaces(ifs, &err)) log::warn("wake verification: {}", err);
    for (const auto& [name, in] : want) io_->set_interest(name, in);
}

void WakeService::probe(const std::string& target) {
    auto w = wol_.find(target);
    if (w == wol_.end() || !w->second.verify.address || w->second.interface.empty()) return;
    const std::string& ifname = w->second.interface;
    const auto our = host_->if_mac(ifname);
    if (!our) return;
    uint8_t buf[packet::kProbeFrameMaxLen];
    const size_t n = packet::encode_probe(buf, *our, host_->if_addrs(ifname), *w->second.verify.address);
    if (n && io_->send(ifname, std::span<const uint8_t>(buf, n))) ++stats_.probes;
}

void WakeService::on_frame(const std::string& ifname, std::span<const uint8_t> frame) {
    packet::Decoded d;
    (void)packet::decode(packet::LinkType::Ethernet, frame, &d);
    if (!d.has_eth) return;
    for (const auto& [target, on] : watching_) {
        auto w = wol_.find(target);
        if (w == wol_.end() || w->second.interface != ifname) continue;
        std::string how;
        if (d.src_mac == w->second.mac) {
            how = "frame from " + packet::mac_str(d.src_mac);
        } else if (const auto& a = w->second.verify.address; a && !host_->own_mac(d.src_mac)) {
            if (d.l3 == 'a' && d.src == *a) how = "ARP from " + a->str() + " at " + packet::mac_str(d.arp_sha);
            else if (d.has_nd_target && d.icmp_type == 136 && d.nd_target == *a)
                how = "neighbor advertisement for " + a->str();
        }
        if (how.empty()) continue;
        ++stats_.signs;
        const std::string name = target;  // alive() stops the watch: `target` goes away
        cycle_->alive(name, how);
        return;  // watching_ changed
    }
}

void WakeService::emit(core::Event e) {
    auto w = wol_.find(e.subject);
    // awake / wake_failed are logged by the log sink, once the core has emitted them (on_event)
    if (e.kind == core::EventKind::Waking)
        log::info("{}: -> waking (verifying{})", e.subject,
                  w != wol_.end() && w->second.verify.address ? " " + w->second.verify.address->str() : "");
    if (e.kind != core::EventKind::Waking && w != wol_.end() && w_.on_event) w_.on_event(e, w->second);
    if (w_.on_state_changed) w_.on_state_changed();
}

void WakeService::save(state::PersistedState* ps) const {
    const int64_t now = clock_.now_ns(), now_ms = sys::wall_ms();
    for (auto& t : ps->targets) {
        const core::WakeView v = cycle_->view(t.name);
        if (v.state == core::WakeState::None) continue;
        t.wake_state = core::wake_state_name(v.state);
        t.wake_attempt = v.attempt;
        t.wake_first_wall_ms = now_ms - (now - v.first_burst_ns) / kMsNs;
    }
}

void WakeService::resume(const state::PersistedState& ps) {
    const int64_t now_ms = sys::wall_ms();
    for (const auto& t : ps.targets) {
        if (t.wake_state != "waking") continue;
        auto p = params_.find(t.name);
        if (p == params_.end()) continue;
        const int64_t elapsed_ms = std::max<int64_t>(0, now_ms - t.wake_first_wall_ms);
        log::notice("{}: resuming wake verification (attempt {}, first magic packet {} ms ago)", t.name,
                    t.wake_attempt, elapsed_ms);
        cycle_->resume(t.name, p->second, uint32_t(std::max<int64_t>(t.wake_attempt, 1)), elapsed_ms * kMsNs);
    }
}

}  // namespace nw::daemon

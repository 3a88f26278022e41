// proxy/proxy_wake.cc — the sleep proxy's `waking` on core::WakeCycle, the wake cycle plain WoL
// targets use too (SPEC §7.1, §8): the cycle counts attempts, times wake_interval and probes;
// the proxy sends the bursts (wol.repeat copies), unicast probes, and maps the cycle's failure
// to asleep (keep) or lost. Entered and left only through transition().
#include <algorithm>

#include "core/core.h"
#include "proxy/machine.h"
#include "proxy/proxy.h"
#include "sys/log.h"

namespace nw::proxy {

namespace {
constexpr int64_t kMs = 1000000;
int64_t ns(config::Duration d) { return int64_t(d.count()) * kMs; }

core::WakeParams wake_params(const MachineSpec& s) {
    core::WakeParams p;
    p.attempts = std::max<uint32_t>(s.timing.wake_attempts, 1);
    p.timeout_ns = ns(s.timing.wake_interval);
    p.grace_ns = 0;  // a new sleep is a new cycle; wol.cooldown spaces them
    p.probe_interval_ns = ns(s.timing.probe_interval);
    return p;
}
}  // namespace

void SleepProxy::begin_wake(Machine& m, core::Reason r, core::Event move) {
    cycle_->forget(m.spec.name);    // none runs outside `waking`: a fresh cycle, attempt 1
    burst(m, r, 1, std::move(move));  // the magic packet first (latency), then the cycle's probe
    cycle_->burst_sent(m.spec.name, wake_params(m.spec));
}

core::EventEnv SleepProxy::end_wake(Machine& m, bool alive, const std::string& why, uint32_t* attempt) {
    core::EventEnv env;
    if (alive && cycle_->alive(m.spec.name, why)) {
        const core::WakeView v = cycle_->view(m.spec.name);
        *attempt = v.attempt;  // the log sink's "awake ... after the first magic packet" line
        env = {{"NETWAKED_MAC", packet::mac_str(m.spec.mac)},
               {"NETWAKED_ATTEMPT", std::to_string(v.attempt)},
               {"NETWAKED_WAKE_SECONDS", core::wake_seconds(v.wake_ns)}};
    }
    cycle_->forget(m.spec.name);
    return env;
}

// One burst: wol.repeat copies, wol.interval apart (kWol), and its `wake` event.
void SleepProxy::burst(Machine& m, core::Reason r, uint32_t attempt, core::Event e) {
    ++m.wakes;
    m.wol_left = std::max<uint32_t>(m.spec.wol.repeat, 1);
    e.attempt = attempt;
    e.attempts = m.spec.timing.wake_attempts;
    e.repeat = m.wol_left;
    e.interval_ms = m.spec.wol.interval.count();
    send_wol_copy(m);
    emit(m, std::move(e), core::EventKind::Wake, r, m.wake_cause.get(),
         {{"NETWAKED_MAC", packet::mac_str(m.spec.mac)}, {"NETWAKED_ATTEMPT", std::to_string(attempt)}});
}

void SleepProxy::send_wol_copy(Machine& m) {
    if (m.wol_left == 0) return;
    --m.wol_left;
    std::string desc, err;
    if (!d_.wol) log::warn("{}: cannot send magic packets: no sender available", m.spec.name);
    else if (!d_.wol->send(m.spec.wol, &desc, &err)) log::warn("{}: magic packet not sent: {}", m.spec.name, err);
    else log::debug("{}: magic packet sent: {}", m.spec.name, desc);
    if (m.wol_left > 0) timers_.arm({m.id, kWol}, d_.clock->now_ns() + ns(m.spec.wol.interval));
}

// The cycle's events: `waking` and `awake` are transition()'s doing; wake_failed (no sign of
// life after the last attempt) ends waking with keep -> asleep, else lost.
void SleepProxy::on_cycle_event(const core::Event& e) {
    if (e.kind != core::EventKind::WakeFailed) return;
    Machine* m = by_name(e.subject);
    if (!m || m->state != State::Waking) return;
    const bool keep = m->spec.timing.keep;
    transition(*m, keep ? State::Asleep : State::Lost, core::Reason::Probe,
               fmt::format("no answer after {} wake attempt{}{}", e.attempt, e.attempt == 1 ? "" : "s",
                           keep ? "; keep: proxying on" : ""));
    reap_doomed();
}

// A later attempt (the cycle's timeout passed without a sign of life): same cause, reason traffic.
bool SleepProxy::send_burst(const std::string& target, uint32_t attempt) {
    Machine* m = by_name(target);
    if (!m || m->state != State::Waking) return false;
    burst(*m, core::Reason::Traffic, attempt);
    return true;
}

// sync_kernel() already watches the MAC of every machine that is not up.
void SleepProxy::watch(const std::string&, bool) {}

void SleepProxy::probe(const std::string& target) {
    if (Machine* m = by_name(target); m && m->state == State::Waking) send_probes(*m, true);
}

}  // namespace nw::proxy

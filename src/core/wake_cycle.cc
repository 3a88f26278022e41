// core/wake_cycle.cc — the wake cycle state machine (see wake_cycle.h, SPEC §7.1). Pure: the
// timer queue and WakeEffects are its only ways out; every state change emits one Event.
#include "core/wake_cycle.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace nw::core {

const char* wake_state_name(WakeState s) {
    switch (s) {
        case WakeState::None: return "none";
        case WakeState::Waking: return "waking";
        case WakeState::Awake: return "awake";
        case WakeState::Failed: return "wake_failed";
    }
    return "?";
}

std::string wake_seconds(int64_t ns) {
    char b[32];
    std::snprintf(b, sizeof b, "%lld.%03lld", static_cast<long long>(ns / 1'000'000'000),
                  static_cast<long long>(ns / 1'000'000 % 1000));
    return b;
}

WakeCycle::WakeCycle(TimerQueue& q, WakeEffects& fx, Emit emit)
    : q_(q), fx_(fx), emit_(std::move(emit)), owner_(q, this) {}

WakeCycle::~WakeCycle() = default;

Event WakeCycle::event(EventKind k, const std::string& name, const Cycle& c, const char* reason) const {
    Event e;
    e.kind = k;
    e.subject_kind = SubjectKind::Target;
    e.subject = name;
    e.reason = reason;
    e.attempt = c.v.attempt;
    e.mono_ns = q_.clock().now_ns();
    e.wall_s = q_.clock().wall_s();
    e.in_state_ns = k == EventKind::Awake ? c.v.wake_ns : e.mono_ns - c.v.first_burst_ns;
    return e;
}

uint32_t WakeCycle::burst_sent(const std::string& target, const WakeParams& p) {
    const int64_t now = q_.clock().now_ns();
    auto [it, fresh] = cycles_.try_emplace(target);
    Cycle& c = it->second;
    if (fresh) c.id = next_id_++;
    c.p = p;
    if (c.v.state == WakeState::Waking) return c.v.attempt;          // part of the running cycle
    if (c.v.state == WakeState::Awake && now - c.v.since_ns < p.grace_ns) return 1;  // just woke
    c.v = WakeView{};
    c.v.state = WakeState::Waking;
    c.v.attempt = 1;
    c.v.first_burst_ns = now;
    c.v.since_ns = now;
    start_waiting(target, c);
    emit_(event(EventKind::Waking, target, c, "wake"));
    return 1;
}

void WakeCycle::resume(const std::string& target, const WakeParams& p, uint32_t attempt, int64_t elapsed_ns) {
    const int64_t now = q_.clock().now_ns();
    auto [it, fresh] = cycles_.try_emplace(target);
    Cycle& c = it->second;
    if (fresh) c.id = next_id_++;
    c.p = p;
    c.v = WakeView{};
    c.v.state = WakeState::Waking;
    c.v.attempt = std::clamp<uint32_t>(attempt, 1, std::max<uint32_t>(p.attempts, 1));
    c.v.first_burst_ns = now - std::max<int64_t>(elapsed_ns, 0);
    c.v.since_ns = now;
    start_waiting(target, c);
}

// Entering `waking` (or a new attempt): watch, probe at once, arm the timeout.
void WakeCycle::start_waiting(const std::string& name, Cycle& c) {
    fx_.watch(name, true);
    q_.arm_in(this, c.id * 2 + kTimeout, c.p.timeout_ns, [this, name](int64_t) { on_timeout(name); });
    on_probe(name);
}

void WakeCycle::stop_waiting(const std::string& name, Cycle& c) {
    q_.cancel(this, c.id * 2 + kTimeout);
    q_.cancel(this, c.id * 2 + kProbe);
    fx_.watch(name, false);
}

void WakeCycle::on_probe(const std::string& name) {
    auto it = cycles_.find(name);
    if (it == cycles_.end() || it->second.v.state != WakeState::Waking) return;
    fx_.probe(name);
    q_.arm_in(this, it->second.id * 2 + kProbe, it->second.p.probe_interval_ns,
              [this, name](int64_t) { on_probe(name); });
}

void WakeCycle::on_timeout(const std::string& name) {
    auto it = cycles_.find(name);
    if (it == cycles_.end() || it->second.v.state != WakeState::Waking) return;
    Cycle& c = it->second;
    if (c.v.attempt < c.p.attempts) {
        ++c.v.attempt;
        q_.arm_in(this, c.id * 2 + kTimeout, c.p.timeout_ns, [this, name](int64_t) { on_timeout(name); });
        fx_.send_burst(name, c.v.attempt);  // its `wake` event carries this attempt (burst_sent)
        return;
    }
    stop_waiting(name, c);
    c.v.state = WakeState::Failed;
    c.v.since_ns = q_.clock().now_ns();
    emit_(event(EventKind::WakeFailed, name, c, "timeout"));
}

bool WakeCycle::alive(const std::string& target, const std::string& how) {
    auto it = cycles_.find(target);
    if (it == cycles_.end()) return false;
    Cycle& c = it->second;
    const int64_t now = q_.clock().now_ns();
    if (c.v.state == WakeState::Awake) c.v.since_ns = now;  // grace counts from the latest sign
    if (c.v.state != WakeState::Waking) return false;
    stop_waiting(target, c);
    c.v.state = WakeState::Awake;
    c.v.since_ns = now;
    c.v.wake_ns = now - c.v.first_burst_ns;
    Event e = event(EventKind::Awake, target, c, "probe");
    e.packet = how;
    emit_(std::move(e));
    return true;
}

void WakeCycle::forget(const std::string& target) {
    auto it = cycles_.find(target);
    if (it == cycles_.end()) return;
    if (it->second.v.state == WakeState::Waking) stop_waiting(target, it->second);
    cycles_.erase(it);
}

void WakeCycle::retain(const std::vector<std::string>& names) {
    std::set<std::string> keep(names.begin(), names.end());
    std::vector<std::string> gone;
    for (const auto& [n, c] : cycles_)
        if (!keep.count(n)) gone.push_back(n);
    for (const auto& n : gone) forget(n);
}

WakeView WakeCycle::view(const std::string& target) const {
    auto it = cycles_.find(target);
    return it == cycles_.end() ? WakeView{} : it->second.v;
}

}  // namespace nw::core

// proxy/proxy.cc — SleepProxy lifecycle: machines from the configuration and from registrations,
// the one transition function with its entry actions, hooks, and the held-address set pushed to
// the receive filters and the firewall. Core thread only; never blocks.
#include "proxy/proxy.h"

#include <algorithm>

#include "core/core.h"
#include "core/log_sink.h"
#include "proxy/machine.h"
#include "sys/log.h"

namespace nw::proxy {

namespace {
constexpr int64_t kMs = 1000000;
int64_t ns(config::Duration d) { return int64_t(d.count()) * kMs; }

bool same_identity(const MachineSpec& a, const MachineSpec& b) {
    return a.mac == b.mac && a.interface == b.interface && a.addresses == b.addresses &&
           a.registered == b.registered;
}
}  // namespace

const char* state_name(State s) {
    switch (s) {
        case State::Up: return "up";
        case State::Asleep: return "asleep";
        case State::Waking: return "waking";
        case State::Lost: return "lost";
    }
    return "?";
}

bool parse_state(std::string_view s, State* out) {
    for (State st : {State::Up, State::Asleep, State::Waking, State::Lost})
        if (s == state_name(st)) {
            *out = st;
            return true;
        }
    return false;
}

MachineSpec spec_for_target(const config::TargetConf& t) {
    MachineSpec s;
    s.name = t.name;
    const config::SleepProxyConf& sp = *t.sleep_proxy;
    s.mac = t.wol ? t.wol->mac : packet::Mac{};
    s.interface = sp.interface;
    for (const auto& pa : sp.addresses) s.addresses.push_back({pa.addr, pa.ports.empty() ? sp.ports : pa.ports});
    s.timing = sp;
    if (t.wol) s.wol = *t.wol;
    s.hook = t.hook;
    s.hook_timeout = t.hook_timeout;
    return s;
}

MachineSpec spec_for_registration(const config::RegisterConf& rc, std::string name, const packet::Mac& mac,
                                  std::vector<ProxyAddr> addrs, int64_t registered_wall_ms) {
    MachineSpec s;
    s.name = std::move(name);
    s.registered = true;
    s.mac = mac;
    s.interface = rc.interface;
    s.addresses = std::move(addrs);
    s.timing = rc.sleep_proxy;
    s.wol = rc.wol.value_or(config::WolConf{});
    s.wol.mac = mac;
    if (s.wol.interface.empty()) s.wol.interface = rc.interface;
    s.hook = rc.hook;
    s.hook_timeout = rc.hook_timeout;
    s.registered_wall_ms = registered_wall_ms;
    return s;
}

SleepProxy::SleepProxy(ProxyDeps d)
    : d_(std::move(d)), announcer_(d_.frames),
      timers_(*d_.timers, [this](core::KeyedTimers::Key k, int64_t now) { fire(k, now); }) {
    core::WakeEffects& fx = *this;  // a private base: converted here, where it is accessible
    cycle_ = std::make_unique<core::WakeCycle>(*d_.timers, fx, [this](core::Event e) { on_cycle_event(e); });
}
SleepProxy::~SleepProxy() = default;

SleepProxy::Machine* SleepProxy::by_name(std::string_view name) {
    for (auto& [id, m] : machines_)
        if (m->spec.name == name) return m.get();
    return nullptr;
}

SleepProxy::Machine* SleepProxy::holder(const std::string& ifname, const packet::Addr& a) {
    for (auto& [id, m] : machines_) {
        if (m->spec.interface != ifname) continue;
        for (size_t i = 0; i < m->addr.size(); ++i)
            if (m->addr[i].held && m->spec.addresses[i].addr == a) return m.get();
    }
    return nullptr;
}

void SleepProxy::changed() {
    if (d_.on_state_changed) d_.on_state_changed();
}

SleepProxy::Machine* SleepProxy::add_machine(MachineSpec spec, State initial) {
    if (d_.host->own_mac(spec.mac)) {
        log::error("{}: MAC {} belongs to this host: not proxied", spec.name, packet::mac_str(spec.mac));
        return nullptr;
    }
    auto m = std::make_unique<Machine>();
    m->id = next_id_++;
    m->spec = std::move(spec);
    m->addr.resize(m->spec.addresses.size());
    m->state = initial;
    const int64_t now = d_.clock->now_ns();
    m->since_ns = now;
    timers_.arm({m->id, kProbe}, now);  // first probes right away
    if (m->spec.registered && initial == State::Up) arm_shutdown(*m);
    Machine* raw = m.get();
    machines_[raw->id] = std::move(m);
    sync_kernel();
    return raw;
}

// A registration still answering shutdown_timeout after it registered is `lost`.
void SleepProxy::arm_shutdown(Machine& m) {
    const int64_t left_ms =
        m.spec.registered_wall_ms + m.spec.timing.shutdown_timeout.count() - d_.clock->wall_s() * 1000;
    timers_.arm({m.id, kShutdown}, d_.clock->now_ns() + std::max<int64_t>(left_ms, 0) * kMs);
}

void SleepProxy::remove_machine(uint64_t id, const char* why) {
    auto it = machines_.find(id);
    if (it == machines_.end()) return;
    Machine& m = *it->second;
    give_back(m, true);
    for (uint8_t k : {kProbe, kWol, kShutdown, kAnnounce, kCooldown}) timers_.cancel({id, k});
    cycle_->forget(m.spec.name);
    announcer_.cancel(id);
    arm_announcer();
    log::notice("{}: no longer proxied ({})", m.spec.name, why);
    machines_.erase(it);
    sync_kernel();
}

void SleepProxy::reap_doomed() {
    auto ids = std::move(doomed_);
    doomed_.clear();
    for (uint64_t id : ids) remove_machine(id, "the registration has ended");
    if (!ids.empty()) changed();
}

void SleepProxy::configure(const config::Config& cfg) {
    config_names_.clear();
    for (const auto& t : cfg.targets) config_names_.push_back(t.name);
    reg_ = cfg.reg ? std::make_shared<const config::RegisterConf>(*cfg.reg) : nullptr;
    register_if_ = reg_ ? reg_->interface : "";

    std::map<std::string, MachineSpec> want;
    for (const auto& t : cfg.targets)
        if (t.sleep_proxy && t.wol) want.emplace(t.name, spec_for_target(t));

    std::vector<std::pair<uint64_t, const char*>> drop;
    for (auto& [id, m] : machines_) {
        MachineSpec& s = m->spec;
        if (s.registered) {
            if (!reg_) drop.push_back({id, "the register section was removed"});
            else if (reg_->interface != s.interface) drop.push_back({id, "register.interface changed"});
            else if (std::find(config_names_.begin(), config_names_.end(), s.name) != config_names_.end())
                drop.push_back({id, "a configured target now has its name"});
            else s = spec_for_registration(*reg_, s.name, s.mac, s.addresses, s.registered_wall_ms);
            continue;
        }
        auto w = want.find(s.name);
        if (w == want.end()) {
            drop.push_back({id, "removed from the configuration"});
        } else if (!same_identity(s, w->second)) {
            drop.push_back({id, "its MAC, interface or addresses changed"});
        } else {
            s = w->second;  // timing, wol, hook may change without losing the state
            want.erase(w);
        }
    }
    for (auto& [id, why] : drop) remove_machine(id, why);
    // New config machines win over registrations they clash with.
    for (auto& [name, spec] : want) {
        for (auto& [id, m] : machines_) {
            if (!m->spec.registered) continue;
            bool clash = m->spec.name == name || m->spec.mac == spec.mac;
            for (const auto& a : m->spec.addresses)
                for (const auto& b : spec.addresses) clash = clash || a.addr == b.addr;
            if (clash) doomed_.push_back(id);
        }
        reap_doomed();
        add_machine(std::move(spec), State::Up);
    }
    sync_kernel();
    changed();
}

bool SleepProxy::add_registration(MachineSpec spec, std::string* err, const Neighbours& neigh) {
    std::vector<uint64_t> squatters;
    if (!check_registration(spec, err, neigh, &squatters)) return false;
    std::vector<uint64_t> same;
    for (auto& [id, m] : machines_)
        if (m->spec.registered && m->spec.mac == spec.mac) same.push_back(id);
    std::vector<uint64_t> leaving = same;
    leaving.insert(leaving.end(), squatters.begin(), squatters.end());
    if (!pick_name(spec, leaving, err)) return false;
    for (uint64_t id : squatters) {
        Machine& o = *machines_.at(id);
        for (size_t i = 0; i < o.addr.size(); ++i)
            for (const auto& a : spec.addresses)
                if (a.addr == o.spec.addresses[i].addr && o.addr[i].held) {
                    o.addr[i].held = false;  // it is the new registrant's: nothing announced for o
                    log::warn("{}: {} is answered by {}, which registered it: the registration of {} ends",
                              o.spec.name, a.addr.str(), packet::mac_str(spec.mac), packet::mac_str(o.spec.mac));
                }
        remove_machine(id, "replaced by the registration of the MAC that answers for its address");
    }
    for (uint64_t id : same) remove_machine(id, "replaced by a new registration");
    std::string addrs;
    for (const auto& a : spec.addresses) addrs += (addrs.empty() ? "" : ", ") + a.addr.str();
    const std::string name = spec.name, mac = packet::mac_str(spec.mac);
    if (!add_machine(std::move(spec), State::Up)) {
        *err = "mac: " + mac + " belongs to this host";
        return false;
    }
    log::notice("{}: registered ({}, {}): probing until it sleeps", name, mac, addrs);
    changed();
    return true;
}

bool SleepProxy::forget(std::string_view name, std::string* err) {
    Machine* m = by_name(name);
    if (!m || !m->spec.registered) {
        *err = fmt::format("no registration named {}", name);
        return false;
    }
    remove_machine(m->id, "forgotten (netwakectl forget)");
    changed();
    return true;
}

void SleepProxy::restore(const std::vector<RestoredMachine>& saved) {
    for (const auto& r : saved) {
        Machine* m = nullptr;
        if (r.spec.registered) {
            if (!reg_) {
                log::warn("{}: registration in the state file dropped: no register section", r.spec.name);
                continue;
            }
            MachineSpec s = spec_for_registration(*reg_, r.spec.name, r.spec.mac, r.spec.addresses,
                                                  r.spec.registered_wall_ms);
            std::string err;
            if (!check_registration(s, &err) || !check_host(s, &err) || !pick_name(s, {}, &err)) {
                log::warn("{}: registration in the state file dropped: {}", r.spec.name, err);
                continue;
            }
            m = add_machine(std::move(s), State::Up);
        } else {
            m = by_name(r.spec.name);
            if (m && m->spec.registered) m = nullptr;
        }
        if (!m) continue;
        if (r.state == State::Asleep || r.state == State::Waking) {
            // Not moved yet: probed again, then taken over quietly (transition: `resuming`) or
            // found awake (up -> up, its `awake` event).
            m->resuming = true;  // it did go to sleep: shutdown_timeout no longer applies
            m->resumed_from = r.state;
            timers_.cancel({m->id, kShutdown});
            log::notice("{}: was {} before the restart: probing again before taking over", m->spec.name,
                        state_name(r.state));
        } else if (r.state == State::Lost && !m->spec.registered) {
            transition(*m, State::Lost, core::Reason::Probe, "state file", nullptr, true);
        } else if (m->spec.registered) {
            // Silence now may be the sleep we missed while down: not `lost` before it answers.
            timers_.cancel({m->id, kShutdown});
            m->shutdown_on_answer = true;
        }
    }
    sync_kernel();
    changed();
}

// The only place a machine changes state (restore() and a restored machine found awake
// included): legality, entry actions, the move's one event (its log line is the log sink's),
// timers. Up -> up is legal once: a machine restored as asleep or waking (`resuming`, nothing
// held) answered. `restored`: entering the state file's state (lost): no event, no hook.
void SleepProxy::transition(Machine& m, State to, core::Reason r, const std::string& why, const core::Hit* cause,
                            bool restored) {
    const State from = m.state;
    const bool found_awake = from == State::Up && to == State::Up && m.resuming;
    if (from == to && !found_awake) return;
    const int64_t now = d_.clock->now_ns();
    m.state = to;
    core::Event e;
    e.detail = why;
    if (!found_awake) {
        m.since_ns = now;
        e.from = state_name(from);
        e.to = state_name(to);
    }
    const bool quiet = std::exchange(m.resuming, false);  // a restored machine taken over: no event
    if (restored) log::notice("{}: restored as {}", m.spec.name, state_name(to));
    else if ((to == State::Asleep && quiet) || (to == State::Up && from == State::Lost))
        log::notice("{}", core::machine_move_line(m.spec.name, e.from, e.to, core::reason_name(r), why));  // no event
    uint32_t attempt = 0;  // leaving waking after a wake: the cycle's attempt and time, for `awake`
    core::EventEnv awake_env;
    if (from == State::Waking) awake_env = end_wake(m, to == State::Up, why, &attempt);
    timers_.cancel({m.id, kWol});
    timers_.cancel({m.id, kCooldown});
    m.deferred.reset();
    m.wol_left = 0;
    switch (to) {
        case State::Asleep:
            if (from == State::Up || from == State::Lost) take_over(m);
            timers_.cancel({m.id, kShutdown});
            if (!quiet) emit(m, std::move(e), core::EventKind::Asleep, r, cause);
            timers_.arm({m.id, kProbe}, now + ns(m.spec.timing.probe_interval));
            break;
        case State::Waking:
            m.cycle_ns = now;  // wol.cooldown: no new cycle sooner after this one
            m.wake_cause = cause ? std::make_unique<core::Hit>(*cause) : nullptr;
            begin_wake(m, r, std::move(e));  // the move's event is the first burst's `wake`
            break;
        case State::Up:
            if (!found_awake) {
                give_back(m, true);
                for (auto& a : m.addr) a = AddrState{};
                m.cycle_ns = 0;  // it answered: its next sleep's wake owes nothing to this one
                timers_.arm({m.id, kProbe}, now + ns(m.spec.timing.probe_interval));
            }
            e.attempt = attempt;
            if (from != State::Lost) emit(m, std::move(e), core::EventKind::Awake, r, cause, std::move(awake_env));
            if (m.spec.registered) doomed_.push_back(m.id);  // one sleep per registration
            break;
        case State::Lost:
            give_back(m, true);
            timers_.cancel({m.id, kShutdown});
            if (!restored) emit(m, std::move(e), core::EventKind::Lost, r, cause);
            if (m.spec.registered) doomed_.push_back(m.id);
            else if (!restored) timers_.arm({m.id, kProbe}, now + ns(m.spec.timing.probe_interval));
            break;
    }
    sync_kernel();
    changed();
}

void SleepProxy::take_over(Machine& m) {
    for (size_t i = 0; i < m.addr.size(); ++i) {
        AddrState& a = m.addr[i];
        const bool disowned = a.disowned;  // another MAC's (registrations): not ours to answer
        a = AddrState{};
        a.disowned = disowned;
        a.held = !disowned && !host_owns(m, i);  // the host's own addresses are never held
    }
    announce_takeover(m);
    timers_.arm({m.id, kAnnounce}, d_.clock->now_ns() + kAnnounceIntervalNs);
    sync_kernel();
}

void SleepProxy::give_back(Machine& m, bool announce) {
    bool any = false;
    for (size_t i = 0; i < m.addr.size(); ++i) {
        if (!m.addr[i].held) continue;
        m.addr[i].held = false;
        any = true;
        if (announce) announce_behalf(m, i);
    }
    timers_.cancel({m.id, kAnnounce});
    announcer_.cancel(m.id);  // takeover news still queued must not go out after this
    arm_announcer();
    if (any) sync_kernel();
}

void SleepProxy::release_address(Machine& m, size_t i, const std::string& why) {
    if (!m.addr[i].held) return;
    m.addr[i].held = false;
    m.addr[i].conflict = true;
    ++stats_.conflicts;
    log::warn("{}: address conflict: {}; {} released", m.spec.name, why, m.spec.addresses[i].addr.str());
    sync_kernel();
    changed();
}

void SleepProxy::emit(Machine& m, core::Event e, core::EventKind k, core::Reason r, const core::Hit* cause,
                      core::EventEnv extra) {
    if (!d_.events) return;
    e.kind = k;
    e.subject_kind = core::SubjectKind::Machine;
    e.subject = m.spec.name;
    e.reason = core::reason_name(r);
    e.mono_ns = d_.clock->now_ns();
    e.wall_s = d_.clock->wall_s();
    e.mac = m.spec.mac;
    if (cause) e.packet = packet::summarize(cause->d);
    e.hook = core::HookRef{m.spec.hook, "", m.spec.hook_timeout};
    e.env.emplace_back("NETWAKED_EVENT", core::event_kind_name(k));
    e.env.emplace_back("NETWAKED_TARGET", m.spec.name);
    e.env.emplace_back("NETWAKED_REASON", e.reason);
    if (cause) core::packet_env(*cause, "sleep_proxy", &e.env);
    for (auto& x : extra) e.env.push_back(std::move(x));
    d_.events->emit(std::move(e));
}

void SleepProxy::sync_kernel() {
    std::map<std::string, Interest> want;
    for (const auto& ifn : interfaces()) want[ifn];
    std::vector<std::pair<std::string, packet::Addr>> held;
    for (const auto& [id, m] : machines_) {
        Interest& in = want[m->spec.interface];
        // Every frame from the machine's MAC only while a frame from it would change something:
        // an awake machine (on a router: all its routed traffic) is not copied to user space.
        const bool watch = m->state != State::Up || m->resuming;
        if (watch && std::find(in.macs.begin(), in.macs.end(), m->spec.mac) == in.macs.end())
            in.macs.push_back(m->spec.mac);
        for (size_t i = 0; i < m->addr.size(); ++i)
            if (m->addr[i].held) {
                in.held.push_back(m->spec.addresses[i].addr);
                held.emplace_back(m->spec.interface, m->spec.addresses[i].addr);
            }
    }
    for (auto& [ifn, in] : want) {
        std::sort(in.macs.begin(), in.macs.end());
        auto it = pushed_interest_.find(ifn);
        if (it == pushed_interest_.end() || it->second != in) d_.frames->set_interest(ifn, in);
    }
    pushed_interest_ = std::move(want);
    if (d_.firewall && (!pushed_once_ || held != pushed_held_)) d_.firewall->set_held(held);
    pushed_held_ = std::move(held);
    pushed_once_ = true;
}

void SleepProxy::shutdown() {
    for (auto& [id, m] : machines_) {
        if (std::any_of(m->addr.begin(), m->addr.end(), [](const AddrState& a) { return a.held; }))
            log::notice("{}: releasing its addresses (shutdown)", m->spec.name);
        give_back(*m, true);
        for (uint8_t k : {kProbe, kWol, kShutdown, kAnnounce, kCooldown}) timers_.cancel({id, k});
        cycle_->forget(m->spec.name);
    }
    // The loop stops after this: send what the rate limit still holds back, now.
    for (int64_t t = d_.clock->now_ns(); announcer_.queued() > 0; t += kAnnounceGapNs) announcer_.on_time(t);
    timers_.cancel({0, kSend});
}

std::vector<MachineView> SleepProxy::machines() const {
    std::vector<MachineView> out;
    for (const auto& [id, m] : machines_) {
        MachineView v;
        v.spec = &m->spec;
        v.state = m->state;
        v.saved = m->resuming ? m->resumed_from : m->state;
        v.wakes = m->wakes;
        for (size_t i = 0; i < m->addr.size(); ++i)
            if (m->addr[i].held) v.held.push_back(m->spec.addresses[i].addr);
        out.push_back(std::move(v));
    }
    return out;
}

std::vector<std::string> SleepProxy::interfaces() const {
    std::vector<std::string> out;
    if (!register_if_.empty()) out.push_back(register_if_);
    for (const auto& [id, m] : machines_)
        if (std::find(out.begin(), out.end(), m->spec.interface) == out.end()) out.push_back(m->spec.interface);
    return out;
}

}  // namespace nw::proxy

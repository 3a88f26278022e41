// core/core.cc — targets, TTL timers and the single transition function (SPEC §4, DESIGN
// "Shape"). Core thread only. Side effects go through HookSpawner/WolSender/callbacks.
#include "core/core.h"

#include <algorithm>

#include "sys/log.h"

namespace nw::core {

namespace {
constexpr int64_t kMs = 1000000;
int64_t ns(config::Duration d) { return static_cast<int64_t>(d.count()) * kMs; }
Event event(EventKind k) {
    Event e;
    e.kind = k;
    return e;
}
}  // namespace

const char* state_name(TargetState s) {
    switch (s) {
        case TargetState::Idle: return "idle";
        case TargetState::Active: return "active";
    }
    return "?";
}

const char* reason_name(Reason r) {
    switch (r) {
        case Reason::Traffic: return "traffic";
        case Reason::Ttl: return "ttl";
        case Reason::Signal: return "signal";
        case Reason::Control: return "control";
        case Reason::Knock: return "knock";
        case Reason::Shutdown: return "shutdown";
        case Reason::Registration: return "registration";
        case Reason::Probe: return "probe";
    }
    return "?";
}

int64_t stop_deadline_ns(const Target& t) {
    const int64_t ls = std::max(t.last_seen_ns, t.shared ? t.shared->last_seen_ns.load() : 0);
    return std::max(ls + ns(t.conf->ttl), t.active_since_ns + ns(t.conf->min_active));
}

Core::Core(CoreDeps deps)
    : d_(std::move(deps)), timers_(*d_.timers, [this](KeyedTimers::Key k, int64_t now) { on_timer(k, now); }) {}

Target* Core::find(std::string_view name) {
    return by_name_.find(name);
}

std::string Core::sensor_name(uint16_t idx) const {
    if (!cfg_) return "?";
    for (size_t i = 0; i < cfg_->sensors.size(); ++i)  // numbered by id, or by position (config/model.h)
        if ((cfg_->sensors[i].id >= 0 ? size_t(cfg_->sensors[i].id) : i) == idx) return cfg_->sensors[i].name;
    return "?";
}

void Core::configure(std::shared_ptr<const config::Config> cfg,
                     std::vector<std::shared_ptr<TargetShared>> slots) {
    std::unordered_map<std::string, std::unique_ptr<Target>> old;
    for (auto& t : targets_) old[t->conf->name] = std::move(t);
    targets_.clear();
    by_slot_.clear();
    by_id_.clear();
    by_name_.clear();
    const auto prev = std::move(cfg_);  // removed targets' conf lives there until they are stopped below
    cfg_ = std::move(cfg);

    for (size_t i = 0; i < cfg_->targets.size(); ++i) {
        const auto& tc = cfg_->targets[i];
        std::unique_ptr<Target> t;
        auto it = old.find(tc.name);
        if (it != old.end()) {
            t = std::move(it->second);
            old.erase(it);
        } else {
            t = std::make_unique<Target>();
            t->id = next_id_++;
        }
        t->conf = &tc;
        t->shared = slots.at(i);
        t->shared->active.store(t->state == TargetState::Active);
        if (t->state == TargetState::Active) {
            const int64_t ls = std::max(t->last_seen_ns, t->shared->last_seen_ns.load());
            t->shared->last_seen_ns.store(ls);
            arm_ttl(*t);
        }
        if (t->trigger_times)
            while (t->trigger_times->size() > tc.trigger.packets) t->trigger_times->pop_front();
        by_slot_.add(t->shared.get(), t.get());
        by_id_.add(t->id, t.get());
        by_name_.add(t->conf->name, t.get());
        targets_.push_back(std::move(t));
    }
    by_slot_.seal();
    by_id_.seal();
    by_name_.seal();
    // Wake-on-WAN relay: a new engine on the new snapshot, counters carried over.
    const RelayStats relay_stats = relay_ ? relay_->stats() : RelayStats{};
    relay_.reset();
    if (!cfg_->wol_relay.empty()) {
        relay_ = std::make_unique<RelayEngine>(*cfg_);
        relay_->set_stats(relay_stats);
    }
    // Targets that disappeared: stop them if active, drop their timers.
    for (auto& [name, t] : old) {
        timers_.cancel({t->id, kTtl});
        timers_.cancel({t->id, kWol});
        if (t->state == TargetState::Active) {
            t->shared->active.store(false);
            Event e = event(EventKind::Stop);  // no move: the target is gone
            e.detail = "removed from the configuration while active";
            emit(*t, std::move(e), Reason::Shutdown, nullptr);
        }
    }
}

// The only place a target changes state (restore() included): runs the entry actions, emits the
// move's one event (its log line is the log sink's), arms/cancels timers.
void Core::transition(Target& t, TargetState to, Reason r, const Hit* cause, const SavedTarget* restored) {
    const TargetState from = t.state;
    if (from == to) return;
    const int64_t now = d_.clock->now_ns();
    t.state = to;
    Event e = event(to == TargetState::Active ? EventKind::Start : EventKind::Stop);
    e.from = state_name(from);
    e.to = state_name(to);
    if (to == TargetState::Active) {
        // Magic packets go out before anything else: logging costs syscalls, and the start
        // hook's posix_spawn blocks this thread until the child has exec'd (0.3-1 ms).
        const bool woke = !restored && t.conf->wol && send_wake(t);
        t.active_since_ns = restored ? now - std::max<int64_t>(restored->active_for_ms, 0) * kMs : now;
        t.last_seen_ns = restored ? now - std::max<int64_t>(restored->idle_ms, 0) * kMs
                                  : cause ? std::max(cause->t_ns, now) : now;
        t.shared->last_seen_ns.store(t.last_seen_ns);
        t.shared->active.store(true);
        t.trigger_times.reset();
        ++t.starts;
        arm_ttl(t);
        if (restored) {
            log::notice("{}: restored as active from the state file ({} ms of TTL left)", t.conf->name,
                        std::max<int64_t>(0, stop_deadline_ns(t) - now) / kMs);
            return;
        }
        keep_trigger(t, cause);
        emit(t, std::move(e), r, cause);
        if (woke) announce_wake(t, r, cause);  // the `wake` event follows `start` (SPEC §4)
    } else {
        t.shared->active.store(false);
        timers_.cancel({t.id, kTtl});
        e.idle_ns = now - t.last_seen_ns;
        ++t.stops;
        std::string idle_s = std::to_string(e.idle_ns / kMs / 1000);
        emit(t, std::move(e), r, nullptr, {{"NETWAKED_IDLE", std::move(idle_s)}});
    }
}

// The start's trigger packet, for status (and the -w savefile), when there is one.
void Core::keep_trigger(Target& t, const Hit* cause) {
    if (!cause) {
        t.trigger.reset();
        return;
    }
    t.trigger = std::make_unique<Hit>(*cause);
    t.trigger->full = nullptr;  // the whole frame is only valid during on_hit
    t.trigger->full_len = 0;
    if (d_.on_start_packet) d_.on_start_packet(*cause);
}

void Core::arm_ttl(Target& t) { timers_.arm({t.id, kTtl}, stop_deadline_ns(t)); }

void Core::keepalive(Target& t, int64_t t_ns) {
    t.last_seen_ns = std::max(t.last_seen_ns, t_ns);
    t.shared->last_seen_ns.store(std::max(t.shared->last_seen_ns.load(), t.last_seen_ns));
}

// TTL timer fired: stop only if no keepalive arrived meanwhile. The sensors store last_seen only
// while `active` is true, so: publish idle first, then re-read last_seen. A sensor that saw
// `active` stored its time before we re-read (seq_cst), and we stay active; a sensor that sees
// `idle` queues a Hit instead, which leads to a new start after this stop. Nothing is lost.
void Core::on_ttl(Target& t, int64_t now) {
    if (t.state != TargetState::Active) return;
    const int64_t ls = std::max(t.last_seen_ns, t.shared->last_seen_ns.load());
    t.last_seen_ns = ls;
    const int64_t deadline = stop_deadline_ns(t);
    if (now < deadline) {
        timers_.arm({t.id, kTtl}, deadline);
        return;
    }
    t.shared->active.store(false);
    const int64_t ls2 = t.shared->last_seen_ns.load();
    if (ls2 > ls) {  // a keepalive raced with the expiry: still active
        t.shared->active.store(true);
        t.last_seen_ns = ls2;
        arm_ttl(t);
        return;
    }
    transition(t, TargetState::Idle, Reason::Ttl, nullptr);
}

void Core::match_hit(Target& t, const Hit* h, int64_t t_ns) {
    if (t.state == TargetState::Active) {
        ++stale_hits_;  // queued before the start, or raced with it: counts as keepalive
        if (!h || h->keepalive) keepalive(t, t_ns);
        return;
    }
    if (h && !h->match) return;
    const auto& tr = t.conf->trigger;
    if (tr.packets <= 1) {  // the common case needs no history
        transition(t, TargetState::Active, Reason::Traffic, h);
        return;
    }
    if (!t.trigger_times) t.trigger_times = std::make_unique<std::deque<int64_t>>();
    std::deque<int64_t>& times = *t.trigger_times;
    times.push_back(t_ns);
    while (!times.empty() && times.front() < t_ns - ns(tr.within)) times.pop_front();
    while (times.size() > tr.packets) times.pop_front();
    if (times.size() >= tr.packets) transition(t, TargetState::Active, Reason::Traffic, h);
}

void Core::arm_knocks() {
    const int64_t k = knocks_ ? knocks_->next_deadline_ns() : 0;
    if (k > 0) timers_.arm({0, kKnock}, k);
    else timers_.cancel({0, kKnock});
}

void Core::set_knocks(std::unique_ptr<KnockEngine> k) {
    knocks_ = std::move(k);
    if (knocks_)
        knocks_->on_reject = [this](const packet::Addr& src, std::string_view why) { log_reject(src, why); };
    arm_knocks();
}

void Core::log_reject(const packet::Addr& src, std::string_view why, const char* what) {
    const int64_t now = d_.clock->now_ns();
    if (now - reject_window_ns_ >= 1000000000) {
        if (rejects_suppressed_)
            log::warn("knock: {} more rejections not logged in the last second", rejects_suppressed_);
        reject_window_ns_ = now;
        rejects_in_window_ = 0;
        rejects_suppressed_ = 0;
    }
    if (rejects_in_window_++ < kRejectBurst) {
        ++rejects_logged_;
        log::warn("{} rejected from {}: {}", what, src.str(), why);
    } else {
        ++rejects_suppressed_;
    }
}

// A completed knock emits `knock`, then is a `start` Command for its target (origin knock, reason
// knock, the knock's packet as trigger) handed to the one command path.
void Core::knock_hit(const Hit& h) {
    if (!knocks_) return;
    knock_events_.clear();
    knocks_->on_hit(h, d_.clock->wall_s(), &knock_events_);
    bool spa = false;
    for (const auto& ev : knock_events_) spa |= ev.kind == KnockEvent::Spa;
    if (spa && d_.persist_replay) d_.persist_replay();  // the nonce is durable before anything else
    for (const auto& ev : knock_events_) {
        Target* t = find(ev.target);
        if (!t) {
            log::warn("knock {} from {}: target {} is not configured", ev.knock_name, ev.src.str(), ev.target);
            continue;
        }
        Event e = event(EventKind::Knock);
        e.detail = ev.kind == KnockEvent::Spa ? "authenticated" : "sequence";
        emit(*t, std::move(e), Reason::Knock, &h, {{"NETWAKED_KNOCK", ev.knock_name}});
        if (d_.command) d_.command({Action::Start, t->conf->name, Origin::Knock, ev.src.str(), &h});
    }
}

// Wake-on-WAN relay (SPEC §7.2): an accepted magic packet is a `wake` Command (origin relay): a
// FRESH burst with the target's own wol settings, never the received bytes. A rejected one is
// counted and logged.
void Core::relay_hit(const Hit& h) {
    std::string why;
    const std::string name = relay_->decide(h, h.t_ns, &why);
    Target* t = name.empty() ? nullptr : find(name);
    if (!t) {
        if (!why.empty()) log_reject(h.d.src, why, "wol_relay");
        return;
    }
    log::notice("{}: Wake-on-WAN relay: magic packet from {} accepted", name, h.d.src.str());
    if (d_.command) d_.command({Action::Wake, name, Origin::Relay, h.d.src.str(), &h});  // the relay's rate limits it
}

void Core::on_hit(const Hit& h) {
    if (h.kind == HitKind::Knock) {
        if (relay_ && relay_->wants(h)) relay_hit(h);
        knock_hit(h);
        arm_knocks();
        return;
    }
    if (h.kind != HitKind::Traffic || !h.target) return;  // proxy frames: proxy/
    Target* t = by_slot_.find(h.target);
    if (!t) {
        ++stale_hits_;  // target removed by a reload after the sensor classified the packet
        return;
    }
    match_hit(*t, &h, h.t_ns);
}

void Core::on_overflow() {
    const int64_t now = d_.clock->now_ns();
    for (auto& t : targets_) {
        uint32_t n = t->shared->overflow_hits.exchange(0);
        while (n-- > 0 && t->state == TargetState::Idle) match_hit(*t, nullptr, now);
    }
}

void Core::on_timer(KeyedTimers::Key key, int64_t now) {
    if (key.second == kKnock) {
        if (knocks_) knocks_->on_time(now);
        arm_knocks();
        return;
    }
    Target* tp = by_id_.find(key.first);
    if (!tp) return;
    Target& t = *tp;
    if (key.second == kTtl) on_ttl(t, now);
    else if (key.second == kWol) send_wol_copy(t);
}

bool Core::start(std::string_view name, Reason r, std::string* err, const Hit* cause) {
    Target* t = find(name);
    if (!t) {
        *err = fmt::format("no such target: {}", name);
        return false;
    }
    if (t->state == TargetState::Active) {
        keepalive(*t, cause ? cause->t_ns : d_.clock->now_ns());
        return true;
    }
    transition(*t, TargetState::Active, r, cause);
    return true;
}

bool Core::stop(std::string_view name, Reason r, std::string* err) {
    Target* t = find(name);
    if (!t) {
        *err = fmt::format("no such target: {}", name);
        return false;
    }
    transition(*t, TargetState::Idle, r, nullptr);
    return true;
}

void Core::stop_all(Reason r) {
    for (auto& t : targets_)
        if (t->state == TargetState::Active) transition(*t, TargetState::Idle, r, nullptr);
}

void Core::shutdown() {
    if (d_.stop_on_shutdown) stop_all(Reason::Shutdown);
    for (auto& t : targets_) {
        timers_.cancel({t->id, kTtl});
        timers_.cancel({t->id, kWol});
    }
}

bool Core::wake(std::string_view name, std::string* err, Reason r, const Hit* cause) {
    Target* t = find(name);
    if (!t) {
        *err = fmt::format("no such target: {}", name);
        return false;
    }
    if (!t->conf->wol) {
        *err = fmt::format("target {} has no wol section", name);
        return false;
    }
    t->wol_last_burst_ns = 0;  // an explicit request bypasses the cooldown
    begin_wake(*t, r, cause);
    return true;
}

void Core::begin_wake(Target& t, Reason r, const Hit* cause) {
    if (send_wake(t)) announce_wake(t, r, cause);
}

// Starts a burst (cooldown permitting) and sends its first copy; true if a magic packet went out.
bool Core::send_wake(Target& t) {
    const auto& w = *t.conf->wol;
    const int64_t now = d_.clock->now_ns();
    if (t.wol_last_burst_ns != 0 && now - t.wol_last_burst_ns < ns(w.cooldown)) {
        log::info("{}: wake suppressed (cooldown {} ms)", t.conf->name, w.cooldown.count());
        return false;
    }
    if (!d_.wol) {
        log::warn("{}: cannot send magic packets: no sender available", t.conf->name);
        return false;
    }
    t.wol_last_burst_ns = now;
    t.wol_left = std::max<uint32_t>(w.repeat, 1);
    if (!send_wol_copy(t)) {
        // Nothing went out (e.g. the interface is missing): no `wake` event, no count; later
        // copies of this burst are still tried on their timers.
        log::warn("{}: wake failed: no magic packet could be sent for {}", t.conf->name, packet::mac_str(w.mac));
        return false;
    }
    return true;
}

// The `wake` event of a burst send_wake() started: counters, hook, log line.
void Core::announce_wake(Target& t, Reason r, const Hit* cause) {
    const auto& w = *t.conf->wol;
    t.wol_attempt = d_.on_burst ? d_.on_burst(t.conf->name) : 1;  // from 1 within a wake cycle (SPEC §5)
    ++t.wakes;
    Event e = event(EventKind::Wake);
    e.attempt = t.wol_attempt;
    e.repeat = w.repeat;
    e.interval_ms = w.interval.count();
    emit(t, std::move(e), r, cause,
         {{"NETWAKED_MAC", packet::mac_str(w.mac)}, {"NETWAKED_ATTEMPT", std::to_string(t.wol_attempt)}});
}

// Sends one copy of the current burst; true if at least one magic packet went out.
bool Core::send_wol_copy(Target& t) {
    if (!t.conf->wol || t.wol_left == 0) return false;
    std::string desc, err;
    const bool ok = d_.wol->send(*t.conf->wol, &desc, &err);
    if (!ok) log::warn("{}: magic packet not sent: {}", t.conf->name, err);
    if (!desc.empty()) log::debug("{}: magic packet sent: {}", t.conf->name, desc);
    if (--t.wol_left > 0) timers_.arm({t.id, kWol}, d_.clock->now_ns() + ns(t.conf->wol->interval));
    return ok || !desc.empty();
}

void Core::emit(Target& t, Event e, Reason r, const Hit* cause, EventEnv extra) {
    if (!d_.events) return;
    const EventKind k = e.kind;
    e.subject = t.conf->name;
    e.reason = reason_name(r);
    e.origin = origin_;
    e.mono_ns = d_.clock->now_ns();
    e.wall_s = d_.clock->wall_s();
    if (k == EventKind::Stop && t.active_since_ns) e.in_state_ns = e.mono_ns - t.active_since_ns;
    if (cause) e.packet = packet::summarize(cause->d);
    if (t.conf->wol) e.mac = t.conf->wol->mac;
    e.hook = HookRef{t.conf->hook, t.conf->hook_shell, t.conf->hook_timeout};
    e.env.reserve(8 + extra.size());
    e.env.emplace_back("NETWAKED_EVENT", event_kind_name(k));
    e.env.emplace_back("NETWAKED_TARGET", t.conf->name);
    e.env.emplace_back("NETWAKED_REASON", e.reason);
    if (cause) packet_env(*cause, sensor_name(cause->sensor), &e.env);
    for (auto& x : extra) e.env.push_back(std::move(x));
    if (!origin_.empty()) e.env.emplace_back("NETWAKED_ORIGIN", origin_);
    d_.events->emit(std::move(e));
}

bool Core::emit_target_event(const Event& cycle, Reason r, EventEnv extra) {
    Target* t = find(cycle.subject);
    if (!t) return false;
    Event e = event(cycle.kind);
    e.attempt = cycle.attempt;
    e.in_state_ns = cycle.in_state_ns;
    e.detail = cycle.packet;  // how the machine answered
    emit(*t, std::move(e), r, nullptr, std::move(extra));
    return true;
}

void Core::on_hook_done(const HookResult& r) {
    Target* t = find(r.target);
    if (!t) return;
    ++t->hook_runs;
    t->last_exit = r.exit_code;
    t->has_last_exit = true;
}

std::vector<SavedTarget> Core::save() const {
    const int64_t now = d_.clock->now_ns();
    std::vector<SavedTarget> out;
    for (const auto& t : targets_) {
        SavedTarget s;
        s.name = t->conf->name;
        s.active = t->state == TargetState::Active;
        const int64_t ls = std::max(t->last_seen_ns, t->shared->last_seen_ns.load());
        s.idle_ms = ls ? (now - ls) / kMs : 0;
        s.active_for_ms = s.active ? (now - t->active_since_ns) / kMs : 0;
        s.stop_in_ms = s.active ? std::max<int64_t>(0, stop_deadline_ns(*t) - now) / kMs : 0;
        out.push_back(s);
    }
    return out;
}

void Core::restore(const std::vector<SavedTarget>& saved) {
    for (const auto& s : saved) {
        Target* t = find(s.name);
        if (t && s.active) transition(*t, TargetState::Active, Reason::Traffic, nullptr, &s);
    }
}

}  // namespace nw::core

// daemon/status_builder.cc — build_status (see status_builder.h): sensors and totals, targets with
// their stop deadline and wake verification, then every component's internals, in a fixed order.
#include "daemon/status_builder.h"

#include <algorithm>

namespace nw::daemon {

namespace {

void add_sensors(const StatusSources& in, control::Status* st) {
    for (const auto& s : in.sensors) {
        const sensor::Stats& x = *s.stats;
        control::SensorStatus ss;
        ss.name = s.name;
        ss.kind = s.kind;
        ss.packets = x.packets;
        ss.matched = x.matched;
        ss.drops = x.drops;
        ss.truncated = x.truncated;
        ss.malformed = x.malformed;
        ss.queue_full = x.queue_full;
        ss.up = x.up;
        st->counters.malformed += ss.malformed;
        st->counters.truncated += ss.truncated;
        st->counters.dropped += ss.drops + ss.queue_full;
        st->sensors.push_back(ss);
    }
}

void add_wake(const StatusSources& in, const std::string& target, control::TargetStatus* ts) {
    if (!in.wake_view) return;
    const core::WakeView v = in.wake_view(target);
    if (v.state == core::WakeState::None) return;
    ts->wake = core::wake_state_name(v.state);
    ts->wake_attempt = v.attempt;
    if (v.state == core::WakeState::Awake) ts->wake_s = double(v.wake_ns) / 1e9;
}

void add_targets(const StatusSources& in, control::Status* st) {
    const int64_t now = in.now_ns;
    for (const auto& t : in.core->targets()) {
        control::TargetStatus ts;
        ts.name = t->conf->name;
        ts.state = core::state_name(t->state);
        const int64_t ls = std::max(t->last_seen_ns, t->shared->last_seen_ns.load());
        if (ls > 0) ts.idle_s = double(now - ls) / 1e9;
        ts.ttl_s = double(t->conf->ttl.count()) / 1e3;
        if (t->state == core::TargetState::Active)
            ts.remaining_s = std::max(0.0, double(core::stop_deadline_ns(*t) - now) / 1e9);  // min_active too
        ts.hook_runs = t->hook_runs;
        if (t->has_last_exit) ts.last_exit = t->last_exit;
        ts.wakes = t->wakes;
        add_wake(in, t->conf->name, &ts);
        st->targets.push_back(ts);
    }
}

void add_rejected(const StatusSources& in, control::Status* st) {
    if (auto* k = in.core->knocks()) st->counters.rejected += k->stats().rejected();
    if (auto* r = in.core->relay()) {  // Wake-on-WAN relay (SPEC §7.2)
        const auto& x = r->stats();
        st->counters.rejected += x.rejected();
        st->relay = control::RelayStatus{x.accepted, x.not_magic, x.unknown_mac, x.bad_password, x.over_rate};
    }
    if (in.control) st->counters.rejected += in.control->bad_requests;
}

void add_knock_internals(const core::Core& core, const core::KnockStats& n, control::Status* st) {
    st->internals.push_back(
        {"knocks", {{"sequences_completed", n.sequences_completed}, {"sequences_evicted", n.sequences_evicted},
                    {"accepted", n.accepted}, {"bad_hmac", n.bad_hmac}, {"stale", n.stale}, {"future", n.future},
                    {"replay", n.replay}, {"malformed", n.malformed}, {"unknown_target", n.unknown_target},
                    {"truncated", n.truncated}, {"duplicates", n.duplicates}, {"replay_evicted", n.replay_evicted},
                    {"rejects_logged", core.knock_rejects_logged()}}});
}

// Every component's own counters (doc/status-json.md "internals").
void add_internals(const StatusSources& in, control::Status* st) {
    if (const auto* h = in.hooks)
        st->internals.push_back({"hooks", {{"spawned", h->spawned}, {"exec_failed", h->exec_failed},
                                           {"timed_out", h->timed_out}, {"coalesced", h->coalesced},
                                           {"dropped", h->dropped}, {"output_dropped", h->output_dropped}}});
    st->internals.push_back({"events", {{"emitted", in.events_emitted}}});
    st->internals.push_back({"commands", {{"done", in.commands_done}, {"failed", in.commands_failed}}});
    if (const auto* c = in.control)
        st->internals.push_back({"control", {{"accepted", c->accepted}, {"requests", c->requests},
                                             {"bad_requests", c->bad_requests}, {"busy", c->busy},
                                             {"timeouts", c->timeouts}, {"evicted", c->evicted},
                                             {"accept_errors", c->accept_errors}}});
    for (const auto& s : in.sensors)
        st->internals.push_back({"sensor " + s.name, {{"enobufs", s.stats->enobufs.load()},
                                                      {"reopens", s.stats->reopens.load()}}});
    if (auto* k = in.core->knocks()) add_knock_internals(*in.core, k->stats(), st);
    st->internals.push_back({"core", {{"stale_hits", in.core->stale_hits()}}});
    if (in.wake_counts)
        st->internals.push_back({"wake_verify", {{"probes", in.wake_counts->first}, {"signs_of_life", in.wake_counts->second}}});
}

}  // namespace

control::Status build_status(const StatusSources& in) {
    control::Status st;
    st.version = NETWAKED_VERSION;
    st.pid = in.pid;
    st.uptime_s = (in.now_ns - in.started_ns) / 1000000000;
    add_sensors(in, &st);
    add_rejected(in, &st);
    add_targets(in, &st);
    add_internals(in, &st);
    if (in.proxy) in.proxy(&st);
    st.mqtt = in.mqtt;
    return st;
}

}  // namespace nw::daemon

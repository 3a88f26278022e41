// daemon/runtime_status.cc — Runtime's status (netwakectl status, SIGUSR1, metrics): sensors,
// targets (the stop deadline from core::stop_deadline_ns), totals and every component's internals.
#include <unistd.h>

#include <algorithm>

#include "daemon/config_dump.h"
#include "daemon/proxy_service.h"
#include "daemon/runtime.h"
#include "daemon/wake_service.h"
#include "sys/log.h"

namespace nw::daemon {

control::Status Runtime::status() const {
    control::Status st;
    st.version = NETWAKED_VERSION;
    st.pid = getpid();
    const int64_t now = clock_.now_ns();
    st.uptime_s = (now - started_ns_) / 1000000000;
    for (const auto& s : sensors_) {
        control::SensorStatus ss;
        auto& x = const_cast<sensor::Sensor&>(*s).stats();
        ss.name = s->name();
        ss.kind = s->kind();
        ss.packets = x.packets;
        ss.matched = x.matched;
        ss.drops = x.drops;
        ss.truncated = x.truncated;
        ss.malformed = x.malformed;
        ss.queue_full = x.queue_full;
        ss.up = x.up;
        st.counters.malformed += ss.malformed;
        st.counters.truncated += ss.truncated;
        st.counters.dropped += ss.drops + ss.queue_full;
        st.sensors.push_back(ss);
    }
    if (auto* k = core_->knocks()) st.counters.rejected += k->stats().rejected();
    if (auto* r = core_->relay()) {  // Wake-on-WAN relay (SPEC §7.2)
        const auto& x = r->stats();
        st.counters.rejected += x.rejected();
        st.relay = control::RelayStatus{x.accepted, x.not_magic, x.unknown_mac, x.bad_password, x.over_rate};
    }
    if (control_) st.counters.rejected += control_->stats().bad_requests;
    for (const auto& t : core_->targets()) {
        control::TargetStatus ts;
        ts.name = t->conf->name;
        ts.state = core::state_name(t->state);
        const int64_t ls = std::max(t->last_seen_ns, t->shared->last_seen_ns.load());
        if (ls > 0) ts.idle_s = double(now - ls) / 1e9;
        ts.ttl_s = double(t->conf->ttl.count()) / 1e3;
        if (t->state == core::TargetState::Active)
            ts.remaining_s = std::max(0.0, double(core::stop_deadline_ns(*t) - now) / 1e9);
        ts.hook_runs = t->hook_runs;
        if (t->has_last_exit) ts.last_exit = t->last_exit;
        ts.wakes = t->wakes;
        wake_status(t->conf->name, &ts);  // wake verification (runtime_wake.cc)
        st.targets.push_back(ts);
    }
    add_internals(&st);
    if (proxy_) proxy_->fill_status(&st);
    if (mqtt_) st.mqtt = mqtt_status();
    return st;
}

// Every component's own counters (doc/status-json.md "internals").
void Runtime::add_internals(control::Status* st) const {
    const auto& h = hooks_->stats();
    st->internals.push_back({"hooks", {{"spawned", h.spawned}, {"exec_failed", h.exec_failed}, {"timed_out", h.timed_out},
                                       {"coalesced", h.coalesced}, {"dropped", h.dropped},
                                       {"output_dropped", h.output_dropped}}});
    st->internals.push_back({"events", {{"emitted", events_.emitted()}}});
    st->internals.push_back({"commands", {{"done", commands_->done()}, {"failed", commands_->failed()}}});
    if (control_) {
        const auto& c = control_->stats();
        st->internals.push_back({"control", {{"accepted", c.accepted}, {"requests", c.requests},
                                             {"bad_requests", c.bad_requests}, {"busy", c.busy},
                                             {"timeouts", c.timeouts}, {"evicted", c.evicted}}});
    }
    for (const auto& s : sensors_) {
        auto& x = const_cast<sensor::Sensor&>(*s).stats();
        st->internals.push_back({"sensor " + s->name(), {{"enobufs", x.enobufs.load()}, {"reopens", x.reopens.load()}}});
    }
    if (auto* k = core_->knocks()) {
        const auto& n = k->stats();
        st->internals.push_back(
            {"knocks", {{"sequences_completed", n.sequences_completed}, {"sequences_evicted", n.sequences_evicted},
                        {"accepted", n.accepted}, {"bad_hmac", n.bad_hmac}, {"stale", n.stale}, {"future", n.future},
                        {"replay", n.replay}, {"malformed", n.malformed}, {"unknown_target", n.unknown_target},
                        {"truncated", n.truncated}, {"duplicates", n.duplicates}, {"replay_evicted", n.replay_evicted},
                        {"rejects_logged", core_->knock_rejects_logged()}}});
    }
    st->internals.push_back({"core", {{"stale_hits", core_->stale_hits()}}});
    if (wake_) {
        const auto& w = wake_->stats();
        st->internals.push_back({"wake_verify", {{"probes", w.probes}, {"signs_of_life", w.signs}}});
    }
}

void Runtime::dump_status() {
    log::notice("status (SIGUSR1): configuration {}", cfg_->source);
    for (const std::string& l : config_lines(*cfg_)) log::notice("{}", l);
    const std::string text = control::render_status_text(status());
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        if (nl > pos) log::notice("status: {}", std::string_view(text).substr(pos, nl - pos));
        pos = nl + 1;
    }
}

}  // namespace nw::daemon

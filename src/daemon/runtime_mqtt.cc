// daemon/runtime_mqtt.cc — the event sinks' wiring, and the MQTT bridge in the Runtime (SPEC §16):
// the event sink (every target and proxied-machine event -> bridge), the command source (bridge ->
// the one command path, daemon/commands.h), the shared replay cache (KnockEngine::claim_nonce, kept
// by daemon/state_store.h) and the metrics textfile (SPEC §17).
#include <sys/epoll.h>

#include <sys/stat.h>

#include "bridge/bridge.h"
#include "bridge/metrics.h"
#include "state/statefile.h"
#include "daemon/runtime.h"
#include "daemon/wake_service.h"
#include "packet/parse.h"
#include "sys/log.h"

namespace nw::daemon {

// A bridge whose client thread is stuck in the library (a connect to a black hole) must outlive
// the Runtime: the thread still uses it when the connect returns. Kept reachable, never freed.
void keep_stuck(std::unique_ptr<bridge::Bridge> b) {
    static auto* stuck = new std::vector<std::unique_ptr<bridge::Bridge>>;
    log::warn("mqtt: the old connection's thread is stuck connecting to {}: left to finish on its own", b->conf().broker);
    stuck->push_back(std::move(b));
}

bool Runtime::open_mqtt(std::string* err) {
    mqtt_ = make_bridge(*cfg_->mqtt, err);
    return mqtt_ != nullptr;
}

std::unique_ptr<bridge::Bridge> Runtime::make_bridge(const config::MqttConf& conf, std::string* err) {
    bridge::BridgeDeps d;
    d.execute = [this](bridge::Action a, const std::string& target, std::string* e) {
        const core::Action act = a == bridge::Action::Wake    ? core::Action::Wake
                                 : a == bridge::Action::Start ? core::Action::Start
                                                              : core::Action::Stop;
        const core::CommandResult r = commands_->run({act, target, core::Origin::Mqtt, ""});  // netwakectl's path
        if (!r.ok) *e = r.message;
        return r.ok;
    };
    d.claim_nonce = [this](const std::array<uint8_t, bridge::kNonceLen>& n, int64_t expires) {
        auto* k = core_ ? core_->knocks() : nullptr;
        if (!k || !k->claim_nonce(n, expires, clock_.now_ns(), clock_.wall_s())) return false;
        core_->knocks_changed();
        state_->persist_replay();  // the nonce is durable before the command is acted on (as for SPA)
        return true;
    };
    d.wall_s = [this] { return clock_.wall_s(); };
    d.now_ns = [this] { return clock_.now_ns(); };
    return bridge::Bridge::open(conf, std::move(d), err);
}

bool Runtime::start_mqtt(std::string* err) {
    mqtt_targets();
    if (!mqtt_->start(err)) return false;
    loop_.add(mqtt_->fd(), EPOLLIN, [this](uint32_t) { mqtt_->on_readable(); });
    return true;
}

namespace {
bridge::StateView view_of(const core::Target& t, int64_t since_wall_s, const std::string& last_event,
                          const std::string& reason) {
    bridge::StateView v;
    v.target = t.conf->name;
    v.state = core::state_name(t.state);
    v.since_wall_s = since_wall_s;
    v.last_event = last_event;
    v.reason = reason;
    v.wol = t.conf->wol.has_value();
    if (t.conf->wol) v.mac = packet::mac_str(t.conf->wol->mac);
    if (t.conf->sleep_proxy)
        for (const auto& a : t.conf->sleep_proxy->addresses) v.addresses.push_back(a.addr.str());
    return v;
}
}  // namespace

// A target's retained state (SPEC §16): idle/active, or its wake verification's state
// (waking/awake/wake_failed) while the last event is one of the wake cycle's.
bridge::StateView Runtime::mqtt_view(const core::Target& t, const MqttSeen& s) const {
    bridge::StateView v = view_of(t, s.since_wall_s, s.last_event, s.reason);
    if (wake_ && (s.last_event == "wake" || s.last_event == "awake" || s.last_event == "wake_failed"))
        if (const auto w = wake_->view(t.conf->name); w.state != core::WakeState::None) v.state = core::wake_state_name(w.state);
    return v;
}

void Runtime::mqtt_targets() {
    std::vector<bridge::TargetInfo> v;
    for (const auto& t : core_->targets()) {
        MqttSeen& s = mqtt_seen_[t->conf->name];
        if (!s.since_wall_s) s.since_wall_s = clock_.wall_s();  // no event yet: in this state since now (§16: RFC 3339)
        v.push_back({mqtt_view(*t, s)});  // republished on each (re)connect: the wake state included
    }
    mqtt_->set_targets(v);
}

// A finished hook, for netwaked_hook_runs_total{target,event,result} (SPEC §17).
void Runtime::count_hook(const core::HookResult& r) {
    const char* result = r.timed_out ? "timeout" : r.exit_code == 0 ? "ok" : "failed";
    ++hook_results_[r.target][{r.event, result}];
}

// The event sinks, in delivery order: hooks (per-target serial), the log line, counters (metrics),
// state file (a target started or stopped), MQTT publisher. A new output is one more sink here.
void Runtime::wire_events() {
    hook_sink_ = std::make_unique<core::HookSink>(hooks_.get());
    log_sink_ = std::make_unique<core::LogSink>();
    state_sink_ = std::make_unique<core::FnSink>("state", [this](const core::Event& e) {
        if (e.subject_kind == core::SubjectKind::Target && (e.kind == core::EventKind::Start || e.kind == core::EventKind::Stop))
            state_->mark_dirty();
    });
    events_.add(hook_sink_.get());
    events_.add(log_sink_.get());
    events_.add(&event_counts_);
    events_.add(state_sink_.get());
    // Always wired: a reload may add the mqtt section (mqtt_event does nothing without it).
    mqtt_sink_ = std::make_unique<core::FnSink>("mqtt", [this](const core::Event& e) { mqtt_event(e); });
    events_.add(mqtt_sink_.get());
}

void Runtime::mqtt_event(const core::Event& e) {
    if (!mqtt_) return;
    const bridge::Env& env = e.env;  // NETWAKED_ORIGIN included (Core::set_origin)
    const char* name = core::event_kind_name(e.kind);
    MqttSeen& s = mqtt_seen_[e.subject];
    s.since_wall_s = e.wall_s;
    s.last_event = name;
    s.reason = e.reason;
    const core::Target* t = core_ ? core_->find(e.subject) : nullptr;
    bridge::StateView v;
    if (t) v = mqtt_view(*t, s);
    mqtt_->on_event(name, e.subject, env, t ? &v : nullptr);
}

// Reload, before anything is applied: the new section's bridge with its secret files read now
// (*next stays null when nothing changed). False (the reload is refused) when a file cannot be read.
bool Runtime::mqtt_prepare(const config::Config& next_cfg, std::unique_ptr<bridge::Bridge>* next, std::string* err) {
    if (next_cfg.mqtt) {
        *next = make_bridge(*next_cfg.mqtt, err);
        if (!*next) return false;
    }
    if (mqtt_ ? !mqtt_->differs(next->get()) : *next == nullptr) next->reset();  // unchanged: keep the connection
    return true;
}

// After a reload (SPEC §3, §16). Unchanged section: added targets get their state and discovery,
// removed ones are cleared. Changed (or removed) section: the old connection clears what the
// new one will not overwrite, says `offline` and disconnects cleanly (no will, no session
// takeover); then the new one connects with the new settings.
void Runtime::mqtt_reloaded(std::unique_ptr<bridge::Bridge> next) {
    const bool changed = next || (mqtt_ && !cfg_->mqtt);
    if (!changed) {
        if (mqtt_) mqtt_targets();
        return;
    }
    if (next) {
        std::swap(mqtt_, next);  // give the new bridge its targets first: retire() compares
        mqtt_targets();
        std::swap(mqtt_, next);
    }
    if (mqtt_) {
        log::notice("mqtt: the mqtt section {}: disconnecting from {}", next ? "changed" : "was removed",
                    mqtt_->conf().broker);
        mqtt_->retire(next.get());
        loop_.remove(mqtt_->fd());
        if (!mqtt_->stop()) keep_stuck(std::move(mqtt_));
    }
    mqtt_ = std::move(next);
    std::string err;
    if (mqtt_ && !mqtt_->start(&err)) {
        log::error("mqtt: {}", err);
        mqtt_.reset();
        return;
    }
    if (mqtt_) loop_.add(mqtt_->fd(), EPOLLIN, [this](uint32_t) { mqtt_->on_readable(); });
}

void Runtime::metrics_tick() {
    const int64_t now = clock_.now_ns();
    if (now < metrics_next_ns_) {  // written less than a second ago: look again then (run() does)
        timers_.arm_at(this, kMetricsTimer, metrics_next_ns_, [](int64_t) {});
        return;
    }
    const control::Status st = status();
    bridge::MetricsSnapshot m;
    for (const auto& t : st.targets)
        m.targets.push_back({t.name, t.state, event_counts_.of(t.name), hook_results_[t.name], t.wakes, -1});
    for (const auto& s : st.sensors) m.sensors.push_back({s.name, s.packets, s.drops + s.queue_full});
    if (auto* k = core_->knocks()) m.rejected["spa"] = k->stats().rejected();
    if (auto* r = core_->relay()) m.rejected["relay"] = r->stats().rejected();  // SPEC §17
    m.rejected["malformed"] = st.counters.malformed;
    if (mqtt_) m.rejected["mqtt"] = mqtt_->commands_refused();
    if (control_) m.rejected["control"] = control_->stats().bad_requests;
    m.counters = {{"truncated", st.counters.truncated}, {"dropped", st.counters.dropped}};
    std::string text = bridge::render_metrics(m);
    if (text == metrics_last_) return;
    metrics_next_ns_ = now + 1'000'000'000;
    metrics_last_ = std::move(text);
    if (mqtt_ && mqtt_->conf().metrics) mqtt_->publish_metrics(metrics_last_);
    if (!cfg_->metrics) return;
    const std::string& path = cfg_->metrics->textfile;
    const size_t slash = path.rfind('/');
    std::string err;
    if (!state::write_file_atomic(path.substr(0, slash), path.substr(slash + 1), metrics_last_, &err))
        log::warn("metrics: cannot write {}: {}", path, err);
    else
        ::chmod(path.c_str(), 0644);  // node-exporter runs as another user
}

control::MqttStatus Runtime::mqtt_status() const {
    const auto& s = mqtt_->client_stats();
    control::MqttStatus m;
    m.broker = mqtt_->conf().broker;
    m.client_id = mqtt_->conf().client_id;
    m.topic = mqtt_->conf().topic;
    m.connected = s.connected.load();
    m.connects = s.connects.load();
    m.published = s.published.load();
    m.accepted = mqtt_->commands_accepted();
    m.refused = mqtt_->commands_refused();
    m.queue_drops = s.queue_drops.load();
    return m;
}

}  // namespace nw::daemon

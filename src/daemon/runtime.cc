// daemon/runtime.cc — implementation of Runtime (see runtime.h; status in runtime_status.cc, event
// sinks and MQTT in runtime_mqtt.cc, wake verification in runtime_wake.cc): opening and starting
// the components in order, the hit drain, timer re-arming, the loop, shutdown and reload.
#include "daemon/runtime.h"

#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "action/spa_key.h"
#include "action/savefile.h"
#include "action/wol.h"
#include "bridge/bridge.h"
#include "config/load.h"
#include "daemon/libraries.h"
#include "daemon/proxy_service.h"
#include "daemon/sensor_set.h"
#include "daemon/wake_service.h"
#include "proxy/host.h"
#include "state/statefile.h"
#include "sys/log.h"
#include "sys/wallclock.h"

namespace nw::daemon {

Runtime::Runtime(core::Clock& clock) : clock_(clock) {}

void Runtime::adjust(config::Config& cfg) {
    // An SPA datagram can be up to 169 bytes of IPv6: make NFLOG copy enough of it.
    bool spa = !cfg.wol_relay.empty();  // the relay reads magic packets whole too (108 bytes + headers)
    for (const auto& k : cfg.knocks) spa |= k.spa.has_value();
    for (auto& s : cfg.sensors)
        if (spa && s.nflog && s.nflog->copy_range < 256) {
            log::debug("sensor {}: copy_range raised from {} to 256 for authenticated knocks", s.name,
                       s.nflog->copy_range);
            s.nflog->copy_range = 256;
        }
}

Runtime::~Runtime() {
    for (auto& s : sensors_) s->stop();
}

bool Runtime::open(std::shared_ptr<const config::Config> cfg, std::string* err) {
    cfg_ = std::move(cfg);
    if (!loop_.ok()) {
        *err = "cannot create the event loop (epoll/timerfd)";
        return false;
    }
    wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_fd_) {
        *err = log::errno_str("eventfd", errno);
        return false;
    }
    shared_.wake_fd = wake_fd_.get();
    if (!open_sensors(err) || !action::load_spa_keys(cfg_->knocks, &spa_keys_, err) || !open_outputs(err) ||
        !open_control(err))
        return false;
    if (cfg_->mqtt && !open_mqtt(err)) return false;  // MQTT bridge (SPEC §16): reads its secret files now
    state_ = std::make_unique<StateStore>(cfg_->daemon.state_dir, timers_, [] { return sys::wall_ms(); });
    state_->load();
    if (proxy_) proxy_->remember(state_->loaded());
    return true;
}

bool Runtime::open_sensors(std::string* err) {
    for (size_t i = 0; i < cfg_->sensors.size(); ++i) {
        const auto& sc = cfg_->sensors[i];
        auto s = sc.nflog ? sensor::make_nflog_sensor(sc, static_cast<uint16_t>(i), &shared_)
                          : sensor::make_pcap_sensor(sc, static_cast<uint16_t>(i), &shared_);
        if (!s->open(err)) return false;
        sensors_.push_back(std::move(s));
    }
    seen_queue_full_.assign(sensors_.size(), 0);
    return true;
}

bool Runtime::open_outputs(std::string* err) {
    if (!cfg_->savefile.empty()) {
        savefile_ = std::make_unique<action::Savefile>();
        shared_.full_frames = true;  // start packets are saved whole (SPEC §2.2)
        bool any_nflog = false;
        for (const auto& sc : cfg_->sensors) any_nflog |= sc.nflog.has_value();
        if (!savefile_->open(cfg_->savefile, any_nflog ? packet::LinkType::RawIp : packet::LinkType::Ethernet, err))
            return false;
    }
    wol_ = std::make_unique<action::WolSenderImpl>();
    for (const auto& t : cfg_->targets)
        if (t.wol && !wol_->prepare(*t.wol, err)) log::warn("{}: {}", t.name, *err);
    if (!proxy::ProxyService::needed(*cfg_)) return true;
    // The sleep proxy: sockets before privileges go.
    if (cfg_->reg && cfg_->reg->wol && !wol_->prepare(*cfg_->reg->wol, err)) log::warn("register: {}", *err);
    proxy_ = std::make_unique<proxy::ProxyService>(loop_, clock_, timers_);
    return proxy_->open(*cfg_, err);
}

bool Runtime::open_control(std::string* err) {
    if (cfg_->daemon.control_socket.empty()) return true;
    ControlDispatch::Deps d;
    d.command = [this](const core::Command& c) { return commands_->run(c); };
    d.status = [this] { return status(); };
    d.reload = [this](std::string* why) {
        CliOptions o;
        o.mode = CliOptions::Mode::ConfigFile;
        o.config_path = cfg_->source;
        return reload(o, why);
    };
    d.config_path = [this] { return cfg_->source; };
    dispatch_ = std::make_unique<ControlDispatch>(std::move(d));
    control_ = std::make_unique<control::Server>(loop_, timers_);
    control_->set_handler([this](const control::Request& r) { return dispatch_->handle(r); });
    return control_->open(cfg_->daemon.control_socket, err);
}

bool Runtime::install_rules(const config::Config& cfg, std::vector<std::shared_ptr<core::TargetShared>>* slots,
                            std::string* err) {
    // A kept target keeps its slot: the core still holds the running configuration's targets
    // (no map of its own here: issue 16, memory per target).
    slots->reserve(cfg.targets.size());
    for (const auto& t : cfg.targets) {
        const core::Target* kept = core_->find(t.name);
        slots->push_back(kept ? kept->shared : std::make_shared<core::TargetShared>(t.name));
    }
    auto rules = core::Ruleset::build(cfg, *slots, err);
    if (!rules) return false;
    std::unique_ptr<core::KnockPorts> kp;
    if (!cfg.knocks.empty() || !cfg.wol_relay.empty()) kp = std::make_unique<core::KnockPorts>(cfg.knocks, cfg.wol_relay);
    // Order matters (sensor.h): publish the new snapshot, then bump the epoch; free the old
    // one once every sensor has passed a batch boundary at the new epoch.
    const uint64_t epoch = shared_.rules_epoch.load() + 1;
    shared_.rules.store(rules.get());
    shared_.knocks.store(kp.get());
    shared_.rules_epoch.store(epoch);
    if (rules_ || knock_ports_) retired_.push_back(Retired{epoch, std::move(rules_), std::move(knock_ports_)});
    rules_ = std::move(rules);
    knock_ports_ = std::move(kp);
    return true;
}

bool Runtime::start(std::string* err) {
    started_ns_ = clock_.now_ns();
    hooks_ = std::make_unique<action::HookRunner>(loop_, timers_);

    wire_events();
    core::CoreDeps deps;
    deps.clock = &clock_;
    deps.timers = &timers_;
    deps.events = &events_;
    deps.wol = wol_.get();
    deps.stop_on_shutdown = cfg_->daemon.state_dir.empty();
    if (savefile_)
        deps.on_start_packet = [this](const core::Hit& h) {
            std::string e;
            if (!savefile_->write(h.linktype, core::frame_bytes(h), h.orig_len, &e))
                log::warn("savefile: {}", e);
        };
    deps.persist_replay = [this] { state_->persist_replay(); };
    deps.command = [this](const core::Command& c) { commands_->run(c); };  // knocks, the relay
    start_wake(&deps);  // wake verification (issue 14)
    core_ = std::make_unique<core::Core>(std::move(deps));
    hooks_->on_done = [this](const core::HookResult& r) {
        count_hook(r);  // metrics (runtime_mqtt.cc)
        core_->on_hook_done(r);
    };
    CommandHandler::Deps cd;
    cd.core = core_.get();
    if (proxy_) cd.forget = [this](const std::string& name, std::string* e) { return proxy_->forget(name, e); };
    commands_ = std::make_unique<CommandHandler>(std::move(cd));

    std::vector<std::shared_ptr<core::TargetShared>> slots;
    if (!install_rules(*cfg_, &slots, err)) return false;
    core_->configure(cfg_, std::move(slots));
    core_->set_knocks(make_knocks(*cfg_, std::move(spa_keys_)));
    if (!state_->saved_targets().empty()) core_->restore(state_->saved_targets());
    wake_->configure(*cfg_);
    wake_->resume(state_->loaded());
    std::vector<StateStore::Part> parts;
    if (proxy_) parts.push_back([this](state::PersistedState* ps) { proxy_->save(ps); });
    parts.push_back([this](state::PersistedState* ps) { wake_->save(ps); });
    state_->attach(core_.get(), std::move(parts));
    if (core_->knocks() && !state_->dir().empty()) state_->open_replay();
    if (proxy_) proxy_->start(*cfg_, &events_, wol_.get(), [this] { state_->mark_dirty(); });
    if (mqtt_ && !start_mqtt(err)) return false;

    loop_.add(wake_fd_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t v;
        while (::read(wake_fd_.get(), &v, sizeof v) > 0) {
        }
        drain();
    });
    loop_.on_timer([this] { timers_.run_due(); });  // every component's timeouts (doc/architecture.md)
    for (auto& s : sensors_) s->start();
    started_ = true;
    state_->schedule_refresh();
    rearm();
    ::malloc_trim(0);  // the configuration parser's tree is gone: give its heap back
    return true;
}

// Drains every sensor queue into the core; reclaims retired rulesets no sensor can still use.
void Runtime::drain() {
    core::Hit h;
    for (size_t i = 0; i < sensors_.size(); ++i) {
        auto& s = *sensors_[i];
        while (s.queue().pop(&h)) {
            core_->on_hit(h);
            core::release_full(h);
        }
        const uint64_t qf = s.stats().queue_full.load();
        if (qf != seen_queue_full_[i]) {
            seen_queue_full_[i] = qf;
            core_->on_overflow();
        }
    }
    if (!retired_.empty()) reclaim();
}

void Runtime::reclaim() {
    uint64_t min_epoch = UINT64_MAX;
    for (auto& s : sensors_) min_epoch = std::min(min_epoch, s->quiescent_epoch());
    // A sensor that has finished a batch at epoch E no longer holds pointers from older
    // rulesets; drain once more so no queued Hit refers to a slot we are about to free.
    bool any = false;
    for (auto& r : retired_) any |= r.epoch <= min_epoch;
    if (!any) return;
    core::Hit h;
    for (auto& s : sensors_)
        while (s->queue().pop(&h)) {
            core_->on_hit(h);
            core::release_full(h);
        }
    retired_.erase(std::remove_if(retired_.begin(), retired_.end(), [&](auto& r) { return r.epoch <= min_epoch; }),
                   retired_.end());
}

void Runtime::rearm() {
    if (!started_) return;
    const int64_t next = timers_.next_deadline_ns();  // the queue alone: nobody is polled
    loop_.arm_timer(next == core::TimerQueue::kNever ? 0 : next);
}

void Runtime::run() {
    while (!loop_.quitting()) {
        if (!loop_.run_once()) break;
        state_->save_if_dirty();
        state_->persist_replay();
        if (cfg_->metrics || (mqtt_ && mqtt_->conf().metrics)) metrics_tick();
        rearm();
    }
}

std::unique_ptr<core::KnockEngine> Runtime::make_knocks(const config::Config& cfg,
                                                        std::vector<std::vector<uint8_t>> keys) {
    if (cfg.knocks.empty() && !cfg.mqtt) return nullptr;  // MQTT signed commands share the replay cache
    auto e = std::make_unique<core::KnockEngine>(cfg.knocks, std::move(keys));
    if (knock_ports_) e->set_sources(knock_ports_->sources());  // install_rules() built it just before
    return e;
}

void Runtime::shutdown() {
    for (auto& s : sensors_) s->stop();
    if (started_) {
        drain();
        core_->shutdown();
        if (proxy_) proxy_->shutdown();  // stop answering for sleepers at once; nft table removed
        int64_t longest = 0;
        for (const auto& t : cfg_->targets) longest = std::max<int64_t>(longest, t.hook_timeout.count());
        const int64_t deadline = clock_.now_ns() + (longest + 6000) * 1000000;
        if (hooks_->pending() > 0) {
            log::notice("waiting for {} hook(s) to finish", hooks_->pending());
            rearm();
            if (!hooks_->run_until_idle(deadline)) {
                log::warn("hooks still running at exit: killing them");
                hooks_->kill_all();
            }
        }
        state_->save();
        state_->persist_replay();
    }
    if (mqtt_ && !mqtt_->stop()) keep_stuck(std::move(mqtt_));  // `offline`, disconnect (runtime_mqtt.cc)
    if (control_) control_->close();
}

// SIGUSR2 and `netwakectl reload`: parse and check everything first (load_next), then swap the
// sensors (daemon/sensor_set.h) and the rules, then apply the rest (apply). Any failure before the
// swap keeps the running configuration whole.
bool Runtime::reload(const CliOptions& opts, std::string* why) {
    if (opts.mode != CliOptions::Mode::ConfigFile) {
        *why = "nothing to reload in tuninetd mode";
        log::notice("SIGUSR2: {}", *why);
        return false;
    }
    config::Config next;
    std::vector<std::vector<uint8_t>> keys;
    std::unique_ptr<bridge::Bridge> next_mqtt;  // MQTT (runtime_mqtt.cc): a changed section's files are read now
    if (!load_next(opts, &next, &keys, &next_mqtt, why)) return false;
    // [reload: sensors] kept sensors keep their handle and number; see daemon/sensor_set.h.
    const SensorPlan plan = plan_sensors(cfg_->sensors, next.sensors);
    for (size_t i = 0; i < next.sensors.size(); ++i) next.sensors[i].id = plan.items[i].id;
    auto cfg = std::make_shared<const config::Config>(std::move(next));
    std::vector<std::shared_ptr<core::TargetShared>> slots;
    std::string err;
    SensorReload sensors(&sensors_, cfg_->sensors, &shared_, [this](sensor::Sensor& s) {
        core::Hit h;  // Hits it queued before it stopped: targets of the running rules (or stale)
        while (s.queue().pop(&h)) core_->on_hit(h), core::release_full(h);
    });
    if (plan.changes() && !sensors.prepare(plan, cfg->sensors, &err)) {
        log::error("reload of {} failed; keeping the running configuration: {}", opts.config_path, err);
        *why = err + "; keeping the running configuration";
        return false;
    }
    drain();
    if (!install_rules(*cfg, &slots, &err)) {
        log::error("reload failed: {}", err);
        *why = err;
        return false;  // `sensors` puts back what prepare() changed
    }
    if (plan.changes()) {
        sensors.commit();
        seen_queue_full_.clear();
        for (auto& s : sensors_) seen_queue_full_.push_back(s->stats().queue_full.load());
    }
    // [/reload: sensors]
    apply(std::move(cfg), std::move(slots), std::move(keys), std::move(next_mqtt));
    log::notice("reloaded {}: {} target(s)", opts.config_path, cfg_->targets.size());
    return true;
}

bool Runtime::load_next(const CliOptions& opts, config::Config* next, std::vector<std::vector<uint8_t>>* keys,
                        std::unique_ptr<bridge::Bridge>* next_mqtt, std::string* why) {
    std::vector<std::string> errors;
    config::LoadOptions lo;
    lo.host_addrs = proxy::host_addresses;
    if (!config::load_file(opts.config_path, next, &errors, lo)) {
        log::error("reload of {} failed; keeping the running configuration:", opts.config_path);
        for (const auto& e : errors) log::error("{}", e);
        *why = fmt::format("{} error(s), keeping the running configuration; first: {}", errors.size(),
                           errors.empty() ? std::string("?") : errors.front());
        return false;
    }
    adjust(*next);
    if (!load_libraries(*next, why) ||  // daemon/libraries.h: before anything calls into them
        !action::load_spa_keys(next->knocks, keys, why) || !mqtt_prepare(*next, next_mqtt, why)) {
        log::error("reload of {} failed; keeping the running configuration: {}", opts.config_path, *why);
        return false;
    }
    return true;
}

// Reload, second half (the new sensors and rules are in place): the core, wake verification,
// knocks (their replay cache carried over), the sleep proxy and MQTT take the new configuration.
void Runtime::apply(std::shared_ptr<const config::Config> cfg, std::vector<std::shared_ptr<core::TargetShared>> slots,
                    std::vector<std::vector<uint8_t>> keys, std::unique_ptr<bridge::Bridge> next_mqtt) {
    std::string err;
    for (const auto& t : cfg->targets)
        if (t.wol && !wol_->prepare(*t.wol, &err)) log::warn("{}: {}", t.name, err);
    cfg_ = std::move(cfg);
    state_->set_dir(cfg_->daemon.state_dir);
    core_->configure(cfg_, std::move(slots));
    wake_->configure(*cfg_);
    state_->persist_replay();  // the old engine's last entries (if any) before it goes
    auto knocks = make_knocks(*cfg_, std::move(keys));
    if (knocks && core_->knocks())
        knocks->restore_replay(core_->knocks()->replay_entries(), clock_.now_ns(), clock_.wall_s());
    core_->set_knocks(std::move(knocks));
    if (proxy_) proxy_->reload(*cfg_);
    else if (proxy::ProxyService::needed(*cfg_)) log::error("reload: the sleep proxy needs a restart to start");
    mqtt_reloaded(std::move(next_mqtt));  // MQTT: targets republished/cleared; a changed section reconnects
    state_->mark_dirty();
    ::malloc_trim(0);
}

}  // namespace nw::daemon

// daemon/runtime.h — the wiring of the running daemon: it owns the loop, the sensors, the core and
// every component, connects them (events, commands, timers) and runs the loop and reload. Status
// (status_builder.h), the state directory (state_store.h), control requests (control_dispatch.h)
// and commands (commands.h) are owners of their own. Core thread only (sensors touch only queues).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "action/hooks.h"
#include "config/model.h"
#include "control/protocol.h"
#include "control/server.h"
#include "core/core.h"
#include "core/event_sinks.h"
#include "core/match.h"
#include "core/timer_queue.h"
#include "daemon/cli.h"
#include "daemon/commands.h"
#include "daemon/control_dispatch.h"
#include "daemon/state_store.h"
#include "sensor/sensor.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace nw::action {
class WolSenderImpl;
class Savefile;
}  // namespace nw::action
namespace nw::proxy {
class ProxyService;
}  // namespace nw::proxy
namespace nw::bridge {
class Bridge;
struct StateView;
}  // namespace nw::bridge

namespace nw::daemon {

class WakeService;
void keep_stuck(std::unique_ptr<bridge::Bridge> b);  // runtime_mqtt.cc: a bridge whose thread is stuck

class Runtime {
   public:
    explicit Runtime(core::Clock& clock);
    // Adjustments the daemon makes to any configuration before using it (start and reload):
    // NFLOG copy_range raised to 256 when authenticated knocks need the whole datagram.
    static void adjust(config::Config& cfg);
    ~Runtime();

    // Opens every sensor, the savefile, WoL sockets and the control socket, and loads the
    // state file. Before daemonizing and before any thread starts. False + *err on failure.
    bool open(std::shared_ptr<const config::Config> cfg, std::string* err);
    // Starts the sensor threads and installs the configuration in the core.
    bool start(std::string* err);
    // Runs the loop until quit().
    void run();
    // Clean exit (SPEC §6): stop sensors, let running hooks finish (up to their timeout),
    // write state.
    void shutdown();

    // Reloads the configuration file; on any error keeps the running one (every error logged).
    bool reload(const CliOptions& opts, std::string* why);
    void dump_status();
    control::Status status() const;

    sys::Loop& loop() { return loop_; }
    core::Core& core() { return *core_; }
    action::HookRunner& hooks() { return *hooks_; }
    const config::Config& config() const { return *cfg_; }

   private:
    bool open_sensors(std::string* err);
    bool open_outputs(std::string* err);  // savefile, WoL sockets, sleep proxy
    bool open_control(std::string* err);
    // Reload, first half: the new file parsed, adjusted and its key and MQTT files read, before
    // anything is applied. False + *why (logged) keeps the running configuration.
    bool load_next(const CliOptions& opts, config::Config* next, std::vector<std::vector<uint8_t>>* keys,
                   std::unique_ptr<bridge::Bridge>* next_mqtt, std::string* why);
    void apply(std::shared_ptr<const config::Config> cfg, std::vector<std::shared_ptr<core::TargetShared>> slots,
               std::vector<std::vector<uint8_t>> keys, std::unique_ptr<bridge::Bridge> next_mqtt);
    bool install_rules(const config::Config& cfg, std::vector<std::shared_ptr<core::TargetShared>>* slots,
                       std::string* err);
    void drain();
    void reclaim();
    void rearm();
    std::unique_ptr<core::KnockEngine> make_knocks(const config::Config& cfg, std::vector<std::vector<uint8_t>> keys);
    // MQTT bridge glue (daemon/runtime_mqtt.cc): open before privileges drop, start with the core.
    bool open_mqtt(std::string* err);
    std::unique_ptr<bridge::Bridge> make_bridge(const config::MqttConf& conf, std::string* err);
    bool mqtt_prepare(const config::Config& next_cfg, std::unique_ptr<bridge::Bridge>* next, std::string* err);
    bool start_mqtt(std::string* err);
    void wire_events();  // the sinks, in delivery order (runtime_mqtt.cc)
    void mqtt_event(const core::Event& e);
    void count_hook(const core::HookResult& r);
    void mqtt_targets();
    void mqtt_reloaded(std::unique_ptr<bridge::Bridge> next);
    control::MqttStatus mqtt_status() const;  // the bridge in status (SPEC §11, §16)
    void metrics_tick();
    // Wake verification glue (daemon/runtime_wake.cc): the service and its CoreDeps hook.
    void start_wake(core::CoreDeps* deps);

    core::Clock& clock_;
    sys::Loop loop_;
    core::TimerQueue timers_{clock_};               // the loop's one timer queue (before its users)
    enum : uint8_t { kMetricsTimer };                 // Runtime's own timeout on it
    std::shared_ptr<const config::Config> cfg_;
    sensor::Shared shared_;
    sys::unique_fd wake_fd_;
    std::vector<std::unique_ptr<sensor::Sensor>> sensors_;
    std::unique_ptr<core::Ruleset> rules_;
    std::unique_ptr<core::KnockPorts> knock_ports_;
    struct Retired {
        uint64_t epoch;
        std::unique_ptr<core::Ruleset> rules;
        std::unique_ptr<core::KnockPorts> knocks;
    };
    std::vector<Retired> retired_;
    std::vector<std::vector<uint8_t>> spa_keys_;   // loaded in open() (before dropping privileges)
    std::unique_ptr<StateStore> state_;            // state.json and the replay cache (open() on)
    std::unique_ptr<action::HookRunner> hooks_;
    core::EventBus events_;                        // every target and proxied-machine event
    std::unique_ptr<core::HookSink> hook_sink_;
    std::unique_ptr<core::LogSink> log_sink_;
    core::EventCounter event_counts_;              // per subject and event (metrics)
    std::unique_ptr<core::FnSink> state_sink_, mqtt_sink_;
    std::unique_ptr<action::WolSenderImpl> wol_;
    std::unique_ptr<action::Savefile> savefile_;
    std::unique_ptr<core::Core> core_;
    std::unique_ptr<CommandHandler> commands_;     // the one command path (daemon/commands.h)
    std::unique_ptr<ControlDispatch> dispatch_;    // netwakectl's requests
    std::unique_ptr<control::Server> control_;
    std::unique_ptr<proxy::ProxyService> proxy_;  // sleep proxy + registration (null if unused)
    std::unique_ptr<bridge::Bridge> mqtt_;        // MQTT bridge (null without an mqtt section)
    std::unique_ptr<WakeService> wake_;           // wake verification (SPEC §7.1, daemon/wake_service.h)
    struct MqttSeen {
        int64_t since_wall_s = 0;
        std::string last_event, reason;
    };
    std::map<std::string, MqttSeen> mqtt_seen_;  // per target: last event, for the retained state
    bridge::StateView mqtt_view(const core::Target& t, const MqttSeen& s) const;  // runtime_mqtt.cc
    std::map<std::string, std::map<std::pair<std::string, std::string>, uint64_t>> hook_results_;  // target -> (event, result) -> n
    std::string metrics_last_;                     // metrics textfile and <base>/metrics (SPEC §17)
    int64_t metrics_next_ns_ = 0;                  // on change, at most once a second
    std::vector<uint64_t> seen_queue_full_;
    int64_t started_ns_ = 0;
    bool started_ = false;
};

}  // namespace nw::daemon

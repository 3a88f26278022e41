// core/core.h — the core: every target's state, its timers, and the one transition function
// (SPEC §4). Runs on the core thread only; causes side effects solely through core/ports.h.
// Never blocks, never sleeps, never touches sockets or YAML.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/model.h"
#include "core/command.h"
#include "core/event.h"
#include "core/knock.h"
#include "core/relay.h"
#include "core/ports.h"
#include "core/shared.h"
#include "core/target_index.h"
#include "core/timer_queue.h"

namespace nw::core {

enum class TargetState : uint8_t { Idle, Active };
const char* state_name(TargetState s);

enum class Reason : uint8_t { Traffic, Ttl, Signal, Control, Knock, Shutdown, Registration, Probe };
const char* reason_name(Reason r);

// Runtime state of one target. Owned by the core; read by status and persistence.
struct Target {
    uint64_t id = 0;                       // stable across reloads (timer owner)
    const config::TargetConf* conf = nullptr;  // in the Config the core holds (no copy: issue 16)
    std::shared_ptr<TargetShared> shared;
    TargetState state = TargetState::Idle;
    int64_t active_since_ns = 0;
    int64_t last_seen_ns = 0;              // core's view; sensors update shared->last_seen_ns
    // Recent match hits while idle (bounded by trigger.packets); allocated only for a trigger of
    // more than one packet (an empty std::deque alone costs ~600 bytes; 10,000 targets: 6 MB).
    std::unique_ptr<std::deque<int64_t>> trigger_times;
    std::unique_ptr<Hit> trigger;          // the packet that caused the last start (null: none)
    uint64_t starts = 0, stops = 0;
    uint64_t hook_runs = 0;
    int last_exit = 0;
    bool has_last_exit = false;
    uint64_t wakes = 0;                    // magic-packet bursts sent
    // Wake-on-LAN burst in progress
    uint32_t wol_left = 0;                 // copies still to send in this burst
    int64_t wol_last_burst_ns = 0;         // start of the last burst (cooldown)
    uint32_t wol_attempt = 0;
};

// When an active target's `stop` is due: `ttl` after its last keepalive, and not before
// `min_active` after its start (SPEC §4). The one copy of this rule (timers, status, state file).
int64_t stop_deadline_ns(const Target& t);

// Dependencies of the core (all owned elsewhere; must outlive the core).
struct CoreDeps {
    Clock* clock = nullptr;
    TimerQueue* timers = nullptr;                    // the loop's one timer queue (required)
    EventBus* events = nullptr;                      // every event goes here (hooks, state, MQTT are sinks)
    WolSender* wol = nullptr;                        // null: wol sections are ignored (logged)
    std::function<void(const Hit&)> on_start_packet; // -w savefile; may be empty
    // An SPA datagram was accepted: make the replay cache durable now, before the knock is
    // acted on (events, hooks, state), so a crash cannot let it be replayed. May be empty.
    std::function<void()> persist_replay;
    bool stop_on_shutdown = false;                   // tuninetd mode: SIGTERM runs stop hooks
    // Wake verification (daemon/wake_service): a burst went out for this target; returns its
    // attempt number within the wake cycle (NETWAKED_ATTEMPT). Empty: every burst is attempt 1.
    std::function<uint32_t(const std::string& target)> on_burst;
    // The one command path (daemon::CommandHandler::run, set by the wiring): a completed knock
    // becomes a `start` Command (origin knock), an accepted relay packet a `wake` (origin relay),
    // each with its packet as cause. Empty: they only emit their event / log line.
    std::function<void(const Command&)> command;
};

// Persisted form of a target's state (times relative to "now" so they survive a reboot's
// monotonic reset; the state file stores them as wall-clock times).
struct SavedTarget {
    std::string name;
    bool active = false;
    int64_t idle_ms = 0;          // since the last keepalive packet
    int64_t active_for_ms = 0;    // since start
    int64_t stop_in_ms = 0;       // until `stop` is due (active targets; stop_deadline_ns)
};

class Core {
   public:
    explicit Core(CoreDeps deps);

    // Installs a configuration: first time or reload. slots[i] belongs to cfg->targets[i].
    // Targets whose name persists keep their state (active/idle, last seen, counters); removed
    // targets that were active get their `stop` (reason shutdown).
    void configure(std::shared_ptr<const config::Config> cfg,
                   std::vector<std::shared_ptr<TargetShared>> slots);

    void on_hit(const Hit& h);
    // A sensor queue overflowed: collect TargetShared::overflow_hits as match hits at now.
    void on_overflow();
    // Timers (TTL, WoL repeats, knock expiry) live on deps.timers: nobody polls the core.
    // The knock engine's replay cache changed outside the core (MQTT nonce, restore): re-arm.
    void knocks_changed() { arm_knocks(); }

    // Knocks (SPEC §10): the engine for the current configuration (null: no knocks). The
    // runtime loads SPA keys and persists the replay cache; the core feeds it Knock hits.
    void set_knocks(std::unique_ptr<KnockEngine> k);
    KnockEngine* knocks() { return knocks_.get(); }
    uint64_t knock_rejects_logged() const { return rejects_logged_; }

    // `cause`: the packet behind the request (a knock's, a relayed magic packet), or null.
    bool start(std::string_view name, Reason r, std::string* err, const Hit* cause = nullptr);
    bool stop(std::string_view name, Reason r, std::string* err);
    bool wake(std::string_view name, std::string* err, Reason r = Reason::Control, const Hit* cause = nullptr);
    void stop_all(Reason r);
    // SIGTERM: stop everything in tuninetd mode (deps.stop_on_shutdown), cancel timers.
    void shutdown();

    void on_hook_done(const HookResult& r);

    std::vector<SavedTarget> save() const;
    void restore(const std::vector<SavedTarget>& saved);

    const std::vector<std::unique_ptr<Target>>& targets() const { return targets_; }
    const config::Config& config() const { return *cfg_; }
    std::shared_ptr<const config::Config> config_ptr() const { return cfg_; }
    Target* find(std::string_view name);

    // Counters for status.
    uint64_t stale_hits() const { return stale_hits_; }
    const RelayEngine* relay() const { return relay_.get(); }  // null without wol_relay

    // The command source whose request is being carried out ("control", "mqtt", "relay"; "" for
    // none): hooks of the events it causes get NETWAKED_ORIGIN (SPEC §5). Set around one command.
    void set_origin(std::string_view origin) { origin_ = origin; }

    // An event about a target decided outside the core's own transitions (wake verification's
    // Awake, WakeFailed: `cycle` gives subject, kind, attempt, time and how it answered): emitted
    // like the core's own. False if no such target.
    bool emit_target_event(const Event& cycle, Reason r, EventEnv extra = {});

   private:
    enum TimerKind : uint8_t { kTtl = 0, kWol = 1, kKnock = 2 };  // kKnock: id 0 (targets start at 1)

    void on_timer(KeyedTimers::Key key, int64_t now);
    void arm_knocks();
    // The one transition function. `restored`: entering Active from the state file (times from
    // it; no magic packets, no event, no hook: the start happened before the restart).
    void transition(Target& t, TargetState to, Reason r, const Hit* cause, const SavedTarget* restored = nullptr);
    void keep_trigger(Target& t, const Hit* cause);
    void arm_ttl(Target& t);
    void keepalive(Target& t, int64_t t_ns);  // a keepalive packet (or request) for an active target
    void on_ttl(Target& t, int64_t now);
    void begin_wake(Target& t, Reason r, const Hit* cause);
    bool send_wake(Target& t);
    void announce_wake(Target& t, Reason r, const Hit* cause);
    bool send_wol_copy(Target& t);
    // The one way an event leaves the core: `e` (kind and what its log line needs) gets the SPEC
    // §4/§5 fields and the target's hook.
    void emit(Target& t, Event e, Reason r, const Hit* cause, EventEnv extra = {});
    void match_hit(Target& t, const Hit* h, int64_t t_ns);
    void knock_hit(const Hit& h);
    void relay_hit(const Hit& h);
    void log_reject(const packet::Addr& src, std::string_view why, const char* what = "knock");
    std::string sensor_name(uint16_t idx) const;

    CoreDeps d_;
    std::shared_ptr<const config::Config> cfg_;
    std::vector<std::unique_ptr<Target>> targets_;
    TargetIndex<const TargetShared*> by_slot_;
    TargetIndex<uint64_t> by_id_;
    TargetIndex<std::string_view> by_name_;  // views of conf->name (in cfg_)
    KeyedTimers timers_;
    uint64_t next_id_ = 1;
    uint64_t stale_hits_ = 0;
    std::unique_ptr<KnockEngine> knocks_;
    std::unique_ptr<RelayEngine> relay_;   // Wake-on-WAN relay (SPEC §7.2)
    std::vector<KnockEvent> knock_events_;
    // Rejection logging is rate-limited (SPEC §10 "logged" vs §12 "not one by one"):
    // at most kRejectBurst lines per second, then one summary line.
    static constexpr int kRejectBurst = 10;
    int64_t reject_window_ns_ = 0;
    int rejects_in_window_ = 0;
    uint64_t rejects_suppressed_ = 0, rejects_logged_ = 0;
    std::string origin_;
};

// Hook environment for a packet (NETWAKED_SENSOR, _PROTO, _SRC, _DST, ports, MAC, iface, prefix).
void packet_env(const Hit& h, const std::string& sensor,
                std::vector<std::pair<std::string, std::string>>* env);

}  // namespace nw::core

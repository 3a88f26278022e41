// core/wake_cycle.h — the wake cycle of SPEC §7.1 for every target with `wol`: waking -> awake |
// next burst | wake_failed. Pure state machine: time through core::Clock and core::TimerQueue,
// output as core::Event records through `emit`, side effects through WakeEffects. Core thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/timer_queue.h"

namespace nw::core {

enum class WakeState : uint8_t { None, Waking, Awake, Failed };
const char* wake_state_name(WakeState s);  // "none", "waking", "awake", "wake_failed"
// NETWAKED_WAKE_SECONDS of an awake event: "2.314" (three decimals).
std::string wake_seconds(int64_t ns);

// One target's verification settings (config wol.verify, in ns).
struct WakeParams {
    uint32_t attempts = 3;                       // bursts in total before wake_failed
    int64_t timeout_ns = 60'000'000'000;         // per burst: no sign of life -> next burst
    int64_t grace_ns = 30'000'000'000;           // once awake, a new wake within this is not a new cycle
    int64_t probe_interval_ns = 1'000'000'000;   // ARP / NS probes while waking
};

// What a wake cycle asks the world to do. The daemon implements it on the WoL sender and a packet
// socket; unit tests record the calls.
class WakeEffects {
   public:
    virtual ~WakeEffects() = default;
    // Sends a fresh burst of magic packets (the target's own wol settings, cooldown bypassed) for
    // attempt `attempt`; false if nothing went out.
    virtual bool send_burst(const std::string& target, uint32_t attempt) = 0;
    // Starts (true) or stops (false) listening for the target's signs of life.
    virtual void watch(const std::string& target, bool on) = 0;
    // Sends one ARP request / neighbor solicitation for the target's verify address (if any).
    virtual void probe(const std::string& target) = 0;
};

// A target's cycle as the status and the state file see it.
struct WakeView {
    WakeState state = WakeState::None;
    uint32_t attempt = 0;           // current (waking) or last attempt
    int64_t first_burst_ns = 0;     // first magic packet of the cycle
    int64_t since_ns = 0;           // entered `state`
    int64_t wake_ns = 0;            // awake: first burst -> first sign of life
};

class WakeCycle {
   public:
    using Emit = std::function<void(Event)>;
    WakeCycle(TimerQueue& q, WakeEffects& fx, Emit emit);
    ~WakeCycle();
    WakeCycle(const WakeCycle&) = delete;
    WakeCycle& operator=(const WakeCycle&) = delete;

    // A burst went out for `target` (start, netwakectl, MQTT, relay). Starts a cycle unless one
    // is running (then it belongs to it) or the machine woke less than `grace` ago. Returns the
    // attempt number for NETWAKED_ATTEMPT (1 for a new cycle).
    uint32_t burst_sent(const std::string& target, const WakeParams& p);
    // A sign of life from the target (a frame from its MAC, an ARP reply / NA for its address).
    // Ends a running cycle with `awake`; returns true if it did. `how` is logged in the event.
    bool alive(const std::string& target, const std::string& how);
    // Resumes a cycle saved while waking (restart): attempt `attempt`, first burst `elapsed_ns`
    // ago; the current attempt gets a full timeout from now.
    void resume(const std::string& target, const WakeParams& p, uint32_t attempt, int64_t elapsed_ns);
    // Drops a target's cycle (removed by a reload): timers cancelled, watching stopped.
    void forget(const std::string& target);
    // Keeps only these targets (reload).
    void retain(const std::vector<std::string>& names);

    WakeView view(const std::string& target) const;

   private:
    struct Cycle {
        WakeView v;
        WakeParams p;
        uint32_t id = 0;             // timer purpose base
    };
    enum Purpose : uint32_t { kTimeout = 0, kProbe = 1 };
    void start_waiting(const std::string& name, Cycle& c);
    void on_timeout(const std::string& name);
    void on_probe(const std::string& name);
    void stop_waiting(const std::string& name, Cycle& c);
    Event event(EventKind k, const std::string& name, const Cycle& c, const char* reason) const;

    TimerQueue& q_;
    WakeEffects& fx_;
    Emit emit_;
    std::map<std::string, Cycle> cycles_;
    uint32_t next_id_ = 1;
    TimerOwner owner_;
};

}  // namespace nw::core

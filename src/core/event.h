// core/event.h — the one Event record for everything that happens to a target or a proxied
// machine, and the ordered fan-out to EventSinks (hooks, log line, state file, counters, MQTT, metrics).
// Core thread only. core::Core and proxy::SleepProxy emit from their transition functions only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "packet/decode.h"

namespace nw::core {

// The event names of SPEC §4/§5 (NETWAKED_EVENT, the MQTT `event` topic).
enum class EventKind : uint8_t {
    Start,       // a target went idle -> active
    Stop,        // a target went active -> idle
    Wake,        // magic packets went out (attempt = burst number within the wake cycle, from 1)
    Awake,       // after a wake the machine showed a sign of life; a proxied machine is back
    WakeFailed,  // no sign of life after every attempt (SPEC §7.1)
    Asleep,      // a proxied machine fell silent: the proxy holds its addresses
    Lost,        // a proxied machine never answered (or outlived its registration's shutdown_timeout)
    Knock,       // a knock sequence or an authenticated knock completed
    Waking,      // internal to core::WakeCycle (a cycle began); never emitted on the bus, no hook
};
const char* event_kind_name(EventKind k);  // "start", "stop", "wake", "awake", "wake_failed", ...

enum class SubjectKind : uint8_t { Target, Machine };

// How the subject's hook runs (copied from its configuration; empty path: no hook).
struct HookRef {
    std::string path;
    std::string shell;
    std::chrono::milliseconds timeout{60000};
};

using EventEnv = std::vector<std::pair<std::string, std::string>>;

struct Event {
    EventKind kind = EventKind::Start;
    SubjectKind subject_kind = SubjectKind::Target;
    std::string subject;                 // target or proxied machine name
    const char* reason = "";             // static name: "traffic", "ttl", "control", "knock", ...
    std::string origin;                  // the command source: "control", "mqtt", "relay"; "" for none
    std::string packet;                  // one-line summary of the packet that caused it, or ""
    uint32_t attempt = 0;                // wake attempt number, 0 if not applicable
    std::optional<packet::Mac> mac;      // the machine's MAC when one is involved
    int64_t mono_ns = 0;                 // when (Clock::now_ns)
    int64_t wall_s = 0;                  // when, wall clock (logs, state file, payloads)
    int64_t in_state_ns = 0;             // time spent in the state just left (0 if none)
    EventEnv env;                        // the NETWAKED_* fields (SPEC §5), as hooks and MQTT get them
    HookRef hook;                        // the subject's hook
    // What the log line says besides the fields above (core/log_sink.h writes it):
    const char* from = "";               // a move: the state left and the state entered ("idle" ->
    const char* to = "";                 //   "active"; a machine's "asleep" -> "waking"); else ""
    std::string detail;                  // the cause in words (the proxy's why, how a machine answered,
                                         //   "sequence"/"authenticated"); no move: the whole line
    int64_t idle_ns = 0;                 // stop: since the last keepalive
    uint32_t repeat = 0, attempts = 0;   // wake: copies in the burst; attempts in all (0: not shown)
    int64_t interval_ms = 0;             // wake: between two copies
};

// One output of the event stream. on_event must not block (a slow output queues its own work).
class EventSink {
   public:
    virtual ~EventSink() = default;
    virtual const char* sink_name() const = 0;
    virtual void on_event(const Event& e) = 0;
};

// The ordered fan-out: every event reaches every sink, in registration order. An event emitted
// by a sink while another is being delivered is queued and delivered after it, to all sinks in
// the same order (no sink sees events out of order).
class EventBus {
   public:
    void add(EventSink* sink);             // appended: delivered after the earlier ones
    void emit(Event e);
    size_t sinks() const { return sinks_.size(); }
    uint64_t emitted() const { return emitted_; }

   private:
    std::vector<EventSink*> sinks_;
    std::vector<Event> pending_;
    bool delivering_ = false;
    uint64_t emitted_ = 0;
};

}  // namespace nw::core

// core/event.h — the one Event record for everything that happens to a target or a proxied
// machine, and the ordered fan-out to EventSinks (hooks, log, state file, status, MQTT, metrics).
// Core thread only. Not wired in yet: doc/architecture.md says how the machines will emit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "packet/decode.h"

namespace nw::core {

enum class EventKind : uint8_t {
    Active,      // a target went idle -> active (its start hook)
    Idle,        // a target went active -> idle (its stop hook)
    WakeSent,    // a magic packet went out (attempt = copy number of the burst, from 1)
    WakeFailed,  // a magic packet could not be sent
    Asleep,      // a proxied machine fell silent: the proxy holds its addresses
    Waking,      // traffic for a sleeping proxied machine: it is being woken
    Awake,       // a proxied machine answers again: its addresses are released
    Registered,  // a machine registered itself (or registered again)
    Forgotten,   // a proxied machine was removed (netwakectl forget, config reload)
    Knock,       // a valid knock sequence or SPA datagram for a target
    WakeGaveUp,  // a target's wake cycle ended without a sign of life (hook event wake_failed)
};
const char* event_kind_name(EventKind k);  // "active", "idle", "wake-sent", ...

enum class SubjectKind : uint8_t { Target, Machine };

struct Event {
    EventKind kind = EventKind::Active;
    SubjectKind subject_kind = SubjectKind::Target;
    std::string subject;                 // target or proxied machine name
    const char* reason = "";             // static name: "traffic", "ttl", "control", "knock", ...
    std::string origin;                  // who/what caused it: "10.0.0.5:51234", "netwakectl", ""
    std::string packet;                  // one-line summary of the packet that caused it, or ""
    uint32_t attempt = 0;                // WoL copy / wake attempt number, 0 if not applicable
    std::optional<packet::Mac> mac;      // the machine's MAC when one is involved
    int64_t mono_ns = 0;                 // when (Clock::now_ns)
    int64_t wall_s = 0;                  // when, wall clock (logs, state file, payloads)
    int64_t in_state_ns = 0;             // time spent in the state just left (0 if none)
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
    void remove(EventSink* sink);          // safe from inside on_event
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

// core/event_sinks.h — the sinks every daemon wires onto the EventBus: the hook runner (through
// core::HookSpawner, per-target serial), the log line (core/log_sink.h), per-subject event counters
// (status, metrics), and a function sink for small wiring outputs (state-file save, MQTT
// publisher). Core thread only.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "core/event.h"
#include "core/log_sink.h"
#include "core/ports.h"

namespace nw::core {

// Runs the subject's hook (if it has one) with the event's NETWAKED_* environment.
class HookSink : public EventSink {
   public:
    explicit HookSink(HookSpawner* hooks) : hooks_(hooks) {}
    const char* sink_name() const override { return "hooks"; }
    void on_event(const Event& e) override;

   private:
    HookSpawner* hooks_;
};

// Counts events per subject and kind name (metrics' netwaked_events_total).
class EventCounter : public EventSink {
   public:
    using Counts = std::map<std::string, uint64_t>;  // event name -> n
    const char* sink_name() const override { return "counters"; }
    void on_event(const Event& e) override { ++counts_[e.subject][event_kind_name(e.kind)]; }
    const Counts& of(const std::string& subject) { return counts_[subject]; }

   private:
    std::map<std::string, Counts> counts_;
};

// Any function as a sink: the wiring's small outputs.
class FnSink : public EventSink {
   public:
    FnSink(const char* name, std::function<void(const Event&)> fn) : name_(name), fn_(std::move(fn)) {}
    const char* sink_name() const override { return name_; }
    void on_event(const Event& e) override { fn_(e); }

   private:
    const char* name_;
    std::function<void(const Event&)> fn_;
};

}  // namespace nw::core

// core/event.cc — event kind names and the EventBus fan-out (see event.h).
#include "core/event.h"

#include <algorithm>
#include <utility>

namespace nw::core {

const char* event_kind_name(EventKind k) {
    switch (k) {
        case EventKind::Start: return "start";
        case EventKind::Stop: return "stop";
        case EventKind::Wake: return "wake";
        case EventKind::Awake: return "awake";
        case EventKind::WakeFailed: return "wake_failed";
        case EventKind::Asleep: return "asleep";
        case EventKind::Lost: return "lost";
        case EventKind::Knock: return "knock";
        case EventKind::Waking: return "waking";
    }
    return "?";
}

void EventBus::add(EventSink* sink) {
    if (sink && std::find(sinks_.begin(), sinks_.end(), sink) == sinks_.end()) sinks_.push_back(sink);
}

void EventBus::emit(Event e) {
    ++emitted_;
    pending_.push_back(std::move(e));
    if (delivering_) return;  // a sink emitted: delivered by the loop below, after the current one
    delivering_ = true;
    for (size_t i = 0; i < pending_.size(); ++i) {
        const Event ev = std::move(pending_[i]);  // a copy: pending_ may grow meanwhile
        const std::vector<EventSink*> snapshot = sinks_;  // a sink may add another meanwhile
        for (EventSink* s : snapshot) s->on_event(ev);
    }
    pending_.clear();
    delivering_ = false;
}

}  // namespace nw::core

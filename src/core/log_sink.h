// core/log_sink.h — the per-event log line: a sink on the EventBus that writes what happened to a
// target or a proxied machine (start, stop, wake, awake, knock, the proxy's moves). The machines'
// transition functions fill the Event; the wording and the level live here. Core thread only.
#pragma once

#include <string>
#include <vector>

#include "core/event.h"
#include "sys/log.h"

namespace nw::core {

struct LogLine {
    log::Level level = log::Level::Notice;
    std::string text;
};

// The lines an event is logged as, in order (none for an event with nothing to say).
std::vector<LogLine> event_lines(const Event& e);
// A proxied machine's move that has no event (a restored machine taken over quietly, lost -> up):
// the same line a move with an event gets.
std::string machine_move_line(const std::string& name, const char* from, const char* to, const char* reason,
                              const std::string& why);

class LogSink : public EventSink {
   public:
    const char* sink_name() const override { return "log"; }
    void on_event(const Event& e) override;
};

}  // namespace nw::core

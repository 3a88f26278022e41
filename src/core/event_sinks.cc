// core/event_sinks.cc — HookSink and EventCounter (see event_sinks.h).
#include "core/event_sinks.h"

namespace nw::core {

void HookSink::on_event(const Event& e) {
    if (e.hook.path.empty() || !hooks_) return;
    HookJob job;
    job.target = e.subject;
    job.path = e.hook.path;
    job.shell = e.hook.shell;
    job.event = event_kind_name(e.kind);
    job.timeout = e.hook.timeout;
    job.env = e.env;
    hooks_->submit(std::move(job));
}

}  // namespace nw::core

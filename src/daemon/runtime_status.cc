// daemon/runtime_status.cc — Runtime's status (netwakectl status, SIGUSR1, metrics): gathers what
// each component holds into StatusSources; daemon/status_builder.cc builds the document.
#include <unistd.h>

#include "daemon/config_dump.h"
#include "daemon/proxy_service.h"
#include "daemon/runtime.h"
#include "daemon/status_builder.h"
#include "daemon/wake_service.h"
#include "sys/log.h"

namespace nw::daemon {

control::Status Runtime::status() const {
    StatusSources in;
    in.now_ns = clock_.now_ns();
    in.started_ns = started_ns_;
    in.pid = getpid();
    for (const auto& s : sensors_) in.sensors.push_back({s->name(), s->kind(), &s->stats()});
    in.core = core_.get();
    in.hooks = &hooks_->stats();
    in.events_emitted = events_.emitted();
    in.commands_done = commands_->done();
    in.commands_failed = commands_->failed();
    if (control_) in.control = &control_->stats();
    if (wake_) {
        in.wake_view = [this](const std::string& t) { return wake_->view(t); };
        in.wake_counts = std::pair{wake_->stats().probes, wake_->stats().signs};
    }
    if (proxy_) in.proxy = [this](control::Status* st) { proxy_->fill_status(st); };
    if (mqtt_) in.mqtt = mqtt_status();
    return build_status(in);
}

void Runtime::dump_status() {
    log::notice("status (SIGUSR1): configuration {}", cfg_->source);
    for (const std::string& l : config_lines(*cfg_)) log::notice("{}", l);
    const std::string text = control::render_status_text(status());
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        if (nl > pos) log::notice("status: {}", std::string_view(text).substr(pos, nl - pos));
        pos = nl + 1;
    }
}

}  // namespace nw::daemon

// daemon/runtime_wake.cc — Runtime glue for wake verification (SPEC §7.1): the WakeService wired
// to the core (retry bursts through Core::wake, awake / wake_failed hooks).
#include "daemon/runtime.h"
#include "daemon/wake_service.h"

#include "sys/log.h"

namespace nw::daemon {

void Runtime::start_wake(core::CoreDeps* deps) {
    WakeService::Wiring w;
    w.send_burst = [this](const std::string& target) {
        std::string err;
        if (!core_->wake(target, &err, core::Reason::Probe)) log::warn("{}: {}", target, err);
        return err.empty();
    };
    w.on_event = [this](const core::Event& e, const config::WolConf& wol) {
        std::vector<std::pair<std::string, std::string>> env{{"NETWAKED_MAC", packet::mac_str(wol.mac)},
                                                             {"NETWAKED_ATTEMPT", std::to_string(e.attempt)}};
        const bool awake = e.kind == core::EventKind::Awake;
        if (awake)
            env.emplace_back("NETWAKED_WAKE_SECONDS", core::wake_seconds(e.in_state_ns));
        core_->emit_target_event(e, core::Reason::Probe, std::move(env));  // its line: core/log_sink
    };
    w.on_state_changed = [this] { state_->mark_dirty(); };
    wake_ = std::make_unique<WakeService>(loop_, clock_, timers_, std::move(w));
    deps->on_burst = [this](const std::string& target) { return wake_->burst_sent(target); };
}

}  // namespace nw::daemon

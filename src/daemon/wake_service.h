// daemon/wake_service.h — wake verification wired for the daemon (SPEC §7.1): the WakeCycle of
// every target with wol.verify on (timeouts on the loop's one queue), and packet sockets (proxy::PacketIo) on the
// wol interfaces of targets being woken — open only while something is waking, so an idle daemon
// sends no probes and gets no wake-ups. Core thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "config/model.h"
#include "core/event.h"
#include "core/ports.h"
#include "core/timer_queue.h"
#include "core/wake_cycle.h"
#include "state/statefile.h"
#include "sys/loop.h"

namespace nw::proxy {
class HostInfo;
class PacketIo;
}  // namespace nw::proxy

namespace nw::daemon {

class WakeService : public core::WakeEffects {
   public:
    struct Wiring {
        // A retry burst for `target` (the core sends it, cooldown bypassed, and emits `wake`).
        std::function<bool(const std::string& target)> send_burst;
        // awake / wake_failed: the core runs the hook (and the MQTT sink sees it).
        std::function<void(const core::Event& e, const config::WolConf& w)> on_event;
        std::function<void()> on_state_changed;     // persist
    };
    // `q`: the loop's one timer queue (daemon/runtime.h), which must outlive this.
    WakeService(sys::Loop& loop, core::Clock& clock, core::TimerQueue& q, Wiring w);
    ~WakeService() override;

    void configure(const config::Config& cfg);      // start and reload
    // Saved cycles to resume (restart while waking); call after configure().
    void resume(const state::PersistedState& ps);
    void save(state::PersistedState* ps) const;

    // A burst went out for `target` (Core, through CoreDeps::on_burst): its attempt number, 1
    // when the target has no verification.
    uint32_t burst_sent(const std::string& target);
    core::WakeView view(const std::string& target) const;

    struct Stats {
        uint64_t probes = 0, signs = 0;
    };
    const Stats& stats() const { return stats_; }

    // core::WakeEffects
    bool send_burst(const std::string& target, uint32_t attempt) override;
    void watch(const std::string& target, bool on) override;
    void probe(const std::string& target) override;

   private:
    void emit(core::Event e);
    void apply_watch();
    void on_frame(const std::string& ifname, std::span<const uint8_t> frame);

    sys::Loop& loop_;
    core::Clock& clock_;
    Wiring w_;
    core::TimerQueue& q_;
    std::unique_ptr<proxy::HostInfo> host_;
    std::unique_ptr<proxy::PacketIo> io_;
    std::map<std::string, config::WolConf> wol_;          // targets with verification
    std::map<std::string, core::WakeParams> params_;
    std::map<std::string, bool> watching_;
    Stats stats_;
    std::unique_ptr<core::WakeCycle> cycle_;               // last: destroyed first
};

}  // namespace nw::daemon

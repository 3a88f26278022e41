// daemon/proxy_service.h — ProxyService: the sleep proxy wired for the daemon (host view, packet
// sockets, nft table, SleepProxy from proxy/, registration server from control/; wiring, hence
// in daemon/; namespace nw::proxy kept) behind a few calls, so that daemon/runtime.cc only
// forwards lifecycle, timers, status, persistence and `forget`.
// Core thread only; never blocks except shutdown() (bounded removal of the nft table).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "control/protocol.h"
#include "core/event.h"
#include "core/ports.h"
#include "core/timer_queue.h"
#include "proxy/proxy.h"
#include "state/statefile.h"
#include "sys/loop.h"

namespace nw::control {
class RegisterServer;
struct Registration;
}  // namespace nw::control

namespace nw::proxy {

class HostInfo;
class PacketIo;
class NftFirewall;

class ProxyService {
   public:
    // Its parts (registration server, packet sockets, nft) arm their timeouts on `timers`.
    ProxyService(sys::Loop& loop, core::Clock& clock, core::TimerQueue& timers);
    ~ProxyService();

    // Does `cfg` use the sleep proxy (a target with sleep_proxy, or a register section)?
    static bool needed(const config::Config& cfg);

    // Before privileges are dropped: packet sockets, the registration listener, and nft (which
    // removes a table left by a crash). False + *err only for what cannot work at all.
    bool open(const config::Config& cfg, std::string* err);
    // Machines to resume from the state file (call before start()).
    void remember(const state::PersistedState& ps);
    // Once hooks and WoL exist: builds the proxy, installs the configuration, resumes.
    void start(const config::Config& cfg, core::EventBus* events, core::WolSender* wol,
               std::function<void()> on_state_changed);
    void reload(const config::Config& cfg);

    // Adds proxy state to config targets' status and registered machines as targets.
    void fill_status(control::Status* st) const;
    void save(state::PersistedState* ps) const;
    bool forget(const std::string& name, std::string* err);
    // Releases everything (announcing each machine's MAC), closes sockets, removes the table.
    void shutdown();

    SleepProxy* proxy() { return proxy_.get(); }

   private:
    std::string on_register(const control::Registration& r, const packet::Addr& peer);
    void log_refusal(const std::string& name, const packet::Addr& peer, const std::string& why);
    bool open_register(const config::Config& cfg, std::string* err);
    void on_host_changed();

    sys::Loop& loop_;
    core::Clock& clock_;
    core::TimerQueue& timers_;
    std::shared_ptr<const config::Config> cfg_;
    std::unique_ptr<HostInfo> host_;
    std::unique_ptr<PacketIo> io_;
    std::unique_ptr<NftFirewall> nft_;
    std::unique_ptr<SleepProxy> proxy_;
    std::unique_ptr<control::RegisterServer> reg_;
    std::vector<RestoredMachine> saved_;
    int64_t refusals_window_ns_ = 0;
    uint32_t refusals_logged_ = 0, refusals_hidden_ = 0;
};

}  // namespace nw::proxy

// daemon/state_store.h — the owner of daemon.state_dir (SPEC §4, §8, §10): state.json (targets'
// activity and stop deadline, plus what the sleep proxy and wake verification add) loaded once
// at start and saved atomically when dirty, refreshed while targets are active; and the SPA replay
// cache (replay.json + replay.log), durable before a knock is acted on. Core thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/core.h"
#include "core/timer_queue.h"
#include "state/statefile.h"

namespace nw::state {
class ReplayLog;
}

namespace nw::daemon {

class StateStore {
   public:
    // A part of the daemon that keeps records of its own in the state file (sleep proxy, wake
    // verification): adds them to the targets and registrations already filled in.
    using Part = std::function<void(state::PersistedState*)>;

    // `dir`: daemon.state_dir ("" keeps nothing). `wall_ms`: the wall clock (ms since the epoch).
    StateStore(std::string dir, core::TimerQueue& timers, std::function<int64_t()> wall_ms);
    ~StateStore();

    // Reads state.json (a bad file is set aside and logged). Before privileges drop.
    void load();
    const state::PersistedState& loaded() const { return loaded_; }
    // The loaded targets with times relative to the load (for Core::restore).
    const std::vector<core::SavedTarget>& saved_targets() const { return saved_; }

    // Once the core exists: what save() writes, and whose replay cache it keeps.
    void attach(core::Core* core, std::vector<Part> parts);
    void set_dir(const std::string& dir) { dir_ = dir; }  // reload
    const std::string& dir() const { return dir_; }

    void mark_dirty() { dirty_ = true; }
    void save_if_dirty() {
        if (dirty_) save();
    }
    // Writes state.json now (and re-arms the refresh); a failure is logged.
    void save();
    // While a target is active, looks every ttl/4 (at least kRefreshMinNs apart) whether a
    // last_seen moved, and saves if so; nothing is armed while every target is idle.
    void schedule_refresh();
    static constexpr int64_t kRefreshMinNs = 1'000'000'000;

    // The SPA replay cache: loads replay.json + replay.log into the core's knock engine (a torn
    // log tail is cut off) and compacts them. Called at start when knocks are configured.
    void open_replay();
    // Appends the engine's new entries (one fdatasync'd append each); compacts when due.
    void persist_replay();

   private:
    void refresh();
    int64_t seen_sum() const;
    void compact_replay();

    std::string dir_;
    core::TimerQueue& timers_;
    std::function<int64_t()> wall_ms_;
    core::Core* core_ = nullptr;
    std::vector<Part> parts_;
    state::PersistedState loaded_;
    std::vector<core::SavedTarget> saved_;
    std::unique_ptr<state::ReplayLog> replay_log_;  // null until needed
    bool replay_compact_ = false;                   // an append failed: compact at the next entry
    bool dirty_ = false;
    int64_t saved_seen_sum_ = 0;
    core::TimerOwner timer_owner_{timers_, this};   // last: cancels the refresh first
};

}  // namespace nw::daemon

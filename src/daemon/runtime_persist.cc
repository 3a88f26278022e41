// daemon/runtime_persist.cc — Runtime's durability glue (see runtime.h): the SPA replay cache
// (snapshot + append-only log, durable before a knock is acted on) and the periodic refresh of
// active targets' last_seen in the state file.
#include <algorithm>
#include <string>
#include <vector>

#include "daemon/runtime.h"
#include "state/replay_log.h"
#include "sys/log.h"

namespace nw::daemon {

// The replay cache is saved whenever it changed: the core asks as soon as an SPA datagram is
// accepted, before acting on it (fwknop's order), so no crash can let it be replayed; run()
// and shutdown() catch anything else (entries restored by a reload).
// Each new entry is one fdatasync'd append to replay.log (O(1)); the log is folded into the
// replay.json snapshot once it is as long as the cache (amortized O(1) too).
void Runtime::persist_replay() {
    auto* k = core_ ? core_->knocks() : nullptr;
    if (!k) return;
    auto fresh = k->take_new_replay();
    if (fresh.empty() || cfg_->daemon.state_dir.empty()) return;
    if (!replay_log_) open_replay_log();
    std::string err;
    for (size_t i = 0; i < fresh.size() && !replay_compact_; ++i)
        if (!replay_log_->append({fresh[i].first, fresh[i].second}, &err)) {
            log::warn("cannot append to the replay cache: {}", err);
            replay_compact_ = true;
        }
    if (replay_compact_ || replay_log_->wants_compaction(k->replay_size())) compact_replay();
}

// Loads replay.json + replay.log into the engine (a torn log tail is cut off) and compacts them,
// so later appends start from a clean log.
void Runtime::open_replay_log() {
    replay_log_ = std::make_unique<state::ReplayLog>(cfg_->daemon.state_dir);
    std::vector<state::ReplayEntry> entries;
    std::string e, notes;
    auto r = replay_log_->load(&entries, &e, &notes);
    if (r == state::LoadResult::SetAside || r == state::LoadResult::Failed)
        log::warn("replay cache in {}: {}", cfg_->daemon.state_dir, e);
    if (!notes.empty()) log::warn("replay cache: {}", notes);
    std::vector<std::pair<std::string, int64_t>> pairs;
    for (auto& x : entries) pairs.emplace_back(x.nonce_hex, x.expires_wall_s);
    if (auto* k = core_->knocks()) k->restore_replay(pairs, clock_.now_ns(), clock_.wall_s());
    core_->knocks_changed();  // the restored entries expire on the timer queue
    compact_replay();
}

void Runtime::compact_replay() {
    auto* k = core_->knocks();
    std::vector<state::ReplayEntry> live;
    if (k)
        for (auto& [nonce, exp] : k->replay_entries()) live.push_back({nonce, exp});
    std::string err;
    if (!replay_log_->compact(live, &err)) {
        log::warn("cannot write the replay cache: {}", err);
        replay_compact_ = true;
        return;
    }
    replay_compact_ = false;
}

// Active targets' last_seen moves without the core hearing of it (sensors store it), so while
// any target is active the state file is refreshed every ttl/4 (at least kRefreshMinNs apart),
// if some last_seen moved: a SIGKILL or power loss then costs at most that much of a TTL, not
// the whole time since the last start or stop. Nothing is scheduled while every target is idle.
void Runtime::schedule_refresh() {
    timers_.cancel(this, kRefreshTimer);
    if (cfg_->daemon.state_dir.empty() || !core_) return;
    int64_t period = 0;
    for (const auto& t : core_->targets())
        if (t->state == core::TargetState::Active) {
            const int64_t p = std::max<int64_t>(int64_t(t->conf->ttl.count()) * 1000000 / 4, kRefreshMinNs);
            if (!period || p < period) period = p;
        }
    if (period) timers_.arm_in(this, kRefreshTimer, period, [this](int64_t) { refresh_state(); });
}

void Runtime::refresh_state() {
    if (seen_sum() != saved_seen_sum_) dirty_ = true;  // run() persists, which reschedules
    else schedule_refresh();
}

// Sum of the active targets' last_seen: each only grows while its target stays active, and a
// start or stop marks the state dirty anyway, so a change means "some keepalive since the save".
int64_t Runtime::seen_sum() const {
    int64_t sum = 0;
    for (const auto& t : core_->targets())
        if (t->state == core::TargetState::Active)
            sum += std::max(t->last_seen_ns, t->shared->last_seen_ns.load());
    return sum;
}

}  // namespace nw::daemon

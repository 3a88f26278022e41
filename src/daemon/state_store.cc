// daemon/state_store.cc — StateStore (see state_store.h): monotonic <-> wall-clock conversion of
// the targets' times, the refresh timer, and the replay cache's log + snapshot.
#include "daemon/state_store.h"

#include <algorithm>

#include "state/replay_log.h"
#include "sys/log.h"

namespace nw::daemon {

namespace {
enum : uint8_t { kRefreshTimer };
}

StateStore::StateStore(std::string dir, core::TimerQueue& timers, std::function<int64_t()> wall_ms)
    : dir_(std::move(dir)), timers_(timers), wall_ms_(std::move(wall_ms)) {}

StateStore::~StateStore() = default;

void StateStore::load() {
    if (dir_.empty()) return;
    std::string e;
    const auto r = state::load_state(dir_, &loaded_, &e);
    if (r == state::LoadResult::SetAside || r == state::LoadResult::Failed)
        log::warn("state file in {}: {} ({})", dir_, e, state::load_result_name(r));
    const int64_t now_ms = wall_ms_();
    for (const auto& p : loaded_.targets) {
        core::SavedTarget s;
        s.name = p.name;
        s.active = p.active;
        s.idle_ms = std::max<int64_t>(0, now_ms - p.last_seen_wall_ms);
        s.active_for_ms = std::max<int64_t>(0, now_ms - p.active_since_wall_ms);
        saved_.push_back(s);
    }
}

void StateStore::attach(core::Core* core, std::vector<Part> parts) {
    core_ = core;
    parts_ = std::move(parts);
}

void StateStore::save() {
    dirty_ = false;
    if (dir_.empty() || !core_) return;
    saved_seen_sum_ = seen_sum();
    schedule_refresh();
    const int64_t now_ms = wall_ms_();
    state::PersistedState ps;
    for (const auto& s : core_->save()) {
        state::PersistedTarget p;
        p.name = s.name;
        p.active = s.active;
        p.last_seen_wall_ms = now_ms - s.idle_ms;
        p.active_since_wall_ms = s.active ? now_ms - s.active_for_ms : 0;
        if (s.active) p.ttl_deadline_wall_ms = now_ms + s.stop_in_ms;  // min_active included
        ps.targets.push_back(p);
    }
    for (const auto& part : parts_) part(&ps);
    std::string err;
    if (!state::save_state(dir_, ps, &err)) log::warn("cannot write state: {}", err);
}

// Active targets' last_seen moves without the core hearing of it (sensors store it): a SIGKILL or
// power loss then costs at most ttl/4 of a TTL, not the whole time since the last start or stop.
void StateStore::schedule_refresh() {
    timers_.cancel(this, kRefreshTimer);
    if (dir_.empty() || !core_) return;
    int64_t period = 0;
    for (const auto& t : core_->targets())
        if (t->state == core::TargetState::Active) {
            const int64_t p = std::max<int64_t>(int64_t(t->conf->ttl.count()) * 1000000 / 4, kRefreshMinNs);
            if (!period || p < period) period = p;
        }
    if (period) timers_.arm_in(this, kRefreshTimer, period, [this](int64_t) { refresh(); });
}

void StateStore::refresh() {
    if (seen_sum() != saved_seen_sum_) dirty_ = true;  // the loop saves, which reschedules
    else schedule_refresh();
}

// Sum of the active targets' last_seen: each only grows while its target stays active, and a
// start or stop marks the state dirty anyway, so a change means "some keepalive since the save".
int64_t StateStore::seen_sum() const {
    int64_t sum = 0;
    for (const auto& t : core_->targets())
        if (t->state == core::TargetState::Active) sum += std::max(t->last_seen_ns, t->shared->last_seen_ns.load());
    return sum;
}

// The core asks as soon as an SPA datagram (or an MQTT nonce) is accepted, before acting on it
// (fwknop's order), so no crash can let it be replayed; the loop catches anything else (entries
// restored by a reload). The log is folded into the snapshot once it is as long as the cache.
void StateStore::persist_replay() {
    auto* k = core_ ? core_->knocks() : nullptr;
    if (!k) return;
    auto fresh = k->take_new_replay();
    if (fresh.empty() || dir_.empty()) return;
    if (!replay_log_) open_replay();
    std::string err;
    for (size_t i = 0; i < fresh.size() && !replay_compact_; ++i)
        if (!replay_log_->append({fresh[i].first, fresh[i].second}, &err)) {
            log::warn("cannot append to the replay cache: {}", err);
            replay_compact_ = true;
        }
    if (replay_compact_ || replay_log_->wants_compaction(k->replay_size())) compact_replay();
}

void StateStore::open_replay() {
    replay_log_ = std::make_unique<state::ReplayLog>(dir_);
    std::vector<state::ReplayEntry> entries;
    std::string e, notes;
    auto r = replay_log_->load(&entries, &e, &notes);
    if (r == state::LoadResult::SetAside || r == state::LoadResult::Failed) log::warn("replay cache in {}: {}", dir_, e);
    if (!notes.empty()) log::warn("replay cache: {}", notes);
    std::vector<std::pair<std::string, int64_t>> pairs;
    for (auto& x : entries) pairs.emplace_back(x.nonce_hex, x.expires_wall_s);
    const core::Clock& clock = timers_.clock();
    if (auto* k = core_->knocks()) k->restore_replay(pairs, clock.now_ns(), clock.wall_s());
    core_->knocks_changed();  // the restored entries expire on the timer queue
    compact_replay();
}

void StateStore::compact_replay() {
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

}  // namespace nw::daemon

// core/timer_queue.h — the loop's one timer queue (dhcpcd's eloop is the model): a timeout is
// keyed by (owner, purpose), arming a key again replaces it, owners cancel all theirs on destruction.
// Core thread only; reads time only through core::Clock. The daemon's loop owns the one queue and
// arms its timerfd at next_deadline_ns() (daemon/runtime.cc); KeyedTimers is a machine's view of it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "core/ports.h"

namespace nw::core {

class TimerQueue {
   public:
    using Owner = const void*;   // the component that armed the timeout (usually `this`)
    using Purpose = uint64_t;    // what for, in the owner's terms (an enum of the owner)
    using Callback = std::function<void(int64_t now_ns)>;
    static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

    explicit TimerQueue(const Clock& clock) : clock_(clock) {}
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    // Arms (owner, purpose) to fire at `deadline_ns` (monotonic, Clock::now_ns); an armed one is
    // replaced, callback included.
    void arm_at(Owner owner, Purpose purpose, int64_t deadline_ns, Callback cb);
    // Same, `delay_ns` from now.
    void arm_in(Owner owner, Purpose purpose, int64_t delay_ns, Callback cb);
    // Cancels one timeout; false if it was not armed.
    bool cancel(Owner owner, Purpose purpose);
    // Cancels every timeout of `owner` (its destructor calls this); returns how many.
    size_t cancel_owner(Owner owner);

    bool armed(Owner owner, Purpose purpose) const { return entries_.count({owner, purpose}) != 0; }
    std::optional<int64_t> deadline(Owner owner, Purpose purpose) const;
    size_t size() const { return entries_.size(); }

    // The earliest deadline, kNever if nothing is armed: what the loop arms its timerfd with.
    int64_t next_deadline_ns() const { return order_.empty() ? kNever : std::get<0>(*order_.begin()); }
    // Fires every timeout due at `now_ns`, earliest first (equal deadlines: in arming order), each
    // disarmed before its callback runs. Callbacks may arm and cancel anything; a timeout armed
    // during this call fires on a later call even if already due (no endless loop). Returns the
    // number fired.
    size_t run_due(int64_t now_ns);
    size_t run_due() { return run_due(clock_.now_ns()); }

    const Clock& clock() const { return clock_; }

   private:
    using Key = std::pair<Owner, Purpose>;
    struct Entry {
        int64_t deadline_ns = 0;
        uint64_t seq = 0;
        Callback cb;
    };
    using Slot = std::tuple<int64_t, uint64_t, Key>;  // (deadline, arming sequence, key)

    const Clock& clock_;
    std::map<Key, Entry> entries_;
    std::set<Slot> order_;
    uint64_t next_seq_ = 0;
};

// Cancels every timeout of one owner when it goes away: a member declared after the state the
// callbacks touch (so it is destroyed first).
class TimerOwner {
   public:
    TimerOwner(TimerQueue& q, TimerQueue::Owner owner) : q_(q), owner_(owner) {}
    ~TimerOwner() { q_.cancel_owner(owner_); }
    TimerOwner(const TimerOwner&) = delete;
    TimerOwner& operator=(const TimerOwner&) = delete;

   private:
    TimerQueue& q_;
    TimerQueue::Owner owner_;
};

// A state machine's timeouts on the loop's queue: keys (machine id, timer kind), one dispatch
// function for all of them. Re-arming a key replaces it; destruction cancels them all.
class KeyedTimers {
   public:
    using Key = std::pair<uint64_t, uint8_t>;  // (machine id < 2^56, timer kind)
    using Fire = std::function<void(Key key, int64_t now_ns)>;

    KeyedTimers(TimerQueue& q, Fire fire) : q_(q), fire_(std::move(fire)) {}
    ~KeyedTimers() { q_.cancel_owner(this); }
    KeyedTimers(const KeyedTimers&) = delete;
    KeyedTimers& operator=(const KeyedTimers&) = delete;

    void arm(Key key, int64_t deadline_ns) {
        q_.arm_at(this, purpose(key), deadline_ns, [this, key](int64_t now) { fire_(key, now); });
    }
    void cancel(Key key) { q_.cancel(this, purpose(key)); }
    bool armed(Key key) const { return q_.armed(this, purpose(key)); }
    const Clock& clock() const { return q_.clock(); }

   private:
    static TimerQueue::Purpose purpose(Key k) { return (k.first << 8) | k.second; }
    TimerQueue& q_;
    Fire fire_;
};

}  // namespace nw::core

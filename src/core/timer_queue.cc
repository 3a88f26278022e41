// core/timer_queue.cc — TimerQueue (see timer_queue.h): a map by key for arm/cancel, an ordered
// set by (deadline, arming sequence) for next_deadline_ns and run_due.
#include "core/timer_queue.h"

#include <utility>

namespace nw::core {

void TimerQueue::arm_at(Owner owner, Purpose purpose, int64_t deadline_ns, Callback cb) {
    const Key key{owner, purpose};
    auto [it, fresh] = entries_.try_emplace(key);
    if (!fresh) order_.erase(Slot{it->second.deadline_ns, it->second.seq, key});
    it->second = Entry{deadline_ns, next_seq_++, std::move(cb)};
    order_.insert(Slot{deadline_ns, it->second.seq, key});
}

void TimerQueue::arm_in(Owner owner, Purpose purpose, int64_t delay_ns, Callback cb) {
    const int64_t now = clock_.now_ns();
    const int64_t at = delay_ns > kNever - now ? kNever : now + delay_ns;
    arm_at(owner, purpose, at, std::move(cb));
}

bool TimerQueue::cancel(Owner owner, Purpose purpose) {
    auto it = entries_.find({owner, purpose});
    if (it == entries_.end()) return false;
    order_.erase(Slot{it->second.deadline_ns, it->second.seq, it->first});
    entries_.erase(it);
    return true;
}

size_t TimerQueue::cancel_owner(Owner owner) {
    size_t n = 0;
    auto it = entries_.lower_bound({owner, 0});
    while (it != entries_.end() && it->first.first == owner) {
        order_.erase(Slot{it->second.deadline_ns, it->second.seq, it->first});
        it = entries_.erase(it);
        ++n;
    }
    return n;
}

std::optional<int64_t> TimerQueue::deadline(Owner owner, Purpose purpose) const {
    auto it = entries_.find({owner, purpose});
    if (it == entries_.end()) return std::nullopt;
    return it->second.deadline_ns;
}

size_t TimerQueue::run_due(int64_t now_ns) {
    const uint64_t limit = next_seq_;  // armed from here on: a later call
    size_t fired = 0;
    for (;;) {
        auto slot = order_.begin();
        while (slot != order_.end() && std::get<0>(*slot) <= now_ns && std::get<1>(*slot) >= limit) ++slot;
        if (slot == order_.end() || std::get<0>(*slot) > now_ns) break;
        const Key key = std::get<2>(*slot);
        order_.erase(slot);
        auto it = entries_.find(key);
        Callback cb = std::move(it->second.cb);
        entries_.erase(it);
        ++fired;
        if (cb) cb(now_ns);  // may arm/cancel: the iterators above are not used again
    }
    return fired;
}

}  // namespace nw::core

// core/timers.h — deadlines owned by (owner, kind) keys; re-arming a key replaces its deadline
// (dhcpcd eloop habit). The core arms one timerfd to next(); nothing here does I/O.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace nw::core {

class TimerSet {
   public:
    using Key = std::pair<uint64_t, uint8_t>;  // (owner id, timer kind)

    // Sets (or replaces) the deadline of `key`.
    void arm(Key key, int64_t deadline_ns) {
        cancel(key);
        by_key_[key] = deadline_ns;
        by_time_.insert({deadline_ns, key});
    }
    void cancel(Key key) {
        auto it = by_key_.find(key);
        if (it == by_key_.end()) return;
        by_time_.erase({it->second, key});
        by_key_.erase(it);
    }
    bool armed(Key key) const { return by_key_.count(key) != 0; }
    int64_t deadline(Key key) const {
        auto it = by_key_.find(key);
        return it == by_key_.end() ? 0 : it->second;
    }
    // Earliest deadline, or 0 if none.
    int64_t next() const { return by_time_.empty() ? 0 : by_time_.begin()->first; }
    // Removes and returns every key due at `now` (deadline <= now), earliest first.
    std::vector<Key> pop_due(int64_t now) {
        std::vector<Key> due;
        while (!by_time_.empty() && by_time_.begin()->first <= now) {
            Key k = by_time_.begin()->second;
            by_time_.erase(by_time_.begin());
            by_key_.erase(k);
            due.push_back(k);
        }
        return due;
    }
    size_t size() const { return by_key_.size(); }

   private:
    std::map<Key, int64_t> by_key_;
    std::set<std::pair<int64_t, Key>> by_time_;
};

}  // namespace nw::core

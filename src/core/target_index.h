// core/target_index.h — the core's lookup of a Target by slot, timer id or name: sorted
// (key, Target*) pairs, 16-24 bytes a target where a hash node cost 32-64 (issue 16: memory per
// target). Filled by Core::configure (add, then seal), read-only until the next configure.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

namespace nw::core {

struct Target;

template <class K>
class TargetIndex {
   public:
    void clear() { v_.clear(); }
    void add(K k, Target* t) { v_.emplace_back(std::move(k), t); }
    // Sorts what add() gave (keys are unique: target names, ids and slots are).
    void seal() {
        std::sort(v_.begin(), v_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        v_.shrink_to_fit();
    }
    Target* find(const K& k) const {
        auto it = std::lower_bound(v_.begin(), v_.end(), k, [](const auto& e, const K& key) { return e.first < key; });
        return it != v_.end() && it->first == k ? it->second : nullptr;
    }
    size_t size() const { return v_.size(); }

   private:
    std::vector<std::pair<K, Target*>> v_;
};

}  // namespace nw::core

// sensor/hitqueue.h — bounded single-producer/single-consumer ring of Hits, one per sensor
// thread, drained by the core thread. Lock-free; push never blocks (returns false when full).
// The producer wakes the core through an eventfd once per batch that pushed (Sensor::end_batch).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/shared.h"

namespace nw::sensor {

class HitQueue {
   public:
    explicit HitQueue(size_t capacity_pow2 = 256)
        : cap_(capacity_pow2), mask_(capacity_pow2 - 1), buf_(new core::Hit[capacity_pow2]) {}

    // Producer side. Returns false if the ring is full (the caller counts the overflow).
    bool push(const core::Hit& h) {
        const uint64_t t = tail_.load(std::memory_order_relaxed);
        if (t - head_.load(std::memory_order_acquire) >= cap_) return false;
        buf_[t & mask_] = h;
        tail_.store(t + 1, std::memory_order_release);
        return true;
    }
    // Consumer side. Returns false if empty.
    bool pop(core::Hit* out) {
        const uint64_t h = head_.load(std::memory_order_relaxed);
        if (h == tail_.load(std::memory_order_acquire)) return false;
        *out = buf_[h & mask_];
        head_.store(h + 1, std::memory_order_release);
        return true;
    }
    bool empty() const {
        return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    }
    size_t capacity() const { return cap_; }

   private:
    const size_t cap_, mask_;
    std::unique_ptr<core::Hit[]> buf_;
    alignas(64) std::atomic<uint64_t> head_{0};
    alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace nw::sensor

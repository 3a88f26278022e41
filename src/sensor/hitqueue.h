// sensor/hitqueue.h — bounded single-producer/single-consumer ring of Hits, one per sensor
// thread, drained by the core thread. Lock-free; push never blocks (returns false when full).
// The producer wakes the core through an eventfd once per batch that pushed (Sensor::end_batch).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "core/shared.h"

namespace nw::sensor {

class HitQueue {
   public:
    // The ring is raw storage: a slot is written (and its pages touched) only when a Hit is
    // pushed into it, so an idle daemon does not keep 256 x sizeof(Hit) resident.
    explicit HitQueue(size_t capacity_pow2 = 256)
        : cap_(capacity_pow2),
          mask_(capacity_pow2 - 1),
          buf_(static_cast<core::Hit*>(::operator new(capacity_pow2 * sizeof(core::Hit)))) {}
    HitQueue(const HitQueue&) = delete;
    HitQueue& operator=(const HitQueue&) = delete;

    // Producer side. Returns false if the ring is full (the caller counts the overflow).
    bool push(const core::Hit& h) {
        const uint64_t t = tail_.load(std::memory_order_relaxed);
        if (t - head_.load(std::memory_order_acquire) >= cap_) return false;
        new (buf_.get() + (t & mask_)) core::Hit(h);
        tail_.store(t + 1, std::memory_order_release);
        return true;
    }
    // Consumer side. Returns false if empty.
    bool pop(core::Hit* out) {
        const uint64_t h = head_.load(std::memory_order_relaxed);
        if (h == tail_.load(std::memory_order_acquire)) return false;
        *out = *std::launder(buf_.get() + (h & mask_));
        head_.store(h + 1, std::memory_order_release);
        return true;
    }
    bool empty() const {
        return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    }
    size_t capacity() const { return cap_; }

   private:
    const size_t cap_, mask_;
    static_assert(std::is_trivially_destructible_v<core::Hit> && std::is_trivially_copyable_v<core::Hit>,
                  "slots are reused without destructors");
    struct Free {
        void operator()(core::Hit* p) const { ::operator delete(p); }
    };
    std::unique_ptr<core::Hit, Free> buf_;
    alignas(64) std::atomic<uint64_t> head_{0};
    alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace nw::sensor

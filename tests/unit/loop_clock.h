// tests/unit/loop_clock.h — the real CLOCK_MONOTONIC behind a core::TimerQueue, and one step of a
// sys::Loop whose timerfd follows that queue: for unit tests that run real processes or sockets.
#pragma once

#include <time.h>

#include <algorithm>
#include <cstdint>

#include "core/timer_queue.h"
#include "sys/loop.h"

namespace nw::test {

struct MonoClock : core::Clock {
    int64_t now_ns() const override {
        timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC, &ts);
        return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
    int64_t wall_s() const override { return ::time(nullptr); }
};

// A loop driven like the daemon's: its timer runs the queue's due timeouts, and is re-armed
// at the queue's earliest deadline before every epoll_wait.
struct LoopTimers {
    MonoClock clock;
    core::TimerQueue q{clock};
    sys::Loop& loop;

    explicit LoopTimers(sys::Loop& l) : loop(l) {
        loop.on_timer([this] { q.run_due(); });
    }
    bool step(int timeout_ms) {
        const int64_t d = q.next_deadline_ns();
        loop.arm_timer(d == core::TimerQueue::kNever ? 0 : d);
        return loop.run_once(timeout_ms);
    }
    int64_t now_ns() const { return clock.now_ns(); }
};

}  // namespace nw::test

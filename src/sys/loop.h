// sys/loop.h — the core thread's epoll loop: fd callbacks plus one timerfd armed to the
// earliest deadline the owner asks for. No polling tick: with nothing due it sleeps in epoll.
// Single-threaded: every method must be called from the loop's own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "sys/fd.h"

namespace nw::sys {

class Loop {
   public:
    using FdCallback = std::function<void(uint32_t events)>;

    Loop();
    bool ok() const { return bool(epfd_) && bool(tfd_); }

    // Watches `fd` for `events` (EPOLLIN, ...). Replaces an existing watch of the same fd.
    void add(int fd, uint32_t events, FdCallback cb);
    void modify(int fd, uint32_t events);
    void remove(int fd);

    // Arms the single timerfd for an absolute CLOCK_MONOTONIC deadline in ns (<= 0: disarm).
    // Re-arming replaces. When it fires, the timer callback runs.
    void arm_timer(int64_t deadline_ns);
    void on_timer(std::function<void()> cb) { timer_cb_ = std::move(cb); }

    // Runs one epoll_wait (timeout_ms: -1 = forever) and dispatches. Returns false on a fatal error.
    bool run_once(int timeout_ms = -1);
    void quit() { quit_ = true; }
    bool quitting() const { return quit_; }

    uint64_t wakeups() const { return wakeups_; }

   private:
    unique_fd epfd_, tfd_;
    std::unordered_map<int, FdCallback> cbs_;
    std::function<void()> timer_cb_;
    int64_t armed_ = 0;
    bool quit_ = false;
    uint64_t wakeups_ = 0;
};

}  // namespace nw::sys

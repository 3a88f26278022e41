// sys/loop.cc — implementation of the epoll loop in sys/loop.h.
#include "sys/loop.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <cerrno>
#include <vector>

#include "sys/log.h"

namespace nw::sys {

Loop::Loop()
    : epfd_(::epoll_create1(EPOLL_CLOEXEC)),
      tfd_(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) {
    if (!ok()) return;
    add(tfd_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t n;
        while (::read(tfd_.get(), &n, sizeof n) > 0) {
        }
        armed_ = 0;
        if (timer_cb_) timer_cb_();
    });
}

void Loop::add(int fd, uint32_t events, FdCallback cb) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    const bool existed = cbs_.count(fd) != 0;
    cbs_[fd] = std::move(cb);
    if (::epoll_ctl(epfd_.get(), existed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
        log::error("{}", log::errno_str("epoll_ctl", errno));
}

void Loop::modify(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) < 0)
        log::error("{}", log::errno_str("epoll_ctl(MOD)", errno));
}

void Loop::remove(int fd) {
    if (cbs_.erase(fd)) ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Loop::arm_timer(int64_t deadline_ns) {
    if (deadline_ns == armed_) return;
    itimerspec its{};
    if (deadline_ns > 0) {
        its.it_value.tv_sec = deadline_ns / 1000000000;
        its.it_value.tv_nsec = deadline_ns % 1000000000;
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
    }
    ::timerfd_settime(tfd_.get(), TFD_TIMER_ABSTIME, &its, nullptr);
    armed_ = deadline_ns > 0 ? deadline_ns : 0;
}

bool Loop::run_once(int timeout_ms) {
    epoll_event evs[32];
    const int n = ::epoll_wait(epfd_.get(), evs, 32, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return true;
        log::error("{}", log::errno_str("epoll_wait", errno));
        return false;
    }
    ++wakeups_;
    for (int i = 0; i < n; ++i) {
        auto it = cbs_.find(evs[i].data.fd);
        if (it == cbs_.end()) continue;  // removed by an earlier callback in this batch
        auto cb = it->second;             // copy: the callback may remove itself
        cb(evs[i].events);
    }
    return true;
}

}  // namespace nw::sys

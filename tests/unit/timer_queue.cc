// tests/unit/timer_queue.cc — core::TimerQueue: keyed re-arm, cancel by key and by owner,
// next_deadline_ns, run_due order and callbacks that re-arm or cancel, driven by a fake clock.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/timer_queue.h"

using namespace nw;

namespace {

struct TestClock : core::Clock {
    int64_t t = 1'000;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1'700'000'000; }
};

enum Purpose : core::TimerQueue::Purpose { kTtl = 1, kRepeat = 2 };

}  // namespace

TEST_CASE("timer queue: arm, re-arm replaces, next deadline") {
    TestClock clk;
    core::TimerQueue q(clk);
    int a = 0, b = 0;
    std::vector<std::string> fired;
    CHECK(q.next_deadline_ns() == core::TimerQueue::kNever);
    q.arm_in(&a, kTtl, 500, [&](int64_t) { fired.push_back("a-ttl-old"); });
    CHECK(q.deadline(&a, kTtl) == 1'500);
    q.arm_at(&a, kTtl, 3'000, [&](int64_t) { fired.push_back("a-ttl"); });  // replaces, callback too
    q.arm_at(&b, kTtl, 2'000, [&](int64_t) { fired.push_back("b-ttl"); });
    CHECK(q.size() == 2);
    CHECK(q.next_deadline_ns() == 2'000);
    CHECK(q.run_due(1'999) == 0);
    CHECK(q.run_due(2'000) == 1);
    CHECK(fired == std::vector<std::string>{"b-ttl"});
    CHECK(q.next_deadline_ns() == 3'000);
    clk.t = 5'000;
    CHECK(q.run_due() == 1);  // Clock::now_ns
    CHECK(fired == std::vector<std::string>{"b-ttl", "a-ttl"});
    CHECK(q.size() == 0);
    CHECK(!q.armed(&a, kTtl));
}

TEST_CASE("timer queue: cancel by key and by owner") {
    TestClock clk;
    core::TimerQueue q(clk);
    int a = 0, b = 0, n = 0;
    q.arm_at(&a, kTtl, 10, [&](int64_t) { ++n; });
    q.arm_at(&a, kRepeat, 20, [&](int64_t) { ++n; });
    q.arm_at(&b, kTtl, 30, [&](int64_t) { n += 100; });
    CHECK(q.cancel(&a, kRepeat));
    CHECK(!q.cancel(&a, kRepeat));
    q.arm_at(&a, kRepeat, 20, [&](int64_t) { ++n; });
    CHECK(q.cancel_owner(&a) == 2);
    CHECK(q.next_deadline_ns() == 30);
    CHECK(q.run_due(1'000'000) == 1);
    CHECK(n == 100);
    {
        core::TimerOwner guard(q, &a);  // the owner goes away: its timeouts go with it
        q.arm_at(&a, kTtl, 10, [&](int64_t) { ++n; });
    }
    CHECK(q.size() == 0);
}

TEST_CASE("timer queue: deadline order, ties in arming order, callbacks re-arm and cancel") {
    TestClock clk;
    core::TimerQueue q(clk);
    int o[4] = {};
    std::vector<int> fired;
    q.arm_at(&o[0], kTtl, 50, [&](int64_t) { fired.push_back(0); });
    q.arm_at(&o[1], kTtl, 10, [&](int64_t) {
        fired.push_back(1);
        q.cancel(&o[0], kTtl);                                                   // cancels a due one
        q.arm_at(&o[1], kTtl, 5, [&](int64_t) { fired.push_back(11); });        // re-arms itself, already due
        q.arm_at(&o[3], kTtl, 60, [&](int64_t) { fired.push_back(3); });        // arms another
    });
    q.arm_at(&o[2], kTtl, 10, [&](int64_t) { fired.push_back(2); });
    CHECK(q.run_due(100) == 2);  // the re-armed and newly armed ones wait for the next call
    CHECK(fired == std::vector<int>{1, 2});
    CHECK(q.next_deadline_ns() == 5);
    CHECK(q.run_due(100) == 2);
    CHECK(fired == std::vector<int>{1, 2, 11, 3});
    CHECK(q.size() == 0);
}

TEST_CASE("timer queue: a far delay saturates instead of overflowing") {
    TestClock clk;
    core::TimerQueue q(clk);
    int a = 0;
    q.arm_in(&a, kTtl, core::TimerQueue::kNever, [](int64_t) {});
    CHECK(q.deadline(&a, kTtl) == core::TimerQueue::kNever);
    CHECK(q.run_due(1'000'000'000'000) == 0);
}

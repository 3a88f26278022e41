// tests/unit/proxy_packet_io.cc — PacketIo's reopen retries as timeouts on the loop's TimerQueue,
// under a fake clock: armed kRetryNs after a failure, re-armed while it fails, cancelled when the
// interface is no longer wanted (idle: nothing armed).
#include <doctest/doctest.h>

#include "core/timer_queue.h"
#include "proxy/packet_io.h"
#include "sys/loop.h"

using namespace nw;

TEST_CASE("packet io: a missing interface is retried every kRetryNs on the queue, cancelled when dropped") {
    struct FakeClock : core::Clock {
        int64_t t = 1'000'000'000'000;
        int64_t now_ns() const override { return t; }
        int64_t wall_s() const override { return 1'700'000'000; }
    } clk;
    core::TimerQueue q(clk);
    sys::Loop loop;
    {
        proxy::PacketIo io(loop, q, [](const std::string&, std::span<const uint8_t>, int64_t) {});
        std::string err;
        CHECK_FALSE(io.set_interfaces({"nwnosuch0"}, &err));
        CHECK(err.find("no interface nwnosuch0") != std::string::npos);
        CHECK(io.stats().open_errors == 1);
        const int64_t t0 = clk.t;
        CHECK(q.size() == 1);
        CHECK(q.next_deadline_ns() == t0 + proxy::PacketIo::kRetryNs);
        clk.t = t0 + proxy::PacketIo::kRetryNs - 1;
        CHECK(q.run_due() == 0);
        clk.t = t0 + proxy::PacketIo::kRetryNs;  // still missing: tried again, re-armed
        CHECK(q.run_due() == 1);
        CHECK(io.stats().open_errors == 2);
        CHECK(q.next_deadline_ns() == clk.t + proxy::PacketIo::kRetryNs);
        CHECK(io.set_interfaces({}, &err));
        CHECK(q.size() == 0);  // not wanted any more: nothing armed
        CHECK_FALSE(io.set_interfaces({"nwnosuch1"}, &err));
        CHECK(q.size() == 1);
    }
    CHECK(q.size() == 0);  // destruction cancels its timeouts
}

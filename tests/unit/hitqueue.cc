// tests/unit/hitqueue.cc — sensor/hitqueue.h: the SPSC ring keeps order, refuses when full,
// wraps around, and hands every item across threads exactly once.
#include <doctest/doctest.h>

#include <thread>

#include "sensor/hitqueue.h"

using nw::core::Hit;
using nw::sensor::HitQueue;

namespace {
Hit hit(int64_t n) {
    Hit h;
    h.t_ns = n;
    h.raw_len = uint16_t(n & 0xff);
    h.raw[0] = uint8_t(n);
    return h;
}
}  // namespace

TEST_CASE("hitqueue: FIFO order, empty and full") {
    HitQueue q(8);
    Hit out;
    CHECK(q.empty());
    CHECK(!q.pop(&out));
    for (int i = 0; i < 8; ++i) CHECK(q.push(hit(i)));
    CHECK(!q.push(hit(99)));  // full: refused, nothing overwritten
    CHECK(!q.empty());
    for (int i = 0; i < 8; ++i) {
        REQUIRE(q.pop(&out));
        CHECK(out.t_ns == i);
        CHECK(out.raw[0] == uint8_t(i));
    }
    CHECK(!q.pop(&out));
    CHECK(q.empty());
}

TEST_CASE("hitqueue: wraps around many times") {
    HitQueue q(4);
    Hit out;
    int64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 1000; ++round) {
        const int n = 1 + round % 4;  // 1..4 items per round
        for (int i = 0; i < n; ++i) REQUIRE(q.push(hit(next_in++)));
        if (n == 4) CHECK(!q.push(hit(-1)));
        for (int i = 0; i < n; ++i) {
            REQUIRE(q.pop(&out));
            CHECK(out.t_ns == next_out++);
        }
        CHECK(q.empty());
    }
    CHECK(q.capacity() == 4);
}

TEST_CASE("hitqueue: two threads, nothing lost, duplicated or reordered") {
    constexpr int64_t kN = 500000;
    HitQueue q(64);
    int64_t refused = 0;
    std::thread producer([&] {
        for (int64_t i = 0; i < kN;) {
            if (q.push(hit(i))) ++i;
            else ++refused, std::this_thread::yield();
        }
    });
    int64_t expect = 0;
    bool ok = true;
    Hit out;
    while (expect < kN) {
        if (!q.pop(&out)) continue;
        if (out.t_ns != expect || out.raw[0] != uint8_t(expect) || out.raw_len != uint16_t(expect & 0xff)) ok = false;
        ++expect;
    }
    producer.join();
    CHECK(ok);
    CHECK(expect == kN);
    CHECK(q.empty());
    MESSAGE("producer found the ring full " << refused << " times");
}

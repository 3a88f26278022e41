// tests/unit/proxy_drops.cc — a probe round during which the kernel dropped frames on the proxy's
// packet socket (PACKET_STATISTICS tp_drops > 0) is not silence: it counts as no miss, so a machine
// whose answers were lost in a burst is not taken over (issue 12, PACKET_STATISTICS).
#include <doctest/doctest.h>

#include "proxy_fixture.h"

using namespace nw;
using namespace nw::proxytest;
using proxy::State;

namespace {
const Addr kV4 = A("192.0.2.20"), kV6 = A("2001:db8::20");
}  // namespace

TEST_CASE("probe rounds with drops on the socket are not misses") {
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}, {kV6, {}}})});
    lab.advance(10);  // first probes out
    for (int round = 0; round < 6; ++round) {
        lab.advance(400);
        lab.sink.dropped["lan0"] += 3;  // a burst filled the receive queue during this round
        lab.advance(600);
    }
    CHECK(lab.state() == State::Up);  // six unanswered rounds, none of them silence
    CHECK(lab.p->stats().lossy_rounds == 6);
    CHECK(lab.hooks.jobs.empty());

    // Drops elsewhere do not matter; two clean silent rounds are two misses...
    lab.sink.dropped["wan0"] += 100;
    lab.advance(2000);
    CHECK(lab.state() == State::Up);
    // ...a lossy round between them neither counts nor resets them...
    lab.advance(400);
    lab.sink.dropped["lan0"] += 1;
    lab.advance(600);
    CHECK(lab.state() == State::Up);
    CHECK(lab.p->stats().lossy_rounds == 7);
    // ...and the third clean miss puts the machine to sleep.
    lab.advance(1000);
    CHECK(lab.state() == State::Asleep);
    CHECK(lab.logged("nas: proxy up -> asleep (probe: 3 misses)"));
}

TEST_CASE("drops before a round's probes went out do not void it") {
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}})});
    lab.sink.dropped["lan0"] = 50;  // counted before the machine existed
    lab.advance(10);                // first probes: nothing was awaited yet
    lab.advance(2000);
    CHECK(lab.state() == State::Up);
    lab.advance(1000);
    CHECK(lab.state() == State::Asleep);  // three clean rounds, three misses
    CHECK(lab.p->stats().lossy_rounds == 0);
}

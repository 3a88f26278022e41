// tests/unit/wake_cycle.cc — core::WakeCycle (SPEC §7.1): waking -> awake with the wake time,
// silent -> further bursts then wake_failed, attempts from 1 per cycle, grace, resume, idle = no probes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/wake_cycle.h"

using namespace nw;

namespace {

constexpr int64_t kS = 1'000'000'000;

struct TestClock : core::Clock {
    int64_t t = 5 * kS;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1'700'000'000; }
};

struct Fx : core::WakeEffects {
    std::vector<std::string> log;
    core::WakeCycle* wc = nullptr;
    core::WakeParams p;
    bool send_burst(const std::string& t, uint32_t attempt) override {
        log.push_back("burst " + t + " " + std::to_string(attempt));
        if (wc) log.push_back("attempt " + std::to_string(wc->burst_sent(t, p)));  // as the daemon does
        return true;
    }
    void watch(const std::string& t, bool on) override { log.push_back(std::string(on ? "watch " : "unwatch ") + t); }
    void probe(const std::string& t) override { log.push_back("probe " + t); }
    size_t count(const std::string& prefix) const {
        size_t n = 0;
        for (const auto& l : log) n += l.rfind(prefix, 0) == 0;
        return n;
    }
};

struct Lab {
    TestClock clk;
    core::TimerQueue q{clk};
    Fx fx;
    std::vector<core::Event> ev;
    core::WakeCycle wc{q, fx, [this](core::Event e) { ev.push_back(std::move(e)); }};
    Lab() {
        fx.wc = &wc;
        fx.p.attempts = 3;
        fx.p.timeout_ns = 10 * kS;
        fx.p.grace_ns = 30 * kS;
        fx.p.probe_interval_ns = 2 * kS;
    }
    void advance(int64_t ns) {  // runs every timer due on the way, in order
        const int64_t end = clk.t + ns;
        while (q.next_deadline_ns() <= end) {
            clk.t = q.next_deadline_ns();
            q.run_due(clk.t);
        }
        clk.t = end;
    }
};

}  // namespace

TEST_CASE("wake cycle: idle does nothing, no timers") {
    Lab l;
    l.advance(100 * kS);
    CHECK(l.fx.log.empty());
    CHECK(l.q.size() == 0);
    CHECK_FALSE(l.wc.alive("nas", "frame"));
    CHECK(l.wc.view("nas").state == core::WakeState::None);
}

TEST_CASE("wake cycle: a sign of life ends waking with the wake time; no further bursts") {
    Lab l;
    CHECK(l.wc.burst_sent("nas", l.fx.p) == 1);
    CHECK(l.wc.view("nas").state == core::WakeState::Waking);
    REQUIRE(l.ev.size() == 1);
    CHECK(l.ev[0].kind == core::EventKind::Waking);
    CHECK(l.fx.log == std::vector<std::string>{"watch nas", "probe nas"});
    l.advance(5 * kS);
    CHECK(l.fx.count("probe") == 3);  // at 0, 2, 4 s
    CHECK(l.wc.alive("nas", "ARP reply from 10.0.0.9"));
    REQUIRE(l.ev.size() == 2);
    CHECK(l.ev[1].kind == core::EventKind::Awake);
    CHECK(l.ev[1].in_state_ns == 5 * kS);
    CHECK(l.ev[1].attempt == 1);
    CHECK(l.ev[1].packet == "ARP reply from 10.0.0.9");
    CHECK(l.fx.log.back() == "unwatch nas");
    CHECK(l.q.size() == 0);
    l.advance(100 * kS);
    CHECK(l.fx.count("burst") == 0);
    CHECK(l.fx.count("probe") == 3);
    CHECK(l.wc.view("nas").state == core::WakeState::Awake);
    CHECK(l.wc.view("nas").wake_ns == 5 * kS);
}

TEST_CASE("wake cycle: silent machine -> a burst per timeout, attempts counted, then wake_failed") {
    Lab l;
    CHECK(l.wc.burst_sent("nas", l.fx.p) == 1);
    l.advance(10 * kS);
    CHECK(l.fx.count("burst nas 2") == 1);
    CHECK(l.fx.count("attempt 2") == 1);  // the retry's wake event carries attempt 2
    CHECK(l.wc.view("nas").attempt == 2);
    l.advance(10 * kS);
    CHECK(l.fx.count("burst nas 3") == 1);
    CHECK(l.wc.view("nas").state == core::WakeState::Waking);
    l.advance(10 * kS);
    CHECK(l.fx.count("burst") == 2);  // 3 attempts: the first burst + 2 retries
    CHECK(l.wc.view("nas").state == core::WakeState::Failed);
    REQUIRE(l.ev.size() == 2);
    CHECK(l.ev[1].kind == core::EventKind::WakeFailed);
    CHECK(l.ev[1].attempt == 3);
    CHECK(l.ev[1].in_state_ns == 30 * kS);
    CHECK(l.q.size() == 0);
    CHECK(l.fx.log.back() == "unwatch nas");
    CHECK_FALSE(l.wc.alive("nas", "late"));  // a late sign of life does not revive a failed cycle
    // A new wake after wake_failed is a new cycle from attempt 1.
    CHECK(l.wc.burst_sent("nas", l.fx.p) == 1);
    CHECK(l.wc.view("nas").state == core::WakeState::Waking);
}

TEST_CASE("wake cycle: attempts restart at 1 per cycle; a wake during a cycle belongs to it") {
    Lab l;
    CHECK(l.wc.burst_sent("nas", l.fx.p) == 1);
    l.advance(10 * kS);
    CHECK(l.wc.burst_sent("nas", l.fx.p) == 2);  // netwakectl wake while waking: same cycle
    CHECK(l.wc.alive("nas", "frame"));
    l.advance(31 * kS);                          // past grace
    CHECK(l.wc.burst_sent("nas", l.fx.p) == 1);
    CHECK(l.ev.back().kind == core::EventKind::Waking);
}

TEST_CASE("wake cycle: grace keeps a freshly woken machine awake") {
    Lab l;
    l.wc.burst_sent("nas", l.fx.p);
    l.wc.alive("nas", "frame");
    const size_t n = l.ev.size();
    l.advance(20 * kS);
    CHECK(l.wc.burst_sent("nas", l.fx.p) == 1);
    CHECK(l.wc.view("nas").state == core::WakeState::Awake);  // no flap to waking
    CHECK(l.ev.size() == n);
    l.advance(20 * kS);
    l.wc.alive("nas", "frame");                  // signs while awake extend grace
    l.advance(20 * kS);
    l.wc.burst_sent("nas", l.fx.p);
    CHECK(l.wc.view("nas").state == core::WakeState::Awake);
}

TEST_CASE("wake cycle: resume after a restart keeps the attempt and the first-burst time") {
    Lab l;
    l.wc.resume("nas", l.fx.p, 2, 15 * kS);
    CHECK(l.wc.view("nas").state == core::WakeState::Waking);
    CHECK(l.fx.log == std::vector<std::string>{"watch nas", "probe nas"});
    CHECK(l.ev.empty());  // no second `waking` event
    l.advance(3 * kS);
    CHECK(l.wc.alive("nas", "frame"));
    CHECK(l.ev.back().in_state_ns == 18 * kS);
    CHECK(l.ev.back().attempt == 2);
}

TEST_CASE("wake cycle: forget and retain cancel timers and stop watching") {
    Lab l;
    l.wc.burst_sent("a", l.fx.p);
    l.wc.burst_sent("b", l.fx.p);
    CHECK(l.wc.view("a").state == core::WakeState::Waking);
    CHECK(l.wc.view("b").state == core::WakeState::Waking);
    l.wc.retain({"b"});
    CHECK(l.wc.view("a").state == core::WakeState::None);
    CHECK(l.wc.view("b").state == core::WakeState::Waking);
    CHECK(l.fx.count("unwatch a") == 1);
    l.wc.forget("b");
    CHECK(l.q.size() == 0);
    CHECK(l.wc.view("b").state == core::WakeState::None);
}

// tests/unit/core_state.cc — the core's state machine driven by a fake clock, a recording hook
// spawner and a recording WoL sender: start once per burst, stop at TTL and never before,
// keepalive semantics (-a), trigger windows, min_active, signals, reload, restore.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/core.h"
#include "core/event_sinks.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kMs = 1000000;

struct FakeClock : core::Clock {
    int64_t t = 1000 * kMs;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1700000000 + t / 1000000000; }
};

struct FakeHooks : core::HookSpawner {
    std::vector<core::HookJob> jobs;
    void submit(core::HookJob j) override { jobs.push_back(std::move(j)); }
    size_t pending() const override { return 0; }
    void kill_all() override {}
    std::vector<std::string> events() const {
        std::vector<std::string> v;
        for (auto& j : jobs) v.push_back(j.event);
        return v;
    }
    std::string env(size_t i, const std::string& k) const {
        for (auto& [n, v] : jobs.at(i).env)
            if (n == k) return v;
        return "<absent>";
    }
};

struct FakeWol : core::WolSender {
    std::vector<int64_t> sent;
    FakeClock* clock;
    bool send(const config::WolConf&, std::string* desc, std::string*) override {
        sent.push_back(clock->t);
        *desc = "fake";
        return true;
    }
};

struct Fixture {
    FakeClock clock;
    core::TimerQueue timers{clock};  // the loop's queue: advance() fires it
    FakeHooks hooks;
    core::EventBus events;
    core::HookSink hook_sink{&hooks};
    FakeWol wol;
    std::unique_ptr<core::Core> core;
    std::vector<std::shared_ptr<core::TargetShared>> slots;
    std::shared_ptr<config::Config> cfg = std::make_shared<config::Config>();

    explicit Fixture(std::vector<config::TargetConf> targets = {}) {
        wol.clock = &clock;
        if (targets.empty()) {
            config::TargetConf t;
            t.name = "default";
            t.ttl = 2s;
            t.hook = "/bin/true";
            targets.push_back(t);
        }
        cfg->sensors.push_back(config::SensorConf{"nflog:1", config::NflogConf{1, 128}, std::nullopt});
        cfg->targets = targets;
        for (auto& t : targets) slots.push_back(std::make_shared<core::TargetShared>(t.name));
        core::CoreDeps d;
        d.clock = &clock;
        d.timers = &timers;
        d.events = &events;
        d.wol = &wol;
        events.add(&hook_sink);
        core = std::make_unique<core::Core>(d);
        core->configure(cfg, slots);
    }
    core::Hit hit(size_t target = 0, bool match = true, bool keepalive = true) {
        core::Hit h;
        h.target = slots.at(target).get();
        h.match = match;
        h.keepalive = keepalive;
        h.t_ns = clock.t;
        h.d.l3 = 4;
        h.d.proto = packet::kProtoUdp;
        h.d.has_l4 = true;
        h.d.src = packet::Addr::v4(0x0a000002);
        h.d.dst = packet::Addr::v4(0x0a000001);
        h.d.src_port = 5555;
        h.d.dst_port = 9999;
        return h;
    }
    // What a sensor does for an active target: store the time, nothing else.
    void keepalive(size_t target = 0) { slots.at(target)->last_seen_ns.store(clock.t); }
    // Advances the clock to each due deadline up to `to`, firing timers like the loop would.
    void advance(int64_t to) {
        while (true) {
            int64_t d = next_deadline();
            if (d == 0 || d > to) break;
            clock.t = std::max(clock.t, d);
            timers.run_due(clock.t);
        }
        clock.t = to;
    }
    core::TargetState state(size_t i = 0) { return core->targets().at(i)->state; }
    int64_t next_deadline() const {  // 0: nothing armed
        const int64_t d = timers.next_deadline_ns();
        return d == core::TimerQueue::kNever ? 0 : d;
    }
};

}  // namespace

TEST_CASE("first packet starts once; a burst does not start twice") {
    Fixture f;
    f.core->on_hit(f.hit());
    CHECK(f.state() == core::TargetState::Active);
    CHECK(f.slots[0]->active.load());
    f.core->on_hit(f.hit());  // queued before the start was seen: keepalive only
    f.core->on_hit(f.hit());
    REQUIRE(f.hooks.events() == std::vector<std::string>{"start"});
    CHECK(f.hooks.jobs[0].target == "default");
    CHECK(f.hooks.env(0, "NETWAKED_EVENT") == "start");
    CHECK(f.hooks.env(0, "NETWAKED_REASON") == "traffic");
    CHECK(f.hooks.env(0, "NETWAKED_SENSOR") == "nflog:1");
    CHECK(f.hooks.env(0, "NETWAKED_PROTO") == "udp");
    CHECK(f.hooks.env(0, "NETWAKED_SRC") == "10.0.0.2");
    CHECK(f.hooks.env(0, "NETWAKED_DST_PORT") == "9999");
    CHECK(f.hooks.env(0, "NETWAKED_SRC_MAC") == "<absent>");
    CHECK(f.hooks.env(0, "NETWAKED_PREFIX") == "<absent>");
}

TEST_CASE("stop fires at TTL after the last keepalive, never before") {
    Fixture f;
    const int64_t t0 = f.clock.t;
    f.core->on_hit(f.hit());
    f.advance(t0 + 1500 * kMs);
    f.keepalive();  // sensor hot path at t0+1.5 s
    f.advance(t0 + 3499 * kMs);
    CHECK(f.state() == core::TargetState::Active);
    CHECK(f.hooks.events() == std::vector<std::string>{"start"});
    f.advance(t0 + 3500 * kMs);
    CHECK(f.state() == core::TargetState::Idle);
    REQUIRE(f.hooks.events() == std::vector<std::string>{"start", "stop"});
    CHECK(f.hooks.env(1, "NETWAKED_REASON") == "ttl");
    CHECK(f.hooks.env(1, "NETWAKED_IDLE") == "2");
    CHECK_FALSE(f.slots[0]->active.load());
    CHECK(f.next_deadline() == 0);  // idle: no timer at all
}

TEST_CASE("a packet after stop leads to a new start") {
    Fixture f;
    f.core->on_hit(f.hit());
    f.advance(f.clock.t + 2000 * kMs);
    REQUIRE(f.state() == core::TargetState::Idle);
    f.core->on_hit(f.hit());
    CHECK(f.hooks.events() == std::vector<std::string>{"start", "stop", "start"});
}

TEST_CASE("keepalive-only packets (-a) do not start, and non-keepalive packets do not extend") {
    Fixture f;
    f.core->on_hit(f.hit(0, /*match=*/false, /*keepalive=*/true));
    CHECK(f.state() == core::TargetState::Idle);
    const int64_t t0 = f.clock.t;
    f.core->on_hit(f.hit(0, true, false));  // SYN-only packet in -a mode: starts
    CHECK(f.state() == core::TargetState::Active);
    f.advance(t0 + 1000 * kMs);
    f.core->on_hit(f.hit(0, true, false));  // queued non-keepalive: must not extend
    f.advance(t0 + 2000 * kMs);
    CHECK(f.state() == core::TargetState::Idle);
}

TEST_CASE("a keepalive racing with expiry keeps the target active") {
    Fixture f;
    const int64_t t0 = f.clock.t;
    f.core->on_hit(f.hit());
    f.clock.t = t0 + 2000 * kMs;
    f.keepalive();  // stored at exactly the deadline, before the core looked
    f.timers.run_due(f.clock.t);
    CHECK(f.state() == core::TargetState::Active);
    f.advance(t0 + 4000 * kMs);
    CHECK(f.state() == core::TargetState::Idle);
}

TEST_CASE("trigger needs N packets within the window") {
    config::TargetConf t;
    t.name = "svc";
    t.ttl = 10s;
    t.hook = "/bin/true";
    t.trigger = config::Trigger{3, 1s};
    Fixture f({t});
    f.core->on_hit(f.hit());
    f.clock.t += 600 * kMs;
    f.core->on_hit(f.hit());
    f.clock.t += 600 * kMs;  // first packet now outside the window
    f.core->on_hit(f.hit());
    CHECK(f.state() == core::TargetState::Idle);
    f.clock.t += 100 * kMs;
    f.core->on_hit(f.hit());
    CHECK(f.state() == core::TargetState::Active);
}

TEST_CASE("min_active delays stop") {
    config::TargetConf t;
    t.name = "svc";
    t.ttl = 1s;
    t.min_active = 5s;
    t.hook = "/bin/true";
    Fixture f({t});
    const int64_t t0 = f.clock.t;
    f.core->on_hit(f.hit());
    f.advance(t0 + 4999 * kMs);
    CHECK(f.state() == core::TargetState::Active);
    f.advance(t0 + 5000 * kMs);
    CHECK(f.state() == core::TargetState::Idle);
}

TEST_CASE("SIGHUP stops every active target, control start/stop work") {
    config::TargetConf a, b;
    a.name = "a";
    b.name = "b";
    a.hook = b.hook = "/bin/true";
    Fixture f({a, b});
    std::string err;
    CHECK(f.core->start("a", core::Reason::Control, &err));
    CHECK_FALSE(f.core->start("zzz", core::Reason::Control, &err));
    CHECK(err == "no such target: zzz");
    f.core->on_hit(f.hit(1));
    f.core->stop_all(core::Reason::Signal);
    CHECK(f.state(0) == core::TargetState::Idle);
    CHECK(f.state(1) == core::TargetState::Idle);
    CHECK(f.hooks.events() == std::vector<std::string>{"start", "start", "stop", "stop"});
    CHECK(f.hooks.env(2, "NETWAKED_REASON") == "signal");
    CHECK(f.hooks.env(0, "NETWAKED_REASON") == "control");
    CHECK(f.hooks.env(0, "NETWAKED_SENSOR") == "<absent>");
}

// SPEC §5: events a command causes carry NETWAKED_ORIGIN (control = netwakectl, mqtt); others
// do not (before: no hook ever got it).
TEST_CASE("NETWAKED_ORIGIN names the command source, only for the events it caused") {
    config::TargetConf a;
    a.name = "a";
    a.hook = "/bin/true";
    Fixture f({a});
    std::string err;
    f.core->set_origin("control");
    CHECK(f.core->start("a", core::Reason::Control, &err));
    f.core->set_origin("mqtt");
    CHECK(f.core->stop("a", core::Reason::Control, &err));
    f.core->set_origin("");
    f.core->on_hit(f.hit(0));
    REQUIRE(f.hooks.events() == std::vector<std::string>{"start", "stop", "start"});
    CHECK(f.hooks.env(0, "NETWAKED_ORIGIN") == "control");
    CHECK(f.hooks.env(1, "NETWAKED_ORIGIN") == "mqtt");
    CHECK(f.hooks.env(2, "NETWAKED_ORIGIN") == "<absent>");
}

TEST_CASE("wol: a start sends repeat copies interval apart, cooldown suppresses a second burst") {
    config::TargetConf t;
    t.name = "nas";
    t.ttl = 1s;
    t.hook = "/bin/true";
    config::WolConf w;
    w.mac = {0xd8, 0xcb, 0x8a, 0x39, 0xbe, 0xa1};
    w.repeat = 3;
    w.interval = 100ms;
    w.cooldown = 30s;
    t.wol = w;
    Fixture f({t});
    const int64_t t0 = f.clock.t;
    f.core->on_hit(f.hit());
    f.advance(t0 + 500 * kMs);
    REQUIRE(f.wol.sent.size() == 3);
    CHECK(f.wol.sent[1] - f.wol.sent[0] == 100 * kMs);
    CHECK(f.wol.sent[2] - f.wol.sent[1] == 100 * kMs);
    auto ev = f.hooks.events();
    REQUIRE(ev.size() >= 2);
    CHECK(ev[1] == "wake");
    CHECK(f.hooks.env(1, "NETWAKED_MAC") == "d8:cb:8a:39:be:a1");
    CHECK(f.hooks.env(1, "NETWAKED_ATTEMPT") == "1");
    f.advance(t0 + 2000 * kMs);  // stopped by now
    f.core->on_hit(f.hit());     // second start within cooldown: no new burst
    f.advance(t0 + 3000 * kMs);
    CHECK(f.wol.sent.size() == 3);
}

TEST_CASE("reload keeps the state of targets that still exist and stops removed ones") {
    config::TargetConf a, b;
    a.name = "a";
    b.name = "b";
    a.hook = b.hook = "/bin/true";
    a.ttl = b.ttl = 10s;
    Fixture f({a, b});
    f.core->on_hit(f.hit(0));
    f.core->on_hit(f.hit(1));
    auto cfg2 = std::make_shared<config::Config>(*f.cfg);
    cfg2->targets = {a};
    f.core->configure(cfg2, {f.slots[0]});
    CHECK(f.core->targets().size() == 1);
    CHECK(f.state(0) == core::TargetState::Active);
    CHECK(f.hooks.events() == std::vector<std::string>{"start", "start", "stop"});
    CHECK(f.hooks.jobs[2].target == "b");
    CHECK(f.next_deadline() != 0);
}

TEST_CASE("a target removed by a reload is stopped with its old configuration after the core dropped it") {
    // Targets point into the Config the core holds (issue 16): the old one must outlive their stop.
    config::TargetConf a, b;
    a.name = "a";
    b.name = "b-with-a-name-longer-than-sso";
    a.hook = b.hook = "/bin/true";
    Fixture f({a, b});
    f.core->on_hit(f.hit(1));
    auto cfg2 = std::make_shared<config::Config>(*f.cfg);
    cfg2->targets = {a};
    f.cfg = cfg2;  // the core holds the only reference to the old configuration now
    f.core->configure(cfg2, {f.slots[0]});
    REQUIRE(f.hooks.jobs.size() == 2);
    CHECK(f.hooks.jobs[1].target == "b-with-a-name-longer-than-sso");
    CHECK(f.core->find("a")->conf == &cfg2->targets[0]);
}

TEST_CASE("reload in another order: lookups by name, slot and timer reach the right target") {
    // The core finds targets through sorted indexes rebuilt by configure() (issue 16).
    std::vector<config::TargetConf> ts;
    for (const char* n : {"m", "z", "a", "q", "b"}) {
        config::TargetConf t;
        t.name = n;
        t.hook = "/bin/true";
        t.ttl = std::chrono::seconds(10 + ts.size());  // m 10 s, z 11 s, a 12 s, q 13 s, b 14 s
        ts.push_back(t);
    }
    Fixture f(ts);
    for (const char* n : {"a", "b", "m", "q", "z"}) CHECK(f.core->find(n)->conf->name == n);
    CHECK(f.core->find("c") == nullptr);
    f.core->on_hit(f.hit(1));  // z
    f.core->on_hit(f.hit(2));  // a
    // Reload: q and b go, n comes, the rest in reverse order with their slots.
    config::TargetConf n = ts[0];
    n.name = "n";
    auto cfg2 = std::make_shared<config::Config>(*f.cfg);
    cfg2->targets = {ts[2], ts[1], n, ts[0]};
    auto n_slot = std::make_shared<core::TargetShared>("n");
    f.core->configure(cfg2, {f.slots[2], f.slots[1], n_slot, f.slots[0]});
    CHECK(f.core->find("q") == nullptr);
    CHECK(f.core->find("b") == nullptr);
    CHECK(f.core->find("n")->shared == n_slot);
    CHECK(f.core->find("a")->state == core::TargetState::Active);
    CHECK(f.core->find("z")->conf == &cfg2->targets[1]);
    f.core->on_hit(f.hit(3));  // q's old slot: a stale hit, not a start
    CHECK(f.core->stale_hits() == 1);
    core::Hit h = f.hit();
    h.target = n_slot.get();
    f.core->on_hit(h);
    CHECK(f.core->find("n")->state == core::TargetState::Active);
    // TTL timers follow their targets' ids: z (11 s) stops before a (12 s).
    f.hooks.jobs.clear();
    f.advance(f.clock.t + 11500 * kMs);
    CHECK(f.core->find("z")->state == core::TargetState::Idle);
    CHECK(f.core->find("a")->state == core::TargetState::Active);
    REQUIRE(f.hooks.jobs.size() == 2);  // n (10 s) then z
    CHECK(f.hooks.jobs[0].target == "n");
    CHECK(f.hooks.jobs[1].target == "z");
}

TEST_CASE("restore keeps an active target active with its remaining TTL") {
    Fixture f;
    core::SavedTarget s;
    s.name = "default";
    s.active = true;
    s.idle_ms = 1500;
    s.active_for_ms = 3000;
    f.core->restore({s});
    CHECK(f.state() == core::TargetState::Active);
    CHECK(f.next_deadline() == f.clock.t + 500 * kMs);
    f.advance(f.clock.t + 500 * kMs);
    CHECK(f.hooks.events() == std::vector<std::string>{"stop"});
}

TEST_CASE("queue overflow is not lost: overflow hits count as matches") {
    Fixture f;
    f.slots[0]->overflow_hits.store(1);
    f.core->on_overflow();
    CHECK(f.state() == core::TargetState::Active);
}

TEST_CASE("core events: a new output is one sink added in the wiring, nothing in the core") {
    Fixture f;
    core::EventCounter counter;  // the new output ...
    f.events.add(&counter);      // ... and its one wiring line
    core::Hit h = f.hit();
    f.core->on_hit(h);
    f.advance(f.clock.t + 3'000'000'000);
    CHECK(f.state() == core::TargetState::Idle);
    CHECK(counter.of("default") == core::EventCounter::Counts{{"start", 1}, {"stop", 1}});
    CHECK(f.hooks.events() == std::vector<std::string>{"start", "stop"});  // the hook sink saw the same
    // Wake verification (SPEC §7.1) reports through the same stream.
    core::Event cycle;
    cycle.kind = core::EventKind::Awake;
    cycle.subject = "default";
    CHECK(f.core->emit_target_event(cycle, core::Reason::Probe, {{"NETWAKED_WAKE_SECONDS", "4"}}));
    cycle.kind = core::EventKind::WakeFailed;
    cycle.subject = "nope";
    CHECK_FALSE(f.core->emit_target_event(cycle, core::Reason::Probe));
    CHECK(counter.of("default").at("awake") == 1);
    CHECK(f.hooks.env(2, "NETWAKED_EVENT") == "awake");
    CHECK(f.hooks.env(2, "NETWAKED_WAKE_SECONDS") == "4");
    CHECK(counter.of("default") == core::EventCounter::Counts{{"start", 1}, {"stop", 1}, {"awake", 1}});
    CHECK(counter.of("nope").empty());  // the refused event counted nowhere
}

TEST_CASE("save: the stop deadline honours min_active (state file ttl_deadline_wall_ms)") {
    config::TargetConf t;
    t.name = "db";
    t.ttl = 2s;
    t.min_active = 60s;
    Fixture f({t});
    f.core->on_hit(f.hit());
    f.clock.t += 1000 * kMs;
    const auto saved = f.core->save();
    REQUIRE(saved.size() == 1);
    CHECK(saved[0].active);
    CHECK(saved[0].stop_in_ms == 59000);  // not ttl - idle = 1000
    CHECK(f.next_deadline() == f.clock.t + 59000 * kMs);
}

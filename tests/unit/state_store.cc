// tests/unit/state_store.cc — daemon::StateStore round trips: a daemon's core and wake verification
// saved to a real state directory, loaded by the next "run" later on the wall clock: active/idle,
// the persisted stop deadline with min_active, the wake cycle's state and attempt; dirty and refresh.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/event_sinks.h"
#include "core/timer_queue.h"
#include "daemon/state_store.h"
#include "daemon/wake_service.h"
#include "sys/wallclock.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kS = 1'000'000'000;

struct Clock : core::Clock {
    int64_t t = 50 * kS;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1700000000 + t / kS; }
};

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/nw-state-store.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::shared_ptr<config::Config> two_targets() {
    auto cfg = std::make_shared<config::Config>();
    config::TargetConf vpn, nas;
    vpn.name = "vpn";
    vpn.ttl = 2s;
    vpn.min_active = 3600s;
    nas.name = "nas";
    nas.ttl = 60s;
    nas.wol = config::WolConf{};
    nas.wol->verify.on = true;  // no interface: the cycle runs without a socket
    nas.wol->verify.attempts = 3;
    nas.wol->verify.timeout = 10s;
    cfg->targets = {vpn, nas};
    return cfg;
}

// One run of the daemon's persistent parts, wired as Runtime::open/start wire them.
struct Run {
    Clock clock;
    core::TimerQueue timers{clock};
    core::EventBus events;
    sys::Loop loop;
    std::unique_ptr<core::Core> core;
    std::unique_ptr<daemon::WakeService> wake;
    std::unique_ptr<daemon::StateStore> store;
    int64_t wall_ms = 1'700'000'000'000;

    explicit Run(const std::string& dir, int64_t wall) : wall_ms(wall) {
        store = std::make_unique<daemon::StateStore>(dir, timers, [this] { return wall_ms; });
        store->load();
        core::CoreDeps d;
        d.clock = &clock;
        d.timers = &timers;
        d.events = &events;
        core = std::make_unique<core::Core>(d);
        auto cfg = two_targets();
        core->configure(cfg, {std::make_shared<core::TargetShared>("vpn"), std::make_shared<core::TargetShared>("nas")});
        daemon::WakeService::Wiring w;
        w.send_burst = [](const std::string&) { return true; };
        wake = std::make_unique<daemon::WakeService>(loop, clock, timers, std::move(w));
        if (!store->saved_targets().empty()) core->restore(store->saved_targets());
        wake->configure(*cfg);
        wake->resume(store->loaded());
        store->attach(core.get(), {[this](state::PersistedState* ps) { wake->save(ps); }});
    }
    const core::Target& target(const char* name) { return *core->find(name); }
};

}  // namespace

TEST_CASE("state store: targets and wake cycles survive a save and a load, min_active included") {
    TempDir dir;
    const int64_t wall0 = sys::wall_ms();
    {
        Run a(dir.path, wall0);
        std::string err;
        REQUIRE(a.core->start("vpn", core::Reason::Control, &err));
        REQUIRE(a.wake->burst_sent("nas") == 1);
        a.clock.t += 11 * kS;  // the first attempt times out: the second burst goes
        a.timers.run_due(a.clock.t);
        REQUIRE(a.wake->view("nas").attempt == 2);
        a.wall_ms = wall0 + 11'000;
        a.store->save();
    }
    state::PersistedState ps;
    std::string err;
    REQUIRE(state::load_state(dir.path, &ps, &err) == state::LoadResult::Loaded);
    REQUIRE(ps.targets.size() == 2);
    const state::PersistedTarget& vpn = ps.targets[0].name == "vpn" ? ps.targets[0] : ps.targets[1];
    const state::PersistedTarget& nas = ps.targets[0].name == "nas" ? ps.targets[0] : ps.targets[1];
    CHECK(vpn.active);
    CHECK(vpn.active_since_wall_ms == wall0);
    CHECK(vpn.last_seen_wall_ms == wall0);
    CHECK(vpn.ttl_deadline_wall_ms == wall0 + 3600'000);  // min_active, not last_seen + ttl
    CHECK_FALSE(nas.active);
    CHECK(nas.wake_state == "waking");
    CHECK(nas.wake_attempt == 2);

    Run b(dir.path, wall0 + 20'000);  // restarted 9 s later on the wall clock
    const core::Target& t = b.target("vpn");
    CHECK(t.state == core::TargetState::Active);
    CHECK(core::stop_deadline_ns(t) - b.clock.t == 3580 * kS);  // the hour from the first start
    CHECK(b.target("nas").state == core::TargetState::Idle);
    const core::WakeView w = b.wake->view("nas");
    CHECK(w.state == core::WakeState::Waking);
    CHECK(w.attempt == 2);
}

TEST_CASE("state store: saves only when dirty; the refresh runs while a target is active") {
    TempDir dir;
    Run a(dir.path, sys::wall_ms());
    a.store->save_if_dirty();
    CHECK_FALSE(std::filesystem::exists(dir.path + "/state.json"));
    a.store->mark_dirty();
    a.store->save_if_dirty();
    CHECK(std::filesystem::exists(dir.path + "/state.json"));
    CHECK(a.timers.next_deadline_ns() == core::TimerQueue::kNever);  // every target idle: nothing armed
    std::string err;
    REQUIRE(a.core->start("vpn", core::Reason::Control, &err));
    a.store->save();
    // vpn's ttl/4 is under the floor: the refresh looks again after kRefreshMinNs.
    CHECK(a.timers.next_deadline_ns() == a.clock.t + daemon::StateStore::kRefreshMinNs);
    a.clock.t += daemon::StateStore::kRefreshMinNs;
    a.timers.run_due(a.clock.t);  // no last_seen moved: nothing to save, looks again
    a.store->save_if_dirty();
    CHECK(a.timers.next_deadline_ns() == a.clock.t + daemon::StateStore::kRefreshMinNs);
    a.core->find("vpn")->shared->last_seen_ns.store(a.clock.t);  // a keepalive the sensor stored
    a.clock.t += daemon::StateStore::kRefreshMinNs;
    a.timers.run_due(a.clock.t);
    std::filesystem::remove(dir.path + "/state.json");
    a.store->save_if_dirty();  // the refresh marked it dirty
    CHECK(std::filesystem::exists(dir.path + "/state.json"));
}

TEST_CASE("state store: no directory keeps nothing") {
    Run a("", sys::wall_ms());
    a.store->mark_dirty();
    a.store->save_if_dirty();
    CHECK(a.store->saved_targets().empty());
    CHECK(a.timers.next_deadline_ns() == core::TimerQueue::kNever);
}

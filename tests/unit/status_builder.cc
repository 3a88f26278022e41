// tests/unit/status_builder.cc — daemon::build_status from a fake snapshot (a core on a fake clock,
// hand-made sensor/hook/control counters, a fake wake view and sleep proxy): the JSON fields, the
// stop deadline with min_active, wake verification, the proxy's machines and every internals group.
#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/event_sinks.h"
#include "core/timer_queue.h"
#include "daemon/status_builder.h"

using namespace nw;
using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

namespace {

constexpr int64_t kS = 1'000'000'000;

struct Clock : core::Clock {
    int64_t t = 100 * kS;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1700000000 + t / kS; }
};

struct Snapshot {
    Clock clock;
    core::TimerQueue timers{clock};
    core::EventBus events;
    std::unique_ptr<core::Core> core;
    sensor::Stats wan;
    action::HookStats hooks;
    control::Server::Stats control;
    daemon::StatusSources in;

    Snapshot() {
        auto cfg = std::make_shared<config::Config>();
        config::TargetConf vpn, nas;
        vpn.name = "vpn";
        vpn.ttl = 10s;
        vpn.min_active = 60s;  // holds the stop 60 s after the start, whatever the TTL says
        nas.name = "nas";
        nas.ttl = 5s;
        cfg->targets = {vpn, nas};
        core::CoreDeps d;
        d.clock = &clock;
        d.timers = &timers;
        d.events = &events;
        core = std::make_unique<core::Core>(d);
        core->configure(cfg, {std::make_shared<core::TargetShared>("vpn"), std::make_shared<core::TargetShared>("nas")});
        wan.packets = 10;
        wan.matched = 4;
        wan.drops = 2;
        wan.queue_full = 1;
        wan.malformed = 3;
        wan.enobufs = 7;
        wan.up = true;
        hooks.spawned = 5;
        control.accepted = 9;
        control.bad_requests = 2;
        control.accept_errors = 1;
        in.started_ns = clock.t;
        in.pid = 4242;
        in.sensors.push_back({"wan", "nflog", &wan});
        in.core = core.get();
        in.hooks = &hooks;
        in.events_emitted = 1;
        in.commands_done = 3;
        in.commands_failed = 1;
        in.control = &control;
    }
    json build() {
        in.now_ns = clock.t;
        const std::string line = control::format_status(daemon::build_status(in));
        return json::parse(line);
    }
};

const json& target(const json& j, const std::string& name) {
    for (const auto& t : j["targets"])
        if (t["name"] == name) return t;
    FAIL("no target " << name);
    static json none;
    return none;
}

}  // namespace

TEST_CASE("status builder: sensors, totals and targets; remaining_s honours min_active") {
    Snapshot s;
    std::string err;
    REQUIRE(s.core->start("vpn", core::Reason::Control, &err));
    s.clock.t += 15 * kS;  // TTL (10 s) long past, min_active (60 s) not
    const json j = s.build();
    CHECK(j["ok"] == true);
    CHECK(j["pid"] == 4242);
    CHECK(j["uptime_s"] == 15);
    REQUIRE(j["sensors"].size() == 1);
    CHECK(j["sensors"][0]["name"] == "wan");
    CHECK(j["sensors"][0]["kind"] == "nflog");
    CHECK(j["sensors"][0]["packets"] == 10);
    CHECK(j["sensors"][0]["up"] == true);
    CHECK(j["counters"]["dropped"] == 3);    // drops + queue_full
    CHECK(j["counters"]["malformed"] == 3);
    CHECK(j["counters"]["rejected"] == 2);   // the control socket's bad requests
    const json& vpn = target(j, "vpn");
    CHECK(vpn["state"] == "active");
    CHECK(vpn["ttl_s"] == 10.0);
    CHECK(vpn["idle_s"] == 15.0);
    CHECK(vpn["remaining_s"] == 45.0);  // 60 s after the start, not 0 (ttl after the last packet)
    const json& nas = target(j, "nas");
    CHECK(nas["state"] == "idle");
    CHECK(nas["idle_s"].is_null());
    CHECK(nas["remaining_s"].is_null());
    CHECK(nas["wake"].is_null());
    CHECK(nas["proxy"].is_null());
    CHECK(j["mqtt"].is_null());
    CHECK_FALSE(j.contains("relay"));
}

TEST_CASE("status builder: wake verification, the proxy's machines and MQTT come from their sources") {
    Snapshot s;
    s.in.wake_view = [](const std::string& t) {
        core::WakeView v;
        if (t == "nas") v = {core::WakeState::Awake, 2, 0, 0, 1500 * 1'000'000};
        return v;
    };
    s.in.wake_counts = std::pair<uint64_t, uint64_t>{6, 1};
    s.in.proxy = [](control::Status* st) {
        control::TargetStatus m;
        m.name = "laptop";
        m.state = "idle";
        m.proxy = control::ProxyStatus{"asleep", {"192.0.2.7"}};
        st->targets.push_back(m);
        st->internals.push_back({"sleep_proxy", {{"frames", 11}}});
    };
    s.in.mqtt = control::MqttStatus{"mqtt://broker:1883", "netwaked", "netwaked", true, 1, 2, 3, 4, 0};
    const json j = s.build();
    const json& nas = target(j, "nas");
    CHECK(nas["wake"]["state"] == "awake");
    CHECK(nas["wake"]["attempt"] == 2);
    CHECK(nas["wake"]["seconds"] == 1.5);
    CHECK(target(j, "vpn")["wake"].is_null());
    const json& laptop = target(j, "laptop");
    CHECK(laptop["proxy"]["state"] == "asleep");
    CHECK(laptop["proxy"]["addresses"][0] == "192.0.2.7");
    CHECK(j["mqtt"]["broker"] == "mqtt://broker:1883");
    CHECK(j["mqtt"]["commands_refused"] == 4);
    CHECK(j["internals"]["wake_verify"]["probes"] == 6);
    CHECK(j["internals"]["wake_verify"]["signs_of_life"] == 1);
    CHECK(j["internals"]["sleep_proxy"]["frames"] == 11);
}

TEST_CASE("status builder: internals in their fixed order, absent parts left out") {
    Snapshot s;
    json j = s.build();
    std::vector<std::string> names;
    for (auto it = j["internals"].begin(); it != j["internals"].end(); ++it) names.push_back(it.key());
    CHECK(names == std::vector<std::string>{"hooks", "events", "commands", "control", "sensor wan", "core"});
    CHECK(j["internals"]["hooks"]["spawned"] == 5);
    CHECK(j["internals"]["events"]["emitted"] == 1);
    CHECK(j["internals"]["commands"]["done"] == 3);
    CHECK(j["internals"]["commands"]["failed"] == 1);
    CHECK(j["internals"]["control"]["accepted"] == 9);
    CHECK(j["internals"]["control"]["accept_errors"] == 1);  // EMFILE episodes: counted, now shown
    CHECK(j["internals"]["sensor wan"]["enobufs"] == 7);
    CHECK(j["internals"]["core"]["stale_hits"] == 0);
    s.in.control = nullptr;  // no control socket: no group, and its bad requests are not counted
    s.in.hooks = nullptr;
    j = s.build();
    CHECK_FALSE(j["internals"].contains("control"));
    CHECK_FALSE(j["internals"].contains("hooks"));
    CHECK(j["counters"]["rejected"] == 0);
}

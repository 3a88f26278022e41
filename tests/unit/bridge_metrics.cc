// tests/unit/bridge_metrics.cc — Prometheus text rendering (SPEC §17): names, labels, one state
// gauge per state, escaping of label values.
#include <doctest/doctest.h>

#include "bridge/metrics.h"

using namespace nw;

TEST_CASE("metrics: state gauges, counters, escaped labels") {
    bridge::MetricsSnapshot s;
    s.targets.push_back({"nas", "active", {{"start", 2}, {"wake", 1}}, {{{"start", "ok"}, 2}, {{"stop", "timeout"}, 1}}, 1, 4.5});
    s.targets.push_back({"q\"t", "idle", {}, {}, 0, -1});
    s.sensors.push_back({"wan", 100, 2});
    s.rejected["mqtt"] = 7;
    s.counters = {{"truncated", 5}};
    const std::string t = bridge::render_metrics(s);
    CHECK(t.find("netwaked_target_state{target=\"nas\",state=\"active\"} 1\n") != std::string::npos);
    CHECK(t.find("netwaked_target_state{target=\"nas\",state=\"idle\"} 0\n") != std::string::npos);
    CHECK(t.find("netwaked_events_total{target=\"nas\",event=\"start\"} 2\n") != std::string::npos);
    CHECK(t.find("netwaked_wake_seconds{target=\"nas\"} 4.5") != std::string::npos);
    CHECK(t.find("netwaked_hook_runs_total{target=\"nas\",event=\"start\",result=\"ok\"} 2\n") != std::string::npos);
    CHECK(t.find("netwaked_hook_runs_total{target=\"nas\",event=\"stop\",result=\"timeout\"} 1\n") != std::string::npos);
    CHECK(t.find("netwaked_hook_runs_total{target=\"q") == std::string::npos);  // no run, no series
    CHECK(t.find("netwaked_wake_seconds{target=\"q") == std::string::npos);
    CHECK(t.find("netwaked_target_state{target=\"q\\\"t\",state=\"idle\"} 1\n") != std::string::npos);
    CHECK(t.find("netwaked_sensor_lost_total{sensor=\"wan\"} 2\n") != std::string::npos);
    CHECK(t.find("netwaked_rejected_total{kind=\"mqtt\"} 7\n") != std::string::npos);
    CHECK(t.find("# TYPE netwaked_truncated_total counter\nnetwaked_truncated_total 5\n") != std::string::npos);
}

// bridge/metrics.h — Prometheus text exposition of netwaked's figures (SPEC §17). Pure: a
// snapshot in, text out; the daemon writes it atomically (metrics.textfile).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace nw::bridge {

struct MetricsSnapshot {
    struct Target {
        std::string name, state;                       // state: idle, active, ...
        std::map<std::string, uint64_t> events;        // event -> count
        std::map<std::pair<std::string, std::string>, uint64_t> hooks;  // (event, result) -> finished runs
        uint64_t wakes = 0;
        double wake_seconds = -1;                      // last time-to-awake; < 0: none
    };
    struct Sensor {
        std::string name;
        uint64_t packets = 0, lost = 0;
    };
    std::vector<Target> targets;
    std::vector<Sensor> sensors;
    std::map<std::string, uint64_t> rejected;          // kind -> count (malformed, spa, mqtt, ...)
    std::vector<std::pair<std::string, uint64_t>> counters;  // other status counters: name -> value
};

// The text, with HELP/TYPE lines; label values escaped as the format requires.
std::string render_metrics(const MetricsSnapshot& s);

}  // namespace nw::bridge

// daemon/status_builder.h — the status document (netwakectl status, SIGUSR1, metrics) built from
// what it is given: sensors' counters, the core's targets (stop deadline: core::stop_deadline_ns),
// every component's internals. Reads only; no clock of its own, no I/O (tests feed it fakes).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "action/hooks.h"
#include "control/protocol.h"
#include "control/server.h"
#include "core/core.h"
#include "core/wake_cycle.h"
#include "sensor/sensor.h"

namespace nw::daemon {

// Everything the status shows, gathered by the wiring (Runtime::status) at one instant.
// Pointers may be null: that part is absent (no control socket, no wake verification, ...).
struct StatusSources {
    int64_t now_ns = 0;          // the loop's clock now
    int64_t started_ns = 0;      // when the daemon started (uptime)
    int64_t pid = 0;
    struct Sensor {
        std::string name;
        std::string kind;        // "nflog" | "pcap"
        const sensor::Stats* stats = nullptr;
    };
    std::vector<Sensor> sensors;
    core::Core* core = nullptr;                       // targets, knocks, relay, stale hits (read only)
    const action::HookStats* hooks = nullptr;
    uint64_t events_emitted = 0;
    uint64_t commands_done = 0, commands_failed = 0;
    const control::Server::Stats* control = nullptr;  // the control socket
    // Wake verification (SPEC §7.1): a target's cycle, and the probe counters.
    std::function<core::WakeView(const std::string& target)> wake_view;
    std::optional<std::pair<uint64_t, uint64_t>> wake_counts;  // probes, signs of life
    // The sleep proxy: adds its machines' state, registered machines and its internals.
    std::function<void(control::Status*)> proxy;
    std::optional<control::MqttStatus> mqtt;          // present with an mqtt section
};

// The status document for `in` (SPEC §11; doc/status-json.md). Pure given its inputs.
control::Status build_status(const StatusSources& in);

}  // namespace nw::daemon

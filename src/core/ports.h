// core/ports.h — the small interfaces through which the core causes side effects (DESIGN
// "Side effects sit behind small interfaces"). Real implementations live in action/, proxy/ and sys/;
// unit tests substitute fakes that record what the core asked for.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/model.h"
#include "packet/decode.h"
#include "packet/hostaddr.h"

namespace nw::core {

// Monotonic time in ns (CLOCK_MONOTONIC) and wall time in seconds (logs, state file).
class Clock {
   public:
    virtual ~Clock() = default;
    virtual int64_t now_ns() const = 0;
    virtual int64_t wall_s() const = 0;
};

// One hook invocation: <path> <event> <target> with the NETWAKED_* environment.
struct HookJob {
    std::string target;
    std::string path;
    std::string shell;        // non-empty: argv is path -c '<shell> "$@"' netwaked event target
    std::string event;
    std::vector<std::pair<std::string, std::string>> env;  // NETWAKED_* only; runner adds PATH/LANG/TZ
    std::chrono::milliseconds timeout{60000};
};

struct HookResult {
    std::string target;
    std::string event;
    int exit_code = 0;        // exit status, or -signal if killed by a signal, or 127 if exec failed
    bool timed_out = false;
    int64_t runtime_ms = 0;
};

// Runs hooks. Hooks of one target never overlap and run in submission order (subject to the
// documented coalescing rule); hooks of different targets run in parallel. Never blocks.
class HookSpawner {
   public:
    virtual ~HookSpawner() = default;
    virtual void submit(HookJob job) = 0;
    // Called (on the core thread) when a job has finished.
    std::function<void(const HookResult&)> on_done;
    // Number of hooks running or queued.
    virtual size_t pending() const = 0;
    // SIGTERM→SIGKILL every running hook group now (used only when the daemon must exit fast).
    virtual void kill_all() = 0;
};

// Sends Wake-on-LAN magic packets (one copy; the core schedules repeats on its timers).
class WolSender {
   public:
    virtual ~WolSender() = default;
    // Sends one copy per configured method/destination. Returns a one-line description of what
    // went out ("ethernet eth0 -> d8:..,ff:ff:..; udp 192.168.1.255:9"), or sets *err.
    virtual bool send(const config::WolConf& w, std::string* desc, std::string* err) = 0;
};

// An address configured on a host interface (prefix length in the 128-bit space: v4 /24 = 120).
using IfAddr = packet::IfAddr;

// The host's own identity on the network. Implementations may cache (HostInfo refreshes).
class HostView {
   public:
    virtual ~HostView() = default;
    virtual std::optional<packet::Mac> if_mac(const std::string& ifname) = 0;
    // A MAC of any local interface (frames from it are the host's own).
    virtual bool own_mac(const packet::Mac& m) = 0;
    // An address configured on any local interface.
    virtual bool own_addr(const packet::Addr& a) = 0;
    // Addresses configured on `ifname` (empty if none or unknown).
    virtual std::vector<IfAddr> if_addrs(const std::string& ifname) = 0;
};

}  // namespace nw::core

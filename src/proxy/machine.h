// proxy/machine.h — the runtime record of one proxied machine, shared by the proxy_*.cc files.
// Internal to proxy/: plain data, no logic; only SleepProxy's transition() changes `state`.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "core/shared.h"
#include "proxy/proxy.h"

namespace nw::proxy {

// Per address: whether it is held (answered for) and the probe bookkeeping.
struct AddrState {
    bool held = false;
    bool conflict = false;     // released because another MAC claimed it (until the next cycle)
    bool awaiting = false;     // a probe went out and nothing answered yet
    uint32_t misses = 0;       // consecutive unanswered probes
    std::optional<packet::Mac> answered_by;  // who last answered for it while the machine was up
    bool disowned = false;     // registrations: another MAC answered for it, so it is never taken over
};

// A connection attempt that caused (or arrived during) a wake: its retransmissions must not
// start new wake cycles.
struct WakeKey {
    uint8_t proto = 0;
    packet::Addr src{}, dst{};
    uint16_t sport = 0, dport = 0;
    int64_t first_ns = 0;
    bool same(const WakeKey& o) const {
        return proto == o.proto && src == o.src && dst == o.dst && sport == o.sport && dport == o.dport;
    }
};

// Linux retries a SYN 6 times over ~127 s (tcp_syn_retries); a key is remembered this long.
inline constexpr int64_t kRetransmitWindowNs = 130'000'000'000;
inline constexpr size_t kMaxWakeKeys = 64;

struct SleepProxy::Machine {
    uint64_t id = 0;
    MachineSpec spec;
    State state = State::Up;
    std::vector<AddrState> addr;           // parallel to spec.addresses
    bool resuming = false;                 // restored asleep/waking: take over quietly if silent
    State resumed_from = State::Up;        // while resuming: the state the state file keeps
    bool shutdown_on_answer = false;       // restored registration: shutdown_timeout starts at its first answer
    int64_t since_ns = 0;                  // entered `state`
    uint32_t wol_left = 0;                 // magic packets left in the current burst
    uint64_t wakes = 0;
    std::unique_ptr<core::Hit> wake_cause; // the packet that started the current wake cycle
    int64_t cycle_ns = 0;                  // start of the last wake cycle not answered yet (wol.cooldown)
    std::unique_ptr<core::Hit> deferred;   // wake-worthy traffic during the cooldown: wakes when it ends
    std::deque<WakeKey> keys;              // recent wake-worthy connection attempts
    bool said_other_mac = false;           // logged once: a probe was answered by another MAC
    uint64_t drops_seen = 0;               // FrameSink::drops() at the last probe round
};

}  // namespace nw::proxy

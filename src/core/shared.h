// core/shared.h — the few pieces of target state that sensor threads may touch, and the Hit
// a sensor hands the core. Sensors only read `active` and store `last_seen_ns` (the hot path:
// no queue push, no syscall); every other piece of target state belongs to the core thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "packet/decode.h"

namespace nw::core {

// Shared, address-stable per-target slot. Lives as long as any Ruleset that points to it.
struct TargetShared {
    explicit TargetShared(std::string n) : name(std::move(n)) {}
    const std::string name;
    std::atomic<bool> active{false};          // written by the core only
    std::atomic<int64_t> last_seen_ns{0};     // keepalive time (monotonic), written by sensors
    std::atomic<uint32_t> overflow_hits{0};   // hits that could not be queued (queue full)
};

enum class HitKind : uint8_t {
    Traffic,   // a packet matched a target's match/keepalive rules while it was idle
    Knock,     // a packet matched a knock port (core tracks sequences / verifies SPA)
    Proxy,     // a frame for the sleep proxy (ARP/NDP/TCP/UDP on a proxied interface)
};

// What a sensor hands the core. Copyable, fixed size, no heap.
struct Hit {
    HitKind kind = HitKind::Traffic;
    bool match = false;                       // the target's match rules held
    bool keepalive = false;                   // the target's keepalive rules held
    uint16_t sensor = 0;                      // index into the sensor list
    TargetShared* target = nullptr;           // null for Knock/Proxy hits
    int64_t t_ns = 0;                         // monotonic receive time
    packet::Decoded d;
    char prefix[64] = {};                     // NFLOG prefix, NUL-terminated
    char in_iface[16] = {};                   // IFNAMSIZ
    char out_iface[16] = {};
    packet::LinkType linktype = packet::LinkType::Ethernet;  // of raw[]
    uint16_t raw_len = 0;                     // bytes in raw[] (a prefix of the frame)
    uint32_t orig_len = 0;                    // length of the whole frame on the wire
    uint8_t raw[192] = {};                    // the frame's head (matching, the start log)
    // The whole captured frame, on the heap, only when raw[] is too short and something needs
    // it (the -w savefile for Traffic hits, SPA for Knock hits); null otherwise. Owned by whoever
    // pops the Hit (release_full after Core::on_hit); never valid in a stored copy.
    uint8_t* full = nullptr;
    uint32_t full_len = 0;
};

// The captured bytes of a Hit's frame: the whole capture when it travelled, else raw[].
inline std::span<const uint8_t> frame_bytes(const Hit& h) {
    return h.full ? std::span<const uint8_t>(h.full, h.full_len) : std::span<const uint8_t>(h.raw, h.raw_len);
}
inline void release_full(Hit& h) {
    std::free(h.full);
    h.full = nullptr;
    h.full_len = 0;
}

}  // namespace nw::core

// core/match.h — compiled match rules of every target (SPEC §3 "Match rule fields").
// A Ruleset is built once per configuration and is immutable afterwards, so sensor threads
// classify against it without locks. Per-packet cost does not grow with the number of targets:
// rules are indexed (NFLOG prefix, destination address/port), not scanned.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "core/shared.h"
#include "packet/decode.h"

namespace nw::core {

// What the sensor knows about a packet besides its bytes.
struct PacketMeta {
    uint16_t sensor = 0;             // index into Config::sensors
    std::string_view prefix;         // NFLOG prefix ("" if none / pcap)
    bool has_prefix = false;
    std::string_view in_iface;       // "" if unknown (or not resolved: see Ruleset::uses_ifaces)
    std::string_view out_iface;
    uint32_t in_ifindex = 0;         // NFLOG: the interfaces' indexes (0: none / pcap)
    uint32_t out_ifindex = 0;
};

struct Verdict {
    TargetShared* target;
    uint32_t index;                  // index into Config::targets
    bool match;                      // match rules hold (counts toward start)
    bool keepalive;                  // keepalive rules hold (resets the idle timer)
};

class Ruleset {
   public:
    // Compiles `cfg`. `slots[i]` is the shared slot of cfg.targets[i] (same length).
    // Returns null and sets *err if a rule cannot be compiled (the loader validates first,
    // so this is only for programming errors).
    static std::unique_ptr<Ruleset> build(const config::Config& cfg,
                                          std::vector<std::shared_ptr<TargetShared>> slots,
                                          std::string* err);
    ~Ruleset();

    // Appends one Verdict per target whose match or keepalive rules hold for the packet.
    // `out` is cleared first. Thread-safe (const); allocation-free once `out` has capacity.
    void classify(const packet::Decoded& d, const PacketMeta& m, std::vector<Verdict>* out) const;

    // True if some rule compares interface names: sensors resolve PacketMeta::in_iface/out_iface
    // only then (a Hit gets them anyway, from PacketMeta's indexes).
    bool uses_ifaces() const;
    // What the rules read (the sensors' hot path fetches and decodes only that): the NFLOG
    // prefix; anything of the decoded packet (proto, addresses, ports, flags); the link layer
    // (source MAC, VLAN).
    bool uses_prefix() const;
    bool uses_packet() const;
    bool uses_link() const;
    bool uses_addrs() const;  // some rule compares src or dst
    // True if classify()'s answer depends on nothing but PacketMeta::sensor/has_prefix/prefix and
    // the packet's l3, proto, dst_port, whether its ports are valid (has_l4, not a fragment) and,
    // if uses_addrs(), its src and dst: no rule compares source ports, TCP flags, interfaces or
    // the link layer. A sensor may then reuse the verdicts of the previous packet with the same
    // values (hot path memo).
    bool keyed() const;
    TargetShared* slot(uint32_t index) const;

    struct Impl;

   private:
    explicit Ruleset(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Does one rule hold for a packet? (Exposed for tests and for the index's final check.)
bool rule_matches(const config::Rule& r, const config::Config& cfg, const packet::Decoded& d,
                  const PacketMeta& m);

}  // namespace nw::core

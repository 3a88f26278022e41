// packet/probe.h — the one liveness probe of netwaked (sleep proxy §8 and wake verification §7.1):
// an ARP request or a neighbor solicitation for an address, with the source address chosen from
// the interface's own. Pure: no syscalls, no logging, no globals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "packet/decode.h"
#include "packet/hostaddr.h"

namespace nw::packet {

inline constexpr size_t kProbeFrameMaxLen = 86;  // kNdFrameLen

// Writes the probe for `target` from `our_mac` into buf; returns its length or 0.
// IPv4: an ARP request with the interface's own IPv4 address as sender (the one whose prefix
// holds the target, else any); only without one the RFC 5227 probe form (sender 0.0.0.0), which
// a booting machine running conflict detection would read as a conflict. IPv6: an NS from the
// interface's link-local address (else the EUI-64 one of our_mac), never from :: (DAD).
// `unicast_to`: send straight to that MAC instead of broadcast / the solicited-node group.
size_t encode_probe(std::span<uint8_t> buf, const Mac& our_mac, const std::vector<IfAddr>& if_addrs,
                    const Addr& target, std::optional<Mac> unicast_to = std::nullopt);

}  // namespace nw::packet

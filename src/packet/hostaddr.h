// packet/hostaddr.h — the "usable host address" rule: which addresses the sleep proxy may hold
// for a machine. One implementation for the config loader, the registration checks and the proxy.
// Pure: the caller supplies what it knows about the host; no syscalls, no logging.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "packet/decode.h"

namespace nw::packet {

// An address configured on a host interface (prefix length in the 128-bit space: v4 /24 = 120).
struct IfAddr {
    Addr addr{};
    uint8_t prefix_len = 128;
    bool operator==(const IfAddr&) const = default;
};

// Why `a` can never be a machine's unicast address ("is a multicast address"), "" if it can.
std::string unusable_address(const Addr& a);

// How strict the on-link test is when the interface has no address of a's family.
enum class OnLink : uint8_t {
    Required,  // no covering prefix: "is not on-link" (a registration: the host must know the net)
    IfKnown,   // judged only when the interface has a prefix of a's family that is not IPv6
               // link-local (the configuration: an interface still waiting for DHCP/SLAAC passes)
};

// Why the proxy must not hold `a` on `ifname` ("" if it may): it is the host's own (`own`: on
// any interface), is not inside a prefix of `on_if` (the interface's addresses), or is the
// network or broadcast address of an IPv4 prefix of /30 or shorter there. Phrased to follow the
// address: "belongs to this host", "is not on-link on eth0",
// "is the broadcast address of its /24 network on eth0".
std::string host_address_problem(const Addr& a, bool own, const std::string& ifname, const std::vector<IfAddr>& on_if,
                                 OnLink mode = OnLink::Required);

// IPv6 link-local (fe80::/10).
bool is_link_local6(const Addr& a);

}  // namespace nw::packet

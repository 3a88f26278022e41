// proxy/ports.h — the small interfaces through which the sleep proxy touches the world: frames
// out + receive filter, the host firewall (the host's own addresses: core/ports.h). Declarations only, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/ports.h"
#include "packet/decode.h"
#include "packet/hostaddr.h"

namespace nw::proxy {

// What the packet socket of one interface must let through besides ARP and ICMPv6 neighbor
// discovery (always passed), and which link-layer multicast groups it must join.
struct Interest {
    std::vector<packet::Mac> macs;   // every frame sent from these MACs (the proxied machines)
    std::vector<packet::Addr> held;  // IPv4/IPv6 packets to these addresses (v6 ones: their
                                     // solicited-node groups are joined too)
    bool operator==(const Interest&) const = default;
};

// Frames out, and the receive side's filter. Implemented by PacketIo (AF_PACKET) and by fakes.
class FrameSink {
   public:
    virtual ~FrameSink() = default;
    // Sends one complete Ethernet frame on `ifname`. Never blocks; false if it did not go out.
    virtual bool send(const std::string& ifname, std::span<const uint8_t> frame) = 0;
    // Replaces what `ifname`'s receive filter passes (see Interest).
    virtual void set_interest(const std::string& ifname, const Interest& in) = 0;
    // Frames the kernel dropped so far on `ifname`'s receive side (cumulative; never decreases):
    // answers to probes may have been among them.
    virtual uint64_t drops(const std::string& /*ifname*/) { return 0; }
};

// The host firewall: drops packets that arrive for a held address so the host never forwards
// them back onto the LAN nor answers them. Asynchronous; never blocks.
class Firewall {
   public:
    virtual ~Firewall() = default;
    // Replaces the whole set of held (interface, address) pairs.
    virtual void set_held(const std::vector<std::pair<std::string, packet::Addr>>& held) = 0;
};

// The host's identity (HostView, IfAddr) is a core interface: control/ checks registrations
// against it too (core/ports.h).
using core::HostView;
using core::IfAddr;

}  // namespace nw::proxy

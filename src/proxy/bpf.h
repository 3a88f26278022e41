// proxy/bpf.h — builds the classic BPF receive filter of a sleep-proxy packet socket from an
// Interest. Pure: no syscalls. The filter only reduces load; user space checks every frame again.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "proxy/ports.h"

namespace nw::proxy {

inline constexpr uint32_t kSnapLen = 65535;  // bytes of an accepted frame handed to user space

// Accepts, on an untagged incoming frame (VLAN-tagged and outgoing frames are rejected):
//   - every ARP frame;
//   - IPv6 ICMPv6 neighbor solicitations and advertisements (no extension headers);
//   - every frame whose source MAC is in in.macs;
//   - IPv4 / IPv6 packets whose destination is in in.held (options / extension headers do not
//     matter: the destination sits at a fixed offset).
// If the program would exceed the kernel's limit, the per-address tests are replaced by
// "every IPv4/IPv6 packet" (correct, just more work in user space).
std::vector<sock_filter> build_filter(const Interest& in);

}  // namespace nw::proxy

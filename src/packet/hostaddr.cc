// packet/hostaddr.cc — the "usable host address" rule (see hostaddr.h).
// Pure: no syscalls, no logging, no globals.
#include "packet/hostaddr.h"

#include "packet/parse.h"

namespace nw::packet {

std::string unusable_address(const Addr& a) {
    if (a.is_v4()) {
        const uint32_t v = a.v4_host();
        if (v == 0) return "is the unspecified address";
        if (v == 0xffffffffu) return "is the broadcast address";
        if ((v >> 24) == 0) return "is in 0.0.0.0/8 (this network)";
        if ((v >> 24) == 127) return "is a loopback address";
        if ((v >> 28) == 0xe) return "is a multicast address";
        if ((v >> 28) == 0xf) return "is in the reserved range 240.0.0.0/4";
        return "";
    }
    if (a == Addr{}) return "is the unspecified address";
    Addr one;
    one.b[15] = 1;
    if (a == one) return "is the loopback address";
    if (a.b[0] == 0xff) return "is a multicast address";
    return "";
}

bool is_link_local6(const Addr& a) { return !a.is_v4() && a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80; }

std::string host_address_problem(const Addr& a, bool own, const std::string& ifname, const std::vector<IfAddr>& on_if,
                                  OnLink mode) {
    if (own) return "belongs to this host";
    const IfAddr* net = nullptr;
    bool known = false;  // the interface has a prefix that could hold `a`'s kind of address
    for (const auto& x : on_if) {
        if (x.addr.is_v4() != a.is_v4()) continue;
        if (!is_link_local6(x.addr) || is_link_local6(a)) known = true;
        if (cidr_contains(x.addr, x.prefix_len, a)) net = &x;
    }
    if (!net) return mode == OnLink::IfKnown && !known ? "" : "is not on-link on " + ifname;
    if (a.is_v4() && net->prefix_len <= 126) {  // IPv4 /30 or shorter: network/broadcast exist
        const uint32_t mask = (uint32_t(1) << (128 - net->prefix_len)) - 1, host = a.v4_host() & mask;
        if (host == mask || host == 0)
            return std::string("is the ") + (host == 0 ? "network" : "broadcast") + " address of its /" +
                   std::to_string(net->prefix_len - 96) + " network on " + ifname;
    }
    return "";
}

}  // namespace nw::packet

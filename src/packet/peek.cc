// packet/peek.cc — peek_ip()'s IPv6 half (the IPv4 half is inline in peek.h): the checks
// decode_ip() makes on a plain TCP/UDP packet (tests/fuzz/fuzz_packet.cc holds them to one answer).
#include "packet/peek.h"

namespace nw::packet::peek_detail {

bool ip6(std::span<const uint8_t> packet, bool addrs, Key* k) {
    const uint8_t* p = packet.data();
    const size_t cap = packet.size();
    if (p[0] >> 4 != 6 || cap < 40) return false;
    // ipv6(): the payload length bounds the packet (0: unknown, jumbogram/GSO); the next header
    // must be the transport itself (extension headers: decode).
    const size_t plen = rd16(p + 4);
    const size_t end = (plen != 0 && 40 + plen < cap) ? 40 + plen : cap;
    if (!l4(p, 40, end, p[6], k)) return false;
    k->l3 = 6;
    if (addrs) {
        k->src = Addr::v6_bytes(p + 8);
        k->dst = Addr::v6_bytes(p + 24);
    }
    return true;
}

}  // namespace nw::packet::peek_detail

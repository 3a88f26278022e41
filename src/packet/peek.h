// packet/peek.h — the few fields a keyed classification reads (IP version, protocol, destination
// port, addresses), read from a plain IPv4/IPv6 TCP or UDP packet without decoding it: the
// sensors' hot path compares them with the last packet's before deciding to decode. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "packet/decode.h"

namespace nw::packet {

// The fields of a Decoded that a keyed ruleset looks at (core::Ruleset::keyed). `ports` is
// has_l4 && !fragment.
struct Key {
    uint8_t l3 = 0;     // 4 or 6
    uint8_t proto = 0;  // IP protocol
    uint8_t ports = 0;  // 1: dport is valid (TCP/UDP header present, not a later fragment)
    uint8_t pad0 = 0;
    uint16_t dport = 0;
    uint16_t pad1 = 0;
    Addr src, dst;  // only when peek_ip()'s `addrs` was true (else left as they were)

    // l3, proto, ports and dport as one number (the padding stays 0): one comparison for all four.
    uint64_t head() const {
        uint64_t h;
        std::memcpy(&h, this, sizeof h);
        return h;
    }
    static Key of(const Decoded& d) {  // the key of a decoded packet
        Key k;
        k.l3 = d.l3;
        k.proto = d.proto;
        k.ports = d.has_l4 && !d.fragment;
        k.dport = d.dst_port;
        k.src = d.src;
        k.dst = d.dst;
        return k;
    }
};
static_assert(offsetof(Key, src) == 8, "head() covers the first 8 bytes");

// True, with *k set, only when decode_ip(packet) returns Error::Ok with exactly these values
// (Key::of its result). Handles what floods are made of: IPv4 without options and IPv6 without
// extension headers, carrying TCP or UDP, not fragmented. Anything else (options, extension
// headers, fragments, ICMP, other protocols, truncated or malformed headers) answers false:
// the caller decodes the packet. `addrs`: also fill src and dst. Inline: once per packet.
[[gnu::always_inline]] inline bool peek_ip(std::span<const uint8_t> packet, bool addrs, Key* k);

namespace peek_detail {

inline uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// The transport header at `off` of a packet ending at `end` (the IP length, within the capture):
// the destination port if decode_ip() would accept the header as it is (tcp()/udp() there).
inline bool l4(const uint8_t* p, size_t off, size_t end, uint8_t proto, Key* k) {
    const size_t room = end - off;
    if (proto == kProtoUdp) {
        if (room < 8) return false;
        const size_t ulen = rd16(p + off + 4);
        if (ulen != 0 && ulen < 8) return false;
    } else if (proto == kProtoTcp) {
        if (room < 20) return false;
        const size_t hl = size_t(p[off + 12] >> 4) * 4;
        if (hl < 20 || room < hl) return false;
    } else {
        return false;
    }
    k->proto = proto;
    k->ports = 1;
    k->dport = rd16(p + off + 2);
    return true;
}

bool ip6(std::span<const uint8_t> packet, bool addrs, Key* k);

}  // namespace peek_detail

inline bool peek_ip(std::span<const uint8_t> packet, bool addrs, Key* k) {
    using namespace peek_detail;
    const uint8_t* p = packet.data();
    const size_t cap = packet.size();
    if (cap < 20) return false;
    if (p[0] != 0x45) return ip6(packet, addrs, k);  // not IPv4 without options
    // ipv4(): a total length shorter than the header is malformed (0: unknown, GSO); later
    // fragments have no transport header.
    const size_t total = rd16(p + 2);
    if ((total != 0 && total < 20) || (rd16(p + 6) & 0x1fff) != 0) return false;
    const size_t end = (total != 0 && total < cap) ? total : cap;
    if (!l4(p, 20, end, p[9], k)) return false;
    k->l3 = 4;
    if (addrs) {
        k->src = Addr::v4_bytes(p + 12);
        k->dst = Addr::v4_bytes(p + 16);
    }
    return true;
}

}  // namespace nw::packet

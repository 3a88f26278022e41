// packet/decode.cc — bounds-checked decoders: Ethernet/802.1Q/QinQ, cooked SLL/SLL2, raw IP, ARP,
// IPv4 (+options, fragments), IPv6 (+extension headers), TCP, UDP, ICMP, ICMPv6/ND.
// Pure: no syscalls, no logging, no globals, no allocation. Every read is preceded by a length check.
#include <cstring>

#include "packet/decode.h"

namespace nw::packet {
namespace {

using Bytes = std::span<const uint8_t>;

// Callers check `off + 2 <= f.size()` (resp. 4) before calling.
uint16_t rd16(Bytes f, size_t off) { return uint16_t(f[off] << 8 | f[off + 1]); }
uint32_t rd32(Bytes f, size_t off) { return uint32_t(rd16(f, off)) << 16 | rd16(f, off + 2); }

Mac rd_mac(Bytes f, size_t off) {
    Mac m;
    std::memcpy(m.data(), f.data() + off, 6);
    return m;
}

constexpr uint16_t kEthQinQOld = 0x9100;  // pre-802.1ad S-tag TPID, still seen in the wild
constexpr uint8_t kIcmp6Ns = 135, kIcmp6Na = 136;
constexpr uint8_t kNdOptSrcLl = 1, kNdOptTgtLl = 2;
constexpr uint16_t kArphrdEther = 1;  // ARPHRD_ETHER in SLL headers

// --- transport ---------------------------------------------------------------------------
// Each takes the frame, the transport header offset and `end`, the end of the IP packet
// (never beyond f.size()). Invariant: off <= end <= f.size().

Error tcp(Bytes f, size_t off, size_t end, Decoded* d) {
    if (end - off < 20) return Error::Truncated;
    d->src_port = rd16(f, off);
    d->dst_port = rd16(f, off + 2);
    d->tcp_flags = f[off + 13];
    const size_t hl = size_t(f[off + 12] >> 4) * 4;
    if (hl < 20) return Error::Malformed;
    if (end - off < hl) return Error::Truncated;
    d->has_l4 = true;
    d->l4_offset = off;
    d->payload_offset = off + hl;
    d->payload_len = end - off - hl;
    return Error::Ok;
}

Error udp(Bytes f, size_t off, size_t end, Decoded* d) {
    if (end - off < 8) return Error::Truncated;
    d->src_port = rd16(f, off);
    d->dst_port = rd16(f, off + 2);
    const size_t ulen = rd16(f, off + 4);  // 0: IPv6 jumbogram / GSO, use what we have
    if (ulen != 0 && ulen < 8) return Error::Malformed;
    const size_t avail = end - off - 8;
    d->has_l4 = true;
    d->l4_offset = off;
    d->payload_offset = off + 8;
    d->payload_len = (ulen != 0 && ulen - 8 < avail) ? ulen - 8 : avail;
    return Error::Ok;
}

Error icmp4(Bytes f, size_t off, size_t end, Decoded* d) {
    if (end - off < 4) return Error::Truncated;
    d->icmp_type = f[off];
    d->icmp_code = f[off + 1];
    d->has_l4 = true;
    d->l4_offset = off;
    d->payload_offset = off + 4;
    d->payload_len = end - off - 4;
    return Error::Ok;
}

// RFC 4861 §4.3/4.4: NS and NA are 24 bytes (type..target) followed by TLV options whose
// length is in units of 8 bytes; a zero length is invalid (§4.6).
Error icmp6(Bytes f, size_t off, size_t end, Decoded* d) {
    if (end - off < 4) return Error::Truncated;
    const uint8_t type = f[off];
    d->icmp_type = type;
    d->icmp_code = f[off + 1];
    if (type == kIcmp6Ns || type == kIcmp6Na) {
        if (end - off < 24) return Error::Truncated;
        // Options are parsed, so the whole message must be there: a capture cut at an option
        // boundary would otherwise look like a message without that option.
        if (d->ip_total_len != 0 && end < d->l3_offset + d->ip_total_len) return Error::Truncated;
        if (type == kIcmp6Na) d->na_flags = f[off + 4];
        d->nd_target = Addr::v6_bytes(f.data() + off + 8);
        d->has_nd_target = true;
        const uint8_t want = type == kIcmp6Ns ? kNdOptSrcLl : kNdOptTgtLl;
        for (size_t p = off + 24; p < end;) {
            if (end - p < 2) return Error::Truncated;
            const size_t olen = size_t(f[p + 1]) * 8;
            if (olen == 0) return Error::Malformed;
            if (end - p < olen) return Error::Truncated;
            if (f[p] == want && olen == 8 && !d->has_nd_lladdr) {
                d->nd_lladdr = rd_mac(f, p + 2);
                d->has_nd_lladdr = true;
            }
            p += olen;
        }
    }
    d->has_l4 = true;
    d->l4_offset = off;
    d->payload_offset = off + 4;
    d->payload_len = end - off - 4;
    return Error::Ok;
}

Error transport(Bytes f, size_t off, size_t end, Decoded* d) {
    switch (d->proto) {
        case kProtoTcp: return tcp(f, off, end, d);
        case kProtoUdp: return udp(f, off, end, d);
        case kProtoIcmp: return d->l3 == 4 ? icmp4(f, off, end, d) : Error::Ok;
        case kProtoIcmp6: return d->l3 == 6 ? icmp6(f, off, end, d) : Error::Ok;
        default: return Error::Ok;  // GRE, ESP, SCTP, ...: valid, not decoded further
    }
}

// --- network -------------------------------------------------------------------------------

// IPv4 options (RFC 791): EOL ends the list, NOP is one byte, every other option has a
// length byte >= 2 that stays inside the header.
Error ipv4_options(Bytes f, size_t p, size_t end) {
    while (p < end) {
        const uint8_t t = f[p];
        if (t == 0) break;
        if (t == 1) {
            ++p;
            continue;
        }
        if (end - p < 2) return Error::Malformed;
        const size_t len = f[p + 1];
        if (len < 2 || len > end - p) return Error::Malformed;
        p += len;
    }
    return Error::Ok;
}

Error ipv4(Bytes f, size_t off, Decoded* d) {
    const size_t cap = f.size() - off;
    if (cap < 20) return Error::Truncated;
    if (f[off] >> 4 != 4) return Error::Malformed;
    const size_t ihl = size_t(f[off] & 15) * 4;
    const size_t total = rd16(f, off + 2);  // 0: GSO/BIG TCP capture, length unknown
    if (ihl < 20 || (total != 0 && total < ihl)) return Error::Malformed;
    d->l3 = 4;
    d->l3_offset = off;
    d->ip_total_len = uint32_t(total);
    d->ttl = f[off + 8];
    d->proto = f[off + 9];
    d->src = Addr::v4_bytes(f.data() + off + 12);
    d->dst = Addr::v4_bytes(f.data() + off + 16);
    if (cap < ihl) return Error::Truncated;
    if (Error e = ipv4_options(f, off + 20, off + ihl); e != Error::Ok) return e;
    // Non-first fragments carry no transport header; first fragments do.
    if (rd16(f, off + 6) & 0x1fff) {
        d->fragment = true;
        return Error::Ok;
    }
    const size_t end = (total != 0 && total < cap) ? off + total : f.size();  // drop link padding
    return transport(f, off + ihl, end, d);
}

// Hop-by-hop / destination options (RFC 8200 §4.2): Pad1 is one byte, others are TLVs that
// must fit the header exactly.
Error ipv6_tlv_options(Bytes f, size_t p, size_t end) {
    while (p < end) {
        if (f[p] == 0) {
            ++p;
            continue;
        }
        if (end - p < 2 || size_t(f[p + 1]) > end - p - 2) return Error::Malformed;
        p += 2 + size_t(f[p + 1]);
    }
    return Error::Ok;
}

Error ipv6(Bytes f, size_t off, Decoded* d) {
    const size_t cap = f.size() - off;
    if (cap < 40) return Error::Truncated;
    if (f[off] >> 4 != 6) return Error::Malformed;
    const size_t plen = rd16(f, off + 4);  // 0: jumbogram / GSO, length unknown
    d->l3 = 6;
    d->l3_offset = off;
    d->ip_total_len = plen ? uint32_t(40 + plen) : 0;
    d->ttl = f[off + 7];
    d->src = Addr::v6_bytes(f.data() + off + 8);
    d->dst = Addr::v6_bytes(f.data() + off + 24);
    const size_t end = (plen != 0 && 40 + plen < cap) ? off + 40 + plen : f.size();
    uint8_t nh = f[off + 6];
    size_t p = off + 40;
    for (bool first = true;; first = false) {
        switch (nh) {
            case 0:  // hop-by-hop: only allowed right after the IPv6 header
                if (!first) return Error::Malformed;
                [[fallthrough]];
            case 60:    // destination options
            case 43: {  // routing
                if (end - p < 2) return Error::Truncated;
                const size_t len = (size_t(f[p + 1]) + 1) * 8;
                if (end - p < len) return Error::Truncated;
                if (nh != 43)
                    if (Error e = ipv6_tlv_options(f, p + 2, p + len); e != Error::Ok) return e;
                nh = f[p];
                p += len;
                break;
            }
            case 44: {  // fragment: fixed 8 bytes; a non-zero offset means no transport header
                if (end - p < 8) return Error::Truncated;
                nh = f[p];
                const bool later = (rd16(f, p + 2) & 0xfff8) != 0;
                p += 8;
                if (later) {
                    d->proto = nh;
                    d->fragment = true;
                    return Error::Ok;
                }
                break;
            }
            case 51: {  // AH (RFC 4302): length in 4-byte units, minus 2
                if (end - p < 2) return Error::Truncated;
                const size_t len = (size_t(f[p + 1]) + 2) * 4;
                if (end - p < len) return Error::Truncated;
                nh = f[p];
                p += len;
                break;
            }
            default:  // transport, ESP (50), No Next Header (59), or unknown: stop here
                d->proto = nh;
                return transport(f, p, end, d);
        }
    }
}

Error arp(Bytes f, size_t off, Decoded* d) {
    const size_t cap = f.size() - off;
    if (cap < 8) return Error::Truncated;
    d->l3 = 'a';
    d->l3_offset = off;
    d->arp_op = rd16(f, off + 6);
    // Only Ethernet/IPv4 ARP is decoded (hardware type 1, protocol 0x0800, lengths 6/4).
    if (rd16(f, off) != 1 || rd16(f, off + 2) != kEthIpv4 || f[off + 4] != 6 || f[off + 5] != 4)
        return Error::Unsupported;
    if (cap < 28) return Error::Truncated;
    d->arp_sha = rd_mac(f, off + 8);
    d->src = Addr::v4_bytes(f.data() + off + 14);
    d->arp_tha = rd_mac(f, off + 18);
    d->dst = Addr::v4_bytes(f.data() + off + 24);
    return Error::Ok;
}

Error ip_by_version(Bytes f, size_t off, Decoded* d) {
    if (off >= f.size()) return Error::Truncated;
    switch (f[off] >> 4) {
        case 4: d->ethertype = kEthIpv4; return ipv4(f, off, d);
        case 6: d->ethertype = kEthIpv6; return ipv6(f, off, d);
        default: return Error::Malformed;
    }
}

// The EtherType chain after the link header: up to two VLAN tags, then the network layer.
Error ethertype_chain(Bytes f, size_t off, uint16_t type, Decoded* d) {
    while (type == kEthVlan || type == kEthQinQ || type == kEthQinQOld) {
        if (d->vlan_count == 2) return Error::Unsupported;  // triple tagging
        if (f.size() - off < 4) return Error::Truncated;
        const uint16_t vid = rd16(f, off) & 0x0fff;
        if (d->vlan_count == 0)
            d->vlan = vid;
        else
            d->vlan_inner = vid;
        ++d->vlan_count;
        type = rd16(f, off + 2);
        off += 4;
    }
    d->ethertype = type >= 0x0600 ? type : 0;  // below 0x0600: 802.3 length / LLC, not a type
    switch (type) {
        case kEthIpv4: return ipv4(f, off, d);
        case kEthIpv6: return ipv6(f, off, d);
        case kEthArp: return arp(f, off, d);
        default: return Error::Ok;
    }
}

Error ethernet(Bytes f, Decoded* d) {
    if (f.size() < 14) return Error::Truncated;
    d->dst_mac = rd_mac(f, 0);
    d->src_mac = rd_mac(f, 6);
    d->has_eth = true;
    d->has_dst_mac = true;
    return ethertype_chain(f, 14, rd16(f, 12), d);
}

// Cooked captures record the sender's link-layer address and the packet direction only.
void cooked_link(uint16_t hatype, uint8_t pkttype, size_t halen, Bytes f, size_t addr_off, Decoded* d) {
    d->sll_pkttype = pkttype;
    if (hatype == kArphrdEther && halen == 6) {
        d->src_mac = rd_mac(f, addr_off);
        d->has_eth = true;
    }
    if (pkttype == 1) {  // PACKET_BROADCAST
        d->dst_mac.fill(0xff);
        d->has_dst_mac = true;
    }
}

// DLT_LINUX_SLL: pkttype(2) hatype(2) halen(2) addr(8) protocol(2).
Error linux_sll(Bytes f, Decoded* d) {
    if (f.size() < 16) return Error::Truncated;
    const uint16_t pkttype = rd16(f, 0);
    cooked_link(rd16(f, 2), pkttype > 0xfe ? 0xfe : uint8_t(pkttype), rd16(f, 4), f, 6, d);
    return ethertype_chain(f, 16, rd16(f, 14), d);
}

// DLT_LINUX_SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8).
Error linux_sll2(Bytes f, Decoded* d) {
    if (f.size() < 20) return Error::Truncated;
    d->sll_ifindex = rd32(f, 4);
    cooked_link(rd16(f, 8), f[10] == 0xff ? 0xfe : f[10], f[11], f, 12, d);
    return ethertype_chain(f, 20, rd16(f, 0), d);
}

}  // namespace

Error decode(LinkType lt, std::span<const uint8_t> frame, Decoded* out) {
    *out = Decoded{};
    switch (lt) {
        case LinkType::Ethernet: return ethernet(frame, out);
        case LinkType::RawIp: return ip_by_version(frame, 0, out);
        case LinkType::LinuxSll: return linux_sll(frame, out);
        case LinkType::LinuxSll2: return linux_sll2(frame, out);
        case LinkType::Ipv4:
            if (!frame.empty() && frame[0] >> 4 != 4) return Error::Malformed;
            return ip_by_version(frame, 0, out);
        case LinkType::Ipv6:
            if (!frame.empty() && frame[0] >> 4 != 6) return Error::Malformed;
            return ip_by_version(frame, 0, out);
    }
    return Error::Unsupported;
}

Error decode_ip(std::span<const uint8_t> packet, std::span<const uint8_t> hwhdr, Decoded* out) {
    *out = Decoded{};
    if (hwhdr.size() == 14) {
        out->dst_mac = rd_mac(hwhdr, 0);
        out->src_mac = rd_mac(hwhdr, 6);
        out->has_eth = true;
        out->has_dst_mac = true;
    }
    return ip_by_version(packet, 0, out);
}

}  // namespace nw::packet

// packet/encode.cc — encoders for Ethernet, ARP and IPv6 neighbor discovery frames, checksums.
// Pure: no syscalls, no logging, no globals, no allocation; every write is inside a size-checked buffer.
//
// Checked against the kernel (tests/unit/packet_encode.cc): our NS/NA/ARP frames are
// byte-identical to the ones a 6.x kernel sent in tests/data/eth_{ndp,arp}.pcap, and
// tests/data/inject_check.sh injects our NS (and ARP request) with AF_PACKET into a veth pair
// and sees the peer kernel answer with an NA (ARP reply) in tcpdump.
#include "packet/encode.h"

#include <cstring>

namespace nw::packet {
namespace {

void wr16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}

void wr_mac(uint8_t* p, const Mac& m) { std::memcpy(p, m.data(), 6); }

constexpr uint8_t kNdOptSrcLl = 1, kNdOptTgtLl = 2;

}  // namespace

// ---- checksums ----

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data) {
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 1 < data.size(); i += 2) s += uint32_t(data[i]) << 8 | data[i + 1];
    if (i < data.size()) s += uint32_t(data[i]) << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint32_t(s);
}

uint16_t checksum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

uint16_t inet_checksum(std::span<const uint8_t> data) { return checksum_fold(checksum_add(0, data)); }

uint16_t l4_checksum(const Addr& src, const Addr& dst, uint8_t proto, std::span<const uint8_t> segment) {
    uint32_t sum = 0;
    const size_t len = segment.size();
    if (src.is_v4() && dst.is_v4()) {  // RFC 793 §3.1 pseudo-header
        const uint8_t tail[4] = {0, proto, uint8_t(len >> 8), uint8_t(len)};
        sum = checksum_add(sum, std::span(src.b).subspan(12));
        sum = checksum_add(sum, std::span(dst.b).subspan(12));
        sum = checksum_add(sum, tail);
    } else {  // RFC 8200 §8.1 pseudo-header
        const uint8_t tail[8] = {uint8_t(len >> 24), uint8_t(len >> 16), uint8_t(len >> 8), uint8_t(len),
                                 0, 0, 0, proto};
        sum = checksum_add(sum, src.b);
        sum = checksum_add(sum, dst.b);
        sum = checksum_add(sum, tail);
    }
    return checksum_fold(checksum_add(sum, segment));
}

// ---- Ethernet ----

size_t encode_eth(std::span<uint8_t> buf, const Mac& dst, const Mac& src, uint16_t ethertype) {
    if (buf.size() < kEthHeaderLen) return 0;
    wr_mac(&buf[0], dst);
    wr_mac(&buf[6], src);
    wr16(&buf[12], ethertype);
    return kEthHeaderLen;
}

// ---- ARP ----

size_t encode_arp(std::span<uint8_t> buf, const ArpFrame& a) {
    if (buf.size() < kArpFrameLen || !a.spa.is_v4() || !a.tpa.is_v4()) return 0;
    encode_eth(buf, a.eth_dst, a.eth_src, kEthArp);
    uint8_t* p = &buf[kEthHeaderLen];
    wr16(p, 1);         // hardware type: Ethernet
    wr16(p + 2, kEthIpv4);
    p[4] = 6;           // hardware address length
    p[5] = 4;           // protocol address length
    wr16(p + 6, a.op);
    wr_mac(p + 8, a.sha);
    std::memcpy(p + 14, &a.spa.b[12], 4);
    wr_mac(p + 18, a.tha);
    std::memcpy(p + 24, &a.tpa.b[12], 4);
    return kArpFrameLen;
}

size_t encode_arp_request(std::span<uint8_t> buf, const Mac& sha, const Addr& spa, const Addr& tpa) {
    return encode_arp(buf, ArpFrame{kBroadcastMac, sha, kArpRequest, sha, spa, Mac{}, tpa});
}

size_t encode_arp_reply(std::span<uint8_t> buf, const Mac& sha, const Addr& spa, const Mac& tha,
                        const Addr& tpa) {
    return encode_arp(buf, ArpFrame{tha, sha, kArpReply, sha, spa, tha, tpa});
}

size_t encode_arp_probe(std::span<uint8_t> buf, const Mac& sha, const Addr& tpa) {
    return encode_arp(buf, ArpFrame{kBroadcastMac, sha, kArpRequest, sha, Addr::v4(0), Mac{}, tpa});
}

size_t encode_arp_announce(std::span<uint8_t> buf, const Mac& eth_src, const Mac& sha, const Addr& ip) {
    return encode_arp(buf, ArpFrame{kBroadcastMac, eth_src, kArpRequest, sha, ip, Mac{}, ip});
}

// ---- IPv6 neighbor discovery ----

Addr solicited_node(const Addr& a) {
    Addr s;
    s.b[0] = 0xff;
    s.b[1] = 0x02;
    s.b[11] = 0x01;
    s.b[12] = 0xff;
    s.b[13] = a.b[13];
    s.b[14] = a.b[14];
    s.b[15] = a.b[15];
    return s;
}

Mac ipv6_multicast_mac(const Addr& group) {
    return Mac{0x33, 0x33, group.b[12], group.b[13], group.b[14], group.b[15]};
}

size_t encode_nd(std::span<uint8_t> buf, const NdFrame& f) {
    const size_t icmp_len = 24 + (f.has_lladdr ? 8 : 0);
    const size_t total = kEthHeaderLen + 40 + icmp_len;
    if (buf.size() < total || f.ip_src.is_v4() || f.ip_dst.is_v4() || f.target.is_v4()) return 0;
    if (f.type != kIcmp6NeighborSolicit && f.type != kIcmp6NeighborAdvert) return 0;
    std::memset(buf.data(), 0, total);
    encode_eth(buf, f.eth_dst, f.eth_src, kEthIpv6);
    uint8_t* ip = &buf[kEthHeaderLen];
    ip[0] = 0x60;  // version 6, traffic class 0, flow label 0
    wr16(ip + 4, uint16_t(icmp_len));
    ip[6] = kProtoIcmp6;
    ip[7] = kNdHopLimit;
    std::memcpy(ip + 8, f.ip_src.b.data(), 16);
    std::memcpy(ip + 24, f.ip_dst.b.data(), 16);
    uint8_t* icmp = ip + 40;
    icmp[0] = f.type;
    if (f.type == kIcmp6NeighborAdvert) icmp[4] = f.na_flags & (kNaRouter | kNaSolicited | kNaOverride);
    std::memcpy(icmp + 8, f.target.b.data(), 16);
    if (f.has_lladdr) {
        icmp[24] = f.type == kIcmp6NeighborSolicit ? kNdOptSrcLl : kNdOptTgtLl;
        icmp[25] = 1;  // length in units of 8 bytes
        wr_mac(icmp + 26, f.lladdr);
    }
    wr16(icmp + 2, l4_checksum(f.ip_src, f.ip_dst, kProtoIcmp6, std::span<const uint8_t>(icmp, icmp_len)));
    return total;
}

size_t encode_ns(std::span<uint8_t> buf, const Mac& src_mac, const Addr& src_ip, const Addr& target) {
    const Addr group = solicited_node(target);
    return encode_nd(buf, NdFrame{ipv6_multicast_mac(group), src_mac, src_ip, group, kIcmp6NeighborSolicit,
                                  0, target, true, src_mac});
}

size_t encode_ns_unicast(std::span<uint8_t> buf, const Mac& src_mac, const Addr& src_ip,
                         const Mac& dst_mac, const Addr& target) {
    return encode_nd(buf, NdFrame{dst_mac, src_mac, src_ip, target, kIcmp6NeighborSolicit, 0, target, true,
                                  src_mac});
}

size_t encode_ns_dad(std::span<uint8_t> buf, const Mac& src_mac, const Addr& target) {
    const Addr group = solicited_node(target);
    return encode_nd(buf, NdFrame{ipv6_multicast_mac(group), src_mac, Addr{}, group, kIcmp6NeighborSolicit,
                                  0, target, false, Mac{}});
}

size_t encode_na_solicited(std::span<uint8_t> buf, const Mac& eth_src, const Mac& eth_dst,
                           const Addr& ip_dst, const Addr& target, const Mac& tlla, uint8_t flags) {
    return encode_nd(buf, NdFrame{eth_dst, eth_src, target, ip_dst, kIcmp6NeighborAdvert,
                                  uint8_t(flags | kNaSolicited), target, true, tlla});
}

size_t encode_na_unsolicited(std::span<uint8_t> buf, const Mac& eth_src, const Addr& target,
                             const Mac& tlla, uint8_t flags) {
    return encode_nd(buf, NdFrame{ipv6_multicast_mac(kAllNodes), eth_src, target, kAllNodes,
                                  kIcmp6NeighborAdvert, uint8_t(flags & ~kNaSolicited), target, true, tlla});
}

}  // namespace nw::packet

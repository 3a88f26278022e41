// packet/encode.h — pure encoders for the frames netwaked sends: Ethernet header, ARP request /
// reply / probe / announcement, IPv6 neighbor solicitation / advertisement, Internet checksums.
// Pure: no syscalls, no logging, no globals, no allocation. Encoders write whole Ethernet frames
// into a caller buffer and return the bytes written, or 0 if the buffer is too small or an
// argument is of the wrong family (nothing is promised about the buffer then).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "packet/decode.h"

namespace nw::packet {

inline constexpr size_t kEthHeaderLen = 14;
inline constexpr size_t kArpFrameLen = 42;     // 14 + 28, unpadded (the NIC pads to 60)
inline constexpr size_t kNdFrameLen = 86;      // 14 + 40 + 24 + 8-byte link-layer option
inline constexpr size_t kNdFrameLenNoOpt = 78; // without the option (DAD NS)
inline constexpr Mac kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// RFC 826 opcodes.
inline constexpr uint16_t kArpRequest = 1, kArpReply = 2;
// RFC 4861 §4.4 neighbor advertisement flags (first byte after the checksum).
inline constexpr uint8_t kNaRouter = 0x80, kNaSolicited = 0x40, kNaOverride = 0x20;
// RFC 4861 §7.1: ND messages are sent, and only accepted, with hop limit 255.
inline constexpr uint8_t kNdHopLimit = 255;
inline constexpr uint8_t kIcmp6NeighborSolicit = 135, kIcmp6NeighborAdvert = 136;

// ---- checksums (RFC 1071) ----
// Adds `data` to a running 32-bit one's-complement sum (big-endian 16-bit words; an odd final
// byte is padded with zero, so only the last chunk of a sum may have odd length).
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data);
// Folds the carries and complements: the value to store in a checksum field.
uint16_t checksum_fold(uint32_t sum);
// Checksum of a byte range (IPv4 header, ICMPv4). Over data with a correct checksum field in
// it, the result is 0.
uint16_t inet_checksum(std::span<const uint8_t> data);
// TCP/UDP/ICMPv6 checksum with the pseudo-header of `src`/`dst` (IPv4 if both are v4-mapped,
// else IPv6, RFC 8200 §8.1) and upper-layer protocol `proto`. Over a segment with a correct
// checksum field, the result is 0.
uint16_t l4_checksum(const Addr& src, const Addr& dst, uint8_t proto, std::span<const uint8_t> segment);

// ---- Ethernet ----
size_t encode_eth(std::span<uint8_t> buf, const Mac& dst, const Mac& src, uint16_t ethertype);

// ---- ARP (Ethernet/IPv4 only; spa/tpa must be IPv4) ----
struct ArpFrame {
    Mac eth_dst{}, eth_src{};
    uint16_t op = kArpRequest;
    Mac sha{};
    Addr spa{};
    Mac tha{};
    Addr tpa{};
};
size_t encode_arp(std::span<uint8_t> buf, const ArpFrame& a);
// Broadcast "who-has tpa tell spa" from sha.
size_t encode_arp_request(std::span<uint8_t> buf, const Mac& sha, const Addr& spa, const Addr& tpa);
// Unicast "spa is-at sha" to tha/tpa (the requester's sha/spa).
size_t encode_arp_reply(std::span<uint8_t> buf, const Mac& sha, const Addr& spa, const Mac& tha,
                        const Addr& tpa);
// RFC 5227 §2.1.1 probe: broadcast request with sender IP 0.0.0.0, target MAC zero.
size_t encode_arp_probe(std::span<uint8_t> buf, const Mac& sha, const Addr& tpa);
// Gratuitous ARP / RFC 5227 announcement (request form, broadcast, sender IP = target IP =
// `ip`, target MAC zero). `eth_src` may differ from `sha` (announcing a MAC on another
// machine's behalf without teaching switches that MAC on our port).
size_t encode_arp_announce(std::span<uint8_t> buf, const Mac& eth_src, const Mac& sha, const Addr& ip);

// ---- IPv6 neighbor discovery (RFC 4861) ----
// ff02::1:ffXX:XXXX for the low 24 bits of `a` (RFC 4291 §2.7.1).
Addr solicited_node(const Addr& a);
// 33:33 followed by the low 32 bits of an IPv6 multicast group (RFC 2464 §7).
Mac ipv6_multicast_mac(const Addr& group);
inline constexpr Addr kAllNodes{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}};  // ff02::1

// Any NS/NA. IPv6 hop limit 255, payload length and ICMPv6 checksum are filled in. The option is
// a source link-layer address for NS, a target link-layer address for NA. ip_src/ip_dst/target
// must be IPv6 (not v4-mapped).
struct NdFrame {
    Mac eth_dst{}, eth_src{};
    Addr ip_src{}, ip_dst{};
    uint8_t type = kIcmp6NeighborSolicit;
    uint8_t na_flags = 0;  // NA only: kNaRouter | kNaSolicited | kNaOverride
    Addr target{};
    bool has_lladdr = true;
    Mac lladdr{};
};
size_t encode_nd(std::span<uint8_t> buf, const NdFrame& f);
// Multicast NS for `target` to its solicited-node group, with our link-layer address option.
size_t encode_ns(std::span<uint8_t> buf, const Mac& src_mac, const Addr& src_ip, const Addr& target);
// Unicast NS (neighbor unreachability detection style) straight to target's MAC and address.
size_t encode_ns_unicast(std::span<uint8_t> buf, const Mac& src_mac, const Addr& src_ip,
                         const Mac& dst_mac, const Addr& target);
// DAD-style NS: source ::, no option (RFC 4862 §5.4.2).
size_t encode_ns_dad(std::span<uint8_t> buf, const Mac& src_mac, const Addr& target);
// Solicited NA answering an NS from ip_dst/eth_dst: source = target, S flag set plus `flags`
// (kNaOverride, kNaRouter), target link-layer address option `tlla`.
size_t encode_na_solicited(std::span<uint8_t> buf, const Mac& eth_src, const Mac& eth_dst,
                           const Addr& ip_dst, const Addr& target, const Mac& tlla, uint8_t flags);
// Unsolicited NA to all-nodes ff02::1 (RFC 4861 §7.2.6): source = target, S flag always clear.
size_t encode_na_unsolicited(std::span<uint8_t> buf, const Mac& eth_src, const Addr& target,
                             const Mac& tlla, uint8_t flags);

}  // namespace nw::packet

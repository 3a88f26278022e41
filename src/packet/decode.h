// packet/decode.h — pure, bounds-checked decoding of captured frames into a flat summary.
// Pure: no syscalls, no logging, no globals, no allocation. Every length is checked;
// malformed or truncated input yields an error, never an out-of-bounds read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace nw::packet {

// Link types a sensor can hand over. Values are the pcap DLT/LINKTYPE numbers where one exists.
enum class LinkType : uint16_t {
    Ethernet = 1,     // DLT_EN10MB
    RawIp = 101,      // LINKTYPE_RAW (IPv4 or IPv6, by version nibble) — tun devices, NFLOG payloads
    LinuxSll = 113,   // DLT_LINUX_SLL (cooked v1, 16-byte header)
    LinuxSll2 = 276,  // DLT_LINUX_SLL2 (cooked v2, 20-byte header)
    Ipv4 = 228,       // LINKTYPE_IPV4
    Ipv6 = 229,       // LINKTYPE_IPV6
};

enum class Error : uint8_t {
    Ok = 0,
    Truncated,    // header claims more bytes than were captured
    Malformed,    // impossible field values (IHL < 5, bad version, option length 0, ...)
    Unsupported,  // valid but not something we decode (unknown link type)
};
const char* error_name(Error e);

// IP protocol numbers we name.
inline constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58;
inline constexpr uint16_t kEthIpv4 = 0x0800, kEthArp = 0x0806, kEthIpv6 = 0x86dd, kEthVlan = 0x8100,
                          kEthQinQ = 0x88a8, kEthWol = 0x0842;

// TCP flag bits as on the wire (byte 13 of the TCP header).
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08, kTcpAck = 0x10,
                         kTcpUrg = 0x20, kTcpEce = 0x40, kTcpCwr = 0x80;

// An IPv4 address is stored v4-mapped (::ffff:a.b.c.d) so one 16-byte type serves both families.
struct Addr {
    std::array<uint8_t, 16> b{};
    bool is_v4() const;                 // ::ffff:0:0/96
    static Addr v4(uint32_t host_order);
    static Addr v4_bytes(const uint8_t* p) {  // 4 network-order bytes (inline: per-packet path)
        Addr a;
        a.b[10] = a.b[11] = 0xff;
        std::memcpy(&a.b[12], p, 4);
        return a;
    }
    static Addr v6_bytes(const uint8_t* p) {  // 16 bytes
        Addr a;
        std::memcpy(a.b.data(), p, 16);
        return a;
    }
    uint32_t v4_host() const;           // valid only if is_v4()
    std::string str() const;            // "192.0.2.1" or "2001:db8::1"
    bool operator==(const Addr&) const = default;
};
using Mac = std::array<uint8_t, 6>;
std::string mac_str(const Mac& m);      // "aa:bb:cc:dd:ee:ff"

// What the decoder found. Fields are valid only when their has_/l-flag says so.
struct Decoded {
    // link layer. has_eth: src_mac is valid (Ethernet, cooked capture of an Ethernet device,
    // NFLOG hw header); has_dst_mac: dst_mac is valid too (cooked captures only know it for broadcast).
    bool has_eth = false;
    bool has_dst_mac = false;
    Mac src_mac{}, dst_mac{};
    uint16_t ethertype = 0;       // innermost EtherType (after VLAN tags); 0 if unknown
    uint8_t vlan_count = 0;       // 0, 1 or 2 (QinQ)
    uint16_t vlan = 0;            // outermost VLAN id (12 bits) when vlan_count > 0
    uint16_t vlan_inner = 0;      // inner VLAN id when vlan_count == 2
    uint8_t sll_pkttype = 0xff;   // cooked captures: 0 host, 1 broadcast, 2 multicast, 3 other host,
                                  // 4 outgoing (PACKET_*); 0xff when not a cooked capture
    uint32_t sll_ifindex = 0;     // cooked v2 (SLL2) only: interface index; 0 if unknown

    // network layer: 4 = IPv4, 6 = IPv6, 'a' = ARP, 0 = none
    uint8_t l3 = 0;
    Addr src{}, dst{};            // IP src/dst; for ARP: sender/target protocol address
    uint8_t proto = 0;            // IP protocol (after IPv6 extension headers)
    uint8_t ttl = 0;              // IPv4 TTL / IPv6 hop limit
    bool fragment = false;        // non-first fragment: no L4 header
    uint32_t ip_total_len = 0;    // bytes of the IP packet as claimed by its header (IPv6: 40 +
                                  // payload length); 0 if the header says 0 (GSO / jumbogram)

    // ARP (l3 == 'a')
    uint16_t arp_op = 0;          // 1 request, 2 reply
    Mac arp_sha{}, arp_tha{};

    // transport layer
    bool has_l4 = false;
    uint16_t src_port = 0, dst_port = 0;   // TCP/UDP
    uint8_t tcp_flags = 0;
    uint8_t icmp_type = 0, icmp_code = 0;  // ICMP/ICMPv6
    // ICMPv6 neighbor discovery (type 135 NS / 136 NA): the target address, and for NA the flags byte
    bool has_nd_target = false;
    Addr nd_target{};
    uint8_t na_flags = 0;         // R=0x80 S=0x40 O=0x20
    bool has_nd_lladdr = false;   // source (NS) or target (NA) link-layer address option
    Mac nd_lladdr{};

    size_t l3_offset = 0;         // offset of the network header within the input
    size_t l4_offset = 0;         // offset of the transport header (valid if has_l4)
    size_t payload_offset = 0;    // offset of the TCP/UDP payload (valid if has_l4); ICMP/ICMPv6:
                                  // the bytes after the 4-byte type/code/checksum header
    size_t payload_len = 0;       // payload bytes captured (UDP: min(claimed, captured)); never
                                  // includes Ethernet padding beyond the IP length
};

// Decodes a frame of link type `lt`. On error `out` holds whatever was decoded before the error.
Error decode(LinkType lt, std::span<const uint8_t> frame, Decoded* out);

// Decodes an IP packet (version from the first nibble) starting at byte 0 — NFLOG payloads.
// If `hwhdr` is 14 bytes long (NFULA_HWHEADER of an Ethernet device), the MACs are taken from
// it (has_eth, has_dst_mac); any other length is ignored. `ethertype` is always the IP
// version's (0x0800 / 0x86dd), since that is the innermost EtherType of an IP packet.
Error decode_ip(std::span<const uint8_t> packet, std::span<const uint8_t> hwhdr, Decoded* out);

// One line, tuninetd-style:
//   "TCP 10.0.0.5:51234 -> 10.0.0.1:22 [S] src_mac 02:.. dst_mac 02:.. vlan 5 ethertype 0x0800"
// IPv6 endpoints with ports are bracketed ("[2001:db8::1]:22"); ICMP shows type/code and a name,
// ARP "who-has X tell Y" / "X is-at MAC", ND the target, flags and link-layer address.
std::string summarize(const Decoded& d);

}  // namespace nw::packet

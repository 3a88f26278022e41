// tests/unit/packet_decode.cc — packet::decode/decode_ip/summarize against real kernel frames in
// tests/data/*.pcap (see tests/data/capture.sh), every truncation of them, and garbage. Reads files only.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "packet/decode.h"
#include "packet/encode.h"
#include "packet/parse.h"
#include "testdata.h"

namespace nw::packet::testdata {

// Finds tests/data whether run from the repository root or elsewhere (NETWAKED_TEST_DATA wins).
static std::string data_dir() {
    if (const char* e = std::getenv("NETWAKED_TEST_DATA")) return e;
    std::string file = __FILE__;  // .../tests/unit/packet_decode.cc
    const std::string candidates[] = {"tests/data", file.substr(0, file.rfind('/')) + "/../data"};
    for (const auto& c : candidates)
        if (std::ifstream(c + "/eth_arp.pcap")) return c;
    return "tests/data";
}

// The tiny reader: classic pcap (either byte order, µs or ns timestamps), no pcapng.
Pcap read_pcap(const std::string& name) {
    Pcap p;
    const std::string path = data_dir() + "/" + name;
    std::ifstream f(path, std::ios::binary);
    REQUIRE_MESSAGE(f, "cannot open " << path << " (run from the repository root or set NETWAKED_TEST_DATA)");
    std::vector<uint8_t> d((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    REQUIRE(d.size() >= 24);
    uint32_t magic;
    std::memcpy(&magic, d.data(), 4);
    const bool swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
    REQUIRE((swap || magic == 0xa1b2c3d4 || magic == 0xa1b23c4d));
    auto u32 = [&](size_t off) {
        uint32_t v;
        std::memcpy(&v, d.data() + off, 4);
        return swap ? __builtin_bswap32(v) : v;
    };
    p.linktype = u32(20) & 0x0fffffff;
    for (size_t off = 24; off + 16 <= d.size();) {
        const uint32_t incl = u32(off + 8);
        REQUIRE(off + 16 + incl <= d.size());
        p.frames.emplace_back(d.begin() + long(off + 16), d.begin() + long(off + 16 + incl));
        off += 16 + incl;
    }
    return p;
}

}  // namespace nw::packet::testdata

using namespace nw::packet;
using testdata::read_pcap;

namespace {

Addr A(const char* s) {
    Addr a;
    REQUIRE(parse_addr(s, &a, nullptr));
    return a;
}
Mac M(const char* s) {
    Mac m;
    REQUIRE(parse_mac(s, &m, nullptr));
    return m;
}
const Mac kMacA = {2, 0, 0, 0, 0, 1}, kMacB = {2, 0, 0, 0, 0, 2};

LinkType lt_of(const testdata::Pcap& p) { return LinkType(uint16_t(p.linktype)); }

Decoded dec(const testdata::Pcap& p, size_t i, Error want = Error::Ok) {
    REQUIRE(i < p.frames.size());
    Decoded d;
    const Error e = decode(lt_of(p), p.frames[i], &d);
    CHECK_MESSAGE(e == want, "decode: " << error_name(e) << " (want " << error_name(want) << ")");
    return d;
}

}  // namespace

TEST_CASE("pcap test data is what capture.sh wrote") {
    CHECK(read_pcap("eth_arp.pcap").linktype == 1);
    CHECK(read_pcap("sll_icmp4.pcap").linktype == 113);
    CHECK(read_pcap("sll2_tcp6.pcap").linktype == 276);
    CHECK(read_pcap("raw_ip.pcap").linktype == 101);
}

TEST_CASE("ARP request and reply") {
    auto p = read_pcap("eth_arp.pcap");
    Decoded q = dec(p, 0);
    CHECK(q.has_eth);
    CHECK(q.has_dst_mac);
    CHECK(q.src_mac == kMacA);
    CHECK(q.dst_mac == kBroadcastMac);
    CHECK(q.ethertype == kEthArp);
    CHECK(q.l3 == 'a');
    CHECK(q.l3_offset == 14);
    CHECK(q.arp_op == 1);
    CHECK(q.arp_sha == kMacA);
    CHECK(q.arp_tha == Mac{});
    CHECK(q.src == A("10.0.0.1"));
    CHECK(q.dst == A("10.0.0.2"));
    CHECK_FALSE(q.has_l4);
    CHECK(summarize(q) ==
          "ARP who-has 10.0.0.2 tell 10.0.0.1 src_mac 02:00:00:00:00:01 dst_mac ff:ff:ff:ff:ff:ff ethertype 0x0806");

    Decoded r = dec(p, 1);
    CHECK(r.arp_op == 2);
    CHECK(r.arp_sha == kMacB);
    CHECK(r.arp_tha == kMacA);
    CHECK(r.src == A("10.0.0.2"));
    CHECK(r.dst == A("10.0.0.1"));
    CHECK(r.dst_mac == kMacA);
    CHECK(summarize(r) ==
          "ARP reply 10.0.0.2 is-at 02:00:00:00:00:02 src_mac 02:00:00:00:00:02 dst_mac 02:00:00:00:00:01 ethertype 0x0806");
}

TEST_CASE("ICMPv4 echo request and reply") {
    auto p = read_pcap("eth_icmp4_echo.pcap");
    Decoded d = dec(p, 0);
    CHECK(d.l3 == 4);
    CHECK(d.ethertype == kEthIpv4);
    CHECK(d.proto == kProtoIcmp);
    CHECK(d.ttl == 64);
    CHECK(d.ip_total_len == 84);
    CHECK_FALSE(d.fragment);
    CHECK(d.has_l4);
    CHECK(d.l4_offset == 34);
    CHECK(d.icmp_type == 8);
    CHECK(d.icmp_code == 0);
    CHECK(d.payload_offset == 38);
    CHECK(d.payload_len == 60);
    CHECK_FALSE(d.has_nd_target);
    CHECK(summarize(d) ==
          "ICMP 10.0.0.1 -> 10.0.0.2 type 8 code 0 (echo request) src_mac 02:00:00:00:00:01 dst_mac "
          "02:00:00:00:00:02 ethertype 0x0800");
    Decoded r = dec(p, 1);
    CHECK(r.icmp_type == 0);
    CHECK(r.src == A("10.0.0.2"));
}

TEST_CASE("ICMPv6 echo") {
    auto p = read_pcap("eth_icmp6_echo.pcap");
    Decoded d = dec(p, 0);
    CHECK(d.l3 == 6);
    CHECK(d.ethertype == kEthIpv6);
    CHECK(d.src == A("fd00::1"));
    CHECK(d.dst == A("fd00::2"));
    CHECK(d.proto == kProtoIcmp6);
    CHECK(d.ttl == 64);
    CHECK(d.ip_total_len == 104);
    CHECK(d.icmp_type == 128);
    CHECK(d.l4_offset == 54);
    CHECK(d.payload_len == 60);
    CHECK(summarize(d).rfind("ICMP6 fd00::1 -> fd00::2 type 128 code 0 (echo request) src_mac", 0) == 0);
    CHECK(dec(p, 1).icmp_type == 129);
}

TEST_CASE("neighbor solicitation and advertisement from the kernel") {
    auto p = read_pcap("eth_ndp.pcap");
    Decoded ns = dec(p, 0);
    CHECK(ns.dst_mac == M("33:33:ff:00:00:02"));
    CHECK(ns.src == A("fd00::1"));
    CHECK(ns.dst == A("ff02::1:ff00:2"));
    CHECK(ns.ttl == 255);
    CHECK(ns.icmp_type == 135);
    CHECK(ns.has_nd_target);
    CHECK(ns.nd_target == A("fd00::2"));
    CHECK(ns.has_nd_lladdr);
    CHECK(ns.nd_lladdr == kMacA);
    CHECK(ns.na_flags == 0);
    CHECK(summarize(ns) ==
          "ICMP6 fd00::1 -> ff02::1:ff00:2 type 135 code 0 (neighbor solicitation) who-has fd00::2 lladdr "
          "02:00:00:00:00:01 src_mac 02:00:00:00:00:01 dst_mac 33:33:ff:00:00:02 ethertype 0x86dd");

    Decoded na = dec(p, 1);
    CHECK(na.icmp_type == 136);
    CHECK(na.src == A("fd00::2"));
    CHECK(na.dst == A("fd00::1"));
    CHECK(na.nd_target == A("fd00::2"));
    CHECK(na.na_flags == (kNaSolicited | kNaOverride));
    CHECK(na.has_nd_lladdr);
    CHECK(na.nd_lladdr == kMacB);
    CHECK(summarize(na).find("(neighbor advertisement) tgt fd00::2 flags [SO] lladdr 02:00:00:00:00:02") !=
          std::string::npos);
}

TEST_CASE("DAD neighbor solicitation: source ::, nonce option skipped") {
    auto p = read_pcap("eth_ndp_dad.pcap");
    Decoded d = dec(p, 0);
    CHECK(d.src == Addr{});
    CHECK(d.dst == A("ff02::1:ff00:99"));
    CHECK(d.nd_target == A("fd00::99"));
    CHECK_FALSE(d.has_nd_lladdr);  // only a nonce option (type 14)
    CHECK(d.src_mac == kMacB);
}

TEST_CASE("MLDv2 report behind a hop-by-hop header") {
    auto p = read_pcap("eth_mld.pcap");
    Decoded d = dec(p, 0);
    CHECK(d.src == A("fe80::ff:fe00:2"));
    CHECK(d.dst == A("ff02::16"));
    CHECK(d.ttl == 1);
    CHECK(d.proto == kProtoIcmp6);
    CHECK(d.l4_offset == 14 + 40 + 8);
    CHECK(d.icmp_type == 143);
}

TEST_CASE("TCP over IPv4: handshake and RST") {
    auto p = read_pcap("eth_tcp4_handshake.pcap");
    Decoded syn = dec(p, 0);
    CHECK(syn.proto == kProtoTcp);
    CHECK(syn.src == A("10.0.0.1"));
    CHECK(syn.dst == A("10.0.0.2"));
    CHECK(syn.src_port == 57834);
    CHECK(syn.dst_port == 22);
    CHECK(syn.tcp_flags == kTcpSyn);
    CHECK(syn.l4_offset == 34);
    CHECK(syn.payload_offset == 34 + 40);
    CHECK(syn.payload_len == 0);
    CHECK(summarize(syn) ==
          "TCP 10.0.0.1:57834 -> 10.0.0.2:22 [S] src_mac 02:00:00:00:00:01 dst_mac 02:00:00:00:00:02 "
          "ethertype 0x0800");
    Decoded sa = dec(p, 1);
    CHECK(sa.tcp_flags == (kTcpSyn | kTcpAck));
    CHECK(sa.src_port == 22);
    CHECK(summarize(sa).find("[S.]") != std::string::npos);
    Decoded ack = dec(p, 2);
    CHECK(ack.tcp_flags == kTcpAck);
    CHECK(ack.payload_offset == 34 + 32);
    CHECK(summarize(ack).find("[.]") != std::string::npos);

    auto r = read_pcap("eth_tcp4_rst.pcap");
    CHECK(dec(r, 0).dst_port == 9);
    Decoded rst = dec(r, 1);
    CHECK(rst.tcp_flags == (kTcpRst | kTcpAck));
    CHECK(rst.src_port == 9);
    CHECK(rst.dst_port == 59456);
    CHECK(summarize(rst).find("TCP 10.0.0.2:9 -> 10.0.0.1:59456 [R.]") == 0);
}

TEST_CASE("TCP over IPv6: handshake and RST") {
    auto p = read_pcap("eth_tcp6_handshake.pcap");
    Decoded syn = dec(p, 0);
    CHECK(syn.l3 == 6);
    CHECK(syn.src_port == 49624);
    CHECK(syn.dst_port == 22);
    CHECK(syn.tcp_flags == kTcpSyn);
    CHECK(syn.l4_offset == 54);
    CHECK(summarize(syn).find("TCP [fd00::1]:49624 -> [fd00::2]:22 [S] ") == 0);
    CHECK(dec(p, 1).tcp_flags == (kTcpSyn | kTcpAck));
    CHECK(dec(p, 2).tcp_flags == kTcpAck);
    auto r = read_pcap("eth_tcp6_rst.pcap");
    Decoded rst = dec(r, 1);
    CHECK(rst.tcp_flags == (kTcpRst | kTcpAck));
    CHECK(rst.src == A("fd00::2"));
    CHECK(rst.dst_port == 41526);
}

TEST_CASE("UDP over IPv4 and IPv6") {
    auto p4 = read_pcap("eth_udp4.pcap");
    Decoded d = dec(p4, 0);
    CHECK(d.proto == kProtoUdp);
    CHECK(d.src_port == 56408);
    CHECK(d.dst_port == 5353);
    CHECK(d.payload_len == 6);
    CHECK(std::string(p4.frames[0].begin() + long(d.payload_offset), p4.frames[0].end()) == "hello\n");
    CHECK(summarize(d).find("UDP 10.0.0.1:56408 -> 10.0.0.2:5353 src_mac") == 0);

    auto p6 = read_pcap("eth_udp6.pcap");
    Decoded e = dec(p6, 0);
    CHECK(e.src_port == 51781);
    CHECK(e.dst_port == 5353);
    CHECK(e.payload_len == 6);
    CHECK(e.ip_total_len == 40 + 14);
}

TEST_CASE("Ethernet padding is not payload") {
    auto p = read_pcap("eth_udp4.pcap");
    auto f = p.frames[0];
    REQUIRE(f.size() == 48);
    f.resize(60, 0xee);  // what a NIC would append
    Decoded d;
    REQUIRE(decode(LinkType::Ethernet, f, &d) == Error::Ok);
    CHECK(d.payload_len == 6);
}

TEST_CASE("IPv4 with options (record route)") {
    auto p = read_pcap("eth_ipv4_rr.pcap");
    Decoded d = dec(p, 0);
    CHECK(d.l4_offset == 14 + 60);
    CHECK(d.ip_total_len == 124);
    CHECK(d.icmp_type == 8);
    CHECK(d.payload_len == 60);
}

TEST_CASE("IPv4 fragments: only the first has a transport header") {
    auto p = read_pcap("eth_ipv4_frag.pcap");
    Decoded first = dec(p, 0);
    CHECK_FALSE(first.fragment);
    CHECK(first.has_l4);
    CHECK(first.icmp_type == 8);
    Decoded later = dec(p, 1);
    CHECK(later.fragment);
    CHECK_FALSE(later.has_l4);
    CHECK(later.proto == kProtoIcmp);
    CHECK(later.src == A("10.0.0.1"));
    CHECK(summarize(later).find("ICMP 10.0.0.1 -> 10.0.0.2 fragment src_mac") == 0);
}

TEST_CASE("IPv6 fragments") {
    auto p = read_pcap("eth_ipv6_frag.pcap");
    Decoded first = dec(p, 0);
    CHECK_FALSE(first.fragment);
    CHECK(first.proto == kProtoIcmp6);
    CHECK(first.l4_offset == 14 + 40 + 8);
    CHECK(first.icmp_type == 128);
    Decoded later = dec(p, 1);
    CHECK(later.fragment);
    CHECK_FALSE(later.has_l4);
    CHECK(later.proto == kProtoIcmp6);
}

TEST_CASE("IPv6 extension headers: hop-by-hop, destination options, routing, AH, ESP") {
    auto p = read_pcap("eth_ipv6_ext.pcap");
    Decoded hd = dec(p, 0);
    CHECK(hd.proto == kProtoUdp);
    CHECK(hd.l4_offset == 14 + 40 + 8 + 8);
    CHECK(hd.dst_port == 7777);
    CHECK(hd.payload_len == 7);
    Decoded rt = dec(p, 1);
    CHECK(rt.proto == kProtoUdp);
    CHECK(rt.src_port == 1000);
    CHECK(rt.dst_port == 7778);
    Decoded ah = dec(p, 2);
    CHECK(ah.proto == kProtoUdp);
    CHECK(ah.l4_offset == 14 + 40 + 24);
    CHECK(ah.src_port == 1001);
    CHECK(ah.dst_port == 7779);
    Decoded esp = dec(p, 3);
    CHECK(esp.proto == 50);
    CHECK_FALSE(esp.has_l4);
    CHECK(summarize(esp).find("IPv6 proto 50 fd00::1 -> fd00::2") == 0);
}

TEST_CASE("802.1Q and QinQ") {
    auto p = read_pcap("eth_vlan.pcap");
    Decoded v4 = dec(p, 0);
    CHECK(v4.vlan_count == 1);
    CHECK(v4.vlan == 5);
    CHECK(v4.ethertype == kEthIpv4);
    CHECK(v4.l3_offset == 18);
    CHECK(v4.icmp_type == 8);
    CHECK(summarize(v4).find(" vlan 5 ethertype 0x0800") != std::string::npos);
    Decoded v6 = dec(p, 1);
    CHECK(v6.vlan == 5);
    CHECK(v6.ethertype == kEthIpv6);
    CHECK(v6.tcp_flags == kTcpSyn);
    CHECK(v6.dst_port == 9);

    auto q = read_pcap("eth_qinq.pcap");
    Decoded d = dec(q, 0);
    CHECK(d.vlan_count == 2);
    CHECK(d.vlan == 100);
    CHECK(d.vlan_inner == 7);
    CHECK(d.ethertype == kEthIpv4);
    CHECK(d.l3_offset == 22);
    CHECK(d.src == A("10.0.0.1"));
    CHECK(summarize(d).find(" vlan 100 inner_vlan 7 ethertype 0x0800") != std::string::npos);

    // A third tag is not something we decode.
    auto f = q.frames[0];
    const uint8_t tag[4] = {0x81, 0x00, 0x00, 0x09};
    f.insert(f.begin() + 12, tag, tag + 4);
    Decoded t;
    CHECK(decode(LinkType::Ethernet, f, &t) == Error::Unsupported);
}

TEST_CASE("Linux cooked v1 (SLL)") {
    auto p = read_pcap("sll_icmp4.pcap");
    Decoded out = dec(p, 0);
    CHECK(out.sll_pkttype == 4);  // outgoing
    CHECK(out.has_eth);
    CHECK_FALSE(out.has_dst_mac);
    CHECK(out.src_mac == kMacA);
    CHECK(out.ethertype == kEthIpv4);
    CHECK(out.l3_offset == 16);
    CHECK(out.icmp_type == 8);
    CHECK(summarize(out) == "ICMP 10.0.0.1 -> 10.0.0.2 type 8 code 0 (echo request) src_mac 02:00:00:00:00:01 ethertype 0x0800");
    Decoded in = dec(p, 1);
    CHECK(in.sll_pkttype == 0);
    CHECK(in.src_mac == kMacB);
    CHECK(in.icmp_type == 0);
}

TEST_CASE("Linux cooked v2 (SLL2)") {
    auto p = read_pcap("sll2_tcp6.pcap");
    Decoded d = dec(p, 0);
    CHECK(d.sll_pkttype == 4);
    CHECK(d.sll_ifindex == 2);
    CHECK(d.src_mac == kMacA);
    CHECK(d.l3_offset == 20);
    CHECK(d.ethertype == kEthIpv6);
    CHECK(d.src_port == 37440);
    CHECK(d.dst_port == 9);
    CHECK(d.tcp_flags == kTcpSyn);
    Decoded r = dec(p, 1);
    CHECK(r.sll_pkttype == 0);
    CHECK(r.tcp_flags == (kTcpRst | kTcpAck));
}

TEST_CASE("raw IP (tun), LINKTYPE_IPV4/IPV6") {
    auto p = read_pcap("raw_ip.pcap");
    Decoded v4 = dec(p, 0);
    CHECK(v4.l3 == 4);
    CHECK(v4.ethertype == kEthIpv4);
    CHECK_FALSE(v4.has_eth);
    CHECK(v4.src == A("10.9.0.1"));
    CHECK(v4.src_port == 38407);
    CHECK(v4.dst_port == 9999);
    CHECK(v4.payload_len == 5);
    CHECK(summarize(v4) == "UDP 10.9.0.1:38407 -> 10.9.0.2:9999 ethertype 0x0800");
    Decoded v6 = dec(p, 1);
    CHECK(v6.l3 == 6);
    CHECK(v6.src == A("fd09::1"));
    CHECK(v6.src_port == 40579);

    Decoded d;
    CHECK(decode(LinkType::Ipv4, p.frames[0], &d) == Error::Ok);
    CHECK(d.dst_port == 9999);
    CHECK(decode(LinkType::Ipv4, p.frames[1], &d) == Error::Malformed);
    CHECK(decode(LinkType::Ipv6, p.frames[1], &d) == Error::Ok);
    CHECK(decode(LinkType::Ipv6, p.frames[0], &d) == Error::Malformed);
    CHECK(decode(LinkType(7), p.frames[0], &d) == Error::Unsupported);
}

TEST_CASE("decode_ip with and without an NFLOG hardware header") {
    auto p = read_pcap("eth_tcp4_handshake.pcap");
    const auto& f = p.frames[0];
    std::span<const uint8_t> all(f);
    Decoded eth = dec(p, 0);
    Decoded d;
    REQUIRE(decode_ip(all.subspan(14), all.first(14), &d) == Error::Ok);
    CHECK(d.has_eth);
    CHECK(d.has_dst_mac);
    CHECK(d.src_mac == kMacA);
    CHECK(d.dst_mac == kMacB);
    CHECK(d.ethertype == kEthIpv4);
    CHECK(d.src_port == eth.src_port);
    CHECK(d.tcp_flags == kTcpSyn);
    CHECK(d.l3_offset == 0);
    CHECK(d.l4_offset == 20);
    REQUIRE(decode_ip(all.subspan(14), {}, &d) == Error::Ok);
    CHECK_FALSE(d.has_eth);
    CHECK(summarize(d) == "TCP 10.0.0.1:57834 -> 10.0.0.2:22 [S] ethertype 0x0800");
    REQUIRE(decode_ip(all.subspan(14), all.first(12), &d) == Error::Ok);  // odd hw header: ignored
    CHECK_FALSE(d.has_eth);
    CHECK(decode_ip({}, {}, &d) == Error::Truncated);
}


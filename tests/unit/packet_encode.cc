// tests/unit/packet_encode.cc — packet encoders and checksums against frames the kernel sent
// (tests/data/*.pcap), expected bytes, and a round trip through the decoder. Reads files only.
//
// Kernel acceptance was checked once with tests/data/inject_check.sh: it injects our NS, DAD NS,
// ARP request, unsolicited NA and gratuitous ARP with AF_PACKET into a veth pair and sees the
// peer kernel answer (NA, defending NA, ARP reply) or update its neighbor cache.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "packet/decode.h"
#include "packet/encode.h"
#include "packet/parse.h"
#include "testdata.h"

using namespace nw::packet;
using testdata::read_pcap;

namespace {

Addr A(const char* s) {
    Addr a;
    REQUIRE(parse_addr(s, &a, nullptr));
    return a;
}
const Mac kMacA = {2, 0, 0, 0, 0, 1}, kMacB = {2, 0, 0, 0, 0, 2}, kMacC = {2, 0, 0, 0, 0, 0xaa};

std::vector<uint8_t> bytes(const uint8_t* p, size_t n) { return std::vector<uint8_t>(p, p + n); }

Decoded roundtrip(const uint8_t* p, size_t n) {
    Decoded d;
    REQUIRE(decode(LinkType::Ethernet, std::span<const uint8_t>(p, n), &d) == Error::Ok);
    return d;
}

// Verifies every checksum a decoded frame carries: IPv4 header, ICMPv4, TCP/UDP/ICMPv6.
void check_checksums(std::span<const uint8_t> f, const Decoded& d) {
    if (d.l3 == 4) {
        const size_t ihl = size_t(f[d.l3_offset] & 15) * 4;
        CHECK(inet_checksum(f.subspan(d.l3_offset, ihl)) == 0);
    }
    if (!d.has_l4 || d.fragment) return;
    if (d.l3 == 4 && (f[d.l3_offset + 6] & 0x20)) return;  // first fragment: sum covers the whole datagram
    auto seg = f.subspan(d.l4_offset, d.payload_offset + d.payload_len - d.l4_offset);
    if (d.proto == kProtoIcmp)
        CHECK(inet_checksum(seg) == 0);
    else if (d.proto == kProtoTcp || d.proto == kProtoUdp || d.proto == kProtoIcmp6)
        CHECK_MESSAGE(l4_checksum(d.src, d.dst, d.proto, seg) == 0, summarize(d));
}

}  // namespace

TEST_CASE("checksum basics (RFC 1071 §3 example, odd length, fold)") {
    const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(checksum_add(0, ex) == 0xddf2);
    CHECK(inet_checksum(ex) == uint16_t(~0xddf2));
    const uint8_t odd[] = {0x12, 0x34, 0x56};
    CHECK(inet_checksum(odd) == uint16_t(~(0x1234 + 0x5600)));
    CHECK(inet_checksum({}) == 0xffff);
    CHECK(checksum_fold(0x1fffe) == 0x0000);
    std::vector<uint8_t> big(70000, 0xff);  // sums past 32 bits of carries still fold right
    CHECK(inet_checksum(big) == 0);
}

TEST_CASE("our checksums agree with every checksum the kernel wrote") {
    const char* files[] = {"eth_icmp4_echo.pcap", "eth_icmp6_echo.pcap", "eth_ndp.pcap",
                           "eth_ndp_dad.pcap",    "eth_mld.pcap",        "eth_tcp4_handshake.pcap",
                           "eth_tcp4_rst.pcap",   "eth_tcp6_handshake.pcap", "eth_tcp6_rst.pcap",
                           "eth_udp4.pcap",       "eth_udp6.pcap",       "eth_ipv4_rr.pcap",
                           "eth_ipv4_frag.pcap",  "raw_ip.pcap",         "sll2_tcp6.pcap"};
    int checked = 0;
    for (const char* name : files) {
        auto p = read_pcap(name);
        for (const auto& f : p.frames) {
            Decoded d;
            REQUIRE(decode(LinkType(uint16_t(p.linktype)), f, &d) == Error::Ok);
            check_checksums(f, d);
            ++checked;
        }
    }
    CHECK(checked == 27);
}

TEST_CASE("Ethernet header") {
    uint8_t buf[14];
    REQUIRE(encode_eth(buf, kMacB, kMacA, kEthWol) == 14);
    CHECK(bytes(buf, 14) == std::vector<uint8_t>{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x42});
    CHECK(encode_eth(std::span<uint8_t>(buf, 13), kMacB, kMacA, kEthWol) == 0);
}

TEST_CASE("ARP request and reply are byte-identical to the kernel's") {
    auto p = read_pcap("eth_arp.pcap");
    uint8_t buf[64];
    REQUIRE(encode_arp_request(buf, kMacA, A("10.0.0.1"), A("10.0.0.2")) == kArpFrameLen);
    CHECK(bytes(buf, kArpFrameLen) == p.frames[0]);
    REQUIRE(encode_arp_reply(buf, kMacB, A("10.0.0.2"), kMacA, A("10.0.0.1")) == kArpFrameLen);
    CHECK(bytes(buf, kArpFrameLen) == p.frames[1]);
    CHECK(encode_arp_request(std::span<uint8_t>(buf, 41), kMacA, A("10.0.0.1"), A("10.0.0.2")) == 0);
    CHECK(encode_arp_request(buf, kMacA, A("fd00::1"), A("10.0.0.2")) == 0);
    CHECK(encode_arp_reply(buf, kMacA, A("10.0.0.1"), kMacB, A("fd00::2")) == 0);
}

TEST_CASE("ARP probe and announcement (RFC 5227)") {
    uint8_t buf[42];
    REQUIRE(encode_arp_probe(buf, kMacA, A("192.0.2.7")) == 42);
    Decoded d = roundtrip(buf, 42);
    CHECK(d.dst_mac == kBroadcastMac);
    CHECK(d.arp_op == kArpRequest);
    CHECK(d.src == A("0.0.0.0"));
    CHECK(d.dst == A("192.0.2.7"));
    CHECK(d.arp_sha == kMacA);
    CHECK(d.arp_tha == Mac{});
    CHECK(summarize(d).find("ARP who-has 192.0.2.7 tell 0.0.0.0") == 0);

    // Announcing the sleeping machine's MAC on its behalf: Ethernet source stays ours.
    REQUIRE(encode_arp_announce(buf, kMacA, kMacC, A("192.0.2.7")) == 42);
    d = roundtrip(buf, 42);
    CHECK(d.src_mac == kMacA);
    CHECK(d.dst_mac == kBroadcastMac);
    CHECK(d.arp_op == kArpRequest);
    CHECK(d.arp_sha == kMacC);
    CHECK(d.src == A("192.0.2.7"));
    CHECK(d.dst == A("192.0.2.7"));
    CHECK(d.arp_tha == Mac{});
    CHECK(encode_arp_probe(std::span<uint8_t>(buf, 10), kMacA, A("192.0.2.7")) == 0);
    CHECK(encode_arp_announce(buf, kMacA, kMacC, A("2001:db8::7")) == 0);
}

TEST_CASE("solicited-node group and IPv6 multicast MAC") {
    CHECK(solicited_node(A("2001:db8::1:2345:6789")) == A("ff02::1:ff45:6789"));
    CHECK(ipv6_multicast_mac(A("ff02::1:ff45:6789")) == Mac{0x33, 0x33, 0xff, 0x45, 0x67, 0x89});
    CHECK(ipv6_multicast_mac(kAllNodes) == Mac{0x33, 0x33, 0, 0, 0, 1});
    CHECK(kAllNodes == A("ff02::1"));
}

TEST_CASE("neighbor solicitation and solicited advertisement are byte-identical to the kernel's") {
    auto p = read_pcap("eth_ndp.pcap");
    uint8_t buf[128];
    REQUIRE(encode_ns(buf, kMacA, A("fd00::1"), A("fd00::2")) == kNdFrameLen);
    CHECK(bytes(buf, kNdFrameLen) == p.frames[0]);
    REQUIRE(encode_na_solicited(buf, kMacB, kMacA, A("fd00::1"), A("fd00::2"), kMacB, kNaOverride) == kNdFrameLen);
    CHECK(bytes(buf, kNdFrameLen) == p.frames[1]);
    CHECK(encode_ns(std::span<uint8_t>(buf, kNdFrameLen - 1), kMacA, A("fd00::1"), A("fd00::2")) == 0);
    CHECK(encode_ns(buf, kMacA, A("10.0.0.1"), A("fd00::2")) == 0);
    CHECK(encode_na_solicited(buf, kMacB, kMacA, A("fd00::1"), A("10.0.0.2"), kMacB, 0) == 0);
}

TEST_CASE("DAD neighbor solicitation") {
    uint8_t buf[128];
    REQUIRE(encode_ns_dad(buf, kMacB, A("fd00::99")) == kNdFrameLenNoOpt);
    // The kernel's DAD NS for the same address differs only by its nonce option (RFC 7527):
    // the Ethernet and IPv6 headers match except for the payload length (and thus checksum).
    auto k = read_pcap("eth_ndp_dad.pcap").frames[0];
    std::vector<uint8_t> ours = bytes(buf, kNdFrameLenNoOpt);
    CHECK(std::vector<uint8_t>(ours.begin(), ours.begin() + 18) == std::vector<uint8_t>(k.begin(), k.begin() + 18));
    CHECK(std::vector<uint8_t>(ours.begin() + 20, ours.begin() + 56) == std::vector<uint8_t>(k.begin() + 20, k.begin() + 56));
    CHECK(std::vector<uint8_t>(ours.begin() + 58, ours.end()) == std::vector<uint8_t>(k.begin() + 58, k.begin() + 78));
    Decoded d = roundtrip(buf, kNdFrameLenNoOpt);
    CHECK(d.src == Addr{});
    CHECK(d.dst == A("ff02::1:ff00:99"));
    CHECK(d.dst_mac == Mac{0x33, 0x33, 0xff, 0, 0, 0x99});
    CHECK(d.ttl == kNdHopLimit);
    CHECK(d.icmp_type == kIcmp6NeighborSolicit);
    CHECK(d.nd_target == A("fd00::99"));
    CHECK_FALSE(d.has_nd_lladdr);
    check_checksums(std::span<const uint8_t>(buf, kNdFrameLenNoOpt), d);
}

TEST_CASE("unicast NS and unsolicited NA round trip") {
    uint8_t buf[128];
    REQUIRE(encode_ns_unicast(buf, kMacA, A("fe80::1"), kMacB, A("2001:db8::20")) == kNdFrameLen);
    Decoded d = roundtrip(buf, kNdFrameLen);
    CHECK(d.dst_mac == kMacB);
    CHECK(d.dst == A("2001:db8::20"));
    CHECK(d.src == A("fe80::1"));
    CHECK(d.nd_target == A("2001:db8::20"));
    CHECK(d.has_nd_lladdr);
    CHECK(d.nd_lladdr == kMacA);
    check_checksums(std::span<const uint8_t>(buf, kNdFrameLen), d);

    // S is never set on an unsolicited NA even if asked for; O and R pass.
    REQUIRE(encode_na_unsolicited(buf, kMacA, A("2001:db8::20"), kMacC,
                                  kNaOverride | kNaSolicited | kNaRouter) == kNdFrameLen);
    d = roundtrip(buf, kNdFrameLen);
    CHECK(d.src_mac == kMacA);
    CHECK(d.dst_mac == Mac{0x33, 0x33, 0, 0, 0, 1});
    CHECK(d.src == A("2001:db8::20"));
    CHECK(d.dst == A("ff02::1"));
    CHECK(d.ttl == 255);
    CHECK(d.icmp_type == kIcmp6NeighborAdvert);
    CHECK(d.na_flags == (kNaOverride | kNaRouter));
    CHECK(d.nd_target == A("2001:db8::20"));
    CHECK(d.nd_lladdr == kMacC);
    check_checksums(std::span<const uint8_t>(buf, kNdFrameLen), d);
    CHECK(summarize(d) ==
          "ICMP6 2001:db8::20 -> ff02::1 type 136 code 0 (neighbor advertisement) tgt 2001:db8::20 flags [RO] "
          "lladdr 02:00:00:00:00:aa src_mac 02:00:00:00:00:01 dst_mac 33:33:00:00:00:01 ethertype 0x86dd");
}

TEST_CASE("encode_nd rejects what it cannot build") {
    uint8_t buf[128];
    NdFrame f;
    f.ip_src = A("fe80::1");
    f.ip_dst = A("ff02::1");
    f.target = A("fe80::1");
    f.type = 134;  // router advertisement: not an NS/NA
    CHECK(encode_nd(buf, f) == 0);
    f.type = kIcmp6NeighborSolicit;
    f.na_flags = 0xff;  // ignored for NS: reserved field stays zero
    REQUIRE(encode_nd(buf, f) == kNdFrameLen);
    CHECK(buf[14 + 40 + 4] == 0);
    f.has_lladdr = false;
    CHECK(encode_nd(std::span<uint8_t>(buf, kNdFrameLenNoOpt), f) == kNdFrameLenNoOpt);
}

// tests/unit/packet_peek.cc — packet::peek_ip (the hot path's key without decoding) against
// decode_ip on the IP packets of the real frames in tests/data/*.pcap, every truncation and
// every single-byte change of their headers, and hand-made edge cases. Reads files only.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "packet/decode.h"
#include "packet/peek.h"
#include "testdata.h"

using namespace nw::packet;

namespace {

// The IP packets (link header removed) of every Ethernet test frame that carries IPv4 or IPv6.
std::vector<std::vector<uint8_t>> ip_packets() {
    const char* files[] = {"eth_icmp4_echo.pcap", "eth_icmp6_echo.pcap", "eth_ipv4_frag.pcap", "eth_ipv4_rr.pcap",
                           "eth_ipv6_ext.pcap",   "eth_ipv6_frag.pcap",  "eth_mld.pcap",       "eth_ndp.pcap",
                           "eth_tcp4_handshake.pcap", "eth_tcp4_rst.pcap", "eth_tcp6_handshake.pcap",
                           "eth_tcp6_rst.pcap",   "eth_udp4.pcap",       "eth_udp6.pcap"};
    std::vector<std::vector<uint8_t>> v;
    for (const char* f : files) {
        for (const auto& fr : testdata::read_pcap(f).frames) {
            Decoded d;
            (void)decode(LinkType::Ethernet, fr, &d);
            if (d.l3 == 4 || d.l3 == 6) v.emplace_back(fr.begin() + long(d.l3_offset), fr.end());
        }
    }
    return v;
}

// When peek_ip answers, decode_ip must accept the packet with the same key. Returns the answer.
bool agrees(std::span<const uint8_t> ip) {
    Key k;
    if (!peek_ip(ip, true, &k)) return false;
    Decoded d;
    const Error e = decode_ip(ip, {}, &d);
    REQUIRE_MESSAGE(e == Error::Ok, "peek_ip answered for a packet decode_ip calls " << error_name(e));
    const Key want = Key::of(d);
    CHECK(k.head() == want.head());
    CHECK((k.src == want.src && k.dst == want.dst));
    return true;
}

std::vector<uint8_t> udp4(uint16_t total, uint16_t ulen, uint16_t frag = 0) {
    std::vector<uint8_t> p(28, 0);
    p[0] = 0x45;
    p[2] = uint8_t(total >> 8), p[3] = uint8_t(total);
    p[6] = uint8_t(frag >> 8), p[7] = uint8_t(frag);
    p[9] = kProtoUdp;
    p[12] = 10, p[15] = 2, p[16] = 10, p[19] = 1;
    p[22] = 0x17, p[23] = 0x70;  // dport 6000
    p[24] = uint8_t(ulen >> 8), p[25] = uint8_t(ulen);
    return p;
}

}  // namespace

TEST_CASE("peek_ip: the key of every plain TCP/UDP test packet, as decode_ip finds it") {
    int answered = 0, tcp_udp = 0;
    for (const auto& ip : ip_packets()) {
        Decoded d;
        const bool plain = decode_ip(ip, {}, &d) == Error::Ok && (d.proto == kProtoTcp || d.proto == kProtoUdp) &&
                           !d.fragment && (d.l3 == 6 ? d.l4_offset == 40 : d.l4_offset == 20);
        tcp_udp += plain;
        const bool a = agrees(ip);
        answered += a;
        CHECK(a == plain);  // it takes exactly these (and declines ICMP, options, extension headers)
    }
    CHECK(tcp_udp >= 10);
    CHECK(answered == tcp_udp);
}

TEST_CASE("peek_ip: never disagrees with decode_ip on truncated or altered headers") {
    int answered = 0;
    for (const auto& ip : ip_packets()) {
        for (size_t n = 0; n < ip.size(); ++n) answered += agrees(std::span(ip).first(n));
        const size_t hdr = std::min<size_t>(ip.size(), 64);
        for (size_t i = 0; i < hdr; ++i) {
            for (uint8_t v : {0x00, 0x01, 0x07, 0x13, 0x14, 0x45, 0x46, 0x60, 0x80, 0xff}) {
                std::vector<uint8_t> x = ip;
                x[i] = v;
                answered += agrees(x);
            }
        }
    }
    CHECK(answered > 100);
}

TEST_CASE("peek_ip: edge cases decline, the plain datagram answers") {
    Key k;
    CHECK(peek_ip(udp4(28, 8), false, &k));
    CHECK((k.l3 == 4 && k.proto == kProtoUdp && k.ports == 1 && k.dport == 6000));
    CHECK(!peek_ip(udp4(19, 8), false, &k));        // total length shorter than the header
    CHECK(!peek_ip(udp4(28, 7), false, &k));        // UDP length below its header
    CHECK(!peek_ip(udp4(24, 8), false, &k));        // IP length leaves no room for the UDP header
    CHECK(!peek_ip(udp4(28, 8, 0x0001), false, &k));  // a later fragment
    CHECK(peek_ip(udp4(28, 8, 0x2000), false, &k));   // "more fragments" on the first one: has ports
    CHECK(peek_ip(udp4(0, 0), false, &k));          // lengths 0 (GSO): what was captured counts
    auto opt = udp4(28, 8);
    opt[0] = 0x46;  // options: the decoder's business
    CHECK(!peek_ip(opt, false, &k));
    const auto plain = udp4(28, 8);
    CHECK(!peek_ip(std::span(plain).first(19), false, &k));
    for (auto& p : {udp4(28, 8), udp4(0, 0), udp4(28, 8, 0x2000)}) CHECK(agrees(p));
}

// tests/unit/packet_robust.cc — packet::decode against every truncation of the real frames in
// tests/data/*.pcap, hand-broken headers, non-IP frames and random garbage. Reads files only.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "packet/decode.h"
#include "packet/encode.h"
#include "testdata.h"

using namespace nw::packet;
using testdata::read_pcap;

namespace {

struct Frame {
    LinkType lt;
    std::vector<uint8_t> bytes;
};

const char* kAllFiles[] = {
    "eth_arp.pcap",          "eth_icmp4_echo.pcap",     "eth_icmp6_echo.pcap", "eth_ipv4_frag.pcap",
    "eth_ipv4_rr.pcap",      "eth_ipv6_ext.pcap",       "eth_ipv6_frag.pcap",  "eth_mld.pcap",
    "eth_ndp.pcap",          "eth_ndp_dad.pcap",        "eth_qinq.pcap",       "eth_tcp4_handshake.pcap",
    "eth_tcp4_rst.pcap",     "eth_tcp6_handshake.pcap", "eth_tcp6_rst.pcap",   "eth_udp4.pcap",
    "eth_udp6.pcap",         "eth_vlan.pcap",           "raw_ip.pcap",         "sll2_tcp6.pcap",
    "sll_icmp4.pcap",
};

std::vector<Frame> all_frames() {
    std::vector<Frame> v;
    for (const char* f : kAllFiles) {
        auto p = read_pcap(f);
        for (auto& fr : p.frames) v.push_back({LinkType(uint16_t(p.linktype)), fr});
    }
    return v;
}

// Bytes a frame needs before decode() may succeed on a prefix of it.
size_t header_end(const Decoded& d) {
    if (d.l3 == 'a') return d.l3_offset + 28;
    if (d.has_l4 && d.has_nd_target) return d.l3_offset + d.ip_total_len;  // ND options are parsed
    if (d.has_l4) return d.payload_offset;
    return d.l3_offset + (d.l3 == 6 ? 40 : 20);
}

}  // namespace

TEST_CASE("all test frames are there") { CHECK(all_frames().size() == 40); }

TEST_CASE("every prefix of every real frame: no crash, an error while headers are cut") {
    for (const Frame& fr : all_frames()) {
        Decoded full;
        REQUIRE(decode(fr.lt, fr.bytes, &full) == Error::Ok);
        const size_t need = header_end(full);
        REQUIRE(need <= fr.bytes.size());
        for (size_t n = 0; n < fr.bytes.size(); ++n) {
            // A copy of exactly n bytes, so ASan sees any read past the end.
            std::vector<uint8_t> cut(fr.bytes.begin(), fr.bytes.begin() + long(n));
            Decoded d;
            const Error e = decode(fr.lt, cut, &d);
            (void)summarize(d);
            if (n < need) {
                CHECK_MESSAGE(e != Error::Ok, "prefix " << n << " of " << summarize(full));
            } else if (full.has_l4) {
                // Cut inside the payload (a short snaplen): headers still decode.
                CHECK_MESSAGE(e == Error::Ok, "prefix " << n << " of " << summarize(full));
                CHECK(d.src_port == full.src_port);
                CHECK(d.dst_port == full.dst_port);
                CHECK(d.proto == full.proto);
                CHECK(d.payload_offset == full.payload_offset);
            }
            if (e == Error::Truncated) CHECK_FALSE(d.has_l4);
        }
    }
}

TEST_CASE("malformed headers") {
    Decoded d;
    auto tcp4 = read_pcap("eth_tcp4_handshake.pcap").frames[0];
    auto bad = [&](size_t off, uint8_t v) {
        auto f = tcp4;
        f[off] = v;
        return decode(LinkType::Ethernet, f, &d);
    };
    CHECK(bad(14, 0x44) == Error::Malformed);         // IHL 4
    CHECK(bad(14, 0x65) == Error::Malformed);         // version 6 under EtherType IPv4
    CHECK(bad(14, 0x4f) != Error::Ok);                // IHL 15: the TCP header read as options
    CHECK(bad(17, 10) == Error::Malformed);           // total length 10 < 20
    CHECK(bad(34 + 12, 0x40) == Error::Malformed);    // TCP data offset 4
    CHECK(bad(34 + 12, 0xf0) == Error::Truncated);    // TCP data offset 15 > captured
    {
        auto f = tcp4;
        f[17] = 0;  // total length 0 (GSO capture): decode what was captured
        f[16] = 0;
        REQUIRE(decode(LinkType::Ethernet, f, &d) == Error::Ok);
        CHECK(d.ip_total_len == 0);
        CHECK(d.dst_port == 22);
    }
    auto rr = read_pcap("eth_ipv4_rr.pcap").frames[0];
    {
        auto f = rr;
        REQUIRE(f[34] == 1);  // NOP, then RR
        REQUIRE(f[35] == 7);
        f[36] = 0;  // RR length 0
        CHECK(decode(LinkType::Ethernet, f, &d) == Error::Malformed);
        f[36] = 60;  // RR longer than the option space
        CHECK(decode(LinkType::Ethernet, f, &d) == Error::Malformed);
    }
    auto udp = read_pcap("eth_udp4.pcap").frames[0];
    {
        auto f = udp;
        f[34 + 5] = 7;  // UDP length 7
        f[34 + 4] = 0;
        CHECK(decode(LinkType::Ethernet, f, &d) == Error::Malformed);
        f[34 + 5] = 200;  // claims more than captured: payload is what we have
        REQUIRE(decode(LinkType::Ethernet, f, &d) == Error::Ok);
        CHECK(d.payload_len == 6);
    }
    auto ns = read_pcap("eth_ndp.pcap").frames[0];
    {
        auto f = ns;
        REQUIRE(f[78] == 1);
        f[79] = 0;  // ND option length 0 (RFC 4861 §4.6: invalid)
        CHECK(decode(LinkType::Ethernet, f, &d) == Error::Malformed);
        f[79] = 2;  // option longer than the packet
        CHECK(decode(LinkType::Ethernet, f, &d) == Error::Truncated);
    }
    auto ext = read_pcap("eth_ipv6_ext.pcap").frames[0];
    {
        auto f = ext;
        REQUIRE(f[54] == 60);
        f[54] = 0;  // hop-by-hop after hop-by-hop
        CHECK(decode(LinkType::Ethernet, f, &d) == Error::Malformed);
        f = ext;
        f[57] = 9;  // PadN running past its header
        CHECK(decode(LinkType::Ethernet, f, &d) == Error::Malformed);
    }
    auto arp = read_pcap("eth_arp.pcap").frames[0];
    {
        auto f = arp;
        f[18] = 8;  // hardware address length 8
        CHECK(decode(LinkType::Ethernet, f, &d) == Error::Unsupported);
        CHECK(d.l3 == 'a');
        CHECK(d.arp_op == 1);
    }
}

TEST_CASE("non-IP frames decode as link layer only") {
    std::vector<uint8_t> lldp = {0x01, 0x80, 0xc2, 0, 0, 0x0e, 2, 0, 0, 0, 0, 1, 0x88, 0xcc, 0x02, 0x07};
    Decoded d;
    REQUIRE(decode(LinkType::Ethernet, lldp, &d) == Error::Ok);
    CHECK(d.l3 == 0);
    CHECK(d.ethertype == 0x88cc);
    CHECK(summarize(d) == "ETHER src_mac 02:00:00:00:00:01 dst_mac 01:80:c2:00:00:0e ethertype 0x88cc");
    std::vector<uint8_t> llc = {0x01, 0x80, 0xc2, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0x00, 0x26, 0x42, 0x42, 0x03};
    REQUIRE(decode(LinkType::Ethernet, llc, &d) == Error::Ok);
    CHECK(d.ethertype == 0);
    CHECK(summarize(d) == "ETHER src_mac 02:00:00:00:00:01 dst_mac 01:80:c2:00:00:00");
    std::vector<uint8_t> wol(14, 0xff);
    wol[12] = 0x08;
    wol[13] = 0x42;
    REQUIRE(decode(LinkType::Ethernet, wol, &d) == Error::Ok);
    CHECK(d.ethertype == kEthWol);
}

// What must hold for any input: a decode that succeeded points only inside the input, and
// decoding is deterministic (same bytes, same summary). Returns false on a violation.
static bool sane(LinkType lt, std::span<const uint8_t> in, Decoded* d) {
    const Error e = decode(lt, in, d);
    const std::string first = summarize(*d);
    if (e != Error::Ok) return std::string(error_name(e)) != "";
    const size_t n = in.size();
    if (d->l3 != 0 && d->l3_offset > n) return false;
    if (d->has_l4 && (d->l4_offset > n || d->payload_offset > n || d->payload_len > n - d->payload_offset)) return false;
    Decoded again;
    return decode(lt, in, &again) == Error::Ok && summarize(again) == first && !first.empty();
}

TEST_CASE("garbage and mutated frames never crash, stay in bounds, decode deterministically") {
    std::mt19937 rng(12345);
    const LinkType lts[] = {LinkType::Ethernet, LinkType::RawIp, LinkType::LinuxSll,
                            LinkType::LinuxSll2, LinkType::Ipv4, LinkType::Ipv6};
    Decoded d;
    size_t bad = 0, ok = 0, refused = 0;
    for (int i = 0; i < 20000; ++i) {
        std::vector<uint8_t> g(rng() % 200);
        for (auto& b : g) b = uint8_t(rng());
        if (g.size() > 20 && (i & 1)) g[(i & 2) ? 0 : 14] = 0x45;  // look like IPv4 more often
        for (LinkType lt : lts) bad += !sane(lt, g, &d);
        (void)decode_ip(g, std::span<const uint8_t>(g).first(std::min<size_t>(g.size(), 14)), &d);
        (void)summarize(d);
    }
    auto frames = all_frames();
    for (int i = 0; i < 100000; ++i) {
        const Frame& fr = frames[rng() % frames.size()];
        std::vector<uint8_t> f = fr.bytes;
        const int flips = 1 + int(rng() % 4);
        for (int k = 0; k < flips; ++k) f[rng() % f.size()] = uint8_t(rng());
        f.resize(rng() % (f.size() + 1));
        bad += !sane(fr.lt, f, &d);
        (decode(fr.lt, f, &d) == Error::Ok ? ok : refused)++;
    }
    CHECK(bad == 0);
    // The mutations reach both sides: many still decode, many are refused.
    CHECK(ok > 10000);
    CHECK(refused > 10000);
}

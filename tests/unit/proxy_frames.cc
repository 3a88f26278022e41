// tests/unit/proxy_frames.cc — the frames the sleep proxy emits, byte for byte against frames a
// Linux 6.x kernel sent in the same situation (captured with tcpdump in two namespaces with
// MACs 02:..:0a / 02:..:0b, 192.0.2.10-11/24, 2001:db8::10-11/64, arp_notify and ndisc_notify
// on); the receive filter (run through a small classic-BPF interpreter); the nft script; the
// announcement rate limit. Pure; no sockets.
#include <doctest/doctest.h>

#include <linux/if_packet.h>

#include "proxy/bpf.h"
#include "proxy/nft.h"
#include "proxy_fixture.h"

using namespace nw;
using namespace nw::proxytest;
using proxy::State;

namespace {

// Kernel frames (tcpdump -xx), one string per frame.
const char* kArpRequestB = "ffffffffffff02000000000b0806000108000604000102000000000bc000020b000000000000c000020a";
const char* kArpReplyA = "02000000000b02000000000a0806000108000604000202000000000ac000020a02000000000bc000020b";
const char* kNsB =
    "3333ff00001002000000000b86dd6000000000203aff20010db8000000000000000000000011ff0200000000000000000001ff00001087001bf10000"
    "000020010db8000000000000000000000010010102000000000b";
const char* kNaA =
    "02000000000b02000000000a86dd6000000000203aff20010db800000000000000000000001020010db80000000000000000000000118800"
    "8a3d6000000020010db8000000000000000000000010020102000000000a";
const char* kUnsolNaA =
    "33330000000102000000000a86dd6000000000203aff20010db8000000000000000000000010ff0200000000000000000000000000018800"
    "f9032000000020010db8000000000000000000000010020102000000000a";
const char* kGarpA = "ffffffffffff02000000000a0806000108000604000102000000000ac000020a000000000000c000020a";
// DAD NS from B for fe80::ff:fe00:b, with an RFC 7527 nonce option.
const char* kDadB =
    "3333ff00000b02000000000b86dd6000000000203aff00000000000000000000000000000000ff0200000000000000000001ff00000b87006bc600"
    "000000fe80000000000000000000fffe00000b0e01bdb76f34d655";

constexpr Mac kA{2, 0, 0, 0, 0, 0x0a};

// The proxy host plays A (holding A's addresses for the machine M).
void lab_as_a(Lab& lab) {
    lab.host.macs["lan0"] = kA;
    lab.host.own = {kA};
    lab.configure({Lab::target({{A("192.0.2.10"), {}}, {A("2001:db8::10"), {}}, {A("fe80::ff:fe00:b"), {}}})});
    lab.put_to_sleep();
    lab.advance(100);
}

bool sent(const Lab& lab, const std::vector<uint8_t>& want) {
    for (const auto& s : lab.sink.sent)
        if (s.bytes == want) return true;
    return false;
}

// A classic-BPF interpreter for the instructions build_filter() emits.
uint32_t run_bpf(const std::vector<sock_filter>& prog, const std::vector<uint8_t>& f, bool vlan = false,
                 uint32_t pkttype = PACKET_HOST) {
    uint32_t a = 0;
    for (size_t pc = 0; pc < prog.size(); ++pc) {
        const sock_filter& i = prog[pc];
        switch (i.code) {
            case BPF_LD | BPF_W | BPF_ABS:
            case BPF_LD | BPF_H | BPF_ABS:
            case BPF_LD | BPF_B | BPF_ABS: {
                if (i.k == uint32_t(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)) {
                    a = vlan;
                    break;
                }
                if (i.k == uint32_t(SKF_AD_OFF + SKF_AD_PKTTYPE)) {
                    a = pkttype;
                    break;
                }
                const size_t n = BPF_SIZE(i.code) == BPF_W ? 4 : BPF_SIZE(i.code) == BPF_H ? 2 : 1;
                if (i.k + n > f.size()) return 0;  // the kernel rejects out-of-range loads
                a = 0;
                for (size_t k = 0; k < n; ++k) a = a << 8 | f[i.k + k];
                break;
            }
            case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i.k ? i.jt : i.jf; break;
            case BPF_JMP | BPF_JA: pc += i.k; break;
            case BPF_RET | BPF_K: return i.k;
            default: FAIL("unexpected BPF opcode " << i.code); return 0;
        }
    }
    FAIL("BPF program fell off its end");
    return 0;
}

}  // namespace

TEST_CASE("frames: ARP reply and solicited NA are byte-identical to the kernel's") {
    Lab lab;
    lab_as_a(lab);
    lab.sink.sent.clear();
    lab.rx(from_hex(kArpRequestB));
    lab.rx(from_hex(kNsB));
    REQUIRE(lab.sink.sent.size() == 2);
    CHECK(lab.sink.sent[0].bytes == from_hex(kArpReplyA));
    CHECK(lab.sink.sent[1].bytes == from_hex(kNaA));
}

TEST_CASE("frames: takeover GARP and unsolicited NA are byte-identical to the kernel's") {
    Lab lab;
    lab_as_a(lab);
    CHECK(sent(lab, from_hex(kGarpA)));
    CHECK(sent(lab, from_hex(kUnsolNaA)));
}

TEST_CASE("frames: the kernel's DAD NS (with a nonce) is never answered and means the machine is back") {
    Lab lab;
    lab_as_a(lab);
    lab.sink.sent.clear();
    auto dad = from_hex(kDadB);
    dad[7] = 0x77;  // not from the machine's own MAC: only the DAD rule can fire
    lab.rx(dad);
    CHECK(lab.state() == State::Up);
    for (const auto& s : lab.sink.sent) {
        const auto d = s.d();
        CHECK_FALSE((d.l3 == 6 && d.icmp_type == packet::kIcmp6NeighborAdvert && (d.na_flags & packet::kNaSolicited)));
    }
}

TEST_CASE("frames: NS with a bad checksum or hop limit is ignored") {
    Lab lab;
    lab_as_a(lab);
    lab.sink.sent.clear();
    auto bad = from_hex(kNsB);
    bad[14 + 40 + 2] ^= 1;  // checksum
    lab.rx(bad);
    auto hop = from_hex(kNsB);
    hop[14 + 7] = 64;
    lab.rx(hop);
    CHECK(lab.sink.sent.empty());
    CHECK(lab.p->stats().bad_nd == 2);
}

TEST_CASE("bpf: the receive filter passes what the proxy needs and little else") {
    const Addr v4 = A("192.0.2.20"), v6 = A("2001:db8::20");
    proxy::Interest in;
    in.macs = {Lab::M};
    in.held = {v4, v6};
    const auto prog = proxy::build_filter(in);
    const uint32_t all = proxy::kSnapLen;
    CHECK(run_bpf(prog, from_hex(kArpRequestB)) == all);
    CHECK(run_bpf(prog, from_hex(kNsB)) == all);
    CHECK(run_bpf(prog, from_hex(kNaA)) == all);
    CHECK(run_bpf(prog, tcp4(Lab::C, Lab::P, A("192.0.2.30"), v4, 1, 22, packet::kTcpSyn)) == all);
    CHECK(run_bpf(prog, tcp4(Lab::C, Lab::P, A("192.0.2.30"), v4, 1, 22, packet::kTcpSyn, true)) == all);
    CHECK(run_bpf(prog, tcp4(Lab::C, Lab::P, A("192.0.2.30"), A("192.0.2.21"), 1, 22, packet::kTcpSyn)) == 0);
    CHECK(run_bpf(prog, udp4(Lab::M, packet::kBroadcastMac, A("0.0.0.0"), A("255.255.255.255"), 68, 67)) == all);
    CHECK(run_bpf(prog, udp4(Lab::C, packet::kBroadcastMac, A("0.0.0.0"), A("255.255.255.255"), 68, 67)) == 0);
    // IPv6 to a held address behind extension headers: the destination sits at a fixed offset.
    auto v6frame = from_hex(kNaA);
    std::memcpy(&v6frame[14 + 24], v6.b.data(), 16);
    v6frame[14 + 6] = 0;  // next header: hop-by-hop
    CHECK(run_bpf(prog, v6frame) == all);
    v6frame[14 + 24 + 15] ^= 1;
    CHECK(run_bpf(prog, v6frame) == 0);
    // VLAN-tagged (another interface's) and our own outgoing frames are rejected.
    CHECK(run_bpf(prog, from_hex(kArpRequestB), true) == 0);
    CHECK(run_bpf(prog, from_hex(kArpRequestB), false, PACKET_OUTGOING) == 0);
    SUBCASE("too many addresses for one program: every IP packet passes, the program stays legal") {
        proxy::Interest big;
        for (uint32_t i = 0; i < 3000; ++i) big.held.push_back(Addr::v4(0x0a000000 + i));
        const auto p2 = proxy::build_filter(big);
        CHECK(p2.size() <= 4096);
        CHECK(run_bpf(p2, tcp4(Lab::C, Lab::P, A("192.0.2.30"), A("198.51.100.1"), 1, 22, packet::kTcpSyn)) == all);
    }
}

TEST_CASE("nft: one transaction that recreates `table inet netwaked`, or only deletes it") {
    const std::string empty = proxy::NftFirewall::script({});
    CHECK(empty == "table inet netwaked {}\ndelete table inet netwaked\n");
    const std::string s =
        proxy::NftFirewall::script({{"eth0", A("192.168.1.20")}, {"eth0", A("2001:db8::20")}, {"bad\"if", A("10.0.0.1")}});
    CHECK(s.rfind(empty, 0) == 0);
    CHECK(s.find("set held4 { type ifname . ipv4_addr; elements = { \"eth0\" . 192.168.1.20 }; }") != std::string::npos);
    CHECK(s.find("set held6 { type ifname . ipv6_addr; elements = { \"eth0\" . 2001:db8::20 }; }") != std::string::npos);
    CHECK(s.find("type filter hook prerouting priority raw; policy accept;") != std::string::npos);
    CHECK(s.find("iifname . ip daddr @held4 counter drop") != std::string::npos);
    CHECK(s.find("10.0.0.1") == std::string::npos);  // an interface name nft cannot quote is skipped
}

TEST_CASE("announcer: at most one frame per 10 ms per interface; cancel drops a machine's frames") {
    FakeClock clock;
    FakeSink sink;
    sink.clock = &clock;
    proxy::Announcer an(&sink);
    for (int i = 0; i < 4; ++i) an.push("lan0", 1, {uint8_t(i)}, clock.t);
    an.push("lan1", 2, {9}, clock.t);
    CHECK(sink.sent.size() == 2);  // one per interface at once
    CHECK(an.next_deadline_ns() == clock.t + proxy::kAnnounceGapNs);
    clock.t += proxy::kAnnounceGapNs;
    an.on_time(clock.t);
    CHECK(sink.sent.size() == 3);
    an.cancel(1);
    CHECK(an.queued() == 0);
    CHECK(an.next_deadline_ns() == 0);
}

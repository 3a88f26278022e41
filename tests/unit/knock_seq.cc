// tests/unit/knock_seq.cc — knockd-style sequences in core::KnockEngine with a fake clock:
// order, timeout, flags (ignored vs reset), interleaved sources, the per-knock bound, timer
// expiry, IPv6; and core::KnockPorts, the sensors' port filter.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/knock.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kT0 = 1000 * kS;
constexpr int64_t kWall = 1'700'000'000;

packet::Addr v4(uint32_t a) { return packet::Addr::v4(a); }
packet::Addr v6(uint8_t last) {
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
    b[15] = last;
    return packet::Addr::v6_bytes(b);
}

packet::Decoded pkt(const packet::Addr& src, uint8_t proto, uint16_t dport, uint8_t flags = packet::kTcpSyn) {
    packet::Decoded d;
    d.l3 = src.is_v4() ? 4 : 6;
    d.src = src;
    d.dst = v4(0x0a000001);
    d.proto = proto;
    d.has_l4 = true;
    d.src_port = 40000;
    d.dst_port = dport;
    d.tcp_flags = proto == packet::kProtoTcp ? flags : 0;
    return d;
}
packet::Decoded syn(const packet::Addr& s, uint16_t port) { return pkt(s, packet::kProtoTcp, port); }
packet::Decoded udp(const packet::Addr& s, uint16_t port) { return pkt(s, packet::kProtoUdp, port); }

config::KnockConf ssh_knock() {
    config::KnockConf k;
    k.name = "ssh";
    k.target = "nas";
    k.sequence = {{config::Proto::Tcp, 7000}, {config::Proto::Tcp, 8000}, {config::Proto::Udp, 9000}};
    k.timeout = 15s;
    return k;
}

struct Rig {
    core::KnockEngine eng;
    std::vector<core::KnockEvent> ev;
    int64_t now = kT0;
    explicit Rig(std::vector<config::KnockConf> ks = {ssh_knock()}) : eng(ks, {}) {}
    size_t feed(const packet::Decoded& d, int64_t advance_ns = 0) {
        now += advance_ns;
        size_t before = ev.size();
        eng.on_packet(d, {}, now, kWall + now / kS, &ev);
        return ev.size() - before;
    }
};

}  // namespace

TEST_CASE("knock sequence: steps in order complete the knock") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    CHECK(r.feed(syn(a, 7000)) == 0);
    CHECK(r.feed(syn(a, 8000), kS) == 0);
    CHECK(r.eng.sources_in_progress() == 1);
    REQUIRE(r.feed(udp(a, 9000), kS) == 1);
    CHECK(r.ev[0].kind == core::KnockEvent::Sequence);
    CHECK(r.ev[0].knock_name == "ssh");
    CHECK(r.ev[0].target == "nas");
    CHECK(r.ev[0].knock_index == 0);
    CHECK(r.ev[0].src == a);
    CHECK(r.eng.sources_in_progress() == 0);
    CHECK(r.eng.stats().sequences_completed == 1);
    // the same source can knock again at once
    r.feed(syn(a, 7000), kS);
    r.feed(syn(a, 8000), kS);
    CHECK(r.feed(udp(a, 9000), kS) == 1);
}

TEST_CASE("knock sequence: out of order, wrong protocol, unrelated ports") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    CHECK(r.feed(syn(a, 8000)) == 0);       // not the first step: nothing starts
    CHECK(r.eng.sources_in_progress() == 0);
    r.feed(syn(a, 7000));
    r.feed(udp(a, 8000));                   // udp/8000 is not a port of this knock: ignored
    r.feed(syn(a, 22));                     // unrelated port: ignored
    r.feed(syn(a, 8000));
    CHECK(r.feed(syn(a, 9000)) == 0);       // tcp/9000 is not udp/9000: ignored
    CHECK(r.feed(udp(a, 9000)) == 1);
}

TEST_CASE("knock sequence: timeout is measured from the first hit") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    r.feed(syn(a, 7000));
    r.feed(syn(a, 8000), 10 * kS);
    CHECK(r.feed(udp(a, 9000), 5 * kS) == 0);   // 15 s after the first hit: too late
    CHECK(r.eng.sources_in_progress() == 0);
    r.feed(syn(a, 7000), kS);
    r.feed(syn(a, 8000), 7 * kS);
    CHECK(r.feed(udp(a, 9000), 7 * kS) == 1);   // 14 s: in time
}

TEST_CASE("knock sequence: packets with other TCP flags are ignored, matching flags on a wrong port reset") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    r.feed(syn(a, 7000));
    r.feed(pkt(a, packet::kProtoTcp, 9999, packet::kTcpAck));                    // unrelated
    r.feed(pkt(a, packet::kProtoTcp, 7000, packet::kTcpAck));                    // ACK: ignored
    r.feed(pkt(a, packet::kProtoTcp, 7000, packet::kTcpSyn | packet::kTcpAck));  // SYN+ACK: ignored
    r.feed(pkt(a, packet::kProtoTcp, 7000, packet::kTcpRst));                    // RST: ignored
    CHECK(r.eng.sources_in_progress() == 1);
    r.feed(syn(a, 8000));
    CHECK(r.feed(pkt(a, packet::kProtoUdp, 9000, 0xff)) == 1);                  // UDP: flags don't apply

    // a SYN to a port of the knock that is not the next step resets
    r.feed(syn(a, 7000), 3 * kS);
    r.feed(syn(a, 8000));
    r.feed(syn(a, 8000), 3 * kS);            // repeated after 3 s: a wrong step, resets
    CHECK(r.eng.sources_in_progress() == 0);
    CHECK(r.feed(udp(a, 9000)) == 0);

    // a wrong step that is the first step restarts progress at 1
    r.feed(syn(a, 7000), kS);
    r.feed(syn(a, 8000));
    r.feed(syn(a, 7000), 3 * kS);
    r.feed(syn(a, 8000));
    CHECK(r.feed(udp(a, 9000)) == 1);
}

TEST_CASE("knock sequence: a repeat of the step just taken within 2 s is a duplicate") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    r.feed(syn(a, 7000));
    r.feed(syn(a, 7000), kS);                // retransmitted SYN / second sensor
    r.feed(syn(a, 8000), kS);
    r.feed(syn(a, 8000), 0);
    CHECK(r.feed(udp(a, 9000)) == 1);
    CHECK(r.eng.stats().duplicates == 2);
}

TEST_CASE("knock sequence: custom tcp_flags and a repeated port in the sequence") {
    config::KnockConf k;
    k.name = "k";
    k.target = "t";
    k.sequence = {{config::Proto::Tcp, 100}, {config::Proto::Tcp, 100}, {config::Proto::Tcp, 200}};
    k.tcp_flags = config::TcpFlags{packet::kTcpFin, packet::kTcpFin};
    Rig r({k});
    packet::Addr a = v4(1);
    auto fin = [&](uint16_t p) { return pkt(a, packet::kProtoTcp, p, packet::kTcpFin | packet::kTcpAck); };
    r.feed(syn(a, 100));                     // no FIN: ignored
    CHECK(r.eng.sources_in_progress() == 0);
    r.feed(fin(100));
    r.feed(fin(100));                        // the expected next step, not a duplicate
    CHECK(r.feed(fin(200)) == 1);
}

TEST_CASE("knock sequence: a one-step sequence completes on its only hit") {
    config::KnockConf k;
    k.name = "one";
    k.target = "t";
    k.sequence = {{config::Proto::Udp, 5000}};
    Rig r({k});
    CHECK(r.feed(udp(v4(1), 5000)) == 1);
    CHECK(r.eng.sources_in_progress() == 0);
}

TEST_CASE("knock sequence: sources do not disturb each other") {
    Rig r;
    packet::Addr a = v4(0xc0000205), b = v4(0xc0000206), c = v6(7);
    r.feed(syn(a, 7000));
    r.feed(syn(b, 7000));
    r.feed(syn(c, 7000));
    r.feed(syn(a, 8000));
    r.feed(udp(b, 9000));                    // b goes wrong: only b resets
    r.feed(syn(c, 8000));
    CHECK(r.eng.sources_in_progress() == 2);
    REQUIRE(r.feed(udp(a, 9000)) == 1);
    CHECK(r.ev.back().src == a);
    REQUIRE(r.feed(udp(c, 9000)) == 1);
    CHECK(r.ev.back().src == c);
    CHECK(r.feed(udp(b, 9000)) == 0);
}

TEST_CASE("knock sequence: IPv6 and IPv4-mapped sources are distinct") {
    Rig r;
    packet::Addr six = v6(5), four = v4(5);
    r.feed(syn(six, 7000));
    r.feed(syn(four, 8000));                 // four never started
    r.feed(syn(six, 8000));
    REQUIRE(r.feed(udp(six, 9000)) == 1);
    CHECK(r.ev[0].src == six);
    CHECK(!r.ev[0].src.is_v4());
}

TEST_CASE("knock sequence: state per knock is bounded, the oldest attempt is evicted") {
    Rig r;
    const size_t n = core::KnockEngine::kMaxSourcesPerKnock;
    for (size_t i = 0; i <= n; ++i) r.feed(syn(v4(0x0a000000 + uint32_t(i)), 7000), 1000);
    CHECK(r.eng.sources_in_progress() == n);
    CHECK(r.eng.stats().sequences_evicted == 1);
    r.feed(syn(v4(0x0a000000), 8000));
    CHECK(r.feed(udp(v4(0x0a000000), 9000)) == 0);   // the first one was evicted
    r.feed(syn(v4(0x0a000001), 8000));
    CHECK(r.feed(udp(v4(0x0a000001), 9000)) == 1);
}

TEST_CASE("knock sequence: expired attempts are dropped by timers, not by the next packet") {
    Rig r;
    CHECK(r.eng.next_deadline_ns() == 0);
    r.feed(syn(v4(1), 7000));
    r.feed(syn(v4(2), 7000), 2 * kS);
    int64_t dl = r.eng.next_deadline_ns();
    CHECK(dl >= kT0 + 15 * kS);
    CHECK(dl < kT0 + 15 * kS + core::KnockEngine::kTimerSlackNs);
    r.eng.on_time(kT0 + 15 * kS - 1);
    CHECK(r.eng.sources_in_progress() == 2);
    r.eng.on_time(dl);
    CHECK(r.eng.sources_in_progress() == 1);
    CHECK(r.eng.next_deadline_ns() >= kT0 + 17 * kS);
    r.eng.on_time(kT0 + 18 * kS);
    CHECK(r.eng.sources_in_progress() == 0);
    CHECK(r.eng.next_deadline_ns() == 0);
}

TEST_CASE("knock sequence: two knocks sharing ports progress independently") {
    config::KnockConf a = ssh_knock(), b;
    b.name = "web";
    b.target = "www";
    b.sequence = {{config::Proto::Tcp, 7000}, {config::Proto::Udp, 9000}};
    Rig r({a, b});
    packet::Addr s = v4(9);
    r.feed(syn(s, 7000));
    r.feed(syn(s, 8000));                    // advances ssh; not a port of web: web keeps 1
    REQUIRE(r.feed(udp(s, 9000)) == 2);
    CHECK(r.ev[0].knock_name == "ssh");
    CHECK(r.ev[1].knock_name == "web");
    CHECK(r.ev[1].knock_index == 1);
}

TEST_CASE("KnockPorts: only TCP/UDP destination ports used by a knock") {
    config::KnockConf spa;
    spa.name = "remote";
    spa.target = "nas";
    spa.spa = config::SpaConf{};
    spa.spa->port = 62201;
    core::KnockPorts none;
    CHECK(none.empty());
    CHECK(!none.wants(syn(v4(1), 7000)));
    core::KnockPorts p({ssh_knock(), spa});
    CHECK(!p.empty());
    CHECK(p.wants(syn(v4(1), 7000)));
    CHECK(p.wants(pkt(v4(1), packet::kProtoTcp, 8000, packet::kTcpAck)));   // flags are the core's business
    CHECK(p.wants(udp(v6(1), 9000)));
    CHECK(p.wants(udp(v4(1), 62201)));
    CHECK(!p.wants(syn(v4(1), 9000)));
    CHECK(!p.wants(udp(v4(1), 7000)));
    CHECK(!p.wants(syn(v4(1), 62201)));
    CHECK(!p.wants(syn(v4(1), 22)));
    packet::Decoded icmp = pkt(v4(1), packet::kProtoIcmp, 7000);
    CHECK(!p.wants(icmp));
    packet::Decoded frag = syn(v4(1), 7000);
    frag.has_l4 = false;
    CHECK(!p.wants(frag));
}

// tests/unit/proxy_wake.cc — waking through the sleep proxy: which packets wake (SYN, UDP, with
// IPv4 options / IPv6 extension headers, captured frames included), which do not (RST, ACK, FIN,
// ICMP, unlisted ports, fragments, other MACs), retransmissions, bursts, attempts, keep / lost.
#include <doctest/doctest.h>

#include "proxy_fixture.h"
#include "testdata.h"

using namespace nw;
using namespace nw::proxytest;
using proxy::State;

namespace {
const Addr kV4 = A("192.0.2.20"), kClient = A("192.0.2.30");
constexpr uint8_t S = packet::kTcpSyn, Ack = packet::kTcpAck, R = packet::kTcpRst, F = packet::kTcpFin;

config::PortRange port(uint16_t p) { return {p, p, false}; }

// Machine with 192.0.2.20 (ports 22, 445) asleep.
void asleep_with_ports(Lab& lab, bool keep = true) {
    lab.configure({Lab::target({{kV4, {port(22), port(445)}}}, keep)});
    lab.put_to_sleep();
    lab.hooks.jobs.clear();
}
}  // namespace

TEST_CASE("wake: SYN to a listed port -> waking, magic packets, wake hook with the packet") {
    Lab lab;
    asleep_with_ports(lab);
    const int64_t t0 = lab.clock.t;
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S));
    CHECK(lab.state() == State::Waking);
    CHECK(lab.logged("nas: proxy asleep -> waking (traffic: TCP 192.0.2.30:40000 -> 192.0.2.20:22 [S]"));
    REQUIRE(lab.hooks.jobs.size() == 1);
    CHECK(lab.hooks.jobs[0].event == "wake");
    CHECK(lab.hooks.env(0, "NETWAKED_MAC") == "02:00:00:00:00:20");
    CHECK(lab.hooks.env(0, "NETWAKED_ATTEMPT") == "1");
    CHECK(lab.hooks.env(0, "NETWAKED_REASON") == "traffic");
    CHECK(lab.hooks.env(0, "NETWAKED_SRC") == "192.0.2.30");
    CHECK(lab.hooks.env(0, "NETWAKED_DST_PORT") == "22");
    CHECK(lab.hooks.env(0, "NETWAKED_PROTO") == "tcp");
    REQUIRE(lab.wol.sent.size() == 1);  // first copy at once (latency)
    CHECK(lab.wol.sent[0].first == t0);
    CHECK(lab.wol.sent[0].second == Lab::M);
    lab.advance(1100);
    CHECK(lab.wol.sent.size() == 3);  // repeat 3, 500 ms apart
    // Retransmissions of the same attempt and new packets while waking do not restart it.
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S));
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40001, 445, S));
    lab.advance(1000);
    CHECK(lab.wol.sent.size() == 3);
    CHECK(lab.hooks.jobs.size() == 1);
    CHECK(lab.p->stats().retransmits == 1);
}

TEST_CASE("wake: what does not wake") {
    Lab lab;
    asleep_with_ports(lab);
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, R));
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, Ack));
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, F | Ack));
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S | Ack));
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S | R));
    lab.rx(icmp4(Lab::C, Lab::P, kClient, kV4));
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 23, S));            // port not listed
    lab.rx(udp4(Lab::C, Lab::P, kClient, kV4, 5353, 5353));             // port not listed
    lab.rx(tcp4(Lab::C, Lab::X, kClient, kV4, 40000, 22, S));            // to another MAC
    lab.rx(tcp4(Lab::C, Lab::P, kClient, A("192.0.2.99"), 40000, 22, S));  // not held
    lab.rx(tcp4(Lab::P, Lab::P, A("192.0.2.1"), kV4, 40000, 22, S));     // from the host itself
    CHECK(lab.state() == State::Asleep);
    CHECK(lab.wol.sent.empty());
    CHECK(lab.hooks.jobs.empty());
    SUBCASE("UDP to a listed port wakes") {
        lab.rx(udp4(Lab::C, Lab::P, kClient, kV4, 5353, 445));
        CHECK(lab.state() == State::Waking);
    }
    SUBCASE("a SYN with IPv4 options wakes") {
        lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40002, 22, S, true));
        CHECK(lab.state() == State::Waking);
    }
    SUBCASE("a SYN sent to the machine's own MAC (a client with a stale cache) wakes") {
        lab.rx(tcp4(Lab::C, Lab::M, kClient, kV4, 40003, 22, S));
        CHECK(lab.state() == State::Waking);
    }
}

TEST_CASE("wake: captured frames (IPv6 extension headers, fragments, handshakes)") {
    using packet::testdata::read_pcap;
    Lab lab;
    // Captures are from 02:..:01 (10.0.0.1 / fd00::1) to 02:..:02 (10.0.0.2 / fd00::2): here the
    // proxy host is 02:..:02 and holds 10.0.0.2 and fd00::2 for the machine.
    lab.host.macs["lan0"] = {2, 0, 0, 0, 0, 2};
    lab.host.own = {{2, 0, 0, 0, 0, 2}};
    lab.host.addrs["lan0"] = {{A("10.0.0.9"), 120}, {A("fe80::9"), 64}};
    lab.configure({Lab::target({{A("10.0.0.2"), {}}, {A("fd00::2"), {}}})});
    lab.put_to_sleep();
    auto frames = [](const char* f) { return read_pcap(f).frames; };
    const auto hs4 = frames("eth_tcp4_handshake.pcap"), hs6 = frames("eth_tcp6_handshake.pcap");
    lab.rx(hs4.at(2));                                   // ACK
    lab.rx(frames("eth_ipv4_rr.pcap").at(0));            // ICMP with IPv4 options
    lab.rx(frames("eth_ipv4_frag.pcap").at(1));          // non-first fragment
    lab.rx(frames("eth_ipv6_frag.pcap").at(1));
    lab.rx(frames("eth_tcp4_rst.pcap").at(1));           // RST (from 02:..:02 = "us": ignored anyway)
    CHECK(lab.state() == State::Asleep);
    SUBCASE("IPv4 SYN") {
        lab.rx(hs4.at(0));
        CHECK(lab.state() == State::Waking);
    }
    SUBCASE("IPv6 SYN") {
        lab.rx(hs6.at(0));
        CHECK(lab.state() == State::Waking);
    }
    SUBCASE("IPv6 UDP behind hop-by-hop and destination options headers") {
        lab.rx(frames("eth_ipv6_ext.pcap").at(0));
        CHECK(lab.state() == State::Waking);
        CHECK(lab.hooks.env(lab.hooks.jobs.size() - 1, "NETWAKED_DST_PORT") == "7777");
    }
    SUBCASE("IPv4 UDP") {
        lab.rx(frames("eth_udp4.pcap").at(0));
        CHECK(lab.state() == State::Waking);
    }
}

TEST_CASE("wake: wake_attempts bursts wake_interval apart, then keep -> asleep or lost") {
  for (const bool keep : {true, false}) {
    CAPTURE(keep);
    Lab lab;
    asleep_with_ports(lab, keep);
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S));
    lab.advance(9900);
    CHECK(lab.wol.sent.size() == 3);
    lab.advance(200);
    CHECK(lab.wol.sent.size() == 4);  // attempt 2
    CHECK(lab.hooks.env(1, "NETWAKED_ATTEMPT") == "2");
    lab.advance(10000);
    CHECK(lab.wol.sent.size() == 7);  // attempt 3 began
    lab.advance(1000);
    CHECK(lab.wol.sent.size() == 9);  // ... three copies
    CHECK(lab.state() == State::Waking);
    lab.advance(9000);
    if (keep) {
        CHECK(lab.state() == State::Asleep);
        CHECK(lab.held().size() == 1);
        CHECK(lab.hooks.events() == "wake wake wake asleep");
        CHECK(lab.logged("nas: proxy waking -> asleep (probe: no answer after 3 wake attempts; keep"));
        // The same connection attempt retransmitted later does not start another cycle...
        lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S));
        CHECK(lab.state() == State::Asleep);
        // ...a new one does.
        lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40001, 22, S));
        CHECK(lab.state() == State::Waking);
    } else {
        CHECK(lab.state() == State::Lost);
        CHECK(lab.held().empty());
        CHECK(lab.hooks.events() == "wake wake wake lost");
        CHECK(lab.fw.updates.back().empty());
        lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40005, 22, S));
        CHECK(lab.state() == State::Lost);
        // A lost machine heard from again is up (no hook), and is proxied again when it sleeps.
        lab.rx(arp_request(Lab::M, kV4, A("192.0.2.1")));
        CHECK(lab.state() == State::Up);
        CHECK(lab.hooks.events() == "wake wake wake lost");
        CHECK(lab.wol.sent.size() == 9);
    }
  }
}

TEST_CASE("wake: the machine answering during waking -> up, given back") {
    Lab lab;
    asleep_with_ports(lab);
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S));
    lab.advance(3000);
    // While waking the proxy keeps probing the machine at its own MAC.
    CHECK(lab.count_sent(0, [](const packet::Decoded& d) {
              return d.l3 == 'a' && d.arp_op == packet::kArpRequest && d.dst_mac == Lab::M && d.dst == kV4;
          }) >= 2);
    lab.rx(arp_reply(Lab::M, kV4, Lab::P, A("192.0.2.1")));
    CHECK(lab.state() == State::Up);
    CHECK(lab.hooks.events() == "wake awake");
    // The awake event of the wake cycle, as for a plain WoL target (SPEC §5).
    CHECK(lab.hooks.env(1, "NETWAKED_ATTEMPT") == "1");
    CHECK(lab.hooks.env(1, "NETWAKED_WAKE_SECONDS") == "3.000");
    CHECK(lab.hooks.env(1, "NETWAKED_MAC") == "02:00:00:00:00:20");
    lab.advance(30000);
    CHECK(lab.wol.sent.size() == 3);  // no further attempts
}

TEST_CASE("wake: an answer to a later attempt -> awake with that attempt and the time since the first burst") {
    Lab lab;
    asleep_with_ports(lab);
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S));
    lab.advance(12500);  // wake_interval 10 s: attempt 2 began
    CHECK(lab.hooks.events() == "wake wake");
    lab.rx(tcp4(Lab::M, Lab::C, kV4, kClient, 22, 40000, S | Ack));  // any frame from its MAC
    CHECK(lab.state() == State::Up);
    CHECK(lab.hooks.events() == "wake wake awake");
    CHECK(lab.hooks.env(2, "NETWAKED_ATTEMPT") == "2");
    CHECK(lab.hooks.env(2, "NETWAKED_WAKE_SECONDS") == "12.500");
    // The next sleep's wake is a new cycle: attempt 1 again.
    lab.put_to_sleep();
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40001, 22, S));
    CHECK(lab.state() == State::Waking);
    CHECK(lab.hooks.env(lab.hooks.jobs.size() - 1, "NETWAKED_ATTEMPT") == "1");
}

TEST_CASE("wake: wol.cooldown spaces wake cycles; traffic meanwhile wakes when it ends; an answer resets it") {
    Lab lab;
    auto t = Lab::target({{kV4, {port(22)}}});
    t.wol->cooldown = std::chrono::seconds(10);
    t.sleep_proxy->wake_attempts = 1;
    t.sleep_proxy->wake_interval = std::chrono::seconds(2);
    lab.configure({t});
    lab.put_to_sleep();
    lab.hooks.jobs.clear();
    const int64_t t0 = lab.clock.t;
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 40000, 22, S));
    CHECK(lab.state() == State::Waking);
    lab.advance(2100);
    REQUIRE(lab.state() == State::Asleep);  // keep
    // A storm of new connection attempts: nothing until 10 s after the first cycle began.
    for (uint16_t sp = 40001; sp < 40060; ++sp) {
        lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, sp, 22, S));
        lab.advance(100);
    }
    CHECK(lab.clock.t - t0 < 10000 * kMs);
    CHECK(lab.state() == State::Asleep);
    CHECK(lab.hooks.events() == "wake asleep");
    CHECK(lab.wol.sent.size() == 3);
    CHECK(lab.p->stats().wakes_deferred == 59);
    CHECK(lab.logged("nas: wake deferred by wol.cooldown"));
    lab.advance((t0 + 10000 * kMs - lab.clock.t) / kMs - 1);  // to 1 ms before the cooldown ends
    CHECK(lab.state() == State::Asleep);
    lab.advance(2);
    CHECK(lab.state() == State::Waking);  // the first deferred packet starts the cycle
    CHECK(lab.hooks.events() == "wake asleep wake");
    CHECK(lab.hooks.env(2, "NETWAKED_SRC_PORT") == "40001");
    CHECK(lab.wol.sent.size() == 4);
    CHECK(lab.wol.sent.back().first - t0 >= 10000 * kMs);
    // The machine answers: its next sleep is woken at once, whatever the cooldown says.
    lab.rx(arp_request(Lab::M, kV4, A("192.0.2.1")));
    REQUIRE(lab.state() == State::Up);
    lab.put_to_sleep();
    lab.rx(tcp4(Lab::C, Lab::P, kClient, kV4, 41000, 22, S));
    CHECK(lab.state() == State::Waking);
}

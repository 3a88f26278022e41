// tests/unit/proxy_state.cc — the sleep proxy's state machine with a fake clock, frame sink, host
// and firewall: probing up -> asleep, takeover announcements, answering ARP/NS, DAD and ARP
// probes, conflicts, waking, wake attempts, keep/lost, giving back. No sockets, no real time.
#include <doctest/doctest.h>

#include "proxy_fixture.h"

using namespace nw;
using namespace nw::proxytest;
using proxy::State;

namespace {
const Addr kV4 = A("192.0.2.20"), kV6 = A("2001:db8::20"), kClient = A("192.0.2.30");

config::ProxyAddress pa(const Addr& a, std::vector<config::PortRange> ports = {}) { return {a, std::move(ports)}; }

bool is_probe_arp(const packet::Decoded& d) {
    return d.l3 == 'a' && d.arp_op == packet::kArpRequest && d.src == A("192.0.2.1") && d.dst == kV4 &&
           d.dst_mac == packet::kBroadcastMac && d.src_mac == Lab::P;
}
}  // namespace

TEST_CASE("proxy: probes every address; probe_misses misses on all of them -> asleep, announced") {
    Lab lab;
    lab.configure({Lab::target({pa(kV4), pa(kV6)})});
    CHECK(lab.state() == State::Up);
    CHECK(lab.sink.interest["lan0"].macs.empty());  // an awake machine's traffic is not copied to us
    lab.advance(10);
    // IPv4: broadcast ARP request from the host's own address; IPv6: NS from the link-local
    // address to the solicited-node group with a correct checksum.
    CHECK(lab.count_sent(0, is_probe_arp) == 1);
    bool ns_ok = false;
    for (const auto& s : lab.sink.sent) {
        auto d = s.d();
        if (d.l3 != 6) continue;
        CHECK(d.icmp_type == packet::kIcmp6NeighborSolicit);
        CHECK(d.src == A("fe80::1"));
        CHECK(d.dst == packet::solicited_node(kV6));
        CHECK(d.ttl == 255);
        CHECK(packet::l4_checksum(d.src, d.dst, 58, std::span(s.bytes).subspan(d.l4_offset)) == 0);
        CHECK((d.has_nd_lladdr && d.nd_lladdr == Lab::P));
        ns_ok = true;
    }
    CHECK(ns_ok);
    lab.advance(2500);
    CHECK(lab.state() == State::Up);  // 2 misses so far
    CHECK(lab.hooks.jobs.empty());
    const size_t before = lab.sink.sent.size();
    lab.advance(1000);
    CHECK(lab.state() == State::Asleep);
    CHECK(lab.logged("nas: proxy up -> asleep (probe: 3 misses)"));
    REQUIRE(lab.hooks.jobs.size() == 1);
    CHECK(lab.hooks.jobs[0].event == "asleep");
    CHECK(lab.hooks.env(0, "NETWAKED_REASON") == "probe");
    CHECK(lab.held().size() == 2);
    REQUIRE(!lab.fw.updates.empty());
    CHECK(lab.fw.updates.back().size() == 2);
    CHECK(lab.sink.interest["lan0"].held.size() == 2);
    CHECK(lab.sink.interest["lan0"].macs == std::vector<Mac>{Lab::M});  // frames from it: it is back
    lab.advance(100);
    // First burst: one gratuitous ARP (sender = target = the address, our MAC) and one
    // unsolicited NA with Override naming our MAC.
    auto garp = [](const packet::Decoded& d) {
        return d.l3 == 'a' && d.src == kV4 && d.dst == kV4 && d.arp_sha == Lab::P && d.dst_mac == packet::kBroadcastMac;
    };
    auto una = [](const packet::Decoded& d) {
        return d.l3 == 6 && d.icmp_type == packet::kIcmp6NeighborAdvert && d.nd_target == kV6 &&
               d.na_flags == packet::kNaOverride && d.nd_lladdr == Lab::P && d.dst == packet::kAllNodes;
    };
    CHECK(lab.count_sent(before, garp) == 1);
    CHECK(lab.count_sent(before, una) == 1);
    lab.advance(2000);  // RFC 5227 ANNOUNCE_INTERVAL later: the second burst
    CHECK(lab.count_sent(before, garp) == 2);
    CHECK(lab.count_sent(before, una) == 2);
    lab.advance(10000);
    CHECK(lab.count_sent(before, garp) == 2);  // ANNOUNCE_NUM = 2
}

TEST_CASE("proxy: a machine that answers on any address, or from its MAC, is not taken over") {
    Lab lab;
    lab.configure({Lab::target({pa(kV4), pa(kV6)})});
    lab.answer_probes_for(20000);
    CHECK(lab.state() == State::Up);
    CHECK(lab.held().empty());
    SUBCASE("any frame from its MAC resets the misses") {
        for (int i = 0; i < 20; ++i) {
            lab.advance(1000);
            lab.rx(udp4(Lab::M, packet::kBroadcastMac, kV4, A("192.0.2.255"), 137, 137));
        }
        CHECK(lab.state() == State::Up);
    }
    SUBCASE("an address answered by another MAC is in use: never taken over") {
        for (int i = 0; i < 20; ++i) {
            lab.advance(1000);
            lab.rx(arp_reply(Lab::X, kV4, Lab::P, A("192.0.2.1")));
        }
        CHECK(lab.state() == State::Up);
        CHECK(lab.logged("is answered by 02:00:00:00:00:40"));
    }
}

TEST_CASE("proxy: asleep answers ARP and NS with our MAC, never DAD, ARP probes or the host itself") {
    Lab lab;
    lab.configure({Lab::target({pa(kV4), pa(kV6)})});
    lab.put_to_sleep();
    lab.advance(5000);
    size_t from = lab.sink.sent.size();
    lab.rx(arp_request(Lab::C, kClient, kV4));
    REQUIRE(lab.sink.sent.size() == from + 1);
    auto r = lab.sink.sent.back().d();
    CHECK(r.arp_op == packet::kArpReply);
    CHECK(r.arp_sha == Lab::P);
    CHECK(r.src == kV4);
    CHECK(r.dst == kClient);
    CHECK(r.dst_mac == Lab::C);

    lab.rx(ns(Lab::C, A("2001:db8::30"), kV6));
    REQUIRE(lab.sink.sent.size() == from + 2);
    const Sent& s = lab.sink.sent.back();
    auto n = s.d();
    CHECK(n.icmp_type == packet::kIcmp6NeighborAdvert);
    CHECK(n.na_flags == (packet::kNaSolicited | packet::kNaOverride));
    CHECK(n.nd_lladdr == Lab::P);
    CHECK(n.src == kV6);
    CHECK(n.dst == A("2001:db8::30"));
    CHECK(n.dst_mac == Lab::C);
    CHECK(packet::l4_checksum(n.src, n.dst, 58, std::span(s.bytes).subspan(n.l4_offset)) == 0);

    from = lab.sink.sent.size();
    lab.rx(arp_request(Lab::P, A("192.0.2.1"), kV4));  // the host itself asks: no answer
    lab.rx(ns(Lab::P, A("fe80::1"), kV6));
    CHECK(lab.sink.sent.size() == from);
    CHECK(lab.state() == State::Asleep);

    SUBCASE("a DAD probe for a held address: the machine is back, not answered") {
        uint8_t b[128];
        const size_t len = packet::encode_ns_dad(b, Lab::X, kV6);
        lab.rx(std::vector<uint8_t>(b, b + len));
        CHECK(lab.state() == State::Up);
        CHECK(lab.hooks.events() == "asleep awake");
        CHECK(lab.hooks.env(1, "NETWAKED_REASON") == "probe");
    }
    SUBCASE("an ARP probe for a held address: the machine is back, not answered") {
        uint8_t b[64];
        const size_t len = packet::encode_arp_probe(b, Lab::X, kV4);
        lab.rx(std::vector<uint8_t>(b, b + len));
        CHECK(lab.state() == State::Up);
        CHECK(lab.hooks.events() == "asleep awake");
    }
    lab.advance(100);
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) {
              return (d.l3 == 'a' && d.arp_op == packet::kArpReply) ||
                     (d.l3 == 6 && d.icmp_type == packet::kIcmp6NeighborAdvert && (d.na_flags & packet::kNaSolicited));
          }) == 0);
}

TEST_CASE("proxy: any frame from the machine's MAC gives it back, announcing its own MAC") {
    Lab lab;
    lab.configure({Lab::target({pa(kV4), pa(kV6)})});
    lab.put_to_sleep();  // first takeover burst is out; the second is due in 2 s
    lab.advance(500);
    const size_t from = lab.sink.sent.size();
    lab.rx(udp4(Lab::M, packet::kBroadcastMac, A("0.0.0.0"), A("255.255.255.255"), 68, 67));  // DHCP
    CHECK(lab.state() == State::Up);
    CHECK(lab.held().empty());
    CHECK(lab.fw.updates.back().empty());
    CHECK(lab.sink.interest["lan0"].held.empty());
    REQUIRE(lab.hooks.jobs.size() == 2);
    CHECK(lab.hooks.jobs[1].event == "awake");
    CHECK(lab.hooks.env(1, "NETWAKED_SRC_MAC") == "02:00:00:00:00:20");
    lab.advance(2500);  // past the cancelled second burst, before the next takeover (3 misses)
    // On its behalf: GARP with sender = its MAC (from our port), NA with Override and TLLA = its MAC.
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) {
              return d.l3 == 'a' && d.src == kV4 && d.dst == kV4 && d.arp_sha == Lab::M && d.src_mac == Lab::P;
          }) == 1);
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) {
              return d.l3 == 6 && d.icmp_type == packet::kIcmp6NeighborAdvert && d.nd_lladdr == Lab::M &&
                     (d.na_flags & packet::kNaOverride);
          }) == 1);
    // The takeover's second burst (naming our MAC) was cancelled.
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) {
              return (d.l3 == 'a' && d.arp_sha == Lab::P && d.src == kV4) || (d.l3 == 6 && d.nd_lladdr == Lab::P &&
                                                                             d.icmp_type == packet::kIcmp6NeighborAdvert);
          }) == 0);
    lab.rx(arp_request(Lab::C, kClient, kV4));  // no longer answered
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) { return d.arp_op == packet::kArpReply; }) == 0);
}

TEST_CASE("proxy: another MAC claiming a held address is a conflict: only that address is released") {
    Lab lab;
    lab.configure({Lab::target({pa(kV4), pa(A("192.0.2.21"))})});
    lab.put_to_sleep();
    lab.rx(arp_reply(Lab::X, kV4, packet::kBroadcastMac, kV4));  // X says: 192.0.2.20 is-at X
    CHECK(lab.state() == State::Asleep);
    REQUIRE(lab.held().size() == 1);
    CHECK(lab.held()[0] == A("192.0.2.21"));
    CHECK(lab.logged("address conflict: 02:00:00:00:00:40 claims 192.0.2.20"));
    CHECK(lab.p->stats().conflicts == 1);
    const size_t from = lab.sink.sent.size();
    lab.rx(arp_request(Lab::C, kClient, kV4));
    CHECK(lab.sink.sent.size() == from);
    lab.rx(na(Lab::X, kV6, packet::kNaOverride));  // not ours: nothing happens
    CHECK(lab.held().size() == 1);
}

// tests/unit/proxy_host.cc — the host's own addresses are never held (issue 12 item 3): the shared
// "usable host address" rule, takeovers skipping own addresses, an address the host gains while
// it is held (RTNETLINK -> host_changed), restored registrations, and the nft set's own filter.
#include <doctest/doctest.h>

#include <algorithm>

#include "packet/hostaddr.h"
#include "proxy/nft.h"
#include "proxy/persist.h"
#include "proxy_fixture.h"
#include "state/statefile.h"
#include "sys/loop.h"

using namespace nw;
using namespace nw::proxytest;
using proxy::State;

namespace {
const Addr kV4 = A("192.0.2.20"), kV6 = A("2001:db8::20");

bool held_in_fw(const Lab& lab, const Addr& a) {
    if (lab.fw.updates.empty()) return false;
    for (const auto& [ifn, x] : lab.fw.updates.back())
        if (x == a) return true;
    return false;
}
// GARP/NA naming `mac` for `a` sent since `from`.
size_t announced(const Lab& lab, size_t from, const Mac& mac, const Addr& a) {
    return lab.count_sent(from, [&](const packet::Decoded& d) {
        if (d.l3 == 'a') return d.arp_sha == mac && d.src == a && d.dst == a;
        return d.icmp_type == packet::kIcmp6NeighborAdvert && d.nd_target == a && d.has_nd_lladdr && d.nd_lladdr == mac;
    });
}
}  // namespace

TEST_CASE("hostaddr: one rule for the config loader, registrations and restores") {
    const std::vector<packet::IfAddr> lan = {{A("192.0.2.1"), 120}, {A("fe80::1"), 64}, {A("2001:db8::1"), 64}};
    using packet::host_address_problem;
    using packet::OnLink;
    CHECK(host_address_problem(kV4, false, "lan0", lan) == "");
    CHECK(host_address_problem(kV6, false, "lan0", lan) == "");
    CHECK(host_address_problem(A("fe80::20"), false, "lan0", lan) == "");
    CHECK(host_address_problem(kV4, true, "lan0", lan) == "belongs to this host");
    CHECK(host_address_problem(A("10.0.0.5"), false, "lan0", lan) == "is not on-link on lan0");
    CHECK(host_address_problem(A("192.0.2.0"), false, "lan0", lan) == "is the network address of its /24 network on lan0");
    CHECK(host_address_problem(A("192.0.2.255"), false, "lan0", lan) ==
          "is the broadcast address of its /24 network on lan0");
    // /31 and /32 have no network/broadcast address
    CHECK(host_address_problem(A("192.0.2.1"), false, "p2p", {{A("192.0.2.0"), 127}}) == "");
    // Required: no prefix of the family is "not on-link"; IfKnown: not judged then
    const std::vector<packet::IfAddr> only_ll = {{A("fe80::1"), 64}};
    CHECK(host_address_problem(kV4, false, "new0", {}) == "is not on-link on new0");
    CHECK(host_address_problem(kV4, false, "new0", {}, OnLink::IfKnown) == "");
    CHECK(host_address_problem(kV6, false, "new0", only_ll, OnLink::IfKnown) == "");
    CHECK(host_address_problem(kV6, false, "new0", only_ll) == "is not on-link on new0");
    CHECK(host_address_problem(A("fe80::9"), false, "new0", only_ll, OnLink::IfKnown) == "");
    CHECK(host_address_problem(A("10.0.0.5"), false, "lan0", lan, OnLink::IfKnown) == "is not on-link on lan0");
    CHECK(host_address_problem(kV4, true, "new0", {}, OnLink::IfKnown) == "belongs to this host");
    // the address-only part
    CHECK(packet::unusable_address(kV4) == "");
    CHECK(packet::unusable_address(A("0.1.2.3")) == "is in 0.0.0.0/8 (this network)");
    CHECK(packet::unusable_address(A("240.0.0.1")) == "is in the reserved range 240.0.0.0/4");
    CHECK(packet::unusable_address(A("::1")) == "is the loopback address");
}

TEST_CASE("own address: a takeover never holds an address of the host") {
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}, {kV6, {}}})});
    lab.host.own_addrs.push_back(kV4);  // gained after the configuration was loaded
    const size_t from = lab.sink.sent.size();
    lab.put_to_sleep();
    lab.advance(100);  // let the announcer send what it queued
    CHECK(lab.held() == std::vector<Addr>{kV6});
    CHECK_FALSE(held_in_fw(lab, kV4));
    CHECK(held_in_fw(lab, kV6));
    CHECK(announced(lab, from, Lab::P, kV4) == 0);  // no GARP for it either
    CHECK(announced(lab, from, Lab::P, kV6) >= 1);
    CHECK(lab.logged("nas: 192.0.2.20 is an address of this host: not held"));
    CHECK(lab.p->stats().own_addresses == 1);
    // ARP for it is not answered by the proxy (the host's kernel does that)
    const size_t before = lab.sink.sent.size();
    lab.rx(arp_request(Lab::C, kV4, A("192.0.2.30")));
    CHECK(lab.sink.sent.size() == before);
}

TEST_CASE("own address: gained while held -> released at once, not announced for the machine, not held again") {
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}, {kV6, {}}})});
    lab.put_to_sleep();
    REQUIRE(lab.held().size() == 2);
    const size_t updates = lab.fw.updates.size();
    lab.p->host_changed();  // some other address changed: nothing to do
    CHECK(lab.fw.updates.size() == updates);
    CHECK(lab.held().size() == 2);

    lab.host.own_addrs.push_back(kV4);
    const size_t from = lab.sink.sent.size();
    lab.p->host_changed();
    CHECK(lab.held() == std::vector<Addr>{kV6});
    CHECK_FALSE(held_in_fw(lab, kV4));
    CHECK(held_in_fw(lab, kV6));
    CHECK(lab.state() == State::Asleep);
    CHECK(lab.logged("nas: 192.0.2.20 became an address of this host: released at once, not held while it is one"));
    CHECK(lab.p->stats().own_addresses == 1);
    lab.advance(10000);  // re-announcements, probes
    CHECK(announced(lab, from, Lab::M, kV4) == 0);  // the host owns it: never announced as the machine's
    CHECK(announced(lab, from, Lab::P, kV4) == 0);
    CHECK(lab.held() == std::vector<Addr>{kV6});
    const size_t before = lab.sink.sent.size();
    lab.rx(arp_request(Lab::C, kV4, A("192.0.2.30")));
    CHECK(lab.sink.sent.size() == before);  // not answered by the proxy
}

TEST_CASE("own address: a restored registration is checked against the host again") {
    const Addr kR1 = A("192.0.2.50"), kR2 = A("2001:db8::50");
    constexpr Mac kRM{2, 0, 0, 0, 0, 0x50};
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}})}, true);
    std::vector<proxy::ProxyAddr> pa = {{kR1, {{22, 22, false}}}, {kR2, {}}};
    std::string err;
    REQUIRE(lab.p->add_registration(
        proxy::spec_for_registration(*lab.cfg.reg, "pc", kRM, pa, lab.clock.wall_s() * 1000), &err));
    lab.put_to_sleep();
    for (int i = 0; i < 60 && lab.state("pc") != State::Asleep; ++i) lab.advance(100);
    REQUIRE(lab.state("pc") == State::Asleep);
    state::PersistedState ps;
    proxy::save_proxy(*lab.p, &ps);
    REQUIRE(ps.registrations.size() == 1);

    Lab next;  // the router took 2001:db8::50 while netwaked was down
    next.host.own_addrs.push_back(kR2);
    next.configure({Lab::target({{kV4, {}}})}, true);
    next.p->restore(proxy::load_proxy(ps));
    CHECK(next.p->machines().size() == 1);
    CHECK(next.logged("pc: registration in the state file dropped: monitor[1].ip: 2001:db8::50 belongs to this host"));
    Lab off;  // ... or the interface was renumbered
    off.host.addrs["lan0"] = {{A("198.51.100.1"), 120}, {A("2001:db8::1"), 64}};
    off.configure({}, true);
    off.p->restore(proxy::load_proxy(ps));
    CHECK(off.p->machines().empty());
    CHECK(off.logged("pc: registration in the state file dropped: monitor[0].ip: 192.0.2.50 is not on-link on lan0"));
    Lab same;  // nothing changed: restored
    same.configure({Lab::target({{kV4, {}}})}, true);
    same.p->restore(proxy::load_proxy(ps));
    CHECK(same.p->machines().size() == 2);
}

TEST_CASE("nft: an address of the host never goes into the held sets (defence in depth)") {
    std::vector<std::string> lines;
    log::set_sink([&](log::Level, std::string_view l) { lines.emplace_back(l); });
    sys::Loop loop;
    FakeClock clk;
    core::TimerQueue q(clk);
    proxy::NftFirewall fw(loop, q);  // not started: no nft runs, the filtered set is still kept
    std::vector<Addr> own = {kV4};
    fw.set_own_filter([&](const Addr& a) { return std::find(own.begin(), own.end(), a) != own.end(); });
    const Addr kW = A("192.0.2.21");
    fw.set_held({{"lan0", kV4}, {"lan0", kV6}, {"lan0", kW}});
    using Held = std::vector<std::pair<std::string, Addr>>;
    CHECK(fw.applied() == Held{{"lan0", kV6}, {"lan0", kW}});
    CHECK(fw.own_skipped() == 1);
    REQUIRE(!lines.empty());
    CHECK(lines.back() == "sleep proxy: 192.0.2.20 is an address of this host: left out of table inet netwaked");
    fw.recheck();  // nothing changed
    CHECK(fw.own_skipped() == 1);
    own.push_back(kV6);  // the host gained kV6
    fw.recheck();
    CHECK(fw.applied() == Held{{"lan0", kW}});
    own.clear();  // both given up: they return only when the proxy asks again
    fw.recheck();
    CHECK(fw.applied() == Held{{"lan0", kW}});
    fw.set_held({{"lan0", kV4}, {"lan0", kW}});
    CHECK(fw.applied() == Held{{"lan0", kV4}, {"lan0", kW}});
    log::set_sink(nullptr);
}

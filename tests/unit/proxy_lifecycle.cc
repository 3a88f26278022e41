// tests/unit/proxy_lifecycle.cc — registered machines (one sleep per registration, replacement,
// clashes, shutdown_timeout, forget), restoring from the state file, reload and shutdown.
#include <doctest/doctest.h>

#include "proxy/persist.h"
#include "proxy_fixture.h"

using namespace nw;
using namespace nw::proxytest;
using proxy::State;

namespace {
const Addr kV4 = A("192.0.2.20"), kR1 = A("192.0.2.50"), kR2 = A("2001:db8::50");
constexpr Mac kRM{2, 0, 0, 0, 0, 0x50};

proxy::MachineSpec reg_spec(Lab& lab, const std::string& name, const Mac& mac, std::vector<Addr> addrs) {
    std::vector<proxy::ProxyAddr> pa;
    for (auto& a : addrs) pa.push_back({a, {{22, 22, false}}});
    return proxy::spec_for_registration(*lab.cfg.reg, name, mac, pa, lab.clock.wall_s() * 1000);
}

size_t count(const Lab& lab) { return lab.p->machines().size(); }
}  // namespace

TEST_CASE("registration: starts probing, sleeps, wakes, and ends with awake") {
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}})}, true);
    std::string err;
    REQUIRE(lab.p->add_registration(reg_spec(lab, "Tartiflette", kRM, {kR1, kR2}), &err));
    CHECK(count(lab) == 2);
    CHECK(lab.state("Tartiflette") == State::Up);
    for (int i = 0; i < 60 && lab.state("Tartiflette") != State::Asleep; ++i) lab.advance(100);
    CHECK(lab.state("Tartiflette") == State::Asleep);
    CHECK(lab.held("Tartiflette").size() == 2);
    lab.rx(tcp4(Lab::C, Lab::P, A("192.0.2.30"), kR1, 40000, 22, packet::kTcpSyn));
    CHECK(lab.state("Tartiflette") == State::Waking);
    REQUIRE(!lab.wol.sent.empty());
    CHECK(lab.wol.sent.back().second == kRM);
    lab.rx(na(kRM, kR2, packet::kNaOverride));  // it is back
    CHECK(count(lab) == 1);                   // one sleep per registration
    CHECK(lab.logged("Tartiflette: no longer proxied (the registration has ended)"));
    bool awake = false;
    for (auto& j : lab.hooks.jobs) awake = awake || (j.target == "Tartiflette" && j.event == "awake");
    CHECK(awake);
}

TEST_CASE("registration: checks, replacement and forget") {
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}})}, true);
    std::string err;
    CHECK_FALSE(lab.p->add_registration(reg_spec(lab, "nas", kRM, {kR1}), &err));
    CHECK(err == "name: \"nas\" is the name of a configured target");
    CHECK_FALSE(lab.p->add_registration(reg_spec(lab, "pc", Lab::M, {kR1}), &err));
    CHECK(err == "mac: 02:00:00:00:00:20 is configured as target \"nas\"");
    CHECK_FALSE(lab.p->add_registration(reg_spec(lab, "pc", kRM, {kR1, kV4}), &err));
    CHECK(err == "monitor[1].ip: 192.0.2.20 is held for another MAC (02:00:00:00:00:20, \"nas\")");
    CHECK_FALSE(lab.p->add_registration(reg_spec(lab, "pc", Lab::P, {kR1}), &err));
    CHECK(err == "mac: 02:00:00:00:00:01 belongs to this host");
    REQUIRE(lab.p->add_registration(reg_spec(lab, "pc", kRM, {kR1}), &err));
    CHECK_FALSE(lab.p->add_registration(reg_spec(lab, "other", Lab::X, {kR1}), &err));
    CHECK(err.find("is held for another MAC (02:00:00:00:00:50, \"pc\")") != std::string::npos);
    // Names are scoped to the MAC: the same name from another MAC is qualified, not refused.
    REQUIRE(lab.p->add_registration(reg_spec(lab, "pc", Lab::X, {A("192.0.2.51")}), &err));
    CHECK(lab.state("pc-020000000040") == State::Up);
    CHECK(lab.p->forget("pc-020000000040", &err));
    // The same MAC again replaces (new addresses), also while it is asleep.
    for (int i = 0; i < 60 && lab.state("pc") != State::Asleep; ++i) lab.advance(100);
    REQUIRE(lab.state("pc") == State::Asleep);
    REQUIRE(lab.p->add_registration(reg_spec(lab, "pc2", kRM, {A("192.0.2.52")}), &err));
    CHECK(count(lab) == 2);
    CHECK(lab.state("pc2") == State::Up);
    CHECK(lab.held("pc2").empty());
    CHECK(lab.fw.updates.back().empty() == (lab.state("nas") != State::Asleep));
    CHECK_FALSE(lab.p->forget("nas", &err));
    CHECK(err == "no registration named nas");
    CHECK(lab.p->forget("pc2", &err));
    CHECK(count(lab) == 1);
}

TEST_CASE("registration: still answering at shutdown_timeout -> lost, not taken over, removed") {
    Lab lab;
    lab.configure({}, true);
    std::string err;
    REQUIRE(lab.p->add_registration(reg_spec(lab, "pc", kRM, {kR1}), &err));
    lab.answer_probes_for(59000);
    CHECK(lab.state("pc") == State::Up);
    lab.answer_probes_for(2000);
    CHECK(count(lab) == 0);
    CHECK(lab.logged("pc: proxy up -> lost (probe: still answering 60 s after it registered"));
    REQUIRE(!lab.hooks.jobs.empty());
    CHECK(lab.hooks.jobs.back().event == "lost");
    CHECK(lab.hooks.env(lab.hooks.jobs.size() - 1, "NETWAKED_REASON") == "probe");
}

TEST_CASE("restore: asleep machines are probed again and taken over quietly; awake ones end") {
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}})}, true);
    std::string err;
    REQUIRE(lab.p->add_registration(reg_spec(lab, "pc", kRM, {kR1}), &err));
    lab.put_to_sleep();
    for (int i = 0; i < 60 && lab.state("pc") != State::Asleep; ++i) lab.advance(100);
    state::PersistedState ps;
    ps.targets.push_back({});
    ps.targets[0].name = "nas";
    proxy::save_proxy(*lab.p, &ps);
    CHECK(ps.targets[0].proxy_state == "asleep");
    REQUIRE(ps.registrations.size() == 1);
    CHECK(ps.registrations[0].mac == "02:00:00:00:00:50");
    CHECK(ps.registrations[0].state == "asleep");
    CHECK(ps.registrations[0].monitor[0].ports == std::vector<uint16_t>{22});
    // shutdown: everything released (with announcements on each machine's behalf), states kept.
    const size_t from = lab.sink.sent.size();
    lab.p->shutdown();
    CHECK(lab.held().empty());
    CHECK(lab.fw.updates.back().empty());
    CHECK(lab.state() == State::Asleep);
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) { return d.l3 == 'a' && d.arp_sha == Lab::M; }) == 1);
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) { return d.l3 == 'a' && d.arp_sha == kRM; }) == 1);

    // "Restart" (much later than shutdown_timeout after the registration): a fresh proxy
    // restores both.
    Lab next;
    next.clock.t += 3600LL * 1000 * kMs;
    next.configure({Lab::target({{kV4, {}}})}, true);
    next.p->restore(proxy::load_proxy(ps));
    CHECK(count(next) == 2);
    CHECK(next.state("pc") == State::Up);
    CHECK(next.state() == State::Up);
    // nas keeps silent; pc answers: nas is taken over without an `asleep` hook, pc ends.
    for (int i = 0; i < 50; ++i) {
        next.advance(100);
        next.rx(arp_request(kRM, kR1, A("192.0.2.1")));
    }
    CHECK(next.state() == State::Asleep);
    CHECK(next.held().size() == 1);
    CHECK(next.logged("nas: proxy up -> asleep (probe: 3 misses, resumed after a restart)"));
    CHECK(count(next) == 1);
    CHECK(next.hooks.events() == "awake");
    CHECK(next.hooks.jobs[0].target == "pc");
}

TEST_CASE("reload: unchanged machines keep their state, changed ones start over, removed ones are released") {
    Lab lab;
    auto t = Lab::target({{kV4, {}}});
    lab.configure({t});
    lab.put_to_sleep();
    t.sleep_proxy->wake_attempts = 5;  // timing only: state kept
    lab.configure({t});
    CHECK(lab.state() == State::Asleep);
    CHECK(lab.held().size() == 1);
    t.sleep_proxy->addresses.push_back({A("192.0.2.21"), {}});  // identity changed: released
    lab.configure({t});
    CHECK(lab.state() == State::Up);
    CHECK(lab.held().empty());
    lab.put_to_sleep();
    lab.configure({});
    CHECK(count(lab) == 0);
    CHECK(lab.fw.updates.back().empty());
    CHECK(lab.logged("nas: no longer proxied (removed from the configuration)"));
}

TEST_CASE("restore: a registration asleep for longer than shutdown_timeout is still resumed") {
    Lab lab;
    lab.configure({}, true);
    state::PersistedState ps;
    state::PersistedRegistration r;
    r.name = "pc";
    r.mac = "02:00:00:00:00:50";
    r.registered_wall_ms = (lab.clock.wall_s() - 7200) * 1000;  // two hours ago; timeout 60 s
    r.state = "asleep";
    r.monitor.push_back({"192.0.2.50", {22}});
    ps.registrations.push_back(r);
    lab.p->restore(proxy::load_proxy(ps));
    for (int i = 0; i < 60 && lab.state("pc") != State::Asleep; ++i) lab.advance(100);
    CHECK(lab.state("pc") == State::Asleep);
    CHECK(lab.hooks.jobs.empty());
}

TEST_CASE("restore: a second crash before the probes decide still knows the machines slept") {
    Lab lab;
    lab.configure({Lab::target({{kV4, {}}})}, true);
    std::string err;
    REQUIRE(lab.p->add_registration(reg_spec(lab, "pc", kRM, {kR1}), &err));
    lab.put_to_sleep();
    for (int i = 0; i < 60 && lab.state("pc") != State::Asleep; ++i) lab.advance(100);
    REQUIRE(lab.state("pc") == State::Asleep);
    state::PersistedState ps;
    ps.targets.push_back({});
    ps.targets[0].name = "nas";
    proxy::save_proxy(*lab.p, &ps);
    const size_t hooks_before = lab.hooks.jobs.size();

    // First restart, an hour later: restored, probing again; what it writes still says asleep.
    Lab second;
    second.clock.t += 3600LL * 1000 * kMs;
    second.configure({Lab::target({{kV4, {}}})}, true);
    second.p->restore(proxy::load_proxy(ps));
    second.advance(500);  // probes out, nothing decided yet
    REQUIRE(second.state("pc") == State::Up);
    state::PersistedState ps2;
    ps2.targets.push_back({});
    ps2.targets[0].name = "nas";
    proxy::save_proxy(*second.p, &ps2);
    CHECK(ps2.targets[0].proxy_state == "asleep");
    REQUIRE(ps2.registrations.size() == 1);
    CHECK(ps2.registrations[0].state == "asleep");

    // Killed now; the next start resumes both quietly: no `lost`, no second `asleep`.
    Lab third;
    third.clock.t += 3700LL * 1000 * kMs;
    third.configure({Lab::target({{kV4, {}}})}, true);
    third.p->restore(proxy::load_proxy(ps2));
    for (int i = 0; i < 60 && third.state("pc") != State::Asleep; ++i) third.advance(100);
    CHECK(third.state("pc") == State::Asleep);
    CHECK(third.state() == State::Asleep);
    CHECK(third.hooks.jobs.empty());
    CHECK(hooks_before == lab.hooks.jobs.size());
    // Once the probes decided, the file says what is true.
    state::PersistedState ps3;
    proxy::save_proxy(*third.p, &ps3);
    REQUIRE(ps3.registrations.size() == 1);
    CHECK(ps3.registrations[0].state == "asleep");
}

TEST_CASE("restore: a registration restored up gets its shutdown_timeout only once it answers") {
    Lab lab;
    lab.configure({}, true);
    state::PersistedState ps;
    state::PersistedRegistration r;
    r.name = "pc";
    r.mac = "02:00:00:00:00:50";
    r.registered_wall_ms = (lab.clock.wall_s() - 7200) * 1000;  // two hours ago; timeout 60 s
    r.state = "up";
    r.monitor.push_back({"192.0.2.50", {22}});
    ps.registrations.push_back(r);
    SUBCASE("silent: it slept while we were down -> asleep (with the hook: news), never lost") {
        lab.p->restore(proxy::load_proxy(ps));
        for (int i = 0; i < 60 && lab.state("pc") != State::Asleep; ++i) lab.advance(100);
        CHECK(lab.state("pc") == State::Asleep);
        CHECK(lab.hooks.events() == "asleep");
    }
    SUBCASE("answering: past its shutdown_timeout -> lost after the answer") {
        lab.p->restore(proxy::load_proxy(ps));
        lab.advance(100);
        CHECK(lab.state("pc") == State::Up);
        CHECK(lab.hooks.jobs.empty());
        lab.rx(arp_reply(kRM, kR1, Lab::P, A("192.0.2.1")));
        lab.advance(100);
        CHECK(count(lab) == 0);
        CHECK(lab.hooks.events() == "lost");
    }
}

TEST_CASE("registration: the MAC that answers for an address owns it (no squatting)") {
    Lab lab;
    lab.configure({}, true);
    std::string err;
    const proxy::SleepProxy::Neighbours none, t_owns{Lab::M};
    // Another machine K (kRM) registers T's (Lab::M's) address while the neighbour table says
    // T has it: refused.
    CHECK_FALSE(lab.p->add_registration(reg_spec(lab, "T", kRM, {kV4}), &err, t_owns));
    CHECK(err == "monitor[0].ip: 192.0.2.20 is answered by another MAC (02:00:00:00:00:20, neighbour entry), "
                 "not by 02:00:00:00:00:50");
    // With no evidence it is accepted; its probes are then answered by T...
    REQUIRE(lab.p->add_registration(reg_spec(lab, "T", kRM, {kV4}), &err, none));
    lab.advance(100);
    lab.rx(arp_reply(Lab::M, kV4, Lab::P, A("192.0.2.1")));
    CHECK(lab.state("T") == State::Up);
    // ...so K renewing it is refused (probe answer), and a third MAC too.
    CHECK_FALSE(lab.p->add_registration(reg_spec(lab, "T", kRM, {kV4}), &err, none));
    CHECK(err.find("is answered by another MAC (02:00:00:00:00:20, probe answer)") != std::string::npos);
    CHECK_FALSE(lab.p->add_registration(reg_spec(lab, "x", Lab::X, {kV4}), &err, none));
    CHECK(err == "monitor[0].ip: 192.0.2.20 is held for another MAC (02:00:00:00:00:50, \"T\"); "
                 "02:00:00:00:00:20 answers for it (probe answer)");
    // T registers itself (same name): accepted, K's registration is replaced, T gets its name.
    REQUIRE(lab.p->add_registration(reg_spec(lab, "T", Lab::M, {kV4}), &err, t_owns));
    CHECK(count(lab) == 1);
    CHECK(lab.logged("T: no longer proxied (replaced by the registration of the MAC that answers for its address)"));
    CHECK(lab.p->machines()[0].spec->mac == Lab::M);
    // T sleeps; traffic for its address wakes T.
    for (int i = 0; i < 60 && lab.state("T") != State::Asleep; ++i) lab.advance(100);
    REQUIRE(lab.state("T") == State::Asleep);
    lab.rx(tcp4(Lab::C, Lab::P, A("192.0.2.30"), kV4, 40000, 22, packet::kTcpSyn));
    REQUIRE(!lab.wol.sent.empty());
    for (auto& [t, mac] : lab.wol.sent) CHECK(mac == Lab::M);
}

TEST_CASE("registration: a squatter holding the owner's address is replaced without announcing it") {
    Lab lab;
    lab.configure({}, true);
    std::string err;
    REQUIRE(lab.p->add_registration(reg_spec(lab, "K", kRM, {kV4, kR1}), &err));
    for (int i = 0; i < 60 && lab.state("K") != State::Asleep; ++i) lab.advance(100);
    REQUIRE(lab.held("K").size() == 2);
    const size_t from = lab.sink.sent.size();
    REQUIRE(lab.p->add_registration(reg_spec(lab, "T", Lab::M, {kV4}), &err, {Lab::M}));
    CHECK(count(lab) == 1);
    lab.advance(1000);
    // K's MAC is announced for its other address only, never for T's.
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) { return d.l3 == 'a' && d.arp_sha == kRM && d.src == kR1; }) == 1);
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) { return d.l3 == 'a' && d.arp_sha == kRM && d.src == kV4; }) == 0);
}

TEST_CASE("registration: an address another MAC answered for is never taken over for it") {
    Lab lab;
    lab.configure({}, true);
    std::string err;
    REQUIRE(lab.p->add_registration(reg_spec(lab, "K", kRM, {kR1, kV4}), &err));
    lab.advance(100);
    lab.rx(arp_reply(Lab::M, kV4, Lab::P, A("192.0.2.1")));  // T answers for kV4
    // K goes silent; so does T later: K is taken over for its own address only.
    for (int i = 0; i < 60 && lab.state("K") != State::Asleep; ++i) lab.advance(100);
    REQUIRE(lab.state("K") == State::Asleep);
    CHECK(lab.held("K") == std::vector<Addr>{kR1});
    lab.rx(tcp4(Lab::C, Lab::P, A("192.0.2.30"), kV4, 40000, 22, packet::kTcpSyn));
    CHECK(lab.state("K") == State::Asleep);  // traffic for T does not wake K
    CHECK(lab.wol.sent.empty());
    // A registration of nothing but T's address never sleeps; shutdown_timeout ends it.
    REQUIRE(lab.p->add_registration(reg_spec(lab, "K2", Lab::X, {A("192.0.2.21")}), &err));
    lab.advance(100);
    lab.rx(arp_reply(Lab::C, A("192.0.2.21"), Lab::P, A("192.0.2.1")));
    lab.advance(10000);
    CHECK(lab.state("K2") == State::Up);
    CHECK(lab.held("K2").empty());
}

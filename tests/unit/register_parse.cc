// tests/unit/register_parse.cc — the Wakupator registration payload: the parser against good and
// bad input (every error names its field), the incremental object scanner, and the host-side
// checks (allow list, the peer's own MAC, on-link, own / network / broadcast addresses).
#include <doctest/doctest.h>

#include "control/register.h"
#include "proxy/persist.h"
#include "proxy_fixture.h"

using namespace nw;
using namespace nw::proxytest;
using control::parse_registration;
using control::Registration;

namespace {
std::string err_of(const std::string& text) {
    Registration r;
    std::string err;
    CHECK_FALSE(parse_registration(text, &r, &err));
    return err;
}
const char* kWakupator =
    R"({"mac": "d8:cb:8a:39:be:a1", "name": "Tartiflette",
        "monitor": [{"ip": "192.168.0.37", "port": [22]},
                    {"ip": "2001:db8:3c4d:4d58:1::2222", "port": [25565, 22, 22]}]})";
}  // namespace

TEST_CASE("register parse: the Wakupator payload") {
    Registration r;
    std::string err;
    REQUIRE(parse_registration(kWakupator, &r, &err));
    CHECK(packet::mac_str(r.mac) == "d8:cb:8a:39:be:a1");
    CHECK(r.name == "Tartiflette");
    REQUIRE(r.monitor.size() == 2);
    CHECK(r.monitor[0].ip == A("192.168.0.37"));
    CHECK(r.monitor[0].ports == std::vector<uint16_t>{22});
    CHECK(r.monitor[1].ip == A("2001:db8:3c4d:4d58:1::2222"));
    CHECK(r.monitor[1].ports == std::vector<uint16_t>{22, 25565});  // sorted, duplicates dropped
    REQUIRE(parse_registration(R"({"mac":"D8-CB-8A-39-BE-A1","monitor":[{"ip":"10.0.0.5","port":[1,65535]}],"x":1})",
                               &r, &err));
    CHECK(r.name == "d8-cb-8a-39-be-a1");  // default name: the MAC (with dashes); unknown keys are ignored
    REQUIRE(parse_registration(R"({"mac":"d8:cb:8a:39:be:a1","name":null,"monitor":[{"ip":"10.0.0.5","port":[1]}]})",
                               &r, &err));
    CHECK(r.name == "d8-cb-8a-39-be-a1");
    REQUIRE(parse_registration(R"({"mac":"d8:cb:8a:39:be:a1","name":"desk-1.lan_2","monitor":[{"ip":"10.0.0.5","port":[1]}]})",
                               &r, &err));
    CHECK(r.name == "desk-1.lan_2");
    // Wakupator accepts "port": []: the address is held and nothing sent to it wakes the machine.
    REQUIRE(parse_registration(R"({"mac":"d8:cb:8a:39:be:a1","monitor":[{"ip":"10.0.0.5","port":[]},{"ip":"10.0.0.6","port":[22]}]})",
                               &r, &err));
    REQUIRE(r.monitor.size() == 2);
    CHECK(r.monitor[0].ports.empty());
    CHECK(r.monitor[1].ports == std::vector<uint16_t>{22});
}

TEST_CASE("register parse: every bad input is refused with the field named") {
    CHECK(err_of("").rfind("invalid JSON: ", 0) == 0);
    CHECK(err_of("{x").rfind("invalid JSON: ", 0) == 0);
    CHECK(err_of(R"({"mac":"d8:cb:8a:39:be:a1",})").rfind("invalid JSON: ", 0) == 0);
    CHECK(err_of("{}") == "mac: missing");
    CHECK(err_of("[]") == "expected a JSON object, got []");
    CHECK(err_of(std::string(1 << 20, ' ')) == "payload too large (1048576 bytes, at most 65536)");
    CHECK(err_of(std::string(40, '[') + std::string(40, ']')) == "invalid JSON: nested too deeply");
    CHECK(err_of(R"({"mac": 5})") == "mac: expected a string, got 5");
    CHECK(err_of(R"({"mac": "d8:cb:8a:39:be"})") == "mac: \"d8:cb:8a:39:be\" is not a MAC address");
    CHECK(err_of(R"({"mac": "01:00:5e:00:00:01"})") == "mac: 01:00:5e:00:00:01 is not a unicast MAC address");
    CHECK(err_of(R"({"mac": "00:00:00:00:00:00"})") == "mac: 00:00:00:00:00:00 is not a unicast MAC address");
    const std::string m = R"({"mac":"d8:cb:8a:39:be:a1",)";
    CHECK(err_of(m + R"("name":""})").rfind("name: expected 1-64 characters", 0) == 0);
    CHECK(err_of(m + R"("name":"a\u0001b"})").rfind("name: expected 1-64 characters", 0) == 0);
    CHECK(err_of(m + R"("name":")" + std::string(65, 'x') + "\"}").rfind("name: expected 1-64", 0) == 0);
    // Names reach root-run hooks as argv[2] and NETWAKED_TARGET: only the target-name charset.
    for (const char* bad : {"../../x", "$(reboot)", "--help", "-x", "..", ".hidden", "a b", "x;y", "Tartiflette\u00e9",
                            "/etc/passwd", "a\\nb", "`id`", "*"})
        CHECK_MESSAGE(err_of(m + R"("name":")" + bad + R"("})") ==
                          std::string("name: expected 1-64 characters from A-Z a-z 0-9 _ . -, not starting with - or . "
                                      "(it names a target), got \"") + bad + "\"",
                      bad);
    CHECK(err_of(m + R"("name":5})").rfind("name: expected 1-64 characters", 0) == 0);
    CHECK(err_of(m + "\"name\":\"\xff\"}").rfind("invalid JSON: ", 0) == 0);  // not UTF-8
    CHECK(err_of(m + R"("name":"pc"})") == "monitor: missing");
    CHECK(err_of(m + R"("monitor":[]})") == "monitor: expected a non-empty list, got []");
    CHECK(err_of(m + R"("monitor":{}})") == "monitor: expected a non-empty list, got {}");
    std::string many = m + R"("monitor":[)";
    for (int i = 0; i < 33; ++i) many += std::string(i ? "," : "") + R"({"ip":"10.0.0.)" + std::to_string(i + 1) + R"(","port":[22]})";
    CHECK(err_of(many + "]}") == "monitor: 33 addresses (at most 32)");
    auto mon = [&](const std::string& entry) { return err_of(m + R"("monitor":[{"ip":"10.0.0.9","port":[22]},)" + entry + "]}"); };
    CHECK(mon("5") == "monitor[1]: expected an object {\"ip\": ..., \"port\": [...]}, got 5");
    CHECK(mon(R"({"port":[22]})") == "monitor[1].ip: missing");
    CHECK(mon(R"({"ip":7,"port":[22]})") == "monitor[1].ip: expected a string, got 7");
    CHECK(mon(R"({"ip":"10.0.0.300","port":[22]})") == "monitor[1].ip: \"10.0.0.300\" is not an IPv4 or IPv6 address");
    CHECK(mon(R"({"ip":"224.0.0.1","port":[22]})") == "monitor[1].ip: 224.0.0.1 is a multicast address");
    CHECK(mon(R"({"ip":"ff02::1","port":[22]})") == "monitor[1].ip: ff02::1 is a multicast address");
    CHECK(mon(R"({"ip":"255.255.255.255","port":[22]})") == "monitor[1].ip: 255.255.255.255 is the broadcast address");
    CHECK(mon(R"({"ip":"0.0.0.0","port":[22]})") == "monitor[1].ip: 0.0.0.0 is the unspecified address");
    CHECK(mon(R"({"ip":"::","port":[22]})") == "monitor[1].ip: :: is the unspecified address");
    CHECK(mon(R"({"ip":"127.0.0.1","port":[22]})") == "monitor[1].ip: 127.0.0.1 is a loopback address");
    CHECK(mon(R"({"ip":"10.0.0.9","port":[22]})") == "monitor[1].ip: 10.0.0.9 is already listed in monitor[0]");
    CHECK(mon(R"({"ip":"10.0.0.8"})") == "monitor[1].port: missing");
    CHECK(mon(R"({"ip":"10.0.0.8","port":22})") == "monitor[1].port: expected a list of ports, got 22");
    CHECK(mon(R"({"ip":"10.0.0.8","port":[70000]})") == "monitor[1].port[0]: 70000 is not a port (1-65535)");
    CHECK(mon(R"({"ip":"10.0.0.8","port":[22,0]})") == "monitor[1].port[1]: 0 is not a port (1-65535)");
    CHECK(mon(R"({"ip":"10.0.0.8","port":[-1]})") == "monitor[1].port[0]: -1 is not a port (1-65535)");
    CHECK(mon(R"({"ip":"10.0.0.8","port":[22.5]})") == "monitor[1].port[0]: expected a port number, got 22.5");
    CHECK(mon(R"({"ip":"10.0.0.8","port":["22"]})") == "monitor[1].port[0]: expected a port number, got \"22\"");
    CHECK(mon(R"({"ip":"10.0.0.8","port":[1e30]})").rfind("monitor[1].port[0]: expected a port number", 0) == 0);
    std::string ports;
    for (int i = 1; i <= 5000; ++i) ports += (i > 1 ? "," : "") + std::to_string(i);
    CHECK(mon(R"({"ip":"10.0.0.8","port":[)" + ports + "]}") == "monitor[1].port: 5000 ports (at most 256)");
}

TEST_CASE("register scan: finds the end of one object across segments, strings and escapes") {
    using R = control::ObjectScanner::Result;
    control::ObjectScanner s;
    std::string buf = "  {\"a\":\"}{\\\"\",";
    CHECK(s.feed(buf) == R::Incomplete);
    buf += "\"b\":[{}]";
    CHECK(s.feed(buf) == R::Incomplete);
    buf += "}trailing";
    CHECK(s.feed(buf) == R::Complete);
    CHECK(buf.substr(0, s.end()) == "  {\"a\":\"}{\\\"\",\"b\":[{}]}");
    control::ObjectScanner t;
    CHECK(t.feed("[1]") == R::Invalid);
    control::ObjectScanner u;
    CHECK(u.feed("{" + std::string(20, '[')) == R::Invalid);  // too deep: no need to wait for more
}

TEST_CASE("register validate: allow list, the peer's own MAC, on-link, not the host's, not net/broadcast") {
    FakeHost host;
    host.own_addrs = {A("192.0.2.1"), A("2001:db8::1")};
    host.addrs["lan0"] = {{A("192.0.2.1"), 120}, {A("2001:db8::1"), 64}};
    config::RegisterConf rc;
    rc.interface = "lan0";
    config::Cidr net;
    net.addr = A("192.0.2.0");
    net.prefix_len = 120;
    rc.allow = {net};
    const Mac peer_mac{2, 0, 0, 0, 0, 0x50};
    control::RegisterEnv env;
    env.conf = &rc;
    env.host = &host;
    env.neighbor = [&](const std::string& ifn, const Addr& ip, Mac* out, std::string* err) {
        if (ifn == "lan0" && ip == A("192.0.2.50")) {
            *out = peer_mac;
            return true;
        }
        *err = "no usable neighbor entry for " + ip.str() + " on " + ifn;
        return false;
    };
    Registration r;
    std::string err;
    REQUIRE(parse_registration(R"({"mac":"02:00:00:00:00:50","monitor":[{"ip":"192.0.2.50","port":[22]},
                                   {"ip":"2001:db8::50","port":[22]}]})", &r, &err));
    CHECK(control::validate_registration(r, A("192.0.2.50"), env, &err));
    CHECK_FALSE(control::validate_registration(r, A("198.51.100.7"), env, &err));
    CHECK(err == "peer 198.51.100.7 may not register (not in register.allow)");
    CHECK_FALSE(control::validate_registration(r, A("192.0.2.51"), env, &err));
    CHECK(err == "mac: cannot check it against the peer's own: no usable neighbor entry for 192.0.2.51 on lan0");
    Registration foreign = r;
    foreign.mac = {2, 0, 0, 0, 0, 0x66};
    CHECK_FALSE(control::validate_registration(foreign, A("192.0.2.50"), env, &err));
    CHECK(err == "mac: 02:00:00:00:00:66 is not the registering peer's MAC (192.0.2.50 is at 02:00:00:00:00:50)");
    rc.any_mac = true;
    CHECK(control::validate_registration(foreign, A("192.0.2.51"), env, &err));
    rc.any_mac = false;
    auto with_ip = [&](const char* ip) {
        Registration x = r;
        x.monitor[1].ip = A(ip);
        bool ok = control::validate_registration(x, A("192.0.2.50"), env, &err);
        return ok ? std::string("ok") : err;
    };
    CHECK(with_ip("192.0.2.1") == "monitor[1].ip: 192.0.2.1 belongs to this host");
    CHECK(with_ip("2001:db8::1") == "monitor[1].ip: 2001:db8::1 belongs to this host");
    CHECK(with_ip("198.51.100.20") == "monitor[1].ip: 198.51.100.20 is not on-link on lan0");
    CHECK(with_ip("2001:db9::20") == "monitor[1].ip: 2001:db9::20 is not on-link on lan0");
    CHECK(with_ip("192.0.2.255") == "monitor[1].ip: 192.0.2.255 is the broadcast address of its /24 network on lan0");
    CHECK(with_ip("192.0.2.0") == "monitor[1].ip: 192.0.2.0 is the network address of its /24 network on lan0");
    CHECK(with_ip("192.0.2.77") == "ok");
}

TEST_CASE("register: \"port\": [] holds the address, nothing sent to it wakes; saved and restored as []") {
    Lab lab;
    lab.configure({}, true);
    const Addr held = A("192.0.2.50"), woke = A("192.0.2.51"), client = A("192.0.2.30");
    constexpr Mac kRM{2, 0, 0, 0, 0, 0x50};
    std::vector<proxy::ProxyAddr> pa{{held, proxy::kNoPortWakes}, {woke, {{22, 22, false}}}};
    std::string err;
    REQUIRE(lab.p->add_registration(proxy::spec_for_registration(*lab.cfg.reg, "pc", kRM, pa, lab.clock.wall_s() * 1000), &err));
    for (int i = 0; i < 60 && lab.state("pc") != proxy::State::Asleep; ++i) lab.advance(100);
    REQUIRE(lab.state("pc") == proxy::State::Asleep);
    CHECK(lab.held("pc").size() == 2);
    // Answered for...
    size_t from = lab.sink.sent.size();
    lab.rx(arp_request(Lab::C, client, held));
    REQUIRE(lab.sink.sent.size() == from + 1);
    CHECK(lab.sink.sent.back().d().arp_sha == Lab::P);
    // ...but no port of it wakes the machine, TCP or UDP.
    for (uint16_t port : {uint16_t(1), uint16_t(22), uint16_t(65535)}) {
        lab.rx(tcp4(Lab::C, Lab::P, client, held, 40000, port, packet::kTcpSyn));
        lab.rx(udp4(Lab::C, Lab::P, client, held, 40000, port));
    }
    CHECK(lab.state("pc") == proxy::State::Asleep);
    CHECK(lab.wol.sent.empty());
    // Persisted as "ports": [] and restored to the same meaning.
    state::PersistedState ps;
    proxy::save_proxy(*lab.p, &ps);
    REQUIRE(ps.registrations.size() == 1);
    REQUIRE(ps.registrations[0].monitor.size() == 2);
    CHECK(ps.registrations[0].monitor[0].ports.empty());
    CHECK(ps.registrations[0].monitor[1].ports == std::vector<uint16_t>{22});
    const auto back = proxy::load_proxy(ps);
    REQUIRE(back.size() == 1);
    CHECK(back[0].spec.addresses[0].ports == proxy::kNoPortWakes);
    // The other address still wakes on its port.
    lab.rx(tcp4(Lab::C, Lab::P, client, woke, 40000, 22, packet::kTcpSyn));
    CHECK(lab.state("pc") == proxy::State::Waking);
}

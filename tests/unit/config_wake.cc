// tests/unit/config_wake.cc — the configuration of wake verification (wol.verify, SPEC §7.1) and
// of the Wake-on-WAN relay (wol_relay, SPEC §7.2): defaults, resolution, errors with positions,
// and the --check printer's round trip.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/load.h"
#include "config/print.h"
#include "packet/parse.h"

using namespace nw;

namespace {

const std::string kHead = R"(sensors:
  - name: wan
    nflog: {group: 1}
targets:
)";  // targets start on line 5

config::LoadOptions no_files() {
    config::LoadOptions o;
    o.check_files = false;
    return o;
}

std::string errors(const std::string& yaml) {
    config::Config c;
    std::vector<std::string> errs;
    bool ok = config::load_string(yaml, "t.yaml", &c, &errs, no_files());
    CHECK(ok == errs.empty());
    std::string s;
    for (const auto& e : errs) s += e + "\n";
    return s;
}

config::Config good(const std::string& yaml) {
    config::Config c;
    std::vector<std::string> errs;
    bool ok = config::load_string(yaml, "t.yaml", &c, &errs, no_files());
    for (const auto& e : errs) MESSAGE(e);
    REQUIRE(ok);
    // --check's output loads to the same model
    config::Config again;
    errs.clear();
    REQUIRE(config::load_string(config::print_normalized(c), "t.yaml", &again, &errs, no_files()));
    again.source = c.source;
    CHECK(again == c);
    return c;
}

packet::Addr addr(const char* s) {
    packet::Addr a;
    REQUIRE(packet::parse_addr(s, &a, nullptr));
    return a;
}

}  // namespace

TEST_CASE("wol.verify: on by default when an address is known, with the documented defaults") {
    auto c = good(kHead + R"(  - name: nas
    match: [ {dst: 192.168.1.20, dst_port: 22} ]
    wol: {mac: "d8:cb:8a:39:be:a1", interface: eth0}
  - name: two
    match: [ {dst: [192.168.1.21, 192.168.1.22]} ]
    wol: {mac: "d8:cb:8a:39:be:a2", interface: eth0}
  - name: net
    match: [ {dst: 192.168.1.0/24} ]
    wol: {mac: "d8:cb:8a:39:be:a3", interface: eth0}
  - name: px
    match: [ {dst: 10.0.0.1} ]
    wol: {mac: "d8:cb:8a:39:be:a4", interface: eth0}
    sleep_proxy: {addresses: [192.168.1.40]}
)");
    const auto& v = c.targets[0].wol->verify;
    CHECK(v.on);
    REQUIRE(v.address);
    CHECK(*v.address == addr("192.168.1.20"));
    CHECK(v.timeout == std::chrono::seconds(60));
    CHECK(v.attempts == 3);
    CHECK(v.grace == std::chrono::seconds(30));
    CHECK_FALSE(c.targets[1].wol->verify.on);  // two addresses: which one?
    CHECK_FALSE(c.targets[2].wol->verify.on);  // a network
    CHECK(c.targets[3].wol->verify.on);
    CHECK(*c.targets[3].wol->verify.address == addr("192.168.1.40"));  // the sleep proxy's first
}

TEST_CASE("wol.verify: explicit block, true, false") {
    auto c = good(kHead + R"(  - name: a
    match: [ {prefix: a} ]
    wol:
      mac: "d8:cb:8a:39:be:a1"
      interface: eth0
      verify: {address: "2001:db8::20", timeout: 500ms, attempts: 5, grace: 0s}
  - name: b
    match: [ {prefix: b} ]
    wol: {mac: "d8:cb:8a:39:be:a2", interface: eth0, verify: true}
  - name: c
    match: [ {dst: 192.168.1.9} ]
    wol: {mac: "d8:cb:8a:39:be:a3", interface: eth0, verify: false}
)");
    const auto& a = c.targets[0].wol->verify;
    CHECK(a.on);
    CHECK(*a.address == addr("2001:db8::20"));
    CHECK(a.timeout == std::chrono::milliseconds(500));
    CHECK(a.attempts == 5);
    CHECK(a.grace == std::chrono::seconds(0));
    CHECK(c.targets[1].wol->verify.on);              // MAC only: frames from it
    CHECK_FALSE(c.targets[1].wol->verify.address);
    CHECK_FALSE(c.targets[2].wol->verify.on);
}

TEST_CASE("wol.verify: errors carry file:line:col") {
    CHECK(errors(kHead + R"(  - name: a
    match: [ {prefix: a} ]
    wol:
      mac: "d8:cb:8a:39:be:a1"
      interface: eth0
      verify: {address: 192.168.1.5, colour: red}
)") == "t.yaml:10:38: unknown key \"colour\" in wol.verify (expected one of: address, timeout, attempts, grace)\n");
    const std::string e = errors(kHead + R"(  - name: a
    match: [ {prefix: a} ]
    wol:
      mac: "d8:cb:8a:39:be:a1"
      interface: eth0
      verify: {address: nope, timeout: 10ms, attempts: 0}
)");
    INFO(e);
    CHECK(e.find("t.yaml:10:25: wol.verify.address: expected an IP address, got \"nope\"") != std::string::npos);
    CHECK(e.find("t.yaml:10:40: wol.verify.timeout:") != std::string::npos);
    CHECK(e.find("t.yaml:10:56: wol.verify.attempts:") != std::string::npos);
    CHECK(errors(kHead + R"(  - name: a
    match: [ {prefix: a} ]
    wol: {mac: "d8:cb:8a:39:be:a1", interface: eth0, verify: maybe}
)").find("t.yaml:7:62: wol.verify:") != std::string::npos);
}

TEST_CASE("wol_relay: defaults, full form, --check round trip") {
    auto c = good(kHead + R"(  - name: nas
    match: [ {prefix: nas} ]
    wol: {mac: "d8:cb:8a:39:be:a1", interface: eth0, password: "00:11:22:33:44:55"}
  - name: pc
    match: [ {prefix: pc} ]
    wol: {mac: "d8:cb:8a:39:be:a2", interface: eth0}
wol_relay:
  - allow: [nas, pc]
  - sensors: [wan]
    ports: [9]
    allow: nas
    password: required
    rate: 3/1m
)");
    REQUIRE(c.wol_relay.size() == 2);
    const auto& d = c.wol_relay[0];
    CHECK(d.sensors.empty());
    CHECK(d.ports == std::vector<uint16_t>{7, 9});
    CHECK(d.allow == std::vector<std::string>{"nas", "pc"});
    CHECK(d.password == config::RelayPassword::Optional);
    CHECK(d.rate_count == 1);
    CHECK(d.rate_per == std::chrono::seconds(10));
    const auto& r = c.wol_relay[1];
    CHECK(r.sensors == std::vector<uint16_t>{0});
    CHECK(r.ports == std::vector<uint16_t>{9});
    CHECK(r.password == config::RelayPassword::Required);
    CHECK(r.rate_count == 3);
    CHECK(r.rate_per == std::chrono::minutes(1));
}

TEST_CASE("wol_relay: every error with its position") {
    const std::string e = errors(kHead + R"(  - name: nas
    match: [ {prefix: nas} ]
    wol: {mac: "d8:cb:8a:39:be:a1", interface: eth0}
  - name: nowol
    match: [ {prefix: x} ]
wol_relay:
  - sensors: [lan]
    ports: [0]
    allow: [nas, nowol, ghost]
    password: sometimes
    rate: 1/0s
  - ports: 9
    password: required
    allow: nas
)");
    INFO(e);
    CHECK(e.find("t.yaml:11:15: sensors: unknown sensor \"lan\" (known: wan)") != std::string::npos);
    CHECK(e.find("t.yaml:12:13: ports: value \"0\" out of range (min 1, max 65535)") != std::string::npos);
    CHECK(e.find("ports: at least one") == std::string::npos);
    CHECK(e.find("t.yaml:13:18: allow: target \"nowol\" has no wol section") != std::string::npos);
    CHECK(e.find("t.yaml:13:25: allow: unknown target \"ghost\"") != std::string::npos);
    CHECK(e.find("t.yaml:14:15: password: expected required, optional or none, got \"sometimes\"") != std::string::npos);
    CHECK(e.find("t.yaml:15:11: rate: expected \"COUNT/DURATION\"") != std::string::npos);
    CHECK(e.find("t.yaml:18:12: allow: target \"nas\" has no wol.password, but password is required") != std::string::npos);
}

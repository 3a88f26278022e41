// tests/unit/match.cc — core::Ruleset and rule_matches against hand-built decoded packets.
// Configurations come from YAML through the loader (file checks off); no sockets, no files.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/load.h"
#include "core/match.h"
#include "packet/parse.h"

namespace nw::core::debug {
uint64_t rules_checked();  // defined in core/match.cc: rules fully checked on this thread
}

using namespace nw;

namespace {

config::Config load(const std::string& yaml) {
    config::Config c;
    std::vector<std::string> errs;
    config::LoadOptions o;
    o.check_files = false;
    bool ok = config::load_string(yaml, "test.yaml", &c, &errs, o);
    for (const auto& e : errs) MESSAGE(e);
    REQUIRE(ok);
    return c;
}

const char* kSensors = R"(
sensors:
  - name: wan
    nflog: {group: 1}
  - name: lan
    pcap: {interface: eth0}
)";

struct Fixture {
    config::Config cfg;
    std::unique_ptr<core::Ruleset> rs;
    std::vector<core::Verdict> out;
    explicit Fixture(const std::string& targets_yaml) {
        cfg = load(std::string(kSensors) + targets_yaml);
        std::vector<std::shared_ptr<core::TargetShared>> slots;
        for (const auto& t : cfg.targets) slots.push_back(std::make_shared<core::TargetShared>(t.name));
        std::string err;
        rs = core::Ruleset::build(cfg, slots, &err);
        REQUIRE_MESSAGE(rs, err);
        out.reserve(16);
    }
    // Names of the targets whose match (m) / keepalive (k) rules hold, e.g. "a:mk b:k".
    std::string run(const packet::Decoded& d, const core::PacketMeta& m = {}) {
        rs->classify(d, m, &out);
        std::string s;
        for (const auto& v : out) {
            s += (s.empty() ? "" : " ") + cfg.targets[v.index].name + ":" + (v.match ? "m" : "") + (v.keepalive ? "k" : "");
            CHECK(v.target == rs->slot(v.index));
        }
        return s;
    }
};

packet::Addr addr(const char* s) {
    packet::Addr a;
    REQUIRE(packet::parse_addr(s, &a, nullptr));
    return a;
}

packet::Decoded ip(const char* src, const char* dst, uint8_t proto) {
    packet::Decoded d;
    d.src = addr(src);
    d.dst = addr(dst);
    d.l3 = d.src.is_v4() ? 4 : 6;
    d.proto = proto;
    d.has_l4 = true;
    return d;
}
packet::Decoded tcp(const char* src, uint16_t sport, const char* dst, uint16_t dport,
                    uint8_t flags = packet::kTcpSyn) {
    packet::Decoded d = ip(src, dst, packet::kProtoTcp);
    d.src_port = sport;
    d.dst_port = dport;
    d.tcp_flags = flags;
    return d;
}
packet::Decoded udp(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
    packet::Decoded d = ip(src, dst, packet::kProtoUdp);
    d.src_port = sport;
    d.dst_port = dport;
    return d;
}
packet::Decoded with_eth(packet::Decoded d, const char* mac, int vlan = -1, int inner = -1) {
    d.has_eth = true;
    REQUIRE(packet::parse_mac(mac, &d.src_mac, nullptr));
    if (vlan >= 0) {
        d.vlan_count = 1;
        d.vlan = uint16_t(vlan);
    }
    if (inner >= 0) {
        d.vlan_count = 2;
        d.vlan_inner = uint16_t(inner);
    }
    return d;
}

}  // namespace

TEST_CASE("match: destination address, port and protocol") {
    Fixture f(R"(
targets:
  - name: nas
    match:
      - {dst: [192.168.1.20, "2001:db8::20"], dst_port: [22, 445], proto: tcp}
  - name: lan
    match:
      - {dst: 10.0.0.0/8, proto: udp, dst_port: "1000-2000"}
)");
    CHECK(f.run(tcp("10.0.0.5", 40000, "192.168.1.20", 22)) == "nas:mk");
    CHECK(f.run(tcp("2001:db8::5", 40000, "2001:db8::20", 445)) == "nas:mk");
    CHECK(f.run(tcp("10.0.0.5", 40000, "192.168.1.20", 80)) == "");
    CHECK(f.run(udp("10.0.0.5", 40000, "192.168.1.20", 22)) == "");
    CHECK(f.run(tcp("10.0.0.5", 40000, "192.168.1.21", 22)) == "");
    CHECK(f.run(udp("1.2.3.4", 5, "10.9.8.7", 1000)) == "lan:mk");
    CHECK(f.run(udp("1.2.3.4", 5, "10.9.8.7", 2000)) == "lan:mk");
    CHECK(f.run(udp("1.2.3.4", 5, "10.9.8.7", 2001)) == "");
    CHECK(f.run(udp("1.2.3.4", 5, "11.9.8.7", 1500)) == "");
    packet::Decoded frag = udp("1.2.3.4", 5, "10.9.8.7", 1500);
    frag.fragment = true;  // a non-first fragment has no ports
    CHECK(f.run(frag) == "");
}

TEST_CASE("match: rules that only name a protocol and ports (checked by the port index alone)") {
    Fixture f(R"(
targets:
  - name: ssh
    match:
      - {proto: tcp, dst_port: 22}
  - name: dns
    match:
      - {proto: udp, dst_port: [53, "5353-5354"]}
  - name: any
    match:
      - {dst_port: 8080}
  - name: neg
    match:
      - {proto: tcp, dst_port: [9000, "!9000"]}
)");
    CHECK(f.run(tcp("10.0.0.5", 40000, "10.0.0.1", 22)) == "ssh:mk");
    CHECK(f.run(udp("10.0.0.5", 40000, "10.0.0.1", 22)) == "");
    CHECK(f.run(tcp("10.0.0.5", 40000, "10.0.0.1", 23)) == "");
    CHECK(f.run(udp("10.0.0.5", 40000, "10.0.0.1", 5354)) == "dns:mk");
    CHECK(f.run(tcp("10.0.0.5", 40000, "10.0.0.1", 53)) == "");
    CHECK(f.run(tcp("10.0.0.5", 40000, "10.0.0.1", 8080)) == "any:mk");
    CHECK(f.run(udp("2001:db8::5", 40000, "2001:db8::1", 8080)) == "any:mk");
    CHECK(f.run(tcp("10.0.0.5", 40000, "10.0.0.1", 9000)) == "");  // a negated port is still checked
    packet::Decoded frag = tcp("10.0.0.5", 40000, "10.0.0.1", 22);
    frag.fragment = true;
    CHECK(f.run(frag) == "");
    packet::Decoded icmp = ip("10.0.0.5", "10.0.0.1", packet::kProtoIcmp);
    icmp.dst_port = 22;  // stale field of a packet without ports
    CHECK(f.run(icmp) == "");
}

TEST_CASE("match: negation of addresses, ports and MACs") {
    Fixture f(R"(
targets:
  - name: t
    match:
      - {src: ["!192.168.1.1"], dst_port: ["!22"]}
  - name: m
    match:
      - {src_mac: ["!02:00:00:00:00:01"], dst: 192.0.2.1}
)");
    CHECK(f.run(tcp("192.168.1.2", 1, "10.0.0.1", 80)) == "t:mk");
    CHECK(f.run(tcp("192.168.1.1", 1, "10.0.0.1", 80)) == "");
    CHECK(f.run(tcp("192.168.1.2", 1, "10.0.0.1", 22)) == "");
    CHECK(f.run(tcp("2001:db8::1", 1, "2001:db8::2", 80)) == "t:mk");  // only the negated v4 host is excluded
    packet::Decoded icmp = ip("192.168.1.2", "10.0.0.1", packet::kProtoIcmp);
    CHECK(f.run(icmp) == "");  // port conditions need ports
    CHECK(f.run(with_eth(tcp("1.1.1.1", 1, "192.0.2.1", 80), "02:00:00:00:00:02")) == "t:mk m:mk");
    CHECK(f.run(with_eth(tcp("1.1.1.1", 1, "192.0.2.1", 80), "02:00:00:00:00:01")) == "t:mk");
    CHECK(f.run(tcp("1.1.1.1", 1, "192.0.2.1", 80)) == "t:mk");  // no link layer: MAC rules cannot hold
}

TEST_CASE("match: TCP flag expressions") {
    Fixture f(R"(
targets:
  - {name: syn, match: [{tcp_flags: syn}]}
  - {name: ack, match: [{tcp_flags: ack}]}
  - {name: synonly, match: [{tcp_flags: "syn,!ack"}]}
)");
    CHECK(f.run(tcp("1.1.1.1", 1, "2.2.2.2", 2, packet::kTcpSyn)) == "syn:mk synonly:mk");
    CHECK(f.run(tcp("1.1.1.1", 1, "2.2.2.2", 2, packet::kTcpSyn | packet::kTcpAck)) == "syn:mk ack:mk");
    CHECK(f.run(tcp("1.1.1.1", 1, "2.2.2.2", 2, packet::kTcpAck | packet::kTcpPsh)) == "ack:mk");
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2)) == "");
}

TEST_CASE("match: NFLOG prefix, interfaces, VLAN, protocols") {
    Fixture f(R"(
targets:
  - {name: vpn, match: [{prefix: vpn}]}
  - {name: in, match: [{in_iface: eth1, out_iface: wg0}]}
  - {name: vlan, match: [{vlan: 7}]}
  - {name: arp, match: [{proto: arp}]}
  - {name: ping, match: [{proto: icmp}, {proto: icmp6}]}
)");
    core::PacketMeta m;
    m.has_prefix = true;
    m.prefix = "vpn";
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2), m) == "vpn:mk");
    m.prefix = "vpn2";
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2), m) == "");
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2)) == "");
    core::PacketMeta io;
    io.in_iface = "eth1";
    io.out_iface = "wg0";
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2), io) == "in:mk");
    io.out_iface = "wg1";
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2), io) == "");
    CHECK(f.run(with_eth(udp("1.1.1.1", 1, "2.2.2.2", 2), "02:00:00:00:00:09", 7)) == "vlan:mk");
    CHECK(f.run(with_eth(udp("1.1.1.1", 1, "2.2.2.2", 2), "02:00:00:00:00:09", 100, 7)) == "vlan:mk");
    CHECK(f.run(with_eth(udp("1.1.1.1", 1, "2.2.2.2", 2), "02:00:00:00:00:09", 8)) == "");
    packet::Decoded arp;
    arp.l3 = 'a';
    arp.src = addr("192.168.1.1");
    arp.dst = addr("192.168.1.2");
    CHECK(f.run(arp) == "arp:mk");
    CHECK(f.run(ip("1.1.1.1", "2.2.2.2", packet::kProtoIcmp)) == "ping:mk");
    CHECK(f.run(ip("2001:db8::1", "2001:db8::2", packet::kProtoIcmp6)) == "ping:mk");
    CHECK(f.run(ip("2001:db8::1", "2001:db8::2", packet::kProtoIcmp)) == "");
}

TEST_CASE("match: IPv6 networks never hold IPv4 addresses") {
    Fixture f(R"(
targets:
  - {name: v6, match: [{dst: "::/0"}]}
  - {name: v4, match: [{dst: 0.0.0.0/0}]}
)");
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2)) == "v4:mk");
    CHECK(f.run(udp("2001:db8::1", 1, "2001:db8::2", 2)) == "v6:mk");
}

TEST_CASE("match: sensors restriction and rule sensor") {
    Fixture f(R"(
targets:
  - {name: wanonly, sensors: [wan], match: [{}]}
  - {name: all, match: [{sensor: lan}]}
)");
    core::PacketMeta wan, lan;
    wan.sensor = 0;
    lan.sensor = 1;
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2), wan) == "wanonly:mk");
    CHECK(f.run(udp("1.1.1.1", 1, "2.2.2.2", 2), lan) == "all:mk");
}

TEST_CASE("match: keepalive rules are separate from match rules") {
    Fixture f(R"(
targets:
  - name: ssh
    match: [{dst_port: 22, tcp_flags: "syn,!ack"}, {dst_port: 2222}]
    keepalive: [{tcp_flags: ack}]
  - name: plain
    match: [{dst_port: 80}]
)");
    CHECK(f.run(tcp("1.1.1.1", 1, "2.2.2.2", 22, packet::kTcpSyn)) == "ssh:m");
    CHECK(f.run(tcp("1.1.1.1", 1, "2.2.2.2", 22, packet::kTcpAck)) == "ssh:k");
    CHECK(f.run(tcp("1.1.1.1", 1, "2.2.2.2", 2222, packet::kTcpAck)) == "ssh:mk");  // two rules, one Verdict
    CHECK(f.run(tcp("1.1.1.1", 1, "2.2.2.2", 80, packet::kTcpAck)) == "ssh:k plain:mk");
}

TEST_CASE("match: rule_matches interprets one rule") {
    config::Config cfg = load(std::string(kSensors) + "targets: [{name: x, match: [{}]}]\n");
    config::Rule r;
    r.proto = config::Proto::Tcp;
    r.dst_port.push_back({22, 22, false});
    core::PacketMeta m;
    CHECK(core::rule_matches(r, cfg, tcp("1.1.1.1", 1, "2.2.2.2", 22), m));
    CHECK_FALSE(core::rule_matches(r, cfg, tcp("1.1.1.1", 1, "2.2.2.2", 23), m));
    r.sensor = "lan";
    CHECK_FALSE(core::rule_matches(r, cfg, tcp("1.1.1.1", 1, "2.2.2.2", 22), m));
    m.sensor = 1;
    CHECK(core::rule_matches(r, cfg, tcp("1.1.1.1", 1, "2.2.2.2", 22), m));
    r.sensor = "nonexistent";
    CHECK_FALSE(core::rule_matches(r, cfg, tcp("1.1.1.1", 1, "2.2.2.2", 22), m));
}

TEST_CASE("match: build rejects inconsistent input") {
    config::Config cfg = load(std::string(kSensors) + "targets: [{name: x, match: [{}]}]\n");
    std::string err;
    CHECK(core::Ruleset::build(cfg, {}, &err) == nullptr);
    CHECK(!err.empty());
    cfg.targets[0].match[0].sensor = "ghost";
    std::vector<std::shared_ptr<core::TargetShared>> slots{std::make_shared<core::TargetShared>("x")};
    CHECK(core::Ruleset::build(cfg, slots, &err) == nullptr);
    CHECK(err.find("ghost") != std::string::npos);
}

TEST_CASE("match: 10,000 targets are indexed, not scanned") {
    auto check_indexed = [](const char* what, auto rule_for, const char* dst = "10.1.4.210") {
        std::string y = "targets:\n";
        for (int i = 0; i < 10000; ++i) y += "  - {name: t" + std::to_string(i) + ", match: [" + rule_for(i) + "]}\n";
        Fixture f(y);
        core::PacketMeta m;
        m.has_prefix = true;
        std::string pfx = "p1234";
        m.prefix = pfx;
        uint64_t before = core::debug::rules_checked();
        std::string got = f.run(tcp("10.0.0.1", 1, dst, uint16_t(1000 + 1234)), m);
        uint64_t checked = core::debug::rules_checked() - before;
        INFO(what);
        CHECK(got == "t1234:mk");
        CHECK(checked <= 2);
    };
    check_indexed("distinct destination addresses", [](int i) {
        return "{dst: 10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "}";
    });
    check_indexed("distinct destination ports", [](int i) { return "{dst_port: " + std::to_string(1000 + i) + "}"; });
    check_indexed("distinct prefixes", [](int i) { return "{prefix: p" + std::to_string(i) + "}"; });
    check_indexed("same prefix, distinct ports", [](int i) {
        return "{prefix: p1234, dst_port: " + std::to_string(1000 + i) + "}";
    });
    check_indexed("distinct /24 networks", [](int i) {
        return "{dst: 10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24, dst_port: 2234}";
    }, "10.4.210.77");
}

// tests/unit/config_print.cc — print_normalized round trips: loading the printed text yields an
// equal model, and printing that again yields the same text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/load.h"
#include "config/print.h"

using namespace nw;

namespace {

config::Config load(const std::string& yaml, const std::string& name = "t.yaml") {
    config::Config c;
    std::vector<std::string> errs;
    config::LoadOptions o;
    o.check_files = false;
    bool ok = config::load_string(yaml, name, &c, &errs, o);
    for (const auto& e : errs) MESSAGE(e);
    REQUIRE(ok);
    return c;
}

void round_trip(const std::string& yaml) {
    config::Config a = load(yaml);
    std::string text = config::print_normalized(a);
    INFO(text);
    config::Config b = load(text, "t.yaml");
    CHECK(b == a);
    CHECK(config::print_normalized(b) == text);
}

}  // namespace

TEST_CASE("print: the SPEC example round-trips") {
    round_trip(R"(
daemon: {user: nobody, pidfile: /run/netwaked.pid, log_level: debug}
sensors:
  - name: wan
    nflog: { group: 1 }
  - name: lan
    pcap: { interface: eth0, filter: "not arp", snaplen: 1500, promisc: yes }
defaults: {ttl: 10m, hook: /etc/netwaked/hooks/event, hook_timeout: 60s}
targets:
  - name: vpn
    sensors: [wan]
    match:
      - {prefix: vpn, proto: udp, dst_port: 51820}
    keepalive:
      - tcp_flags: ack
    trigger: { packets: 1, within: 10s }
    min_active: 0s
    ttl: 15m
    hook: /etc/netwaked/hooks/vpn
  - name: nas
    match:
      - dst: [192.168.1.20, "2001:db8::20"]
        dst_port: [22, 445]
        src: ["!192.168.1.1"]
    ttl: 30m
    wol:
      mac: d8:cb:8a:39:be:a1
      interface: eth0
      method: [ethernet, udp]
      udp_to: 192.168.1.255:9
      password: 00:11:22:33:44:55
      repeat: 3
      interval: 1s
      cooldown: 30s
    sleep_proxy:
      interface: eth0
      addresses: [192.168.1.20, {address: "2001:db8::20", ports: [22]}]
      ports: [22, 445]
      probe_interval: 4s
      probe_misses: 3
      shutdown_timeout: 10m
      wake_attempts: 3
      wake_interval: 30s
      keep: true
register:
  listen: 192.168.1.2:13717
  interface: eth0
  allow: [192.168.1.0/24, "fd00::/8"]
  any_mac: false
  sleep_proxy: { probe_interval: 4s, probe_misses: 3, wake_attempts: 3, wake_interval: 30s, keep: true }
  hook: /etc/netwaked/hooks/registered
knock:
  - name: ssh
    target: nas
    sequence: [tcp/7000, tcp/8000, udp/9000]
    timeout: 15s
    tcp_flags: syn
  - name: remote
    target: nas
    spa: { port: 62201, key_file: /etc/netwaked/keys/remote.key, window: 60s }
)");
}

TEST_CASE("print: every rule field, negations, odd strings") {
    round_trip(R"Y(
daemon: {state_dir: "", control_socket: ""}
sensors:
  - name: "odd:name"
    pcap: {interface: "nflog:5", filter: "tcp and (port 22 or port 445) and not ether host 02:00:00:00:00:01"}
  - nflog: {group: 65535, copy_range: 64}
targets:
  - name: a.b-c_d
    sensors: ["odd:name", "nflog:65535"]
    match:
      - sensor: "odd:name"
        prefix: "yes"
        in_iface: eth0.5
        out_iface: wg0
        proto: tcp
        src: ["!10.0.0.0/8", "::/0", "2001:db8::/33"]
        dst: ["!192.0.2.1", 0.0.0.0/0]
        src_port: ["!0", "1-1023"]
        dst_port: ["65535", "!100-200"]
        tcp_flags: "fin,syn,rst,psh,ack,urg,ece,!cwr"
        src_mac: ["!02:00:00:00:00:01", "aa-bb-cc-dd-ee-ff"]
        vlan: 4095
      - prefix: " spaced \t\"quoted\" \\ back"
      - prefix: "!bang"
      - prefix: "ünïcödé"
      - {}
    keepalive: []
    trigger: {packets: 1000000, within: 1ms}
    min_active: 30d
    ttl: 1d
    hook: ""
    hook_timeout: 1500ms
    wol:
      mac: "02:00:00:00:00:01"
      method: udp
      ethernet_to: unicast
      udp_to: "[ff02::1%eth0]:7"
      password: 10.0.0.1
      repeat: 100
      interval: 10ms
      cooldown: 0
    sleep_proxy:
      interface: eth9
      addresses: ["fd00::1", {address: 10.1.1.1, ports: ["1-65535"]}]
  - name: "123"
    match: [{proto: arp}, {proto: icmp6}, {proto: icmp}, {proto: any}]
)Y");
}

TEST_CASE("print: the tuninetd command-line model and defaults-only config") {
    round_trip("sensors: [{nflog: {group: 1}}]\ntargets: [{name: default, match: [{}]}]\n");
    config::Config c = load("sensors: [{nflog: {group: 1}}]\ntargets: [{name: default, match: [{}]}]\n");
    std::string text = config::print_normalized(c);
    CHECK(text.find("ttl: 10m\n") != std::string::npos);
    CHECK(text.find("hook_timeout: 1m\n") != std::string::npos);
    CHECK(text.find("trigger: {packets: 1, within: 10s}\n") != std::string::npos);
    CHECK(text.find("state_dir: /var/lib/netwaked\n") != std::string::npos);
    c.savefile = "/tmp/start.pcap";  // set only by the command line: shown as a comment
    CHECK(config::print_normalized(c).find("# savefile (command line -w): /tmp/start.pcap\n") != std::string::npos);
}

// tests/unit/config_load.cc — config::load_string/load_file: exact error messages with
// positions for each class of error, several errors at once, durations, defaults inheritance,
// hook and key-file checks (in a private temporary directory).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "config/load.h"
#include "config/text.h"
#include "packet/parse.h"

using namespace nw;
using nw::config::Duration;

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

// All errors for `yaml`, one per line.
std::string errors(const std::string& yaml, const config::LoadOptions& o = no_files()) {
    config::Config c;
    std::vector<std::string> errs;
    bool ok = config::load_string(yaml, "t.yaml", &c, &errs, o);
    CHECK(ok == errs.empty());
    std::string s;
    for (const auto& e : errs) s += e + "\n";
    return s;
}

config::Config good(const std::string& yaml, const config::LoadOptions& o = no_files()) {
    config::Config c;
    std::vector<std::string> errs;
    bool ok = config::load_string(yaml, "t.yaml", &c, &errs, o);
    for (const auto& e : errs) MESSAGE(e);
    REQUIRE(ok);
    return c;
}

// A private directory for hook/key files, removed at the end of the test case.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/nw-config-test.XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name, const std::string& content, mode_t mode) const {
        std::string p = path + "/" + name;
        std::ofstream(p) << content;
        chmod(p.c_str(), mode);
        return p;
    }
};

}  // namespace

TEST_CASE("config: durations") {
    Duration d{};
    CHECK(config::parse_duration("500ms", &d));
    CHECK(d == std::chrono::milliseconds(500));
    CHECK(config::parse_duration("30", &d));
    CHECK(d == std::chrono::seconds(30));
    CHECK(config::parse_duration("10m", &d));
    CHECK(d == std::chrono::minutes(10));
    CHECK(config::parse_duration("2h", &d));
    CHECK(d == std::chrono::hours(2));
    CHECK(config::parse_duration("1d", &d));
    CHECK(d == std::chrono::hours(24));
    for (const char* bad : {"", "s", "-1s", "1.5s", "10x", "1 s", "10M", "99999999999999999999s", "36500000d"})
        CHECK_MESSAGE(!config::parse_duration(bad, &d), bad);
    CHECK(config::format_duration(std::chrono::minutes(10)) == "10m");
    CHECK(config::format_duration(std::chrono::milliseconds(500)) == "500ms");
    CHECK(config::format_duration(std::chrono::milliseconds(1500)) == "1500ms");
    CHECK(config::format_duration(std::chrono::seconds(90)) == "90s");
    CHECK(config::format_duration(std::chrono::hours(48)) == "2d");
    CHECK(config::format_duration(Duration{0}) == "0s");

    config::Config c = good(kHead + "  - {name: a, match: [{}], ttl: 90, min_active: 1500ms, hook_timeout: 2m}\n");
    CHECK(c.targets[0].ttl == std::chrono::seconds(90));
    CHECK(c.targets[0].min_active == std::chrono::milliseconds(1500));
    CHECK(c.targets[0].hook_timeout == std::chrono::minutes(2));
}

TEST_CASE("config: out-of-range and badly typed values name the key, quote the value, state the range") {
    CHECK(errors(kHead + "  - {name: a, match: [{}], ttl: 0s}\n") ==
          "t.yaml:5:33: ttl: value \"0s\" out of range (min 1s, max 30d)\n");
    CHECK(errors(kHead + "  - {name: a, match: [{}], ttl: 31d}\n") ==
          "t.yaml:5:33: ttl: value \"31d\" out of range (min 1s, max 30d)\n");
    CHECK(errors(kHead + "  - {name: a, match: [{}], ttl: soon}\n") ==
          "t.yaml:5:33: ttl: expected a duration (seconds, or a number with unit ms, s, m, h, d), got \"soon\"\n");
    CHECK(errors(kHead + "  - {name: a, match: [{}], ttl: [1]}\n") ==
          "t.yaml:5:33: ttl: expected a duration (seconds, or a number with unit ms, s, m, h, d), got a list\n");
    CHECK(errors(kHead + "  - {name: a, match: [{}], trigger: {packets: 0}}\n") ==
          "t.yaml:5:47: trigger.packets: value \"0\" out of range (min 1, max 1000000)\n");
    CHECK(errors(kHead + "  - {name: a, match: [{dst_port: 70000}]}\n") ==
          "t.yaml:5:34: dst_port: value \"70000\" out of range (min 0, max 65535)\n");
    CHECK(errors(kHead + "  - {name: a, match: [{vlan: x}]}\n") ==
          "t.yaml:5:30: vlan: expected an integer (min 0, max 4095), got \"x\"\n");
    CHECK(errors("sensors:\n  - nflog: {group: 65536}\ntargets: [{name: a, match: [{}]}]\n") ==
          "t.yaml:2:20: nflog.group: value \"65536\" out of range (min 0, max 65535)\n");
    CHECK(errors("daemon: {log_level: loud}\n" + kHead + "  - {name: a, match: [{}]}\n") ==
          "t.yaml:1:21: daemon.log_level: expected one of debug, info, notice, warning, error, got \"loud\"\n");
    CHECK(errors(kHead + "  - {name: a, match: [{tcp_flags: \"syn,!axk\"}]}\n") ==
          "t.yaml:5:35: tcp_flags: expected flag names fin, syn, rst, psh, ack, urg, ece, cwr, each optionally "
          "negated with \"!\", separated by \",\", got \"syn,!axk\"\n");
}

TEST_CASE("config: unknown and duplicate keys, YAML syntax errors") {
    CHECK(errors(kHead + "  - name: a\n    match: [{}]\n    colour: blue\n") ==
          "t.yaml:7:5: unknown key \"colour\" in target (expected one of: name, match, sensors, keepalive, trigger, "
          "min_active, ttl, hook, hook_timeout, wol, sleep_proxy)\n");
    CHECK(errors(kHead + "  - name: a\n    match: [{}]\n    ttl: 1m\n    ttl: 2m\n") ==
          "t.yaml:8:5: duplicate key \"ttl\" in target (first given at line 7)\n");
    CHECK(errors("sensors: [\n") == "t.yaml:2:1: YAML syntax error: end of sequence flow not found\n");
    CHECK(errors("a: b\n\tc: d\n") == "t.yaml:2:1: YAML syntax error: illegal tab when looking for indentation\n");
    CHECK(errors("") ==
          "t.yaml:1:1: missing key \"sensors\" (at least one sensor is needed)\n"
          "t.yaml:1:1: missing key \"targets\" (at least one target is needed, unless a register section is given)\n");
    CHECK(errors("sensors: []\ntargets: []\n") ==
          "t.yaml:1:10: sensors: at least one sensor is needed\n"
          "t.yaml:2:10: targets: at least one target is needed (unless a register section is given)\n");
    CHECK(errors(kHead + "  - {name: a, match: [{}]}\n---\nx: 1\n") == "t.yaml:6:1: only one YAML document is allowed\n");
}

TEST_CASE("config: with a register section, registered machines may be the only targets") {
    const std::string reg = "register: {listen: 192.0.2.1:13717, interface: eth0, allow: [192.0.2.0/24]}\n";
    const std::string sensors = "sensors: [{nflog: {group: 1}}]\n";
    CHECK(errors(sensors + "targets: []\n" + reg) == "");
    CHECK(errors(sensors + reg) == "");
    config::Config c = good(sensors + "targets: []\n" + reg);
    CHECK(c.targets.empty());
    REQUIRE(c.reg);
    CHECK(c.reg->interface == "eth0");
    CHECK(errors(sensors + "targets: []\n") ==
          "t.yaml:2:10: targets: at least one target is needed (unless a register section is given)\n");
}

TEST_CASE("config: names, references and duplicates") {
    CHECK(errors(kHead + "  - {name: \"bad name\", match: [{}]}\n") ==
          "t.yaml:5:12: name: \"bad name\" is not a valid target name ([A-Za-z0-9_.-], 1-64 characters)\n");
    CHECK(errors(kHead + "  - {name: " + std::string(65, 'x') + ", match: [{}]}\n").find("is not a valid target name") !=
          std::string::npos);
    CHECK(errors(kHead + "  - {name: a, match: [{}]}\n  - {name: a, match: [{}]}\n") ==
          "t.yaml:6:12: name: duplicate target name \"a\"\n");
    CHECK(errors("sensors:\n  - {name: s, nflog: {group: 1}}\n  - {name: s, nflog: {group: 2}}\n"
                 "targets: [{name: a, match: [{}]}]\n") ==
          "t.yaml:3:5: sensors: duplicate sensor name \"s\" (first at line 2)\n");
    CHECK(errors("sensors:\n  - {nflog: {group: 1}}\n  - {name: x, nflog: {group: 1}}\n"
                 "targets: [{name: a, match: [{}]}]\n") ==
          "t.yaml:3:5: sensors: nflog group 1 is already used by sensor \"nflog:1\"\n");
    CHECK(errors(kHead + "  - {name: a, sensors: [lan], match: [{sensor: dmz}]}\n") ==
          "t.yaml:5:25: sensors: unknown sensor \"lan\" (defined: wan)\n"
          "t.yaml:5:48: sensor: unknown sensor \"dmz\" (defined: wan)\n");
    CHECK(errors(kHead + "  - {name: a}\n") ==
          "t.yaml:5:5: target \"a\": missing key \"match\" (needed unless a knock or sleep_proxy starts the target)\n");
    CHECK(errors(kHead + "  - {name: a, match: [{}]}\nknock:\n  - {name: k, target: b, sequence: [tcp/1]}\n"
                         "  - {name: k, target: a, sequence: [tcp/1]}\n") ==
          "t.yaml:7:23: target: unknown target \"b\"\n"
          "t.yaml:8:5: knock: duplicate knock name \"k\"\n");
    // A knock makes match optional.
    good(kHead + "  - {name: a}\nknock: [{name: k, target: a, sequence: [tcp/1, \"udp/2\"]}]\n");
    CHECK(errors("sensors:\n  - {nflog: {group: 1}, pcap: {interface: eth0}}\ntargets: [{name: a, match: [{}]}]\n") ==
          "t.yaml:2:5: sensor: needs exactly one of \"nflog\" or \"pcap\"\n");
    CHECK(errors("sensors:\n  - pcap: {interface: eth0, filter: \"tcp port\"}\ntargets: [{name: a, match: [{}]}]\n")
              .find("t.yaml:2:37: pcap.filter: bad filter \"tcp port\": ") == 0);
}

TEST_CASE("config: addresses, ports, MACs, passwords") {
    CHECK(errors(kHead + "  - {name: a, match: [{dst: 300.1.1.1}]}\n") ==
          "t.yaml:5:29: dst: expected an address or CIDR (\"192.0.2.1\", \"10.0.0.0/8\", \"2001:db8::/32\", \"!\" to "
          "negate), got \"300.1.1.1\"\n");
    CHECK(errors(kHead + "  - {name: a, match: [{dst_port: \"2000-1000\"}]}\n") ==
          "t.yaml:5:34: dst_port: range start is above its end, got \"2000-1000\"\n");
    CHECK(errors(kHead + "  - {name: a, match: [{proto: icmp, dst_port: 22}]}\n") ==
          "t.yaml:5:47: dst_port: ports need proto tcp, udp or any, got proto icmp\n");
    CHECK(errors(kHead + "  - {name: a, match: [{src_mac: zz}]}\n") ==
          "t.yaml:5:33: src_mac: expected a MAC address (aa:bb:cc:dd:ee:ff, 0:b:c:d:e:f, aabbccddeeff), got \"zz\"\n");
    const std::string wol = kHead + "  - name: a\n    match: [{}]\n    wol: ";
    CHECK(errors(wol + "{mac: \"01:00:5e:00:00:01\", interface: eth0}\n") ==
          "t.yaml:7:16: wol.mac: \"01:00:5e:00:00:01\" is a multicast/broadcast MAC (a machine's own MAC is unicast)\n");
    CHECK(errors(wol + "{mac: \"02:00:00:00:00:01\"}\n") ==
          "t.yaml:7:10: wol: missing key \"interface\" (needed for method ethernet)\n");
    CHECK(errors(wol + "{mac: \"02:00:00:00:00:01\", interface: eth0}\n").empty());
    // SPEC §7: wol.mac and wol.password take the forms `netwakectl wake` takes
    CHECK(errors(wol + "{mac: \"2:0:0:aa:b:1\", interface: eth0}\n").empty());
    CHECK(errors(wol + "{mac: \"020000aa0b01\", interface: eth0, password: \"0a:0b:0c:0d\"}\n").empty());
    CHECK(errors(wol + "{mac: \"02:00:00:00:00:01\", method: udp, udp_to: \"[ff02::1%eth0]:9\"}\n").empty());
    CHECK(errors(wol + "{mac: \"02:00:00:00:00:01\", interface: eth0, password: 1.2.3}\n") ==
          "t.yaml:7:64: wol.password: expected a SecureOn password of 6 bytes (\"00:11:22:33:44:55\") or 4 bytes "
          "(\"192.168.1.1\"), got \"1.2.3\"\n");
    config::Config c = good(wol + "{mac: aabb.ccdd.eeff, interface: eth0, password: \"00:11:22:33:44:55\"}\n");
    CHECK(c.targets[0].wol->password == std::vector<uint8_t>{0, 0x11, 0x22, 0x33, 0x44, 0x55});
    CHECK(c.targets[0].wol->mac == packet::Mac{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff});
    c = good(wol + "{mac: \"02:00:00:00:00:01\", interface: eth0, password: 192.168.1.1, udp_to: 10.0.0.255}\n");
    CHECK(c.targets[0].wol->password == std::vector<uint8_t>{192, 168, 1, 1});
    CHECK(c.targets[0].wol->udp_to == "10.0.0.255:9");
    CHECK(errors(kHead + "  - name: a\n    match: [{}]\n    wol: {mac: \"02:00:00:00:00:01\", interface: eth0}\n"
                         "    sleep_proxy: {ports: [22]}\n") ==
          "t.yaml:8:18: sleep_proxy: missing key \"addresses\" (at least one address is needed)\n");
    CHECK(errors(kHead + "  - name: a\n    sleep_proxy: {interface: eth0, addresses: [224.0.0.1]}\n") ==
          "t.yaml:6:18: sleep_proxy: needs a \"wol\" block in the same target (the machine's MAC)\n"
          "t.yaml:6:48: sleep_proxy.addresses: \"224.0.0.1\" is a multicast address\n");
}

TEST_CASE("config: sleep_proxy addresses are not the host's own and are on-link (issue 12 item 3)") {
    // The host: lan0 192.0.2.1/24 + 2001:db8::1/64 + fe80::1/64, wan0 198.51.100.7/24, new0 only fe80::.
    auto A = [](const char* s) {
        packet::Addr a;
        REQUIRE(packet::parse_addr(s, &a, nullptr));
        return a;
    };
    config::LoadOptions o = no_files();
    int reads = 0;
    o.host_addrs = [&] {
        ++reads;
        return std::map<std::string, std::vector<packet::IfAddr>>{
            {"lan0", {{A("192.0.2.1"), 120}, {A("2001:db8::1"), 64}, {A("fe80::1"), 64}}},
            {"wan0", {{A("198.51.100.7"), 120}}},
            {"new0", {{A("fe80::2"), 64}}}};
    };
    auto t = [](const std::string& iface, const std::string& addrs) {
        return kHead + "  - name: a\n    wol: {mac: \"02:00:00:00:00:01\", interface: " + iface +
               "}\n    sleep_proxy: {addresses: " + addrs + "}\n";  // addresses on line 7, column 31
    };
    CHECK(errors(t("lan0", "[192.0.2.20, \"2001:db8::20\", \"fe80::20\"]"), o).empty());
    CHECK(reads == 1);
    CHECK(errors(t("lan0", "[192.0.2.1]"), o) == "t.yaml:7:31: sleep_proxy.addresses: \"192.0.2.1\" belongs to this host\n");
    CHECK(errors(t("lan0", "[198.51.100.7]"), o) ==
          "t.yaml:7:31: sleep_proxy.addresses: \"198.51.100.7\" belongs to this host\n");
    CHECK(errors(t("lan0", "[\"2001:db8::1\"]"), o) ==
          "t.yaml:7:31: sleep_proxy.addresses: \"2001:db8::1\" belongs to this host\n");
    CHECK(errors(t("lan0", "[{address: 192.0.2.1}]"), o) ==
          "t.yaml:7:41: sleep_proxy.addresses.address: \"192.0.2.1\" belongs to this host\n");
    CHECK(errors(t("lan0", "[10.0.0.5, \"2001:db9::5\"]"), o) ==
          "t.yaml:7:31: sleep_proxy.addresses: \"10.0.0.5\" is not on-link on lan0\n"
          "t.yaml:7:41: sleep_proxy.addresses: \"2001:db9::5\" is not on-link on lan0\n");
    CHECK(errors(t("lan0", "[192.0.2.0, 192.0.2.255]"), o) ==
          "t.yaml:7:31: sleep_proxy.addresses: \"192.0.2.0\" is the network address of its /24 network on lan0\n"
          "t.yaml:7:42: sleep_proxy.addresses: \"192.0.2.255\" is the broadcast address of its /24 network on lan0\n");
    // sleep_proxy.interface wins over wol.interface
    CHECK(errors(kHead + "  - name: a\n    wol: {mac: \"02:00:00:00:00:01\", interface: lan0}\n"
                         "    sleep_proxy: {interface: wan0, addresses: [192.0.2.20]}\n", o) ==
          "t.yaml:7:48: sleep_proxy.addresses: \"192.0.2.20\" is not on-link on wan0\n");
    // Not judged where the host knows no prefix of that family yet (missing interface, DHCP/SLAAC
    // pending): only the own-address rule applies there.
    CHECK(errors(t("gone0", "[10.0.0.5, \"2001:db9::5\"]"), o).empty());
    CHECK(errors(t("wan0", "[\"2001:db9::5\"]"), o).empty());
    CHECK(errors(t("new0", "[\"2001:db9::5\", \"fe80::9\"]"), o).empty());
    CHECK(errors(t("gone0", "[192.0.2.1]"), o) == "t.yaml:7:31: sleep_proxy.addresses: \"192.0.2.1\" belongs to this host\n");
    // Without host_addrs (tests, fuzzer) nothing is looked up.
    CHECK(errors(t("lan0", "[192.0.2.1]")).empty());
}

TEST_CASE("config: several errors at once, sorted by position") {
    const std::string y = "daemon:\n  pidfile: run/x.pid\n  colour: blue\n" + kHead +
                          "  - name: a\n    match: [{dst_port: x}]\n    ttl: 0\n";
    CHECK(errors(y) ==
          "t.yaml:2:12: daemon.pidfile: \"run/x.pid\" is not an absolute path\n"
          "t.yaml:3:3: unknown key \"colour\" in daemon (expected one of: user, pidfile, state_dir, control_socket, "
          "log_level)\n"
          "t.yaml:9:24: dst_port: expected a port 0-65535, a range \"a-b\" or a list, got \"x\"\n"
          "t.yaml:10:10: ttl: value \"0\" out of range (min 1s, max 30d)\n");
}

TEST_CASE("config: defaults are inherited, targets override them") {
    config::Config c = good(R"(sensors:
  - {name: wan, nflog: {group: 1}}
  - {name: lan, pcap: {interface: eth0}}
defaults:
  sensors: [wan]
  ttl: 20m
  hook: /bin/true
  hook_timeout: 5s
  trigger: {packets: 3}
  keepalive: [{tcp_flags: ack}]
  wol: {interface: eth1, method: [ethernet, udp], repeat: 5}
  sleep_proxy: {probe_interval: 2s, keep: false}
targets:
  - name: a
    match: [{}]
  - name: b
    match: [{}]
    sensors: [lan]
    ttl: 1h
    hook: ""
    trigger: {within: 1s}
    wol: {mac: "02:00:00:00:00:02", repeat: 1}
    sleep_proxy: {addresses: [192.168.1.9]}
register:
  listen: 192.168.1.2
  interface: eth0
  allow: [192.168.1.0/24]
)");
    const auto& a = c.targets[0];
    const auto& b = c.targets[1];
    CHECK(a.sensors == std::vector<std::string>{"wan"});
    CHECK(a.ttl == std::chrono::minutes(20));
    CHECK(a.hook == "/bin/true");
    CHECK(a.hook_timeout == std::chrono::seconds(5));
    CHECK(a.trigger.packets == 3);
    CHECK(a.trigger.within == std::chrono::seconds(10));
    REQUIRE(a.keepalive);
    CHECK(a.keepalive->size() == 1);
    CHECK(!a.wol);  // defaults.wol only fills in targets that have a wol block
    CHECK(b.sensors == std::vector<std::string>{"lan"});
    CHECK(b.ttl == std::chrono::hours(1));
    CHECK(b.hook.empty());
    CHECK(b.trigger.packets == 3);  // blocks merge key by key, like wol and sleep_proxy
    CHECK(b.trigger.within == std::chrono::seconds(1));
    REQUIRE(b.wol);
    CHECK(b.wol->interface == "eth1");
    CHECK(b.wol->methods == 3);
    CHECK(b.wol->repeat == 1);
    REQUIRE(b.sleep_proxy);
    CHECK(b.sleep_proxy->interface == "eth1");  // from wol.interface
    CHECK(b.sleep_proxy->probe_interval == std::chrono::seconds(2));
    CHECK(!b.sleep_proxy->keep);
    REQUIRE(c.reg);
    CHECK(c.reg->listen == "192.168.1.2:13717");
    CHECK(c.reg->hook == "/bin/true");
    CHECK(c.reg->sleep_proxy.probe_interval == std::chrono::seconds(2));
    REQUIRE(c.reg->wol);
    CHECK(c.reg->wol->interface == "eth1");
    CHECK(c.reg->wol->repeat == 5);
    CHECK(errors(kHead + "  - {name: a, match: [{}]}\ndefaults: {wol: {mac: \"02:00:00:00:00:01\"}}\n") ==
          "t.yaml:6:23: wol.mac: not allowed in defaults (set it per target)\n");
}

TEST_CASE("config: hooks must exist, be regular files and executable") {
    TempDir dir;
    std::string exe = dir.file("hook", "#!/bin/sh\n", 0755);
    std::string noexec = dir.file("noexec", "#!/bin/sh\n", 0644);
    config::LoadOptions files;
    auto with_hook = [&](const std::string& h) { return kHead + "  - {name: a, match: [{}], hook: \"" + h + "\"}\n"; };
    CHECK(errors(with_hook(exe), files).empty());
    CHECK(errors(with_hook(dir.path + "/missing"), files) ==
          "t.yaml:5:34: hook: \"" + dir.path + "/missing\": No such file or directory\n");
    CHECK(errors(with_hook(noexec), files) == "t.yaml:5:34: hook: \"" + noexec + "\" is not executable\n");
    CHECK(errors(with_hook(dir.path), files) == "t.yaml:5:34: hook: \"" + dir.path + "\" is not a regular file\n");
    CHECK(errors(with_hook("hooks/x"), files) == "t.yaml:5:34: hook: \"hooks/x\" is not an absolute path\n");
    CHECK(errors(with_hook(dir.path + "/missing")).empty());  // check_files off
}

TEST_CASE("config: SPA key files") {
    TempDir dir;
    std::string key32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n";  // 32 bytes
    std::string good_key = dir.file("good.key", key32, 0600);
    std::string open_key = dir.file("open.key", key32, 0644);
    std::string short_key = dir.file("short.key", "MDEyMzQ1Njc4OWFiY2RlZg==\n", 0600);
    std::string junk_key = dir.file("junk.key", "not base64 at all!\n", 0600);
    config::LoadOptions files;
    auto with_key = [&](const std::string& k) {
        return kHead + "  - {name: a}\nknock:\n  - {name: k, target: a, spa: {key_file: \"" + k + "\"}}\n";
    };
    CHECK(errors(with_key(good_key), files).empty());
    CHECK(errors(with_key(open_key), files) ==
          "t.yaml:7:42: spa.key_file: \"" + open_key +
              "\" is readable by group or others (mode 0644); make it readable only by its owner (chmod 600)\n");
    CHECK(errors(with_key(short_key), files) ==
          "t.yaml:7:42: spa.key_file: \"" + short_key + "\" holds a 16-byte key (min 32 bytes once decoded)\n");
    CHECK(errors(with_key(junk_key), files) ==
          "t.yaml:7:42: spa.key_file: \"" + junk_key + "\" does not hold a base64 key on one line\n");
    CHECK(errors(with_key(dir.path + "/none.key"), files) ==
          "t.yaml:7:42: spa.key_file: \"" + dir.path + "/none.key\": No such file or directory\n");
    CHECK(errors(kHead + "  - {name: a}\nknock:\n  - {name: k, target: a, spa: {port: 0}, sequence: [tcp/1]}\n") ==
          "t.yaml:7:5: knock: needs exactly one of \"sequence\" or \"spa\"\n"
          "t.yaml:7:31: spa: missing key \"key_file\"\n"
          "t.yaml:7:38: spa.port: value \"0\" out of range (min 1, max 65535)\n");
}

TEST_CASE("config: load_file reports unreadable files and sets source") {
    config::Config c;
    std::vector<std::string> errs;
    CHECK(!config::load_file("/nonexistent/netwaked.yaml", &c, &errs));
    REQUIRE(errs.size() == 1);
    CHECK(errs[0] == "/nonexistent/netwaked.yaml: cannot open: No such file or directory");
    TempDir dir;
    std::string p = dir.file("n.yaml", kHead + "  - {name: a, match: [{}]}\n", 0644);
    errs.clear();
    CHECK(config::load_file(p, &c, &errs, no_files()));
    CHECK(c.source == p);
    CHECK(c.sensors[0].name == "wan");
    CHECK(c.targets[0].match.size() == 1);
    // A failed load leaves the output untouched.
    std::string bad = dir.file("bad.yaml", "targets: 1\n", 0644);
    CHECK(!config::load_file(bad, &c, &errs, no_files()));
    CHECK(c.source == p);
}

TEST_CASE("config: load_file (model copied off the parser's heap) equals load_string; pcap buffer 4 MiB") {
    const std::string yaml = R"(sensors:
  - {name: wan, nflog: {group: 1}}
  - {name: lan, pcap: {interface: eth0}}
targets:
  - name: nas
    match: [{proto: tcp, dst_port: [22, 445], in_iface: eth0}]
    keepalive: [{prefix: nas-ka}]
    wol: {mac: "02:00:00:00:00:02", interface: eth0, repeat: 2}
    sleep_proxy: {interface: eth0, addresses: [192.168.1.9]}
  - name: plain
    match: [{}]
)";
    TempDir dir;
    const std::string p = dir.file("c.yaml", yaml, 0644);
    config::Config from_file;
    std::vector<std::string> errs;
    REQUIRE(config::load_file(p, &from_file, &errs, no_files()));
    config::Config from_text = good(yaml);
    from_text.source = p;
    CHECK(from_file == from_text);
    CHECK(from_file.sensors[1].pcap->buffer_size == 4u << 20);
    REQUIRE(from_file.targets[0].wol);
    CHECK(from_file.targets[0].wol->repeat == 2);
    CHECK(!from_file.targets[1].wol);
    CHECK(from_file.targets[1].sleep_proxy == std::nullopt);
    // Boxed sections copy deeply.
    config::TargetConf copy = from_file.targets[0];
    copy.wol->repeat = 7;
    copy.sleep_proxy->addresses.clear();
    CHECK(from_file.targets[0].wol->repeat == 2);
    CHECK(from_file.targets[0].sleep_proxy->addresses.size() == 1);
    CHECK(!(copy == from_file.targets[0]));
}

// tests/unit/config_compact.cc — the compact storage of targets and rules (issue 16, memory per target):
// repeated strings (hook paths, sensor/interface names) stored once per load yet compared by text
// across reloads and copies; a rule's lists (List) and boxed keepalive behave like the vectors they replace.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "config/interned.h"
#include "config/list.h"
#include "config/load.h"
#include "config/print.h"

using namespace nw;

namespace {

config::Config load(const std::string& yaml) {
    config::Config c;
    std::vector<std::string> errs;
    config::LoadOptions o;
    o.check_files = false;
    bool ok = config::load_string(yaml, "t.yaml", &c, &errs, o);
    for (const auto& e : errs) MESSAGE(e);
    REQUIRE(ok);
    return c;
}

const char* kYaml = R"(
sensors:
  - {name: lan, nflog: {group: 1}}
  - {name: wan, nflog: {group: 2}}
defaults: {hook: /usr/local/lib/netwaked/hooks/a-long-hook-path.sh}
targets:
  - {name: a, match: [{sensor: lan, in_iface: eth0.100, proto: udp, dst_port: 9}]}
  - {name: b, match: [{sensor: lan, in_iface: eth0.100, prefix: nw-b}], keepalive: [{sensor: lan}]}
  - {name: c, match: [{sensor: wan, out_iface: eth0.100}], hook: /usr/local/lib/netwaked/hooks/a-long-hook-path.sh}
  - {name: d, match: [{dst: 10.0.0.4}], hook: /usr/local/lib/netwaked/hooks/other-hook-path.sh}
)";

}  // namespace

TEST_CASE("interned: text semantics, shared storage") {
    config::Interned e;
    CHECK(e.empty());
    CHECK(e == "");
    CHECK(e.str().empty());
    config::Interned a("/usr/lib/netwaked/hook.sh"), b(std::string("/usr/lib/netwaked/hook.sh"));
    CHECK_FALSE(a.shares(b));  // built separately: two copies ...
    CHECK(a == b);             // ... equal by text
    CHECK(a == std::string("/usr/lib/netwaked/hook.sh"));
    CHECK(std::string("/usr/lib/netwaked/hook.sh") == a);
    CHECK(a != "/usr/lib/netwaked/other.sh");
    config::Interned c = a;
    CHECK(c.shares(a));
    a = "replaced";
    CHECK(c == "/usr/lib/netwaked/hook.sh");  // a copy keeps its text when the original changes
    CHECK(a == "replaced");
    config::Interned m = std::move(c);
    CHECK(m == "/usr/lib/netwaked/hook.sh");
    CHECK(c.empty());
    std::string s = m;
    CHECK(s == "/usr/lib/netwaked/hook.sh");
    CHECK("x" + m == "x/usr/lib/netwaked/hook.sh");
    config::Interner in;
    config::Interned x = in.get("eth0.100"), y = in.get(std::string("eth0.100")), z = in.get("eth1");
    CHECK(x.shares(y));
    CHECK_FALSE(x.shares(z));
    CHECK(in.get("").empty());
}

TEST_CASE("interned: one load stores each repeated string once") {
    config::Config cfg = load(kYaml);
    REQUIRE(cfg.targets.size() == 4);
    const auto& t = cfg.targets;
    // The defaults' hook and a target naming the same path: one copy.
    CHECK(t[0].hook == "/usr/local/lib/netwaked/hooks/a-long-hook-path.sh");
    CHECK(t[0].hook.shares(t[1].hook));
    CHECK(t[0].hook.shares(t[2].hook));
    CHECK(t[3].hook == "/usr/local/lib/netwaked/hooks/other-hook-path.sh");
    // Sensor and interface names in rules, keepalive rules included.
    CHECK(t[0].match[0].sensor == "lan");
    CHECK(t[0].match[0].sensor.shares(t[1].match[0].sensor));
    CHECK(t[0].match[0].sensor.shares((*t[1].keepalive)[0].sensor));
    CHECK(t[2].match[0].sensor == "wan");
    CHECK(t[0].match[0].in_iface.shares(t[2].match[0].out_iface));
    CHECK(t[1].match[0].prefix == config::Interned("nw-b"));
    CHECK(t[3].match[0].sensor.empty());
}

TEST_CASE("interned: a reload's strings equal the running configuration's") {
    // A reload loads the file again: new storage, same text, so an unchanged target compares
    // equal (what the reload's diff and the sensors' reuse go by).
    config::Config a = load(kYaml), b = load(kYaml);
    CHECK_FALSE(a.targets[0].hook.shares(b.targets[0].hook));
    CHECK(a.targets[0].hook == b.targets[0].hook);
    CHECK(a.targets[1] == b.targets[1]);
    CHECK(a == b);
    b.targets[2].match[0].out_iface = "eth0.200";
    CHECK_FALSE(a.targets[2] == b.targets[2]);
    CHECK(a.targets[0] == b.targets[0]);
    // A copy made on another thread (load_file's arena copy) shares and compares equal.
    config::Config c;
    std::thread th([&] { c = a; });
    th.join();
    CHECK(c == a);
    CHECK(c.targets[0].hook.shares(a.targets[0].hook));
}

TEST_CASE("interned: printing and loading again round-trips the shared fields") {
    config::Config a = load(kYaml);
    std::string text = config::print_normalized(a);
    CHECK(text.find("hook: /usr/local/lib/netwaked/hooks/a-long-hook-path.sh") != std::string::npos);
    CHECK(text.find("in_iface: eth0.100") != std::string::npos);
    CHECK(text.find("sensor: lan") != std::string::npos);
    config::Config b = load(text);
    CHECK(b == a);
    CHECK(b.targets[0].match[0].sensor.shares(b.targets[1].match[0].sensor));
    CHECK(config::print_normalized(b) == text);
}

TEST_CASE("list: a rule's lists copy deeply and compare by content") {
    config::List<config::PortRange> e;
    CHECK(e.empty());
    CHECK(e.size() == 0);
    CHECK(e.begin() == e.end());
    config::List<config::PortRange> a{{22, 22, false}, {1000, 2000, true}};
    REQUIRE(a.size() == 2);
    CHECK(a[1].hi == 2000);
    CHECK(a[1].negate);
    config::List<config::PortRange> b = a;
    CHECK(b == a);
    CHECK(b.data() != a.data());  // deep copy
    b.push_back({80, 80, false});
    CHECK(b.size() == 3);
    CHECK(a.size() == 2);
    CHECK_FALSE(b == a);
    std::vector<config::PortRange> v{{22, 22, false}, {1000, 2000, true}};
    config::List<config::PortRange> c = v;
    CHECK(c == a);
    std::span<const config::PortRange> s = c;
    CHECK(s.size() == 2);
    config::List<config::PortRange> m = std::move(c);
    CHECK(c.empty());
    CHECK(m == a);
    m.clear();
    CHECK(m == e);
}

TEST_CASE("list: every rule list and the boxed keepalive round-trip through load and print") {
    config::Config a = load(R"(
sensors: [{name: lan, nflog: {group: 1}}]
targets:
  - name: t
    match:
      - {src: [10.0.0.0/8, "!10.1.0.0/16"], dst: "fd00::/64", src_port: [1024-65535], dst_port: [22, "!23", 80-90]}
      - {src_mac: ["02:00:00:00:00:01", "!02:00:00:00:00:02"], vlan: 7}
    keepalive: [{proto: tcp, tcp_flags: ack, dst_port: 22}]
  - {name: u, match: [{}]}
)");
    const config::Rule& r = a.targets[0].match[0];
    REQUIRE(r.src.size() == 2);
    CHECK(r.src[1].negate);
    CHECK(r.dst.size() == 1);
    CHECK(r.src_port.front().lo == 1024);
    REQUIRE(r.dst_port.size() == 3);
    CHECK(r.dst_port[2].lo == 80);
    CHECK(r.dst_port[2].hi == 90);
    CHECK(a.targets[0].match[1].src_mac.size() == 2);
    REQUIRE(a.targets[0].keepalive);
    CHECK(a.targets[0].keepalive->at(0).dst_port.size() == 1);
    CHECK_FALSE(a.targets[1].keepalive);
    CHECK(a.targets[1].match[0].dst_port.empty());
    std::string text = config::print_normalized(a);
    INFO(text);
    CHECK(text.find("dst_port: [22, \"!23\", 80-90]") != std::string::npos);
    CHECK(text.find("# keepalive: same as match") != std::string::npos);
    config::Config b = load(text);
    CHECK(b == a);
    config::Config c = b;  // deep: changing the copy leaves the original
    c.targets[0].match[0].dst_port.push_back({443, 443, false});
    CHECK_FALSE(c == b);
    CHECK(b == a);
}

TEST_CASE("interned: a large file's arena copy keeps one shared copy of each string") {
    // load_file copies 256+ targets on a short-lived thread and interns the copy again there
    // (config/load.cc): still shared, still equal to what load_string gives.
    std::string yaml = "sensors: [{name: lan, nflog: {group: 1}}]\n"
                       "defaults: {hook: /usr/local/lib/netwaked/hooks/a-long-hook-path.sh}\ntargets:\n";
    for (int i = 0; i < 300; ++i)
        yaml += "  - {name: t" + std::to_string(i) + ", match: [{sensor: lan, in_iface: eth0.100, prefix: nw-" +
                std::to_string(i % 7) + ", dst_port: " + std::to_string(1000 + i) + "}]}\n";
    char path[] = "/tmp/nw-compact-test.XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(path) << yaml;
    config::Config f;
    std::vector<std::string> errs;
    config::LoadOptions o;
    o.check_files = false;
    const bool ok = config::load_file(path, &f, &errs, o);
    std::remove(path);
    REQUIRE(ok);
    config::Config s = load(yaml);
    s.source = f.source;
    CHECK(f == s);
    REQUIRE(f.targets.size() == 300);
    for (const auto& t : f.targets) {
        CHECK(t.hook.shares(f.targets[0].hook));
        CHECK(t.match[0].sensor.shares(f.targets[0].match[0].sensor));
        CHECK(t.match[0].in_iface.shares(f.targets[0].match[0].in_iface));
    }
    CHECK(f.targets[7].match[0].prefix->shares(*f.targets[0].match[0].prefix));
    CHECK(*f.targets[8].match[0].prefix == "nw-1");
}

TEST_CASE("interned: own_copy shares no string with its source, only within itself") {
    // What load_file's arena copy relies on: the parse's blocks, among the YAML tree's garbage,
    // are freed with the parse (with shared ones, 10,000 prefixes pinned ~18 MB of freed heap).
    config::Config a = load(kYaml);
    config::Config b = config::own_copy(a);
    CHECK(b == a);
    for (size_t i = 0; i < a.targets.size(); ++i) {
        CHECK_FALSE(b.targets[i].hook.shares(a.targets[i].hook));
        if (!a.targets[i].match[0].sensor.empty())
            CHECK_FALSE(b.targets[i].match[0].sensor.shares(a.targets[i].match[0].sensor));
    }
    CHECK_FALSE(b.targets[1].match[0].prefix->shares(*a.targets[1].match[0].prefix));
    CHECK_FALSE((*b.targets[1].keepalive)[0].sensor.shares((*a.targets[1].keepalive)[0].sensor));
    CHECK(b.targets[0].hook.shares(b.targets[2].hook));
    CHECK(b.targets[0].match[0].sensor.shares((*b.targets[1].keepalive)[0].sensor));
    CHECK(b.targets[0].match[0].in_iface.shares(b.targets[2].match[0].out_iface));
}

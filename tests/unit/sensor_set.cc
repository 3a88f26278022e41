// tests/unit/sensor_set.cc — the sensor side of a reload (daemon/sensor_set.h): the plan (kept,
// opened, reopened, closed; numbers) and, as root, applying it to real pcap handles on lo and NFLOG
// groups in a fresh network namespace of this thread (no traffic).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "config/load.h"
#include "core/match.h"
#include "daemon/sensor_set.h"
#include "sys/fd.h"

using namespace nw;
using daemon::SensorStep;

namespace {

config::SensorConf nflog(const std::string& name, uint16_t group, uint32_t copy_range = 128) {
    config::SensorConf s;
    s.name = name;
    s.nflog = config::NflogConf{group, copy_range};
    return s;
}

config::SensorConf pcap(const std::string& name, const std::string& iface, const std::string& filter = "") {
    config::SensorConf s;
    s.name = name;
    config::PcapConf p;
    p.interface = iface;
    p.filter = filter;
    s.pcap = p;
    return s;
}

// The copy_range the kernel has for NFLOG `group` in this thread's namespace; -1 if it is not bound.
long nflog_copy_range(uint16_t group) {
    std::ifstream f("/proc/thread-self/net/netfilter/nfnetlink_log");
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream in(line);
        long g, port, qlen, mode, range;
        if (in >> g >> port >> qlen >> mode >> range && g == group) return range;
    }
    return -1;
}

}  // namespace

TEST_CASE("sensor plan: identical sets keep everything, a reorder keeps handles and numbers") {
    std::vector<config::SensorConf> old{nflog("fw", 1), pcap("lan", "eth0")};
    auto p = daemon::plan_sensors(old, old);
    CHECK(!p.changes());
    CHECK(p.close.empty());
    std::vector<config::SensorConf> swapped{old[1], old[0]};
    p = daemon::plan_sensors(old, swapped);
    CHECK(!p.changes());
    REQUIRE(p.items.size() == 2);
    CHECK(p.items[0].step == SensorStep::Keep);
    CHECK(p.items[0].old == 1);
    CHECK(p.items[0].id == 1);  // "lan" keeps number 1 at position 0
    CHECK(p.items[1].id == 0);
}

TEST_CASE("sensor plan: added, removed, changed pcap; new numbers skip every running one") {
    std::vector<config::SensorConf> old{nflog("fw", 1), pcap("lan", "eth0"), pcap("wan", "eth1")};
    std::vector<config::SensorConf> next{pcap("lan", "eth0", "udp"), nflog("fw", 1), pcap("dmz", "eth2")};
    auto p = daemon::plan_sensors(old, next);
    CHECK(p.changes());
    REQUIRE(p.items.size() == 3);
    CHECK(p.items[0].step == SensorStep::Open);  // changed filter: a new handle beside the old one
    CHECK(p.items[0].old == -1);
    CHECK(p.items[1].step == SensorStep::Keep);
    CHECK(p.items[1].id == 0);
    CHECK(p.items[2].step == SensorStep::Open);
    CHECK(p.items[0].id == 3);  // 0..2 are still running until the commit
    CHECK(p.items[2].id == 4);
    CHECK(p.close == std::vector<size_t>{1, 2});
}

TEST_CASE("sensor plan: an NFLOG group with a new name or copy_range is reopened") {
    std::vector<config::SensorConf> old{nflog("fw", 5), nflog("edge", 6)};
    std::vector<config::SensorConf> next{nflog("firewall", 5), nflog("edge", 6, 256), nflog("new", 7)};
    auto p = daemon::plan_sensors(old, next);
    REQUIRE(p.items.size() == 3);
    CHECK(p.items[0].step == SensorStep::Reopen);
    CHECK(p.items[0].old == 0);
    CHECK(p.items[1].step == SensorStep::Reopen);
    CHECK(p.items[1].old == 1);
    CHECK(p.items[2].step == SensorStep::Open);
    CHECK(p.close == std::vector<size_t>{0, 1});
    CHECK(p.items[0].id == 2);
    CHECK(p.items[1].id == 3);
    CHECK(p.items[2].id == 4);
}

TEST_CASE("sensor plan: numbers of a renumbered set are kept and reused only when free") {
    std::vector<config::SensorConf> old{nflog("fw", 1), pcap("lan", "eth0")};
    old[0].id = 3;
    old[1].id = 0;
    std::vector<config::SensorConf> next{pcap("x", "eth9"), nflog("fw", 1), pcap("lan", "eth0")};
    auto p = daemon::plan_sensors(old, next);
    CHECK(p.items[1].id == 3);
    CHECK(p.items[2].id == 0);
    CHECK(p.items[0].id == 1);  // smallest number neither kept sensor has
    CHECK(p.close.empty());
    // Everything removed: every running sensor closes.
    p = daemon::plan_sensors(old, {});
    CHECK(p.close == std::vector<size_t>{0, 1});
    CHECK(p.changes());
}

TEST_CASE("sensor numbers: rules compare SensorConf::id once a reload has set it") {
    config::Config cfg;
    std::vector<std::string> errs;
    config::LoadOptions o;
    o.check_files = false;
    REQUIRE(config::load_string(R"(
sensors:
  - {name: wan, nflog: {group: 1}}
  - {name: lan, pcap: {interface: eth0}}
targets:
  - {name: wanonly, sensors: [wan], match: [{}]}
  - {name: lanrule, match: [{sensor: lan}]}
)", "test.yaml", &cfg, &errs, o));
    cfg.sensors[0].id = 5;  // as plan_sensors numbers a reordered set
    cfg.sensors[1].id = 2;
    std::vector<std::shared_ptr<core::TargetShared>> slots;
    for (const auto& t : cfg.targets) slots.push_back(std::make_shared<core::TargetShared>(t.name));
    std::string err;
    auto rs = core::Ruleset::build(cfg, slots, &err);
    REQUIRE_MESSAGE(rs, err);
    std::vector<core::Verdict> out;
    auto hits = [&](uint16_t sensor) {
        packet::Decoded d;
        core::PacketMeta m;
        m.sensor = sensor;
        rs->classify(d, m, &out);
        std::string names;
        for (const auto& v : out) names += (names.empty() ? "" : " ") + cfg.targets[v.index].name;
        return names;
    };
    CHECK(hits(5) == "wanonly");
    CHECK(hits(2) == "lanrule");
    CHECK(hits(0) == "");  // positions no longer count
    CHECK(hits(1) == "");
}

TEST_CASE("sensor reload (root): a bad new sensor leaves the running set; a good plan commits") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root (pcap on lo)");
        return;
    }
    sensor::Shared shared;
    std::vector<config::SensorConf> old{pcap("a", "lo"), pcap("b", "lo", "udp")};
    std::vector<std::unique_ptr<sensor::Sensor>> running;
    std::string err;
    for (size_t i = 0; i < old.size(); ++i) {
        running.push_back(sensor::make_pcap_sensor(old[i], uint16_t(i), &shared));
        REQUIRE(running.back()->open(&err));
        running.back()->start();
    }
    sensor::Sensor* a = running[0].get();
    sensor::Sensor* b = running[1].get();
    int drained = 0;
    auto drain = [&](sensor::Sensor&) { ++drained; };

    std::vector<config::SensorConf> bad{pcap("a", "lo"), pcap("c", "lo", "tcp"), pcap("d", "nw-no-such0")};
    {
        daemon::SensorReload r(&running, old, &shared, drain);
        CHECK(!r.prepare(daemon::plan_sensors(old, bad), bad, &err));
        CHECK(err.find("sensor d") != std::string::npos);
    }
    REQUIRE(running.size() == 2);
    CHECK(running[0].get() == a);
    CHECK(running[1].get() == b);
    CHECK(a->stats().up.load());
    CHECK(b->stats().up.load());
    CHECK(drained == 0);

    std::vector<config::SensorConf> good{pcap("c", "lo", "tcp"), pcap("a", "lo")};
    auto plan = daemon::plan_sensors(old, good);
    daemon::SensorReload r(&running, old, &shared, drain);
    REQUIRE(r.prepare(plan, good, &err));
    r.commit();
    REQUIRE(running.size() == 2);
    CHECK(running[1].get() == a);  // kept: the same handle and thread
    CHECK(running[0]->name() == "c");
    CHECK(running[0]->index() == 2);
    CHECK(running[0]->stats().up.load());
    CHECK(drained == 1);  // b stopped, its queue handed over, closed
    for (auto& s : running) s->stop();
}

TEST_CASE("sensor reload (root): a reopened NFLOG group is put back by abort(), replaced by commit()") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root (NFLOG)");
        return;
    }
    struct Home {  // back to this thread's namespace however the test ends
        sys::unique_fd fd{::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)};
        ~Home() { ::setns(fd.get(), CLONE_NEWNET); }
    } home;
    REQUIRE(home.fd);
    REQUIRE(::unshare(CLONE_NEWNET) == 0);  // this thread only; sockets opened here live there
    sensor::Shared shared;
    std::vector<config::SensorConf> old{nflog("fw", 4300, 128)};
    std::vector<std::unique_ptr<sensor::Sensor>> running;
    std::string err;
    running.push_back(sensor::make_nflog_sensor(old[0], 0, &shared));
    REQUIRE(running[0]->open(&err));
    running[0]->start();
    CHECK(nflog_copy_range(4300) == 128);
    int drained = 0;
    auto drain = [&](sensor::Sensor&) { ++drained; };

    std::vector<config::SensorConf> next{nflog("fw", 4300, 256)};
    auto plan = daemon::plan_sensors(old, next);
    REQUIRE(plan.items[0].step == SensorStep::Reopen);
    {
        daemon::SensorReload r(&running, old, &shared, drain);
        REQUIRE(r.prepare(plan, next, &err));
        CHECK(nflog_copy_range(4300) == 256);  // the new handle holds the group
        CHECK(drained == 1);                   // the old one stopped and handed its queue over
        r.abort();                              // e.g. the new rules could not be installed
    }
    REQUIRE(running.size() == 1);
    CHECK(running[0]->name() == "fw");
    CHECK(running[0]->index() == 0);
    CHECK(running[0]->stats().up.load());
    CHECK(nflog_copy_range(4300) == 128);  // bound again with the old settings

    daemon::SensorReload r(&running, old, &shared, drain);
    REQUIRE(r.prepare(plan, next, &err));
    r.commit();
    REQUIRE(running.size() == 1);
    CHECK(running[0]->index() == plan.items[0].id);
    CHECK(running[0]->stats().up.load());
    CHECK(nflog_copy_range(4300) == 256);
    running.clear();  // stops and closes
    CHECK(nflog_copy_range(4300) == -1);
}

// tests/unit/sensor_hot.cc — the sensors' hot path (Sensor::deliver_hot and its memo of the
// last classification) against deliver(), with hand-built packets: no sockets, no threads.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/load.h"
#include "core/match.h"
#include "sensor/sensor.h"

using namespace nw;

namespace {

config::Config load(const std::string& targets) {
    config::Config c;
    std::vector<std::string> errs;
    config::LoadOptions o;
    o.check_files = false;
    const std::string yaml = "sensors:\n  - name: wan\n    nflog: {group: 1}\ntargets:\n" + targets;
    const bool ok = config::load_string(yaml, "test.yaml", &c, &errs, o);
    for (const auto& e : errs) MESSAGE(e);
    REQUIRE(ok);
    return c;
}

// A sensor without a capture: the test plays its thread (begin_batch, deliver_hot/deliver).
struct TestSensor final : sensor::Sensor {
    explicit TestSensor(sensor::Shared* s) : Sensor("wan", "test", 0, s) {}
    bool open(std::string*) override { return true; }
    void start() override {}
    void stop() override {}
    // One packet as the NFLOG sensor handles it: the hot path, else the whole one.
    bool packet(const packet::Decoded& d, std::string_view prefix, int64_t now) {
        begin_batch();
        core::PacketMeta m;
        m.has_prefix = !prefix.empty();
        m.prefix = prefix;
        const bool hot = deliver_hot(d, m, now);
        if (!hot) deliver(d, packet::Error::Ok, m, Raw{}, now);
        end_batch();
        return hot;
    }
};

// Rulesets built from YAML, published the way the core does (pointer, then epoch).
struct Lab {
    std::vector<std::unique_ptr<core::Ruleset>> kept;
    std::vector<std::shared_ptr<core::TargetShared>> slots;
    sensor::Shared shared;
    TestSensor s{&shared};
    void publish(const std::string& targets) {
        const config::Config cfg = load(targets);
        slots.clear();
        for (const auto& t : cfg.targets) slots.push_back(std::make_shared<core::TargetShared>(t.name));
        std::string err;
        kept.push_back(core::Ruleset::build(cfg, slots, &err));
        REQUIRE_MESSAGE(kept.back(), err);
        shared.rules.store(kept.back().get());
        shared.rules_epoch.fetch_add(1);
    }
    void activate() {
        for (auto& t : slots) t->active.store(true);
    }
};

packet::Decoded udp(uint16_t dport, const char* dst = "10.0.0.1") {
    packet::Decoded d;
    d.l3 = 4;
    d.proto = packet::kProtoUdp;
    d.has_l4 = true;
    d.src_port = 40000;
    d.dst_port = dport;
    unsigned a, b, c, e;
    REQUIRE(sscanf(dst, "%u.%u.%u.%u", &a, &b, &c, &e) == 4);
    d.dst = packet::Addr::v4(a << 24 | b << 16 | c << 8 | e);
    d.src = packet::Addr::v4(0x0a000063);
    return d;
}

}  // namespace

TEST_CASE("sensor hot path: active port targets, alternating keys, each packet counted once") {
    Lab lab;
    lab.publish("  - {name: a, match: [{proto: udp, dst_port: 1000}]}\n"
                "  - {name: b, match: [{proto: udp, dst_port: 2000}]}\n");
    lab.activate();
    int64_t t = 100;
    for (int i = 0; i < 6; ++i) {
        const uint16_t port = i % 3 == 2 ? 3000 : i % 2 ? 2000 : 1000;  // 1000 2000 3000 2000 1000 3000
        CHECK(lab.s.packet(udp(port), {}, ++t));
        if (port == 1000) CHECK(lab.slots[0]->last_seen_ns.load() == t);
        if (port == 2000) CHECK(lab.slots[1]->last_seen_ns.load() == t);
        if (port == 3000) CHECK((lab.slots[0]->last_seen_ns.load() < t && lab.slots[1]->last_seen_ns.load() < t));
    }
    // The same key twice in a row (the memo answers the second): still counted, still stored.
    CHECK(lab.s.packet(udp(2000), {}, 500));
    CHECK(lab.s.packet(udp(2000), {}, 501));
    CHECK(lab.slots[1]->last_seen_ns.load() == 501);
    CHECK(lab.s.stats().packets.load() == 8);
    CHECK(lab.s.stats().matched.load() == 6);
    CHECK(lab.s.queue().empty());
}

TEST_CASE("sensor hot path: an idle target's packet goes the whole way, once") {
    Lab lab;
    lab.publish("  - {name: a, match: [{proto: udp, dst_port: 1000}]}\n");
    lab.activate();
    CHECK(lab.s.packet(udp(1000), {}, 10));  // memoized: a is active
    lab.slots[0]->active.store(false);      // the core stopped it: the memo must not hide that
    CHECK(!lab.s.packet(udp(1000), {}, 11));
    core::Hit h;
    REQUIRE(lab.s.queue().pop(&h));
    CHECK(h.target == lab.slots[0].get());
    CHECK(h.match);
    CHECK(lab.s.stats().packets.load() == 2);
    CHECK(lab.s.stats().matched.load() == 2);
}

TEST_CASE("sensor hot path: a new ruleset with the same key is classified again") {
    Lab lab;
    lab.publish("  - {name: a, match: [{proto: udp, dst_port: 1000}]}\n");
    lab.activate();
    CHECK(lab.s.packet(udp(1000), {}, 10));
    CHECK(lab.slots[0]->last_seen_ns.load() == 10);
    auto old = lab.slots[0];
    lab.publish("  - {name: a, match: [{proto: udp, dst_port: 2000}]}\n");
    lab.activate();
    CHECK(lab.s.packet(udp(1000), {}, 20));  // no target has port 1000 now
    CHECK(old->last_seen_ns.load() == 10);
    CHECK(lab.slots[0]->last_seen_ns.load() == 0);
    CHECK(lab.s.stats().matched.load() == 1);
}

TEST_CASE("sensor hot path: prefixes and addresses are part of the memo's key") {
    Lab lab;
    lab.publish("  - {name: p, match: [{prefix: ab}]}\n"
                "  - {name: q, match: [{prefix: abc}]}\n"
                "  - {name: d, match: [{dst: 10.0.0.1, dst_port: 7}]}\n");
    lab.activate();
    packet::Decoded none;  // prefix-only rules read nothing of the packet
    CHECK(lab.s.packet(none, "ab", 1));
    CHECK(lab.s.packet(none, "abc", 2));
    CHECK(lab.s.packet(none, "abd", 3));
    CHECK(lab.slots[0]->last_seen_ns.load() == 1);
    CHECK(lab.slots[1]->last_seen_ns.load() == 2);
    CHECK(lab.s.packet(udp(7, "10.0.0.1"), {}, 4));
    CHECK(lab.s.packet(udp(7, "10.0.0.2"), {}, 5));  // same port, another address: no match
    CHECK(lab.slots[2]->last_seen_ns.load() == 4);
    CHECK(lab.s.stats().packets.load() == 5);
    CHECK(lab.s.stats().matched.load() == 3);
}

TEST_CASE("sensor hot path: what the rules read") {
    Lab lab;
    lab.publish("  - {name: p, match: [{prefix: ab}]}\n");
    const core::Ruleset& r = *lab.kept.back();
    CHECK(r.uses_prefix());
    CHECK(!r.uses_packet());
    CHECK(!r.uses_link());
    CHECK(r.keyed());
    lab.publish("  - {name: p, match: [{proto: tcp, tcp_flags: syn}]}\n");
    CHECK(lab.kept.back()->uses_packet());
    CHECK(!lab.kept.back()->keyed());  // flags are not in the memo's key
    lab.publish("  - {name: p, match: [{src_mac: \"02:00:00:00:00:01\"}]}\n");
    CHECK(lab.kept.back()->uses_link());
}

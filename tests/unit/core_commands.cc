// tests/unit/core_commands.cc — completed knocks and accepted Wake-on-WAN relay packets leave the
// core as Commands (CoreDeps::command), and through daemon::CommandHandler they act like any other
// command: one log line, NETWAKED_ORIGIN relay (none for knocks: their reason says knock).
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/core.h"
#include "core/event_sinks.h"
#include "daemon/commands.h"
#include "packet/wol.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

const packet::Mac kNas{2, 0, 0, 0, 0, 0x20};
const packet::Addr kSender = packet::Addr::v4(0xcb007107);  // 203.0.113.7

struct Clock : core::Clock {
    int64_t t = 1'000'000'000;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1700000000; }
};

struct Hooks : core::HookSpawner {
    std::vector<core::HookJob> jobs;
    void submit(core::HookJob j) override { jobs.push_back(std::move(j)); }
    size_t pending() const override { return 0; }
    void kill_all() override {}
    std::string env(size_t i, const std::string& k) const {
        for (auto& [n, v] : jobs.at(i).env)
            if (n == k) return v;
        return "<absent>";
    }
};

struct Wol : core::WolSender {
    int sent = 0;
    bool send(const config::WolConf&, std::string* desc, std::string*) override {
        ++sent;
        *desc = "fake";
        return true;
    }
};

// A Knock-kind Hit: a UDP or TCP packet from kSender (the frame in raw[], for SPA/relay payloads).
core::Hit knock_hit(uint8_t proto, uint16_t port, const std::vector<uint8_t>& payload = {}) {
    std::vector<uint8_t> f(14 + 20 + (proto == packet::kProtoTcp ? 20 : 8));
    f[12] = 0x08;
    f[14] = 0x45;
    const size_t ip_len = f.size() - 14 + payload.size();
    f[16] = uint8_t(ip_len >> 8), f[17] = uint8_t(ip_len), f[22] = 64, f[23] = proto;
    const uint8_t src[4] = {203, 0, 113, 7}, dst[4] = {198, 51, 100, 1};
    std::memcpy(&f[26], src, 4);
    std::memcpy(&f[30], dst, 4);
    f[34] = 0x9c, f[35] = 0x40, f[36] = uint8_t(port >> 8), f[37] = uint8_t(port);
    if (proto == packet::kProtoTcp) f[46] = 0x50, f[47] = packet::kTcpSyn;
    else f[38] = uint8_t((8 + payload.size()) >> 8), f[39] = uint8_t(8 + payload.size());
    f.insert(f.end(), payload.begin(), payload.end());
    core::Hit h;
    h.kind = core::HitKind::Knock;
    REQUIRE(f.size() <= sizeof h.raw);
    std::memcpy(h.raw, f.data(), f.size());
    h.raw_len = uint16_t(f.size());
    REQUIRE(packet::decode(packet::LinkType::Ethernet, f, &h.d) == packet::Error::Ok);
    return h;
}

core::Hit relay_hit() {
    std::vector<uint8_t> b(packet::kMagicMaxLen);
    b.resize(packet::magic_payload(kNas, {}, b));
    return knock_hit(packet::kProtoUdp, 9, b);
}

// Target "nas" (wol, hook), knock "ssh" (tcp 7000, 8000 -> nas), a relay for nas on sensor 0.
struct Rig {
    Clock clock;
    core::TimerQueue timers{clock};
    core::EventBus events;
    Hooks hooks;
    core::HookSink hook_sink{&hooks};
    Wol wol;
    std::unique_ptr<core::Core> core;
    std::vector<core::Command> commands;  // what reached the command path
    std::vector<uint16_t> cause_ports;    // the port of each command's cause packet (0: none)

    explicit Rig(std::function<void(const core::Command&)> handler = {}) {
        auto cfg = std::make_shared<config::Config>();
        cfg->sensors.push_back(config::SensorConf{"nflog:1", config::NflogConf{1, 128}, std::nullopt});
        config::TargetConf t;
        t.name = "nas";
        t.ttl = 10s;
        t.hook = "/bin/true";
        t.wol = config::WolConf{};
        t.wol->mac = kNas;
        t.wol->repeat = 1;
        cfg->targets.push_back(t);
        config::KnockConf k;
        k.name = "ssh";
        k.target = "nas";
        k.sequence = {{config::Proto::Tcp, 7000}, {config::Proto::Tcp, 8000}};
        cfg->knocks.push_back(k);
        config::RelayConf r;
        r.sensors = {0};
        r.allow = {"nas"};
        r.password = config::RelayPassword::None;
        r.rate_count = 5;
        cfg->wol_relay.push_back(r);
        events.add(&hook_sink);
        core::CoreDeps d;
        d.clock = &clock;
        d.timers = &timers;
        d.events = &events;
        d.wol = &wol;
        d.command = [this, handler](const core::Command& c) {
            commands.push_back(c);
            cause_ports.push_back(c.cause ? c.cause->d.dst_port : 0);
            if (handler) handler(c);
        };
        core = std::make_unique<core::Core>(d);
        core->configure(cfg, {std::make_shared<core::TargetShared>("nas")});
        core->set_knocks(std::make_unique<core::KnockEngine>(cfg->knocks, std::vector<std::vector<uint8_t>>{}));
    }
    void knock() {
        for (uint16_t port : {7000, 8000}) {
            core::Hit h = knock_hit(packet::kProtoTcp, port);
            h.t_ns = clock.t;
            core->on_hit(h);
        }
    }
};

}  // namespace

TEST_CASE("commands: a completed knock and an accepted relay packet reach the command path as Commands") {
    Rig r;  // a fake handler: records, does nothing
    r.knock();
    REQUIRE(r.commands.size() == 1);
    CHECK(r.commands[0].action == core::Action::Start);
    CHECK(r.commands[0].target == "nas");
    CHECK(r.commands[0].origin == core::Origin::Knock);
    CHECK(r.commands[0].source == kSender.str());
    CHECK(r.cause_ports[0] == 8000);  // the completing packet travels with it
    // The core only announced the knock; the start is the handler's to do.
    CHECK(r.core->targets()[0]->state == core::TargetState::Idle);
    REQUIRE(r.hooks.jobs.size() == 1);
    CHECK(r.hooks.jobs[0].event == "knock");

    core::Hit h = relay_hit();
    r.core->on_hit(h);
    REQUIRE(r.commands.size() == 2);
    CHECK(r.commands[1].action == core::Action::Wake);
    CHECK(r.commands[1].target == "nas");
    CHECK(r.commands[1].origin == core::Origin::Relay);
    CHECK(r.commands[1].source == kSender.str());
    CHECK(r.cause_ports[1] == 9);
    CHECK(r.wol.sent == 0);  // no burst of the core's own
}

TEST_CASE("commands: knocks and the relay through CommandHandler: one log line, origin and reason as before") {
    std::unique_ptr<daemon::CommandHandler> h;
    Rig r([&h](const core::Command& c) { h->run(c); });
    h = std::make_unique<daemon::CommandHandler>(daemon::CommandHandler::Deps{r.core.get(), {}});
    std::vector<std::string> lines;
    log::set_sink([&lines](log::Level, std::string_view l) { lines.emplace_back(l); });
    r.knock();
    core::Hit relay = relay_hit();
    r.core->on_hit(relay);
    log::set_sink(nullptr);

    CHECK(r.core->targets()[0]->state == core::TargetState::Active);
    REQUIRE(r.hooks.jobs.size() == 4);
    std::vector<std::string> kinds;
    for (auto& j : r.hooks.jobs) kinds.push_back(j.event);
    CHECK(kinds == std::vector<std::string>{"knock", "start", "wake", "wake"});  // start's own burst, then the relay's
    CHECK(r.hooks.env(1, "NETWAKED_REASON") == "knock");
    CHECK(r.hooks.env(1, "NETWAKED_ORIGIN") == "<absent>");  // SPEC §5: knocks are no command origin
    CHECK(r.hooks.env(1, "NETWAKED_DST_PORT") == "8000");   // the knock's packet is the start's trigger
    CHECK(r.hooks.env(3, "NETWAKED_ORIGIN") == "relay");
    CHECK(r.hooks.env(3, "NETWAKED_REASON") == "traffic");
    CHECK(r.hooks.env(3, "NETWAKED_SRC") == kSender.str());
    CHECK(r.wol.sent == 2);
    auto count = [&lines](const std::string& s) {
        size_t n = 0;
        for (auto& l : lines) n += l == s;
        return n;
    };
    CHECK(count("command start nas (knock " + kSender.str() + "): nas started") == 1);
    CHECK(count("command wake nas (relay " + kSender.str() + "): magic packets sent for nas") == 1);
    CHECK(h->done() == 2);
}

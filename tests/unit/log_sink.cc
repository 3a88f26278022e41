// tests/unit/log_sink.cc — core::LogSink, the per-event log line: its text and level for every kind
// of event (the same lines the transition functions wrote themselves before), and the machines
// writing no event line of their own (without the sink on the bus, those lines are gone).
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/core.h"
#include "core/event_sinks.h"
#include "proxy_fixture.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

using Lines = std::vector<std::string>;

// "<level> <text>" per line, level as its syslog number.
Lines lines_of(const core::Event& e) {
    Lines out;
    for (const auto& l : core::event_lines(e)) out.push_back(std::to_string(int(l.level)) + " " + l.text);
    return out;
}

core::Event ev(core::EventKind k, const char* subject, const char* reason, core::EventEnv env = {}) {
    core::Event e;
    e.kind = k;
    e.subject = subject;
    e.reason = reason;
    e.env = std::move(env);
    return e;
}

core::Event machine(core::EventKind k, const char* reason, const char* from, const char* to, std::string why) {
    core::Event e = ev(k, "pc", reason);
    e.subject_kind = core::SubjectKind::Machine;
    e.from = from;
    e.to = to;
    e.detail = std::move(why);
    e.mac = packet::Mac{2, 0, 0, 0, 0, 0x20};
    return e;
}

}  // namespace

TEST_CASE("log sink: each kind of a target's event has its line and level") {
    core::Event e = ev(core::EventKind::Start, "nas", "control");
    e.from = "idle", e.to = "active";
    CHECK(lines_of(e) == Lines{"5 nas: idle -> active: start (control)"});
    e.reason = "traffic";
    e.packet = "UDP 10.0.0.2:5555 -> 10.0.0.1:9999";
    e.env = {{"NETWAKED_SENSOR", "nflog:1"}, {"NETWAKED_PREFIX", "wake"}};
    CHECK(lines_of(e) == Lines{"5 nas: idle -> active: start (traffic, sensor nflog:1)",
                               "5 nas: trigger packet: UDP 10.0.0.2:5555 -> 10.0.0.1:9999 prefix \"wake\""});
    e.env.pop_back();
    CHECK(lines_of(e).back() == "5 nas: trigger packet: UDP 10.0.0.2:5555 -> 10.0.0.1:9999");

    core::Event s = ev(core::EventKind::Stop, "nas", "ttl");
    s.from = "active", s.to = "idle";
    s.idle_ns = 2'045'000'000;
    CHECK(lines_of(s) == Lines{"5 nas: active -> idle: stop (ttl, idle 2.045 s)"});
    s.from = s.to = "";  // not a move: the target left the configuration
    s.detail = "removed from the configuration while active";
    CHECK(lines_of(s) == Lines{"5 nas: removed from the configuration while active"});

    core::Event w = ev(core::EventKind::Wake, "nas", "control");
    w.mac = packet::Mac{2, 0, 0, 0, 0, 0x20};
    w.repeat = 3, w.interval_ms = 100;
    CHECK(lines_of(w) == Lines{"5 nas: wake: magic packets for 02:00:00:00:00:20 (3 x 100 ms apart)"});
    w.packet = "UDP 203.0.113.7:40000 -> 198.51.100.1:9";
    CHECK(lines_of(w) == Lines{"5 nas: wake: magic packets for 02:00:00:00:00:20 (3 x 100 ms apart), trigger "
                               "UDP 203.0.113.7:40000 -> 198.51.100.1:9"});

    core::Event a = ev(core::EventKind::Awake, "nas", "probe");
    a.attempt = 2, a.in_state_ns = 2'314'000'000, a.detail = "frame from 02:00:00:00:00:20";
    CHECK(lines_of(a) == Lines{"5 nas: waking -> awake after 2.314 s (attempt 2; frame from 02:00:00:00:00:20)"});
    core::Event f = ev(core::EventKind::WakeFailed, "nas", "probe");
    f.attempt = 3, f.in_state_ns = 180'500'000'000;
    CHECK(lines_of(f) == Lines{"4 nas: waking -> wake_failed: no sign of life after 3 attempt(s), 180 s"});

    core::Event k = ev(core::EventKind::Knock, "nas", "knock", {{"NETWAKED_SRC", "203.0.113.7"}, {"NETWAKED_KNOCK", "ssh"}});
    k.detail = "authenticated";
    CHECK(lines_of(k) == Lines{"5 nas: knock ssh (authenticated) completed by 203.0.113.7"});
}

TEST_CASE("log sink: each kind of a proxied machine's event has its line and level") {
    CHECK(lines_of(machine(core::EventKind::Asleep, "probe", "up", "asleep", "3 misses")) ==
          Lines{"5 pc: proxy up -> asleep (probe: 3 misses)"});
    CHECK(lines_of(machine(core::EventKind::Lost, "probe", "waking", "lost", "no answer after 3 wake attempts")) ==
          Lines{"5 pc: proxy waking -> lost (probe: no answer after 3 wake attempts)"});
    // The first burst is the move to waking: both lines; a later burst: its line only.
    core::Event w = machine(core::EventKind::Wake, "traffic", "asleep", "waking", "TCP 192.0.2.30:40000 -> 192.0.2.20:22");
    w.attempt = 1, w.attempts = 3, w.repeat = 3, w.interval_ms = 500;
    const std::string burst = "5 pc: wake: magic packets for 02:00:00:00:00:20 (attempt 1/3, 3 x 500 ms apart)";
    CHECK(lines_of(w) == Lines{"5 pc: proxy asleep -> waking (traffic: TCP 192.0.2.30:40000 -> 192.0.2.20:22)", burst});
    core::Event w2 = machine(core::EventKind::Wake, "traffic", "", "", "");
    w2.attempt = 2, w2.attempts = 3, w2.repeat = 3, w2.interval_ms = 500;
    CHECK(lines_of(w2) == Lines{"5 pc: wake: magic packets for 02:00:00:00:00:20 (attempt 2/3, 3 x 500 ms apart)"});
    core::Event a = machine(core::EventKind::Awake, "probe", "waking", "up", "frame from its MAC: ARP");
    a.attempt = 1;
    a.env = {{"NETWAKED_WAKE_SECONDS", "0.750"}};
    CHECK(lines_of(a) == Lines{"5 pc: proxy waking -> up (probe: frame from its MAC: ARP)",
                               "6 pc: awake 0.750 s after the first magic packet (attempt 1)"});
    // A machine restored as asleep that answers: no move, its own words.
    CHECK(lines_of(machine(core::EventKind::Awake, "probe", "", "", "answered a probe after the restart: awake, not taking over")) ==
          Lines{"5 pc: answered a probe after the restart: awake, not taking over"});
}

TEST_CASE("log sink: the core's transitions write no event line themselves; the sink on the bus writes them") {
    proxytest::FakeClock clock;
    core::TimerQueue timers{clock};
    core::EventBus bus;
    core::LogSink sink;
    proxytest::FakeWol wol;
    wol.clock = &clock;
    auto cfg = std::make_shared<config::Config>();
    cfg->sensors.push_back(config::SensorConf{"nflog:1", config::NflogConf{1, 128}, std::nullopt});
    config::TargetConf t;
    t.name = "nas";
    t.ttl = 2s;
    t.wol = config::WolConf{};
    t.wol->mac = packet::Mac{2, 0, 0, 0, 0, 0x20};
    t.wol->repeat = 1;
    t.wol->interval = 100ms;
    t.wol->cooldown = 0ms;
    cfg->targets.push_back(t);
    auto slot = std::make_shared<core::TargetShared>("nas");
    core::CoreDeps d;
    d.clock = &clock;
    d.timers = &timers;
    d.events = &bus;
    d.wol = &wol;
    core::Core c(d);
    c.configure(cfg, {slot});
    Lines log;
    log::set_sink([&log](log::Level lv, std::string_view l) { log.push_back(std::to_string(int(lv)) + " " + std::string(l)); });
    core::Hit h;
    h.target = slot.get();
    h.match = h.keepalive = true;
    h.d.l3 = 4;
    h.d.src = packet::Addr::v4(0x0a000002);
    h.d.dst = packet::Addr::v4(0x0a000001);
    std::strcpy(h.prefix, "wake");
    const std::string pkt = packet::summarize(h.d);
    auto cycle = [&] {  // a packet starts nas (with its burst); the TTL stops it
        h.t_ns = clock.t;
        c.on_hit(h);
        clock.t += 2000 * proxytest::kMs;
        timers.run_due(clock.t);
    };
    cycle();
    CHECK(log.empty());  // no sink, no line: the transition function did not log
    bus.add(&sink);
    cycle();
    log::set_sink(nullptr);
    CHECK(c.targets()[0]->starts == 2);
    CHECK(log == Lines{"5 nas: idle -> active: start (traffic, sensor nflog:1)",
                       "5 nas: trigger packet: " + pkt + " prefix \"wake\"",
                       "5 nas: wake: magic packets for 02:00:00:00:00:20 (1 x 100 ms apart), trigger " + pkt,
                       "5 nas: active -> idle: stop (ttl, idle 2.000 s)"});
}

TEST_CASE("log sink: the proxy's moves with an event are logged by the sink only") {
    proxytest::Lab lab(/*with_log_sink=*/false);
    lab.configure({proxytest::Lab::target({{proxytest::A("192.0.2.20"), {}}})});
    lab.put_to_sleep();
    CHECK(lab.state() == proxy::State::Asleep);
    CHECK(lab.hooks.events() == "asleep");
    CHECK_FALSE(lab.logged("proxy up -> asleep"));  // the transition did not write it
    lab.events.add(&lab.log_sink);
    lab.rx(proxytest::arp_request(proxytest::Lab::M, proxytest::A("192.0.2.20"), proxytest::A("192.0.2.1")));
    CHECK(lab.state() == proxy::State::Up);
    CHECK(lab.logged("nas: proxy asleep -> up (probe: frame from its MAC: "));
}

// tests/unit/event.cc — core::EventBus: every sink gets every event in registration order, events a
// sink emits are delivered after the current one, and a new output is one sink + one add() line.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/event.h"

using namespace nw;

namespace {

// Records "<sink>:<kind>:<subject>" in a shared journal, to check order across sinks.
struct JournalSink : core::EventSink {
    std::string name;
    std::vector<std::string>* journal;
    JournalSink(std::string n, std::vector<std::string>* j) : name(std::move(n)), journal(j) {}
    const char* sink_name() const override { return name.c_str(); }
    void on_event(const core::Event& e) override {
        journal->push_back(name + ":" + core::event_kind_name(e.kind) + ":" + e.subject);
    }
};

core::Event ev(core::EventKind k, std::string subject) {
    core::Event e;
    e.kind = k;
    e.subject = std::move(subject);
    return e;
}

}  // namespace

TEST_CASE("event bus: a trivial new sink is the sink plus one registration line") {
    // The whole cost of a new output (what MQTT and metrics will do):
    struct CountingSink : core::EventSink {
        int active = 0, total = 0;
        const char* sink_name() const override { return "count"; }
        void on_event(const core::Event& e) override { ++total, active += e.kind == core::EventKind::Start; }
    } counter;
    core::EventBus bus;
    bus.add(&counter);  // the one wiring line

    bus.emit(ev(core::EventKind::Start, "nas"));
    bus.emit(ev(core::EventKind::Stop, "nas"));
    bus.emit(ev(core::EventKind::Start, "vpn"));
    CHECK(counter.total == 3);
    CHECK(counter.active == 2);
    CHECK(bus.emitted() == 3);
}

TEST_CASE("event bus: registration order, nested emits after the current event, removal") {
    std::vector<std::string> j;
    JournalSink log("log", &j), state("state", &j);
    struct EchoSink : JournalSink {  // emits a follow-up event for every Active
        core::EventBus* bus = nullptr;
        using JournalSink::JournalSink;
        void on_event(const core::Event& e) override {
            JournalSink::on_event(e);
            if (e.kind == core::EventKind::Start) bus->emit(ev(core::EventKind::Wake, e.subject));
        }
    } hooks("hooks", &j);
    core::EventBus bus;
    hooks.bus = &bus;
    bus.add(&hooks);
    bus.add(&log);
    bus.add(&state);
    bus.add(&log);  // twice: still once
    CHECK(bus.sinks() == 3);

    bus.emit(ev(core::EventKind::Start, "nas"));
    CHECK(j == std::vector<std::string>{"hooks:start:nas", "log:start:nas", "state:start:nas",
                                        "hooks:wake:nas", "log:wake:nas", "state:wake:nas"});
}

TEST_CASE("event kind names are the SPEC §4/§5 names, distinct") {
    std::vector<std::string> names;
    for (auto k : {core::EventKind::Start, core::EventKind::Stop, core::EventKind::Wake, core::EventKind::Awake,
                   core::EventKind::WakeFailed, core::EventKind::Asleep, core::EventKind::Lost, core::EventKind::Knock}) {
        std::string n = core::event_kind_name(k);
        CHECK(n != "?");
        for (const auto& m : names) CHECK(m != n);
        names.push_back(n);
    }
    CHECK(names == std::vector<std::string>{"start", "stop", "wake", "awake", "wake_failed", "asleep", "lost", "knock"});
}

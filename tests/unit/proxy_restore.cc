// tests/unit/proxy_restore.cc — restoring the sleep proxy from the state file through its one
// transition function: a target saved lost comes back lost without an event or hook, and a machine
// saved asleep that answers is `awake` (the move up -> up) once, with its line from the log sink.
#include <doctest/doctest.h>

#include "proxy/persist.h"
#include "proxy_fixture.h"

using namespace nw;
using namespace nw::proxytest;
using proxy::State;

namespace {
const Addr kV4 = A("192.0.2.20");

proxy::RestoredMachine saved(State s) {
    proxy::RestoredMachine r;
    r.spec.name = "nas";
    r.state = s;
    return r;
}

std::string saved_state(const Lab& lab) {
    state::PersistedState ps;
    ps.targets.push_back({});
    ps.targets[0].name = "nas";
    proxy::save_proxy(*lab.p, &ps);
    return ps.targets[0].proxy_state;
}

// Records each event as "<kind> [<from> -> <to>] <detail>".
struct Journal : core::EventSink {
    std::vector<std::string> seen;
    const char* sink_name() const override { return "journal"; }
    void on_event(const core::Event& e) override {
        seen.push_back(std::string(core::event_kind_name(e.kind)) + " [" + e.from + " -> " + e.to + "] " + e.detail);
    }
};
}  // namespace

TEST_CASE("restore: a target saved lost is restored lost (no event, no hook) and comes back up without awake") {
    Lab lab;
    Journal j;
    lab.events.add(&j);
    lab.configure({Lab::target({{kV4, {}}}, false)});
    lab.p->restore({saved(State::Lost)});
    CHECK(lab.state() == State::Lost);
    CHECK(j.seen.empty());
    CHECK(lab.hooks.jobs.empty());
    CHECK(lab.logged("nas: restored as lost"));
    CHECK(saved_state(lab) == "lost");
    // Probed as a lost machine is; it answers: up, and no `awake` (as for any lost machine).
    const size_t from = lab.sink.sent.size();
    lab.advance(1000);
    CHECK(lab.count_sent(from, [](const packet::Decoded& d) { return d.l3 == 'a' && d.dst == kV4; }) >= 1);
    lab.rx(arp_reply(Lab::M, kV4, Lab::P, A("192.0.2.1")));
    CHECK(lab.state() == State::Up);
    CHECK(j.seen.empty());
    CHECK(lab.logged("nas: proxy lost -> up (probe: frame from its MAC: "));  // a move without an event
}

TEST_CASE("restore: a machine saved asleep that answers is awake once, through the transition (up -> up)") {
    Lab lab;
    Journal j;
    lab.events.add(&j);
    lab.configure({Lab::target({{kV4, {}}})});
    lab.p->restore({saved(State::Asleep)});
    CHECK(lab.state() == State::Up);  // probed again before anything is taken over
    CHECK(lab.held().empty());
    CHECK(saved_state(lab) == "asleep");
    lab.rx(arp_request(Lab::M, kV4, A("192.0.2.1")));
    lab.rx(arp_request(Lab::M, kV4, A("192.0.2.1")));  // once: it is no longer resuming
    CHECK(j.seen == std::vector<std::string>{"awake [ -> ] frame from its MAC after the restart: awake, not taking over"});
    CHECK(lab.hooks.events() == "awake");
    CHECK(lab.hooks.env(0, "NETWAKED_REASON") == "probe");
    CHECK(lab.hooks.env(0, "NETWAKED_ATTEMPT") == "<absent>");
    CHECK(lab.logged("nas: frame from its MAC after the restart: awake, not taking over"));
    CHECK(lab.held().empty());
    CHECK(saved_state(lab) == "up");
    // Its next sleep is an ordinary one, with its `asleep` event.
    lab.put_to_sleep();
    CHECK(lab.state() == State::Asleep);
    CHECK(lab.hooks.events() == "awake asleep");
}

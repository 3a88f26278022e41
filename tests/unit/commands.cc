// tests/unit/commands.cc — daemon::CommandHandler, the one command path: every origin runs the same
// code, events it causes carry NETWAKED_ORIGIN of the Command, results and failures are counted.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/event_sinks.h"
#include "core/timer_queue.h"
#include "daemon/commands.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

struct Clock : core::Clock {
    int64_t t = 1'000'000'000;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1700000000; }
};

// Records each event as "<event>:<origin>".
struct Journal : core::EventSink {
    std::vector<std::string> seen;
    const char* sink_name() const override { return "journal"; }
    void on_event(const core::Event& e) override {
        seen.push_back(std::string(core::event_kind_name(e.kind)) + ":" + (e.origin.empty() ? "-" : e.origin));
    }
};

struct Rig {
    Clock clock;
    core::TimerQueue timers{clock};
    core::EventBus events;
    Journal journal;
    std::unique_ptr<core::Core> core;
    std::vector<std::string> forgotten;
    std::unique_ptr<daemon::CommandHandler> h;

    Rig() {
        auto cfg = std::make_shared<config::Config>();
        config::TargetConf t;
        t.name = "nas";
        t.ttl = 10s;
        cfg->targets.push_back(t);
        events.add(&journal);
        core::CoreDeps d;
        d.clock = &clock;
        d.timers = &timers;
        d.events = &events;
        core = std::make_unique<core::Core>(d);
        core->configure(cfg, {std::make_shared<core::TargetShared>("nas")});
        daemon::CommandHandler::Deps cd;
        cd.core = core.get();
        cd.forget = [this](const std::string& n, std::string* err) {
            if (n != "laptop") return *err = "no registration named " + n, false;
            forgotten.push_back(n);
            return true;
        };
        h = std::make_unique<daemon::CommandHandler>(cd);
    }
};

}  // namespace

TEST_CASE("commands: every origin takes the same path; events carry the command's origin") {
    Rig r;
    auto res = r.h->run({core::Action::Start, "nas", core::Origin::Mqtt, "client-1"});
    CHECK(res.ok);
    CHECK(res.message == "nas started");
    res = r.h->run({core::Action::Stop, "nas", core::Origin::Relay, "203.0.113.9"});
    CHECK(res.ok);
    CHECK(res.message == "nas stopped");
    res = r.h->run({core::Action::Start, "nas", core::Origin::Control, "netwakectl"});
    CHECK(res.ok);
    CHECK(r.journal.seen == std::vector<std::string>{"start:mqtt", "stop:relay", "start:control"});
    // The origin is the command's only: a TTL stop later has none.
    r.clock.t += 11'000'000'000;
    r.timers.run_due();
    CHECK(r.journal.seen.back() == "stop:-");
    CHECK(r.h->done() == 3);
}

TEST_CASE("commands: failures are results, not exceptions; forget goes to its owner") {
    Rig r;
    auto res = r.h->run({core::Action::Start, "nope", core::Origin::Control, ""});
    CHECK_FALSE(res.ok);
    CHECK(res.message == "no such target: nope");
    res = r.h->run({core::Action::Wake, "nas", core::Origin::Mqtt, ""});
    CHECK_FALSE(res.ok);
    CHECK(res.message == "target nas has no wol section");
    res = r.h->run({core::Action::Forget, "laptop", core::Origin::Control, ""});
    CHECK(res.ok);
    CHECK(res.message == "registration laptop forgotten");
    CHECK(r.forgotten == std::vector<std::string>{"laptop"});
    res = r.h->run({core::Action::Forget, "pc", core::Origin::Control, ""});
    CHECK_FALSE(res.ok);
    CHECK(r.h->failed() == 3);
    CHECK(r.journal.seen.empty());
    CHECK(std::string(core::origin_name(core::Origin::Relay)) == "relay");
    CHECK(std::string(core::action_name(core::Action::Forget)) == "forget");
}

// tests/unit/control_dispatch.cc — daemon::ControlDispatch with fakes: each netwakectl request
// becomes the right Command (origin control, source netwakectl) or status / reload call, and the
// reply line says what happened.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/control_dispatch.h"

using namespace nw;

namespace {

struct Fakes {
    std::vector<core::Command> commands;
    int statuses = 0, reloads = 0;
    bool reload_ok = true;
    daemon::ControlDispatch dispatch{deps()};

    daemon::ControlDispatch::Deps deps() {
        daemon::ControlDispatch::Deps d;
        d.command = [this](const core::Command& c) {
            commands.push_back(c);
            if (c.target == "nope") return core::CommandResult{false, "no such target: nope"};
            return core::CommandResult{true, c.target + " done"};
        };
        d.status = [this] {
            ++statuses;
            control::Status s;
            s.version = "9.9";
            s.uptime_s = 12;
            return s;
        };
        d.reload = [this](std::string* why) {
            ++reloads;
            if (!reload_ok) *why = "1 error(s)";
            return reload_ok;
        };
        d.config_path = [] { return std::string("/etc/netwaked/netwaked.yaml"); };
        return d;
    }
    control::Reply reply(control::Cmd cmd, const std::string& target = "") {
        control::Reply r;
        std::string err;
        const std::string line = dispatch.handle({cmd, target});
        REQUIRE(control::parse_reply(line, &r, &err));
        return r;
    }
};

}  // namespace

TEST_CASE("control dispatch: target actions are Commands from netwakectl on the one command path") {
    Fakes f;
    const std::pair<control::Cmd, core::Action> cases[] = {{control::Cmd::Start, core::Action::Start},
                                                          {control::Cmd::Stop, core::Action::Stop},
                                                          {control::Cmd::Wake, core::Action::Wake},
                                                          {control::Cmd::Forget, core::Action::Forget}};
    for (const auto& [cmd, action] : cases) {
        const control::Reply r = f.reply(cmd, "nas");
        CHECK(r.ok);
        CHECK(r.message == "nas done");
        REQUIRE(!f.commands.empty());
        CHECK(f.commands.back().action == action);
        CHECK(f.commands.back().target == "nas");
        CHECK(f.commands.back().origin == core::Origin::Control);
        CHECK(f.commands.back().source == "netwakectl");
    }
    const control::Reply bad = f.reply(control::Cmd::Stop, "nope");
    CHECK_FALSE(bad.ok);
    CHECK(bad.error == "no such target: nope");
    CHECK(f.statuses == 0);
    CHECK(f.reloads == 0);
}

TEST_CASE("control dispatch: status is the status document, reload says which file or why not") {
    Fakes f;
    const std::string line = f.dispatch.handle({control::Cmd::Status, ""});
    control::Status st;
    std::string err;
    REQUIRE(control::parse_status(line, &st, &err));
    CHECK(st.version == "9.9");
    CHECK(st.uptime_s == 12);
    CHECK(f.statuses == 1);
    control::Reply r = f.reply(control::Cmd::Reload);
    CHECK(r.ok);
    CHECK(r.message == "reloaded /etc/netwaked/netwaked.yaml");
    f.reload_ok = false;
    r = f.reply(control::Cmd::Reload);
    CHECK_FALSE(r.ok);
    CHECK(r.error == "reload failed: 1 error(s)");
    CHECK(f.reloads == 2);
    CHECK(f.commands.empty());
}

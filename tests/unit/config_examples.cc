// tests/unit/config_examples.cc — the shipped configurations (conf/netwaked.yaml and
// conf/examples/*.yaml) load without errors (file checks off) and round-trip through --check.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "config/load.h"
#include "config/print.h"

using namespace nw;

namespace {

// Finds a file of the source tree whether the tests run from the top directory or elsewhere.
std::string tree_path(const std::string& rel) {
    struct stat st {};
    if (stat(rel.c_str(), &st) == 0) return rel;
    std::string here = __FILE__;  // .../tests/unit/config_examples.cc
    std::string top = here.substr(0, here.rfind("/tests/unit/") + 1);
    return top + rel;
}

config::Config load_example(const std::string& rel) {
    config::Config c;
    std::vector<std::string> errs;
    config::LoadOptions o;
    o.check_files = false;
    bool ok = config::load_file(tree_path(rel), &c, &errs, o);
    for (const auto& e : errs) MESSAGE(e);
    CHECK(errs.empty());
    REQUIRE(ok);
    std::string text = config::print_normalized(c);
    config::Config again;
    REQUIRE(config::load_string(text, c.source, &again, &errs, o));
    CHECK(again == c);
    return c;
}

}  // namespace

TEST_CASE("examples: the packaged default is safe and uses the shipped example hook") {
    config::Config c = load_example("conf/netwaked.yaml");
    REQUIRE(c.targets.size() == 1);
    CHECK(c.daemon.user.empty());  // the systemd unit switches user, not the configuration
    CHECK(c.targets[0].hook == "/usr/lib/netwaked/hooks/log-event");
    CHECK(!c.targets[0].wol);
    CHECK(!c.targets[0].sleep_proxy);
    CHECK(!c.reg);
    CHECK(c.knocks.empty());
    struct stat st {};
    CHECK(stat(tree_path("hooks/log-event").c_str(), &st) == 0);  // installed to that path
}

TEST_CASE("examples: vpn-on-demand") {
    config::Config c = load_example("conf/examples/vpn-on-demand.yaml");
    REQUIRE(c.targets.size() == 1);
    CHECK(c.targets[0].match.size() == 2);
    CHECK(c.targets[0].match[0].prefix == std::optional<std::string>("vpn-office"));
    CHECK(c.targets[0].trigger.packets == 2);
}

TEST_CASE("examples: nas-wake") {
    config::Config c = load_example("conf/examples/nas-wake.yaml");
    REQUIRE(c.targets.size() == 1);
    const auto& t = c.targets[0];
    REQUIRE(t.wol);
    CHECK(t.wol->interface == "eth0");
    CHECK(t.wol->methods == 3);
    REQUIRE(t.sleep_proxy);
    CHECK(t.sleep_proxy->interface == "eth0");
    CHECK(t.sleep_proxy->addresses.size() == 2);
}

TEST_CASE("examples: tuninetd") {
    config::Config c = load_example("conf/examples/tuninetd.yaml");
    REQUIRE(c.targets.size() == 1);
    CHECK(c.targets[0].name == "default");
    CHECK(c.targets[0].ttl == std::chrono::seconds(600));
    CHECK(c.sensors.size() == 2);
}

TEST_CASE("examples: knock") {
    config::Config c = load_example("conf/examples/knock.yaml");
    REQUIRE(c.knocks.size() == 2);
    CHECK(c.knocks[0].sequence.size() == 3);
    REQUIRE(c.knocks[1].spa);
    CHECK(c.knocks[1].spa->port == 62201);
    CHECK(c.targets[0].match.empty());
}

// tests/unit/bridge_discovery.cc — Home Assistant discovery (SPEC §16): one device per target,
// availability on <base>/status, buttons only when obeyed, removal of entities not offered.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "bridge/discovery.h"

using namespace nw;
using nlohmann::json;

TEST_CASE("discovery: entities, device, availability; buttons follow what is obeyed") {
    bridge::DiscoveryConf c;
    c.base = "netwaked/r1";
    c.client_id = "router.1";
    c.wake_button = true;
    bridge::DiscoveryTarget t{"nas", "d8:cb:8a:39:be:a1", true};
    auto msgs = bridge::discovery_messages(c, t);
    REQUIRE(msgs.size() == 7);
    int offered = 0, cleared = 0;
    for (const auto& m : msgs) {
        CAPTURE(m.topic);
        CHECK(m.topic.rfind("homeassistant/", 0) == 0);
        CHECK(m.topic.find("/netwaked_router_1/nas_") != std::string::npos);
        if (m.payload.empty()) {
            ++cleared;
            continue;
        }
        ++offered;
        json j = json::parse(m.payload);
        CHECK(j["availability_topic"] == "netwaked/r1/status");
        CHECK(j["device"]["identifiers"][0] == "netwaked_router_1_nas");
        CHECK(j["device"]["connections"][0] == json::array({"mac", "d8:cb:8a:39:be:a1"}));
        CHECK(j["unique_id"].get<std::string>().rfind("netwaked_router_1_nas_", 0) == 0);
        CHECK(!j.contains("object_id"));  // deprecated by HA 2025.10, gone in 2026.4
        CHECK(j["default_entity_id"].get<std::string>().find(".nas_") != std::string::npos);
    }
    CHECK(offered == 5);  // active, state, last_event, wake, events
    CHECK(cleared == 2);  // start, stop
    bool wake = false;
    for (const auto& m : msgs)
        if (m.topic == "homeassistant/button/netwaked_router_1/nas_wake/config") {
            json j = json::parse(m.payload);
            CHECK(j["command_topic"] == "netwaked/r1/nas/set");
            CHECK(j["payload_press"] == "wake");
            CHECK(j["default_entity_id"] == "button.nas_wake");
            wake = true;
        }
    CHECK(wake);
    // Signed-only (no plain wake): the Wake button is removed; a target without wol never has one.
    c.wake_button = false;
    for (const auto& m : bridge::discovery_messages(c, t))
        if (m.topic.find("nas_wake") != std::string::npos) CHECK(m.payload.empty());
    c.wake_button = true;
    t.wol = false;
    t.mac.clear();
    for (const auto& m : bridge::discovery_messages(c, t)) {
        if (m.topic.find("nas_wake") != std::string::npos) CHECK(m.payload.empty());
        if (!m.payload.empty()) CHECK(!json::parse(m.payload)["device"].contains("connections"));
    }
    for (const auto& m : bridge::discovery_clear(c, "nas")) CHECK(m.payload.empty());
}

TEST_CASE("discovery: the router device that every target's via_device names") {
    bridge::DiscoveryConf c;
    c.base = "netwaked/r1";
    c.client_id = "router.1";
    const bridge::Retained r = bridge::discovery_router(c);
    CHECK(r.topic == "homeassistant/binary_sensor/netwaked_router_1/bridge/config");
    json j = json::parse(r.payload);
    CHECK(j["device"]["identifiers"][0] == "netwaked_router_1");
    CHECK(j["state_topic"] == "netwaked/r1/status");
    CHECK(j["payload_on"] == "online");
    CHECK(j["payload_off"] == "offline");
    CHECK(j["device_class"] == "connectivity");
    CHECK(!j.contains("availability_topic"));  // offline is its state, not "unavailable"
    CHECK(j["default_entity_id"] == "binary_sensor.netwaked_router_1_bridge");
    bridge::DiscoveryTarget t{"nas", "", false};
    for (const auto& m : bridge::discovery_messages(c, t))
        if (!m.payload.empty()) CHECK(json::parse(m.payload)["device"]["via_device"] == j["device"]["identifiers"][0]);
    // The router's topic never collides with a target entity's (<t>_<entity>).
    for (const auto& m : bridge::discovery_messages(c, {"bridge", "", true})) CHECK(m.topic != r.topic);
}

TEST_CASE("discovery: default_entity_id is a valid HA entity id whatever the target is called") {
    bridge::DiscoveryConf c;
    c.base = "netwaked/r1";
    c.client_id = "R-1";
    for (const std::string name : {"NAS-2", "_x__y_", "Büro.pc", "---"}) {
        for (const auto& m : bridge::discovery_messages(c, {name, "", true})) {
            if (m.payload.empty()) continue;
            const std::string id = json::parse(m.payload)["default_entity_id"];
            CAPTURE(id);
            const size_t dot = id.find('.');
            REQUIRE(dot != std::string::npos);
            const std::string slug = id.substr(dot + 1);
            CHECK(!slug.empty());
            CHECK(slug.front() != '_');
            CHECK(slug.back() != '_');
            CHECK(slug.find("__") == std::string::npos);
            for (char ch : slug) CHECK(((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'));
        }
    }
    CHECK(json::parse(bridge::discovery_router(c).payload)["default_entity_id"] == "binary_sensor.netwaked_r_1_bridge");
}

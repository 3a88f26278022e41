// bridge/discovery.cc — Home Assistant discovery payloads (see discovery.h). Pure JSON building;
// keys are written in full (not abbreviated) so the payloads read like HA's documentation. The
// entity id is suggested with default_entity_id (HA 2025.10 deprecated object_id, 2026.4 dropped it).
#include "bridge/discovery.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "bridge/codec.h"

namespace nw::bridge {

namespace {

// HA node_id / object_id: [a-zA-Z0-9_-].
std::string id_part(const std::string& s) {
    std::string r;
    for (char ch : s) r += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-') ? ch : '_';
    return r;
}

// An HA entity id "<component>.<slug>": slug of [a-z0-9_], no leading, trailing or double '_'.
std::string entity_id(const char* component, const std::string& s) {
    std::string slug;
    for (char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (std::isalnum(u) && u < 0x80) slug += char(std::tolower(u));
        else if (!slug.empty() && slug.back() != '_') slug += '_';
    }
    while (!slug.empty() && slug.back() == '_') slug.pop_back();
    return std::string(component) + "." + (slug.empty() ? "netwaked" : slug);
}

struct Entity {
    const char* component;
    const char* key;     // object id suffix
};
constexpr Entity kEntities[] = {{"binary_sensor", "active"}, {"sensor", "state"},  {"sensor", "last_event"},
                                {"button", "wake"},          {"button", "start"},  {"button", "stop"},
                                {"event", "events"}};

std::string config_topic(const DiscoveryConf& c, const Entity& e, const std::string& target) {
    return c.prefix + "/" + e.component + "/netwaked_" + id_part(c.client_id) + "/" + id_part(target) + "_" + e.key +
           "/config";
}

}  // namespace

std::string discovery_node_id(const std::string& client_id) { return "netwaked_" + id_part(client_id); }

Retained discovery_router(const DiscoveryConf& c) {
    using nlohmann::json;
    const std::string node = discovery_node_id(c.client_id);
    json j = {{"name", "Bridge"},
              {"unique_id", node + "_bridge"},
              {"default_entity_id", entity_id("binary_sensor", node + "_bridge")},
              {"device_class", "connectivity"},
              {"entity_category", "diagnostic"},
              {"state_topic", status_topic(c.base)},
              {"payload_on", "online"},
              {"payload_off", "offline"},
              {"device", {{"identifiers", json::array({node})},
                          {"name", "netwaked " + c.client_id},
                          {"manufacturer", "netwaked"},
                          {"model", "router"}}}};
    return {c.prefix + "/binary_sensor/" + node + "/bridge/config", j.dump()};
}

std::vector<Retained> discovery_messages(const DiscoveryConf& c, const DiscoveryTarget& t) {
    using nlohmann::json;
    const std::string dev_id = "netwaked_" + id_part(c.client_id) + "_" + id_part(t.name);
    json device = {{"identifiers", json::array({dev_id})},
                   {"name", t.name},
                   {"manufacturer", "netwaked"},
                   {"via_device", "netwaked_" + id_part(c.client_id)}};
    if (!t.mac.empty()) device["connections"] = json::array({json::array({"mac", t.mac})});
    const std::string state = target_topic(c.base, t.name, "state");
    std::vector<Retained> out;
    for (const Entity& e : kEntities) {
        const std::string key = e.key;
        bool offered = true;
        if (key == "wake") offered = c.wake_button && t.wol;
        if (key == "start") offered = c.start_button;
        if (key == "stop") offered = c.stop_button;
        if (!offered) {
            out.push_back({config_topic(c, e, t.name), ""});
            continue;
        }
        json j = {{"unique_id", dev_id + "_" + key},
                  {"default_entity_id", entity_id(e.component, t.name + "_" + key)},
                  {"device", device},
                  {"availability_topic", status_topic(c.base)},
                  {"payload_available", "online"},
                  {"payload_not_available", "offline"}};
        if (key == "active") {
            j["name"] = "Active";
            j["state_topic"] = state;
            j["value_template"] = "{{ 'ON' if value_json.state in ['active', 'waking', 'awake'] else 'OFF' }}";
        } else if (key == "state") {
            j["name"] = "State";
            j["state_topic"] = state;
            j["device_class"] = "enum";
            j["options"] = {"idle", "active", "waking", "awake", "wake_failed", "asleep", "lost"};
            j["value_template"] = "{{ value_json.state }}";
        } else if (key == "last_event") {
            j["name"] = "Last event";
            j["state_topic"] = state;
            j["device_class"] = "timestamp";
            j["value_template"] = "{{ value_json.since }}";
            j["json_attributes_topic"] = state;
        } else if (key == "events") {
            j["name"] = "Events";
            j["state_topic"] = target_topic(c.base, t.name, "event");
            j["event_types"] = {"start", "stop", "wake", "awake", "wake_failed", "asleep", "lost", "knock"};
            j["value_template"] = "{ \"event_type\": \"{{ value_json.event }}\" }";
        } else {  // buttons
            j["name"] = key == "wake" ? "Wake" : key == "start" ? "Start" : "Stop";
            j["command_topic"] = target_topic(c.base, t.name, "set");
            j["payload_press"] = key;
        }
        out.push_back({config_topic(c, e, t.name), j.dump()});
    }
    return out;
}

std::vector<Retained> discovery_clear(const DiscoveryConf& c, const std::string& target) {
    std::vector<Retained> out;
    for (const Entity& e : kEntities) out.push_back({config_topic(c, e, target), ""});
    return out;
}

}  // namespace nw::bridge

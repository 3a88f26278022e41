// bridge/discovery.h — Home Assistant MQTT discovery messages for one target (SPEC §16).
// Pure: builds (topic, retained payload) pairs; an empty payload removes an entity.
// Per-entity discovery (<prefix>/<component>/<node_id>/<object_id>/config): every Home
// Assistant release since 0.84 reads it, and removing a single entity is one empty message.
#pragma once

#include <string>
#include <vector>

namespace nw::bridge {

struct DiscoveryConf {
    std::string prefix = "homeassistant";
    std::string base;                 // the bridge's base topic
    std::string client_id;
    bool wake_button = false;         // plain wake obeyed (allow has wake, signed: false)
    bool start_button = false, stop_button = false;
};

struct DiscoveryTarget {
    std::string name;
    std::string mac;                  // "" when unknown
    bool wol = false;
};

struct Retained {
    std::string topic, payload;       // payload "" = clear
};

// "netwaked_<client_id>" with HA's [a-zA-Z0-9_-]: the node id of every discovery topic.
std::string discovery_node_id(const std::string& client_id);
// The router's own device (identifiers = the node id, which every target's via_device names):
// a connectivity binary_sensor on <base>/status (on = online), no availability of its own.
Retained discovery_router(const DiscoveryConf& c);
// Every entity of the target: offered ones with their config, the others cleared.
std::vector<Retained> discovery_messages(const DiscoveryConf& c, const DiscoveryTarget& t);
// Empty payloads for every entity a target can have (a target deleted by a reload).
std::vector<Retained> discovery_clear(const DiscoveryConf& c, const std::string& target);

}  // namespace nw::bridge

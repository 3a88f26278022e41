// config/mqtt_url.h — the MQTT broker URL (SPEC §16): mqtt://HOST[:1883] | mqtts://HOST[:8883].
// Pure text; no DNS, no I/O. Shared by the loader and netwakectl remote.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nw::config {

struct MqttUrl {
    bool tls = true;
    std::string host;   // DNS name or IP literal (IPv6 without brackets)
    uint16_t port = 8883;
};

// Parses a broker URL; no user info, path, query or fragment. False + *err on failure.
bool parse_mqtt_url(std::string_view s, MqttUrl* out, std::string* err);
// "mqtts://broker.example.net:8883", "mqtt://[2001:db8::1]:1883".
std::string format_mqtt_url(const MqttUrl& u);

}  // namespace nw::config

// config/model_mqtt.h — the `mqtt:` section of the model (SPEC §16). Plain data, no I/O; part of
// config/model.h (included from there), kept apart so the bridge's settings live in one place.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nw::config {

// Actions a remote command may ask for (bit set in MqttConf::allow).
enum class MqttAction : uint8_t { Wake = 1, Start = 2, Stop = 4 };

struct MqttConf {
    std::string broker;                              // normalized "mqtts://host:port"
    bool tls = true;                                 // mqtts
    std::string host;                                // name or IP literal (v6 without brackets)
    uint16_t port = 8883;
    std::string client_id;                           // default netwaked-<hostname>
    std::string username;                            // empty: none
    std::string password_file;                       // empty: none
    std::string ca_file;                             // empty with mqtts: the system store
    std::string cert_file, key_file;                 // client certificate (both or neither)
    bool tls_insecure = false;                       // skip hostname verification (warned)
    std::string topic;                               // base topic, default netwaked/<hostname>
    std::chrono::milliseconds keepalive = std::chrono::seconds(60);
    bool ha_discovery = false;
    std::string ha_prefix = "homeassistant";
    uint8_t allow = 0;                               // bit set of MqttAction; 0 = publish only
    bool signed_commands = true;                     // only HMAC-signed commands are obeyed
    std::string command_key_file;                    // required when signed and allow != 0
    std::chrono::milliseconds window = std::chrono::seconds(60);
    bool metrics = false;
    bool operator==(const MqttConf&) const = default;
};

// The top-level `metrics:` section (SPEC §17).
struct MetricsConf {
    std::string textfile;                            // Prometheus textfile path (absolute)
    bool operator==(const MetricsConf&) const = default;
};

}  // namespace nw::config

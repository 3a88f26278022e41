// config/sections.h — loader internals: one reader per section of the configuration file.
// Private to config/*.cc. Readers report every problem into Ctx and never throw.
#pragma once

#include "config/yaml_util.h"

namespace nw::config::detail {

// Where a wol/sleep_proxy block appears: each place allows different keys.
enum class Place { Target, Defaults, Register };

// The `defaults:` block parsed once; every target starts as a copy of `target`, and a
// target's wol/sleep_proxy block starts from `wol`/`sleep_proxy`.
struct Defaults {
    TargetConf target;
    WolConf wol;
    SleepProxyConf sleep_proxy;
};

// Per-target facts the final cross-checks need.
struct TargetInfo {
    YAML::Mark mark;
    bool has_match = false;
};

void read_daemon(Ctx& c, const Val& v, DaemonConf* out);
void read_sensors(Ctx& c, const Val& v, std::vector<SensorConf>* out);
void read_defaults(Ctx& c, const Val& v, const Config& cfg, Defaults* out);
void read_targets(Ctx& c, const Val& v, const Defaults& d, Config* cfg, std::vector<TargetInfo>* info,
                  bool may_be_empty = false);  // may_be_empty: a register section exists
void read_wol(Ctx& c, const Val& v, Place place, const WolConf& base, WolConf* out);
// Fills wol.verify's default address and decides `on` once match and sleep_proxy are read.
void resolve_verify(TargetConf* t);
void read_sleep_proxy(Ctx& c, const Val& v, Place place, const SleepProxyConf& base,
                      const std::string& fallback_interface, SleepProxyConf* out);
void read_register(Ctx& c, const Val& v, const Defaults& d, RegisterConf* out);
void read_knocks(Ctx& c, const Val& v, Config* cfg);
void read_wol_relay(Ctx& c, const Val& v, Config* cfg);                  // config/load_relay.cc
void read_mqtt(Ctx& c, const Val& v, const Config& cfg, MqttConf* out);  // config/load_mqtt.cc
void read_metrics(Ctx& c, const Val& v, MetricsConf* out);               // config/load_mqtt.cc

// Index of the sensor called `name`, or -1.
int find_sensor(const Config& cfg, const std::string& name);
std::string sensor_names(const Config& cfg);  // "wan, lan" for messages

// Value ranges shared by readers (and stated in error messages).
inline constexpr Duration kMs{1};
inline constexpr Duration kSec = std::chrono::seconds(1);
inline constexpr Duration kMin = std::chrono::minutes(1);
inline constexpr Duration kHour = std::chrono::hours(1);
inline constexpr Duration kDay = std::chrono::hours(24);

}  // namespace nw::config::detail

// bridge/codec.h — the MQTT bridge's pure parts (SPEC §16): topics, command payloads, the
// canonical string and its HMAC, and the JSON of state, events and results. No I/O, no clock,
// no logging; fuzzed (tests/fuzz/fuzz_mqtt_command.cc).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nw::bridge {

enum class Action : uint8_t { Wake = 1, Start = 2, Stop = 4 };  // same bits as config::MqttAction
const char* action_name(Action a);
bool parse_action(std::string_view s, Action* out);

// "<base>/status", "<base>/<t>/<leaf>".
std::string status_topic(std::string_view base);
std::string target_topic(std::string_view base, std::string_view target, std::string_view leaf);
// "<base>/<t>/set" with a valid target name ([A-Za-z0-9_.-]{1,64}) -> *target; else false.
bool parse_set_topic(std::string_view base, std::string_view topic, std::string* target);

inline constexpr size_t kNonceLen = 16, kMacLen = 32;
inline constexpr size_t kMaxCommandPayload = 1024;

struct Command {
    Action action = Action::Wake;
    bool is_signed = false;
    int64_t ts = 0;                          // unix seconds (signed only)
    std::string nonce_hex;                   // 32 lowercase hex digits (signed only)
    std::array<uint8_t, kNonceLen> nonce{};
    std::array<uint8_t, kMacLen> mac{};
};

// A payload: a plain word ("wake", "start", "stop", surrounding whitespace ignored) or the signed
// JSON object {"action","ts","nonce","hmac"} (no other keys). False + *err: a short reason that
// quotes nothing from the payload (safe to log and to publish).
bool parse_command(std::string_view payload, Command* out, std::string* err);

// "netwaked-cmd-1\n" + base + "\n" + t + "\n" + action + "\n" + ts + "\n" + nonce.
std::string canonical_string(std::string_view base, std::string_view target, Action a, int64_t ts,
                             std::string_view nonce_hex);
std::array<uint8_t, kMacLen> command_hmac(std::span<const uint8_t> key, std::string_view canonical);
// HMAC of the canonical string for (base, target, cmd) compared with cmd.mac in constant time.
bool verify_command(const Command& cmd, std::span<const uint8_t> key, std::string_view base, std::string_view target);
// The signed JSON payload (netwakectl remote, tests).
std::string sign_command(std::span<const uint8_t> key, std::string_view base, std::string_view target, Action a,
                         int64_t ts, const std::array<uint8_t, kNonceLen>& nonce);

std::string hex(std::span<const uint8_t> b);
// "2024-12-04T16:00:00Z".
std::string rfc3339(int64_t wall_s);

// {"action","result":"ok"|"refused","why","nonce"} (why/nonce omitted when empty).
std::string result_json(std::string_view action, bool ok, std::string_view why, std::string_view nonce);
// {"event","target","time", <env NETWAKED_X as x>...}: the hook environment (SPEC §5) in lower case.
using Env = std::vector<std::pair<std::string, std::string>>;
std::string event_json(std::string_view event, std::string_view target, int64_t wall_s, const Env& env);

// What the retained `<base>/<t>/state` says about a target.
struct StateView {
    std::string target, state, last_event, reason, mac;
    int64_t since_wall_s = 0;
    bool wol = false;
    std::vector<std::string> addresses;
};
std::string state_json(const StateView& s);

}  // namespace nw::bridge

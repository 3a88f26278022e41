// control/protocol.h — the control-socket protocol (one JSON line in, one JSON line out) and
// the status schema. Pure: no I/O, no logging, no globals; every input is untrusted (fuzzed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nw::control {

// ---- Requests --------------------------------------------------------------------------
//
// One line of JSON (a trailing "\n" or "\r\n" is allowed), at most kMaxRequest bytes:
//   {"cmd":"status"}
//   {"cmd":"start","target":"vpn"}     {"cmd":"stop","target":"vpn"}
//   {"cmd":"wake","target":"nas"}      {"cmd":"forget","name":"Tartiflette"}
//   {"cmd":"reload"}
// Unknown commands, unknown keys, missing or mistyped fields are errors.

inline constexpr size_t kMaxRequest = 4096;
inline constexpr size_t kMaxName = 64;

enum class Cmd : uint8_t { Status, Start, Stop, Wake, Forget, Reload };

struct Request {
    Cmd cmd = Cmd::Status;
    std::string target;  // start/stop/wake: a target name; forget: the registration name
};

// "status", "start", ...
std::string_view cmd_name(Cmd c);

// A target name: [A-Za-z0-9_.-]{1,64} (SPEC §3).
bool valid_target_name(std::string_view s);
// What `forget` accepts as a registration name: 1–64 bytes, no control characters (< 0x20,
// 0x7f). New registrations are held to the stricter safe_registration_name() (register.h).
bool valid_registration_name(std::string_view s);

// Parses and validates one request line. On failure returns false and sets *err to a
// one-line message fit to send back ("unknown command \"foo\"").
bool parse_request(std::string_view line, Request* out, std::string* err);

// The request line for `r`, "\n"-terminated (used by netwakectl).
std::string format_request(const Request& r);

// ---- Replies ---------------------------------------------------------------------------
//
// One line of JSON terminated by "\n". Success: {"ok":true} optionally with
// "message":"..." (netwakectl prints it); the status reply adds the fields below.
// Failure: {"ok":false,"error":"no such target: vpx"}.

std::string reply_ok();
std::string reply_ok(std::string_view message);
std::string reply_error(std::string_view error);

struct Reply {
    bool ok = false;
    std::string error;    // when !ok
    std::string message;  // optional, when ok
};
// Parses any reply line (tolerant: extra fields are ignored). False if it is not a JSON
// object with a boolean "ok".
bool parse_reply(std::string_view line, Reply* out, std::string* err);

// ---- Status ----------------------------------------------------------------------------
//
// The reply to {"cmd":"status"} (doc/status-json.md is the user-facing copy of this):
//
// {"ok":true, "version":"0.1.0", "pid":1234, "uptime_s":3600,
//  "sensors":[{"name":"wan","kind":"nflog","packets":123,"matched":7,"drops":0,
//              "truncated":0,"malformed":0,"queue_full":0,"up":true}],
//  "targets":[{"name":"vpn","state":"active","idle_s":12.5,"ttl_s":900,"remaining_s":887.5,
//              "hook_runs":3,"last_exit":0,"wakes":0,"proxy":null},
//             {"name":"nas","state":"idle","idle_s":null,"ttl_s":1800,"remaining_s":null,
//              "hook_runs":0,"last_exit":null,"wakes":2,
//              "proxy":{"state":"asleep","addresses":["192.168.1.20","2001:db8::20"]}}],
//  "counters":{"malformed":0,"truncated":0,"rejected":0,"dropped":0}}
//
// - durations are JSON numbers in seconds, millisecond resolution (0.5 = 500 ms);
// - "kind" is "nflog" or "pcap"; "up" is false while a sensor's handle is failing;
// - "state" is "idle" or "active"; "idle_s" is null if no packet was ever seen;
//   "remaining_s" (time until `stop`) is null while idle;
// - "last_exit": the last hook's exit status, -N if killed by signal N, null if none ran;
// - "proxy" is null for targets without a sleep proxy; its "state" is one of
//   "up", "asleep", "waking", "lost"; "addresses" are those held (answered for) right now;
// - targets include registered machines (SPEC §9) under their registration name;
// - readers ignore fields they do not know, so fields may be added without a version bump.

struct SensorStatus {
    std::string name;
    std::string kind;  // "nflog" | "pcap"
    uint64_t packets = 0, matched = 0, drops = 0, truncated = 0, malformed = 0, queue_full = 0;
    bool up = true;
};

struct ProxyStatus {
    std::string state;  // "up" | "asleep" | "waking" | "lost"
    std::vector<std::string> addresses;
};

struct TargetStatus {
    std::string name;
    std::string state;                   // "idle" | "active"
    std::optional<double> idle_s;        // since last packet; nullopt: never seen
    double ttl_s = 0;
    std::optional<double> remaining_s;   // until stop; nullopt while idle
    uint64_t hook_runs = 0;
    std::optional<int> last_exit;        // nullopt: no hook finished yet
    uint64_t wakes = 0;
    std::string wake;                    // wake verification: "waking" | "awake" | "wake_failed" | "" (none)
    uint32_t wake_attempt = 0;           // the cycle's current / last attempt
    std::optional<double> wake_s;        // awake: first magic packet -> first sign of life
    std::optional<ProxyStatus> proxy;    // nullopt: no sleep proxy
};

// The MQTT bridge (SPEC §16), present only when `mqtt:` is configured.
struct MqttStatus {
    std::string broker, client_id, topic;
    bool connected = false;
    uint64_t connects = 0, published = 0, accepted = 0, refused = 0, queue_drops = 0;
};

struct Counters {
    uint64_t malformed = 0, truncated = 0, rejected = 0, dropped = 0;
};

// The Wake-on-WAN relay's counters (SPEC §7.2), present only with `wol_relay:`.
struct RelayStatus {
    uint64_t accepted = 0, not_magic = 0, unknown_mac = 0, bad_password = 0, over_rate = 0;
};

// One component's internal counters (hooks, knocks, sleep proxy, announcer, nft, packet sockets,
// sensors' netlink overruns and reopens, ...), in a fixed order: `internals` in status.
struct CounterGroup {
    std::string name;
    std::vector<std::pair<std::string, uint64_t>> values;
};

struct Status {
    std::string version;
    int64_t pid = 0;
    int64_t uptime_s = 0;
    std::vector<SensorStatus> sensors;
    std::vector<TargetStatus> targets;
    Counters counters;
    std::vector<CounterGroup> internals;  // every other counter, by component
    std::optional<MqttStatus> mqtt;      // nullopt: no MQTT bridge configured
    std::optional<RelayStatus> relay;    // nullopt: no wol_relay section
};

// The status reply line ("\n"-terminated) for `s`. Never throws (invalid UTF-8 in names is
// replaced with U+FFFD).
std::string format_status(const Status& s);
// Parses a status reply (tolerant of missing and unknown fields; wrong types are errors).
bool parse_status(std::string_view line, Status* out, std::string* err);

// The human-readable rendering `netwakectl status` prints: a header, a sensor table, a target
// table, the counters. Pure.
std::string render_status_text(const Status& s);
// "450ms", "12s", "4m12s", "2h03m", "3d04h" — compact, for tables and logs.
std::string format_duration(double seconds);

}  // namespace nw::control

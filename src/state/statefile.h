// state/statefile.h — persistent state in daemon.state_dir (SPEC §4, §8, §9, §10): the model,
// its JSON encoding, and crash-safe load/save. Never throws, never fatal: a bad file is set aside.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nw::state {

inline constexpr int kStateVersion = 1;
inline constexpr const char* kStateFile = "state.json";
inline constexpr const char* kReplayFile = "replay.json";
inline constexpr size_t kMaxFileSize = 16u << 20;   // larger files are treated as corrupt

// Times are wall-clock milliseconds since the Unix epoch (0 = never/unset): monotonic time
// does not survive a reboot, so the core converts on save and load.
struct PersistedTarget {
    std::string name;
    bool active = false;
    int64_t last_seen_wall_ms = 0;
    int64_t active_since_wall_ms = 0;
    int64_t ttl_deadline_wall_ms = 0;   // when `stop` is due (active targets)
    std::string proxy_state;            // sleep proxy: "up", "asleep", ... ("" = none)
    std::string wake_state;             // wake verification: "waking", "awake", "wake_failed" ("" = none)
    int64_t wake_attempt = 0;           // the cycle's current attempt
    int64_t wake_first_wall_ms = 0;     // its first magic packet
};

struct MonitoredAddress {
    std::string ip;                     // textual IPv4/IPv6 address
    std::vector<uint16_t> ports;        // empty: any port
};

// A Wakupator-style registration (SPEC §9) that must survive a restart.
struct PersistedRegistration {
    std::string name;
    std::string mac;                    // "d8:cb:8a:39:be:a1"
    std::vector<MonitoredAddress> monitor;
    int64_t registered_wall_ms = 0;
    std::string state;                  // sleep proxy state at save time
};

struct PersistedState {
    int version = kStateVersion;
    std::vector<PersistedTarget> targets;
    std::vector<PersistedRegistration> registrations;
};

// One entry of the authenticated-knock replay cache (SPEC §10).
struct ReplayEntry {
    std::string nonce_hex;              // lowercase hex, 2–128 digits (SPA nonces are 32)
    int64_t expires_wall_s = 0;
};

enum class LoadResult {
    Loaded,     // *out holds the file's contents
    Missing,    // no file (or no directory): *out is empty state; not an error
    SetAside,   // corrupt, unreadable or a wrong version: renamed to <file>.corrupt-<unix time>;
                // *out is empty state, *err says what was wrong and where the file went
    Failed,     // unusable and could not even be set aside; *out is empty state, *err says why
};
const char* load_result_name(LoadResult r);

// ---- pure encoding (state/codec.cc) ----------------------------------------------------
std::string encode_state(const PersistedState& s);
// Strict: wrong types, bad version, duplicate target names are errors. Unknown keys are
// ignored (a newer build may add fields within the same version).
bool decode_state(std::string_view text, PersistedState* out, std::string* err);
std::string encode_replay(const std::vector<ReplayEntry>& entries);
bool decode_replay(std::string_view text, std::vector<ReplayEntry>* out, std::string* err);

// ---- files (state/statefile.cc) --------------------------------------------------------

// Writes `data` to dir/name so that a crash at any point leaves either the old or the new
// file: dir/name.tmp (O_EXCL|O_CLOEXEC, mode 0600), fsync, rename over dir/name, fsync dir.
// Creates `dir` (mode 0700) if it is missing. On failure (ENOSPC, EIO, ...) returns false
// with a message, removes the temporary file and leaves dir/name untouched.
bool write_file_atomic(const std::string& dir, const std::string& name, std::string_view data,
                       std::string* err);

// save_*: encode and write_file_atomic(dir, kStateFile / kReplayFile).
// load_*: read the file (at most kMaxFileSize bytes) and decode it; a leftover ".tmp" from an
// interrupted write is removed. See LoadResult for the outcomes; *err is set unless Loaded
// or Missing.
bool save_state(const std::string& dir, const PersistedState& s, std::string* err);
LoadResult load_state(const std::string& dir, PersistedState* out, std::string* err);

bool save_replay(const std::string& dir, const std::vector<ReplayEntry>& entries, std::string* err);
LoadResult load_replay(const std::string& dir, std::vector<ReplayEntry>* out, std::string* err);

}  // namespace nw::state

// state/replay_log.h — the SPA replay cache on disk (SPEC §10): a snapshot (replay.json, written
// atomically) plus an append-only log (replay.log) of the nonces accepted since, so an accepted
// datagram costs one ~60-byte append and one fdatasync, not a rewrite of the whole cache.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "state/statefile.h"
#include "sys/fd.h"

namespace nw::state {

inline constexpr const char* kReplayLogFile = "replay.log";

// One log record: "<nonce hex> <expires_wall_s> <fnv1a-32 of the text before it, 8 hex>\n".
std::string encode_replay_record(const ReplayEntry& e);
// Parses the records at the start of `text`; stops at the first incomplete or bad one (a torn
// tail after a crash). Returns how many bytes of `text` were good records.
size_t decode_replay_records(std::string_view text, std::vector<ReplayEntry>* out);

class ReplayLog {
   public:
    // The log is compacted (snapshot rewritten, log emptied) once it holds at least
    // max(kMinCompact, live entries) records: amortized O(1) bytes per accepted datagram.
    static constexpr size_t kMinCompact = 256;

    explicit ReplayLog(std::string dir) : dir_(std::move(dir)) {}

    // Loads the snapshot (load_replay: a corrupt one is set aside) and then the log. A torn or
    // bad tail of the log is cut off (and said in *notes) so later appends follow good records.
    // Returns the snapshot's LoadResult; *err as load_replay.
    LoadResult load(std::vector<ReplayEntry>* out, std::string* err, std::string* notes);
    // Appends one record and fdatasyncs it (the log is created, mode 0600, if missing).
    bool append(const ReplayEntry& e, std::string* err);
    // Writes `live` as the new snapshot (write-new + rename) and then empties the log.
    bool compact(const std::vector<ReplayEntry>& live, std::string* err);
    bool wants_compaction(size_t live) const { return records_ >= (live > kMinCompact ? live : kMinCompact); }

    size_t records() const { return records_; }          // in the log since the last compaction
    uint64_t bytes_written() const { return bytes_; }    // log + snapshot bytes written so far

   private:
    bool open_log(std::string* err);
    std::string path(const char* name) const;

    std::string dir_;
    sys::unique_fd fd_;
    size_t records_ = 0;
    uint64_t bytes_ = 0;
};

}  // namespace nw::state

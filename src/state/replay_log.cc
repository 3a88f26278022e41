// state/replay_log.cc — the replay cache's append-only log and its compaction into the snapshot
// (state/replay_log.h). Blocking file I/O on the core thread: one small write + fdatasync each.
#include "state/replay_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "sys/log.h"
#include "sys/fd.h"

namespace nw::state {

namespace {

uint32_t fnv1a(std::string_view s) {
    uint32_t h = 2166136261u;
    for (unsigned char c : s) h = (h ^ c) * 16777619u;
    return h;
}

bool lower_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// One record without its newline; false if anything is off.
bool parse_record(std::string_view line, ReplayEntry* e) {
    const size_t a = line.find(' '), b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    if (b == std::string_view::npos) return false;
    const std::string_view nonce = line.substr(0, a), exp = line.substr(a + 1, b - a - 1), sum = line.substr(b + 1);
    if (nonce.size() < 2 || nonce.size() > 128 || nonce.size() % 2 || !lower_hex(nonce)) return false;
    if (exp.empty() || exp.size() > 18 || sum.size() != 8 || !lower_hex(sum)) return false;
    int64_t v = 0;
    for (char c : exp) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    char want[9];
    std::snprintf(want, sizeof want, "%08x", fnv1a(line.substr(0, b)));
    if (sum != want) return false;
    e->nonce_hex = std::string(nonce);
    e->expires_wall_s = v;
    return true;
}

}  // namespace

std::string encode_replay_record(const ReplayEntry& e) {
    std::string body = e.nonce_hex + " " + std::to_string(e.expires_wall_s);
    char sum[10];
    std::snprintf(sum, sizeof sum, " %08x", fnv1a(body));
    return body + sum + "\n";
}

size_t decode_replay_records(std::string_view text, std::vector<ReplayEntry>* out) {
    size_t good = 0;
    while (good < text.size()) {
        const size_t nl = text.find('\n', good);
        if (nl == std::string_view::npos) break;  // no newline: torn
        ReplayEntry e;
        if (!parse_record(text.substr(good, nl - good), &e)) break;
        out->push_back(std::move(e));
        good = nl + 1;
    }
    return good;
}

std::string ReplayLog::path(const char* name) const {
    if (dir_.empty()) return name;
    return dir_.back() == '/' ? dir_ + name : dir_ + "/" + name;
}

LoadResult ReplayLog::load(std::vector<ReplayEntry>* out, std::string* err, std::string* notes) {
    const LoadResult r = load_replay(dir_, out, err);
    const std::string p = path(kReplayLogFile);
    sys::unique_fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        if (errno != ENOENT) *notes = log::errno_str("cannot read " + p, errno);
        return r;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        *notes = p + " is not a regular file: ignored";
        return r;
    }
    std::string data;
    char buf[65536];
    ssize_t n;
    while (data.size() < kMaxFileSize && ((n = ::read(fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0) data.append(buf, size_t(n));
    const size_t before = out->size();
    const size_t good = decode_replay_records(data, out);
    records_ = out->size() - before;
    if (good < size_t(st.st_size)) {
        *notes = p + ": ignored " + std::to_string(size_t(st.st_size) - good) + " byte(s) of a torn or bad tail after " +
                 std::to_string(records_) + " good record(s)";
        if (::truncate(p.c_str(), off_t(good)) != 0) *notes += "; " + log::errno_str("truncating it", errno);
    }
    return r;
}

bool ReplayLog::open_log(std::string* err) {
    if (fd_) return true;
    const std::string p = path(kReplayLogFile);
    if (!dir_.empty() && ::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
        *err = log::errno_str("creating state directory " + dir_, errno);
        return false;
    }
    fd_.reset(::open(p.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd_) {
        *err = log::errno_str("opening " + p, errno);
        return false;
    }
    // The file may be new: make its directory entry durable too.
    sys::unique_fd dfd(::open(dir_.empty() ? "." : dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd) ::fsync(dfd.get());
    return true;
}

bool ReplayLog::append(const ReplayEntry& e, std::string* err) {
    if (!open_log(err)) return false;
    const std::string rec = encode_replay_record(e);
    if (!sys::write_all(fd_.get(), rec) || ::fdatasync(fd_.get()) != 0) {
        *err = log::errno_str("appending to " + path(kReplayLogFile), errno);
        fd_.reset();  // reopened next time; a partial record is a torn tail, cut on the next load
        return false;
    }
    bytes_ += rec.size();
    ++records_;
    return true;
}

bool ReplayLog::compact(const std::vector<ReplayEntry>& live, std::string* err) {
    const std::string snap = encode_replay(live);
    if (!write_file_atomic(dir_, kReplayFile, snap, err)) return false;
    bytes_ += snap.size();
    // The snapshot holds everything: only now may the log go. A crash in between leaves records
    // that are in both, which load() merges.
    const std::string p = path(kReplayLogFile);
    const int rc = fd_ ? ::ftruncate(fd_.get(), 0) : ::truncate(p.c_str(), 0);
    if (rc != 0 && errno != ENOENT) {
        *err = log::errno_str("emptying " + p, errno);
        return false;
    }
    if (fd_) ::fdatasync(fd_.get());
    records_ = 0;
    return true;
}

}  // namespace nw::state

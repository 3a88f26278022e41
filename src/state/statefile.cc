// state/statefile.cc — crash-safe writing and forgiving reading of the state files
// (state/statefile.h). Blocking file I/O on small files; never throws, never exits.
#include "state/statefile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "sys/fd.h"
#include "sys/log.h"
#include "sys/wallclock.h"

namespace nw::state {

namespace {

std::string join(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// mkdir -p; directories created here get mode 0700 (state is private to the daemon).
bool make_dirs(const std::string& dir, std::string* err) {
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos != dir.size() && dir[pos] != '/') continue;
        const std::string part = dir.substr(0, pos);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
            *err = log::errno_str("creating state directory " + part, errno);
            return false;
        }
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        *err = "state directory " + dir + " is not a directory";
        return false;
    }
    return true;
}

// Renames `path` to path.corrupt-<unix time> (or .corrupt-<time>.N if taken). Returns the new
// name, or "" with *err set.
std::string set_aside(const std::string& path, std::string* err) {
    const std::string base = path + ".corrupt-" + std::to_string(sys::wall_s());
    for (int i = 0; i < 100; ++i) {
        const std::string to = i ? base + "." + std::to_string(i) : base;
        if (::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return to;
        if (errno == EEXIST) continue;
        if (errno == EINVAL || errno == ENOSYS) {  // filesystem without RENAME_NOREPLACE
            if (::access(to.c_str(), F_OK) == 0) continue;
            if (::rename(path.c_str(), to.c_str()) == 0) return to;
        }
        *err = log::errno_str("renaming " + path + " to " + to, errno);
        return "";
    }
    *err = "too many set-aside copies of " + path;
    return "";
}

enum class ReadStatus { Ok, Missing, Bad, Failed };

// Reads a regular file of at most kMaxFileSize bytes. Missing: ENOENT (file or directory).
// Bad: present but unusable (unreadable, not a regular file, too big). Failed: cannot tell.
ReadStatus read_file(const std::string& path, std::string* data, std::string* err) {
    sys::unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return ReadStatus::Missing;
        *err = log::errno_str("opening " + path, errno);
        return errno == EACCES || errno == ELOOP ? ReadStatus::Bad : ReadStatus::Failed;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        *err = log::errno_str("stat " + path, errno);
        return ReadStatus::Bad;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = path + " is not a regular file";
        return ReadStatus::Bad;
    }
    if (st.st_size > off_t(kMaxFileSize)) {
        *err = path + " is larger than " + std::to_string(kMaxFileSize) + " bytes";
        return ReadStatus::Bad;
    }
    data->clear();
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            *err = log::errno_str("reading " + path, errno);
            return ReadStatus::Bad;
        }
        if (n == 0) break;
        data->append(buf, size_t(n));
        if (data->size() > kMaxFileSize) {
            *err = path + " is larger than " + std::to_string(kMaxFileSize) + " bytes";
            return ReadStatus::Bad;
        }
    }
    return ReadStatus::Ok;
}

template <class T>
LoadResult load_file(const std::string& dir, const char* name, bool (*decode)(std::string_view, T*, std::string*),
                     T* out, std::string* err) {
    std::string dummy;
    if (!err) err = &dummy;
    *out = T{};
    const std::string path = join(dir, name);
    // A temporary file left by a crash mid-write holds nothing we need: the rename never happened.
    if (::unlink((path + ".tmp").c_str()) == 0) log::info("removed {}.tmp left by an interrupted write", path);

    std::string data, why;
    switch (read_file(path, &data, &why)) {
        case ReadStatus::Missing: return LoadResult::Missing;
        case ReadStatus::Failed: *err = why; return LoadResult::Failed;
        case ReadStatus::Bad: break;
        case ReadStatus::Ok:
            if (decode(data, out, &why)) return LoadResult::Loaded;
            *out = T{};
            why = path + ": " + why;
            break;
    }
    std::string rename_err;
    const std::string to = set_aside(path, &rename_err);
    if (to.empty()) {
        *err = why + "; could not set it aside: " + rename_err;
        return LoadResult::Failed;
    }
    *err = why + "; set aside as " + to + ", starting with empty state";
    return LoadResult::SetAside;
}

}  // namespace

bool write_file_atomic(const std::string& dir, const std::string& name, std::string_view data, std::string* err) {
    std::string dummy;
    if (!err) err = &dummy;
    if (name.empty() || name.find('/') != std::string::npos) {
        *err = "bad state file name \"" + name + "\"";
        return false;
    }
    if (!dir.empty() && !make_dirs(dir, err)) return false;
    const std::string path = join(dir, name);
    const std::string tmp = path + ".tmp";
    const auto fail = [&](const std::string& what, int e) {
        *err = log::errno_str(what, e) + " (" + path + " left unchanged)";
        ::unlink(tmp.c_str());
        return false;
    };

    // O_EXCL after unlink: never write through a planted symlink or into a stale file.
    ::unlink(tmp.c_str());
    sys::unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
        const int e = errno;
        *err = log::errno_str("creating " + tmp, e) + " (" + path + " left unchanged)";
        return false;
    }
    if (!sys::write_all(fd.get(), data)) {
        const int e = errno;
        return fail("writing " + tmp, e);
    }
    if (::fsync(fd.get()) != 0) {
        const int e = errno;
        return fail("fsync " + tmp, e);
    }
    if (::close(fd.release()) != 0) {
        const int e = errno;
        return fail("closing " + tmp, e);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        return fail("renaming " + tmp + " to " + path, e);
    }

    // Make the rename itself durable. The new file is in place already, so a failure here
    // is reported but the write counts as done.
    sys::unique_fd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd || ::fsync(dfd.get()) != 0) log::warn("{}", log::errno_str("fsync directory " + dir, errno));
    return true;
}

bool save_state(const std::string& dir, const PersistedState& s, std::string* err) {
    return write_file_atomic(dir, kStateFile, encode_state(s), err);
}

LoadResult load_state(const std::string& dir, PersistedState* out, std::string* err) {
    return load_file<PersistedState>(dir, kStateFile, decode_state, out, err);
}

bool save_replay(const std::string& dir, const std::vector<ReplayEntry>& entries, std::string* err) {
    return write_file_atomic(dir, kReplayFile, encode_replay(entries), err);
}

LoadResult load_replay(const std::string& dir, std::vector<ReplayEntry>* out, std::string* err) {
    return load_file<std::vector<ReplayEntry>>(dir, kReplayFile, decode_replay, out, err);
}

}  // namespace nw::state

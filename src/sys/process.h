// sys/process.h — process-level plumbing: daemonizing, the pidfile, and the signalfd through
// which the core receives signals. Thin wrappers; policy stays in the daemon.
#pragma once

#include <string>

#include "sys/fd.h"

namespace nw::sys {

// Blocks the daemon's signals (HUP, INT, TERM, USR1, USR2) in the calling thread — call before
// starting any thread so every thread inherits the mask — ignores SIGPIPE, and returns a
// CLOEXEC|NONBLOCK signalfd for them.
unique_fd block_signals_to_fd(std::string* err);

// Double fork, setsid, chdir("/"), stdio to /dev/null. Returns only in the final child; the
// original process exits 0 once the child reports it is ready via daemon_ready().
// Call after every sensor is open and before any thread is started.
bool daemonize(std::string* err);
// In the daemonized child: tell the waiting parent that start-up succeeded (it exits 0).
void daemon_ready();
// In the daemonized child: start-up failed; the waiting parent prints `msg` and exits 1.
void daemon_failed(const std::string& msg);

// Writes "<pid>\n" to path (O_CLOEXEC, 0644, created if missing). Returns false + *err.
bool write_pidfile(const std::string& path, std::string* err);
void remove_pidfile(const std::string& path);

// Absolute form of a path relative to the current directory (no symlink resolution).
std::string absolute_path(const std::string& p);

}  // namespace nw::sys

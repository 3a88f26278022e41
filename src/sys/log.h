// sys/log.h — the daemon's logger: stderr (with <N> prefixes under systemd's JOURNAL_STREAM)
// or syslog (ident "netwaked", facility daemon). Thread-safe; one line per call.
// Per-packet anomalies are never logged here: they are counted (DESIGN habit 4).
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string>
#include <string_view>

namespace nw::log {

// syslog priorities
enum class Level : int { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

void set_level(Level max);            // messages above this priority are dropped
Level level();
void use_syslog(bool on);             // true: openlog("netwaked", LOG_PID|LOG_NDELAY, LOG_DAEMON)
// Tests: capture every emitted line instead of writing it (nullptr restores normal output).
void set_sink(std::function<void(Level, std::string_view)> sink);

void write(Level lv, std::string_view msg);

template <class... A> void error(fmt::format_string<A...> f, A&&... a) { write(Level::Error, fmt::format(f, std::forward<A>(a)...)); }
template <class... A> void warn(fmt::format_string<A...> f, A&&... a) { write(Level::Warning, fmt::format(f, std::forward<A>(a)...)); }
template <class... A> void notice(fmt::format_string<A...> f, A&&... a) { write(Level::Notice, fmt::format(f, std::forward<A>(a)...)); }
template <class... A> void info(fmt::format_string<A...> f, A&&... a) { write(Level::Info, fmt::format(f, std::forward<A>(a)...)); }
template <class... A> void debug(fmt::format_string<A...> f, A&&... a) {
    if (level() >= Level::Debug) write(Level::Debug, fmt::format(f, std::forward<A>(a)...));
}
// "<what>: <strerror(errno)>" — the errno variant of the verbs (OpenBSD log_warn style).
std::string errno_str(std::string_view what, int err);

}  // namespace nw::log

// sys/log.cc — implementation of the logger in sys/log.h.
#include "sys/log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace nw::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::atomic<bool> g_syslog{false};
std::mutex g_mu;
std::function<void(Level, std::string_view)> g_sink;
bool journal() {
    static const bool j = std::getenv("JOURNAL_STREAM") != nullptr;
    return j;
}
}  // namespace

void set_level(Level max) { g_level.store(static_cast<int>(max)); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

void use_syslog(bool on) {
    std::lock_guard lk(g_mu);
    if (on && !g_syslog) openlog("netwaked", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    if (!on && g_syslog) closelog();
    g_syslog = on;
}

void set_sink(std::function<void(Level, std::string_view)> sink) {
    std::lock_guard lk(g_mu);
    g_sink = std::move(sink);
}

void write(Level lv, std::string_view msg) {
    if (static_cast<int>(lv) > g_level.load(std::memory_order_relaxed)) return;
    std::lock_guard lk(g_mu);
    if (g_sink) {
        g_sink(lv, msg);
        return;
    }
    if (g_syslog) {
        syslog(static_cast<int>(lv), "%.*s", static_cast<int>(msg.size()), msg.data());
        return;
    }
    std::string line;
    line.reserve(msg.size() + 8);
    if (journal()) line += fmt::format("<{}>", static_cast<int>(lv));
    line.append(msg);
    line.push_back('\n');
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

std::string errno_str(std::string_view what, int err) { return fmt::format("{}: {}", what, std::strerror(err)); }

}  // namespace nw::log

// daemon/daemon.cc — run_daemon(): the Runtime opened, the process daemonized and its privileges
// dropped, the threads started (bring_up), signals handled (on_signal), the loop run to a clean
// exit. Lifecycle only: the wiring is daemon/runtime.cc, policy core/, mechanisms the adapters.
#include "daemon/daemon.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <vector>

#include "action/hooks.h"
#include "action/savefile.h"
#include "action/wol.h"
#include "config/load.h"
#include "control/server.h"
#include "core/core.h"
#include "core/match.h"
#include "daemon/config_dump.h"
#include "daemon/runtime.h"
#include "sensor/sensor.h"
#include "sys/log.h"
#include "sys/loop.h"
#include "sys/notify.h"
#include "sys/privdrop.h"
#include "sys/process.h"
#include "sys/wallclock.h"

namespace nw::daemon {

namespace {

class SystemClock : public core::Clock {
   public:
    int64_t now_ns() const override {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
    }
    int64_t wall_s() const override { return sys::wall_s(); }
};

log::Level to_log_level(config::LogLevel l) {
    switch (l) {
        case config::LogLevel::Debug: return log::Level::Debug;
        case config::LogLevel::Info: return log::Level::Info;
        case config::LogLevel::Notice: return log::Level::Notice;
        case config::LogLevel::Warning: return log::Level::Warning;
        case config::LogLevel::Error: return log::Level::Error;
    }
    return log::Level::Info;
}

// Before switching to daemon.user: give it the files it must keep writing (state directory,
// control socket and its directory, pidfile), which were created as root.
void hand_over_files(const config::Config& cfg) {
    if (cfg.daemon.user.empty() || geteuid() != 0) return;
    struct passwd pw {}, *res = nullptr;
    char buf[4096];
    if (getpwnam_r(cfg.daemon.user.c_str(), &pw, buf, sizeof buf, &res) != 0 || !res) return;  // privdrop reports it
    auto give = [&](const std::string& path) {
        if (!path.empty() && ::chown(path.c_str(), pw.pw_uid, pw.pw_gid) != 0 && errno != ENOENT)
            log::warn("{}", log::errno_str("chown " + path, errno));
    };
    if (!cfg.daemon.state_dir.empty()) {
        ::mkdir(cfg.daemon.state_dir.c_str(), 0750);
        give(cfg.daemon.state_dir);
    }
    const std::string& sock = cfg.daemon.control_socket;
    if (!sock.empty()) {
        give(sock);
        const auto slash = sock.rfind('/');
        // Only a directory of our own (e.g. /run/netwaked), never a shared one like /tmp or /run.
        if (slash != std::string::npos && slash > 0 && sock.substr(0, slash).ends_with("/netwaked"))
            give(sock.substr(0, slash));
    }
}

// SIGHUP stops every active target, SIGUSR1 logs the status, SIGUSR2 reloads, SIGTERM/SIGINT
// quit (a second one kills running hooks instead of waiting for them).
void on_signal(const signalfd_siginfo& si, Runtime& rt, const CliOptions& opts, bool* quitting) {
    switch (si.ssi_signo) {
        case SIGHUP:
            log::notice("SIGHUP: stopping every active target");
            rt.core().stop_all(core::Reason::Signal);
            break;
        case SIGUSR1: rt.dump_status(); break;
        case SIGUSR2:
            sys::notify_reloading();
            if (std::string why; !rt.reload(opts, &why)) log::warn("SIGUSR2: {}", why);
            sys::notify_ready();
            break;
        case SIGTERM:
        case SIGINT:
            if (!*quitting) {
                log::notice("{}: shutting down", strsignal(si.ssi_signo));
                *quitting = true;
                sys::notify_stopping();
                rt.loop().quit();
            } else {
                log::notice("{} again: not waiting for hooks", strsignal(si.ssi_signo));
                rt.hooks().kill_all();
            }
            break;
    }
}

// DESIGN habit 7, in order: open sensors and sockets, daemonize, write the pidfile, drop
// privileges, then start the threads. False (logged, and told to a waiting parent) on failure.
bool bring_up(Runtime& rt, const CliOptions& opts, config::Config cfg, std::string* pidfile) {
    std::string err;
    if (!rt.open(std::make_shared<const config::Config>(std::move(cfg)), &err)) {
        log::error("{}", err);
        return false;
    }
    if (opts.daemonize) {
        if (!sys::daemonize(&err)) {
            log::error("{}", err);
            return false;
        }
        log::use_syslog(true);
    }
    *pidfile = !opts.pidfile.empty() ? opts.pidfile : rt.config().daemon.pidfile;
    if (!pidfile->empty() && !sys::write_pidfile(*pidfile, &err)) {
        log::error("{}", err);
        sys::daemon_failed(err);
        pidfile->clear();  // not ours to remove
        return false;
    }
    hand_over_files(rt.config());
    // Sensors and sockets are open; keep only CAP_NET_RAW + CAP_NET_ADMIN (a reload may re-open
    // WoL sockets) and clear the ambient set, before any thread starts.
    if (!sys::drop_privileges(rt.config().daemon.user, true, true, false, &err)) {
        log::error("dropping privileges: {}", err);
        sys::daemon_failed("dropping privileges: " + err);
        return false;
    }
    log::info("privileges: {}", sys::describe_caps());
    if (!rt.start(&err)) {
        log::error("{}", err);
        sys::daemon_failed(err);
        return false;
    }
    return true;
}

}  // namespace

int run_daemon(const CliOptions& opts, config::Config cfg) {
    log::set_level(opts.debug ? log::Level::Debug : to_log_level(cfg.daemon.log_level));
    if (opts.syslog) log::use_syslog(true);

    std::string err;
    // Signals first, so every thread started later inherits the blocked mask.
    sys::unique_fd sigfd = sys::block_signals_to_fd(&err);
    if (!sigfd) {
        log::error("{}", err);
        return 1;
    }

    Runtime::adjust(cfg);
    SystemClock clock;
    Runtime rt(clock);
    std::string pidfile;
    if (!bring_up(rt, opts, std::move(cfg), &pidfile)) {
        if (!pidfile.empty()) sys::remove_pidfile(pidfile);
        return 1;
    }
    sys::daemon_ready();
    sys::notify_ready();

    bool quitting = false;
    rt.loop().add(sigfd.get(), EPOLLIN, [&](uint32_t) {
        signalfd_siginfo si;
        while (::read(sigfd.get(), &si, sizeof si) == sizeof si) on_signal(si, rt, opts, &quitting);
    });

    log::notice("netwaked {} running: {} sensor(s), {} target(s)", NETWAKED_VERSION, rt.config().sensors.size(),
                rt.config().targets.size());
    for (const auto& t : rt.config().targets)
        if (!t.hook_shell.empty()) log::notice("{}: -c is a command line; the hook runs as {}", t.name, hook_form(t));
    rt.run();
    rt.shutdown();
    sys::remove_pidfile(pidfile);
    log::notice("netwaked exiting");
    return 0;
}

}  // namespace nw::daemon

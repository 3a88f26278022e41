// action/hooks.cc — implementation of HookRunner (action/hooks.h): posix_spawn, pidfd reaping,
// per-line output logging, timeouts. Never blocks the loop or forks the parent; a shell only for
// the tuninetd-mode `-c` command line form (SPEC §2.2).
#include "action/hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sys/log.h"

namespace nw::action {

namespace {
constexpr int64_t kPollNs = 20'000'000;   // child polling interval when pidfd_open is unavailable
constexpr int kMaxReadsPerWakeup = 16;    // 16 x 64 KiB: a chatty hook cannot starve the loop

int64_t ms_to_ns(std::chrono::milliseconds d) { return static_cast<int64_t>(d.count()) * 1'000'000; }

std::string duration_str(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
    return fmt::format("{} ms", d.count());
}

bool is_start_stop(const std::string& ev) { return ev == "start" || ev == "stop"; }

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
}  // namespace

struct HookRunner::Output {
    sys::unique_fd fd;
    std::string target, event;
    std::string partial;        // bytes of the current line so far
    bool discarding = false;    // the current line exceeded max_line: skip to its end
    size_t logged = 0;          // bytes logged so far in this run
    uint64_t dropped = 0;       // bytes not logged
    int64_t linger_until = 0;   // 0 while the main process runs
};

HookRunner::HookRunner(sys::Loop& loop, core::TimerQueue& timers, HookRunnerOptions opt)
    : loop_(loop), timers_(timers), opt_(opt), evfd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    for (const char* name : {"PATH", "LANG", "TZ"})
        if (const char* v = std::getenv(name)) base_env_.push_back(std::string(name) + "=" + v);
    if (evfd_)
        loop_.add(evfd_.get(), EPOLLIN, [this](uint32_t) { on_deferred(); });
    else
        log::error("{}", log::errno_str("hook runner: eventfd", errno));
}

HookRunner::~HookRunner() {
    for (auto& [name, t] : targets_) {
        Run* r = t.run.get();
        if (!r || r->pid <= 0) continue;
        ::kill(-r->pid, SIGKILL);
        if (r->pidfd) loop_.remove(r->pidfd.get());
        while (::waitpid(r->pid, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    for (const auto& k : kills_) ::kill(-k.pgid, SIGKILL);
    for (auto& [id, o] : outputs_) loop_.remove(o->fd.get());
    if (evfd_) loop_.remove(evfd_.get());
}

size_t HookRunner::pending() const {
    size_t n = 0;
    for (const auto& [name, t] : targets_) n += t.queue.size() + (t.run ? 1 : 0);
    return n;
}

int64_t HookRunner::next_deadline_ns() const {
    int64_t d = 0;
    auto take = [&d](int64_t t) {
        if (t > 0 && (d == 0 || t < d)) d = t;
    };
    for (const auto& [name, t] : targets_) {
        const Run* r = t.run.get();
        if (!r || r->pid <= 0) continue;
        if (!r->terminated && r->job.timeout.count() > 0) take(r->start_ns + ms_to_ns(r->job.timeout));
        if (!r->pidfd) take(now_ns() + kPollNs);
    }
    for (const auto& k : kills_) take(k.at_ns);
    for (const auto& [id, o] : outputs_) take(o->linger_until);
    return d;
}

void HookRunner::notify() {
    const int64_t d = next_deadline_ns();
    if (d == notified_) return;
    notified_ = d;
    if (d > 0)
        timers_.arm_at(this, kTick, d, [this](int64_t now) {
            notified_ = -1;  // fired: whatever is next must be armed again
            on_time(now);
        });
    else
        timers_.cancel(this, kTick);
}

// ---- queueing -------------------------------------------------------------------------------

void HookRunner::submit(core::HookJob job) {
    const std::string name = job.target;
    Target& t = targets_[name];
    enqueue(t, std::move(job));
    if (!t.run) start_next(name);
    notify();
}

void HookRunner::enqueue(Target& t, core::HookJob job) {
    auto& q = t.queue;
    if (t.run && job.event == "stop") {
        auto it = std::find_if(q.rbegin(), q.rend(), [](const core::HookJob& j) { return is_start_stop(j.event); });
        if (it != q.rend() && it->event == "start") {
            log::info("{}: pending hook start cancelled by a stop (neither ran)", job.target);
            q.erase(std::next(it).base());
            stats_.coalesced += 2;
            return;
        }
    }
    if (job.event == "wake" &&
        static_cast<size_t>(std::count_if(q.begin(), q.end(), [](const core::HookJob& j) { return j.event == "wake"; })) >=
            opt_.max_wakes) {
        q.erase(std::find_if(q.begin(), q.end(), [](const core::HookJob& j) { return j.event == "wake"; }));
        ++stats_.dropped;
        log::debug("{}: too many pending wake hooks, oldest dropped", job.target);
    }
    if (q.size() >= opt_.max_queue && !q.empty()) {
        auto it = std::find_if(q.begin(), q.end(), [](const core::HookJob& j) { return !is_start_stop(j.event); });
        if (it == q.end()) it = q.begin();
        log::debug("{}: hook queue full, pending {} dropped", job.target, it->event);
        q.erase(it);
        ++stats_.dropped;
    }
    q.push_back(std::move(job));
}

void HookRunner::start_next(const std::string& name) {
    auto it = targets_.find(name);
    if (it == targets_.end()) return;
    Target& t = it->second;
    if (!t.run && !t.queue.empty()) {
        t.run = std::make_unique<Run>();
        t.run->job = std::move(t.queue.front());
        t.queue.pop_front();
        t.run->id = next_id_++;
        t.run->start_ns = now_ns();
        if (!spawn(*t.run)) {
            // Finished from the loop, not from inside submit(): on_done must not re-enter the core.
            deferred_.push_back(name);
            const uint64_t one = 1;
            (void)!::write(evfd_.get(), &one, sizeof one);
        }
    }
    if (!t.run && t.queue.empty()) targets_.erase(it);
}

// ---- spawning -------------------------------------------------------------------------------

namespace {
// The hook's environment: the daemon's PATH/LANG/TZ plus the job's NETWAKED_* variables.
std::vector<std::string> hook_env(const std::vector<std::string>& base, const core::HookJob& j) {
    std::vector<std::string> env_s = base;
    for (const auto& [k, v] : j.env)
        if (k.starts_with("NETWAKED_") && k.find('=') == std::string::npos) env_s.push_back(k + "=" + v);
    return env_s;
}

// tuninetd's -c command line form (SPEC §2.2): /bin/sh -c '<cmd> "$@"' netwaked event target.
std::vector<std::string> hook_args(const core::HookJob& j) {
    std::vector<std::string> args{j.path};
    if (!j.shell.empty()) args.insert(args.end(), {"-c", j.shell + " \"$@\"", "netwaked"});
    args.insert(args.end(), {j.event, j.target});
    return args;
}

// NULL-terminated pointers into `v` (for argv/envp); valid while `v` lives unchanged.
std::vector<char*> c_ptrs(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// posix_spawn with stdout/stderr on `out_fd`, stdin on /dev/null, cwd /, its own process group
// and default signal dispositions. Returns 0 or the error number.
int spawn_process(const std::string& path, int out_fd, char* const argv[], char* const envp[], pid_t& pid) {
    // Order matters if the pipe landed on fd 0-2 (daemon with closed stdio): dup2 first.
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, "/");
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);

    const int rc = ::posix_spawn(&pid, path.c_str(), &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}
}  // namespace

bool HookRunner::spawn(Run& r) {
    const core::HookJob& j = r.job;
    if (j.path.empty() || j.path[0] != '/') {
        r.spawn_err = EINVAL;
        return false;
    }
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) {
        r.spawn_err = errno;
        return false;
    }
    sys::unique_fd rd(p[0]), wr(p[1]);
    ::fcntl(rd.get(), F_SETFL, O_NONBLOCK);

    std::vector<std::string> env_s = hook_env(base_env_, j);
    std::vector<std::string> args = hook_args(j);
    std::vector<char*> envp = c_ptrs(env_s), argv = c_ptrs(args);
    pid_t pid = -1;
    const int rc = spawn_process(j.path, wr.get(), argv.data(), envp.data(), pid);
    if (rc != 0) {
        r.spawn_err = rc;
        return false;
    }
    wr.reset();
    r.pid = pid;
    ++stats_.spawned;
    log::debug("{}: hook {} started: {} (pid {})", j.target, j.event, j.path, pid);

    r.pidfd.reset(opt_.use_pidfd ? pidfd_open(pid) : -1);
    if (r.pidfd) {
        loop_.add(r.pidfd.get(), EPOLLIN, [this, name = j.target, id = r.id](uint32_t) { reap(name, id); });
    } else if (opt_.use_pidfd) {
        log::debug("{}", log::errno_str("pidfd_open (polling the hook instead)", errno));
    }

    auto o = std::make_unique<Output>();
    o->fd = std::move(rd);
    o->target = j.target;
    o->event = j.event;
    const uint64_t oid = r.id;
    loop_.add(o->fd.get(), EPOLLIN, [this, oid](uint32_t) { read_output(oid); });
    outputs_[oid] = std::move(o);
    r.out_id = oid;
    return true;
}

// ---- completion -----------------------------------------------------------------------------

void HookRunner::reap(const std::string& name, uint64_t run_id) {
    auto it = targets_.find(name);
    if (it == targets_.end() || !it->second.run || it->second.run->id != run_id) return;
    Run& r = *it->second.run;
    int st = 0;
    pid_t got;
    do got = ::waitpid(r.pid, &st, WNOHANG);
    while (got < 0 && errno == EINTR);
    if (got == 0) return;  // spurious wake-up: still running
    if (got < 0) log::warn("{}: hook {}: {}", name, r.job.event, log::errno_str("waitpid", errno));
    finish(name, st, got > 0);
}

void HookRunner::finish(const std::string& name, int st, bool status_known) {
    Target& t = targets_.at(name);
    std::unique_ptr<Run> r = std::move(t.run);
    const int64_t now = now_ns();
    core::HookResult res;
    res.target = r->job.target;
    res.event = r->job.event;
    res.timed_out = r->timed_out;
    res.runtime_ms = (now - r->start_ns) / 1'000'000;
    const std::string what = fmt::format("{}: hook {}", res.target, res.event);

    if (r->pid <= 0) {
        res.exit_code = 127;
        res.runtime_ms = 0;
        ++stats_.exec_failed;
        const char* why = r->spawn_err == EINVAL ? "path is not absolute" : std::strerror(r->spawn_err);
        log::error("{}: cannot execute {}: {}", what, r->job.path, why);
    } else {
        if (r->pidfd) loop_.remove(r->pidfd.get());
        if (r->out_id) {
            read_output(r->out_id);  // what the main process wrote is in the pipe already
            auto o = outputs_.find(r->out_id);
            if (o != outputs_.end()) {
                o->second->linger_until = now + ms_to_ns(opt_.output_linger);
                if (opt_.output_linger.count() <= 0) close_output(r->out_id);
            }
        }
        if (!status_known) {
            res.exit_code = 255;
            log::warn("{} exited with unknown status (reaped elsewhere) after {} ms", what, res.runtime_ms);
        } else if (WIFEXITED(st)) {
            res.exit_code = WEXITSTATUS(st);
            if (res.exit_code == 0)
                log::info("{} exited with status 0 after {} ms", what, res.runtime_ms);
            else
                log::warn("{} exited with status {} after {} ms", what, res.exit_code, res.runtime_ms);
        } else if (WIFSIGNALED(st)) {
            res.exit_code = -WTERMSIG(st);
            log::warn("{} killed by signal {} after {} ms", what, WTERMSIG(st), res.runtime_ms);
        }
    }
    r.reset();
    start_next(name);  // before on_done: a job submitted from on_done queues behind the others
    notify();
    if (on_done) on_done(res);
}

void HookRunner::on_deferred() {
    uint64_t n;
    while (::read(evfd_.get(), &n, sizeof n) > 0) {
    }
    std::vector<std::string> names;
    names.swap(deferred_);
    for (const auto& name : names) {
        auto it = targets_.find(name);
        if (it != targets_.end() && it->second.run && it->second.run->pid <= 0) finish(name, 0, true);
    }
}

// ---- output ---------------------------------------------------------------------------------

void HookRunner::read_output(uint64_t out_id) {
    auto it = outputs_.find(out_id);
    if (it == outputs_.end()) return;
    Output& o = *it->second;
    char buf[65536];
    for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
        const ssize_t n = ::read(o.fd.get(), buf, sizeof buf);
        if (n > 0) {
            feed(o, buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        close_output(out_id);  // EOF (or a read error: nothing more will come)
        return;
    }
}

void HookRunner::feed(Output& o, const char* p, size_t n) {
    while (n > 0) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
        const size_t seg = nl ? static_cast<size_t>(nl - p) : n;
        if (o.discarding) {
            o.dropped += seg + (nl ? 1 : 0);
            if (nl) o.discarding = false;
        } else {
            const size_t room = opt_.max_line - std::min(opt_.max_line, o.partial.size());
            o.partial.append(p, std::min(seg, room));
            if (seg > room) {  // over-long line: log its head, count the rest
                emit(o, o.partial + " [line truncated]");
                o.dropped += seg - room + (nl ? 1 : 0);
                o.partial.clear();
                o.discarding = !nl;
            } else if (nl) {
                emit(o, o.partial);
                o.partial.clear();
            }
        }
        if (!nl) return;
        n -= seg + 1;
        p = nl + 1;
    }
}

void HookRunner::emit(Output& o, std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (o.logged + line.size() + 1 > opt_.max_output) {
        o.dropped += line.size() + 1;
        return;
    }
    o.logged += line.size() + 1;
    std::string clean(line);
    for (char& c : clean)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) c = '?';
    log::info("{}: hook {}: {}", o.target, o.event, clean);
}

void HookRunner::close_output(uint64_t out_id) {
    auto it = outputs_.find(out_id);
    if (it == outputs_.end()) return;
    Output& o = *it->second;
    if (!o.partial.empty()) emit(o, o.partial);
    if (o.dropped > 0)
        log::warn("{}: hook {}: {} more bytes of output not logged (limits: {} bytes a line, {} a run)", o.target,
                  o.event, o.dropped, opt_.max_line, opt_.max_output);
    stats_.output_dropped += o.dropped;
    loop_.remove(o.fd.get());
    outputs_.erase(it);
    for (auto& [name, t] : targets_)
        if (t.run && t.run->out_id == out_id) t.run->out_id = 0;
    notify();  // its linger deadline is gone (EOF read on the loop: nobody else re-arms)
}

// ---- time -----------------------------------------------------------------------------------

void HookRunner::terminate(Run& r, int64_t now, bool timeout) {
    r.terminated = true;
    r.timed_out = timeout;
    if (timeout) {
        ++stats_.timed_out;
        log::warn("{}: hook {} timed out after {}, sending SIGTERM to its process group", r.job.target,
                  r.job.event, duration_str(r.job.timeout));
    } else {
        log::notice("{}: hook {} terminated (shutdown)", r.job.target, r.job.event);
    }
    ::kill(-r.pid, SIGTERM);
    kills_.push_back({r.pid, now + ms_to_ns(opt_.kill_grace)});
}

void HookRunner::on_time(int64_t now) {
    std::vector<std::pair<std::string, uint64_t>> poll;
    for (auto& [name, t] : targets_) {
        Run* r = t.run.get();
        if (!r || r->pid <= 0) continue;
        if (!r->terminated && r->job.timeout.count() > 0 && now >= r->start_ns + ms_to_ns(r->job.timeout))
            terminate(*r, now, true);
        if (!r->pidfd) poll.emplace_back(name, r->id);
    }
    for (auto it = kills_.begin(); it != kills_.end();) {
        if (now < it->at_ns) {
            ++it;
            continue;
        }
        // A pgid can be reused only once its group is empty; don't hit one of our own new hooks.
        const pid_t g = it->pgid;
        const bool reused = std::any_of(targets_.begin(), targets_.end(), [g](const auto& kv) {
            return kv.second.run && kv.second.run->pid == g && !kv.second.run->terminated;
        });
        if (!reused) ::kill(-g, SIGKILL);
        it = kills_.erase(it);
    }
    std::vector<uint64_t> expired;
    for (const auto& [id, o] : outputs_)
        if (o->linger_until > 0 && now >= o->linger_until) expired.push_back(id);
    for (uint64_t id : expired) {
        read_output(id);
        close_output(id);
    }
    for (const auto& [name, id] : poll) reap(name, id);
    notify();
}

void HookRunner::kill_all() {
    const int64_t now = now_ns();
    for (auto& [name, t] : targets_) {
        stats_.dropped += t.queue.size();
        t.queue.clear();
        if (t.run && t.run->pid > 0 && !t.run->terminated) terminate(*t.run, now, false);
    }
    notify();
}

bool HookRunner::run_until_idle(int64_t deadline_ns) {
    while (pending() > 0) {
        const int64_t now = now_ns();
        if (now >= deadline_ns) break;
        const int64_t until = std::min(deadline_ns, timers_.next_deadline_ns());
        const int ms = static_cast<int>(std::max<int64_t>(0, (until - now + 999'999) / 1'000'000));
        if (!loop_.run_once(ms)) break;
        timers_.run_due();
    }
    return pending() == 0;
}

}  // namespace nw::action

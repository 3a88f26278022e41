// action/hooks.h — HookRunner: runs hook executables for the core on its sys::Loop (SPEC §5,
// DESIGN habit 6). Never blocks the loop, never forks the parent, never runs a shell.
//
// How a hook runs
//   posix_spawn(<path>, argv {<path>, <event>, <target>}); environment = the job's NETWAKED_*
//   pairs (other names are dropped) + PATH, LANG, TZ as netwaked itself had them at construction.
//   stdin /dev/null; stdout+stderr into one pipe whose lines are logged as
//   "<target>: hook <event>: <line>" (control characters shown as '?', lines capped at
//   max_line bytes, at most max_output bytes logged per run; the rest is counted and reported
//   in one line). Own process group (pgid = pid), empty signal mask, every signal at its
//   default disposition (except glibc's internal 32/33, which its posix_spawn leaves ignored),
//   cwd "/", no fd above 2 (closefrom in the child, on top of CLOEXEC).
//   Reaped through a pidfd watched by the loop (no SIGCHLD handling needed; nobody else in the
//   daemon may call waitpid(-1)). If pidfd_open is unavailable, the runner polls the child
//   with waitpid(WNOHANG) every 20 ms through its deadlines.
//
// Completion and timeouts
//   A job is done when its main process has exited. Its output pipe is then drained and, if
//   children still hold it open, read for up to output_linger more, then closed (a background
//   process that keeps writing to it gets EPIPE/SIGPIPE: hooks should redirect the output of
//   what they leave running). Background children of a hook that exited on its own are left
//   alone. After job.timeout (<= 0: none) the process group gets SIGTERM, and kill_grace later
//   SIGKILL (even if the main process has exited meanwhile, its group is killed then).
//   exit_code: exit status; -N if killed by signal N; 127 if it could not be started (ENOENT,
//   EACCES, ...: logged as "cannot execute"); 255 if its status was lost (reaped elsewhere).
//
// Order and coalescing (per target; different targets run in parallel)
//   Jobs of one target run one at a time in submission order. While one runs, new jobs queue:
//   - a new `stop` whose newest pending start/stop job is a pending `start` cancels that start
//     and is dropped itself (neither ran: the service stays as the last hook left it, which
//     was stopped). A `start` alone is never dropped, so traffic that arrives while a `stop`
//     hook runs still leads to a fresh `start` afterwards. Counted in stats().coalesced (2 per pair).
//   - at most max_wakes pending `wake` jobs: a further one drops the oldest pending wake;
//   - at most max_queue pending jobs: a further one drops the oldest pending job that is not
//     start/stop (else the oldest of all). Both counted in stats().dropped.
//
// Loop and timer integration (everything on the loop's thread; the loop must outlive the runner)
//   The runner adds its own fds to the loop (pipes, pidfds, one eventfd). Its deadlines
//   (timeouts, SIGKILL escalation, output linger, pidfd-less polling) are one timeout on the
//   loop's core::TimerQueue, key (this, kTick), re-armed at the earliest of them whenever they
//   change and cancelled at destruction. Time is read only through the queue's core::Clock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/ports.h"
#include "core/timer_queue.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace nw::action {

struct HookRunnerOptions {
    std::chrono::milliseconds kill_grace{5000};     // SIGTERM -> SIGKILL of a timed-out group
    std::chrono::milliseconds output_linger{1000};  // reading a pipe still open after the main exit
    size_t max_line = 4096;                         // bytes per logged line
    size_t max_output = 64 * 1024;                  // bytes of output logged per run
    size_t max_queue = 64;                          // pending jobs per target
    size_t max_wakes = 16;                          // pending `wake` jobs per target
    bool use_pidfd = true;                          // false: poll with waitpid (tests the fallback)
};

struct HookStats {
    uint64_t spawned = 0;         // processes started
    uint64_t exec_failed = 0;     // jobs that could not be started (exit_code 127)
    uint64_t timed_out = 0;       // jobs that hit their timeout
    uint64_t coalesced = 0;       // jobs cancelled by the start+stop rule
    uint64_t dropped = 0;         // jobs dropped by the queue bounds
    uint64_t output_dropped = 0;  // output bytes not logged (line or per-run cap)
};

class HookRunner : public core::HookSpawner {
   public:
    HookRunner(sys::Loop& loop, core::TimerQueue& timers, HookRunnerOptions opt = {});
    // SIGKILLs every group still running or due to be killed, and reaps the main processes.
    ~HookRunner() override;
    HookRunner(const HookRunner&) = delete;
    HookRunner& operator=(const HookRunner&) = delete;

    // Queues the job (rules above) and starts it if its target is idle. Never blocks.
    void submit(core::HookJob job) override;
    // Jobs running or queued (not counting output still lingering or groups awaiting SIGKILL).
    size_t pending() const override;
    // Drops every queued job, sends SIGTERM to every running group now; SIGKILL follows
    // kill_grace later (on the queue), or at destruction, whichever comes first.
    void kill_all() override;

    // Shutdown helper: runs loop.run_once() and the queue's due timeouts (every component's)
    // until pending() == 0 or deadline_ns passes. True if idle.
    bool run_until_idle(int64_t deadline_ns);

    const HookStats& stats() const { return stats_; }
    // Its one timeout on the queue (tests look at its deadline).
    static constexpr core::TimerQueue::Purpose kTick = 0;

   private:
    struct Output;
    struct Run {
        core::HookJob job;
        uint64_t id = 0;
        pid_t pid = -1;           // -1: could not be started (spawn_err)
        int spawn_err = 0;
        sys::unique_fd pidfd;     // empty: polled
        int64_t start_ns = 0;
        bool terminated = false;  // SIGTERM sent (timeout or kill_all)
        bool timed_out = false;
        uint64_t out_id = 0;      // 0: no output pipe open
    };
    struct Target {
        std::deque<core::HookJob> queue;
        std::unique_ptr<Run> run;
    };
    struct GroupKill {
        pid_t pgid;
        int64_t at_ns;
    };

    void start_next(const std::string& name);
    bool spawn(Run& r);
    void enqueue(Target& t, core::HookJob job);
    void reap(const std::string& name, uint64_t run_id);
    void finish(const std::string& name, int wait_status, bool status_known);
    void read_output(uint64_t out_id);
    void feed(Output& o, const char* p, size_t n);
    void emit(Output& o, std::string_view line);
    void close_output(uint64_t out_id);
    void terminate(Run& r, int64_t now, bool timeout);
    void on_deferred();
    void notify();
    int64_t next_deadline_ns() const;  // earliest deadline, 0 if none
    void on_time(int64_t now_ns);      // does whatever is due (harmless early or twice)
    int64_t now_ns() const { return timers_.clock().now_ns(); }

    sys::Loop& loop_;
    core::TimerQueue& timers_;
    HookRunnerOptions opt_;
    std::vector<std::string> base_env_;  // PATH=, LANG=, TZ= as found at construction
    std::map<std::string, Target> targets_;
    std::map<uint64_t, std::unique_ptr<Output>> outputs_;
    std::vector<GroupKill> kills_;
    std::vector<std::string> deferred_;  // targets whose job could not be started
    sys::unique_fd evfd_;                // wakes the loop to finish deferred_ outside submit()
    uint64_t next_id_ = 1;
    int64_t notified_ = -1;
    HookStats stats_;
    core::TimerOwner timer_owner_{timers_, this};  // last: cancels kTick first
};

}  // namespace nw::action

// tests/unit/action_hooks.cc — HookRunner against real /bin/sh hook scripts on a real sys::Loop.
// Drives the loop until a condition holds or a deadline passes; never sleeps blindly.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "action/hooks.h"
#include "loop_clock.h"
#include "sys/log.h"
#include "sys/loop.h"

using namespace nw;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    for (std::string l; std::getline(ss, l);) v.push_back(l);
    return v;
}

// A process is gone once /proc/<pid> is missing or it is a zombie nobody reaped yet.
bool gone(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    if (!f) return true;
    std::string line;
    std::getline(f, line);
    const auto rp = line.rfind(')');
    return rp != std::string::npos && rp + 2 < line.size() && line[rp + 2] == 'Z';
}

struct Fixture {
    sys::Loop loop;
    test::LoopTimers lt{loop};
    std::string dir;
    std::vector<core::HookResult> done;
    std::vector<std::string> logs;
    std::unique_ptr<action::HookRunner> runner;

    explicit Fixture(action::HookRunnerOptions opt = {}) {
        char tmpl[] = "/tmp/nw-hooks-XXXXXX";
        dir = ::mkdtemp(tmpl);
        log::set_sink([this](log::Level, std::string_view m) { logs.emplace_back(m); });
        runner = std::make_unique<action::HookRunner>(loop, lt.q, opt);
        runner->on_done = [this](const core::HookResult& r) { done.push_back(r); };
    }
    ~Fixture() {
        runner.reset();
        log::set_sink(nullptr);
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    // Writes an executable /bin/sh script; "$D" in body is this test's directory.
    std::string script(const std::string& name, const std::string& body) {
        const std::string path = dir + "/" + name;
        std::ofstream(path) << "#!/bin/sh\nD=" << dir << "\n" << body << "\n";
        ::chmod(path.c_str(), 0755);
        return path;
    }
    core::HookJob job(const std::string& target, const std::string& path, const std::string& event,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        core::HookJob j;
        j.target = target;
        j.path = path;
        j.event = event;
        j.timeout = timeout;
        j.env = {{"NETWAKED_EVENT", event}, {"NETWAKED_TARGET", target}};
        return j;
    }
    bool run_until(const std::function<bool()>& pred, double seconds = 10) {
        const int64_t deadline = lt.now_ns() + static_cast<int64_t>(seconds * 1e9);
        while (!pred()) {
            if (lt.now_ns() > deadline) return false;
            lt.step(50);
        }
        return true;
    }
    bool logged(const std::string& needle) const {
        return std::any_of(logs.begin(), logs.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; });
    }
    bool timed() const { return lt.q.armed(runner.get(), action::HookRunner::kTick); }  // anything pending in time
    std::string file(const std::string& name) const { return slurp(dir + "/" + name); }
};

}  // namespace

TEST_CASE("hooks: argv, exact environment, stdin, process group, signal state, cwd") {
    const char* old_lang = std::getenv("LANG");
    const std::string saved_lang = old_lang ? old_lang : "";
    ::setenv("LANG", "C.UTF-8", 1);
    ::setenv("TZ", "UTC", 1);
    ::setenv("NW_TEST_SECRET", "must-not-leak", 1);
    // The daemon blocks signals for signalfd and ignores SIGPIPE: the hook must not inherit that.
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &block, &old_mask);
    auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
    {
        Fixture fx;  // the runner captures PATH/LANG/TZ at construction
        const std::string hook = fx.script("hook",
                                           "printf '%s\\n' \"$0\" \"$#\" \"$@\" > $D/argv\n"
                                           "tr '\\000' '\\n' < /proc/$$/environ > $D/env\n"
                                           "readlink /proc/$$/fd/0 > $D/stdin\n"
                                           "readlink /proc/$$/cwd > $D/cwd\n"
                                           "read -r a b c d pg rest < /proc/$$/stat; echo \"$$ $pg\" > $D/pgrp\n"
                                           "exec grep -E '^Sig(Blk|Ign)' /proc/self/status > $D/sig");
        auto j = fx.job("tgt-1", hook, "start");
        j.env.emplace_back("NETWAKED_REASON", "traffic");
        j.env.emplace_back("NOT_NETWAKED", "dropped");
        fx.runner->submit(j);
        REQUIRE(fx.run_until([&] { return fx.done.size() == 1; }));
        CHECK(fx.done[0].exit_code == 0);
        CHECK(fx.done[0].target == "tgt-1");
        CHECK(fx.done[0].event == "start");
        CHECK(fx.runner->pending() == 0);

        CHECK(lines_of(fx.file("argv")) == std::vector<std::string>{hook, "2", "start", "tgt-1"});
        auto env = lines_of(fx.file("env"));
        std::sort(env.begin(), env.end());
        std::vector<std::string> want = {"LANG=C.UTF-8", "NETWAKED_EVENT=start", "NETWAKED_REASON=traffic",
                                         "NETWAKED_TARGET=tgt-1", "TZ=UTC"};
        if (const char* p = std::getenv("PATH")) want.push_back(std::string("PATH=") + p);
        std::sort(want.begin(), want.end());
        CHECK(env == want);
        CHECK(fx.file("stdin") == "/dev/null\n");
        CHECK(fx.file("cwd") == "/\n");
        auto pg = lines_of(fx.file("pgrp"));
        REQUIRE(pg.size() == 1);
        std::istringstream ps(pg[0]);
        long pid = 0, pgrp = -1;
        ps >> pid >> pgrp;
        CHECK(pid == pgrp);  // its own process group
        const auto sig = lines_of(fx.file("sig"));
        REQUIRE(sig.size() == 2);
        CHECK(sig[0] == "SigBlk:\t0000000000000000");
        // glibc's posix_spawn leaves its two internal signals (32, 33: bits 31, 32) ignored;
        // no application signal may stay ignored.
        REQUIRE(sig[1].starts_with("SigIgn:\t"));
        CHECK((std::stoull(sig[1].substr(8), nullptr, 16) & ~0x180000000ULL) == 0);
        CHECK(fx.logged("tgt-1: hook start exited with status 0 after "));
    }
    ::signal(SIGPIPE, old_pipe);
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    ::unsetenv("NW_TEST_SECRET");
    ::unsetenv("TZ");
    if (saved_lang.empty())
        ::unsetenv("LANG");
    else
        ::setenv("LANG", saved_lang.c_str(), 1);
}

TEST_CASE("hooks: output lines are logged with the target name; control characters masked") {
    Fixture fx;
    const std::string hook =
        fx.script("hook", "echo hello\necho oops >&2\nprintf 'a\\033[31mb\\r\\n'\nprintf 'partial'\nexit 3");
    fx.runner->submit(fx.job("nas", hook, "stop"));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 1; }));
    fx.run_until([&] { return !fx.timed(); }, 3);  // output closed
    CHECK(fx.done[0].exit_code == 3);
    CHECK(fx.logged("nas: hook stop: hello"));
    CHECK(fx.logged("nas: hook stop: oops"));
    CHECK(fx.logged("nas: hook stop: a?[31mb"));
    CHECK_FALSE(fx.logged("a?[31mb?"));  // the trailing \r is stripped
    CHECK(fx.logged("nas: hook stop: partial"));
    CHECK(fx.logged("nas: hook stop exited with status 3 after "));
}

TEST_CASE("hooks: output caps: long lines truncated, bytes per run bounded and counted") {
    action::HookRunnerOptions opt;
    opt.max_line = 100;
    opt.max_output = 1000;
    Fixture fx(opt);
    const std::string hook = fx.script("hook",
                                       "head -c 300 /dev/zero | tr '\\0' x; echo\necho next\n"
                                       "i=0; while [ $i -lt 100 ]; do echo line-$i-0123456789012345678901234567890123456789; "
                                       "i=$((i+1)); done");
    fx.runner->submit(fx.job("t", hook, "start"));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 1 && !fx.timed(); }));
    CHECK(fx.logged("t: hook start: " + std::string(100, 'x') + " [line truncated]"));
    CHECK(fx.logged("t: hook start: next"));
    CHECK(fx.logged("t: hook start: line-0-"));
    CHECK_FALSE(fx.logged("line-99-"));
    CHECK(fx.logged("more bytes of output not logged"));
    size_t output_bytes = 0;
    for (const auto& l : fx.logs)
        if (l.starts_with("t: hook start: ") && l.find("not logged") == std::string::npos) output_bytes += l.size() - 15 + 1;
    CHECK(output_bytes <= 1000);
    CHECK(fx.runner->stats().output_dropped > 0);
}

TEST_CASE("hooks: exec failures give 127 and are logged; on_done comes from the loop") {
    Fixture fx;
    const std::string noexec = fx.dir + "/noexec";
    std::ofstream(noexec) << "#!/bin/sh\nexit 0\n";
    ::chmod(noexec.c_str(), 0644);
    fx.runner->submit(fx.job("t", fx.dir + "/missing", "start"));
    fx.runner->submit(fx.job("t", noexec, "stop"));
    fx.runner->submit(fx.job("t", "relative/hook", "start"));
    CHECK(fx.done.empty());  // never re-entered from submit()
    REQUIRE(fx.run_until([&] { return fx.done.size() == 3; }));
    for (const auto& r : fx.done) CHECK(r.exit_code == 127);
    CHECK(fx.done[0].event == "start");
    CHECK(fx.done[1].event == "stop");
    CHECK(fx.logged("t: hook start: cannot execute " + fx.dir + "/missing: No such file or directory"));
    CHECK(fx.logged("t: hook stop: cannot execute " + noexec + ": Permission denied"));
    CHECK(fx.logged("cannot execute relative/hook: path is not absolute"));
    CHECK(fx.runner->stats().exec_failed == 3);
    CHECK(fx.runner->pending() == 0);
}

TEST_CASE("hooks: timeout sends SIGTERM to the whole process group") {
    action::HookRunnerOptions opt;
    opt.kill_grace = std::chrono::milliseconds(300);
    Fixture fx(opt);
    const std::string hook = fx.script("hook", "sleep 60 & echo $! > $D/child\necho $$ > $D/main\nsleep 60");
    fx.runner->submit(fx.job("t", hook, "start", std::chrono::milliseconds(300)));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 1; }));
    CHECK(fx.done[0].timed_out);
    CHECK(fx.done[0].exit_code == -SIGTERM);
    CHECK(fx.done[0].runtime_ms >= 300);
    CHECK(fx.logged("t: hook start timed out after 300 ms"));
    CHECK(fx.logged("t: hook start killed by signal 15 after "));
    const pid_t child = std::atoi(fx.file("child").c_str());
    REQUIRE(child > 0);
    CHECK(fx.run_until([&] { return gone(child); }, 3));
    CHECK(fx.runner->stats().timed_out == 1);
}

TEST_CASE("hooks: a group that ignores SIGTERM gets SIGKILL after the grace period") {
    action::HookRunnerOptions opt;
    opt.kill_grace = std::chrono::milliseconds(300);
    Fixture fx(opt);
    const std::string hook = fx.script("hook", "trap '' TERM\nsleep 60 & echo $! > $D/child\nsleep 60");
    fx.runner->submit(fx.job("t", hook, "start", std::chrono::milliseconds(200)));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 1; }));
    CHECK(fx.done[0].timed_out);
    CHECK(fx.done[0].exit_code == -SIGKILL);
    CHECK(fx.done[0].runtime_ms >= 450);
    const pid_t child = std::atoi(fx.file("child").c_str());
    REQUIRE(child > 0);
    CHECK(fx.run_until([&] { return gone(child); }, 3));
}

TEST_CASE("hooks: one target runs in submission order without overlap; targets run in parallel") {
    Fixture fx;
    const std::string hook = fx.script("hook",
                                       "echo \"begin $2 $1 $(date +%s%N)\" >> $D/log\nsleep 0.3\n"
                                       "echo \"end $2 $1 $(date +%s%N)\" >> $D/log");
    fx.runner->submit(fx.job("a", hook, "start"));
    fx.runner->submit(fx.job("a", hook, "stop"));
    fx.runner->submit(fx.job("a", hook, "start"));
    fx.runner->submit(fx.job("b", hook, "start"));
    CHECK(fx.runner->pending() == 4);
    REQUIRE(fx.run_until([&] { return fx.done.size() == 4; }));
    struct Ev {
        std::string kind, target, event;
        long long t;
    };
    std::vector<Ev> evs;
    for (const auto& l : lines_of(fx.file("log"))) {
        std::istringstream ss(l);
        Ev e;
        ss >> e.kind >> e.target >> e.event >> e.t;
        evs.push_back(e);
    }
    std::vector<Ev> a, b;
    for (const auto& e : evs) (e.target == "a" ? a : b).push_back(e);
    REQUIRE(a.size() == 6);
    const char* order[] = {"start", "start", "stop", "stop", "start", "start"};
    for (size_t i = 0; i < 6; ++i) {
        CHECK(a[i].kind == (i % 2 ? "end" : "begin"));
        CHECK(a[i].event == order[i]);
        if (i > 0) CHECK(a[i].t >= a[i - 1].t);
    }
    REQUIRE(b.size() == 2);
    CHECK(b[0].t < a[1].t);  // b began before a's first hook ended: parallel
    CHECK(a[0].t < b[1].t);
    // on_done order per target follows submission order
    std::vector<std::string> a_done;
    for (const auto& r : fx.done)
        if (r.target == "a") a_done.push_back(r.event);
    CHECK(a_done == std::vector<std::string>{"start", "stop", "start"});
}

TEST_CASE("hooks: coalescing: a pending start+stop pair cancels, a start alone never") {
    Fixture fx;
    const std::string hook = fx.script("hook", "echo \"$1 $NETWAKED_ATTEMPT\" >> $D/log\nsleep 0.2");
    fx.runner->submit(fx.job("c", hook, "stop"));  // runs
    fx.runner->submit(fx.job("c", hook, "start"));
    fx.runner->submit(fx.job("c", hook, "stop"));  // cancels the pending start, dropped itself
    CHECK(fx.runner->pending() == 1);
    fx.runner->submit(fx.job("c", hook, "start"));  // traffic during the stop hook: must run
    CHECK(fx.runner->pending() == 2);
    REQUIRE(fx.run_until([&] { return fx.done.size() == 2 && fx.runner->pending() == 0; }));
    CHECK(lines_of(fx.file("log")) == std::vector<std::string>{"stop ", "start "});
    CHECK(fx.runner->stats().coalesced == 2);
    CHECK(fx.logged("c: pending hook start cancelled by a stop"));
}

TEST_CASE("hooks: wake and queue bounds drop the oldest pending informational jobs") {
    action::HookRunnerOptions opt;
    opt.max_wakes = 3;
    opt.max_queue = 5;
    Fixture fx(opt);
    const std::string hook = fx.script("hook", "echo \"$1 $NETWAKED_ATTEMPT\" >> $D/log\nsleep 0.05");
    auto with_attempt = [&](const char* ev, int n) {
        auto j = fx.job("w", hook, ev);
        j.env.emplace_back("NETWAKED_ATTEMPT", std::to_string(n));
        return j;
    };
    fx.runner->submit(with_attempt("stop", 0));  // running
    fx.runner->submit(with_attempt("start", 0));
    for (int i = 1; i <= 5; ++i) fx.runner->submit(with_attempt("wake", i));  // keeps 3, 4, 5
    CHECK(fx.runner->stats().dropped == 2);
    fx.runner->submit(with_attempt("knock", 1));
    fx.runner->submit(with_attempt("knock", 2));  // queue full (5): drops wake 3, never the start
    CHECK(fx.runner->stats().dropped == 3);
    CHECK(fx.runner->pending() == 6);
    REQUIRE(fx.run_until([&] { return fx.runner->pending() == 0; }));
    CHECK(lines_of(fx.file("log")) ==
          std::vector<std::string>{"stop 0", "start 0", "wake 4", "wake 5", "knock 1", "knock 2"});
}

TEST_CASE("hooks: no daemon fd leaks into the hook") {
    Fixture fx;
    const std::string marker = fx.dir + "/leak-marker";
    const int leaked = ::open(marker.c_str(), O_CREAT | O_RDWR, 0600);  // deliberately not CLOEXEC
    REQUIRE(leaked >= 0);
    const std::string hook = fx.script(
        "hook", "exec /usr/bin/find /proc/self/fd/ -mindepth 1 -maxdepth 1 -printf '%f %l\\n' > $D/fds");
    fx.runner->submit(fx.job("t", hook, "start"));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 1; }));
    ::close(leaked);
    const std::string fds = fx.file("fds");
    CHECK(fds.find("leak-marker") == std::string::npos);
    std::set<int> seen;
    for (const auto& l : lines_of(fds)) {
        std::istringstream ss(l);
        int fd;
        std::string target;
        ss >> fd >> target;
        seen.insert(fd);
        if (fd == 0) CHECK(target == "/dev/null");
        if (fd == 1) CHECK(target == fx.dir + "/fds");  // the script's own redirection
        if (fd == 2) CHECK(target.starts_with("pipe:"));
        // anything else is find's own: its cwd ("/") or the directory it lists
        if (fd > 2) CHECK_MESSAGE((target == "/" || target.starts_with("/proc/")), l);
    }
    CHECK(seen.count(0));
    CHECK(seen.count(2));
}

TEST_CASE("hooks: a hook that forks 100 children and exits completes at once") {
    action::HookRunnerOptions opt;
    opt.output_linger = std::chrono::milliseconds(2000);
    Fixture fx(opt);
    const std::string hook = fx.script("hook",
                                       "i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done\n"
                                       "(sleep 0.1; echo late) &\necho $$ > $D/main\necho early");
    const int64_t t0 = fx.lt.now_ns();
    fx.runner->submit(fx.job("f", hook, "start"));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 1; }, 5));
    CHECK(fx.done[0].exit_code == 0);
    CHECK(fx.runner->pending() == 0);
    CHECK(fx.lt.now_ns() - t0 < 3'000'000'000LL);
    // children still hold the pipe: it is read for output_linger, then closed
    CHECK(fx.run_until([&] { return !fx.timed(); }, 5));
    CHECK(fx.logged("f: hook start: early"));
    CHECK(fx.logged("f: hook start: late"));
    const pid_t main_pid = std::atoi(fx.file("main").c_str());
    REQUIRE(main_pid > 0);
    ::kill(-main_pid, SIGKILL);  // the background children are the test's to clean up
}

TEST_CASE("hooks: a hook that closes stdout early still completes when it exits") {
    Fixture fx;
    const std::string hook = fx.script("hook", "echo before\nexec >&- 2>&-\nsleep 0.3\nexit 4");
    fx.runner->submit(fx.job("t", hook, "stop"));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 1; }));
    CHECK(fx.done[0].exit_code == 4);
    CHECK(fx.done[0].runtime_ms >= 280);
    CHECK(fx.logged("t: hook stop: before"));
}

TEST_CASE("hooks: a hook deleted while it runs finishes normally") {
    Fixture fx;
    const std::string hook = fx.script("hook", "touch $D/started\nsleep 0.3\necho still here");
    fx.runner->submit(fx.job("t", hook, "start"));
    REQUIRE(fx.run_until([&] { return fs::exists(fx.dir + "/started"); }));
    REQUIRE(::unlink(hook.c_str()) == 0);
    REQUIRE(fx.run_until([&] { return fx.done.size() == 1; }));
    CHECK(fx.done[0].exit_code == 0);
    CHECK(fx.logged("t: hook start: still here"));
    // the next job finds no file: a clear error, not a hang
    fx.runner->submit(fx.job("t", hook, "stop"));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 2; }));
    CHECK(fx.done[1].exit_code == 127);
}

TEST_CASE("hooks: kill_all drops the queue and terminates; run_until_idle waits") {
    Fixture fx;
    const std::string hook = fx.script("hook", "echo $$ > $D/main\nsleep 60");
    fx.runner->submit(fx.job("t", hook, "start"));
    fx.runner->submit(fx.job("t", hook, "stop"));
    fx.runner->submit(fx.job("u", hook, "start"));
    REQUIRE(fx.run_until([&] { return fs::exists(fx.dir + "/main") && fs::file_size(fx.dir + "/main") > 0; }));
    fx.runner->kill_all();
    CHECK(fx.runner->pending() == 2);  // the two running ones
    CHECK(fx.runner->run_until_idle(fx.lt.now_ns() + 5'000'000'000LL));
    REQUIRE(fx.done.size() == 2);
    for (const auto& r : fx.done) {
        CHECK(r.exit_code == -SIGTERM);
        CHECK_FALSE(r.timed_out);
    }
    CHECK(fx.runner->stats().dropped == 1);
}

TEST_CASE("hooks: destroying the runner kills and reaps what still runs") {
    pid_t main_pid = 0;
    {
        Fixture fx;
        const std::string hook = fx.script("hook", "echo $$ > $D/main\nexec sleep 60");
        fx.runner->submit(fx.job("t", hook, "start"));
        REQUIRE(fx.run_until([&] { return fs::exists(fx.dir + "/main") && fs::file_size(fx.dir + "/main") > 0; }));
        main_pid = std::atoi(fx.file("main").c_str());
        REQUIRE(main_pid > 0);
    }
    CHECK(::access(("/proc/" + std::to_string(main_pid)).c_str(), F_OK) != 0);  // reaped, not a zombie
}

TEST_CASE("hooks: without pidfd kill_all's SIGTERM is reaped by polling before any SIGKILL") {
    action::HookRunnerOptions opt;
    opt.use_pidfd = false;
    Fixture fx(opt);
    const std::string hook = fx.script("hook", "echo $$ > $D/main\nsleep 60");
    fx.runner->submit(fx.job("t", hook, "start"));
    REQUIRE(fx.run_until([&] { return fs::exists(fx.dir + "/main") && fs::file_size(fx.dir + "/main") > 0; }));
    fx.runner->kill_all();
    CHECK(fx.runner->run_until_idle(fx.lt.now_ns() + 5'000'000'000LL));
    REQUIRE(fx.done.size() == 1);
    CHECK(fx.done[0].exit_code == -SIGTERM);
}

TEST_CASE("hooks: without pidfd the runner polls and still reaps, in order") {
    action::HookRunnerOptions opt;
    opt.use_pidfd = false;
    Fixture fx(opt);
    const std::string hook = fx.script("hook", "echo \"$1\" >> $D/log\nexit 7");
    fx.runner->submit(fx.job("p", hook, "start"));
    fx.runner->submit(fx.job("p", hook, "stop"));
    REQUIRE(fx.run_until([&] { return fx.done.size() == 2; }));
    CHECK(fx.done[0].exit_code == 7);
    CHECK(fx.done[1].event == "stop");
    CHECK(lines_of(fx.file("log")) == std::vector<std::string>{"start", "stop"});
}

// tests/unit/action_hooks_timing.cc — HookRunner's timeouts on the loop's TimerQueue under a fake
// clock: the timeout -> SIGTERM -> kill_grace -> SIGKILL schedule, to the nanosecond.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "action/hooks.h"
#include "core/timer_queue.h"
#include "sys/loop.h"

using namespace nw;
namespace fs = std::filesystem;

namespace {
struct FakeClock : core::Clock {
    int64_t t = 1'000'000'000'000;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1'700'000'000; }
};
}  // namespace

TEST_CASE("hooks timing: timeout, then SIGTERM, then SIGKILL kill_grace later, on the queue") {
    char tmpl[] = "/tmp/nw-hookt-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    const std::string hook = dir + "/hook";
    std::ofstream(hook) << "#!/bin/sh\ntrap '' TERM\necho $$ > " << dir << "/main\nexec sleep 60\n";
    ::chmod(hook.c_str(), 0755);

    FakeClock clk;
    core::TimerQueue q(clk);
    sys::Loop loop;
    action::HookRunnerOptions opt;
    opt.kill_grace = std::chrono::milliseconds(2000);
    std::vector<core::HookResult> done;
    {
        action::HookRunner runner(loop, q, opt);
        runner.on_done = [&](const core::HookResult& r) { done.push_back(r); };
        const int64_t t0 = clk.t;
        core::HookJob j;
        j.target = "t";
        j.path = hook;
        j.event = "start";
        j.timeout = std::chrono::milliseconds(1000);
        runner.submit(j);
        REQUIRE(q.deadline(&runner, action::HookRunner::kTick) == t0 + 1'000'000'000);
        for (int i = 0; i < 200 && !(fs::exists(dir + "/main") && fs::file_size(dir + "/main") > 0); ++i) loop.run_once(20);
        REQUIRE(fs::file_size(dir + "/main") > 0);

        clk.t = t0 + 999'999'999;  // not yet
        CHECK(q.run_due() == 0);
        CHECK(runner.stats().timed_out == 0);
        clk.t = t0 + 1'000'000'000;  // timeout: SIGTERM (ignored by this hook), SIGKILL armed
        CHECK(q.run_due() == 1);
        CHECK(runner.stats().timed_out == 1);
        CHECK(q.deadline(&runner, action::HookRunner::kTick) == t0 + 3'000'000'000);
        for (int i = 0; i < 10; ++i) loop.run_once(10);  // TERM is ignored: still running
        CHECK(done.empty());

        clk.t = t0 + 3'000'000'000;  // kill_grace later: SIGKILL
        CHECK(q.run_due() == 1);
        for (int i = 0; i < 250 && done.empty(); ++i) loop.run_once(20);
        REQUIRE(done.size() == 1);
        CHECK(done[0].exit_code == -SIGKILL);
        CHECK(done[0].timed_out);
        CHECK(done[0].runtime_ms == 3000);  // measured on the queue's clock
    }
    CHECK(q.size() == 0);  // the runner's destruction cancelled whatever it had armed
    std::error_code ec;
    fs::remove_all(dir, ec);
}

TEST_CASE("hooks timing: output closed by EOF after the main exit cancels the linger timeout at once") {
    char tmpl[] = "/tmp/nw-hookt-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    const std::string hook = dir + "/hook";
    // The main process exits at once; a background child holds the output pipe a little longer.
    std::ofstream(hook) << "#!/bin/sh\n(sleep 0.2; echo late) &\necho early\n";
    ::chmod(hook.c_str(), 0755);
    FakeClock clk;
    core::TimerQueue q(clk);
    sys::Loop loop;
    action::HookRunnerOptions opt;
    opt.output_linger = std::chrono::milliseconds(5000);
    std::vector<core::HookResult> done;
    action::HookRunner runner(loop, q, opt);
    runner.on_done = [&](const core::HookResult& r) { done.push_back(r); };
    core::HookJob j;
    j.target = "t";
    j.path = hook;
    j.event = "start";
    j.timeout = std::chrono::milliseconds(0);  // no timeout: only the linger is ever armed
    runner.submit(j);
    CHECK(q.size() == 0);
    for (int i = 0; i < 250 && done.empty(); ++i) loop.run_once(20);
    REQUIRE(done.size() == 1);
    CHECK(q.deadline(&runner, action::HookRunner::kTick) == clk.t + 5'000'000'000);  // lingering
    // The child closes the pipe (EOF, real time; the fake clock never moves): nothing left armed.
    for (int i = 0; i < 250 && q.size() != 0; ++i) loop.run_once(20);
    CHECK(q.size() == 0);
    std::error_code ec;
    fs::remove_all(dir, ec);
}

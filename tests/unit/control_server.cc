// tests/unit/control_server.cc — control/server.h against a real sys::Loop and real Unix
// sockets in a temporary directory. Drives the loop until a condition holds; no bare sleeps.
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "control/server.h"
#include "loop_clock.h"

using namespace nw;
using nw::control::Request;
using nw::control::Server;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/nw-ctl-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// Runs the loop until pred() holds or 3 s pass; returns pred().
bool run_until(sys::Loop& loop, const std::function<bool()>& pred) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        loop.run_once(10);
    }
    return true;
}

sys::unique_fd connect_to(const std::string& path) {
    sys::unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return {};
    return fd;
}

void send_str(int fd, std::string_view s) {
    REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size()));
}

// A non-blocking client's view: everything read so far, and whether the server closed.
struct Peer {
    explicit Peer(sys::unique_fd f) : fd(std::move(f)) {}
    sys::unique_fd fd;
    std::string got;
    bool eof = false;
    bool poll() {
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                got.append(buf, size_t(n));
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) eof = true;
            return eof;
        }
    }
};

struct FakeClock : core::Clock {
    int64_t t = 1'000'000'000'000;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1'700'000'000; }
};

int count_fds() {
    int n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    return n;
}

// A server answering status with a fixed reply and recording requests.
struct Fixture {
    TempDir tmp;
    sys::Loop loop;
    FakeClock clock;  // the server's timeouts fire only when a test runs the queue
    core::TimerQueue q{clock};
    Server srv{loop, q};
    std::string path = tmp.path + "/run/netwaked/control.sock";
    std::vector<Request> seen;
    Fixture() {
        REQUIRE(loop.ok());
        srv.set_handler([this](const Request& r) {
            seen.push_back(r);
            if (r.cmd == control::Cmd::Start && r.target != "vpn") return control::reply_error("no such target: " + r.target);
            return control::reply_ok("done");
        });
        std::string err;
        REQUIRE_MESSAGE(srv.open(path, &err), err);
    }
    // Connects, sends `req`, runs the loop until the server hangs up; returns the reply.
    std::string roundtrip(std::string_view req, bool shut_wr = false) {
        Peer p{connect_to(path)};
        REQUIRE(p.fd);
        send_str(p.fd.get(), req);
        if (shut_wr) ::shutdown(p.fd.get(), SHUT_WR);
        REQUIRE(run_until(loop, [&] { return p.poll(); }));
        return p.got;
    }
};

}  // namespace

TEST_CASE("control server: creates its directory and socket with the right modes") {
    Fixture f;
    struct stat st {};
    REQUIRE(::stat(f.path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0660);
    REQUIRE(::stat((f.tmp.path + "/run/netwaked").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
    CHECK(f.srv.is_open());
    CHECK(f.q.size() == 0);  // no clients: nothing to time
}

TEST_CASE("control server: answers one request per connection, then closes") {
    Fixture f;
    CHECK(f.roundtrip("{\"cmd\":\"start\",\"target\":\"vpn\"}\n") == "{\"ok\":true,\"message\":\"done\"}\n");
    REQUIRE(f.seen.size() == 1);
    CHECK(f.seen[0].cmd == control::Cmd::Start);
    CHECK(f.seen[0].target == "vpn");
    CHECK(f.roundtrip("{\"cmd\":\"start\",\"target\":\"vpx\"}\n") ==
          "{\"ok\":false,\"error\":\"no such target: vpx\"}\n");
    // Without a newline, end-of-file completes the request.
    CHECK(f.roundtrip("{\"cmd\":\"reload\"}", true) == "{\"ok\":true,\"message\":\"done\"}\n");
    // Bytes after the first line are ignored.
    CHECK(f.roundtrip("{\"cmd\":\"status\"}\n{\"cmd\":\"reload\"}\n") == "{\"ok\":true,\"message\":\"done\"}\n");
    CHECK(f.seen.size() == 4);
    CHECK(f.srv.clients() == 0);
    CHECK(f.srv.stats().requests == 4);
}

TEST_CASE("control server: bad and oversized requests get an error, never the handler") {
    Fixture f;
    CHECK(f.roundtrip("{\"cmd\":\"reboot\"}\n") == "{\"ok\":false,\"error\":\"unknown command \\\"reboot\\\"\"}\n");
    CHECK(f.roundtrip("not json\n").find("invalid JSON") != std::string::npos);
    // 5000 bytes and no newline: refused as soon as the limit is passed.
    CHECK(f.roundtrip(std::string(5000, 'x')).find("request too long") != std::string::npos);
    // A silent connect-and-close gets nothing.
    CHECK(f.roundtrip("", true).empty());
    CHECK(f.seen.empty());
    CHECK(f.srv.stats().bad_requests == 3);
}

TEST_CASE("control server: idle clients time out on the queue, deadline moved by progress") {
    Fixture f;
    Peer p{connect_to(f.path)};
    const int64_t t0 = f.clock.t;
    send_str(p.fd.get(), "{\"cmd\":");
    REQUIRE(run_until(f.loop, [&] { return f.srv.clients() == 1; }));
    CHECK(f.q.deadline(&f.srv, Server::kTick) == t0 + 5'000'000'000);  // idle_timeout
    f.clock.t = t0 + 3'000'000'000;  // progress 3 s later moves the idle deadline
    send_str(p.fd.get(), "\"st");
    REQUIRE(run_until(f.loop, [&] { return f.q.deadline(&f.srv, Server::kTick) == t0 + 8'000'000'000; }));
    f.clock.t = t0 + 8'000'000'000 - 1;  // not yet
    CHECK(f.q.run_due() == 0);
    CHECK(f.srv.clients() == 1);
    f.clock.t = t0 + 8'000'000'000;
    CHECK(f.q.run_due() == 1);
    CHECK(f.srv.clients() == 0);
    CHECK(f.q.size() == 0);  // no client left: nothing armed (idle costs no wake-up)
    CHECK(f.srv.stats().timeouts == 1);
    REQUIRE(run_until(f.loop, [&] { return p.poll(); }));
    CHECK(p.got.find("timeout") != std::string::npos);
    CHECK(f.seen.empty());
}

TEST_CASE("control server: a client that keeps sending but never finishes meets the total deadline") {
    TempDir tmp;
    sys::Loop loop;
    Server::Options opt;
    opt.idle_timeout_ns = 300'000'000;
    opt.total_timeout_ns = 1'000'000'000;
    test::LoopTimers lt(loop);
    Server srv(loop, lt.q, opt);
    srv.set_handler([](const Request&) { return control::reply_ok(); });
    const std::string path = tmp.path + "/c.sock";
    std::string err;
    REQUIRE(srv.open(path, &err));
    Peer p{connect_to(path)};
    const int64_t t0 = lt.now_ns();
    // One byte every 100 ms: progress all the time, so only the total deadline ends it.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!p.poll() && std::chrono::steady_clock::now() < end) {
        (void)::send(p.fd.get(), " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        const int64_t until = lt.now_ns() + 100'000'000;
        while (lt.now_ns() < until) lt.step(10);
    }
    const int64_t took = lt.now_ns() - t0;
    CHECK(p.eof);
    CHECK(p.got.find("timeout: no complete request within 1 s") != std::string::npos);
    CHECK(took >= 950'000'000);
    CHECK(took < 1'500'000'000);
    CHECK(srv.stats().timeouts == 1);
    CHECK(srv.clients() == 0);
}

TEST_CASE("control server: at the bound the oldest unfinished client makes room") {
    TempDir tmp;
    sys::Loop loop;
    Server::Options opt;
    opt.max_clients = 2;
    FakeClock clk;
    core::TimerQueue q(clk);
    Server srv(loop, q, opt);
    const std::string big = "{\"ok\":true,\"message\":\"" + std::string(8 << 20, 'z') + "\"}\n";
    srv.set_handler([&](const Request& r) { return r.cmd == control::Cmd::Reload ? big : control::reply_ok(); });
    const std::string path = tmp.path + "/c.sock";
    std::string err;
    REQUIRE(srv.open(path, &err));
    Peer a{connect_to(path)}, b{connect_to(path)};
    REQUIRE(run_until(loop, [&] { return srv.clients() == 2; }));
    send_str(b.fd.get(), "{\"cmd\":");  // b has started, a is silent
    Peer c{connect_to(path)};
    REQUIRE(run_until(loop, [&] { return a.poll(); }));
    CHECK(a.got.find("busy: dropped to make room") != std::string::npos);
    CHECK(srv.stats().evicted == 1);
    send_str(c.fd.get(), "{\"cmd\":\"status\"}\n");
    REQUIRE(run_until(loop, [&] { return c.poll(); }));
    CHECK(c.got == "{\"ok\":true}\n");
    // Clients being answered are never dropped: with both slots writing, a newcomer is busy.
    Peer d{connect_to(path)}, e{connect_to(path)};
    REQUIRE(run_until(loop, [&] { return b.poll(); }));  // b made room for e
    send_str(d.fd.get(), "{\"cmd\":\"reload\"}\n");
    send_str(e.fd.get(), "{\"cmd\":\"reload\"}\n");
    for (int i = 0; i < 20; ++i) loop.run_once(5);  // neither reads: both replies stay blocked
    CHECK(srv.clients() == 2);
    Peer f{connect_to(path)};
    REQUIRE(run_until(loop, [&] { return f.poll(); }));
    CHECK(f.got.find("busy") != std::string::npos);
    CHECK(srv.stats().busy == 1);
    CHECK(srv.clients() == 2);
}

TEST_CASE("control server: connect-and-close storms leave no fds behind") {
    Fixture f;
    const int before = count_fds();
    for (int round = 0; round < 20; ++round) {
        std::vector<sys::unique_fd> v;
        for (int i = 0; i < 50; ++i) {
            auto fd = connect_to(f.path);
            if (fd) v.push_back(std::move(fd));  // EAGAIN once the backlog is full: fine
            if (v.size() % 8 == 0) f.loop.run_once(0);
        }
        v.clear();
        REQUIRE(run_until(f.loop, [&] { return f.srv.clients() == 0 && count_fds() == before; }));
    }
    CHECK(f.srv.stats().accepted > 100);
    CHECK(count_fds() == before);
    // Still answering afterwards.
    CHECK(f.roundtrip("{\"cmd\":\"status\"}\n") == "{\"ok\":true,\"message\":\"done\"}\n");
}

TEST_CASE("control server: a large reply is written as the client reads it") {
    Fixture f;
    const std::string big = "{\"ok\":true,\"message\":\"" + std::string(4 << 20, 'z') + "\"}\n";
    f.srv.set_handler([&](const Request&) { return big; });
    Peer p{connect_to(f.path)};
    send_str(p.fd.get(), "{\"cmd\":\"status\"}\n");
    REQUIRE(run_until(f.loop, [&] { return p.poll(); }));
    CHECK(p.got.size() == big.size());
    CHECK(p.got == big);
}

TEST_CASE("control server: refuses a live socket, replaces a stale one, never a file") {
    Fixture f;
    sys::Loop loop2;
    FakeClock clk2;
    core::TimerQueue q2(clk2);
    Server other(loop2, q2);
    std::string err;
    CHECK_FALSE(other.open(f.path, &err));
    CHECK(err == "control socket " + f.path + " is in use by another netwaked");
    // The first server is unaffected and the probe connection is dropped quietly.
    CHECK(f.roundtrip("{\"cmd\":\"status\"}\n") == "{\"ok\":true,\"message\":\"done\"}\n");
    REQUIRE(run_until(f.loop, [&] { return f.srv.clients() == 0; }));

    // A stale socket: bound, never listening (as after a crash).
    const std::string stale = f.tmp.path + "/stale.sock";
    {
        sys::unique_fd s(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, stale.data(), stale.size());
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    }
    CHECK_MESSAGE(other.open(stale, &err), err);
    other.close();
    CHECK(::access(stale.c_str(), F_OK) != 0);  // unlinked on close

    // A regular file is never removed.
    const std::string file = f.tmp.path + "/file";
    ::close(::open(file.c_str(), O_CREAT | O_WRONLY, 0600));
    CHECK_FALSE(other.open(file, &err));
    CHECK(err.find("not a socket") != std::string::npos);
    CHECK(::access(file.c_str(), F_OK) == 0);

    CHECK_FALSE(other.open(f.tmp.path + "/" + std::string(200, 'a'), &err));
    CHECK(err.find("longer than") != std::string::npos);
}

TEST_CASE("control server: close unlinks only its own socket") {
    Fixture f;
    f.srv.close();
    CHECK(::access(f.path.c_str(), F_OK) != 0);
    std::string err;
    REQUIRE(f.srv.open(f.path, &err));
    // Someone replaces the socket file (a second daemon after removing ours).
    REQUIRE(::unlink(f.path.c_str()) == 0);
    sys::Loop loop2;
    FakeClock clk2;
    core::TimerQueue q2(clk2);
    Server other(loop2, q2);
    REQUIRE(other.open(f.path, &err));
    f.srv.close();
    CHECK(::access(f.path.c_str(), F_OK) == 0);  // still there: it belongs to `other`
}

TEST_CASE("control server: the handler may close the server") {
    Fixture f;
    f.srv.set_handler([&](const Request&) {
        f.srv.close();
        return control::reply_ok();
    });
    Peer p{connect_to(f.path)};
    send_str(p.fd.get(), "{\"cmd\":\"reload\"}\n");
    REQUIRE(run_until(f.loop, [&] { return p.poll(); }));
    CHECK(p.got.empty());  // the connection went with the server
    CHECK_FALSE(f.srv.is_open());
}

TEST_CASE("control server: without a handler it says so") {
    TempDir tmp;
    sys::Loop loop;
    FakeClock clk;
    core::TimerQueue q(clk);
    Server srv(loop, q);
    std::string err;
    const std::string path = tmp.path + "/s";
    REQUIRE(srv.open(path, &err));
    Peer p{connect_to(path)};
    send_str(p.fd.get(), "{\"cmd\":\"status\"}\n");
    REQUIRE(run_until(loop, [&] { return p.poll(); }));
    CHECK(p.got.find("not ready") != std::string::npos);
}

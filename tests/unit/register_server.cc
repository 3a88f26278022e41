// tests/unit/register_server.cc — RegisterServer on a real sys::Loop over loopback TCP:
// payloads in several segments, errors (one line + NUL), silent and dribbling peers, peers outside
// allow, payloads over the limit, eviction at the bounds, storms that leave no descriptor behind.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <string>
#include <vector>

#include "control/register.h"
#include "loop_clock.h"
#include "sys/loop.h"

using namespace nw;

namespace {

// A refusal as sent: one line and a NUL byte (SPEC §9, as Wakupator).
std::string nul(const std::string& line) { return line + '\0'; }

const char* kPayload = R"({"mac": "d8:cb:8a:39:be:a1", "name": "pc", "monitor": [{"ip": "10.0.0.5", "port": [22]}]})";

int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t l = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &l);
    ::close(s);
    return ntohs(a.sin_port);
}

size_t open_fds() {
    size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

struct Rig {
    sys::Loop loop;
    test::LoopTimers lt{loop};  // the daemon's way: the server's timeouts on the loop's queue
    control::RegisterServer srv;
    int port = free_port();
    std::vector<control::Registration> got;
    explicit Rig(control::RegisterServer::Options o = {}) : srv(loop, lt.q, o) {
        std::string err;
        REQUIRE(srv.open("127.0.0.1:" + std::to_string(port), &err));
        srv.set_handler([this](const control::Registration& r, const packet::Addr&) {
            got.push_back(r);
            return r.name == "refuse-me" ? std::string("name: refused by the test") : std::string();
        });
    }
    // Serves the loop for `ms` (timers included).
    void pump(int ms) {
        const int64_t end = lt.now_ns() + int64_t(ms) * 1000000;
        while (lt.now_ns() < end) lt.step(5);
    }
    // Connects from 127.0.0.1, or from `src` (any 127/8 address is the host's own).
    int connect_client(const char* src = nullptr) {
        const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (src) {
            sockaddr_in b{};
            b.sin_family = AF_INET;
            ::inet_pton(AF_INET, src, &b.sin_addr);
            REQUIRE(::bind(c, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0);
        }
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(uint16_t(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
        pump(5);
        return c;
    }
    // Everything the server sent until it closed (or `ms` passed).
    std::string answer(int c, int ms = 500) {
        std::string out;
        char b[4096];
        const int64_t end = lt.now_ns() + int64_t(ms) * 1000000;
        while (lt.now_ns() < end) {
            pump(2);
            const ssize_t n = ::recv(c, b, sizeof b, MSG_DONTWAIT);
            if (n > 0) out.append(b, size_t(n));
            else if (n == 0) break;
        }
        return out;
    }
};

}  // namespace

TEST_CASE("register server: a payload in two segments gets OK.\\0") {
    Rig rig;
    const int c = rig.connect_client();
    const std::string p = kPayload;
    REQUIRE(::send(c, p.data(), 30, 0) == 30);
    rig.pump(50);
    CHECK(rig.got.empty());
    REQUIRE(::send(c, p.data() + 30, p.size() - 30, 0) == ssize_t(p.size() - 30));
    CHECK(rig.answer(c) == std::string("OK.\0", 4));
    REQUIRE(rig.got.size() == 1);
    CHECK(rig.got[0].name == "pc");
    ::close(c);
    rig.pump(20);
    CHECK(rig.srv.clients() == 0);
    CHECK(rig.srv.stats().registered == 1);
}

TEST_CASE("register server: errors are one line and a NUL byte; the handler's refusal too") {
    Rig rig;
    int c = rig.connect_client();
    ::send(c, "{}", 2, 0);
    CHECK(rig.answer(c) == nul("mac: missing"));
    ::close(c);
    c = rig.connect_client();
    ::send(c, "hello\n", 6, 0);
    CHECK(rig.answer(c).rfind("invalid JSON: ", 0) == 0);
    ::close(c);
    c = rig.connect_client();
    const std::string r = R"({"mac":"d8:cb:8a:39:be:a1","name":"refuse-me","monitor":[{"ip":"10.0.0.5","port":[22]}]})";
    ::send(c, r.data(), r.size(), 0);
    CHECK(rig.answer(c) == nul("name: refused by the test"));
    ::close(c);
    c = rig.connect_client();
    ::send(c, "{\"mac\":", 7, 0);
    ::shutdown(c, SHUT_WR);
    CHECK(rig.answer(c) == nul("incomplete JSON object"));
    ::close(c);
}

TEST_CASE("register server: a silent peer is closed after the idle timeout and delays nobody") {
    control::RegisterServer::Options o;
    o.grace_ns = 300'000'000;
    Rig rig(o);
    const int silent = rig.connect_client();
    const int64_t t0 = rig.lt.now_ns();
    const int c = rig.connect_client();
    ::send(c, kPayload, strlen(kPayload), 0);
    CHECK(rig.answer(c) == std::string("OK.\0", 4));
    CHECK(rig.lt.now_ns() - t0 < 250'000'000);
    const std::string a = rig.answer(silent, 1500);
    CHECK(a.rfind("timeout: ", 0) == 0);
    CHECK(rig.srv.stats().timeouts == 1);
    ::close(c);
    ::close(silent);
}

TEST_CASE("register server: payloads over 64 KiB are refused, and the answer still arrives") {
    Rig rig;
    const int c = rig.connect_client();
    std::string big = "{\"mac\":\"" + std::string(1 << 20, 'a');
    size_t off = 0;
    std::string got;
    char b[256];
    for (int i = 0; i < 2000 && off < big.size(); ++i) {
        const ssize_t n = ::send(c, big.data() + off, big.size() - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) off += size_t(n);
        else if (n < 0 && errno != EAGAIN) break;  // the server has closed
        rig.pump(1);
        const ssize_t r = ::recv(c, b, sizeof b, MSG_DONTWAIT);
        if (r > 0) got.append(b, size_t(r));
    }
    got += rig.answer(c);
    CHECK(got == nul("payload too large (more than 65536 bytes)"));
    CHECK(rig.srv.stats().too_large == 1);
    ::close(c);
}

TEST_CASE("register server: a peer outside allow is closed at accept and takes no slot") {
    Rig rig;
    rig.srv.set_admit([](const packet::Addr& p) { return p.str() != "127.0.0.9"; });
    const int64_t t0 = rig.lt.now_ns();
    const int c = rig.connect_client("127.0.0.9");
    CHECK(rig.srv.clients() == 0);
    ::send(c, kPayload, strlen(kPayload), MSG_NOSIGNAL);
    CHECK(rig.answer(c).rfind("peer 127.0.0.9 may not register (not in register.allow)", 0) == 0);
    CHECK(rig.lt.now_ns() - t0 < 400'000'000);
    CHECK(rig.srv.stats().denied == 1);
    CHECK(rig.got.empty());
    ::close(c);
    const int ok = rig.connect_client("127.0.0.8");
    ::send(ok, kPayload, strlen(kPayload), 0);
    CHECK(rig.answer(ok) == std::string("OK.\0", 4));
    ::close(ok);
}

TEST_CASE("register server: a dribbling peer is cut off by the byte rate, a slow one by the total deadline") {
    control::RegisterServer::Options o;
    o.grace_ns = 200'000'000;
    o.min_rate = 100;  // bytes/s after the grace period
    o.total_timeout_ns = 900'000'000;
    Rig rig(o);
    // One byte every 50 ms (20 bytes/s): owed 100 bytes/s after 200 ms, so cut off early.
    const int64_t t0 = rig.lt.now_ns();
    const int d = rig.connect_client();
    std::string got;
    char b[256];
    for (int i = 0; i < 40 && got.empty(); ++i) {
        (void)::send(d, "{", 1, MSG_NOSIGNAL);
        rig.pump(50);
        const ssize_t n = ::recv(d, b, sizeof b, MSG_DONTWAIT);
        if (n > 0) got.assign(b, size_t(n));
    }
    const int64_t cut = rig.lt.now_ns() - t0;
    CHECK(got.rfind("timeout: too slow (", 0) == 0);
    CHECK(cut < 500'000'000);
    ::close(d);
    // 20 bytes every 50 ms (400 bytes/s) keeps up with the rate but never completes: the total
    // deadline closes it.
    const int64_t t1 = rig.lt.now_ns();
    const int s = rig.connect_client();
    ::send(s, "{\"mac\": \"", 9, 0);
    got.clear();
    for (int i = 0; i < 40 && got.empty(); ++i) {
        (void)::send(s, "aaaaaaaaaaaaaaaaaaaa", 20, MSG_NOSIGNAL);
        rig.pump(50);
        const ssize_t n = ::recv(s, b, sizeof b, MSG_DONTWAIT);
        if (n > 0) got.assign(b, size_t(n));
    }
    const int64_t total = rig.lt.now_ns() - t1;
    CHECK(got.rfind("timeout: no complete JSON object within 1 s", 0) == 0);
    CHECK(total >= 850'000'000);
    CHECK(total < 1'300'000'000);
    CHECK(rig.srv.stats().timeouts == 2);
    ::close(s);
}

TEST_CASE("register server: at a bound the oldest unfinished connection makes room") {
    control::RegisterServer::Options o;
    o.max_clients = 4;
    o.max_per_peer = 3;
    Rig rig(o);
    // Peer .1 at its bound: its own oldest connection goes, nobody else's.
    std::vector<int> a;
    for (int i = 0; i < 3; ++i) a.push_back(rig.connect_client("127.0.0.1"));
    const int b = rig.connect_client("127.0.0.2");
    CHECK(rig.srv.clients() == 4);
    const int a4 = rig.connect_client("127.0.0.1");
    CHECK(rig.answer(a[0]).rfind("busy: closed to make room", 0) == 0);
    CHECK(rig.srv.clients() == 4);
    ::send(a4, kPayload, strlen(kPayload), 0);
    CHECK(rig.answer(a4) == std::string("OK.\0", 4));
    ::close(a4);
    rig.pump(20);
    // All slots taken by slow peers: a new peer still gets one, the oldest (a[1]) goes.
    const int c = rig.connect_client("127.0.0.3");
    const int c2 = rig.connect_client("127.0.0.4");
    CHECK(rig.answer(a[1]).rfind("busy: ", 0) == 0);
    ::send(c2, kPayload, strlen(kPayload), 0);
    CHECK(rig.answer(c2) == std::string("OK.\0", 4));
    CHECK(rig.srv.stats().evicted == 2);
    CHECK(rig.srv.stats().busy == 0);
    for (int x : a) ::close(x);
    for (int x : {b, c, c2}) ::close(x);
}

TEST_CASE("register server: storms of connect-and-close leave no fd behind") {
    Rig rig;
    const size_t fds = open_fds();
    for (int i = 0; i < 300; ++i) {
        const int c = rig.connect_client();
        if (i % 2) ::send(c, "{\"ma", 4, 0);
        ::close(c);
    }
    rig.pump(200);
    CHECK(rig.srv.clients() == 0);
    CHECK(open_fds() == fds);
    // ...and the server still works.
    const int c = rig.connect_client();
    ::send(c, kPayload, strlen(kPayload), 0);
    CHECK(rig.answer(c) == std::string("OK.\0", 4));
    ::close(c);
}

TEST_CASE("register server: its deadlines on the queue under a fake clock (grace, earned rate, linger)") {
    struct FakeClock : core::Clock {
        int64_t t = 1'000'000'000'000;
        int64_t now_ns() const override { return t; }
        int64_t wall_s() const override { return 1'700'000'000; }
    } clk;
    core::TimerQueue q(clk);
    sys::Loop loop;
    control::RegisterServer::Options o;  // grace 5 s, 128 bytes/s, total 10 s, linger 1 s
    control::RegisterServer srv(loop, q, o);
    const int port = free_port();
    std::string err;
    REQUIRE(srv.open("127.0.0.1:" + std::to_string(port), &err));
    CHECK(q.size() == 0);  // no client: nothing armed
    const int c = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const int64_t t0 = clk.t;
    for (int i = 0; i < 100 && srv.clients() == 0; ++i) loop.run_once(10);
    REQUIRE(srv.clients() == 1);
    CHECK(q.deadline(&srv, control::RegisterServer::kTick) == t0 + 5'000'000'000);  // grace
    REQUIRE(::send(c, "{\"mac\":", 7, 0) == 7);  // 7 bytes earn 7/128 s more
    const int64_t owed = t0 + 5'000'000'000 + 7 * 1'000'000'000LL / 128;
    for (int i = 0; i < 100 && q.deadline(&srv, control::RegisterServer::kTick) != owed; ++i) loop.run_once(10);
    CHECK(q.deadline(&srv, control::RegisterServer::kTick) == owed);
    clk.t = owed - 1;
    CHECK(q.run_due() == 0);
    clk.t = owed;  // too slow: answered, then linger_ns to write and drain
    CHECK(q.run_due() == 1);
    CHECK(srv.stats().timeouts == 1);
    CHECK(q.deadline(&srv, control::RegisterServer::kTick) == owed + 1'000'000'000);
    ::close(c);
    for (int i = 0; i < 100 && srv.clients() == 1; ++i) loop.run_once(10);
    CHECK(srv.clients() == 0);
    CHECK(q.size() == 0);  // the last client gone: cancelled (idle costs no wake-up)
}

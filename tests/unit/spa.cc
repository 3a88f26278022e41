// tests/unit/spa.cc — SPA (SPEC §10): packet/spa parser and HMAC check, the core engine's
// acceptance order (HMAC, window, target, replay) and replay cache, key files, keygen, the
// client, and the README's shell one-liner and doc/spa-knock.py (skipped if tools are missing).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "action/knock_send.h"
#include "core/knock.h"
#include "packet/spa.h"
#include "state/statefile.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kWall = 1'700'000'000;

const std::vector<uint8_t> kKey(32, 0x5a);
const std::vector<uint8_t> kOtherKey(32, 0xa5);

packet::SpaNonce nonce(uint8_t n) {
    packet::SpaNonce x{};
    x.fill(n);
    return x;
}

packet::Decoded udp_to(uint16_t port, const packet::Addr& src = packet::Addr::v4(0xc0000205)) {
    packet::Decoded d;
    d.l3 = src.is_v4() ? 4 : 6;
    d.src = src;
    d.proto = packet::kProtoUdp;
    d.has_l4 = true;
    d.src_port = 40000;
    d.dst_port = port;
    return d;
}

config::KnockConf spa_knock(const std::string& name, const std::string& target, uint16_t port = 62201) {
    config::KnockConf k;
    k.name = name;
    k.target = target;
    k.spa = config::SpaConf{};
    k.spa->port = port;
    k.spa->window = 60s;
    return k;
}

struct Rig {
    core::KnockEngine eng;
    std::vector<core::KnockEvent> ev;
    std::vector<std::string> rejects;
    int64_t now = 5000 * kS;
    int64_t wall = kWall;
    Rig(std::vector<config::KnockConf> ks = {spa_knock("remote", "nas")}, std::vector<std::vector<uint8_t>> keys = {kKey})
        : eng(ks, std::move(keys)) {
        eng.on_reject = [this](const packet::Addr& src, std::string_view why) {
            rejects.push_back(src.str() + " " + std::string(why));
        };
    }
    size_t feed(const std::vector<uint8_t>& dg, const packet::Decoded& d = udp_to(62201)) {
        size_t before = ev.size();
        eng.on_packet(d, dg, now, wall, &ev);
        return ev.size() - before;
    }
    void advance(int64_t s) {
        now += s * kS;
        wall += s;
    }
};

std::string tmpdir() {
    char t[] = "/tmp/nw-spa-XXXXXX";
    REQUIRE(mkdtemp(t) != nullptr);
    return t;
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    REQUIRE(chmod(path.c_str(), mode) == 0);
}

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

// A UDP receiver on 127.0.0.1:<ephemeral> for the client tests.
struct Receiver {
    int fd = -1;
    uint16_t port = 0;
    Receiver() {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t l = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
        port = ntohs(a.sin_port);
        timeval tv{5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~Receiver() { close(fd); }
    std::vector<uint8_t> recv() {
        std::vector<uint8_t> b(2048);
        ssize_t n = ::recv(fd, b.data(), b.size(), 0);
        b.resize(n < 0 ? 0 : size_t(n));
        return b;
    }
};

// Checks a received datagram the way the daemon does: parse, HMAC, target, fresh timestamp.
void check_datagram(const std::vector<uint8_t>& dg, const std::vector<uint8_t>& key, const std::string& target) {
    packet::SpaMessage m;
    std::string err;
    REQUIRE_MESSAGE(packet::spa_parse(dg, &m, &err), err);
    CHECK(packet::spa_verify_hmac(m, key));
    CHECK(m.target() == target);
    int64_t skew = int64_t(m.timestamp) - int64_t(time(nullptr));
    CHECK(skew <= 2);
    CHECK(skew >= -5);
}

}  // namespace

// ---- parser and HMAC ---------------------------------------------------------------------

TEST_CASE("spa: build, parse and verify round trip") {
    auto dg = packet::spa_build(1, 0x0102030405060708ull, nonce(7), "nas", kKey);
    REQUIRE(dg.size() == 25 + 3 + 32);
    CHECK(dg[0] == 1);
    CHECK(dg[1] == 0x01);
    CHECK(dg[8] == 0x08);
    packet::SpaMessage m;
    std::string err;
    REQUIRE(packet::spa_parse(dg, &m, &err));
    CHECK(m.version == 1);
    CHECK(m.timestamp == 0x0102030405060708ull);
    CHECK(m.nonce == nonce(7));
    CHECK(m.target() == "nas");
    CHECK(packet::spa_verify_hmac(m, kKey));
    CHECK(!packet::spa_verify_hmac(m, kOtherKey));
    CHECK(!packet::spa_verify_hmac(m, {}));
    packet::SpaKey k(kKey), other(kOtherKey), none;
    CHECK(k.valid());
    CHECK(k.verify(m));
    CHECK(k.verify(m));                      // re-usable
    CHECK(!other.verify(m));
    CHECK(!none.valid());
    CHECK(!none.verify(m));
    packet::SpaKey moved = std::move(k);
    CHECK(moved.verify(m));
}

TEST_CASE("spa: any altered byte fails the HMAC") {
    auto dg = packet::spa_build(1, kWall, nonce(1), "nas", kKey);
    packet::SpaKey k(kKey);
    for (size_t i = 1; i < dg.size(); ++i) {    // byte 0 is the version: a parse error instead
        auto bad = dg;
        bad[i] ^= (i >= 25 && i < 28) ? 0x20 : 0x01;  // keep the target's characters legal
        packet::SpaMessage m;
        REQUIRE(packet::spa_parse(bad, &m, nullptr));
        CHECK_MESSAGE(!packet::spa_verify_hmac(m, kKey), "byte ", i);
        CHECK(!k.verify(m));
    }
}

TEST_CASE("spa: lengths, version and target characters") {
    packet::SpaMessage m;
    std::string err;
    CHECK(!packet::spa_parse({}, &m, &err));
    CHECK(err == "empty datagram");
    auto dg = packet::spa_build(1, kWall, nonce(1), "a", kKey);
    CHECK(dg.size() == packet::kSpaMinLen);
    CHECK(packet::spa_parse(dg, &m, &err));
    CHECK(!packet::spa_parse(std::span(dg).first(dg.size() - 1), &m, &err));   // truncated
    CHECK(err.find("too short") != std::string::npos);
    std::string t64(64, 'x');
    dg = packet::spa_build(1, kWall, nonce(1), t64, kKey);
    CHECK(dg.size() == packet::kSpaMaxLen);
    REQUIRE(packet::spa_parse(dg, &m, &err));
    CHECK(m.target() == t64);
    CHECK(packet::spa_verify_hmac(m, kKey));
    dg.push_back(0);                                                           // oversized
    CHECK(!packet::spa_parse(dg, &m, &err));
    CHECK(err.find("too long") != std::string::npos);
    dg = packet::spa_build(2, kWall, nonce(1), "nas", kKey);                   // wrong version
    CHECK(!packet::spa_parse(dg, &m, &err));
    CHECK(err.find("version") != std::string::npos);
    dg = packet::spa_build(0, kWall, nonce(1), "nas", kKey);
    CHECK(!packet::spa_parse(dg, &m, &err));
    dg = packet::spa_build(1, kWall, nonce(1), "na s", kKey);                  // bad character
    CHECK(!packet::spa_parse(dg, &m, &err));
    CHECK(err.find("target name") != std::string::npos);
    dg = packet::spa_build(1, kWall, nonce(1), std::string("n\0s", 3), kKey);
    CHECK(!packet::spa_parse(dg, &m, nullptr));                                // err may be null
}

// ---- engine -----------------------------------------------------------------------------

TEST_CASE("spa engine: a good datagram is accepted once") {
    Rig r;
    auto dg = packet::spa_build(1, uint64_t(r.wall), nonce(1), "nas", kKey);
    REQUIRE(r.feed(dg) == 1);
    CHECK(r.ev[0].kind == core::KnockEvent::Spa);
    CHECK(r.ev[0].knock_name == "remote");
    CHECK(r.ev[0].target == "nas");
    CHECK(r.ev[0].src == packet::Addr::v4(0xc0000205));
    CHECK(r.eng.stats().accepted == 1);
    CHECK(r.eng.replay_size() == 1);
    CHECK(r.eng.replay_generation() == 1);
    CHECK(r.rejects.empty());
    // the same datagram from the same source within 2 s: a duplicate (second sensor), silent
    r.advance(1);
    CHECK(r.feed(dg) == 0);
    CHECK(r.eng.stats().duplicates == 1);
    CHECK(r.rejects.empty());
    // later, or from elsewhere: a replay, rejected and reported
    r.advance(2);
    CHECK(r.feed(dg) == 0);
    CHECK(r.feed(dg, udp_to(62201, packet::Addr::v4(0x0a000001))) == 0);
    CHECK(r.eng.stats().replay == 2);
    REQUIRE(r.rejects.size() == 2);
    CHECK(r.rejects[0].find("192.0.2.5 remote: replayed datagram") == 0);
    CHECK(r.rejects[1].find("10.0.0.1 ") == 0);
    // a fresh nonce works
    CHECK(r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(2), "nas", kKey)) == 1);
}

TEST_CASE("spa engine: rejections, each counted and reported with the source") {
    Rig r;
    auto feed_reject = [&](const std::vector<uint8_t>& dg, const char* what) {
        size_t n = r.rejects.size();
        CHECK(r.feed(dg) == 0);
        REQUIRE(r.rejects.size() == n + 1);
        CHECK_MESSAGE(r.rejects.back().find(what) != std::string::npos, r.rejects.back());
    };
    feed_reject(packet::spa_build(1, uint64_t(r.wall), nonce(1), "nas", kOtherKey), "bad HMAC");
    feed_reject(packet::spa_build(1, uint64_t(r.wall - 61), nonce(2), "nas", kKey), "stale");
    feed_reject(packet::spa_build(1, uint64_t(r.wall + 61), nonce(3), "nas", kKey), "future");
    feed_reject(packet::spa_build(1, ~uint64_t(0), nonce(3), "nas", kKey), "future");
    feed_reject(packet::spa_build(1, uint64_t(r.wall), nonce(4), "vpn", kKey), "names target \"vpn\"");
    feed_reject(packet::spa_build(2, uint64_t(r.wall), nonce(5), "nas", kKey), "malformed");
    feed_reject(std::vector<uint8_t>(10, 1), "malformed");
    feed_reject(std::vector<uint8_t>(200, 1), "malformed");
    const core::KnockStats& s = r.eng.stats();
    CHECK(s.bad_hmac == 1);
    CHECK(s.stale == 1);
    CHECK(s.future == 2);
    CHECK(s.unknown_target == 1);
    CHECK(s.malformed == 3);
    CHECK(s.rejected() == 8);
    CHECK(s.accepted == 0);
    CHECK(r.eng.replay_size() == 0);          // rejected datagrams never enter the cache
    // the window's edges are inside
    CHECK(r.feed(packet::spa_build(1, uint64_t(r.wall - 60), nonce(6), "nas", kKey)) == 1);
    CHECK(r.feed(packet::spa_build(1, uint64_t(r.wall + 60), nonce(7), "nas", kKey)) == 1);
    // other ports and protocols are not looked at
    size_t n = r.rejects.size();
    r.feed(std::vector<uint8_t>(10, 1), udp_to(62202));
    packet::Decoded tcp = udp_to(62201);
    tcp.proto = packet::kProtoTcp;
    r.feed(std::vector<uint8_t>(10, 1), tcp);
    CHECK(r.rejects.size() == n);
}

TEST_CASE("spa engine: the HMAC is checked before anything that reveals more") {
    Rig r;
    // stale, wrong target and replayed, but with the wrong key: reported as bad HMAC only
    auto good = packet::spa_build(1, uint64_t(r.wall), nonce(9), "nas", kKey);
    REQUIRE(r.feed(good) == 1);
    r.advance(5);
    r.feed(packet::spa_build(1, uint64_t(r.wall - 1000), nonce(9), "vpn", kOtherKey));
    CHECK(r.eng.stats().bad_hmac == 1);
    CHECK(r.eng.stats().stale == 0);
    CHECK(r.eng.stats().replay == 0);
}

TEST_CASE("spa engine: a capture shorter than the datagram is reported as truncated") {
    Rig r({spa_knock("remote", "a-long-target-name")});
    auto dg = packet::spa_build(1, uint64_t(r.wall), nonce(1), "a-long-target-name", kKey);
    packet::Decoded d = udp_to(62201);
    d.l3_offset = 0;
    d.l4_offset = 20;
    d.ip_total_len = uint32_t(20 + 8 + dg.size());
    r.eng.on_packet(d, std::span(dg).first(40), r.now, r.wall, &r.ev);
    CHECK(r.ev.empty());
    CHECK(r.eng.stats().truncated == 1);
    CHECK(r.eng.stats().malformed == 1);
    REQUIRE(r.rejects.size() == 1);
    CHECK(r.rejects[0].find("copy_range") != std::string::npos);
    r.eng.on_packet(d, dg, r.now, r.wall, &r.ev);
    CHECK(r.ev.size() == 1);
}

TEST_CASE("spa engine: hit_payload takes the payload from a Hit's captured head") {
    core::Hit h;
    auto dg = packet::spa_build(1, kWall, nonce(1), "nas", kKey);
    h.d = udp_to(62201);
    h.d.payload_offset = 42;
    h.d.payload_len = dg.size();
    std::copy(dg.begin(), dg.end(), h.raw + 42);
    h.raw_len = uint16_t(42 + dg.size());
    auto p = core::KnockEngine::hit_payload(h);
    CHECK(std::vector<uint8_t>(p.begin(), p.end()) == dg);
    h.raw_len = 50;
    CHECK(core::KnockEngine::hit_payload(h).size() == 8);
    h.raw_len = 40;
    CHECK(core::KnockEngine::hit_payload(h).empty());
}

TEST_CASE("spa engine: several knocks on one port pick the key and the named target") {
    Rig r({spa_knock("a", "nas"), spa_knock("b", "vpn"), spa_knock("c", "www")}, {kKey, kKey, kOtherKey});
    REQUIRE(r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(1), "vpn", kKey)) == 1);
    CHECK(r.ev.back().knock_name == "b");
    REQUIRE(r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(2), "www", kOtherKey)) == 1);
    CHECK(r.ev.back().knock_index == 2);
    r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(3), "www", kKey));   // key of a/b, target of c
    CHECK(r.eng.stats().unknown_target == 1);
    r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(4), "nas", std::vector<uint8_t>(32, 1)));
    REQUIRE(r.rejects.size() == 2);
    CHECK(r.rejects.back().find("SPA port 62201: bad HMAC") != std::string::npos);
}

TEST_CASE("spa engine: replay entries expire on timers and survive a restart") {
    Rig r;
    CHECK(r.eng.next_deadline_ns() == 0);
    auto dg = packet::spa_build(1, uint64_t(r.wall), nonce(1), "nas", kKey);
    REQUIRE(r.feed(dg) == 1);
    int64_t dl = r.eng.next_deadline_ns();
    CHECK(dl >= r.now + 60 * kS);
    CHECK(dl < r.now + 60 * kS + core::KnockEngine::kTimerSlackNs);
    auto saved = r.eng.replay_entries();
    REQUIRE(saved.size() == 1);
    CHECK(saved[0].first == "01010101010101010101010101010101");
    CHECK(saved[0].second == r.wall + 60);

    // through the state file, as the daemon persists it
    std::string dir = tmpdir();
    std::vector<state::ReplayEntry> file;
    for (auto& [n, e] : saved) file.push_back({n, e});
    std::string err;
    REQUIRE_MESSAGE(state::save_replay(dir, file, &err), err);
    std::vector<state::ReplayEntry> loaded;
    REQUIRE(state::load_replay(dir, &loaded, &err) == state::LoadResult::Loaded);
    std::system(("rm -rf " + dir).c_str());
    std::vector<std::pair<std::string, int64_t>> back;
    for (auto& e : loaded) back.emplace_back(e.nonce_hex, e.expires_wall_s);
    back.emplace_back("0202", r.wall + 10);                           // malformed: skipped
    back.emplace_back(std::string(32, '3'), r.wall - 1);              // expired: skipped
    back.emplace_back(std::string(32, '4'), r.wall + 100000);         // clamped to the window

    // a "restarted" daemon: new engine, new monotonic clock, 10 s later
    Rig r2;
    r2.now = 7 * kS;
    r2.wall = r.wall + 10;
    r2.eng.restore_replay(back, r2.now, r2.wall);
    CHECK(r2.eng.replay_size() == 2);
    CHECK(r2.feed(dg) == 0);
    CHECK(r2.eng.stats().replay == 1);
    for (auto& [n, e] : r2.eng.replay_entries())
        if (n == std::string(32, '4')) CHECK(e == r2.wall + 60);
    // expiry: nothing before the deadline, everything after
    CHECK(r2.eng.next_deadline_ns() >= r2.now + 50 * kS);
    r2.eng.on_time(r2.now + 49 * kS);
    CHECK(r2.eng.replay_size() == 2);
    r2.eng.on_time(r2.now + 50 * kS);
    CHECK(r2.eng.replay_size() == 1);
    r2.eng.on_time(r2.now + 60 * kS);
    CHECK(r2.eng.replay_size() == 0);
    CHECK(r2.eng.next_deadline_ns() == 0);
}

TEST_CASE("spa engine: the replay cache is bounded, the oldest-expiring entry goes") {
    Rig r;
    const size_t n = core::KnockEngine::kMaxReplayEntries;
    std::vector<std::pair<std::string, int64_t>> fill;
    char buf[40];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "%032zx", i + 1000);
        fill.emplace_back(buf, r.wall + 10 + int64_t(i % 50));
    }
    r.eng.restore_replay(fill, r.now, r.wall);
    CHECK(r.eng.replay_size() == n);
    REQUIRE(r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(1), "nas", kKey)) == 1);
    CHECK(r.eng.replay_size() == n);
    CHECK(r.eng.stats().replay_evicted == 1);
    CHECK(r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(1), "nas", kKey), udp_to(62201, packet::Addr::v4(7))) == 0);
    CHECK(r.eng.stats().replay == 1);        // the newest entry stayed
}

TEST_CASE("spa engine: IPv6 source, and a knock without a key rejects everything") {
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
    Rig r;
    auto src = packet::Addr::v6_bytes(b);
    REQUIRE(r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(1), "nas", kKey), udp_to(62201, src)) == 1);
    CHECK(r.ev[0].src == src);
    Rig nokey({spa_knock("remote", "nas")}, {});
    CHECK(nokey.feed(packet::spa_build(1, uint64_t(nokey.wall), nonce(1), "nas", kKey)) == 0);
    CHECK(nokey.eng.stats().bad_hmac == 1);
}

// ---- key files, keygen, client -------------------------------------------------------------

TEST_CASE("spa key files: mode, length, one line") {
    std::string dir = tmpdir();
    std::vector<uint8_t> key;
    std::string err;
    const std::string good = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=";   // 32 x 0x5a
    write_file(dir + "/ok", good + "\n", 0600);
    REQUIRE_MESSAGE(action::load_spa_key(dir + "/ok", &key, &err), err);
    CHECK(key == kKey);
    write_file(dir + "/ro", good, 0400);                                         // no newline, owner-only
    CHECK(action::load_spa_key(dir + "/ro", &key, &err));
    write_file(dir + "/grp", good + "\n", 0640);
    CHECK(!action::load_spa_key(dir + "/grp", &key, &err));
    CHECK(err.find("readable by group or others (mode 0640)") != std::string::npos);
    CHECK(err.find("chmod 600") != std::string::npos);
    write_file(dir + "/world", good + "\n", 0604);
    CHECK(!action::load_spa_key(dir + "/world", &key, &err));
    write_file(dir + "/short", "AAECAwQFBgcICQoLDA0ODw==\n", 0600);              // 16 bytes
    CHECK(!action::load_spa_key(dir + "/short", &key, &err));
    CHECK(err.find("16-byte key") != std::string::npos);
    write_file(dir + "/two", good.substr(0, 20) + "\n" + good.substr(20) + "\n", 0600);
    CHECK(!action::load_spa_key(dir + "/two", &key, &err));
    CHECK(err.find("ONE line") != std::string::npos);
    write_file(dir + "/junk", "not base64 at all!\n", 0600);
    CHECK(!action::load_spa_key(dir + "/junk", &key, &err));
    write_file(dir + "/empty", "", 0600);
    CHECK(!action::load_spa_key(dir + "/empty", &key, &err));
    CHECK(!action::load_spa_key(dir + "/missing", &key, &err));
    CHECK(err.find("No such file") != std::string::npos);
    CHECK(!action::load_spa_key(dir, &key, &err));                               // a directory
    CHECK(err.find("not a regular file") != std::string::npos);

    std::vector<config::KnockConf> ks = {spa_knock("remote", "nas"), spa_knock("bad", "nas")};
    ks.insert(ks.begin(), config::KnockConf{});
    ks[1].spa->key_file = dir + "/ok";
    ks[2].spa->key_file = dir + "/grp";
    std::vector<std::vector<uint8_t>> keys;
    CHECK(!action::load_spa_keys(ks, &keys, &err));
    CHECK(err.find("knock \"bad\": key file") == 0);
    ks.pop_back();
    REQUIRE(action::load_spa_keys(ks, &keys, &err));
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].empty());
    CHECK(keys[1] == kKey);
    std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("spa keygen: a new 0600 file with a usable key, never an overwrite") {
    std::string dir = tmpdir(), path = dir + "/k.key", err;
    mode_t old = umask(0);                    // a careless umask must not widen the mode
    bool ok = action::keygen_file(path, &err);
    umask(old);
    REQUIRE_MESSAGE(ok, err);
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    std::vector<uint8_t> key;
    REQUIRE_MESSAGE(action::load_spa_key(path, &key, &err), err);
    CHECK(key.size() == 32);
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    CHECK(line.size() == 44);
    CHECK(!action::keygen_file(path, &err));
    CHECK(err.find("refusing to overwrite") != std::string::npos);
    std::vector<uint8_t> again;
    action::load_spa_key(path, &again, &err);
    CHECK(again == key);
    std::string p2 = dir + "/k2.key";
    REQUIRE(action::keygen_file(p2, &err));
    action::load_spa_key(p2, &again, &err);
    CHECK(again != key);
    std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("spa client: send_knock delivers one verifiable datagram") {
    std::string dir = tmpdir(), path = dir + "/k.key", err, where;
    REQUIRE(action::keygen_file(path, &err));
    std::vector<uint8_t> key;
    REQUIRE(action::load_spa_key(path, &key, &err));
    Receiver rx;
    REQUIRE_MESSAGE(action::send_knock("127.0.0.1:" + std::to_string(rx.port), "nas", path, 1, &err, &where), err);
    CHECK(where == "127.0.0.1:" + std::to_string(rx.port));
    check_datagram(rx.recv(), key, "nas");
    REQUIRE(action::send_knock("localhost", "vpn.lab", path, rx.port, &err, &where));   // default port
    check_datagram(rx.recv(), key, "vpn.lab");

    CHECK(!action::send_knock("127.0.0.1:0", "nas", path, 1, &err));
    CHECK(!action::send_knock("127.0.0.1:99999", "nas", path, 1, &err));
    CHECK(!action::send_knock("[::1", "nas", path, 1, &err));
    CHECK(!action::send_knock("127.0.0.1:9", "bad name", path, 1, &err));
    CHECK(!action::send_knock("127.0.0.1:9", "nas", dir + "/missing", 1, &err));
    CHECK(!action::send_knock("no-such-host.invalid", "nas", path, 9, &err));

    // the CLI wrappers: usage errors exit 2, runtime failures 1
    auto run = [](std::vector<std::string> args, int (*fn)(int, char**)) {
        std::vector<char*> av;
        for (auto& a : args) av.push_back(a.data());
        av.push_back(nullptr);
        std::fflush(stdout);
        std::fflush(stderr);
        int o = dup(1), e = dup(2), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        dup2(null, 1);
        dup2(null, 2);
        int rc = fn(int(args.size()), av.data());
        std::fflush(stdout);
        std::fflush(stderr);
        dup2(o, 1);
        dup2(e, 2);
        close(o), close(e), close(null);
        return rc;
    };
    CHECK(run({"knock"}, action::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "nas"}, action::knock_cli_main) == 2);                       // no key file
    CHECK(run({"knock", "127.0.0.1", "nas", "--key-file"}, action::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "nas", "-k", path, "--port", "0"}, action::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "bad/name", "-k", path}, action::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "nas", "-k", path, "--bogus"}, action::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "nas", "-k", dir + "/missing"}, action::knock_cli_main) == 1);
    CHECK(run({"knock", "127.0.0.1", "nas", "--key-file=" + path, "--port=" + std::to_string(rx.port)},
              action::knock_cli_main) == 0);
    check_datagram(rx.recv(), key, "nas");
    CHECK(run({"keygen"}, action::keygen_cli_main) == 2);
    CHECK(run({"keygen", "a", "b"}, action::keygen_cli_main) == 2);
    CHECK(run({"keygen", path}, action::keygen_cli_main) == 1);                                   // exists
    CHECK(run({"keygen", dir + "/new.key"}, action::keygen_cli_main) == 0);
    std::system(("rm -rf " + dir).c_str());
}

// The README's shell recipe, byte for byte (KEY/HOST/PORT/TARGET come from the environment here).
static const char* kShellRecipe =
    "k=$(base64 -d \"$KEY\" | xxd -p -c 256)\n"
    "m=01$(printf %016x \"$(date +%s)\")$(openssl rand -hex 16)$(printf %s \"$TARGET\" | xxd -p -c 256)\n"
    "m=$m$(printf %s \"$m\" | xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt hexkey:\"$k\" -binary | xxd -p -c 256)\n"
    "printf %s \"$m\" | xxd -r -p > \"/dev/udp/$HOST/$PORT\"\n";

TEST_CASE("spa: the README shell recipe and doc/spa-knock.py produce datagrams netwaked accepts") {
    std::string dir = tmpdir(), path = dir + "/k.key", err;
    REQUIRE(action::keygen_file(path, &err));
    std::vector<uint8_t> key;
    REQUIRE(action::load_spa_key(path, &key, &err));
    Receiver rx;
    std::string env = "KEY='" + path + "' HOST=127.0.0.1 PORT=" + std::to_string(rx.port) + " TARGET=nas-1 ";
    if (have("bash") && have("openssl") && have("xxd") && have("base64")) {
        std::ofstream(dir + "/recipe.sh") << kShellRecipe;
        REQUIRE(std::system((env + "bash " + dir + "/recipe.sh").c_str()) == 0);
        check_datagram(rx.recv(), key, "nas-1");
    } else {
        MESSAGE("skipped: the shell recipe needs bash, openssl, xxd and base64");
    }
    std::string script;
    for (const char* p : {"doc/spa-knock.py", "../doc/spa-knock.py", "../../doc/spa-knock.py"})
        if (access(p, R_OK) == 0) script = p;
    if (have("python3") && !script.empty()) {
        std::string cmd = "python3 " + script + " 127.0.0.1:" + std::to_string(rx.port) + " nas-1 '" + path + "' >/dev/null";
        REQUIRE(std::system(cmd.c_str()) == 0);
        check_datagram(rx.recv(), key, "nas-1");
        cmd = "python3 " + script + " 127.0.0.1 >/dev/null 2>&1";
        CHECK(WEXITSTATUS(std::system(cmd.c_str())) == 2);
    } else {
        MESSAGE("skipped: python3 or doc/spa-knock.py not found");
    }
    std::system(("rm -rf " + dir).c_str());
}

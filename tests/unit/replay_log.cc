// tests/unit/replay_log.cc — state/replay_log.h: the SPA replay cache's append-only log (append,
// reload, torn tail, compaction, expiry through the knock engine) and the bytes written per
// accepted datagram at 3000 entries, against rewriting the whole cache each time (issue 12 #10).
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/knock.h"
#include "state/replay_log.h"

using namespace nw;
using namespace nw::state;
namespace fs = std::filesystem;

namespace {

struct Dir {
    std::string path;
    Dir() {  // tmpfs when there is one: hundreds of fdatasyncs on a disk take seconds
        std::string t = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm/nw-replaylog-XXXXXX" : "/tmp/nw-replaylog-XXXXXX";
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~Dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string log() const { return path + "/replay.log"; }
};

std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}
void append_raw(const std::string& p, const std::string& s) {
    std::ofstream f(p, std::ios::binary | std::ios::app);
    f << s;
}
std::string nonce(int i) {
    char b[40];
    std::snprintf(b, sizeof b, "%032x", i);
    return b;
}
std::vector<ReplayEntry> load_all(const std::string& dir, std::string* notes = nullptr) {
    ReplayLog l(dir);
    std::vector<ReplayEntry> out;
    std::string err, n;
    l.load(&out, &err, notes ? notes : &n);
    return out;
}

}  // namespace

TEST_CASE("replay log: records round trip, a bad checksum or a missing newline ends them") {
    ReplayEntry e{nonce(7), 1700000060};
    const std::string rec = encode_replay_record(e);
    CHECK(rec.back() == '\n');
    std::vector<ReplayEntry> v;
    CHECK(decode_replay_records(rec + rec, &v) == 2 * rec.size());
    REQUIRE(v.size() == 2);
    CHECK(v[0].nonce_hex == e.nonce_hex);
    CHECK(v[0].expires_wall_s == e.expires_wall_s);
    std::string bad = rec;
    bad[3] = bad[3] == 'a' ? 'b' : 'a';       // one digit of the nonce changed: checksum fails
    v.clear();
    CHECK(decode_replay_records(rec + bad + rec, &v) == rec.size());
    CHECK(v.size() == 1);
    v.clear();
    CHECK(decode_replay_records(rec + rec.substr(0, rec.size() - 1), &v) == rec.size());
    v.clear();
    CHECK(decode_replay_records(std::string(64, '\0'), &v) == 0);   // a zero-filled tail
    CHECK(v.empty());
}

TEST_CASE("replay log: append, reload, snapshot + log merged") {
    Dir d;
    {
        ReplayLog l(d.path);
        std::string err;
        REQUIRE_MESSAGE(l.append({nonce(1), 100}, &err), err);
        REQUIRE(l.append({nonce(2), 200}, &err));
        CHECK(l.records() == 2);
        CHECK(l.bytes_written() == 2 * encode_replay_record({nonce(1), 100}).size());
    }
    struct stat st {};
    REQUIRE(::stat(d.log().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto v = load_all(d.path);
    REQUIRE(v.size() == 2);
    CHECK(v[1].nonce_hex == nonce(2));
    CHECK(v[1].expires_wall_s == 200);

    ReplayLog l(d.path);
    std::vector<ReplayEntry> out;
    std::string err, notes;
    CHECK(l.load(&out, &err, &notes) == LoadResult::Missing);   // no snapshot yet
    CHECK(l.records() == 2);
    REQUIRE(l.compact(out, &err));
    CHECK(slurp(d.log()).empty());
    CHECK(l.records() == 0);
    REQUIRE(l.append({nonce(3), 300}, &err));
    v = load_all(d.path);
    REQUIRE(v.size() == 3);                                      // 2 from replay.json, 1 from the log
    CHECK(v[2].nonce_hex == nonce(3));
}

TEST_CASE("replay log: a torn tail is ignored, reported and cut, so later appends are read") {
    Dir d;
    std::string err;
    {
        ReplayLog l(d.path);
        REQUIRE(l.append({nonce(1), 100}, &err));
        REQUIRE(l.append({nonce(2), 200}, &err));
    }
    const size_t good = slurp(d.log()).size();
    append_raw(d.log(), encode_replay_record({nonce(3), 300}).substr(0, 20));   // crash mid-write
    std::string notes;
    auto v = load_all(d.path, &notes);
    CHECK(v.size() == 2);
    CHECK(notes.find("torn") != std::string::npos);
    CHECK(slurp(d.log()).size() == good);                       // cut back to the good records
    {
        ReplayLog l(d.path);
        std::vector<ReplayEntry> out;
        l.load(&out, &err, &notes);
        REQUIRE(l.append({nonce(4), 400}, &err));
    }
    v = load_all(d.path);
    REQUIRE(v.size() == 3);
    CHECK(v[2].nonce_hex == nonce(4));
}

TEST_CASE("replay log: compaction is due once the log is as long as the cache, and survives a crash") {
    Dir d;
    ReplayLog l(d.path);
    std::string err;
    for (size_t i = 0; i + 1 < ReplayLog::kMinCompact; ++i) REQUIRE(l.append({nonce(int(i)), 100}, &err));
    CHECK(!l.wants_compaction(10));
    REQUIRE(l.append({nonce(999), 100}, &err));
    CHECK(l.wants_compaction(10));
    CHECK(!l.wants_compaction(ReplayLog::kMinCompact + 1));     // a bigger cache waits longer
    // a crash after the snapshot's rename, before the log was emptied: entries in both, merged
    std::vector<ReplayEntry> live = {{nonce(999), 100}, {nonce(1), 100}};
    REQUIRE(save_replay(d.path, live, &err));
    auto v = load_all(d.path);
    CHECK(v.size() == 2 + ReplayLog::kMinCompact);
    core::KnockEngine eng;
    std::vector<std::pair<std::string, int64_t>> pairs;
    for (auto& e : v) pairs.emplace_back(e.nonce_hex, e.expires_wall_s);
    eng.restore_replay(pairs, 1, 50);
    CHECK(eng.replay_size() == ReplayLog::kMinCompact);        // duplicates count once
    REQUIRE(l.compact(live, &err));
    CHECK(load_all(d.path).size() == 2);
    CHECK(!fs::exists(d.path + "/replay.json.tmp"));
}

TEST_CASE("replay log: through the knock engine — expired entries are not restored, a replay is refused") {
    Dir d;
    const std::vector<uint8_t> key(32, 0x5a);
    config::KnockConf k;
    k.name = "remote";
    k.target = "nas";
    k.spa = config::SpaConf{};
    k.spa->port = 62201;
    k.spa->window = std::chrono::seconds(60);
    packet::Decoded pd;
    pd.l3 = 4;
    pd.src = packet::Addr::v4(0xc0000205);
    pd.proto = packet::kProtoUdp;
    pd.has_l4 = true;
    pd.src_port = 40000;
    pd.dst_port = 62201;
    const int64_t wall = 1'700'000'000, S = 1'000'000'000;
    packet::SpaNonce n1{}, n2{};
    n1.fill(1);
    n2.fill(2);
    auto dg1 = packet::spa_build(1, uint64_t(wall), n1, "nas", key);
    auto dg2 = packet::spa_build(1, uint64_t(wall + 100), n2, "nas", key);
    std::vector<core::KnockEvent> ev;
    ReplayLog log(d.path);
    std::string err;
    {
        core::KnockEngine eng({k}, {key});
        eng.on_packet(pd, dg1, 10 * S, wall, &ev);
        eng.on_packet(pd, dg2, 110 * S, wall + 100, &ev);
        REQUIRE(ev.size() == 2);
        for (auto& [nh, exp] : eng.take_new_replay()) REQUIRE(log.append({nh, exp}, &err));
        CHECK(eng.take_new_replay().empty());
    }
    // restart 30 s later: the first nonce expired (wall + 60), the second is still refused
    auto v = load_all(d.path);
    REQUIRE(v.size() == 2);
    std::vector<std::pair<std::string, int64_t>> pairs;
    for (auto& e : v) pairs.emplace_back(e.nonce_hex, e.expires_wall_s);
    core::KnockEngine eng2({k}, {key});
    eng2.restore_replay(pairs, 5 * S, wall + 130);
    CHECK(eng2.replay_size() == 1);
    CHECK(eng2.take_new_replay().empty());                      // restored entries are not re-logged
    ev.clear();
    eng2.on_packet(pd, dg2, 6 * S, wall + 130, &ev);
    CHECK(ev.empty());
    CHECK(eng2.stats().replay == 1);
}

// A nonce claimed by another channel (signed MQTT commands) is logged like an SPA nonce: before
// this, claim_nonce() left it out of take_new_replay(), so a restart accepted the command again.
TEST_CASE("replay log: nonces claimed by MQTT commands are logged and survive a restart") {
    core::KnockEngine eng({}, {});
    packet::SpaNonce n{};
    n.fill(7);
    const int64_t wall = 1'700'000'000, S = 1'000'000'000;
    REQUIRE(eng.claim_nonce(n, wall + 60, 10 * S, wall));
    CHECK_FALSE(eng.claim_nonce(n, wall + 60, 11 * S, wall + 1));  // once only
    auto fresh = eng.take_new_replay();
    REQUIRE(fresh.size() == 1);
    CHECK(fresh[0].second == wall + 60);
    core::KnockEngine eng2({}, {});
    eng2.restore_replay(fresh, 20 * S, wall + 10);
    CHECK_FALSE(eng2.claim_nonce(n, wall + 60, 21 * S, wall + 11));
}

TEST_CASE("replay log: bytes written per accepted datagram at 3000 entries (figure)") {
    // Steady state: 3000 live entries, each new datagram's nonce replaces the oldest one.
    Dir d;
    std::deque<ReplayEntry> live;
    for (int i = 0; i < 3000; ++i) live.push_back({nonce(i), 1700000000 + i});
    auto vec = [&] { return std::vector<ReplayEntry>(live.begin(), live.end()); };
    ReplayLog l(d.path);
    std::string err;
    REQUIRE(l.compact(vec(), &err));
    const uint64_t start = l.bytes_written();
    uint64_t before = 0;                        // the old way: the whole cache rewritten each time
    const int n = 6000;
    for (int i = 0; i < n; ++i) {
        live.pop_front();
        live.push_back({nonce(3000 + i), 1700003000 + i});
        if (i % 500 == 0) before += 500 * encode_replay(vec()).size();   // the size hardly varies
        REQUIRE(l.append(live.back(), &err));
        if (l.wants_compaction(live.size())) REQUIRE(l.compact(vec(), &err));
    }
    const double after_per = double(l.bytes_written() - start) / n, before_per = double(before) / n;
    std::printf("  figure replay_bytes_per_datagram_3000_before %.0f\n  figure replay_bytes_per_datagram_3000_after %.0f\n",
                before_per, after_per);
    CHECK(after_per < before_per / 50);
    CHECK(after_per < 200);
}

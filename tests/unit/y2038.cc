// tests/unit/y2038.cc — timestamps past 2038 (a 2040 date) in the state file, the SPA datagram, the
// SPA engine and its replay cache, MQTT event times, the wall clock: must hold with 32-bit time_t (armhf).
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "bridge/codec.h"
#include "core/knock.h"
#include "packet/spa.h"
#include "state/statefile.h"
#include "sys/wallclock.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

constexpr int64_t k2040 = 2'215'000'000;          // 2040-03-10T13:46:40Z, past INT32_MAX (2038-01-19)
constexpr int64_t k2040ms = k2040 * 1000 + 123;
constexpr int64_t kNs = 1'000'000'000;
static_assert(k2040 > INT32_MAX);

const std::vector<uint8_t> kKey(32, 0x42);

packet::Decoded spa_udp() {
    packet::Decoded d;
    d.l3 = 4;
    d.src = packet::Addr::v4(0xc0000207);
    d.proto = packet::kProtoUdp;
    d.has_l4 = true;
    d.src_port = 40000;
    d.dst_port = 62201;
    return d;
}

core::KnockEngine spa_engine() {
    config::KnockConf k;
    k.name = "remote";
    k.target = "nas";
    k.spa = config::SpaConf{};
    k.spa->port = 62201;
    k.spa->window = 60s;
    return core::KnockEngine({k}, {kKey});
}

std::string temp_dir() {
    char t[] = "/tmp/nw-y2038-XXXXXX";
    REQUIRE(mkdtemp(t) != nullptr);
    return t;
}

}  // namespace

TEST_CASE("y2038: the wall clock is 64-bit and agrees with itself") {
    static_assert(std::is_same_v<decltype(sys::wall_s()), int64_t>);
    static_assert(std::is_same_v<decltype(sys::wall_ms()), int64_t>);
    int64_t s = sys::wall_s(), ms = sys::wall_ms();
    CHECK(s > 1'700'000'000);
    CHECK(ms / 1000 - s >= 0);
    CHECK(ms / 1000 - s <= 2);
}

TEST_CASE("y2038: a 2040 SPA datagram round-trips and the engine accepts it at 2040 wall time") {
    packet::SpaNonce nonce{};
    nonce.fill(9);
    auto dg = packet::spa_build(packet::kSpaVersion, uint64_t(k2040), nonce, "nas", kKey);
    packet::SpaMessage m;
    std::string err;
    REQUIRE_MESSAGE(packet::spa_parse(dg, &m, &err), err);
    CHECK(m.timestamp == uint64_t(k2040));
    CHECK(packet::spa_verify_hmac(m, kKey));

    core::KnockEngine eng = spa_engine();
    std::vector<core::KnockEvent> ev;
    int64_t now = 100 * kNs;
    eng.on_packet(spa_udp(), dg, now, k2040 + 30, &ev);      // 30 s old: inside the 60 s window
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].target == "nas");
    auto entries = eng.replay_entries();
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].second == k2040 + 90);                   // expiry: max(wall, ts) + window

    // 61 s old in 2040 is stale (a wrapped 32-bit clock would make it decades off either way).
    nonce.fill(10);
    auto stale = packet::spa_build(packet::kSpaVersion, uint64_t(k2040), nonce, "nas", kKey);
    eng.on_packet(spa_udp(), stale, now, k2040 + 61, &ev);
    CHECK(ev.size() == 1);
    CHECK(eng.stats().stale == 1);

    // The replay cache survives a restart in 2040: saved, loaded, restored, the datagram refused.
    std::string dir = temp_dir();
    std::vector<state::ReplayEntry> saved;
    for (const auto& [n, exp] : entries) saved.push_back({n, exp});
    REQUIRE_MESSAGE(state::save_replay(dir, saved, &err), err);
    std::vector<state::ReplayEntry> loaded;
    REQUIRE(state::load_replay(dir, &loaded, &err) == state::LoadResult::Loaded);
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].expires_wall_s == k2040 + 90);
    core::KnockEngine again = spa_engine();
    again.restore_replay({{loaded[0].nonce_hex, loaded[0].expires_wall_s}}, now, k2040 + 31);
    CHECK(again.replay_size() == 1);
    std::vector<core::KnockEvent> ev2;
    again.on_packet(spa_udp(), dg, now, k2040 + 31, &ev2);
    CHECK(ev2.empty());
    CHECK(again.stats().replay == 1);
    std::filesystem::remove_all(dir);
}

TEST_CASE("y2038: 2040 times in the state file are saved and loaded exactly") {
    state::PersistedState s;
    state::PersistedTarget t;
    t.name = "nas";
    t.active = true;
    t.last_seen_wall_ms = k2040ms;
    t.active_since_wall_ms = k2040ms - 5000;
    t.ttl_deadline_wall_ms = k2040ms + 600'000;
    s.targets.push_back(t);
    state::PersistedRegistration r;
    r.name = "pc";
    r.mac = "d8:cb:8a:39:be:a1";
    r.monitor.push_back({"10.0.0.5", {22}});
    r.registered_wall_ms = k2040ms;
    r.state = "asleep";
    s.registrations.push_back(r);
    CHECK(state::encode_state(s).find("2215000000123") != std::string::npos);

    std::string dir = temp_dir(), err;
    REQUIRE_MESSAGE(state::save_state(dir, s, &err), err);
    state::PersistedState back;
    REQUIRE(state::load_state(dir, &back, &err) == state::LoadResult::Loaded);
    REQUIRE(back.targets.size() == 1);
    CHECK(back.targets[0].last_seen_wall_ms == k2040ms);
    CHECK(back.targets[0].active_since_wall_ms == k2040ms - 5000);
    CHECK(back.targets[0].ttl_deadline_wall_ms == k2040ms + 600'000);
    REQUIRE(back.registrations.size() == 1);
    CHECK(back.registrations[0].registered_wall_ms == k2040ms);
    std::filesystem::remove_all(dir);
}

TEST_CASE("y2038: MQTT event times (RFC 3339) are right in 2040, not 1904") {
    CHECK(bridge::rfc3339(k2040) == "2040-03-10T13:46:40Z");
    CHECK(bridge::rfc3339(int64_t(INT32_MAX) + 1) == "2038-01-19T03:14:08Z");
    CHECK(bridge::rfc3339(951'782'400) == "2000-02-29T00:00:00Z");
    CHECK(bridge::rfc3339(4'102'444'799) == "2099-12-31T23:59:59Z");
    CHECK(bridge::rfc3339(0) == "1970-01-01T00:00:00Z");
}

// tests/unit/core_relay.cc — core::RelayEngine (SPEC §7.2): an allowed target's magic packet with
// its password is accepted within the rate; unknown MACs, wrong / missing passwords, other ports or
// sensors, non-magic payloads and bursts over the rate are refused and counted.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/relay.h"
#include "packet/wol.h"

using namespace nw;

namespace {

const packet::Mac kNas{0xd8, 0xcb, 0x8a, 0x39, 0xbe, 0xa1}, kPc{0xd8, 0xcb, 0x8a, 0x39, 0xbe, 0xa2};
const std::vector<uint8_t> kPw{0, 0x11, 0x22, 0x33, 0x44, 0x55};
constexpr int64_t kS = 1'000'000'000;

config::Config conf(config::RelayPassword pw) {
    config::Config c;
    c.sensors.resize(2);
    for (auto [name, mac, pass] : {std::tuple{"nas", kNas, kPw}, std::tuple{"pc", kPc, std::vector<uint8_t>{}},
                                   std::tuple{"other", packet::Mac{2, 0, 0, 0, 0, 9}, std::vector<uint8_t>{}}}) {
        config::TargetConf t;
        t.name = name;
        t.wol = config::WolConf{};
        t.wol->mac = mac;
        t.wol->password = pass;
        c.targets.push_back(t);
    }
    config::RelayConf r;
    r.sensors = {0};
    r.allow = {"nas", "pc"};
    r.password = pw;
    r.rate_count = 2;
    r.rate_per = std::chrono::seconds(10);
    c.wol_relay.push_back(r);
    return c;
}

// An Ethernet/IPv4/UDP frame to `port` carrying `payload`, decoded into a Hit from `sensor`.
core::Hit hit(std::vector<uint8_t> payload, uint16_t port = 9, uint16_t sensor = 0) {
    std::vector<uint8_t> f(14 + 20 + 8);
    f[12] = 0x08;
    f[14] = 0x45;
    const size_t ip_len = 20 + 8 + payload.size();
    f[16] = uint8_t(ip_len >> 8);
    f[17] = uint8_t(ip_len);
    f[22] = 64;
    f[23] = 17;
    const uint8_t src[4] = {203, 0, 113, 7}, dst[4] = {198, 51, 100, 1};
    std::memcpy(&f[26], src, 4);
    std::memcpy(&f[30], dst, 4);
    f[34] = 0x9c;  // source port 40000
    f[35] = 0x40;
    f[36] = uint8_t(port >> 8);
    f[37] = uint8_t(port);
    f[38] = uint8_t((8 + payload.size()) >> 8);
    f[39] = uint8_t(8 + payload.size());
    f.insert(f.end(), payload.begin(), payload.end());
    core::Hit h;
    h.kind = core::HitKind::Knock;
    h.sensor = sensor;
    REQUIRE(f.size() <= sizeof h.raw);
    std::memcpy(h.raw, f.data(), f.size());
    h.raw_len = uint16_t(f.size());
    REQUIRE(packet::decode(packet::LinkType::Ethernet, f, &h.d) == packet::Error::Ok);
    return h;
}

std::vector<uint8_t> magic(const packet::Mac& m, std::vector<uint8_t> pw = {}) {
    std::vector<uint8_t> b(packet::kMagicMaxLen);
    b.resize(packet::magic_payload(m, pw, b));
    return b;
}

}  // namespace

TEST_CASE("relay: accepted with the password, within the rate; then over the rate") {
    const auto c = conf(config::RelayPassword::Required);
    core::RelayEngine e(c);
    std::string why;
    auto h = hit(magic(kNas, kPw));
    CHECK(e.wants(h));
    CHECK(e.decide(h, 1 * kS, &why) == "nas");
    auto junk = magic(kNas, kPw);
    junk.insert(junk.end(), {0xde, 0xad});  // trailing bytes are ignored
    CHECK(e.decide(hit(junk), 2 * kS, &why) == "nas");
    CHECK(e.decide(h, 3 * kS, &why).empty());  // 2 per 10 s
    CHECK(why.find("over the rate") != std::string::npos);
    CHECK(e.decide(h, 11 * kS + 1, &why) == "nas");  // the first has aged out
    CHECK(e.stats().accepted == 3);
    CHECK(e.stats().over_rate == 1);
}

TEST_CASE("relay: refusals are counted by kind") {
    const auto c = conf(config::RelayPassword::Required);
    core::RelayEngine e(c);
    std::string why;
    CHECK(e.decide(hit(magic(kNas)), kS, &why).empty());  // missing password
    CHECK(why.find("missing SecureOn password") != std::string::npos);
    auto bad = kPw;
    bad[0] ^= 1;
    CHECK(e.decide(hit(magic(kNas, bad)), kS, &why).empty());
    CHECK(why.find("wrong SecureOn password") != std::string::npos);
    CHECK(e.decide(hit(magic(packet::Mac{2, 0, 0, 0, 0, 9})), kS, &why).empty());  // configured, not allowed
    CHECK(e.decide(hit(magic(packet::Mac{2, 0, 0, 0, 0, 7})), kS, &why).empty());  // unknown
    CHECK(why.find("no allowed target") != std::string::npos);
    CHECK(e.decide(hit(magic(kPc)), kS, &why).empty());  // required, but pc has no password
    CHECK(e.decide(hit(std::vector<uint8_t>(102, 0x42)), kS, &why).empty());
    CHECK(why == "not a magic packet");
    CHECK(e.stats().bad_password == 3);
    CHECK(e.stats().unknown_mac == 2);
    CHECK(e.stats().not_magic == 1);
    CHECK(e.stats().accepted == 0);
    CHECK(e.stats().rejected() == 6);
    CHECK_FALSE(e.wants(hit(magic(kNas, kPw), 10)));     // another port
    CHECK_FALSE(e.wants(hit(magic(kNas, kPw), 9, 1)));   // another sensor
}

TEST_CASE("relay: optional and none password policies") {
    const auto opt = conf(config::RelayPassword::Optional);
    core::RelayEngine o(opt);
    std::string why;
    CHECK(o.decide(hit(magic(kNas)), kS, &why) == "nas");           // none carried: fine
    CHECK(o.decide(hit(magic(kPc)), 2 * kS, &why) == "pc");         // pc has none
    auto bad = kPw;
    bad[5] ^= 1;
    CHECK(o.decide(hit(magic(kNas, bad)), 3 * kS, &why).empty());  // carried, but wrong
    const auto none = conf(config::RelayPassword::None);
    core::RelayEngine n(none);
    CHECK(n.decide(hit(magic(kNas, bad)), kS, &why) == "nas");
}

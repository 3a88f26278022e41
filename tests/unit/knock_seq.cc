// tests/unit/knock_seq.cc — core/knock with a fake clock: sequences (order, timeout, flags, resets,
// sources, bound, timer expiry, IPv6), KnockPorts, and SPA acceptance + replay cache in the engine.
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/knock.h"
#include "state/statefile.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kT0 = 1000 * kS;
constexpr int64_t kWall = 1'700'000'000;

packet::Addr v4(uint32_t a) { return packet::Addr::v4(a); }
packet::Addr v6(uint8_t last) {
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
    b[15] = last;
    return packet::Addr::v6_bytes(b);
}

packet::Decoded pkt(const packet::Addr& src, uint8_t proto, uint16_t dport, uint8_t flags = packet::kTcpSyn) {
    packet::Decoded d;
    d.l3 = src.is_v4() ? 4 : 6;
    d.src = src;
    d.dst = v4(0x0a000001);
    d.proto = proto;
    d.has_l4 = true;
    d.src_port = 40000;
    d.dst_port = dport;
    d.tcp_flags = proto == packet::kProtoTcp ? flags : 0;
    return d;
}
packet::Decoded syn(const packet::Addr& s, uint16_t port) { return pkt(s, packet::kProtoTcp, port); }
packet::Decoded udp(const packet::Addr& s, uint16_t port) { return pkt(s, packet::kProtoUdp, port); }

config::KnockConf ssh_knock() {
    config::KnockConf k;
    k.name = "ssh";
    k.target = "nas";
    k.sequence = {{config::Proto::Tcp, 7000}, {config::Proto::Tcp, 8000}, {config::Proto::Udp, 9000}};
    k.timeout = 15s;
    return k;
}

struct Rig {
    core::KnockEngine eng;
    std::shared_ptr<core::KnockSources> sources = std::make_shared<core::KnockSources>();  // the sensors' view
    std::vector<core::KnockEvent> ev;
    int64_t now = kT0;
    explicit Rig(std::vector<config::KnockConf> ks = {ssh_knock()}) : eng(ks, {}) { eng.set_sources(sources); }
    size_t in_progress() const { return sources->size(); }  // sources with sequence progress
    size_t feed(const packet::Decoded& d, int64_t advance_ns = 0) {
        now += advance_ns;
        size_t before = ev.size();
        eng.on_packet(d, {}, now, kWall + now / kS, &ev);
        return ev.size() - before;
    }
};

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

struct SpaRig {
    core::KnockEngine eng;
    std::vector<core::KnockEvent> ev;
    std::vector<std::string> rejects;
    int64_t now = 5000 * kS;
    int64_t wall = kWall;
    SpaRig(std::vector<config::KnockConf> ks = {spa_knock("remote", "nas")}, std::vector<std::vector<uint8_t>> keys = {kKey})
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
    char t[] = "/tmp/nw-knock-XXXXXX";
    REQUIRE(mkdtemp(t) != nullptr);
    return t;
}

}  // namespace

TEST_CASE("knock sequence: steps in order complete the knock") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    CHECK(r.feed(syn(a, 7000)) == 0);
    CHECK(r.feed(syn(a, 8000), kS) == 0);
    CHECK(r.in_progress() == 1);
    REQUIRE(r.feed(udp(a, 9000), kS) == 1);
    CHECK(r.ev[0].kind == core::KnockEvent::Sequence);
    CHECK(r.ev[0].knock_name == "ssh");
    CHECK(r.ev[0].target == "nas");
    CHECK(r.ev[0].knock_index == 0);
    CHECK(r.ev[0].src == a);
    CHECK(r.in_progress() == 0);
    CHECK(r.eng.stats().sequences_completed == 1);
    // the same source can knock again at once
    r.feed(syn(a, 7000), kS);
    r.feed(syn(a, 8000), kS);
    CHECK(r.feed(udp(a, 9000), kS) == 1);
}

TEST_CASE("knock sequence: out of order, wrong protocol, unrelated ports") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    CHECK(r.feed(syn(a, 8000)) == 0);       // not the first step: nothing starts
    CHECK(r.in_progress() == 0);
    r.feed(syn(a, 7000));
    r.feed(udp(a, 8000));                   // udp/8000 is not a port of this knock: ignored
    r.feed(pkt(a, packet::kProtoTcp, 22, packet::kTcpAck));   // unrelated port, not a SYN: ignored
    // (a SYN there resets: tests/unit/knock_scan.cc)
    r.feed(syn(a, 8000));
    CHECK(r.feed(syn(a, 9000)) == 0);       // tcp/9000 is not udp/9000: another port, resets (§10)
    CHECK(r.in_progress() == 0);
    r.feed(syn(a, 7000));
    r.feed(syn(a, 8000));
    CHECK(r.feed(udp(a, 9000)) == 1);
}

TEST_CASE("knock sequence: timeout is measured from the first hit") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    r.feed(syn(a, 7000));
    r.feed(syn(a, 8000), 10 * kS);
    CHECK(r.feed(udp(a, 9000), 5 * kS) == 0);   // 15 s after the first hit: too late
    CHECK(r.in_progress() == 0);
    r.feed(syn(a, 7000), kS);
    r.feed(syn(a, 8000), 7 * kS);
    CHECK(r.feed(udp(a, 9000), 7 * kS) == 1);   // 14 s: in time
}

TEST_CASE("knock sequence: packets with other TCP flags are ignored, matching flags on a wrong port reset") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    r.feed(syn(a, 7000));
    r.feed(pkt(a, packet::kProtoTcp, 9999, packet::kTcpAck));                    // unrelated
    r.feed(pkt(a, packet::kProtoTcp, 7000, packet::kTcpAck));                    // ACK: ignored
    r.feed(pkt(a, packet::kProtoTcp, 7000, packet::kTcpSyn | packet::kTcpAck));  // SYN+ACK: ignored
    r.feed(pkt(a, packet::kProtoTcp, 7000, packet::kTcpRst));                    // RST: ignored
    CHECK(r.in_progress() == 1);
    r.feed(syn(a, 8000));
    CHECK(r.feed(pkt(a, packet::kProtoUdp, 9000, 0xff)) == 1);                  // UDP: flags don't apply

    // a SYN to a port of the knock that is not the next step resets
    r.feed(syn(a, 7000), 3 * kS);
    r.feed(syn(a, 8000));
    r.feed(syn(a, 8000), 3 * kS);            // repeated after 3 s: a wrong step, resets
    CHECK(r.in_progress() == 0);
    CHECK(r.feed(udp(a, 9000)) == 0);

    // a wrong step that is the first step restarts progress at 1
    r.feed(syn(a, 7000), kS);
    r.feed(syn(a, 8000));
    r.feed(syn(a, 7000), 3 * kS);
    r.feed(syn(a, 8000));
    CHECK(r.feed(udp(a, 9000)) == 1);
}

TEST_CASE("knock sequence: a repeat of the step just taken within 2 s is a duplicate") {
    Rig r;
    packet::Addr a = v4(0xc0000205);
    r.feed(syn(a, 7000));
    r.feed(syn(a, 7000), kS);                // retransmitted SYN / second sensor
    r.feed(syn(a, 8000), kS);
    r.feed(syn(a, 8000), 0);
    CHECK(r.feed(udp(a, 9000)) == 1);
    CHECK(r.eng.stats().duplicates == 2);
}

TEST_CASE("knock sequence: custom tcp_flags and a repeated port in the sequence") {
    config::KnockConf k;
    k.name = "k";
    k.target = "t";
    k.sequence = {{config::Proto::Tcp, 100}, {config::Proto::Tcp, 100}, {config::Proto::Tcp, 200}};
    k.tcp_flags = config::TcpFlags{packet::kTcpFin, packet::kTcpFin};
    Rig r({k});
    packet::Addr a = v4(1);
    auto fin = [&](uint16_t p) { return pkt(a, packet::kProtoTcp, p, packet::kTcpFin | packet::kTcpAck); };
    r.feed(syn(a, 100));                     // no FIN: ignored
    CHECK(r.in_progress() == 0);
    r.feed(fin(100));
    r.feed(fin(100));                        // the expected next step, not a duplicate
    CHECK(r.feed(fin(200)) == 1);
}

TEST_CASE("knock sequence: a one-step sequence completes on its only hit") {
    config::KnockConf k;
    k.name = "one";
    k.target = "t";
    k.sequence = {{config::Proto::Udp, 5000}};
    Rig r({k});
    CHECK(r.feed(udp(v4(1), 5000)) == 1);
    CHECK(r.in_progress() == 0);
}

TEST_CASE("knock sequence: sources do not disturb each other") {
    Rig r;
    packet::Addr a = v4(0xc0000205), b = v4(0xc0000206), c = v6(7);
    r.feed(syn(a, 7000));
    r.feed(syn(b, 7000));
    r.feed(syn(c, 7000));
    r.feed(syn(a, 8000));
    r.feed(udp(b, 9000));                    // b goes wrong: only b resets
    r.feed(syn(c, 8000));
    CHECK(r.in_progress() == 2);
    REQUIRE(r.feed(udp(a, 9000)) == 1);
    CHECK(r.ev.back().src == a);
    REQUIRE(r.feed(udp(c, 9000)) == 1);
    CHECK(r.ev.back().src == c);
    CHECK(r.feed(udp(b, 9000)) == 0);
}

TEST_CASE("knock sequence: IPv6 and IPv4-mapped sources are distinct") {
    Rig r;
    packet::Addr six = v6(5), four = v4(5);
    r.feed(syn(six, 7000));
    r.feed(syn(four, 8000));                 // four never started
    r.feed(syn(six, 8000));
    REQUIRE(r.feed(udp(six, 9000)) == 1);
    CHECK(r.ev[0].src == six);
    CHECK(!r.ev[0].src.is_v4());
}

TEST_CASE("knock sequence: state per knock is bounded, the oldest attempt is evicted") {
    Rig r;
    const size_t n = core::KnockEngine::kMaxFreshPerKnock;
    for (size_t i = 0; i <= n; ++i) r.feed(syn(v4(0x0a000000 + uint32_t(i)), 7000), 1000);
    CHECK(r.in_progress() == n);
    CHECK(r.eng.stats().sequences_evicted == 1);
    r.feed(syn(v4(0x0a000000), 8000));
    CHECK(r.feed(udp(v4(0x0a000000), 9000)) == 0);   // the first one was evicted
    r.feed(syn(v4(0x0a000001), 8000));
    CHECK(r.feed(udp(v4(0x0a000001), 9000)) == 1);
}

TEST_CASE("knock sequence: a spoofed step-1 flood does not evict a source that made progress") {
    // 10,000 spoofed sources hit step 1 (a SYN flood to the first knock port, 5 kpps) while one
    // real client walks the 3 steps 1 s apart: it completes, and it is never the one evicted.
    Rig r;
    packet::Addr me = v4(0xc0a80105);
    uint32_t spoofed = 0x0b000000;
    auto flood = [&](int n) {
        for (int i = 0; i < n; ++i) r.feed(syn(v4(spoofed++), 7000), kS / 5000);
    };
    r.feed(syn(me, 7000));
    flood(5000);                             // 1 s of flood between the steps
    r.feed(syn(me, 8000));
    flood(5000);
    REQUIRE(r.feed(udp(me, 9000)) == 1);
    CHECK(r.ev.back().src == me);
    // and once the step-1 table is full, the flood evicts only other step-1 sources
    Rig r2;
    r2.feed(syn(me, 7000));
    r2.feed(syn(me, 8000));
    for (size_t i = 0; i < 2 * core::KnockEngine::kMaxFreshPerKnock; ++i) r2.feed(syn(v4(spoofed++), 7000), 1000);
    CHECK(r2.eng.stats().sequences_evicted == core::KnockEngine::kMaxFreshPerKnock);
    CHECK(r2.in_progress() == core::KnockEngine::kMaxFreshPerKnock + 1);
    REQUIRE(r2.feed(udp(me, 9000)) == 1);
}

TEST_CASE("knock sequence: sources past step 1 have their own bound and expire on timers") {
    Rig r;
    const size_t n = core::KnockEngine::kMaxSourcesPerKnock;
    for (size_t i = 0; i <= n; ++i) {               // n + 1 sources reach step 2
        r.feed(syn(v4(0x0a000000 + uint32_t(i)), 7000), 1000);
        r.feed(syn(v4(0x0a000000 + uint32_t(i)), 8000), 1000);
    }
    CHECK(r.in_progress() == n);
    CHECK(r.eng.stats().sequences_evicted == 1);
    CHECK(r.feed(udp(v4(0x0a000000), 9000)) == 0);  // the oldest advanced attempt went
    CHECK(r.feed(udp(v4(0x0a000001), 9000)) == 1);
    r.feed(syn(v4(1), 7000));                       // one fresh source besides them
    CHECK(r.in_progress() == n);        // n - 2 advanced (one evicted, one done) + 1
    int64_t dl = r.eng.next_deadline_ns();
    CHECK(dl >= kT0 + 15 * kS);
    CHECK(dl < kT0 + 15 * kS + core::KnockEngine::kTimerSlackNs + kS);
    r.eng.on_time(r.now + 15 * kS);
    CHECK(r.in_progress() == 0);
    CHECK(r.eng.next_deadline_ns() == 0);
}

TEST_CASE("knock sequence: expired attempts are dropped by timers, not by the next packet") {
    Rig r;
    CHECK(r.eng.next_deadline_ns() == 0);
    r.feed(syn(v4(1), 7000));
    r.feed(syn(v4(2), 7000), 2 * kS);
    int64_t dl = r.eng.next_deadline_ns();
    CHECK(dl >= kT0 + 15 * kS);
    CHECK(dl < kT0 + 15 * kS + core::KnockEngine::kTimerSlackNs);
    r.eng.on_time(kT0 + 15 * kS - 1);
    CHECK(r.in_progress() == 2);
    r.eng.on_time(dl);
    CHECK(r.in_progress() == 1);
    CHECK(r.eng.next_deadline_ns() >= kT0 + 17 * kS);
    r.eng.on_time(kT0 + 18 * kS);
    CHECK(r.in_progress() == 0);
    CHECK(r.eng.next_deadline_ns() == 0);
}

TEST_CASE("knock sequence: two knocks sharing ports progress independently") {
    config::KnockConf a = ssh_knock(), b;
    b.name = "web";
    b.target = "www";
    b.sequence = {{config::Proto::Tcp, 7000}, {config::Proto::Tcp, 8000}};
    Rig r({a, b});
    packet::Addr s = v4(9);
    r.feed(syn(s, 7000));
    REQUIRE(r.feed(syn(s, 8000)) == 1);      // completes web, advances ssh
    CHECK(r.ev[0].knock_name == "web");
    CHECK(r.ev[0].knock_index == 1);
    REQUIRE(r.feed(udp(s, 9000)) == 1);
    CHECK(r.ev[1].knock_name == "ssh");
}

TEST_CASE("KnockPorts: only TCP/UDP destination ports used by a knock") {
    config::KnockConf spa;
    spa.name = "remote";
    spa.target = "nas";
    spa.spa = config::SpaConf{};
    spa.spa->port = 62201;
    core::KnockPorts none;
    CHECK(none.empty());
    CHECK(!none.wants(syn(v4(1), 7000)));
    core::KnockPorts p({ssh_knock(), spa});
    CHECK(!p.empty());
    CHECK(p.wants(syn(v4(1), 7000)));
    CHECK(p.wants(pkt(v4(1), packet::kProtoTcp, 8000, packet::kTcpAck)));   // flags are the core's business
    CHECK(p.wants(udp(v6(1), 9000)));
    CHECK(p.wants(udp(v4(1), 62201)));
    CHECK(!p.wants(syn(v4(1), 9000)));
    CHECK(!p.wants(udp(v4(1), 7000)));
    CHECK(!p.wants(syn(v4(1), 62201)));
    CHECK(!p.wants(syn(v4(1), 22)));
    packet::Decoded icmp = pkt(v4(1), packet::kProtoIcmp, 7000);
    CHECK(!p.wants(icmp));
    packet::Decoded frag = syn(v4(1), 7000);
    frag.has_l4 = false;
    CHECK(!p.wants(frag));
}

// ---- SPA in the engine: acceptance order (HMAC, window, target, replay), replay cache ----

TEST_CASE("spa engine: a good datagram is accepted once") {
    SpaRig r;
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
    SpaRig r;
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
    SpaRig r;
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
    SpaRig r({spa_knock("remote", "a-long-target-name")});
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
    SpaRig r({spa_knock("a", "nas"), spa_knock("b", "vpn"), spa_knock("c", "www")}, {kKey, kKey, kOtherKey});
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
    SpaRig r;
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
    SpaRig r2;
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
    SpaRig r;
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
    SpaRig r;
    auto src = packet::Addr::v6_bytes(b);
    REQUIRE(r.feed(packet::spa_build(1, uint64_t(r.wall), nonce(1), "nas", kKey), udp_to(62201, src)) == 1);
    CHECK(r.ev[0].src == src);
    SpaRig nokey({spa_knock("remote", "nas")}, {});
    CHECK(nokey.feed(packet::spa_build(1, uint64_t(nokey.wall), nonce(1), "nas", kKey)) == 0);
    CHECK(nokey.eng.stats().bad_hmac == 1);
}

TEST_CASE("spa engine: sizes in rejections are the datagram's real length, not the captured part") {
    SpaRig r;
    std::vector<uint8_t> dg(1000, 1);
    packet::Decoded d = udp_to(62201);
    d.l3_offset = 0;
    d.l4_offset = 20;
    d.ip_total_len = uint32_t(20 + 8 + dg.size());
    r.eng.on_packet(d, std::span(dg).first(150), r.now, r.wall, &r.ev);
    REQUIRE(r.rejects.size() == 1);
    CHECK_MESSAGE(r.rejects[0].find("(1000 bytes)") != std::string::npos, r.rejects[0]);
}

TEST_CASE("knock hits: the payload comes from the whole frame when it travelled") {
    core::Hit h;
    h.d.has_l4 = true;
    h.d.payload_offset = 180;
    h.d.payload_len = 300;
    h.raw_len = sizeof h.raw;
    std::vector<uint8_t> frame(480, 7);
    CHECK(core::KnockEngine::hit_payload(h).size() == sizeof h.raw - 180);
    h.full = frame.data();
    h.full_len = uint32_t(frame.size());
    CHECK(core::KnockEngine::hit_payload(h).size() == 300);
    h.full = nullptr;  // not ours to free
}

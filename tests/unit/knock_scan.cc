// tests/unit/knock_scan.cc — SPEC §10: a port scan never walks a knock sequence. Packets go through
// the sensors' filter (KnockPorts::wants) first, as in the daemon, then to the engine.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "core/knock.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kT0 = 1000'000 * kMs;

config::KnockConf tcp_knock() {
    config::KnockConf k;
    k.name = "ssh";
    k.target = "nas";
    k.sequence = {{config::Proto::Tcp, 7000}, {config::Proto::Tcp, 8000}, {config::Proto::Tcp, 9000}};
    k.timeout = 15s;
    return k;
}

packet::Decoded tcp(uint32_t src, uint16_t dport, uint8_t flags = packet::kTcpSyn) {
    packet::Decoded d;
    d.l3 = 4;
    d.src = packet::Addr::v4(src);
    d.dst = packet::Addr::v4(0x0a000001);
    d.proto = packet::kProtoTcp;
    d.has_l4 = true;
    d.src_port = 40000;
    d.dst_port = dport;
    d.tcp_flags = flags;
    return d;
}

// The daemon's wiring: the sensors' filter and the engine share the sources table.
struct ScanRig {
    std::vector<config::KnockConf> ks{tcp_knock()};
    core::KnockPorts ports{ks};
    core::KnockEngine eng{ks, {}};
    std::vector<core::KnockEvent> ev;
    int64_t now = kT0;
    size_t handed = 0;   // packets the sensor filter passed to the core
    ScanRig() { eng.set_sources(ports.sources()); }
    void feed(const packet::Decoded& d) {
        now += kMs;
        if (!ports.wants(d)) return;
        ++handed;
        eng.on_packet(d, {}, now, now / 1'000'000'000, &ev);
    }
};

}  // namespace

TEST_CASE("knock scan: an ascending SYN scan (nmap -sS -r -p 6990-9010) never completes the sequence") {
    ScanRig r;
    REQUIRE(r.ports.sources());
    for (uint32_t p = 6990; p <= 9010; ++p) r.feed(tcp(0xc0000205, uint16_t(p)));
    CHECK(r.ev.empty());
    CHECK(r.eng.stats().sequences_completed == 0);
    CHECK(r.ports.sources()->size() == 0);
    // Cheap: besides the 3 knock ports, only the packet right after each step was handed over.
    CHECK(r.handed <= 3 + 3);
}

TEST_CASE("knock scan: the knock itself still works, and traffic that is not a matching-flag TCP packet keeps progress") {
    ScanRig r;
    const uint32_t c = 0xc0000206;
    r.feed(tcp(c, 7000));
    CHECK(r.ports.sources()->size() == 1);
    CHECK(r.ports.wants(tcp(c, 443)));                         // a source with progress: every port
    r.feed(tcp(c, 443, packet::kTcpAck));                      // an established flow's ACK: ignored
    r.feed(tcp(c, 8000));
    r.feed(tcp(0xc0000207, 22));                               // another source's SYN: not ours
    r.feed(tcp(c, 9000));
    REQUIRE(r.ev.size() == 1);
    CHECK(r.ev[0].src == packet::Addr::v4(c));
    CHECK(r.ports.sources()->size() == 0);
    CHECK_FALSE(r.ports.wants(tcp(c, 443)));                   // done: back to knock ports only
}

TEST_CASE("knock scan: one SYN to another port between two steps resets, and the knock starts over") {
    ScanRig r;
    const uint32_t c = 0xc0000208;
    r.feed(tcp(c, 7000));
    r.feed(tcp(c, 8000));
    r.feed(tcp(c, 8080));                                      // scan-like SYN to a port no knock uses
    CHECK(r.ports.sources()->size() == 0);
    r.feed(tcp(c, 9000));
    CHECK(r.ev.empty());
    r.feed(tcp(c, 7000));
    r.feed(tcp(c, 8000));
    r.feed(tcp(c, 9000));
    CHECK(r.ev.size() == 1);
}

// tests/fuzz/fuzz_spa.cc — libFuzzer harness for the SPA datagram: spa_parse, both HMAC
// checks (must agree), the build round trip, and the engine's SPA path with a fixed key.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/knock.h"
#include "packet/spa.h"

using namespace nw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The seed corpus (tests/fuzz/corpus/spa/) is signed with this key: 32 x 0x42.
    static const std::vector<uint8_t> key(32, 0x42);
    static const packet::SpaKey sk(key);
    static core::KnockEngine* eng = [] {
        config::KnockConf k;
        k.name = "fuzz";
        k.target = "nas";
        k.spa = config::SpaConf{};
        k.spa->port = 62201;
        k.spa->window = std::chrono::hours(24 * 365 * 100);   // accept any seed timestamp
        return new core::KnockEngine({k}, {key});
    }();
    static int64_t now_ns = 1'000'000'000;

    std::span<const uint8_t> in(data, size);
    packet::SpaMessage m;
    std::string err;
    if (packet::spa_parse(in, &m, &err)) {
        if (size < packet::kSpaMinLen || size > packet::kSpaMaxLen) std::abort();
        bool a = packet::spa_verify_hmac(m, key), b = sk.verify(m);
        if (a != b) std::abort();
        std::vector<uint8_t> re = packet::spa_build(m.version, m.timestamp, m.nonce, m.target(), key);
        if (re.size() != size || std::memcmp(re.data(), data, size - packet::kSpaMacLen) != 0) std::abort();
        bool same_mac = std::memcmp(re.data() + size - packet::kSpaMacLen, data + size - packet::kSpaMacLen,
                                    packet::kSpaMacLen) == 0;
        if (a != same_mac) std::abort();
    } else if (err.empty()) {
        std::abort();                          // every refusal says why
    }

    packet::Decoded d;
    d.l3 = 4;
    d.src = packet::Addr::v4(0xc0000201);
    d.proto = packet::kProtoUdp;
    d.has_l4 = true;
    d.dst_port = 62201;
    std::vector<core::KnockEvent> ev;
    now_ns += 3'000'000'000;                   // no "duplicate" shortcut between inputs
    eng->on_packet(d, in, now_ns, 1'700'000'000, &ev);
    if (ev.size() > 1) std::abort();
    eng->on_time(now_ns);
    return 0;
}

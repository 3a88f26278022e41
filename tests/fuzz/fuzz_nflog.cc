// tests/fuzz/fuzz_nflog.cc — libFuzzer harness for packet/nflog: any bytes as a netlink recv
// buffer; every view handed out must lie inside the input; payloads go through decode_ip.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "packet/decode.h"
#include "packet/nflog.h"

namespace nfl = nw::packet::nflog;

static void check_inside(std::span<const uint8_t> buf, const void* p, size_t n) {
    if (n == 0) return;
    const auto* b = static_cast<const uint8_t*>(p);
    if (b < buf.data() || b + n > buf.data() + buf.size()) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> buf(data, size);
    nfl::SeqTracker seq;
    uint64_t sum = 0;
    nfl::for_each(buf, [&](const nfl::Message& m) {
        if (m.kind != nfl::Kind::Packet) return;
        const nfl::Packet& p = m.pkt;
        check_inside(buf, p.payload.data(), p.payload.size());
        check_inside(buf, p.hwheader.data(), p.hwheader.size());
        check_inside(buf, p.hwaddr.data(), p.hwaddr.size());
        check_inside(buf, p.prefix.data(), p.prefix.size());
        if (p.hwaddr.size() > 8) std::abort();
        for (uint8_t c : p.prefix) sum += c;
        if (p.has_seq) sum += seq.observe(p.seq);
        nw::packet::Decoded d;
        nw::packet::decode_ip(p.payload, p.hwheader, &d);
        sum += d.proto;
    });
    // Config requests: any field values must fit the documented 128 bytes.
    if (size >= 12) {
        nfl::ConfigRequest r;
        r.group = uint16_t(data[0] | data[1] << 8);
        if (data[2] & 1) r.cmd = data[3];
        if (data[2] & 2) r.copy_mode = data[4], r.copy_range = data[5] | uint32_t(data[6]) << 8;
        if (data[2] & 4) r.nlbufsiz = data[7];
        if (data[2] & 8) r.timeout = data[8];
        if (data[2] & 16) r.qthresh = data[9];
        if (data[2] & 32) r.flags = data[10];
        r.ack = data[2] & 64;
        uint8_t out[128];
        const size_t n = nfl::build_config(r, out);
        if (n == 0 || n > sizeof out) std::abort();
        // What we build must parse as one non-packet message.
        size_t k = 0;
        if (nfl::for_each({out, n}, [&](const nfl::Message&) { ++k; }) != nw::packet::Error::Ok || k != 1)
            std::abort();
    }
    return int(sum & 0);
}

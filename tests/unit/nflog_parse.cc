// tests/unit/nflog_parse.cc — packet/nflog: real NFNETLINK_LOG recv buffers captured from the
// kernel (tests/data/nflog_*.bin), their truncations and corruptions, and config requests.
#include <doctest/doctest.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "packet/decode.h"
#include "packet/nflog.h"

using namespace nw::packet;
namespace nfl = nw::packet::nflog;

namespace {

std::vector<uint8_t> load(const std::string& name) {
    const char* env = std::getenv("NETWAKED_TEST_DATA");
    std::string src = __FILE__;
    const std::string here = src.substr(0, src.find_last_of('/') + 1);
    for (const std::string& dir : {env ? std::string(env) : std::string(), std::string("tests/data"), here + "../data"}) {
        if (dir.empty()) continue;
        std::ifstream f(dir + "/" + name, std::ios::binary);
        if (f) return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    }
    FAIL("cannot read test data " << name);
    return {};
}

// The messages' views point into `b`: keep the buffer alive while they are used.
std::vector<nfl::Message> parse_all(std::span<const uint8_t> b, Error* err = nullptr) {
    std::vector<nfl::Message> out;
    const Error e = nfl::for_each(b, [&](const nfl::Message& m) { out.push_back(m); });
    if (err) *err = e;
    return out;
}

// Every span the parser hands out must lie inside the buffer.
bool inside(std::span<const uint8_t> buf, std::span<const uint8_t> s) {
    return s.empty() || (s.data() >= buf.data() && s.data() + s.size() <= buf.data() + buf.size());
}
bool inside(std::span<const uint8_t> buf, std::string_view s) {
    return inside(buf, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}
void check_bounds(std::span<const uint8_t> buf) {
    nfl::for_each(buf, [&](const nfl::Message& m) {
        CHECK(inside(buf, m.pkt.payload));
        CHECK(inside(buf, m.pkt.hwheader));
        CHECK(inside(buf, m.pkt.hwaddr));
        CHECK(inside(buf, m.pkt.prefix));
    });
}

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) { std::memcpy(&b[off], &v, 2); }
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) { std::memcpy(&b[off], &v, 4); }

// Offset of the first attribute of `type` in the single message starting at 0.
size_t find_attr(const std::vector<uint8_t>& b, uint16_t type) {
    size_t off = 20;
    while (off + 4 <= b.size()) {
        uint16_t len, t;
        std::memcpy(&len, &b[off], 2);
        std::memcpy(&t, &b[off + 2], 2);
        if ((t & NLA_TYPE_MASK) == type) return off;
        if (len < 4) break;
        off += (len + 3u) & ~3u;
    }
    return 0;
}

}  // namespace

TEST_CASE("nflog: IPv4 UDP with prefix, received from the kernel") {
    const auto b = load("nflog_udp4_prefix.bin");
    Error e;
    const auto ms = parse_all(b, &e);
    CHECK(e == Error::Ok);
    REQUIRE(ms.size() == 1);
    REQUIRE(ms[0].kind == nfl::Kind::Packet);
    const nfl::Packet& p = ms[0].pkt;
    CHECK(p.family == AF_INET);
    CHECK(p.group == 5);
    CHECK(p.has_hdr);
    CHECK(p.hw_protocol == 0x0800);
    CHECK(p.has_prefix);
    CHECK(p.prefix == "wg");
    CHECK(p.indev == 2);
    CHECK(p.outdev == 0);
    CHECK(p.has_hwtype);
    CHECK(p.hwtype == 1);
    CHECK(p.hwheader.size() == 14);
    CHECK(p.hwaddr.size() == 6);
    CHECK(p.has_seq);
    CHECK(p.seq == 0);
    CHECK(p.has_seq_global);
    CHECK(p.has_timestamp);
    REQUIRE(p.payload.size() == 33);
    CHECK(p.payload[0] == 0x45);

    Decoded d;
    CHECK(decode_ip(p.payload, p.hwheader, &d) == Error::Ok);
    CHECK(d.l3 == 4);
    CHECK(d.proto == kProtoUdp);
    CHECK(d.dst_port == 9999);
    CHECK(d.dst.str() == "10.77.0.2");
    CHECK(d.has_eth);
    CHECK(d.src_mac == Mac{p.hwaddr[0], p.hwaddr[1], p.hwaddr[2], p.hwaddr[3], p.hwaddr[4], p.hwaddr[5]});
}

TEST_CASE("nflog: a rule without prefix sends an empty prefix") {
    const auto b = load("nflog_udp4_noprefix.bin");
    const auto ms = parse_all(b);
    REQUIRE(ms.size() == 1);
    REQUIRE(ms[0].kind == nfl::Kind::Packet);
    CHECK(ms[0].pkt.has_prefix);
    CHECK(ms[0].pkt.prefix.empty());
}

TEST_CASE("nflog: IPv6 UDP") {
    const auto b = load("nflog_udp6_prefix.bin");
    const auto ms = parse_all(b);
    REQUIRE(ms.size() == 1);
    const nfl::Packet& p = ms[0].pkt;
    CHECK(p.family == AF_INET6);
    CHECK(p.hw_protocol == 0x86dd);
    CHECK(p.prefix == "v6");
    REQUIRE(!p.payload.empty());
    CHECK((p.payload[0] >> 4) == 6);
    Decoded d;
    CHECK(decode_ip(p.payload, p.hwheader, &d) == Error::Ok);
    CHECK(d.l3 == 6);
    CHECK(d.dst_port == 9999);
}

TEST_CASE("nflog: locally generated packet (OUTPUT) has outdev and no hardware header") {
    const auto b = load("nflog_tcp_syn_out.bin");
    const auto ms = parse_all(b);
    REQUIRE(ms.size() == 1);
    const nfl::Packet& p = ms[0].pkt;
    CHECK(p.prefix == "out");
    CHECK(p.indev == 0);
    CHECK(p.outdev == 2);
    CHECK(p.hwheader.empty());
    CHECK(!p.has_hwtype);
    Decoded d;
    CHECK(decode_ip(p.payload, p.hwheader, &d) == Error::Ok);
    CHECK(d.proto == kProtoTcp);
    CHECK(d.dst_port == 2222);
    CHECK((d.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn);
}

TEST_CASE("nflog: a batch (queue threshold 4) holds four packets and NLMSG_DONE") {
    const auto b = load("nflog_icmp_batch4.bin");
    Error e;
    const auto ms = parse_all(b, &e);
    CHECK(e == Error::Ok);
    REQUIRE(ms.size() == 5);
    nfl::SeqTracker seq;
    for (int i = 0; i < 4; ++i) {
        REQUIRE(ms[i].kind == nfl::Kind::Packet);
        CHECK(ms[i].pkt.prefix == "ping");
        CHECK(ms[i].pkt.seq == uint32_t(i));
        CHECK(seq.observe(ms[i].pkt.seq) == 0);
        Decoded d;
        CHECK(decode_ip(ms[i].pkt.payload, ms[i].pkt.hwheader, &d) == Error::Ok);
        CHECK(d.proto == kProtoIcmp);
    }
    CHECK(ms[4].kind == nfl::Kind::Done);
    check_bounds(b);
}

TEST_CASE("nflog: ack and error answers") {
    const auto ack = load("nflog_ack.bin"), eperm = load("nflog_error_eperm.bin");
    auto ms = parse_all(ack);
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].kind == nfl::Kind::Ack);
    CHECK(ms[0].nl_seq == 77);
    ms = parse_all(eperm);
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].kind == nfl::Kind::Error);
    CHECK(ms[0].error == EPERM);
    CHECK(ms[0].nl_seq == 77);
}

TEST_CASE("nflog: several messages in one buffer") {
    auto b = load("nflog_ack.bin");
    const auto p = load("nflog_udp4_prefix.bin");
    b.insert(b.end(), p.begin(), p.end());
    const auto ms = parse_all(b);
    REQUIRE(ms.size() == 2);
    CHECK(ms[0].kind == nfl::Kind::Ack);
    CHECK(ms[1].kind == nfl::Kind::Packet);
    CHECK(ms[1].pkt.prefix == "wg");
}

TEST_CASE("nflog: every truncation is an error, never an out-of-bounds read") {
    for (const char* name : {"nflog_udp4_prefix.bin", "nflog_udp6_prefix.bin", "nflog_icmp_batch4.bin",
                             "nflog_tcp_syn_out.bin", "nflog_error_eperm.bin"}) {
        const auto full = load(name);
        std::vector<size_t> ends;  // where each message ends (a cut there is not an error)
        for (size_t off = 0; off + 4 <= full.size();) {
            uint32_t len;
            std::memcpy(&len, &full[off], 4);
            off += (len + 3u) & ~3u;
            ends.push_back(off);
        }
        for (size_t n = 1; n < full.size(); ++n) {
            std::vector<uint8_t> b(full.begin(), full.begin() + long(n));  // exact size: ASan sees overruns
            Error e;
            const auto ms = parse_all(b, &e);
            check_bounds(b);
            // A cut inside a message is reported; whole messages before the cut still parse.
            const bool at_end = std::find(ends.begin(), ends.end(), n) != ends.end();
            CHECK((e != Error::Ok) != at_end);
            for (const auto& m : ms) CHECK(m.kind != nfl::Kind::Bad);
        }
    }
}

TEST_CASE("nflog: broken framing") {
    std::vector<uint8_t> b = load("nflog_udp4_prefix.bin");
    SUBCASE("nlmsg_len 0 does not loop") {
        put32(b, 0, 0);
        Error e;
        CHECK(parse_all(b, &e).empty());
        CHECK(e == Error::Malformed);
    }
    SUBCASE("nlmsg_len beyond the buffer") {
        put32(b, 0, uint32_t(b.size() + 4));
        Error e;
        CHECK(parse_all(b, &e).empty());
        CHECK(e == Error::Truncated);
    }
    SUBCASE("fewer bytes than a header") {
        b.resize(7);
        Error e;
        CHECK(parse_all(b, &e).empty());
        CHECK(e == Error::Truncated);
    }
    SUBCASE("empty buffer") {
        Error e;
        CHECK(parse_all({}, &e).empty());
        CHECK(e == Error::Ok);
    }
    SUBCASE("unknown message types are skipped") {
        put16(b, 4, NLMSG_NOOP);
        auto ms = parse_all(b);
        REQUIRE(ms.size() == 1);
        CHECK(ms[0].kind == nfl::Kind::Other);
        put16(b, 4, 0x0301);  // another nfnetlink subsystem
        ms = parse_all(b);
        CHECK(ms[0].kind == nfl::Kind::Other);
    }
    SUBCASE("a packet message too short for nfgenmsg is Bad") {
        put32(b, 0, 18);
        b.resize(20);
        const auto ms = parse_all(b);
        REQUIRE(ms.size() == 1);
        CHECK(ms[0].kind == nfl::Kind::Bad);
    }
}

TEST_CASE("nflog: bad attributes spoil only their own message") {
    const auto one = load("nflog_udp4_prefix.bin");
    auto corrupt = [&](auto&& mutate) {
        std::vector<uint8_t> b = one;
        mutate(b);
        b.insert(b.end(), one.begin(), one.end());  // a good message follows
        const auto ms = parse_all(b);
        REQUIRE(ms.size() == 2);
        CHECK(ms[0].kind == nfl::Kind::Bad);
        CHECK(ms[1].kind == nfl::Kind::Packet);
        CHECK(ms[1].pkt.prefix == "wg");
        check_bounds(b);
    };
    SUBCASE("nla_len below the header") { corrupt([](auto& b) { put16(b, 20, 2); }); }
    SUBCASE("nla_len past the message") {
        corrupt([](auto& b) { put16(b, find_attr(b, NFULA_PAYLOAD), 200); });
    }
    SUBCASE("short NFULA_SEQ") {
        corrupt([](auto& b) {
            const size_t a = find_attr(b, NFULA_SEQ);
            REQUIRE(a);
            put16(b, a, 6);
        });
    }
    SUBCASE("hardware address longer than 8") {
        corrupt([](auto& b) {
            const size_t a = find_attr(b, NFULA_HWADDR);
            REQUIRE(a);
            b[a + 4] = 0, b[a + 5] = 9;
        });
    }
}

TEST_CASE("nflog: a prefix without its NUL is taken whole; nested flags are ignored") {
    std::vector<uint8_t> b = load("nflog_udp4_prefix.bin");
    const size_t a = find_attr(b, NFULA_PREFIX);
    REQUIRE(a);
    b[a + 6] = 'x';  // "wg\0" -> "wgx" (attribute length 7 covers 3 bytes)
    put16(b, a + 2, NFULA_PREFIX | NLA_F_NET_BYTEORDER);
    const auto ms = parse_all(b);
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].pkt.prefix == "wgx");
}

TEST_CASE("nflog: every single-byte corruption stays in bounds") {
    const auto orig = load("nflog_icmp_batch4.bin");
    for (size_t i = 0; i < orig.size(); ++i) {
        for (uint8_t v : {uint8_t(0), uint8_t(1), uint8_t(3), uint8_t(0x7f), uint8_t(0xff)}) {
            std::vector<uint8_t> b = orig;
            b[i] = v;
            size_t n = 0;
            nfl::for_each(b, [&](const nfl::Message&) { ++n; });
            CHECK(n <= b.size() / 16);
            check_bounds(b);
        }
    }
}

TEST_CASE("nflog: config request") {
    nfl::ConfigRequest r;
    r.group = 513;
    r.nl_seq = 9;
    r.cmd = NFULNL_CFG_CMD_BIND;
    r.copy_mode = NFULNL_COPY_PACKET;
    r.copy_range = 128;
    r.qthresh = 1;
    r.timeout = 1;
    r.flags = NFULNL_CFG_F_SEQ;
    uint8_t buf[128];
    const size_t n = nfl::build_config(r, buf);
    // header 16 + nfgenmsg 4 + cmd 8 + mode 12 + timeout 8 + qthresh 8 + flags 8
    REQUIRE(n == 64);
    uint32_t len;
    uint16_t type, flags;
    std::memcpy(&len, buf, 4);
    std::memcpy(&type, buf + 4, 2);
    std::memcpy(&flags, buf + 6, 2);
    CHECK(len == n);
    CHECK(type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG));
    CHECK(flags == (NLM_F_REQUEST | NLM_F_ACK));
    CHECK(buf[18] == 2);  // res_id big endian: 513 = 0x0201
    CHECK(buf[19] == 1);
    // first attribute: NFULA_CFG_CMD, len 5, value BIND
    uint16_t alen, atype;
    std::memcpy(&alen, buf + 20, 2);
    std::memcpy(&atype, buf + 22, 2);
    CHECK(alen == 5);
    CHECK(atype == NFULA_CFG_CMD);
    CHECK(buf[24] == NFULNL_CFG_CMD_BIND);
    // mode: copy_range big endian, then copy_mode
    std::memcpy(&atype, buf + 30, 2);
    CHECK(atype == NFULA_CFG_MODE);
    CHECK(buf[32] == 0);
    CHECK(buf[35] == 128);
    CHECK(buf[36] == NFULNL_COPY_PACKET);

    uint8_t small[40];
    CHECK(nfl::build_config(r, small) == 0);
    nfl::ConfigRequest bare;
    bare.ack = false;
    CHECK(nfl::build_config(bare, buf) == 20);
    std::memcpy(&flags, buf + 6, 2);
    CHECK(flags == NLM_F_REQUEST);
}

TEST_CASE("nflog: sequence gaps count lost packets") {
    nfl::SeqTracker s;
    CHECK(s.observe(10) == 0);  // first packet: nothing to compare with
    CHECK(s.observe(11) == 0);
    CHECK(s.observe(15) == 3);
    CHECK(s.observe(0xffffffffu - 0) == 0);  // went backwards: resync, not 4 billion drops
    CHECK(s.observe(0) == 0);                // wrap-around is not a gap
    CHECK(s.observe(2) == 1);
}

// tests/unit/packet_magic.cc — packet::parse_magic and magic_password_is (SPEC §7.2): the three
// lengths our own encoder writes, trailing junk, broken sync or copies, short payloads.
#include <doctest/doctest.h>

#include <vector>

#include "packet/magic.h"
#include "packet/wol.h"

using namespace nw;

namespace {
const packet::Mac kMac{0xd8, 0xcb, 0x8a, 0x39, 0xbe, 0xa1};

std::vector<uint8_t> magic(std::vector<uint8_t> pw) {
    std::vector<uint8_t> b(packet::kMagicMaxLen);
    b.resize(packet::magic_payload(kMac, pw, b));
    return b;
}
}  // namespace

TEST_CASE("magic: 102, 106 and 108 bytes parse; the password follows the MAC copies") {
    packet::MagicView m;
    auto p0 = magic({});
    REQUIRE(p0.size() == 102);
    REQUIRE(packet::parse_magic(p0, &m));
    CHECK(m.mac == kMac);
    CHECK(m.rest.empty());
    CHECK(packet::magic_password_is(m, {}));
    const std::vector<uint8_t> pw4{10, 11, 12, 13}, pw6{0, 0x11, 0x22, 0x33, 0x44, 0x55};
    CHECK_FALSE(packet::magic_password_is(m, pw4));  // missing password

    auto p4 = magic(pw4);
    REQUIRE(packet::parse_magic(p4, &m));
    CHECK(m.rest.size() == 4);
    CHECK(packet::magic_password_is(m, pw4));
    CHECK_FALSE(packet::magic_password_is(m, pw6));

    auto p6 = magic(pw6);
    REQUIRE(packet::parse_magic(p6, &m));
    CHECK(packet::magic_password_is(m, pw6));
    auto bad = pw6;
    bad[5] ^= 1;
    CHECK_FALSE(packet::magic_password_is(m, bad));
}

TEST_CASE("magic: trailing bytes are ignored, never part of the MAC") {
    auto p = magic({1, 2, 3, 4, 5, 6});
    p.insert(p.end(), {0xde, 0xad, 0xbe, 0xef});
    packet::MagicView m;
    REQUIRE(packet::parse_magic(p, &m));
    CHECK(m.mac == kMac);
    CHECK(m.rest.size() == 10);
    CHECK(packet::magic_password_is(m, std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
}

TEST_CASE("magic: not a magic packet") {
    packet::MagicView m;
    auto p = magic({});
    CHECK_FALSE(packet::parse_magic(std::span<const uint8_t>(p).first(101), &m));  // short
    CHECK_FALSE(packet::parse_magic({}, &m));
    auto s = p;
    s[3] = 0xfe;  // sync
    CHECK_FALSE(packet::parse_magic(s, &m));
    auto c = p;
    c[6 + 15 * 6 + 2] ^= 0x40;  // the 16th copy differs
    CHECK_FALSE(packet::parse_magic(c, &m));
    std::vector<uint8_t> ff(102, 0xff);  // all 0xff: the broadcast MAC, parses (the relay's allow list rejects it)
    CHECK(packet::parse_magic(ff, &m));
    CHECK(m.mac == packet::Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
}

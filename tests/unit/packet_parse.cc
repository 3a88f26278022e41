// tests/unit/packet_parse.cc — packet/parse.h: addresses, CIDRs, MACs, cidr_contains, Addr/mac_str.
// Pure tests: no I/O.
#include <doctest/doctest.h>

#include <string>

#include "packet/parse.h"

using namespace nw::packet;

namespace {
Addr A(const char* s) {
    Addr a;
    REQUIRE(parse_addr(s, &a, nullptr));
    return a;
}
Cidr C(const char* s) {
    Cidr c;
    std::string err;
    REQUIRE_MESSAGE(parse_cidr(s, &c, &err), err);
    return c;
}
}  // namespace

TEST_CASE("Addr basics and canonical text") {
    Addr v4 = Addr::v4(0xc0000201);
    CHECK(v4.is_v4());
    CHECK(v4.v4_host() == 0xc0000201);
    CHECK(v4.str() == "192.0.2.1");
    const uint8_t raw4[4] = {10, 0, 0, 1};
    CHECK(Addr::v4_bytes(raw4) == A("10.0.0.1"));
    CHECK(A("2001:0db8:0000:0000:0000:0000:0000:0001").str() == "2001:db8::1");
    CHECK(A("2001:DB8:0:0:1:0:0:1").str() == "2001:db8::1:0:0:1");
    CHECK(A("::").str() == "::");
    CHECK_FALSE(A("::").is_v4());
    CHECK(A("::ffff:192.0.2.1") == A("192.0.2.1"));
    CHECK(mac_str(Mac{0xd8, 0xcb, 0x8a, 0x39, 0xbe, 0xa1}) == "d8:cb:8a:39:be:a1");
    CHECK(std::string(error_name(Error::Truncated)) == "truncated");
}

TEST_CASE("parse_addr rejects non-addresses with a message") {
    Addr a;
    std::string err;
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4x", " 1.2.3.4", "1.2.3.4 ",
                            "fe80::1%eth0", "[2001:db8::1]", "2001:db8:::1", "hostname", "1.2.3.4/24"}) {
        err.clear();
        CHECK_FALSE_MESSAGE(parse_addr(bad, &a, &err), bad);
        CHECK(err.find("is not an IP address") != std::string::npos);
    }
    CHECK_FALSE(parse_addr(std::string_view("1.2.3.4\0", 8), &a, nullptr));
    CHECK_FALSE(parse_addr(std::string(100, '1'), &a, nullptr));
}

TEST_CASE("parse_cidr") {
    Cidr c = C("10.0.0.0/8");
    CHECK(c.addr == A("10.0.0.0"));
    CHECK(c.prefix_len == 104);
    CHECK_FALSE(c.negate);
    c = C("!10.1.2.3");
    CHECK(c.negate);
    CHECK(c.prefix_len == 128);
    CHECK(c.addr == A("10.1.2.3"));
    c = C("2001:db8::/32");
    CHECK(c.prefix_len == 32);
    c = C("192.168.1.77/24");  // host bits cleared
    CHECK(c.addr == A("192.168.1.0"));
    CHECK(C("0.0.0.0/0").prefix_len == 96);
    CHECK(C("::/0").prefix_len == 0);
    CHECK(C("2001:db8::1:ffff/112").addr == A("2001:db8::1:0"));

    CHECK(cidr_str(C("10.0.0.0/8")) == "10.0.0.0/8");
    CHECK(cidr_str(C("!192.0.2.1")) == "!192.0.2.1");
    CHECK(cidr_str(C("2001:db8::/32")) == "2001:db8::/32");
    CHECK(cidr_str(C("!2001:db8::20")) == "!2001:db8::20");
    CHECK(cidr_str(C("::/0")) == "::/0");

    Cidr out;
    std::string err;
    CHECK_FALSE(parse_cidr("10.0.0.0/33", &out, &err));
    CHECK(err.find("IPv4: 0-32") != std::string::npos);
    CHECK(err.find("\"33\"") != std::string::npos);
    CHECK_FALSE(parse_cidr("2001:db8::/129", &out, &err));
    CHECK(err.find("IPv6: 0-128") != std::string::npos);
    for (const char* bad : {"", "!", "/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/ 8",
                            "10.0.0.0/0008", "!!10.0.0.1", "nonsense/8", "10.0.0.0/8x"}) {
        CHECK_FALSE_MESSAGE(parse_cidr(bad, &out, &err), bad);
        CHECK_FALSE(err.empty());
    }
}

TEST_CASE("cidr_contains") {
    CHECK(cidr_contains(C("10.0.0.0/8"), A("10.255.1.2")));
    CHECK_FALSE(cidr_contains(C("10.0.0.0/8"), A("11.0.0.1")));
    CHECK(cidr_contains(C("192.168.1.0/25"), A("192.168.1.127")));
    CHECK_FALSE(cidr_contains(C("192.168.1.0/25"), A("192.168.1.128")));
    CHECK(cidr_contains(C("0.0.0.0/0"), A("203.0.113.9")));
    CHECK_FALSE(cidr_contains(C("0.0.0.0/0"), A("2001:db8::1")));
    CHECK(cidr_contains(C("::/0"), A("2001:db8::1")));
    CHECK_FALSE(cidr_contains(C("::/0"), A("10.0.0.1")));  // families never mix
    CHECK(cidr_contains(C("2001:db8::/32"), A("2001:db8:ffff::1")));
    CHECK_FALSE(cidr_contains(C("2001:db8::/32"), A("2001:db9::1")));
    CHECK(cidr_contains(C("192.0.2.1"), A("192.0.2.1")));
    CHECK_FALSE(cidr_contains(C("192.0.2.1"), A("192.0.2.2")));
    CHECK(cidr_contains(A("2001:db8::"), 127, A("2001:db8::1")));
    CHECK_FALSE(cidr_contains(A("2001:db8::"), 129, A("2001:db8::")));
}

TEST_CASE("parse_mac: the four accepted spellings, any case") {
    const Mac want{0xd8, 0xcb, 0x8a, 0x39, 0xbe, 0xa1};
    for (const char* ok : {"d8:cb:8a:39:be:a1", "D8:CB:8A:39:BE:A1", "d8-cb-8a-39-be-a1", "d8cb.8a39.bea1",
                           "D8CB.8A39.BEA1", "d8cb8a39bea1", "D8cB8a39bEa1"}) {
        Mac m{};
        std::string err;
        CHECK_MESSAGE(parse_mac(ok, &m, &err), ok);
        CHECK(m == want);
    }
    for (const char* bad : {"", "d8:cb:8a:39:be", "d8:cb:8a:39:be:a1:00", "d8:cb-8a:39:be:a1", "d8.cb.8a.39.be.a1",
                            "d8cb:8a39:bea1", "d8cb8a39bea", "d8cb8a39bea1f", "g8:cb:8a:39:be:a1", "8:cb:8a:39:be:a1",
                            "d8:cb:8a:39:be:a1 ", " d8cb8a39bea1", "d8cb.8a39-bea1", "0xd8cb8a39bea1"}) {
        Mac m{};
        std::string err;
        CHECK_FALSE_MESSAGE(parse_mac(bad, &m, &err), bad);
        CHECK(err.find("is not a MAC address (expected aa:bb:cc:dd:ee:ff") != std::string::npos);
    }
    std::string err;
    Mac m;
    CHECK_FALSE(parse_mac("a\tb", &m, &err));
    CHECK(err.rfind("\"a\\x09b\"", 0) == 0);  // control bytes are escaped in messages
}

TEST_CASE("MAC classes") {
    CHECK(is_multicast(Mac{0x01, 0x00, 0x5e, 0, 0, 1}));
    CHECK(is_multicast(Mac{0x33, 0x33, 0, 0, 0, 1}));
    CHECK(is_multicast(Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
    CHECK_FALSE(is_multicast(Mac{0x02, 0, 0, 0, 0, 1}));
    CHECK(is_zero(Mac{}));
}

TEST_CASE("hex_digit and parse_hex: the one hex reader (MACs, nonces, MQTT commands, netwakectl)") {
    CHECK(hex_digit('0') == 0);
    CHECK(hex_digit('9') == 9);
    CHECK(hex_digit('a') == 10);
    CHECK(hex_digit('F') == 15);
    CHECK(hex_digit('g') == -1);
    CHECK(hex_digit(' ') == -1);
    CHECK(hex_digit('\0') == -1);
    uint8_t b[3] = {};
    CHECK(parse_hex("00aBff", b, 3));
    CHECK((b[0] == 0x00 && b[1] == 0xab && b[2] == 0xff));
    CHECK_FALSE(parse_hex("00aBf", b, 3));    // odd length
    CHECK_FALSE(parse_hex("00aBff00", b, 3)); // too long
    CHECK_FALSE(parse_hex("00xBff", b, 3));   // not hex
}

// tests/unit/tools_wake_args.cc — `netwakectl wake` forms (SPEC §7, issue 14.3): MACs and
// SecureOn passwords as etherwake/wakeonlan users type them, options anywhere, --opt=value.
#include <doctest/doctest.h>

#include "../../tools/cli_args.h"
#include "../../tools/wake_args.h"

using namespace nw::tools;
using nw::packet::Mac;

namespace {
Mac mac_of(const char* s) {
    Mac m{};
    std::string err;
    CHECK_MESSAGE(parse_loose_mac(s, &m, &err), err);
    return m;
}
std::vector<uint8_t> pw_of(const char* s) {
    std::vector<uint8_t> v;
    std::string err;
    CHECK_MESSAGE(parse_secureon(s, &v, &err), err);
    return v;
}
}  // namespace

TEST_CASE("wake: MAC forms") {
    const Mac want{0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc};
    CHECK(mac_of("00:11:22:aa:bb:cc") == want);
    CHECK(mac_of("0:11:22:aa:bb:cc") == want);
    CHECK(mac_of("0:11:22:AA:BB:CC") == want);
    CHECK(mac_of("00-11-22-aa-bb-cc") == want);
    CHECK(mac_of("0011.22aa.bbcc") == want);
    CHECK(mac_of("001122aabbcc") == want);
    CHECK(mac_of("0:1:2:3:4:5") == Mac{0, 1, 2, 3, 4, 5});
    Mac m;
    std::string err;
    for (const char* bad : {"", "00:11:22:aa:bb", "00:11:22:aa:bb:cc:dd", "000:11:22:aa:bb:cc", "00:11-22:aa:bb:cc",
                            "00:11:22:aa:bb:", "00112233445", "0011223344556", "nas-1", "g0:11:22:aa:bb:cc"}) {
        CHECK_MESSAGE(!parse_loose_mac(bad, &m, &err), bad);
    }
    CHECK(err.find("is not a MAC address") != std::string::npos);
}

TEST_CASE("wake: SecureOn forms") {
    CHECK(pw_of("01:02:03:04:05:06") == std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
    CHECK(pw_of("1:2:3:4:5:a") == std::vector<uint8_t>{1, 2, 3, 4, 5, 10});
    CHECK(pw_of("01-02-03-04-05-06") == std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
    CHECK(pw_of("010203040506") == std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
    CHECK(pw_of("0a:0b:0c:0d") == std::vector<uint8_t>{10, 11, 12, 13});
    CHECK(pw_of("192.168.1.1") == std::vector<uint8_t>{192, 168, 1, 1});
    std::vector<uint8_t> v;
    std::string err;
    for (const char* bad : {"", "1.2.3", "1.2.3.256", "1.2.3.4.5", "0a:0b:0c", "0a:0b:0c:0d:0e", "xx:0b:0c:0d", "secret"})
        CHECK_MESSAGE(!parse_secureon(bad, &v, &err), bad);
    CHECK(err.find("dotted quad") != std::string::npos);
}

TEST_CASE("wake: options before or after the MAC, --opt=value, -xVALUE") {
    WakeArgs w;
    std::string err;
    for (const Args& a : {Args{"-i", "eth0", "0:11:22:aa:bb:cc"}, Args{"0:11:22:aa:bb:cc", "-i", "eth0"},
                          Args{"--interface=eth0", "001122aabbcc"}, Args{"-ieth0", "00-11-22-aa-bb-cc"}}) {
        REQUIRE_MESSAGE(parse_wake_args(a, &w, &err), err);
        CHECK(w.local);
        CHECK(w.wol.interface == "eth0");
        CHECK(w.wol.mac == Mac{0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc});
        CHECK(w.wol.methods == uint8_t(nw::config::WolMethod::Ethernet));
        CHECK(w.wol.ethernet_to == nw::config::EthernetTo::Both);
    }
    REQUIRE(parse_wake_args({"-b", "-p", "192.168.1.1", "--repeat=3", "-i", "e", "0:1:2:3:4:5"}, &w, &err));
    CHECK(w.wol.ethernet_to == nw::config::EthernetTo::Broadcast);
    CHECK(w.wol.password == std::vector<uint8_t>{192, 168, 1, 1});
    CHECK(w.wol.repeat == 3);
    REQUIRE(parse_wake_args({"0:1:2:3:4:5", "--udp=10.0.0.255:7", "--password=0a:0b:0c:0d"}, &w, &err));
    CHECK(w.wol.methods == uint8_t(nw::config::WolMethod::Udp));
    CHECK(w.wol.udp_to == "10.0.0.255:7");
    CHECK(w.wol.password.size() == 4);
    REQUIRE(parse_wake_args({"0:1:2:3:4:5"}, &w, &err));  // wakeonlan's default
    CHECK(w.wol.methods == uint8_t(nw::config::WolMethod::Udp));
    CHECK(w.wol.udp_to == "255.255.255.255:9");
    REQUIRE(parse_wake_args({"nas-1"}, &w, &err));
    CHECK(!w.local);
    CHECK(w.target == "nas-1");
}

TEST_CASE("wake: errors") {
    WakeArgs w;
    std::string err;
    CHECK(!parse_wake_args({}, &w, &err));
    CHECK(err == "wake needs a TARGET or a MAC");
    CHECK(!parse_wake_args({"-i"}, &w, &err));
    CHECK(err == "option -i needs a value");
    CHECK(!parse_wake_args({"0:1:2:3:4:5", "--bogus"}, &w, &err));
    CHECK(err == "unknown option \"--bogus\"");
    CHECK(!parse_wake_args({"0:1:2:3:4:5", "--broadcast=yes"}, &w, &err));
    CHECK(!parse_wake_args({"0:1:2:3:4:5", "-p", "secret"}, &w, &err));
    CHECK(err.find("invalid SecureOn password \"secret\"") == 0);
    CHECK(!parse_wake_args({"0:1:2:3:4:5", "--repeat", "0"}, &w, &err));
    CHECK(!parse_wake_args({"01:00:5e:00:00:01"}, &w, &err));
    CHECK(err.find("multicast") != std::string::npos);
    CHECK(!parse_wake_args({"nas", "-i", "eth0"}, &w, &err));
    CHECK(err.find("takes no options") != std::string::npos);
    CHECK(!parse_wake_args({"0:1:2:3:4"}, &w, &err));  // has ':' but is not a MAC: no target lookup
    CHECK(err.find("is not a MAC address") != std::string::npos);
    CHECK(!parse_wake_args({"0:1:2:3:4:5", "nas"}, &w, &err));
}

TEST_CASE("cli: help is found before --, timeouts") {
    CHECK(wants_help({"0:1:2:3:4:5", "--help"}));
    CHECK(wants_help({"-h"}));
    CHECK(!wants_help({"--", "-h"}));
    CHECK(!wants_help({"nas"}));
    long ms = 0;
    CHECK((parse_timeout_ms("5s", &ms) && ms == 5000));
    CHECK((parse_timeout_ms("2", &ms) && ms == 2000));
    CHECK((parse_timeout_ms("250ms", &ms) && ms == 250));
    CHECK((parse_timeout_ms("1m", &ms) && ms == 60000));
    for (const char* bad : {"", "s", "0", "0ms", "5h", "-1s", "99999999999s"}) CHECK_MESSAGE(!parse_timeout_ms(bad, &ms), bad);
}

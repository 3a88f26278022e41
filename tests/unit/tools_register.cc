// tests/unit/tools_register.cc — the pure half of `netwakectl register` (issue 19): SERVER and
// port syntax, /proc/net/tcp{,6} and /proc/net/if_inet6 parsing, address choice, the payload.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "../../tools/register_client.h"

using namespace nw::tools;
using nw::packet::Addr;

namespace {
Addr A(const char* s) {
    Addr a;
    REQUIRE(nw::packet::parse_addr(s, &a, nullptr));
    return a;
}
}  // namespace

TEST_CASE("register: SERVER[:PORT]") {
    std::string h, err;
    uint16_t p = 0;
    REQUIRE(parse_server("10.0.0.1", &h, &p, &err));
    CHECK((h == "10.0.0.1" && p == 13717));
    REQUIRE(parse_server("router.lan:4000", &h, &p, &err));
    CHECK((h == "router.lan" && p == 4000));
    REQUIRE(parse_server("[fd00::1]:80", &h, &p, &err));
    CHECK((h == "fd00::1" && p == 80));
    REQUIRE(parse_server("[fd00::1]", &h, &p, &err));
    CHECK((h == "fd00::1" && p == 13717));
    REQUIRE(parse_server("fd00::1", &h, &p, &err));
    CHECK((h == "fd00::1" && p == 13717));
    for (const char* bad : {"", ":80", "host:", "host:0", "host:65536", "host:x", "[fd00::1", "[fd00::1]80", "[]:80"})
        CHECK_MESSAGE(!parse_server(bad, &h, &p, &err), bad);
}

TEST_CASE("register: port lists") {
    std::vector<uint16_t> v;
    std::string err;
    REQUIRE(parse_port_list("445,22,22", &v, &err));
    CHECK(v == std::vector<uint16_t>{22, 445});
    for (const char* bad : {"", "22,", ",22", "0", "65536", "22;445", "ssh"}) CHECK_MESSAGE(!parse_port_list(bad, &v, &err), bad);
}

TEST_CASE("register: listeners from /proc/net/tcp and tcp6") {
    // Listeners: 0.0.0.0:22, 127.0.0.1:631 (loopback only), 10.0.0.5:8080; an established
    // connection (state 01) on 0.0.0.0:9999 that is not a listener.
    const char* tcp =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
        "   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1\n"
        "   2: 0500000A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1\n"
        "   3: 00000000:270F 0100000A:0050 01 00000000:00000000 00:00000000 00000000     0        0 4 1\n";
    // tcp6: [::]:445, [::1]:25 (loopback only), [fd00::20]:8443
    const char* tcp6 =
        "  sl  local_address                         remote_address                        st\n"
        "   0: 00000000000000000000000000000000:01BD 00000000000000000000000000000000:0000 0A 0\n"
        "   1: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A 0\n"
        "   2: 000000FD000000000000000020000000:20FB 00000000000000000000000000000000:0000 0A 0\n";
    auto ls = parse_proc_net_tcp(tcp, false);
    REQUIRE(ls.size() == 3);
    CHECK(ls[1].addr == A("127.0.0.1"));
    CHECK(ls[2].addr == A("10.0.0.5"));
    CHECK(ls[2].port == 8080);
    const auto l6 = parse_proc_net_tcp(tcp6, true);
    REQUIRE(l6.size() == 3);
    CHECK(l6[1].addr == A("::1"));
    CHECK(l6[2].addr == A("fd00::20"));
    ls.insert(ls.end(), l6.begin(), l6.end());
    CHECK(ports_for(A("10.0.0.5"), ls) == std::vector<uint16_t>{22, 445, 8080});  // [::] takes IPv4 too
    CHECK(ports_for(A("10.0.0.6"), ls) == std::vector<uint16_t>{22, 445});
    CHECK(ports_for(A("fd00::20"), ls) == std::vector<uint16_t>{445, 8443});
    CHECK(ports_for(A("fd00::21"), ls) == std::vector<uint16_t>{445});
    CHECK(ports_for(A("127.0.0.1"), ls) == std::vector<uint16_t>{22, 445});  // never the loopback-only 631
}

TEST_CASE("register: /proc/net/if_inet6 and which addresses count") {
    const char* text =
        "fd000000000000000000000000000020 03 40 00 80     eth0\n"  // global, permanent
        "fd000000000000000000000000000099 03 40 00 20     eth0\n"  // deprecated
        "fd0000000000000012345678abcdef01 03 40 00 01     eth0\n"  // temporary (privacy)
        "fd000000000000000000000000000077 03 40 00 40     eth0\n"  // tentative
        "fe800000000000000000000000000020 03 40 20 80     eth0\n"  // link-local
        "00000000000000000000000000000001 01 80 10 80       lo\n";
    const auto es = parse_if_inet6(text);
    REQUIRE(es.size() == 6);
    CHECK(es[0].addr == A("fd00::20"));
    CHECK(es[5].ifname == "lo");
    std::vector<bool> plain, with_ll, with_tmp;
    for (const auto& e : es) {
        plain.push_back(usable_v6(e, false, false));
        with_ll.push_back(usable_v6(e, true, false));
        with_tmp.push_back(usable_v6(e, false, true));
    }
    CHECK(plain == std::vector<bool>{true, false, false, false, false, false});
    CHECK(with_ll == std::vector<bool>{true, false, false, false, true, false});
    CHECK(with_tmp == std::vector<bool>{true, true, true, false, false, false});
    CHECK(usable_v4(A("192.168.1.2"), false));
    CHECK(!usable_v4(A("127.0.0.1"), true));
    CHECK(!usable_v4(A("169.254.3.4"), false));
    CHECK(usable_v4(A("169.254.3.4"), true));
}

TEST_CASE("register: the payload is Wakupator's format") {
    const nw::packet::Mac mac{0xd8, 0xcb, 0x8a, 0x39, 0xbe, 0xa1};
    const std::string p = build_payload(mac, "Tartiflette", {{A("192.168.0.37"), {22}}, {A("2001:db8::2222"), {22, 25565}}});
    CHECK(p == R"({"mac":"d8:cb:8a:39:be:a1","name":"Tartiflette","monitor":[{"ip":"192.168.0.37","port":[22]},)"
               R"({"ip":"2001:db8::2222","port":[22,25565]}]})");
    const auto j = nlohmann::json::parse(build_payload(mac, "", {{A("10.0.0.1"), {80}}}));
    CHECK(!j.contains("name"));
    CHECK(j["monitor"][0]["port"][0] == 80);
}

TEST_CASE("register: ports per address") {
    // listeners: 0.0.0.0:22 (IPv4 only), 10.0.0.5:8080
    std::vector<Listener> ls{{A("0.0.0.0"), false, 22}, {A("10.0.0.5"), false, 8080}};
    const std::vector<Addr> addrs{A("10.0.0.5"), A("10.0.0.6"), A("fd00::5")};
    std::vector<Addr> skipped;
    auto m = choose_monitors(addrs, {}, {}, ls, &skipped);  // auto
    REQUIRE(m.size() == 2);
    CHECK((m[0].ip == A("10.0.0.5") && m[0].ports == std::vector<uint16_t>{22, 8080}));
    CHECK((m[1].ip == A("10.0.0.6") && m[1].ports == std::vector<uint16_t>{22}));
    CHECK(skipped == std::vector<Addr>{A("fd00::5")});  // nothing listens on IPv6: left out, not an error
    skipped.clear();
    m = choose_monitors(addrs, {}, {{A("fd00::5"), {443}}}, ls, &skipped);
    REQUIRE(m.size() == 3);
    CHECK(m[2].ports == std::vector<uint16_t>{443});
    CHECK(skipped.empty());
    m = choose_monitors(addrs, {22, 445}, {{A("10.0.0.6"), {80}}}, {}, &skipped);  // explicit: all kept
    REQUIRE(m.size() == 3);
    CHECK(m[0].ports == std::vector<uint16_t>{22, 445});
    CHECK(m[1].ports == std::vector<uint16_t>{80});
    CHECK(m[2].ports == std::vector<uint16_t>{22, 445});
}

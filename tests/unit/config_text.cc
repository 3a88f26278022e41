// tests/unit/config_text.cc — config::parse_hostport (wol udp_to, relay listen): every accepted form
// and each error message, so its host/port split can be restructured safely.
#include <doctest/doctest.h>

#include <string>

#include "config/text.h"

using namespace nw;

namespace {
struct HostPort {
    bool ok = false;
    std::string host, scope, err;
    uint16_t port = 0;
};
HostPort hp(std::string_view s) {
    HostPort r;
    packet::Addr a;
    r.ok = config::parse_hostport(s, 9, &a, &r.scope, &r.port, &r.err);
    if (r.ok) r.host = a.str();
    return r;
}
}  // namespace

TEST_CASE("parse_hostport: accepted forms") {
    CHECK(hp("192.0.2.1").ok);
    CHECK(hp("192.0.2.1").port == 9);
    CHECK(hp("192.0.2.1:7").port == 7);
    CHECK(hp("2001:db8::1").host == "2001:db8::1");  // bare v6: no port
    CHECK(hp("2001:db8::1").port == 9);
    CHECK(hp("[2001:db8::1]").port == 9);
    const HostPort v6 = hp("[fe80::1%eth0]:4000");
    CHECK(v6.ok);
    CHECK(v6.host == "fe80::1");
    CHECK(v6.scope == "eth0");
    CHECK(v6.port == 4000);
}

TEST_CASE("parse_hostport: errors say what is wrong") {
    CHECK(hp("[2001:db8::1").err == "missing \"]\"");
    CHECK(hp("[2001:db8::1]x").err == "expected \":PORT\" after \"]\"");
    CHECK(hp("[2001:db8::1]:").err == "empty port");
    CHECK(hp("192.0.2.1:").err == "empty port");
    CHECK(hp("192.0.2.1:0").err == "port must be 1-65535");
    CHECK(hp("192.0.2.1:65536").err == "port must be 1-65535");
    CHECK(hp("host.example:9").err == "expected an IP address (\"a.b.c.d:port\" or \"[v6]:port\")");
    CHECK(hp("192.0.2.1%eth0").err == "an interface scope (\"%if\") needs an IPv6 address");
    CHECK(hp("[fe80::1%bad/name]:9").err == "bad interface name after \"%\"");
}

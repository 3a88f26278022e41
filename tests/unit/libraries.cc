// tests/unit/libraries.cc — which optional libraries a configuration needs (daemon/libraries.h) and
// the loader behind them (sys/lazylib.h) on the libraries this test binary links normally.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/model.h"
#include "daemon/libraries.h"
#include "sys/lazylib.h"

using namespace nw;
using sys::lazy::Lib;

namespace {

std::string describe(const std::vector<daemon::LibraryNeed>& needs) {
    std::string s;
    for (const auto& n : needs) s += std::string(s.empty() ? "" : "; ") + sys::lazy::soname(n.lib) + " for " + n.what;
    return s;
}

config::Config nflog_only() {
    config::Config c;
    config::SensorConf s;
    s.name = "nflog:1";
    s.nflog = config::NflogConf{};
    c.sensors.push_back(s);
    return c;
}

}  // namespace

TEST_CASE("an NFLOG-only configuration (tuninetd -n) needs none of the optional libraries") {
    CHECK(describe(daemon::needed_libraries(nflog_only())) == "");
    config::Config c = nflog_only();
    config::KnockConf k;  // a port sequence needs no crypto
    k.name = "seq";
    k.sequence.push_back({});
    c.knocks.push_back(k);
    CHECK(describe(daemon::needed_libraries(c)) == "");
}

TEST_CASE("pcap sensors, SPA knocks and the mqtt section name what they need, each library once") {
    config::Config c = nflog_only();
    for (const char* name : {"pcap:eth0", "pcap:eth1"}) {
        config::SensorConf s;
        s.name = name;
        s.pcap = config::PcapConf{};
        c.sensors.push_back(s);
    }
    CHECK(describe(daemon::needed_libraries(c)) == "libpcap.so.0.8 for sensor \"pcap:eth0\"");
    config::KnockConf k;
    k.name = "door";
    k.spa = config::SpaConf{};
    c.knocks.push_back(k);
    CHECK(describe(daemon::needed_libraries(c)) ==
          "libpcap.so.0.8 for sensor \"pcap:eth0\"; libcrypto.so.3 for SPA knock \"door\"");
    c.mqtt = config::MqttConf{};
    CHECK(describe(daemon::needed_libraries(c)) == "libpcap.so.0.8 for sensor \"pcap:eth0\"; libmosquitto.so.1 for "
                                                   "the mqtt section; libcrypto.so.3 for SPA knock \"door\"");
    c.knocks.clear();
    c.sensors.resize(1);
    CHECK(describe(daemon::needed_libraries(c)) ==
          "libmosquitto.so.1 for the mqtt section; libcrypto.so.3 for the mqtt section");
}

TEST_CASE("load_libraries opens what a configuration needs") {
    config::Config c = nflog_only();
    c.mqtt = config::MqttConf{};
    std::string err;
    REQUIRE_MESSAGE(daemon::load_libraries(c, &err), err);
    CHECK(sys::lazy::loaded(Lib::Mosquitto));
    CHECK(sys::lazy::loaded(Lib::Crypto));
    CHECK(sys::lazy::require(Lib::Crypto, &err));  // idempotent
}

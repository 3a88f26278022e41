// tests/unit/bridge_service.cc — the bridge service without a broker: what a reload compares
// (settings and the contents of the password, key and TLS files) and the client's bounded queue
// of events kept while disconnected (oldest dropped and counted).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "bridge/bridge.h"
#include "bridge/client.h"

using namespace nw;

namespace {

struct TmpDir {
    std::string path;
    TmpDir() {
        char t[] = "/tmp/nw-bridge-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~TmpDir() { std::system(("rm -rf " + path).c_str()); }
    std::string write(const std::string& name, const std::string& text) const {
        const std::string p = path + "/" + name;
        std::ofstream(p) << text;
        ::chmod(p.c_str(), 0600);
        return p;
    }
};

std::unique_ptr<bridge::Bridge> open(const config::MqttConf& c) {
    std::string err;
    auto b = bridge::Bridge::open(c, {}, &err);
    INFO(err);
    REQUIRE(b);
    return b;
}

}  // namespace

TEST_CASE("bridge: a reload reconnects when a setting or a file's contents changed, not otherwise") {
    TmpDir d;
    config::MqttConf c;
    c.broker = "mqtts://localhost:8883";
    c.host = "localhost";
    c.client_id = "r1";
    c.topic = "netwaked/r1";
    c.password_file = d.write("pass", "one\n");
    c.ca_file = d.write("ca.pem", "CA 1\n");
    auto a = open(c);
    CHECK(!a->differs(open(c).get()));  // same settings, same files
    CHECK(a->differs(nullptr));         // the section removed
    config::MqttConf k = c;
    k.keepalive = std::chrono::seconds(10);
    CHECK(a->differs(open(k).get()));   // a setting
    d.write("pass", "two\n");
    CHECK(a->differs(open(c).get()));   // the password file's contents
    auto b = open(c);
    d.write("ca.pem", "CA 2\n");
    CHECK(b->differs(open(c).get()));   // a rotated CA/certificate
}

TEST_CASE("bridge client: events while disconnected are kept up to a bound, the oldest dropped and counted") {
    bridge::ClientConf cc;
    cc.host = "localhost";
    bridge::Client cl(cc);  // never started: disconnected
    for (size_t i = 0; i < bridge::Client::kMaxQueued + 5; ++i) cl.publish("netwaked/r1/nas/event", std::to_string(i));
    CHECK(cl.stats().queue_drops.load() == 5);
    CHECK(cl.stats().published.load() == 0);
}

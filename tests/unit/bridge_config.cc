// tests/unit/bridge_config.cc — the `mqtt:` section (SPEC §16): broker URL parsing, defaults,
// every validation error with its position, secret-file modes, and the --check round trip.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/load.h"
#include "config/mqtt_url.h"
#include "config/print.h"

using namespace nw;

namespace {

const std::string kHead = "sensors:\n  - nflog: {group: 1}\ntargets:\n  - name: nas\n    match: [{dst_port: 22}]\n";
// mqtt: starts on line 6

config::LoadOptions no_files() {
    config::LoadOptions o;
    o.check_files = false;
    return o;
}

std::string errors(const std::string& yaml, const config::LoadOptions& o = no_files()) {
    config::Config c;
    std::vector<std::string> errs;
    config::load_string(yaml, "t.yaml", &c, &errs, o);
    std::string s;
    for (const auto& e : errs) s += e + "\n";
    return s;
}

config::Config good(const std::string& yaml, const config::LoadOptions& o = no_files()) {
    config::Config c;
    std::vector<std::string> errs;
    bool ok = config::load_string(yaml, "t.yaml", &c, &errs, o);
    for (const auto& e : errs) MESSAGE(e);
    REQUIRE(ok);
    return c;
}

}  // namespace

TEST_CASE("mqtt url: forms, defaults, normalization and refusals") {
    config::MqttUrl u;
    std::string err;
    REQUIRE(config::parse_mqtt_url("mqtts://broker.example.net", &u, &err));
    CHECK(u.tls);
    CHECK(u.port == 8883);
    CHECK(config::format_mqtt_url(u) == "mqtts://broker.example.net:8883");
    REQUIRE(config::parse_mqtt_url("mqtt://10.0.0.1", &u, &err));
    CHECK(!u.tls);
    CHECK(u.port == 1883);
    REQUIRE(config::parse_mqtt_url("mqtt://[2001:db8::1]:1884/", &u, &err));
    CHECK(u.host == "2001:db8::1");
    CHECK(config::format_mqtt_url(u) == "mqtt://[2001:db8::1]:1884");
    REQUIRE(config::parse_mqtt_url("mqtts://[::1]", &u, &err));
    CHECK(u.port == 8883);
    for (const char* bad : {"http://x", "mqtt://", "mqtt://user:pw@host", "mqtt://host:0", "mqtt://host:70000",
                            "mqtt://host/path", "mqtt://[::1", "mqtt://[1.2.3.4]:1", "mqtt://ho st", "mqtt://host:"}) {
        CAPTURE(bad);
        CHECK(!config::parse_mqtt_url(bad, &u, &err));
        CHECK(!err.empty());
    }
}

TEST_CASE("mqtt config: defaults and the --check print round trip") {
    config::Config c = good(kHead + "mqtt:\n  broker: mqtt://127.0.0.1\n");
    REQUIRE(c.mqtt);
    CHECK(c.mqtt->broker == "mqtt://127.0.0.1:1883");
    CHECK(c.mqtt->client_id.rfind("netwaked-", 0) == 0);
    CHECK(c.mqtt->topic.rfind("netwaked/", 0) == 0);
    CHECK(c.mqtt->allow == 0);
    CHECK(c.mqtt->signed_commands);
    CHECK(!c.mqtt->ha_discovery);

    config::Config full = good(kHead + R"(mqtt:
  broker: mqtts://broker.example.net
  client_id: r1
  username: router1
  password_file: /etc/netwaked/mqtt.pass
  ca_file: /etc/ca.pem
  cert_file: /etc/c.crt
  key_file: /etc/c.key
  topic: netwaked/router1
  keepalive: 30s
  homeassistant: { discovery: true, prefix: ha }
  commands: { allow: [wake, stop], signed: true, key_file: /etc/k.key, window: 2m }
  metrics: true
)");
    const std::string text = config::print_normalized(full);
    CHECK(text.find("broker: \"mqtts://broker.example.net:8883\"") != std::string::npos);
    CHECK(text.find("allow: [wake, stop]") != std::string::npos);
    config::Config back = good(text);
    back.source = full.source;
    CHECK(back.mqtt == full.mqtt);
}

TEST_CASE("mqtt config: every error with its position") {
    CHECK(errors(kHead + "mqtt:\n  brokr: x\n") ==
          "t.yaml:7:3: unknown key \"brokr\" in mqtt (expected one of: broker, client_id, username, password_file, "
          "ca_file, cert_file, key_file, tls_insecure, topic, keepalive, homeassistant, commands, metrics)\n"
          "t.yaml:7:3: mqtt: missing key \"broker\"\n");
    const std::string e = errors(kHead + R"(mqtt:
  broker: mqtt://u:p@h
  client_id: "a b"
  topic: a/+/b
  keepalive: 1s
  ca_file: /x
  password_file: rel/path
  commands: { allow: [wake, reboot] }
)");
    CHECK(e.find("t.yaml:7:11: mqtt.broker: no user, path or query") != std::string::npos);
    CHECK(e.find("t.yaml:8:14: mqtt.client_id: \"a b\" is not a valid client id") != std::string::npos);
    CHECK(e.find("t.yaml:9:10: mqtt.topic: \"a/+/b\" is not a valid base topic") != std::string::npos);
    CHECK(e.find("t.yaml:10:14: mqtt.keepalive:") != std::string::npos);
    CHECK(e.find("t.yaml:12:18: mqtt.password_file:") != std::string::npos);
    CHECK(e.find("t.yaml:13:29: mqtt.commands.allow: expected wake, start or stop, got \"reboot\"") != std::string::npos);
    CHECK(e.find("mqtt.commands: missing key \"key_file\"") != std::string::npos);
    CHECK(errors(kHead + "mqtt:\n  broker: mqtt://h\n  ca_file: /x\n") ==
          "t.yaml:8:12: mqtt.ca_file: only with an mqtts:// broker\n");
    CHECK(errors(kHead + "mqtt:\n  broker: mqtts://h\n  cert_file: /x\n").find("cert_file and key_file go together") !=
          std::string::npos);
    // Plain commands need no key.
    CHECK(errors(kHead + "mqtt:\n  broker: mqtt://h\n  commands: {allow: [wake], signed: false}\n").empty());
}

TEST_CASE("mqtt config: a group/world-readable password file is refused, an owner-only one accepted") {
    char tmpl[] = "/tmp/nw-bridge-cfg-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    const std::string dir = tmpl, pw = dir + "/mqtt.pass";
    { std::ofstream(pw) << "s3cret\n"; }
    ::chmod(pw.c_str(), 0644);
    config::LoadOptions files;
    const std::string yaml = kHead + "mqtt:\n  broker: mqtt://h\n  username: u\n  password_file: " + pw + "\n";
    const std::string e = errors(yaml, files);
    CHECK(e.find("t.yaml:9:18: mqtt.password_file: \"" + pw + "\" is readable by group or others (mode 0644)") !=
          std::string::npos);
    CHECK(e.find("s3cret") == std::string::npos);
    ::chmod(pw.c_str(), 0600);
    CHECK(errors(yaml, files).empty());
    config::Config c = good(yaml, files);
    CHECK(config::print_normalized(c).find("s3cret") == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("metrics config: textfile required, absolute, printed and read back") {
    config::Config c = good(kHead + "metrics: { textfile: /var/lib/prometheus/node-exporter/netwaked.prom }\n");
    REQUIRE(c.metrics);
    config::Config back = good(config::print_normalized(c));
    CHECK(back.metrics == c.metrics);
    CHECK(errors(kHead + "metrics: {}\n") == "t.yaml:6:10: metrics: missing key \"textfile\"\n");
    CHECK(errors(kHead + "metrics: { textfile: rel.prom }\n").find("t.yaml:6:22: metrics.textfile:") == 0);
}

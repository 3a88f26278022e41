// tests/unit/bridge_codec.cc — the bridge's pure codec (SPEC §16): set topics, plain and signed
// command parsing and its refusals, the canonical string and HMAC (known answer computed with
// Python's hmac module), and the state/event/result JSON.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bridge/codec.h"

using namespace nw;
using nlohmann::json;

namespace {
const std::vector<uint8_t> kKey(32, 0x42);
// python3: hmac.new(b'\x42'*32, b"netwaked-cmd-1\nnetwaked/r1\nnas\nwake\n1733328000\n0011...eeff", sha256)
const char* kSigned =
    R"({"action": "wake", "ts": 1733328000, "nonce": "00112233445566778899aabbccddeeff", "hmac": "HMAC"})";
}  // namespace

TEST_CASE("bridge codec: topics") {
    std::string t;
    CHECK(bridge::status_topic("netwaked/r1") == "netwaked/r1/status");
    CHECK(bridge::target_topic("netwaked/r1", "nas", "state") == "netwaked/r1/nas/state");
    REQUIRE(bridge::parse_set_topic("netwaked/r1", "netwaked/r1/nas/set", &t));
    CHECK(t == "nas");
    for (const char* bad : {"netwaked/r1/nas/state", "netwaked/r1/set", "netwaked/r2/nas/set", "netwaked/r1/a/b/set",
                            "netwaked/r1//set", "netwaked/r1x/nas/set", "netwaked/r1/n s/set"})
        CHECK_MESSAGE(!bridge::parse_set_topic("netwaked/r1", bad, &t), bad);
}

TEST_CASE("bridge codec: plain commands and refusals") {
    bridge::Command c;
    std::string err;
    REQUIRE(bridge::parse_command(" wake\n", &c, &err));
    CHECK(c.action == bridge::Action::Wake);
    CHECK(!c.is_signed);
    REQUIRE(bridge::parse_command("stop", &c, &err));
    CHECK(c.action == bridge::Action::Stop);
    CHECK(!bridge::parse_command("reboot", &c, &err));
    CHECK(err.find("unknown command") == 0);
    CHECK(!bridge::parse_command("", &c, &err));
    CHECK(!bridge::parse_command(std::string(2000, 'a'), &c, &err));
    CHECK(err == "payload too long");
    CHECK(!bridge::parse_command("{\"action\":\"wake\"", &c, &err));
    CHECK(err == "invalid JSON");
    CHECK(!bridge::parse_command(R"({"action":"wake","ts":"1","nonce":"00","hmac":"00"})", &c, &err));
    CHECK(err.find("\"ts\"") == 0);
    CHECK(!bridge::parse_command(R"({"action":"wake","ts":1,"nonce":"0011","hmac":"00"})", &c, &err));
    CHECK(err.find("\"nonce\"") == 0);
    CHECK(!bridge::parse_command(R"({"action":"reboot","ts":1})", &c, &err));
    CHECK(err.find("\"action\"") == 0);
    CHECK(!bridge::parse_command(R"({"action":"wake","ts":1,"nonce":"00112233445566778899aabbccddeeff","hmac":"00","more":1})",
                                 &c, &err));
    CHECK(err == "unknown key in the signed command");
}

TEST_CASE("bridge codec: canonical string, known-answer HMAC, constant-time verify") {
    CHECK(bridge::canonical_string("netwaked/r1", "nas", bridge::Action::Wake, 1733328000,
                                   "00112233445566778899aabbccddeeff") ==
          "netwaked-cmd-1\nnetwaked/r1\nnas\nwake\n1733328000\n00112233445566778899aabbccddeeff");
    const std::string mac = "37859ede4511cf88213486b116e1cb3f02f97704ecb4c2a5c3e7b9285d60e6fa";
    std::string payload = kSigned;
    payload.replace(payload.find("HMAC"), 4, mac);
    bridge::Command c;
    std::string err;
    REQUIRE(bridge::parse_command(payload, &c, &err));
    CHECK(c.is_signed);
    CHECK(c.ts == 1733328000);
    CHECK(c.nonce_hex == "00112233445566778899aabbccddeeff");
    CHECK(bridge::verify_command(c, kKey, "netwaked/r1", "nas"));
    // Any other target, base, key or action fails.
    CHECK(!bridge::verify_command(c, kKey, "netwaked/r1", "pc"));
    CHECK(!bridge::verify_command(c, kKey, "netwaked/r2", "nas"));
    CHECK(!bridge::verify_command(c, std::vector<uint8_t>(32, 0x43), "netwaked/r1", "nas"));
    bridge::Command other = c;
    other.action = bridge::Action::Stop;
    CHECK(!bridge::verify_command(other, kKey, "netwaked/r1", "nas"));
    other = c;
    other.mac[31] ^= 1;
    CHECK(!bridge::verify_command(other, kKey, "netwaked/r1", "nas"));
    CHECK(!bridge::verify_command(c, {}, "netwaked/r1", "nas"));
    // sign_command produces exactly what a verifier accepts.
    bridge::Command s;
    REQUIRE(bridge::parse_command(bridge::sign_command(kKey, "b", "t", bridge::Action::Start, 5, c.nonce), &s, &err));
    CHECK(bridge::verify_command(s, kKey, "b", "t"));
}

TEST_CASE("bridge codec: result, event and state JSON") {
    json r = json::parse(bridge::result_json("wake", false, "replayed nonce", "ab"));
    CHECK(r == json{{"action", "wake"}, {"result", "refused"}, {"why", "replayed nonce"}, {"nonce", "ab"}});
    CHECK(json::parse(bridge::result_json("stop", true, "", "")) == json{{"action", "stop"}, {"result", "ok"}});
    json e = json::parse(bridge::event_json("start", "nas", 1733328000,
                                            {{"NETWAKED_EVENT", "start"}, {"NETWAKED_TARGET", "nas"},
                                             {"NETWAKED_REASON", "traffic"}, {"NETWAKED_DST_PORT", "22"},
                                             {"NETWAKED_SRC", "10.0.0.5"}, {"NETWAKED_PREFIX", "bad\xff"}}));
    CHECK(e["event"] == "start");
    CHECK(e["target"] == "nas");
    CHECK(e["time"] == "2024-12-04T16:00:00Z");
    CHECK(e["reason"] == "traffic");
    CHECK(e["dst_port"] == 22);
    CHECK(e["src"] == "10.0.0.5");
    CHECK(e.contains("prefix"));  // invalid UTF-8 is replaced, not a throw
    bridge::StateView sv;
    sv.state = "active";
    sv.since_wall_s = 1733328000;
    sv.last_event = "start";
    sv.reason = "traffic";
    sv.wol = true;
    sv.mac = "d8:cb:8a:39:be:a1";
    sv.addresses = {"192.168.1.20"};
    CHECK(json::parse(bridge::state_json(sv)) ==
          json{{"state", "active"}, {"since", "2024-12-04T16:00:00Z"}, {"last_event", "start"}, {"reason", "traffic"},
               {"wol", true}, {"mac", "d8:cb:8a:39:be:a1"}, {"addresses", {"192.168.1.20"}}});
}

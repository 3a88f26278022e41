// tests/unit/control_protocol.cc — control/protocol.h: request validation, reply formats,
// the status schema round trip and its text rendering. Pure functions only; no sockets.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "control/protocol.h"

using namespace nw::control;
using nlohmann::json;

namespace {

Request ok_parse(std::string_view line) {
    Request r;
    std::string err;
    INFO(line);
    CHECK(parse_request(line, &r, &err));
    CHECK(err.empty());
    return r;
}

std::string bad_parse(std::string_view line) {
    Request r;
    std::string err;
    INFO(line);
    CHECK_FALSE(parse_request(line, &r, &err));
    CHECK_FALSE(err.empty());
    CHECK(err.find('\n') == std::string::npos);
    return err;
}

}  // namespace

TEST_CASE("control: every command parses") {
    CHECK(ok_parse(R"({"cmd":"status"})").cmd == Cmd::Status);
    CHECK(ok_parse("{\"cmd\":\"reload\"}\n").cmd == Cmd::Reload);
    CHECK(ok_parse("{\"cmd\":\"reload\"}\r\n").cmd == Cmd::Reload);
    auto r = ok_parse(R"({"cmd":"start","target":"vpn"})");
    CHECK(r.cmd == Cmd::Start);
    CHECK(r.target == "vpn");
    r = ok_parse(R"( {"target":"a_b.c-9", "cmd":"stop"} )");
    CHECK(r.cmd == Cmd::Stop);
    CHECK(r.target == "a_b.c-9");
    CHECK(ok_parse(R"({"cmd":"wake","target":"nas"})").cmd == Cmd::Wake);
    r = ok_parse(R"({"cmd":"forget","name":"Tartiflette"})");
    CHECK(r.cmd == Cmd::Forget);
    CHECK(r.target == "Tartiflette");
    // Registrations default to the MAC as their name, and Wakupator names may have spaces.
    CHECK(ok_parse(R"({"cmd":"forget","name":"d8:cb:8a:39:be:a1"})").target == "d8:cb:8a:39:be:a1");
    CHECK(ok_parse(R"({"cmd":"forget","name":"Salle de bain"})").target == "Salle de bain");
}

TEST_CASE("control: bad requests are refused with a message") {
    CHECK(bad_parse("") == "empty request");
    CHECK(bad_parse("\n") == "empty request");
    CHECK(bad_parse("{").rfind("invalid JSON: ", 0) == 0);
    CHECK(bad_parse(R"({"cmd":"status"} x)").rfind("invalid JSON", 0) == 0);
    CHECK(bad_parse(R"(["status"])") == "expected a JSON object");
    CHECK(bad_parse("42") == "expected a JSON object");
    CHECK(bad_parse("{}") == "missing \"cmd\"");
    CHECK(bad_parse(R"({"cmd":7})") == "\"cmd\" must be a string, got 7");
    CHECK(bad_parse(R"({"cmd":"reboot"})") == "unknown command \"reboot\"");
    CHECK(bad_parse(R"({"cmd":"start"})") == "start needs \"target\"");
    CHECK(bad_parse(R"({"cmd":"forget"})") == "forget needs \"name\"");
    CHECK(bad_parse(R"({"cmd":"start","target":5})") == "\"target\" must be a string, got 5");
    CHECK(bad_parse(R"({"cmd":"start","target":""})").find("bad target") == 0);
    CHECK(bad_parse(R"({"cmd":"start","target":"a b"})").find("[A-Za-z0-9_.-]{1,64}") != std::string::npos);
    CHECK(bad_parse(R"({"cmd":"start","target":"../etc"})").find("bad target") == 0);
    CHECK(bad_parse(R"({"cmd":"forget","name":"a\nb"})").find("bad name") == 0);
    CHECK(bad_parse(R"({"cmd":"forget","name":""})").find("bad name") == 0);
    CHECK(bad_parse(R"({"cmd":"status","target":"vpn"})") == "unknown key \"target\" for command \"status\"");
    CHECK(bad_parse(R"({"cmd":"start","target":"vpn","force":true})").find("unknown key \"force\"") == 0);
    CHECK(bad_parse(R"({"cmd":"forget","target":"x","name":"y"})").find("unknown key \"target\"") == 0);
    CHECK(bad_parse("{\"cmd\":\"st\xff\"}").rfind("invalid JSON", 0) == 0);  // invalid UTF-8
}

TEST_CASE("control: target name limits") {
    CHECK(valid_target_name(std::string(64, 'a')));
    CHECK_FALSE(valid_target_name(std::string(65, 'a')));
    CHECK_FALSE(valid_target_name(""));
    CHECK_FALSE(valid_target_name("a/b"));
    CHECK_FALSE(valid_target_name("é"));
    const std::string big = R"({"cmd":"start","target":")" + std::string(65, 'x') + "\"}";
    CHECK(bad_parse(big).find("bad target") == 0);
    // A long bad value is shortened in the message.
    CHECK(bad_parse(R"({"cmd":"start","target":")" + std::string(500, 'y') + "!\"}").size() < 200);
}

TEST_CASE("control: requests over 4 KiB are refused") {
    std::string pad(kMaxRequest, ' ');
    CHECK(bad_parse(R"({"cmd":"status"})" + pad).find("too long") != std::string::npos);
    std::string fits = R"({"cmd":"status"})";
    fits += std::string(kMaxRequest - fits.size(), ' ');
    CHECK(ok_parse(fits).cmd == Cmd::Status);
    // Deep nesting within the limit must not crash the parser.
    std::string deep(2000, '[');
    bad_parse(deep);
}

TEST_CASE("control: format_request round trips") {
    for (auto r : {Request{Cmd::Status, ""}, Request{Cmd::Reload, ""}, Request{Cmd::Start, "vpn"},
                   Request{Cmd::Stop, "a.b"}, Request{Cmd::Wake, "nas"}, Request{Cmd::Forget, "My PC"}}) {
        const std::string line = format_request(r);
        CHECK(line.back() == '\n');
        CHECK(std::count(line.begin(), line.end(), '\n') == 1);
        const Request back = ok_parse(line);
        CHECK(back.cmd == r.cmd);
        CHECK(back.target == r.target);
    }
}

TEST_CASE("control: replies") {
    CHECK(reply_ok() == "{\"ok\":true}\n");
    CHECK(json::parse(reply_ok("vpn: started")) == json{{"ok", true}, {"message", "vpn: started"}});
    const std::string e = reply_error("no such target: vpx");
    CHECK(e == "{\"ok\":false,\"error\":\"no such target: vpx\"}\n");
    // Invalid UTF-8 and newlines never break the one-line framing.
    const std::string weird = reply_error("bad \xff\xfe name\nsecond line");
    CHECK(std::count(weird.begin(), weird.end(), '\n') == 1);
    CHECK(json::parse(weird)["ok"] == false);

    Reply r;
    std::string err;
    REQUIRE(parse_reply(e, &r, &err));
    CHECK_FALSE(r.ok);
    CHECK(r.error == "no such target: vpx");
    REQUIRE(parse_reply(reply_ok("hi"), &r, &err));
    CHECK(r.ok);
    CHECK(r.message == "hi");
    REQUIRE(parse_reply(R"({"ok":false})", &r, &err));
    CHECK(r.error == "unspecified error");
    CHECK_FALSE(parse_reply(R"({"ok":"yes"})", &r, &err));
    CHECK_FALSE(parse_reply("garbage", &r, &err));
}

namespace {

Status sample_status() {
    Status s;
    s.version = "0.1.0";
    s.pid = 4242;
    s.uptime_s = 3725;
    s.sensors.push_back({"wan", "nflog", 1000, 12, 3, 1, 2, 0, true});
    s.sensors.push_back({"lan", "pcap", 5, 0, 0, 0, 0, 7, false});
    TargetStatus vpn;
    vpn.name = "vpn";
    vpn.state = "active";
    vpn.idle_s = 12.5;
    vpn.ttl_s = 900;
    vpn.remaining_s = 887.5;
    vpn.hook_runs = 3;
    vpn.last_exit = 0;
    s.targets.push_back(vpn);
    TargetStatus nas;
    nas.name = "nas";
    nas.state = "idle";
    nas.ttl_s = 1800;
    nas.wakes = 2;
    nas.last_exit = -9;
    nas.proxy = ProxyStatus{"asleep", {"192.168.1.20", "2001:db8::20"}};
    s.targets.push_back(nas);
    s.counters = {1, 2, 3, 4};
    return s;
}

}  // namespace

TEST_CASE("control: status schema") {
    const std::string line = format_status(sample_status());
    CHECK(line.back() == '\n');
    const json j = json::parse(line);
    CHECK(j["ok"] == true);
    CHECK(j["version"] == "0.1.0");
    CHECK(j["pid"] == 4242);
    CHECK(j["uptime_s"] == 3725);
    CHECK(j["sensors"][0] == json{{"name", "wan"}, {"kind", "nflog"}, {"packets", 1000}, {"matched", 12},
                                  {"drops", 3}, {"truncated", 1}, {"malformed", 2}, {"queue_full", 0},
                                  {"up", true}});
    CHECK(j["targets"][0]["idle_s"] == 12.5);
    CHECK(j["targets"][0]["remaining_s"] == 887.5);
    CHECK(j["targets"][0]["proxy"].is_null());
    CHECK(j["targets"][1]["idle_s"].is_null());
    CHECK(j["targets"][1]["remaining_s"].is_null());
    CHECK(j["targets"][1]["last_exit"] == -9);
    CHECK(j["targets"][1]["proxy"] ==
          json{{"state", "asleep"}, {"addresses", {"192.168.1.20", "2001:db8::20"}}});
    CHECK(j["counters"] == json{{"malformed", 1}, {"truncated", 2}, {"rejected", 3}, {"dropped", 4}});

    Status back;
    std::string err;
    REQUIRE(parse_status(line, &back, &err));
    CHECK(format_status(back) == line);
}

TEST_CASE("control: status parsing is tolerant but typed") {
    Status s;
    std::string err;
    CHECK(parse_status(R"({"ok":true,"future":[1,2],"targets":[{"name":"x","extra":{}}]})", &s, &err));
    REQUIRE(s.targets.size() == 1);
    CHECK(s.targets[0].name == "x");
    CHECK_FALSE(s.targets[0].idle_s);
    CHECK_FALSE(parse_status(R"({"ok":true,"targets":[{"name":3}]})", &s, &err));
    CHECK(err == "bad status reply: targets[0].\"name\" must be a string");
    CHECK_FALSE(parse_status(R"({"ok":true,"sensors":{}})", &s, &err));
    CHECK_FALSE(parse_status(R"({"ok":true,"sensors":[1]})", &s, &err));
    CHECK_FALSE(parse_status(R"({"ok":true,"targets":[{"proxy":{"addresses":[1]}}]})", &s, &err));
    CHECK_FALSE(parse_status(R"({"ok":true,"sensors":[{"packets":-1}]})", &s, &err));
}

TEST_CASE("control: status mqtt section") {
    Status s = sample_status();
    CHECK(json::parse(format_status(s))["mqtt"].is_null());
    CHECK(render_status_text(s).find("mqtt:") == std::string::npos);
    s.mqtt = MqttStatus{"mqtts://broker:8883", "r1", "netwaked/r1", true, 2, 17, 3, 4, 5};
    const std::string line = format_status(s);
    CHECK(json::parse(line)["mqtt"] == json{{"broker", "mqtts://broker:8883"}, {"client_id", "r1"},
                                            {"topic", "netwaked/r1"}, {"connected", true}, {"connects", 2},
                                            {"published", 17}, {"commands_accepted", 3},
                                            {"commands_refused", 4}, {"queue_drops", 5}});
    Status back;
    std::string err;
    REQUIRE(parse_status(line, &back, &err));
    REQUIRE(back.mqtt);
    CHECK(back.mqtt->refused == 4);
    CHECK(format_status(back) == line);
    CHECK(render_status_text(s).find("mqtt: mqtts://broker:8883 connected as r1 (topic netwaked/r1): connects 2, "
                                     "published 17, commands accepted 3 refused 4, queue drops 5") !=
          std::string::npos);
    CHECK_FALSE(parse_status(R"({"ok":true,"mqtt":{"connected":"yes"}})", &back, &err));
    CHECK_FALSE(parse_status(R"({"ok":true,"mqtt":[]})", &back, &err));
}

TEST_CASE("control: durations") {
    CHECK(format_duration(0) == "0s");
    CHECK(format_duration(0.45) == "450ms");
    CHECK(format_duration(2.5) == "2.5s");
    CHECK(format_duration(12) == "12s");
    CHECK(format_duration(12.4) == "12s");
    CHECK(format_duration(60) == "1m");
    CHECK(format_duration(252) == "4m12s");
    CHECK(format_duration(900) == "15m");
    CHECK(format_duration(7380) == "2h03m");
    CHECK(format_duration(7200) == "2h");
    CHECK(format_duration(273600) == "3d04h");
    CHECK(format_duration(-5) == "0s");
}

TEST_CASE("control: status text") {
    const std::string t = render_status_text(sample_status());
    MESSAGE(t);
    CHECK(t.find("netwaked 0.1.0, pid 4242, up 1h02m") == 0);
    CHECK(t.find("SENSOR") != std::string::npos);
    CHECK(t.find("wan     nflog  yes") != std::string::npos);
    CHECK(t.find("NO") != std::string::npos);  // lan is down
    CHECK(t.find("12s ago") != std::string::npos);
    CHECK(t.find("14m47s") != std::string::npos);
    CHECK(t.find("never") != std::string::npos);
    CHECK(t.find("signal 9") != std::string::npos);
    CHECK(t.find("asleep 192.168.1.20, 2001:db8::20") != std::string::npos);
    CHECK(t.find("counters: malformed 1, truncated 2, rejected 3, dropped 4") != std::string::npos);
    // Terminal control characters in names are neutralised.
    Status s;
    s.targets.push_back({});
    s.targets[0].name = "evil\x1b[2J";
    CHECK(render_status_text(s).find('\x1b') == std::string::npos);
    CHECK(render_status_text(Status{}).find("no targets") != std::string::npos);
    // Invalid UTF-8 in a name (registration names come from the network) never throws.
    s.targets[0].name = "bad\xff\xfe";
    Status back;
    std::string err;
    CHECK(parse_status(format_status(s), &back, &err));
    CHECK(back.targets[0].name == "bad\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("control: status internals (every component's counters)") {
    Status s = sample_status();
    s.internals = {{"hooks", {{"spawned", 3}, {"timed_out", 1}}}, {"sleep_proxy", {{"lossy_rounds", 2}}}};
    const std::string line = format_status(s);
    const json j = json::parse(line);
    CHECK(j["internals"]["hooks"]["spawned"] == 3);
    CHECK(j["internals"]["sleep_proxy"]["lossy_rounds"] == 2);
    Status back;
    std::string err;
    REQUIRE(parse_status(line, &back, &err));
    REQUIRE(back.internals.size() == 2);
    CHECK(back.internals[0].name == "hooks");
    CHECK(back.internals[0].values == std::vector<std::pair<std::string, uint64_t>>{{"spawned", 3}, {"timed_out", 1}});
    CHECK(render_status_text(s).find("  hooks: spawned 3, timed_out 1\n") != std::string::npos);
    CHECK(render_status_text(s).find("  sleep_proxy: lossy_rounds 2\n") != std::string::npos);
    CHECK_FALSE(parse_status(R"({"ok":true,"internals":{"hooks":{"spawned":-1}}})", &back, &err));
    CHECK(err.find("internals.hooks") != std::string::npos);
    CHECK_FALSE(parse_status(R"({"ok":true,"internals":{"hooks":[]}})", &back, &err));
}

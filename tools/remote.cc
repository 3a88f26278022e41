// tools/remote.cc — `netwakectl remote ACTION TARGET --broker URL [--topic BASE] [--key-file F]
// [--username U --password-file F] [--ca-file F] [--wait 60s]` (SPEC §16): publishes one command
// to <base>/<t>/set (signed with a key file), then prints its result and the events it causes.
// Exit 0 only when the action succeeded; 1 refused/failed/timed out; 2 usage.
#include "remote.h"

#include <mosquitto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bridge/codec.h"
#include "config/mqtt_url.h"
#include "config/text.h"
#include "sys/wallclock.h"

namespace nw::tools {
namespace {

constexpr const char* kUsage =
    "usage: netwakectl remote ACTION TARGET --broker URL [--topic BASE] [--key-file F]\n"
    "                         [--username U --password-file F] [--ca-file F] [--wait 60s]\n"
    "  Publishes one command (wake, start or stop) for TARGET to the broker netwaked connects to,\n"
    "  signed when --key-file is given, and waits for its result and the events it causes.\n"
    "  --topic BASE defaults to netwaked/<this host's name>. Exit 0 only when the action succeeded.\n";

int usage(const std::string& msg) {
    std::fprintf(stderr, "netwakectl remote: %s\n%s", msg.c_str(), kUsage);
    return 2;
}

bool read_line(const std::string& path, std::string* out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (size_t nl = s.find_first_of("\r\n"); nl != std::string::npos) s.resize(nl);
    *out = s;
    return true;
}

struct State {
    std::string result_topic, event_topic, state_topic;
    bridge::Action action = bridge::Action::Wake;
    bool got_result = false, ok = false, done = false, failed = false, saw_end = false, saw_failed = false;
    bool saw_wake = false;  // a `wake` event: the next state says whether it is verified (`waking`)
};

void on_message(mosquitto*, void* p, const mosquitto_message* m) {
    auto* st = static_cast<State*>(p);
    std::string payload(static_cast<const char*>(m->payload), size_t(m->payloadlen > 0 ? m->payloadlen : 0));
    const std::string topic = m->topic ? m->topic : "";
    auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    if (topic == st->result_topic && !st->got_result) {
        std::printf("result: %s\n", payload.c_str());
        st->got_result = true;
        st->ok = j.value("result", "") == "ok";
    } else if (topic == st->event_topic) {  // the event may arrive before the result
        std::printf("event: %s\n", payload.c_str());
        const std::string ev = j.value("event", "");
        st->saw_wake |= ev == "wake";
        st->saw_end |= ev == "awake";
        st->saw_failed |= ev == "wake_failed";
    } else if (topic == st->state_topic && st->saw_wake && !st->saw_end) {
        // The state published with the `wake` event (SPEC §16): `waking` while verification runs;
        // anything else means the target has no verification, and `wake` itself is the success.
        if (j.value("state", "") != "waking") st->saw_end = true;
    }
    if (st->got_result && !st->ok) st->done = st->failed = true;
    if (st->got_result && st->ok && (st->action != bridge::Action::Wake || st->saw_end)) st->done = true;
    if (st->got_result && st->saw_failed) st->done = st->failed = true;
    std::fflush(stdout);
}

struct Args {
    std::vector<std::string> pos;
    std::string broker, topic, key_file, user, pass_file, ca_file;
    config::Duration wait = std::chrono::seconds(60);
};

// The options; -1 to go on, else the exit status (help printed, or a usage error).
int parse_args(int argc, char** argv, Args* a) {
    for (int i = 1; i < argc; ++i) {
        std::string o = argv[i];
        if (o == "-h" || o == "--help") return std::fputs(kUsage, stdout), 0;
        auto val = [&](std::string* out) {
            if (i + 1 >= argc) return false;
            *out = argv[++i];
            return true;
        };
        std::string w;
        bool ok = true;
        if (o == "--broker") ok = val(&a->broker);
        else if (o == "--topic") ok = val(&a->topic);
        else if (o == "--key-file") ok = val(&a->key_file);
        else if (o == "--username") ok = val(&a->user);
        else if (o == "--password-file") ok = val(&a->pass_file);
        else if (o == "--ca-file") ok = val(&a->ca_file);
        else if (o == "--wait") ok = val(&w) && config::parse_duration(w, &a->wait) && a->wait.count() > 0;
        else if (o.rfind("-", 0) == 0) return usage("unknown option " + o);
        else a->pos.push_back(o);
        if (!ok) return usage("bad or missing value for " + o);
    }
    return -1;
}

// The command's payload: the action's name, or signed with the key file. False: key unreadable.
bool make_payload(const Args& a, const std::string& target, bridge::Action action, std::string* payload) {
    *payload = bridge::action_name(action);
    if (a.key_file.empty()) return true;
    std::string text;
    std::vector<uint8_t> key;
    if (!read_line(a.key_file, &text) || !config::base64_decode(text, &key) || key.size() < 32) return false;
    std::array<uint8_t, bridge::kNonceLen> nonce{};
    RAND_bytes(nonce.data(), int(nonce.size()));
    *payload = bridge::sign_command(key, a.topic, target, action, sys::wall_s(), nonce);
    return true;
}

// Connects, subscribes to the target's result/event/state, publishes the command and waits until
// `st` is done or `wait` ran out. Returns 0, or 1 after printing why the session broke.
int session(const Args& a, const config::MqttUrl& url, const std::string& password, const std::string& set_topic,
            const std::string& payload, State& st) {
    mosquitto_lib_init();
    mosquitto* m = mosquitto_new(nullptr, true, &st);
    if (!m) return std::fprintf(stderr, "netwakectl remote: mosquitto_new failed\n"), 1;
    mosquitto_message_callback_set(m, on_message);
    if (!a.user.empty()) mosquitto_username_pw_set(m, a.user.c_str(), password.empty() ? nullptr : password.c_str());
    if (url.tls)
        mosquitto_tls_set(m, a.ca_file.empty() ? nullptr : a.ca_file.c_str(), a.ca_file.empty() ? "/etc/ssl/certs" : nullptr,
                          nullptr, nullptr, nullptr);
    int rc = mosquitto_connect(m, url.host.c_str(), url.port, 30);
    if (rc != MOSQ_ERR_SUCCESS) {
        std::fprintf(stderr, "netwakectl remote: cannot connect to %s: %s\n", config::format_mqtt_url(url).c_str(),
                     rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc));
        return 1;
    }
    mosquitto_subscribe(m, nullptr, st.result_topic.c_str(), 1);
    mosquitto_subscribe(m, nullptr, st.event_topic.c_str(), 1);
    mosquitto_subscribe(m, nullptr, st.state_topic.c_str(), 1);
    const auto deadline = std::chrono::steady_clock::now() + a.wait;
    bool published = false;
    while (!st.done && std::chrono::steady_clock::now() < deadline) {
        rc = mosquitto_loop(m, 100, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            std::fprintf(stderr, "netwakectl remote: connection lost: %s\n", mosquitto_strerror(rc));
            return 1;
        }
        if (!published) {  // after the SUBACKs had a chance to arrive: the answer is not missed
            mosquitto_publish(m, nullptr, set_topic.c_str(), int(payload.size()), payload.data(), 1, false);
            published = true;
        }
    }
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    return 0;
}

}  // namespace

int remote_main(int argc, char** argv) {
    Args a;
    if (int rc = parse_args(argc, argv, &a); rc >= 0) return rc;
    State st;
    if (a.pos.size() != 2 || !bridge::parse_action(a.pos[0], &st.action))
        return usage("expected ACTION (wake, start, stop) and TARGET");
    const std::string target = a.pos[1];
    config::MqttUrl url;
    std::string err;
    if (a.broker.empty() || !config::parse_mqtt_url(a.broker, &url, &err))
        return usage("--broker: " + (err.empty() ? "missing" : err));
    if (a.topic.empty()) {
        char h[256] = {};
        gethostname(h, sizeof h - 1);
        a.topic = std::string("netwaked/") + h;
    }
    std::string payload;
    if (!make_payload(a, target, st.action, &payload))
        return std::fprintf(stderr, "netwakectl remote: %s: not a readable base64 key of 32+ bytes\n", a.key_file.c_str()), 1;
    std::string password;
    if (!a.pass_file.empty() && !read_line(a.pass_file, &password))
        return std::fprintf(stderr, "netwakectl remote: cannot read %s\n", a.pass_file.c_str()), 1;
    st.result_topic = bridge::target_topic(a.topic, target, "result");
    st.event_topic = bridge::target_topic(a.topic, target, "event");
    st.state_topic = bridge::target_topic(a.topic, target, "state");
    if (int rc = session(a, url, password, a.topic + "/" + target + "/set", payload, st)) return rc;
    if (!st.done) {
        std::fprintf(stderr, "netwakectl remote: %s after %lld s\n", st.got_result ? "no final event" : "no result",
                     static_cast<long long>(a.wait.count() / 1000));
        return 1;
    }
    return st.failed ? 1 : 0;
}

}  // namespace nw::tools

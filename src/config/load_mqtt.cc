// config/load_mqtt.cc — the `mqtt:` section (SPEC §16): broker URL, credentials and TLS files,
// topics, Home Assistant and command settings. Validation only: stats and reads secret files
// for their mode (with check_files) but never keeps their contents; opens no sockets.
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "config/mqtt_url.h"
#include "config/sections.h"
#include "config/text.h"

namespace nw::config::detail {
namespace {

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
    std::string s;
    for (const char* p = buf; *p && *p != '.'; ++p)
        s += (std::isalnum(static_cast<unsigned char>(*p)) || *p == '-' || *p == '_') ? *p : '_';
    return s.empty() ? "localhost" : s;
}

bool read_file_key(Ctx& c, const MapReader& m, const char* key, bool secret, std::string* out) {
    Val x = m.get(key);
    if (!x.present || !read_path(c, x, out, true)) return false;
    check_file(c, x, *out, secret);
    return true;
}

// "a/b/c": no wildcards, no empty level, no leading '$' or '/', at most 200 bytes.
bool valid_topic(const std::string& s) {
    if (s.empty() || s.size() > 200 || s[0] == '$' || s.front() == '/' || s.back() == '/') return false;
    if (s.find("//") != std::string::npos) return false;
    for (unsigned char ch : s)
        if (ch == '+' || ch == '#' || ch < 0x20 || ch == 0x7f) return false;
    return true;
}

void read_commands(Ctx& c, const Val& v, MqttConf* out) {
    MapReader m(c, v, "mqtt.commands", "mqtt.commands", {"allow", "signed", "key_file", "window"});
    if (!m.ok()) return;
    if (Val x = m.get("allow"); x.present) {
        out->allow = 0;
        for (const Val& e : read_list(c, x, true, "a list of wake, start, stop")) {
            const std::string s = e.node.IsScalar() ? e.node.Scalar() : "";
            if (s == "wake") out->allow |= uint8_t(MqttAction::Wake);
            else if (s == "start") out->allow |= uint8_t(MqttAction::Start);
            else if (s == "stop") out->allow |= uint8_t(MqttAction::Stop);
            else c.error(e.mark, e.key + ": expected wake, start or stop, got " + describe(e.node));
        }
    }
    if (Val x = m.get("signed"); x.present) read_bool(c, x, &out->signed_commands);
    if (Val x = m.get("key_file"); x.present && read_path(c, x, &out->command_key_file, false))
        check_key_file(c, x, out->command_key_file);
    if (Val x = m.get("window"); x.present) read_duration(c, x, kSec, kDay, &out->window);
    if (out->signed_commands && out->allow != 0 && out->command_key_file.empty())
        c.error(m.mark(), "mqtt.commands: missing key \"key_file\" (signed commands need a key; or set signed: false)");
}

void read_homeassistant(Ctx& c, const Val& v, MqttConf* out) {
    MapReader m(c, v, "mqtt.homeassistant", "mqtt.homeassistant", {"discovery", "prefix"});
    if (!m.ok()) return;
    out->ha_discovery = true;  // a homeassistant block means discovery unless it says otherwise
    if (Val x = m.get("discovery"); x.present) read_bool(c, x, &out->ha_discovery);
    if (Val x = m.get("prefix"); x.present && read_string(c, x, &out->ha_prefix, false) && !valid_topic(out->ha_prefix))
        c.error(x.mark, x.key + ": " + quote(out->ha_prefix) + " is not a valid topic (no + # or empty levels)");
}

}  // namespace

void read_mqtt(Ctx& c, const Val& v, const Config& cfg, MqttConf* out) {
    (void)cfg;
    MapReader m(c, v, "mqtt", "mqtt",
                {"broker", "client_id", "username", "password_file", "ca_file", "cert_file", "key_file",
                 "tls_insecure", "topic", "keepalive", "homeassistant", "commands", "metrics"});
    if (!m.ok()) return;
    m.require("broker");
    const std::string host = host_name();
    out->client_id = "netwaked-" + host;
    out->topic = "netwaked/" + host;
    if (Val x = m.get("broker"); x.present) {
        MqttUrl u;
        std::string err;
        if (!x.node.IsScalar()) {
            c.error(x.mark, x.key + ": expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT], got " + describe(x.node));
        } else if (!parse_mqtt_url(x.node.Scalar(), &u, &err)) {
            c.error(x.mark, x.key + ": " + err + ", got " + quote(x.node.Scalar()));
        } else {
            out->tls = u.tls;
            out->host = u.host;
            out->port = u.port;
            out->broker = format_mqtt_url(u);
        }
    }
    if (Val x = m.get("client_id"); x.present && read_string(c, x, &out->client_id, false) &&
                                    !valid_target_name(out->client_id))
        c.error(x.mark, x.key + ": " + quote(out->client_id) + " is not a valid client id ([A-Za-z0-9_.-], 1-64 characters)");
    if (Val x = m.get("username"); x.present && read_string(c, x, &out->username) && out->username.size() > 256)
        c.error(x.mark, x.key + ": longer than 256 bytes");
    read_file_key(c, m, "password_file", true, &out->password_file);
    if (!out->password_file.empty() && out->username.empty())
        c.error(m.get("password_file").mark, "mqtt.password_file: needs mqtt.username");
    read_file_key(c, m, "ca_file", false, &out->ca_file);
    read_file_key(c, m, "cert_file", false, &out->cert_file);
    read_file_key(c, m, "key_file", true, &out->key_file);
    if (out->cert_file.empty() != out->key_file.empty())
        c.error(m.mark(), "mqtt: cert_file and key_file go together (a client certificate needs its key)");
    if (Val x = m.get("tls_insecure"); x.present) read_bool(c, x, &out->tls_insecure);
    if (!out->tls && m.has("broker")) {
        for (const char* k : {"ca_file", "cert_file", "key_file", "tls_insecure"})
            if (Val x = m.get(k); x.present) c.error(x.mark, x.key + ": only with an mqtts:// broker");
    }
    if (Val x = m.get("topic"); x.present && read_string(c, x, &out->topic, false) && !valid_topic(out->topic))
        c.error(x.mark, x.key + ": " + quote(out->topic) + " is not a valid base topic (no + # $ or empty levels)");
    if (Val x = m.get("keepalive"); x.present) read_duration(c, x, 5 * kSec, kHour, &out->keepalive);
    if (Val x = m.get("homeassistant"); x.present) read_homeassistant(c, x, out);
    if (Val x = m.get("commands"); x.present) read_commands(c, x, out);
    if (Val x = m.get("metrics"); x.present) read_bool(c, x, &out->metrics);
}

void read_metrics(Ctx& c, const Val& v, MetricsConf* out) {
    MapReader m(c, v, "metrics", "metrics", {"textfile"});
    if (!m.ok()) return;
    m.require("textfile");
    if (Val x = m.get("textfile"); x.present) read_path(c, x, &out->textfile, false);
}

}  // namespace nw::config::detail

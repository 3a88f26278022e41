// config/print_mqtt.cc — the normalized `mqtt:` section for --check (SPEC §16). Pure text;
// prints file paths, never a file's contents (the password stays in its file).
#include "config/print.h"
#include "config/text.h"

namespace nw::config {

namespace {
std::string q(const std::string& s) {  // double-quoted YAML scalar (paths and names are printable)
    std::string r = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') r += '\\';
        r += ch;
    }
    return r + "\"";
}
}  // namespace

std::string print_mqtt(const MqttConf& m) {
    std::string s = "\nmqtt:\n";
    auto line = [&](const std::string& text) { s += "  " + text + "\n"; };
    line("broker: " + q(m.broker));
    line("client_id: " + q(m.client_id));
    line("username: " + q(m.username));
    line("password_file: " + q(m.password_file));
    if (m.tls) {
        line("ca_file: " + q(m.ca_file) + (m.ca_file.empty() ? "   # the system CA store" : ""));
        line("cert_file: " + q(m.cert_file));
        line("key_file: " + q(m.key_file));
        line(std::string("tls_insecure: ") + (m.tls_insecure ? "true" : "false"));
    }
    line("topic: " + q(m.topic));
    line("keepalive: " + format_duration(m.keepalive));
    line(std::string("homeassistant: {discovery: ") + (m.ha_discovery ? "true" : "false") + ", prefix: " +
         q(m.ha_prefix) + "}");
    std::string allow;
    for (auto [bit, name] : {std::pair{MqttAction::Wake, "wake"}, {MqttAction::Start, "start"}, {MqttAction::Stop, "stop"}})
        if (m.allow & uint8_t(bit)) allow += std::string(allow.empty() ? "" : ", ") + name;
    line("commands:");
    line("  allow: [" + allow + "]");
    line(std::string("  signed: ") + (m.signed_commands ? "true" : "false"));
    if (!m.command_key_file.empty()) line("  key_file: " + q(m.command_key_file));
    line("  window: " + format_duration(m.window));
    line(std::string("metrics: ") + (m.metrics ? "true" : "false"));
    return s;
}

}  // namespace nw::config

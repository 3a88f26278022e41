// config/mqtt_url.cc — broker URL parsing and printing (see mqtt_url.h). Pure.
#include "config/mqtt_url.h"

#include <cctype>

#include "config/text.h"
#include "packet/parse.h"

namespace nw::config {

namespace {
bool valid_dns_name(std::string_view h) {
    if (h.empty() || h.size() > 253 || h.front() == '.' || h.front() == '-') return false;
    size_t label = 0;
    for (char ch : h) {
        if (ch == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') return false;
        if (++label > 63) return false;
    }
    return true;
}
// "[v6]:port", "[v6]", "name:port" or "name" into host and port text, each checked.
bool split_host(std::string_view s, std::string_view* host, std::string_view* port, bool* has_port, std::string* err) {
    if (!s.empty() && s.front() == '[') {
        size_t close = s.find(']');
        if (close == std::string_view::npos) {
            *err = "unterminated [IPv6] address";
            return false;
        }
        *host = s.substr(1, close - 1);
        std::string_view rest = s.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            *err = "expected :PORT after the [IPv6] address";
            return false;
        }
        *has_port = !rest.empty();
        if (*has_port) *port = rest.substr(1);
        packet::Addr a;
        if (!packet::parse_addr(std::string(*host), &a, nullptr) || a.is_v4()) {
            *err = "bad IPv6 address";
            return false;
        }
        return true;
    }
    if (size_t colon = s.rfind(':'); colon != std::string_view::npos) {
        *host = s.substr(0, colon);
        *port = s.substr(colon + 1);
        *has_port = true;
    }
    if (!valid_dns_name(*host)) {
        *err = "bad host name";
        return false;
    }
    return true;
}
}  // namespace

bool parse_mqtt_url(std::string_view s, MqttUrl* out, std::string* err) {
    MqttUrl u;
    if (s.rfind("mqtts://", 0) == 0) {
        u.tls = true;
        u.port = 8883;
        s.remove_prefix(8);
    } else if (s.rfind("mqtt://", 0) == 0) {
        u.tls = false;
        u.port = 1883;
        s.remove_prefix(7);
    } else {
        *err = "expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]";
        return false;
    }
    if (!s.empty() && s.back() == '/') s.remove_suffix(1);
    if (s.find_first_of("@/?#") != std::string_view::npos) {
        *err = "no user, path or query in the broker URL (use username and password_file)";
        return false;
    }
    std::string_view host = s, port;
    bool has_port = false;
    if (!split_host(s, &host, &port, &has_port, err)) return false;
    if (has_port) {
        uint64_t p = 0;
        if (!parse_uint(port, 65535, &p) || p == 0) {
            *err = "port must be 1-65535";
            return false;
        }
        u.port = uint16_t(p);
    }
    u.host = std::string(host);
    *out = std::move(u);
    return true;
}

std::string format_mqtt_url(const MqttUrl& u) {
    const bool v6 = u.host.find(':') != std::string::npos;
    return std::string(u.tls ? "mqtts://" : "mqtt://") + (v6 ? "[" + u.host + "]" : u.host) + ":" +
           std::to_string(u.port);
}

}  // namespace nw::config

// control/protocol.cc — request parsing, reply and status formatting (control/protocol.h).
// Pure: no I/O, no logging; exceptions from nlohmann-json never leave this file.
#include "control/protocol.h"
#include "config/text.h"

#include <cmath>
#include <exception>

#include <nlohmann/json.hpp>

namespace nw::control {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // replies keep the documented key order ("ok" first)

namespace {

constexpr std::string_view kCmdNames[] = {"status", "start", "stop", "wake", "forget", "reload"};

std::string dump(const ojson& j) {
    return j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

// A short, printable rendering of an untrusted value for an error message.
std::string quoted(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 70) s = s.substr(0, 67) + "...";
    return s;
}

// nlohmann's messages start with "[json.exception.parse_error.101] ": drop that tag.
std::string clean_what(const std::exception& e) {
    std::string_view w = e.what();
    if (!w.empty() && w.front() == '[') {
        const auto p = w.find("] ");
        if (p != std::string_view::npos) w.remove_prefix(p + 2);
    }
    return std::string(w);
}

std::string_view strip_eol(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

// Parses `line` as one JSON object.
bool parse_object(std::string_view line, json* out, std::string* err) {
    line = strip_eol(line);
    if (line.empty()) {
        *err = "empty request";
        return false;
    }
    try {
        *out = json::parse(line.begin(), line.end());
    } catch (const std::exception& e) {
        *err = "invalid JSON: " + clean_what(e);
        return false;
    }
    if (!out->is_object()) {
        *err = "expected a JSON object";
        return false;
    }
    return true;
}

bool needs_target(Cmd c) { return c == Cmd::Start || c == Cmd::Stop || c == Cmd::Wake; }

// Seconds to millisecond resolution; non-finite becomes 0 (JSON has no inf/NaN).
double round_ms(double s) {
    if (!std::isfinite(s)) return 0.0;
    return std::fabs(s) < 1e12 ? std::round(s * 1000.0) / 1000.0 : s;
}

ojson opt_seconds(const std::optional<double>& v) { return v ? ojson(round_ms(*v)) : ojson(nullptr); }

}  // namespace

std::string_view cmd_name(Cmd c) {
    const auto i = static_cast<size_t>(c);
    return i < std::size(kCmdNames) ? kCmdNames[i] : "?";
}

bool valid_target_name(std::string_view s) { return s.size() <= kMaxName && config::valid_target_name(s); }

bool valid_registration_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxName) return false;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

bool parse_request(std::string_view line, Request* out, std::string* err) {
    std::string dummy;
    if (!err) err = &dummy;
    if (line.size() > kMaxRequest) {
        *err = "request too long (max " + std::to_string(kMaxRequest) + " bytes)";
        return false;
    }
    json j;
    if (!parse_object(line, &j, err)) return false;

    const auto cmd_it = j.find("cmd");
    if (cmd_it == j.end()) {
        *err = "missing \"cmd\"";
        return false;
    }
    if (!cmd_it->is_string()) {
        *err = "\"cmd\" must be a string, got " + quoted(*cmd_it);
        return false;
    }
    const auto& cmd_s = cmd_it->get_ref<const std::string&>();
    size_t idx = std::size(kCmdNames);
    for (size_t i = 0; i < std::size(kCmdNames); ++i)
        if (cmd_s == kCmdNames[i]) idx = i;
    if (idx == std::size(kCmdNames)) {
        *err = "unknown command " + quoted(*cmd_it);
        return false;
    }
    Request r;
    r.cmd = static_cast<Cmd>(idx);

    // The one argument key each command takes (if any).
    const char* arg_key = needs_target(r.cmd) ? "target" : r.cmd == Cmd::Forget ? "name" : nullptr;
    for (const auto& [k, v] : j.items()) {
        if (k == "cmd" || (arg_key && k == arg_key)) continue;
        *err = "unknown key " + quoted(json(k)) + " for command \"" + cmd_s + "\"";
        return false;
    }
    if (arg_key) {
        const auto it = j.find(arg_key);
        if (it == j.end()) {
            *err = cmd_s + " needs \"" + arg_key + "\"";
            return false;
        }
        if (!it->is_string()) {
            *err = std::string("\"") + arg_key + "\" must be a string, got " + quoted(*it);
            return false;
        }
        r.target = it->get<std::string>();
        if (r.cmd == Cmd::Forget ? !valid_registration_name(r.target) : !valid_target_name(r.target)) {
            *err = std::string("bad ") + arg_key + " " + quoted(*it) +
                   (r.cmd == Cmd::Forget ? " (1-64 bytes, no control characters)"
                                         : " (want [A-Za-z0-9_.-]{1,64})");
            return false;
        }
    }
    *out = std::move(r);
    return true;
}

std::string format_request(const Request& r) {
    ojson j = {{"cmd", std::string(cmd_name(r.cmd))}};
    if (needs_target(r.cmd)) j["target"] = r.target;
    if (r.cmd == Cmd::Forget) j["name"] = r.target;
    return dump(j);
}

std::string reply_ok() { return "{\"ok\":true}\n"; }

std::string reply_ok(std::string_view message) {
    return dump(ojson{{"ok", true}, {"message", std::string(message)}});
}

std::string reply_error(std::string_view error) {
    return dump(ojson{{"ok", false}, {"error", std::string(error)}});
}

bool parse_reply(std::string_view line, Reply* out, std::string* err) {
    std::string dummy;
    if (!err) err = &dummy;
    json j;
    if (!parse_object(line, &j, err)) return false;
    const auto ok = j.find("ok");
    if (ok == j.end() || !ok->is_boolean()) {
        *err = "reply has no boolean \"ok\"";
        return false;
    }
    Reply r;
    r.ok = ok->get<bool>();
    if (auto e = j.find("error"); e != j.end() && e->is_string()) r.error = e->get<std::string>();
    if (auto m = j.find("message"); m != j.end() && m->is_string()) r.message = m->get<std::string>();
    if (!r.ok && r.error.empty()) r.error = "unspecified error";
    *out = std::move(r);
    return true;
}

// ---- Status ----------------------------------------------------------------------------

namespace {

ojson target_json(const TargetStatus& t) {
    ojson proxy = nullptr;
    if (t.proxy) proxy = {{"state", t.proxy->state}, {"addresses", t.proxy->addresses}};
    ojson wake = nullptr;
    if (!t.wake.empty()) wake = {{"state", t.wake}, {"attempt", t.wake_attempt}, {"seconds", opt_seconds(t.wake_s)}};
    return {{"name", t.name},
            {"state", t.state},
            {"idle_s", opt_seconds(t.idle_s)},
            {"ttl_s", round_ms(t.ttl_s)},
            {"remaining_s", opt_seconds(t.remaining_s)},
            {"hook_runs", t.hook_runs},
            {"last_exit", t.last_exit ? ojson(*t.last_exit) : ojson(nullptr)},
            {"wakes", t.wakes},
            {"wake", std::move(wake)},
            {"proxy", std::move(proxy)}};
}

ojson mqtt_json(const std::optional<MqttStatus>& m) {
    if (!m) return nullptr;
    return {{"broker", m->broker},
            {"client_id", m->client_id},
            {"topic", m->topic},
            {"connected", m->connected},
            {"connects", m->connects},
            {"published", m->published},
            {"commands_accepted", m->accepted},
            {"commands_refused", m->refused},
            {"queue_drops", m->queue_drops}};
}

}  // namespace

std::string format_status(const Status& s) {
    ojson sensors = ojson::array();
    for (const auto& x : s.sensors)
        sensors.push_back({{"name", x.name},
                           {"kind", x.kind},
                           {"packets", x.packets},
                           {"matched", x.matched},
                           {"drops", x.drops},
                           {"truncated", x.truncated},
                           {"malformed", x.malformed},
                           {"queue_full", x.queue_full},
                           {"up", x.up}});
    ojson targets = ojson::array();
    for (const auto& t : s.targets) targets.push_back(target_json(t));
    ojson j = {{"ok", true},
              {"version", s.version},
              {"pid", s.pid},
              {"uptime_s", s.uptime_s},
              {"sensors", std::move(sensors)},
              {"targets", std::move(targets)},
              {"counters",
               {{"malformed", s.counters.malformed},
                {"truncated", s.counters.truncated},
                {"rejected", s.counters.rejected},
                {"dropped", s.counters.dropped}}}};
    ojson internals = ojson::object();
    for (const auto& g : s.internals) {
        ojson o = ojson::object();
        for (const auto& [k, v] : g.values) o[k] = v;
        internals[g.name] = std::move(o);
    }
    j["internals"] = std::move(internals);
    j["mqtt"] = mqtt_json(s.mqtt);
    if (s.relay)
        j["relay"] = {{"accepted", s.relay->accepted},
                      {"not_magic", s.relay->not_magic},
                      {"unknown_mac", s.relay->unknown_mac},
                      {"bad_password", s.relay->bad_password},
                      {"over_rate", s.relay->over_rate}};
    return dump(j);
}

namespace {

// Typed field readers: absent or null leaves the default; a wrong type throws
// std::runtime_error naming the field (caught in parse_status).
struct Reader {
    const json& obj;
    std::string where;

    const json* get(const char* k) const {
        auto it = obj.find(k);
        return (it == obj.end() || it->is_null()) ? nullptr : &*it;
    }
    [[noreturn]] void bad(const char* k, const char* want) const {
        throw std::runtime_error(where + "\"" + k + "\" must be " + want);
    }
    void str(const char* k, std::string* v) const {
        if (const json* p = get(k)) p->is_string() ? void(*v = p->get<std::string>()) : bad(k, "a string");
    }
    void u64(const char* k, uint64_t* v) const {
        if (const json* p = get(k))
            p->is_number_unsigned() ? void(*v = p->get<uint64_t>()) : bad(k, "a non-negative integer");
    }
    void i64(const char* k, int64_t* v) const {
        if (const json* p = get(k)) p->is_number_integer() ? void(*v = p->get<int64_t>()) : bad(k, "an integer");
    }
    void boolean(const char* k, bool* v) const {
        if (const json* p = get(k)) p->is_boolean() ? void(*v = p->get<bool>()) : bad(k, "a boolean");
    }
    void num(const char* k, double* v) const {
        if (const json* p = get(k)) p->is_number() ? void(*v = p->get<double>()) : bad(k, "a number");
    }
    void opt_num(const char* k, std::optional<double>* v) const {
        if (const json* p = get(k)) p->is_number() ? void(*v = p->get<double>()) : bad(k, "a number or null");
    }
    void opt_int(const char* k, std::optional<int>* v) const {
        const json* p = get(k);
        if (!p) return;
        if (!p->is_number_integer()) bad(k, "an integer or null");
        const auto x = p->get<int64_t>();
        if (x < -1000 || x > 1000) bad(k, "an exit status");
        *v = static_cast<int>(x);
    }
    const json* array(const char* k) const {
        const json* p = get(k);
        if (p && !p->is_array()) bad(k, "an array");
        return p;
    }
    const json* object(const char* k) const {
        const json* p = get(k);
        if (p && !p->is_object()) bad(k, "an object or null");
        return p;
    }
};

void check_object(const json& v, const std::string& where) {
    if (!v.is_object()) throw std::runtime_error(where + "must be an object");
}

SensorStatus read_sensor(const Reader& r) {
    SensorStatus x;
    r.str("name", &x.name);
    r.str("kind", &x.kind);
    r.u64("packets", &x.packets);
    r.u64("matched", &x.matched);
    r.u64("drops", &x.drops);
    r.u64("truncated", &x.truncated);
    r.u64("malformed", &x.malformed);
    r.u64("queue_full", &x.queue_full);
    r.boolean("up", &x.up);
    return x;
}

ProxyStatus read_proxy(const Reader& pr) {
    ProxyStatus ps;
    pr.str("state", &ps.state);
    if (const json* addrs = pr.array("addresses"))
        for (const auto& a : *addrs) {
            if (!a.is_string()) pr.bad("addresses", "an array of strings");
            ps.addresses.push_back(a.get<std::string>());
        }
    return ps;
}

TargetStatus read_target(const Reader& r) {
    TargetStatus t;
    r.str("name", &t.name);
    r.str("state", &t.state);
    r.opt_num("idle_s", &t.idle_s);
    r.num("ttl_s", &t.ttl_s);
    r.opt_num("remaining_s", &t.remaining_s);
    r.u64("hook_runs", &t.hook_runs);
    r.opt_int("last_exit", &t.last_exit);
    r.u64("wakes", &t.wakes);
    if (const json* w = r.object("wake")) {
        const Reader wr{*w, r.where + "wake."};
        uint64_t attempt = 0;
        wr.str("state", &t.wake);
        wr.u64("attempt", &attempt);
        t.wake_attempt = uint32_t(attempt);
        wr.opt_num("seconds", &t.wake_s);
    }
    if (const json* p = r.object("proxy")) t.proxy = read_proxy(Reader{*p, r.where + "proxy."});
    return t;
}

// The array `key` of objects, each read by `read` (its fields named "key[i].field" in errors).
template <typename T, typename F>
void read_list(const Reader& top, const char* key, std::vector<T>* out, F read) {
    const json* a = top.array(key);
    if (!a) return;
    for (const auto& v : *a) {
        const std::string where = std::string(key) + "[" + std::to_string(out->size()) + "].";
        check_object(v, where);
        out->push_back(read(Reader{v, where}));
    }
}

void read_internals(const json& in, std::vector<CounterGroup>* out) {
    for (const auto& [name, g] : in.items()) {
        check_object(g, "internals." + name + ".");
        CounterGroup cg{name, {}};
        for (const auto& [k, v] : g.items()) {
            if (!v.is_number_unsigned())
                throw std::runtime_error("internals." + name + ".\"" + k + "\" must be a non-negative integer");
            cg.values.emplace_back(k, v.get<uint64_t>());
        }
        out->push_back(std::move(cg));
    }
}

MqttStatus read_mqtt(const Reader& r) {
    MqttStatus q;
    r.str("broker", &q.broker);
    r.str("client_id", &q.client_id);
    r.str("topic", &q.topic);
    r.boolean("connected", &q.connected);
    r.u64("connects", &q.connects);
    r.u64("published", &q.published);
    r.u64("commands_accepted", &q.accepted);
    r.u64("commands_refused", &q.refused);
    r.u64("queue_drops", &q.queue_drops);
    return q;
}

RelayStatus read_relay(const Reader& r) {
    RelayStatus x;
    r.u64("accepted", &x.accepted);
    r.u64("not_magic", &x.not_magic);
    r.u64("unknown_mac", &x.unknown_mac);
    r.u64("bad_password", &x.bad_password);
    r.u64("over_rate", &x.over_rate);
    return x;
}

}  // namespace

bool parse_status(std::string_view line, Status* out, std::string* err) {
    std::string dummy;
    if (!err) err = &dummy;
    json j;
    if (!parse_object(line, &j, err)) return false;
    Status s;
    try {
        const Reader top{j, ""};
        top.str("version", &s.version);
        top.i64("pid", &s.pid);
        top.i64("uptime_s", &s.uptime_s);
        read_list(top, "sensors", &s.sensors, read_sensor);
        read_list(top, "targets", &s.targets, read_target);
        if (const json* c = top.object("counters")) {
            const Reader r{*c, "counters."};
            r.u64("malformed", &s.counters.malformed);
            r.u64("truncated", &s.counters.truncated);
            r.u64("rejected", &s.counters.rejected);
            r.u64("dropped", &s.counters.dropped);
        }
        if (const json* in = top.object("internals")) read_internals(*in, &s.internals);
        if (const json* m = top.object("mqtt")) s.mqtt = read_mqtt(Reader{*m, "mqtt."});
        if (const json* m = top.object("relay")) s.relay = read_relay(Reader{*m, "relay."});
    } catch (const std::exception& e) {
        *err = "bad status reply: " + std::string(e.what());
        return false;
    }
    *out = std::move(s);
    return true;
}

}  // namespace nw::control

// state/codec.cc — JSON encoding of the persisted state and replay cache (state/statefile.h).
// Pure: no I/O; the decoders treat their input as untrusted and never throw.
#include <exception>
#include <limits>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "state/statefile.h"

namespace nw::state {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // files keep a readable key order

namespace {

std::string dump(const ojson& j) { return j.dump(1, '\t', false, ojson::error_handler_t::replace) + "\n"; }

[[noreturn]] void fail(const std::string& where, const char* key, const char* want) {
    throw std::runtime_error(where + key + " must be " + want);
}

// Field readers: an absent key leaves the default, a present one must have the right type.
const json* field(const json& o, const char* k) {
    auto it = o.find(k);
    return it == o.end() ? nullptr : &*it;
}
void get_str(const json& o, const std::string& where, const char* k, std::string* v, bool required = false) {
    const json* p = field(o, k);
    if (!p) {
        if (required) fail(where, k, "present");
        return;
    }
    if (!p->is_string()) fail(where, k, "a string");
    *v = p->get<std::string>();
    if (v->size() > 256) fail(where, k, "at most 256 bytes");
}
void get_i64(const json& o, const std::string& where, const char* k, int64_t* v) {
    const json* p = field(o, k);
    if (!p) return;
    if (p->is_number_unsigned()) {
        if (p->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) fail(where, k, "an int64");
        *v = int64_t(p->get<uint64_t>());
    } else if (p->is_number_integer()) {
        *v = p->get<int64_t>();
    } else {
        fail(where, k, "an integer");
    }
}
void get_bool(const json& o, const std::string& where, const char* k, bool* v) {
    const json* p = field(o, k);
    if (!p) return;
    if (!p->is_boolean()) fail(where, k, "true or false");
    *v = p->get<bool>();
}
const json& get_array(const json& o, const std::string& where, const char* k) {
    static const json empty = json::array();
    const json* p = field(o, k);
    if (!p) return empty;
    if (!p->is_array()) fail(where, k, "an array");
    return *p;
}
std::string at(const char* what, size_t i) { return std::string(what) + "[" + std::to_string(i) + "]."; }

json parse_top(std::string_view text, const char* what) {
    json j = json::parse(text.begin(), text.end());  // throws parse_error with position
    if (!j.is_object()) throw std::runtime_error(std::string(what) + " is not a JSON object");
    const json* v = field(j, "version");
    if (!v || !v->is_number_integer()) throw std::runtime_error("no integer \"version\"");
    if (v->get<int64_t>() != kStateVersion)
        throw std::runtime_error("version " + v->dump() + " is not supported (this build reads version " +
                                 std::to_string(kStateVersion) + ")");
    return j;
}

bool is_hex(const std::string& s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace

const char* load_result_name(LoadResult r) {
    switch (r) {
        case LoadResult::Loaded: return "loaded";
        case LoadResult::Missing: return "missing";
        case LoadResult::SetAside: return "set aside";
        case LoadResult::Failed: return "failed";
    }
    return "?";
}

std::string encode_state(const PersistedState& s) {
    ojson targets = ojson::array();
    for (const auto& t : s.targets)
        targets.push_back({{"name", t.name},
                           {"active", t.active},
                           {"last_seen_wall_ms", t.last_seen_wall_ms},
                           {"active_since_wall_ms", t.active_since_wall_ms},
                           {"ttl_deadline_wall_ms", t.ttl_deadline_wall_ms},
                           {"proxy_state", t.proxy_state},
                           {"wake_state", t.wake_state},
                           {"wake_attempt", t.wake_attempt},
                           {"wake_first_wall_ms", t.wake_first_wall_ms}});
    ojson regs = ojson::array();
    for (const auto& r : s.registrations) {
        ojson mon = ojson::array();
        for (const auto& m : r.monitor) mon.push_back({{"ip", m.ip}, {"ports", m.ports}});
        regs.push_back({{"name", r.name},
                        {"mac", r.mac},
                        {"monitor", std::move(mon)},
                        {"registered_wall_ms", r.registered_wall_ms},
                        {"state", r.state}});
    }
    return dump({{"version", kStateVersion}, {"targets", std::move(targets)}, {"registrations", std::move(regs)}});
}

bool decode_state(std::string_view text, PersistedState* out, std::string* err) {
    try {
        const json j = parse_top(text, "state");
        PersistedState s;
        std::set<std::string> seen;
        const json& targets = get_array(j, "", "targets");
        for (size_t i = 0; i < targets.size(); ++i) {
            const json& o = targets[i];
            const std::string w = at("targets", i);
            if (!o.is_object()) throw std::runtime_error(w + " is not an object");
            PersistedTarget t;
            get_str(o, w, "name", &t.name, true);
            if (t.name.empty()) fail(w, "name", "non-empty");
            if (!seen.insert(t.name).second) throw std::runtime_error("target \"" + t.name + "\" appears twice");
            get_bool(o, w, "active", &t.active);
            get_i64(o, w, "last_seen_wall_ms", &t.last_seen_wall_ms);
            get_i64(o, w, "active_since_wall_ms", &t.active_since_wall_ms);
            get_i64(o, w, "ttl_deadline_wall_ms", &t.ttl_deadline_wall_ms);
            get_str(o, w, "proxy_state", &t.proxy_state);
            get_str(o, w, "wake_state", &t.wake_state);
            get_i64(o, w, "wake_attempt", &t.wake_attempt);
            get_i64(o, w, "wake_first_wall_ms", &t.wake_first_wall_ms);
            s.targets.push_back(std::move(t));
        }
        const json& regs = get_array(j, "", "registrations");
        for (size_t i = 0; i < regs.size(); ++i) {
            const json& o = regs[i];
            const std::string w = at("registrations", i);
            if (!o.is_object()) throw std::runtime_error(w + " is not an object");
            PersistedRegistration r;
            get_str(o, w, "name", &r.name);
            get_str(o, w, "mac", &r.mac, true);
            get_i64(o, w, "registered_wall_ms", &r.registered_wall_ms);
            get_str(o, w, "state", &r.state);
            const json& mon = get_array(o, w, "monitor");
            for (size_t k = 0; k < mon.size(); ++k) {
                const std::string wm = w + at("monitor", k);
                if (!mon[k].is_object()) throw std::runtime_error(wm + " is not an object");
                MonitoredAddress m;
                get_str(mon[k], wm, "ip", &m.ip, true);
                for (const json& p : get_array(mon[k], wm, "ports")) {
                    if (!p.is_number_unsigned() || p.get<uint64_t>() > 65535) fail(wm, "ports", "a list of 0-65535");
                    m.ports.push_back(uint16_t(p.get<uint64_t>()));
                }
                r.monitor.push_back(std::move(m));
            }
            s.registrations.push_back(std::move(r));
        }
        *out = std::move(s);
        return true;
    } catch (const std::exception& e) {
        if (err) *err = e.what();
        return false;
    }
}

std::string encode_replay(const std::vector<ReplayEntry>& entries) {
    ojson list = ojson::array();
    for (const auto& e : entries) list.push_back({{"nonce", e.nonce_hex}, {"expires_wall_s", e.expires_wall_s}});
    return dump({{"version", kStateVersion}, {"nonces", std::move(list)}});
}

bool decode_replay(std::string_view text, std::vector<ReplayEntry>* out, std::string* err) {
    try {
        const json j = parse_top(text, "replay cache");
        std::vector<ReplayEntry> v;
        const json& list = get_array(j, "", "nonces");
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string w = at("nonces", i);
            if (!list[i].is_object()) throw std::runtime_error(w + " is not an object");
            ReplayEntry e;
            get_str(list[i], w, "nonce", &e.nonce_hex, true);
            if (e.nonce_hex.size() < 2 || e.nonce_hex.size() > 128 || e.nonce_hex.size() % 2 || !is_hex(e.nonce_hex))
                fail(w, "nonce", "2-128 lowercase hex digits");
            get_i64(list[i], w, "expires_wall_s", &e.expires_wall_s);
            v.push_back(std::move(e));
        }
        *out = std::move(v);
        return true;
    } catch (const std::exception& e) {
        if (err) *err = e.what();
        return false;
    }
}

}  // namespace nw::state

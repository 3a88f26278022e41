// bridge/codec.cc — topics, command parsing, canonical string + HMAC, payload JSON (see codec.h).
// Pure: libcrypto for HMAC-SHA256 and CRYPTO_memcmp, nlohmann::json for JSON; no I/O.
#include "bridge/codec.h"
#include "config/text.h"
#include "packet/parse.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace nw::bridge {

namespace {

template <size_t N>
bool unhex(std::string_view s, std::array<uint8_t, N>* out) {
    return packet::parse_hex(s, out->data(), N);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}
}  // namespace

const char* action_name(Action a) {
    switch (a) {
        case Action::Wake: return "wake";
        case Action::Start: return "start";
        case Action::Stop: return "stop";
    }
    return "?";
}

bool parse_action(std::string_view s, Action* out) {
    for (Action a : {Action::Wake, Action::Start, Action::Stop})
        if (s == action_name(a)) {
            *out = a;
            return true;
        }
    return false;
}

std::string status_topic(std::string_view base) { return std::string(base) + "/status"; }

std::string target_topic(std::string_view base, std::string_view target, std::string_view leaf) {
    return std::string(base) + "/" + std::string(target) + "/" + std::string(leaf);
}

bool parse_set_topic(std::string_view base, std::string_view topic, std::string* target) {
    if (topic.size() <= base.size() + 5 || topic.substr(0, base.size()) != base || topic[base.size()] != '/')
        return false;
    std::string_view rest = topic.substr(base.size() + 1);
    if (rest.size() < 5 || rest.substr(rest.size() - 4) != "/set") return false;
    std::string_view t = rest.substr(0, rest.size() - 4);
    if (!config::valid_target_name(t)) return false;
    *target = std::string(t);
    return true;
}

bool parse_command(std::string_view payload, Command* out, std::string* err) {
    if (payload.size() > kMaxCommandPayload) return *err = "payload too long", false;
    std::string_view p = trim(payload);
    Command c;
    if (p.empty() || p.front() != '{') {
        if (!parse_action(p, &c.action)) return *err = "unknown command (expected wake, start, stop or signed JSON)", false;
        *out = c;
        return true;
    }
    nlohmann::json j = nlohmann::json::parse(p, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return *err = "invalid JSON", false;
    for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "action" && it.key() != "ts" && it.key() != "nonce" && it.key() != "hmac")
            return *err = "unknown key in the signed command", false;
    auto a = j.find("action"), ts = j.find("ts"), n = j.find("nonce"), h = j.find("hmac");
    if (a == j.end() || !a->is_string() || !parse_action(a->get_ref<const std::string&>(), &c.action))
        return *err = "\"action\" must be wake, start or stop", false;
    if (ts == j.end() || !ts->is_number_integer()) return *err = "\"ts\" must be an integer (unix seconds)", false;
    c.ts = ts->get<int64_t>();
    if (n == j.end() || !n->is_string() || !unhex(n->get_ref<const std::string&>(), &c.nonce))
        return *err = "\"nonce\" must be 32 hex digits", false;
    if (h == j.end() || !h->is_string() || !unhex(h->get_ref<const std::string&>(), &c.mac))
        return *err = "\"hmac\" must be 64 hex digits", false;
    c.nonce_hex = hex(c.nonce);
    c.is_signed = true;
    *out = c;
    return true;
}

std::string canonical_string(std::string_view base, std::string_view target, Action a, int64_t ts,
                             std::string_view nonce_hex) {
    std::string s = "netwaked-cmd-1\n";
    s.append(base).append("\n").append(target).append("\n").append(action_name(a)).append("\n");
    s.append(std::to_string(ts)).append("\n").append(nonce_hex);
    return s;
}

std::array<uint8_t, kMacLen> command_hmac(std::span<const uint8_t> key, std::string_view canonical) {
    std::array<uint8_t, kMacLen> mac{};
    unsigned len = 0;
    HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(canonical.data()),
         canonical.size(), mac.data(), &len);
    return mac;
}

bool verify_command(const Command& cmd, std::span<const uint8_t> key, std::string_view base, std::string_view target) {
    if (!cmd.is_signed || key.empty()) return false;
    const auto want = command_hmac(key, canonical_string(base, target, cmd.action, cmd.ts, cmd.nonce_hex));
    return CRYPTO_memcmp(want.data(), cmd.mac.data(), kMacLen) == 0;
}

std::string sign_command(std::span<const uint8_t> key, std::string_view base, std::string_view target, Action a,
                         int64_t ts, const std::array<uint8_t, kNonceLen>& nonce) {
    const std::string n = hex(nonce);
    nlohmann::json j = {{"action", action_name(a)}, {"ts", ts}, {"nonce", n},
                        {"hmac", hex(command_hmac(key, canonical_string(base, target, a, ts, n)))}};
    return j.dump();
}

std::string hex(std::span<const uint8_t> b) {
    static const char d[] = "0123456789abcdef";
    std::string s;
    for (uint8_t x : b) s += d[x >> 4], s += d[x & 15];
    return s;
}

// Civil UTC time from 64-bit seconds by <chrono>'s calendar, not gmtime(): time_t is 32 bits on
// Debian 12 armhf, where a 2040 time would come out as 1904.
std::string rfc3339(int64_t wall_s) {
    using namespace std::chrono;
    const sys_seconds t{seconds{wall_s}};
    const sys_days day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{t - day};
    char buf[40];
    snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()), unsigned(ymd.month()),
             unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()),
             int(hms.seconds().count()));
    return buf;
}

std::string result_json(std::string_view action, bool ok, std::string_view why, std::string_view nonce) {
    nlohmann::json j = {{"action", action}, {"result", ok ? "ok" : "refused"}};
    if (!why.empty()) j["why"] = why;
    if (!nonce.empty()) j["nonce"] = nonce;
    return j.dump();
}

std::string event_json(std::string_view event, std::string_view target, int64_t wall_s, const Env& env) {
    nlohmann::json j = {{"event", event}, {"target", target}, {"time", rfc3339(wall_s)}};
    for (const auto& [k, v] : env) {
        std::string key = k.rfind("NETWAKED_", 0) == 0 ? k.substr(9) : k;
        for (char& ch : key) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        if (key == "event" || key == "target") continue;
        const bool number = (key == "src_port" || key == "dst_port" || key == "idle" || key == "attempt") &&
                            !v.empty() && v.size() < 10 && v.find_first_not_of("0123456789") == std::string::npos;
        if (number) j[key] = std::stoll(v);
        else j[key] = nlohmann::json(v);
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string state_json(const StateView& s) {
    nlohmann::json j = {{"state", s.state}, {"since", s.since_wall_s ? rfc3339(s.since_wall_s) : std::string()},
                        {"last_event", s.last_event}, {"reason", s.reason}, {"wol", s.wol}};
    if (!s.mac.empty()) j["mac"] = s.mac;
    j["addresses"] = s.addresses;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nw::bridge

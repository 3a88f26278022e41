// bridge/bridge.cc — the bridge service (see bridge.h): command checks in the order SPEC §16
// demands (retained, syntax, allow, signature before anything is recorded, window, nonce),
// one result message and one rate-limited log line per command, and the retained publishes.
#include "bridge/bridge.h"

#include <fstream>
#include <functional>
#include <iterator>

#include "config/text.h"
#include "sys/log.h"

namespace nw::bridge {

namespace {
bool read_secret(const std::string& path, std::string* out, std::string* err) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return *err = "mqtt: cannot read " + path, false;
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (size_t nl = s.find_first_of("\r\n"); nl != std::string::npos) s.resize(nl);
    *out = std::move(s);
    return true;
}
bool read_file(const std::string& path, std::string* out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return true;
}
constexpr int kLogBurst = 10;  // command log lines per second (SPEC §16)
}  // namespace

Bridge::Bridge(const config::MqttConf& c, BridgeDeps deps) : conf_(c), d_(std::move(deps)) {}

std::unique_ptr<Bridge> Bridge::open(const config::MqttConf& c, BridgeDeps deps, std::string* err) {
    std::unique_ptr<Bridge> b(new Bridge(c, std::move(deps)));
    ClientConf cc;
    cc.host = c.host;
    cc.port = c.port;
    cc.tls = c.tls;
    cc.ca_file = c.ca_file;
    cc.cert_file = c.cert_file;
    cc.key_file = c.key_file;
    cc.tls_insecure = c.tls_insecure;
    cc.client_id = c.client_id;
    cc.username = c.username;
    if (!c.password_file.empty() && !read_secret(c.password_file, &cc.password, err)) return nullptr;
    b->password_ = cc.password;
    for (const std::string* f : {&c.ca_file, &c.cert_file, &c.key_file}) {
        std::string text;  // unreadable here: the client's TLS setup reports it at start
        if (!f->empty() && read_file(*f, &text)) b->tls_files_hash_ = b->tls_files_hash_ * 31 + std::hash<std::string>{}(text);
    }
    cc.keepalive_s = int(c.keepalive.count() / 1000);
    cc.will_topic = status_topic(c.topic);
    cc.subscriptions.push_back(c.topic + "/+/set");
    if (c.ha_discovery) {
        cc.subscriptions.push_back(c.ha_prefix + "/status");
        cc.subscriptions.push_back(c.ha_prefix + "/+/" + discovery_node_id(c.client_id) + "/+/config");  // leftovers
    }
    if (!c.command_key_file.empty()) {
        std::string text;
        if (!read_secret(c.command_key_file, &text, err) || !config::base64_decode(text, &b->key_) ||
            b->key_.size() < 32) {
            if (err->empty()) *err = "mqtt: " + c.command_key_file + " does not hold a base64 key of 32+ bytes";
            return nullptr;
        }
    }
    b->client_ = std::make_unique<Client>(std::move(cc));
    return b;
}

bool Bridge::start(std::string* err) {
    log::notice("mqtt: connecting to {} as {} (base topic {})", conf_.broker, conf_.client_id, conf_.topic);
    return client_->start(err);
}

bool Bridge::stop() { return client_->stop(); }

bool Bridge::differs(const Bridge* next) const {
    return !next || !(next->conf_ == conf_) || next->key_ != key_ || next->password_ != password_ ||
           next->tls_files_hash_ != tls_files_hash_;
}

void Bridge::retire(const Bridge* next) {
    const bool same_broker = next && next->conf_.host == conf_.host && next->conf_.port == conf_.port;
    const bool same_base = same_broker && next->conf_.topic == conf_.topic;
    for (const TargetInfo& t : targets_) {
        bool kept = false;
        for (const TargetInfo& n : same_base ? next->targets_ : std::vector<TargetInfo>{})
            kept = kept || n.state.target == t.state.target;
        if (!kept) client_->set_retained(target_topic(conf_.topic, t.state.target, "state"), "");
    }
    if (conf_.metrics && !(same_base && next->conf_.metrics)) client_->set_retained(conf_.topic + "/metrics", "");
    for (const std::string& topic : offered_)
        if (!same_broker || !next->offered_.count(topic)) client_->set_retained(topic, "");
}

void Bridge::on_readable() {
    for (const Incoming& in : client_->take()) {
        if (in.kind == Incoming::Connected) log::notice("mqtt: connected to {}", conf_.broker);
        else if (in.kind == Incoming::Disconnected) log::warn("mqtt: disconnected from {} (code {})", conf_.broker, in.payload);
        else handle_message(in);
    }
}

void Bridge::handle_message(const Incoming& in) {
    if (conf_.ha_discovery && in.topic == conf_.ha_prefix + "/status") {
        if (in.payload == "online") publish_discovery();  // Home Assistant restarted: announce again
        return;
    }
    std::string target;
    if (parse_set_topic(conf_.topic, in.topic, &target)) return handle_command(target, in);
    // A discovery config under our node id that we do not offer (left by an earlier run with
    // the same client_id, e.g. a target since deleted): clear it.
    if (conf_.ha_discovery && in.retained && !in.payload.empty() && in.topic.rfind(conf_.ha_prefix + "/", 0) == 0 &&
        !offered_.count(in.topic)) {
        log::info("mqtt: clearing stale Home Assistant discovery {}", in.topic);
        client_->set_retained(in.topic, "");
    }
}

void Bridge::handle_command(const std::string& target, const Incoming& in) {
    Command c;
    std::string why;
    if (in.retained) return answer(target, "?", false, "retained commands are never obeyed", "");
    if (!parse_command(in.payload, &c, &why)) return answer(target, "?", false, why, "");
    const std::string action = action_name(c.action);
    if (!(conf_.allow & uint8_t(c.action))) return answer(target, action, false, "action not allowed", c.nonce_hex);
    if (conf_.signed_commands && !c.is_signed) return answer(target, action, false, "unsigned command (signed: true)", "");
    if (c.is_signed) {
        if (key_.empty()) return answer(target, action, false, "signed command but no key_file", c.nonce_hex);
        if (!verify_command(c, key_, conf_.topic, target)) return answer(target, action, false, "bad HMAC", c.nonce_hex);
        const int64_t now = d_.wall_s(), window = conf_.window.count() / 1000;
        if (c.ts < now - window || c.ts > now + window)
            return answer(target, action, false, "timestamp outside the window", c.nonce_hex);
        if (!d_.claim_nonce(c.nonce, now + 2 * window))
            return answer(target, action, false, "replayed nonce", c.nonce_hex);
    }
    std::string err;
    if (!d_.execute(c.action, target, &err)) return answer(target, action, false, err, c.nonce_hex);
    answer(target, action, true, "", c.nonce_hex);
}

void Bridge::answer(const std::string& target, const std::string& action, bool ok, const std::string& why,
                    const std::string& nonce) {
    ok ? ++accepted_ : ++refused_;
    client_->publish(target_topic(conf_.topic, target, "result"), result_json(action, ok, why, nonce));
    const int64_t now = d_.now_ns();
    if (now - log_window_ns_ >= 1'000'000'000) {
        if (log_suppressed_) log::warn("mqtt: {} more command lines not logged in the last second", log_suppressed_);
        log_window_ns_ = now;
        log_lines_ = 0;
        log_suppressed_ = 0;
    }
    if (log_lines_++ >= kLogBurst) {
        ++log_suppressed_;
        return;
    }
    if (ok) log::notice("mqtt: {}: {} accepted{}", target, action, nonce.empty() ? "" : " (signed)");
    else log::warn("mqtt: {}: {} refused: {}", target, action, why);
}

void Bridge::publish_discovery() {
    if (!conf_.ha_discovery) return;
    DiscoveryConf dc;
    dc.prefix = conf_.ha_prefix;
    dc.base = conf_.topic;
    dc.client_id = conf_.client_id;
    const bool plain = !conf_.signed_commands;
    dc.wake_button = plain && (conf_.allow & uint8_t(config::MqttAction::Wake));
    dc.start_button = plain && (conf_.allow & uint8_t(config::MqttAction::Start));
    dc.stop_button = plain && (conf_.allow & uint8_t(config::MqttAction::Stop));
    offered_.clear();
    const Retained router = discovery_router(dc);  // the device every target's via_device names
    offered_.insert(router.topic);
    client_->set_retained(router.topic, router.payload);
    for (const TargetInfo& t : targets_)
        for (const Retained& r : discovery_messages(dc, {t.state.target, t.state.mac, t.state.wol})) {
            if (!r.payload.empty()) offered_.insert(r.topic);
            client_->set_retained(r.topic, r.payload);
        }
}

void Bridge::set_targets(const std::vector<TargetInfo>& targets) {
    for (const TargetInfo& old : targets_) {
        bool kept = false;
        for (const TargetInfo& t : targets) kept = kept || t.state.target == old.state.target;
        if (kept) continue;
        client_->set_retained(target_topic(conf_.topic, old.state.target, "state"), "");
        if (conf_.ha_discovery) {
            DiscoveryConf dc;
            dc.prefix = conf_.ha_prefix;
            dc.client_id = conf_.client_id;
            for (const Retained& r : discovery_clear(dc, old.state.target)) client_->set_retained(r.topic, r.payload);
        }
    }
    targets_ = targets;
    for (const TargetInfo& t : targets_)
        client_->set_retained(target_topic(conf_.topic, t.state.target, "state"), state_json(t.state));
    publish_discovery();
}

void Bridge::on_event(const std::string& event, const std::string& target, const Env& env, const StateView* state) {
    client_->publish(target_topic(conf_.topic, target, "event"), event_json(event, target, d_.wall_s(), env));
    if (!state) return;
    for (TargetInfo& t : targets_)
        if (t.state.target == target) t.state = *state;
    client_->set_retained(target_topic(conf_.topic, target, "state"), state_json(*state));
}

}  // namespace nw::bridge

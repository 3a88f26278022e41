// bridge/bridge.h — the MQTT bridge service (SPEC §16): an Event sink that publishes state,
// events and HA discovery through the client thread, and a command source that checks remote
// commands (plain/signed, allow list, HMAC, window, replay) before handing them to the daemon's
// command path. Core thread only (the Client does the waiting). Narrow interface: the daemon
// wires it at one place for events and one for commands.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bridge/client.h"
#include "bridge/codec.h"
#include "bridge/discovery.h"
#include "config/model.h"

namespace nw::bridge {

// What the daemon provides.
struct BridgeDeps {
    // The one command path: do `a` on `target`; false + *err when refused (unknown target...).
    std::function<bool(Action a, const std::string& target, std::string* err)> execute;
    // Records a signed command's nonce in the shared replay cache; false if already seen.
    std::function<bool(const std::array<uint8_t, kNonceLen>& nonce, int64_t expires_wall_s)> claim_nonce;
    std::function<int64_t()> wall_s;
    std::function<int64_t()> now_ns;  // monotonic (log rate limit)
};

struct TargetInfo {
    StateView state;                  // state.target = name
};

class Bridge {
   public:
    // Reads the password and command-key files (call before dropping privileges).
    static std::unique_ptr<Bridge> open(const config::MqttConf& c, BridgeDeps deps, std::string* err);
    bool start(std::string* err);
    bool stop();                      // `offline`, disconnect; false: leak this bridge (Client::stop)
    // A reload replaces this bridge by `next` (null: the mqtt section was removed): true when
    // anything differs (settings, or the contents of the password, command key or TLS files).
    bool differs(const Bridge* next) const;
    // Before stop() on a reload: clears the retained state, metrics and discovery this connection
    // published that `next` (already given its targets) will not overwrite.
    void retire(const Bridge* next);
    int fd() const { return client_->event_fd(); }
    void on_readable();               // connection changes and commands

    // Every target's retained state + discovery; targets gone since the last call are cleared.
    void set_targets(const std::vector<TargetInfo>& targets);
    // Event sink: the event on <base>/<t>/event and the target's new retained state.
    void on_event(const std::string& event, const std::string& target, const Env& env, const StateView* state);

    // `mqtt.metrics: true` (SPEC §17): the metrics text, retained on <base>/metrics.
    void publish_metrics(const std::string& text) { client_->set_retained(conf_.topic + "/metrics", text); }

    const ClientStats& client_stats() const { return client_->stats(); }
    uint64_t commands_accepted() const { return accepted_; }
    uint64_t commands_refused() const { return refused_; }
    const config::MqttConf& conf() const { return conf_; }

   private:
    Bridge(const config::MqttConf& c, BridgeDeps deps);
    void handle_message(const Incoming& in);
    void handle_command(const std::string& target, const Incoming& in);
    void answer(const std::string& target, const std::string& action, bool ok, const std::string& why,
                const std::string& nonce);
    void publish_discovery();

    config::MqttConf conf_;
    BridgeDeps d_;
    std::unique_ptr<Client> client_;
    std::vector<uint8_t> key_;
    std::string password_;            // the password file's contents (compared on a reload; never logged)
    size_t tls_files_hash_ = 0;       // of the ca/cert/key files' contents (a rotated certificate reconnects)
    std::vector<TargetInfo> targets_;
    std::set<std::string> offered_;   // discovery topics currently offered (non-empty)
    uint64_t accepted_ = 0, refused_ = 0;
    int64_t log_window_ns_ = 0;
    int log_lines_ = 0;
    uint64_t log_suppressed_ = 0;
};

}  // namespace nw::bridge

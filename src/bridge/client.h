// bridge/client.h — the MQTT client (SPEC §16, DESIGN "Shape"): libmosquitto in its own thread.
// The core hands it publishes (never blocking: a mutex held for a queue push); it hands the core
// connection changes and received commands through a queue + eventfd. DNS, TCP, TLS and the
// broker are only ever waited on by the client thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sys/fd.h"

struct mosquitto;
struct mosquitto_message;

namespace nw::bridge {

struct ClientConf {
    std::string host;
    uint16_t port = 1883;
    bool tls = false;
    std::string ca_file, cert_file, key_file;
    bool tls_insecure = false;
    std::string client_id, username, password;    // password: the file's contents (never logged)
    int keepalive_s = 60;
    std::string will_topic;                        // <base>/status: "offline", retained
    std::vector<std::string> subscriptions;        // subscribed on every connect
};

// What the client thread hands the core.
struct Incoming {
    enum Kind : uint8_t { Connected, Disconnected, Message } kind = Message;
    std::string topic, payload;
    bool retained = false;
};

struct ClientStats {
    std::atomic<bool> connected{false};
    std::atomic<uint64_t> published{0}, queue_drops{0}, connects{0};
};

class Client {
   public:
    static constexpr size_t kMaxQueued = 1024;         // events kept while disconnected
    static constexpr size_t kMaxIncoming = 256;        // received messages not yet taken

    explicit Client(ClientConf conf);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Creates the library handle and starts the thread (which connects and reconnects with
    // backoff 1 s doubling to 60 s). False + *err only for local problems (bad TLS files).
    bool start(std::string* err);
    // Publishes `offline` (retained), disconnects and joins the thread (at most ~3 s). False when
    // the thread is stuck in the library (a connect to a black hole): it is left to finish on
    // its own, and the Client must then be leaked, never destroyed (the thread still uses it).
    bool stop();

    int event_fd() const { return efd_.get(); }
    // Remembered and republished on every (re)connect; "" clears the retained message.
    void set_retained(const std::string& topic, const std::string& payload);
    // Not retained; kept in a bounded queue while disconnected (oldest dropped and counted).
    void publish(const std::string& topic, const std::string& payload);
    // Everything received since the last call (call when event_fd() is readable).
    std::vector<Incoming> take();
    const ClientStats& stats() const { return stats_; }

   private:
    static void on_connect(mosquitto*, void* self, int rc);
    static void on_disconnect(mosquitto*, void* self, int rc);
    static void on_message(mosquitto*, void* self, const mosquitto_message* m);
    static void on_publish(mosquitto*, void* self, int mid);
    void run();
    void push_incoming(Incoming in);
    bool send_locked(const std::string& topic, const std::string& payload, bool retain);

    ClientConf conf_;
    mosquitto* mosq_ = nullptr;
    sys::unique_fd efd_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::mutex stop_mu_;
    std::condition_variable stop_cv_;
    bool thread_done_ = false;
    bool abandoned_ = false;                         // stop() left the thread stuck in the library

    std::mutex mu_;                                  // guards everything below
    bool connected_ = false;
    std::map<std::string, std::string> retained_;
    std::deque<std::pair<std::string, std::string>> queued_;
    std::deque<Incoming> incoming_;
    std::set<int> unacked_;                          // QoS 1 publishes of this connection not yet acknowledged
    std::condition_variable acked_cv_;               // unacked_ emptied or the connection lost
    ClientStats stats_;
};

}  // namespace nw::bridge

// bridge/client.cc — libmosquitto client thread (see client.h). The thread connects (blocking
// DNS/TCP/TLS happen here, never on the core thread) and then runs the library's own loop,
// mosquitto_loop_forever, which handles keepalive and reconnects (1 s doubling to 60 s).
// mosquitto_loop_start is not used: its thread needs a connect on the caller's thread first,
// and that blocks on DNS. libmosquitto sets SIGPIPE to SIG_IGN process-wide in mosquitto_new;
// hooks are spawned with every signal reset to its default (action/hooks.cc), so they keep
// the default SIGPIPE (checked by tests/netns/65_mqtt_bridge.sh).
#include "bridge/client.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "sys/log.h"

namespace nw::bridge {

namespace {
std::once_flag g_lib_once;
constexpr int kQos = 1;
}  // namespace

Client::Client(ClientConf conf) : conf_(std::move(conf)) {}

Client::~Client() {
    stop();
}

bool Client::start(std::string* err) {
    std::call_once(g_lib_once, [] { mosquitto_lib_init(); });
    efd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!efd_) {
        *err = log::errno_str("eventfd", errno);
        return false;
    }
    mosq_ = mosquitto_new(conf_.client_id.c_str(), true, this);
    if (!mosq_) {
        *err = log::errno_str("mosquitto_new", errno);
        return false;
    }
    mosquitto_threaded_set(mosq_, true);  // publishes from the core thread only queue + wake the loop
    // MQTT 5 (its "retain as published" subscription option shows retained commands as such);
    // a broker that refuses it gets 3.1.1 on the next attempt (see on_connect).
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);  // events and results leave at once (no Nagle)
    mosquitto_reconnect_delay_set(mosq_, 1, 60, true);
    mosquitto_connect_callback_set(mosq_, on_connect);
    mosquitto_disconnect_callback_set(mosq_, on_disconnect);
    mosquitto_message_callback_set(mosq_, on_message);
    mosquitto_publish_callback_set(mosq_, on_publish);
    if (!conf_.username.empty() &&
        mosquitto_username_pw_set(mosq_, conf_.username.c_str(), conf_.password.empty() ? nullptr : conf_.password.c_str()) !=
            MOSQ_ERR_SUCCESS) {
        *err = "mqtt: cannot set the username";
        return false;
    }
    if (mosquitto_will_set(mosq_, conf_.will_topic.c_str(), 7, "offline", kQos, true) != MOSQ_ERR_SUCCESS) {
        *err = "mqtt: cannot set the will on " + conf_.will_topic;
        return false;
    }
    if (conf_.tls) {
        const char* ca = conf_.ca_file.empty() ? nullptr : conf_.ca_file.c_str();
        int rc = mosquitto_tls_set(mosq_, ca, ca ? nullptr : "/etc/ssl/certs",
                                   conf_.cert_file.empty() ? nullptr : conf_.cert_file.c_str(),
                                   conf_.key_file.empty() ? nullptr : conf_.key_file.c_str(), nullptr);
        if (rc != MOSQ_ERR_SUCCESS) {
            *err = std::string("mqtt: TLS files: ") + mosquitto_strerror(rc);
            return false;
        }
        mosquitto_tls_insecure_set(mosq_, conf_.tls_insecure);
    }
    thread_ = std::thread([this] { run(); });
    return true;
}

void Client::run() {
    int delay = 1;
    bool first = true;
    while (!stopping_) {
        int rc = first ? mosquitto_connect(mosq_, conf_.host.c_str(), conf_.port, conf_.keepalive_s)
                       : mosquitto_reconnect(mosq_);
        first = false;
        if (stopping_) break;  // stop() came while the connect blocked: do not start the loop
        if (rc == MOSQ_ERR_SUCCESS) {
            // A TCP connection is not yet a session (the TLS handshake and CONNACK follow in
            // the loop): the backoff restarts only once the broker has accepted us.
            const uint64_t before = stats_.connects.load();
            // Timeout = keepalive: the library wakes earlier for its PINGREQ and on any traffic or
            // publish (its socket pair), so an idle connection costs one wake-up per keepalive.
            rc = mosquitto_loop_forever(mosq_, conf_.keepalive_s * 1000, 1);  // returns on disconnect or a fatal error
            if (stopping_) break;
            if (stats_.connects.load() != before) delay = 1;
        }
        if (stopping_) break;
        const char* why = rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
        log::warn("mqtt: cannot reach {}:{}: {}; retrying in {} s", conf_.host, conf_.port, why, delay);
        std::unique_lock<std::mutex> lk(stop_mu_);
        stop_cv_.wait_for(lk, std::chrono::seconds(delay), [this] { return stopping_.load(); });
        delay = std::min(delay * 2, 60);
    }
    std::lock_guard<std::mutex> lk(stop_mu_);
    thread_done_ = true;
    stop_cv_.notify_all();
}

bool Client::stop() {
    if (!mosq_ || abandoned_) return !abandoned_;
    {
        // `offline` last; everything published before it (a reload's clears) is acknowledged
        // before the DISCONNECT, which would drop what the library still holds back.
        std::unique_lock<std::mutex> lk(mu_);
        if (connected_) send_locked(conf_.will_topic, "offline", true);
        acked_cv_.wait_for(lk, std::chrono::seconds(1), [this] { return unacked_.empty() || !connected_; });
    }
    {
        std::lock_guard<std::mutex> lk(stop_mu_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    mosquitto_disconnect(mosq_);
    bool done;
    {
        std::unique_lock<std::mutex> lk(stop_mu_);
        done = stop_cv_.wait_for(lk, std::chrono::seconds(2), [this] { return thread_done_; });
    }
    if (thread_.joinable()) {
        if (done) thread_.join();
        else thread_.detach();  // stuck in the library (e.g. a connect to a black hole): see stop() in client.h
    }
    if (!done) {
        abandoned_ = true;  // mosq_ stays: the thread still uses it (and the Client keeps it reachable)
        return false;
    }
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    return true;
}

bool Client::send_locked(const std::string& topic, const std::string& payload, bool retain) {
    int mid = 0;
    int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), int(payload.size()), payload.data(), kQos, retain);
    if (rc != MOSQ_ERR_SUCCESS) return false;
    unacked_.insert(mid);
    stats_.published.fetch_add(1);
    return true;
}

void Client::set_retained(const std::string& topic, const std::string& payload) {
    std::lock_guard<std::mutex> lk(mu_);
    retained_[topic] = payload;
    if (connected_) send_locked(topic, payload, true);
}

void Client::publish(const std::string& topic, const std::string& payload) {
    std::lock_guard<std::mutex> lk(mu_);
    if (connected_ && send_locked(topic, payload, false)) return;
    if (queued_.size() >= kMaxQueued) {
        queued_.pop_front();
        stats_.queue_drops.fetch_add(1);
    }
    queued_.emplace_back(topic, payload);
}

void Client::push_incoming(Incoming in) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (in.kind == Incoming::Message && incoming_.size() >= kMaxIncoming) {
            stats_.queue_drops.fetch_add(1);
            return;
        }
        incoming_.push_back(std::move(in));
    }
    uint64_t one = 1;
    (void)!::write(efd_.get(), &one, sizeof one);
}

std::vector<Incoming> Client::take() {
    uint64_t v;
    while (::read(efd_.get(), &v, sizeof v) > 0) {
    }
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<Incoming> out(std::make_move_iterator(incoming_.begin()), std::make_move_iterator(incoming_.end()));
    incoming_.clear();
    return out;
}

// Loop thread: the broker accepted us (rc 0) or refused (rc = CONNACK code).
void Client::on_connect(mosquitto* m, void* p, int rc) {
    auto* self = static_cast<Client*>(p);
    if (rc == 1 || rc == 132) {  // CONNACK "unacceptable protocol version" (3.1.1) / "unsupported" (5)
        log::notice("mqtt: broker {}:{} does not speak MQTT 5: using 3.1.1", self->conf_.host, self->conf_.port);
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        return;
    }
    if (rc != 0) {
        log::warn("mqtt: broker {}:{} refused the connection: {}", self->conf_.host, self->conf_.port,
                  mosquitto_connack_string(rc));
        return;
    }
    if (self->conf_.tls && self->conf_.tls_insecure)  // every connect, the library's own reconnects included
        log::warn("mqtt: tls_insecure: connected to {} without checking its certificate's hostname", self->conf_.host);
    for (const std::string& s : self->conf_.subscriptions)
        mosquitto_subscribe_v5(m, nullptr, s.c_str(), kQos, MQTT_SUB_OPT_RETAIN_AS_PUBLISHED, nullptr);
    {
        std::lock_guard<std::mutex> lk(self->mu_);
        self->connected_ = true;
        self->stats_.connected = true;
        self->stats_.connects.fetch_add(1);
        self->send_locked(self->conf_.will_topic, "online", true);
        for (const auto& [topic, payload] : self->retained_) self->send_locked(topic, payload, true);
        while (!self->queued_.empty()) {
            self->send_locked(self->queued_.front().first, self->queued_.front().second, false);
            self->queued_.pop_front();
        }
    }
    self->push_incoming(Incoming{Incoming::Connected, {}, {}, false});
}

void Client::on_disconnect(mosquitto*, void* p, int rc) {
    auto* self = static_cast<Client*>(p);
    {
        std::lock_guard<std::mutex> lk(self->mu_);
        self->connected_ = false;
        self->stats_.connected = false;
        self->unacked_.clear();
    }
    self->acked_cv_.notify_all();
    if (!self->stopping_) self->push_incoming(Incoming{Incoming::Disconnected, {}, std::to_string(rc), false});
}

// Loop thread: the broker acknowledged a QoS 1 publish.
void Client::on_publish(mosquitto*, void* p, int mid) {
    auto* self = static_cast<Client*>(p);
    std::lock_guard<std::mutex> lk(self->mu_);
    self->unacked_.erase(mid);
    if (self->unacked_.empty()) self->acked_cv_.notify_all();
}

void Client::on_message(mosquitto*, void* p, const mosquitto_message* m) {
    auto* self = static_cast<Client*>(p);
    Incoming in;
    in.kind = Incoming::Message;
    in.topic = m->topic ? m->topic : "";
    in.payload.assign(static_cast<const char*>(m->payload), size_t(m->payloadlen > 0 ? m->payloadlen : 0));
    in.retained = m->retain;
    self->push_incoming(std::move(in));
}

}  // namespace nw::bridge

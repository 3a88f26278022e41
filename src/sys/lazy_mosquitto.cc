// sys/lazy_mosquitto.cc — netwaked's calls into libmosquitto (the MQTT bridge), through dlopen
// (sys/lazylib.h): linked into netwaked only, which does not link libmosquitto itself.
#include <mosquitto.h>

#include "sys/lazy_forward.h"

#define NW_MOSQUITTO_FUNCTIONS(X)                                                                      \
    X(mosquitto_connack_string) X(mosquitto_connect) X(mosquitto_connect_callback_set)                 \
    X(mosquitto_destroy) X(mosquitto_disconnect) X(mosquitto_disconnect_callback_set)                  \
    X(mosquitto_int_option) X(mosquitto_lib_init) X(mosquitto_loop_forever)                            \
    X(mosquitto_message_callback_set) X(mosquitto_new) X(mosquitto_publish)                            \
    X(mosquitto_publish_callback_set) X(mosquitto_reconnect) X(mosquitto_reconnect_delay_set)          \
    X(mosquitto_strerror) X(mosquitto_subscribe_v5) X(mosquitto_threaded_set)                          \
    X(mosquitto_tls_insecure_set) X(mosquitto_tls_set) X(mosquitto_username_pw_set) X(mosquitto_will_set)

NW_LAZY_FORWARDERS(nw::sys::lazy::Lib::Mosquitto, NW_MOSQUITTO_FUNCTIONS)

using Mosq = struct mosquitto;

extern "C" {

const char* mosquitto_connack_string(int code) { return NW_LAZY(mosquitto_connack_string)(code); }
int mosquitto_connect(Mosq* m, const char* host, int port, int keepalive) {
    return NW_LAZY(mosquitto_connect)(m, host, port, keepalive);
}
void mosquitto_connect_callback_set(Mosq* m, void (*cb)(Mosq*, void*, int)) {
    NW_LAZY(mosquitto_connect_callback_set)(m, cb);
}
void mosquitto_destroy(Mosq* m) { NW_LAZY(mosquitto_destroy)(m); }
int mosquitto_disconnect(Mosq* m) { return NW_LAZY(mosquitto_disconnect)(m); }
void mosquitto_disconnect_callback_set(Mosq* m, void (*cb)(Mosq*, void*, int)) {
    NW_LAZY(mosquitto_disconnect_callback_set)(m, cb);
}
int mosquitto_int_option(Mosq* m, enum mosq_opt_t option, int value) {
    return NW_LAZY(mosquitto_int_option)(m, option, value);
}
int mosquitto_lib_init(void) { return NW_LAZY(mosquitto_lib_init)(); }
int mosquitto_loop_forever(Mosq* m, int timeout, int max_packets) {
    return NW_LAZY(mosquitto_loop_forever)(m, timeout, max_packets);
}
void mosquitto_message_callback_set(Mosq* m, void (*cb)(Mosq*, void*, const struct mosquitto_message*)) {
    NW_LAZY(mosquitto_message_callback_set)(m, cb);
}
Mosq* mosquitto_new(const char* id, bool clean_session, void* obj) {
    return NW_LAZY(mosquitto_new)(id, clean_session, obj);
}
int mosquitto_publish(Mosq* m, int* mid, const char* topic, int payloadlen, const void* payload, int qos,
                      bool retain) {
    return NW_LAZY(mosquitto_publish)(m, mid, topic, payloadlen, payload, qos, retain);
}
void mosquitto_publish_callback_set(Mosq* m, void (*cb)(Mosq*, void*, int)) {
    NW_LAZY(mosquitto_publish_callback_set)(m, cb);
}
int mosquitto_reconnect(Mosq* m) { return NW_LAZY(mosquitto_reconnect)(m); }
int mosquitto_reconnect_delay_set(Mosq* m, unsigned int delay, unsigned int delay_max, bool exponential) {
    return NW_LAZY(mosquitto_reconnect_delay_set)(m, delay, delay_max, exponential);
}
const char* mosquitto_strerror(int mosq_errno) { return NW_LAZY(mosquitto_strerror)(mosq_errno); }
int mosquitto_subscribe_v5(Mosq* m, int* mid, const char* sub, int qos, int options,
                           const mosquitto_property* properties) {
    return NW_LAZY(mosquitto_subscribe_v5)(m, mid, sub, qos, options, properties);
}
int mosquitto_threaded_set(Mosq* m, bool threaded) { return NW_LAZY(mosquitto_threaded_set)(m, threaded); }
int mosquitto_tls_insecure_set(Mosq* m, bool value) { return NW_LAZY(mosquitto_tls_insecure_set)(m, value); }
int mosquitto_tls_set(Mosq* m, const char* cafile, const char* capath, const char* certfile, const char* keyfile,
                      int (*pw_callback)(char* buf, int size, int rwflag, void* userdata)) {
    return NW_LAZY(mosquitto_tls_set)(m, cafile, capath, certfile, keyfile, pw_callback);
}
int mosquitto_username_pw_set(Mosq* m, const char* username, const char* password) {
    return NW_LAZY(mosquitto_username_pw_set)(m, username, password);
}
int mosquitto_will_set(Mosq* m, const char* topic, int payloadlen, const void* payload, int qos, bool retain) {
    return NW_LAZY(mosquitto_will_set)(m, topic, payloadlen, payload, qos, retain);
}

}  // extern "C"

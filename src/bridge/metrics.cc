// bridge/metrics.cc — Prometheus text rendering (see metrics.h). Pure.
#include "bridge/metrics.h"

namespace nw::bridge {

namespace {
std::string esc(const std::string& v) {
    std::string r;
    for (char ch : v) {
        if (ch == '\\' || ch == '"') r += '\\';
        if (ch == '\n') {
            r += "\\n";
            continue;
        }
        r += ch;
    }
    return r;
}
void head(std::string& o, const char* name, const char* type, const char* help) {
    o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}
}  // namespace

std::string render_metrics(const MetricsSnapshot& s) {
    static const char* const kStates[] = {"idle", "active", "waking", "awake", "wake_failed", "asleep", "lost"};
    std::string o;
    head(o, "netwaked_target_state", "gauge", "1 for the target's current state");
    for (const auto& t : s.targets)
        for (const char* st : kStates)
            o += "netwaked_target_state{target=\"" + esc(t.name) + "\",state=\"" + st + "\"} " +
                 (t.state == st ? "1" : "0") + "\n";
    head(o, "netwaked_events_total", "counter", "events per target");
    for (const auto& t : s.targets)
        for (const auto& [ev, n] : t.events)
            o += "netwaked_events_total{target=\"" + esc(t.name) + "\",event=\"" + esc(ev) + "\"} " + std::to_string(n) + "\n";
    head(o, "netwaked_wake_seconds", "gauge", "last time from magic packet to awake");
    for (const auto& t : s.targets)
        if (t.wake_seconds >= 0)
            o += "netwaked_wake_seconds{target=\"" + esc(t.name) + "\"} " + std::to_string(t.wake_seconds) + "\n";
    head(o, "netwaked_hook_runs_total", "counter", "finished hook runs per target, event and result (ok, failed, timeout)");
    for (const auto& t : s.targets)
        for (const auto& [k, n] : t.hooks)
            o += "netwaked_hook_runs_total{target=\"" + esc(t.name) + "\",event=\"" + esc(k.first) + "\",result=\"" +
                 esc(k.second) + "\"} " + std::to_string(n) + "\n";
    head(o, "netwaked_wakes_total", "counter", "magic-packet bursts per target");
    for (const auto& t : s.targets)
        o += "netwaked_wakes_total{target=\"" + esc(t.name) + "\"} " + std::to_string(t.wakes) + "\n";
    head(o, "netwaked_sensor_packets_total", "counter", "packets seen per sensor");
    for (const auto& x : s.sensors)
        o += "netwaked_sensor_packets_total{sensor=\"" + esc(x.name) + "\"} " + std::to_string(x.packets) + "\n";
    head(o, "netwaked_sensor_lost_total", "counter", "packets lost per sensor");
    for (const auto& x : s.sensors)
        o += "netwaked_sensor_lost_total{sensor=\"" + esc(x.name) + "\"} " + std::to_string(x.lost) + "\n";
    head(o, "netwaked_rejected_total", "counter", "rejected inputs by kind");
    for (const auto& [kind, n] : s.rejected)
        o += "netwaked_rejected_total{kind=\"" + esc(kind) + "\"} " + std::to_string(n) + "\n";
    for (const auto& [name, n] : s.counters) {
        const std::string m = "netwaked_" + name + "_total";
        head(o, m.c_str(), "counter", "status counter");
        o += m + " " + std::to_string(n) + "\n";
    }
    return o;
}

}  // namespace nw::bridge

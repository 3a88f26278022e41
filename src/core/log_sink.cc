// core/log_sink.cc — the per-event log lines (see log_sink.h). Same text and level as the lines
// the transition functions wrote before the sink existed: scenarios grep them.
#include "core/log_sink.h"

#include <string_view>

#include "core/wake_cycle.h"
#include "packet/decode.h"

namespace nw::core {

namespace {
constexpr int64_t kMs = 1000000;

std::string env_of(const Event& e, std::string_view key) {
    for (const auto& [k, v] : e.env)
        if (k == key) return v;
    return "";
}

std::string mac_of(const Event& e) { return e.mac ? packet::mac_str(*e.mac) : "?"; }

void target_lines(const Event& e, std::vector<LogLine>* out) {
    const std::string& s = e.subject;
    auto add = [out](log::Level lv, std::string t) { out->push_back({lv, std::move(t)}); };
    switch (e.kind) {
        case EventKind::Start:
            if (e.packet.empty()) {
                add(log::Level::Notice, fmt::format("{}: {} -> {}: start ({})", s, e.from, e.to, e.reason));
                return;
            }
            add(log::Level::Notice,
                fmt::format("{}: {} -> {}: start ({}, sensor {})", s, e.from, e.to, e.reason, env_of(e, "NETWAKED_SENSOR")));
            if (const std::string p = env_of(e, "NETWAKED_PREFIX"); !p.empty())
                add(log::Level::Notice, fmt::format("{}: trigger packet: {} prefix \"{}\"", s, e.packet, p));
            else
                add(log::Level::Notice, fmt::format("{}: trigger packet: {}", s, e.packet));
            return;
        case EventKind::Stop: {
            if (!*e.from) break;  // no move: the target left the configuration (detail)
            const int64_t idle_ms = e.idle_ns / kMs;
            add(log::Level::Notice, fmt::format("{}: {} -> {}: stop ({}, idle {}.{:03} s)", s, e.from, e.to, e.reason,
                                                idle_ms / 1000, idle_ms % 1000));
            return;
        }
        case EventKind::Wake:
            add(log::Level::Notice, fmt::format("{}: wake: magic packets for {} ({} x {} ms apart){}", s, mac_of(e),
                                                e.repeat, e.interval_ms, e.packet.empty() ? "" : ", trigger " + e.packet));
            return;
        case EventKind::Awake:
            add(log::Level::Notice, fmt::format("{}: waking -> awake after {} s (attempt {}; {})", s,
                                                wake_seconds(e.in_state_ns), e.attempt, e.detail));
            return;
        case EventKind::WakeFailed:
            add(log::Level::Warning, fmt::format("{}: waking -> wake_failed: no sign of life after {} attempt(s), {} s",
                                                 s, e.attempt, e.in_state_ns / 1'000'000'000));
            return;
        case EventKind::Knock:
            add(log::Level::Notice, fmt::format("{}: knock {} ({}) completed by {}", s, env_of(e, "NETWAKED_KNOCK"),
                                                e.detail, env_of(e, "NETWAKED_SRC")));
            return;
        default: break;
    }
    if (!e.detail.empty()) add(log::Level::Notice, fmt::format("{}: {}", s, e.detail));
}

void machine_lines(const Event& e, std::vector<LogLine>* out) {
    const std::string& s = e.subject;
    if (*e.from) out->push_back({log::Level::Notice, machine_move_line(s, e.from, e.to, e.reason, e.detail)});
    else if (e.kind != EventKind::Wake && !e.detail.empty())
        out->push_back({log::Level::Notice, fmt::format("{}: {}", s, e.detail)});
    if (e.kind == EventKind::Awake && e.attempt > 0)
        out->push_back({log::Level::Info, fmt::format("{}: awake {} s after the first magic packet (attempt {})", s,
                                                      env_of(e, "NETWAKED_WAKE_SECONDS"), e.attempt)});
    if (e.kind == EventKind::Wake)
        out->push_back({log::Level::Notice,
                        fmt::format("{}: wake: magic packets for {} (attempt {}/{}, {} x {} ms apart)", s, mac_of(e),
                                    e.attempt, e.attempts, e.repeat, e.interval_ms)});
}
}  // namespace

std::string machine_move_line(const std::string& name, const char* from, const char* to, const char* reason,
                              const std::string& why) {
    return fmt::format("{}: proxy {} -> {} ({}: {})", name, from, to, reason, why);
}

std::vector<LogLine> event_lines(const Event& e) {
    std::vector<LogLine> out;
    if (e.subject_kind == SubjectKind::Machine) machine_lines(e, &out);
    else target_lines(e, &out);
    return out;
}

void LogSink::on_event(const Event& e) {
    for (const LogLine& l : event_lines(e)) log::write(l.level, l.text);
}

}  // namespace nw::core

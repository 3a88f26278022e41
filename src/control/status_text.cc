// control/status_text.cc — renders a parsed Status as the tables `netwakectl status` prints.
// Pure: builds a string; no I/O. The JSON side of the schema lives in protocol.cc.
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "control/protocol.h"

namespace nw::control {

namespace {

// Replaces control characters so a name cannot move the terminal cursor.
std::string printable(std::string_view s) {
    std::string o(s);
    for (char& c : o)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return o;
}

// A plain text table: columns padded to their widest cell, numbers right-aligned.
class Table {
   public:
    Table(std::vector<std::string> header, std::vector<bool> right)
        : header_(std::move(header)), right_(std::move(right)) {}
    void row(std::vector<std::string> r) { rows_.push_back(std::move(r)); }

    std::string str() const {
        std::vector<size_t> w(header_.size());
        for (size_t i = 0; i < header_.size(); ++i) w[i] = header_[i].size();
        for (const auto& r : rows_)
            for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
        std::string out;
        line(header_, w, &out);
        for (const auto& r : rows_) line(r, w, &out);
        return out;
    }

   private:
    void line(const std::vector<std::string>& r, const std::vector<size_t>& w, std::string* out) const {
        std::string l;
        for (size_t i = 0; i < r.size() && i < w.size(); ++i) {
            if (i) l += "  ";
            const bool last = i + 1 == r.size();
            if (right_[i])
                l += fmt::format("{:>{}}", r[i], w[i]);
            else
                l += last ? r[i] : fmt::format("{:<{}}", r[i], w[i]);
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        *out += l + "\n";
    }
    std::vector<std::string> header_;
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;
};

std::string exit_text(const std::optional<int>& e) {
    if (!e) return "-";
    if (*e < 0) return fmt::format("signal {}", -*e);
    return std::to_string(*e);
}

// The WAKE column: "waking (attempt 2)", "awake after 1.234 s", "wake_failed (3 attempts)", "-".
std::string wake_text(const TargetStatus& x) {
    if (x.wake.empty()) return "-";
    if (x.wake == "awake" && x.wake_s) return fmt::format("awake after {:.3f} s", *x.wake_s);
    if (x.wake == "waking") return fmt::format("waking (attempt {})", x.wake_attempt);
    if (x.wake == "wake_failed") return fmt::format("wake_failed ({} attempts)", x.wake_attempt);
    return printable(x.wake);
}
}  // namespace

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
    if (seconds < 1 && seconds > 0) return fmt::format("{}ms", static_cast<long long>(std::lround(seconds * 1000)));
    if (seconds < 10 && std::floor(seconds) != seconds) {
        const double r = std::round(seconds * 10) / 10;
        if (r != std::floor(r)) return fmt::format("{:.1f}s", r);
    }
    const auto t = static_cast<long long>(std::floor(std::min(seconds, 1e15)));
    const long long d = t / 86400, h = t % 86400 / 3600, m = t % 3600 / 60, s = t % 60;
    if (t < 60) return fmt::format("{}s", t);
    if (t < 3600) return s ? fmt::format("{}m{:02}s", m, s) : fmt::format("{}m", m);
    if (t < 86400) return m ? fmt::format("{}h{:02}m", h, m) : fmt::format("{}h", h);
    return h ? fmt::format("{}d{:02}h", d, h) : fmt::format("{}d", d);
}

std::string render_status_text(const Status& s) {
    std::string out = fmt::format("netwaked {}, pid {}, up {}\n", printable(s.version), s.pid,
                                  format_duration(static_cast<double>(s.uptime_s)));

    out += "\n";
    if (s.sensors.empty()) {
        out += "no sensors\n";
    } else {
        Table t({"SENSOR", "KIND", "UP", "PACKETS", "MATCHED", "DROPS", "QUEUE FULL", "TRUNCATED", "MALFORMED"},
                {false, false, false, true, true, true, true, true, true});
        for (const auto& x : s.sensors)
            t.row({printable(x.name), printable(x.kind), x.up ? "yes" : "NO", std::to_string(x.packets),
                   std::to_string(x.matched), std::to_string(x.drops), std::to_string(x.queue_full),
                   std::to_string(x.truncated), std::to_string(x.malformed)});
        out += t.str();
    }

    out += "\n";
    if (s.targets.empty()) {
        out += "no targets\n";
    } else {
        Table t({"TARGET", "STATE", "LAST PACKET", "TTL", "REMAINING", "HOOKS", "LAST EXIT", "WAKES", "SLEEP PROXY", "WAKE"},
                {false, false, true, true, true, true, true, true, false, false});
        for (const auto& x : s.targets) {
            std::string proxy = "-";
            if (x.proxy) {
                proxy = printable(x.proxy->state);
                for (size_t i = 0; i < x.proxy->addresses.size(); ++i)
                    proxy += (i ? ", " : " ") + printable(x.proxy->addresses[i]);
            }
            t.row({printable(x.name), printable(x.state),
                   x.idle_s ? format_duration(*x.idle_s) + " ago" : "never", format_duration(x.ttl_s),
                   x.remaining_s ? format_duration(*x.remaining_s) : "-", std::to_string(x.hook_runs),
                   exit_text(x.last_exit), std::to_string(x.wakes), proxy, wake_text(x)});
        }
        out += t.str();
    }

    out += fmt::format("\ncounters: malformed {}, truncated {}, rejected {}, dropped {}\n", s.counters.malformed,
                       s.counters.truncated, s.counters.rejected, s.counters.dropped);
    for (const auto& g : s.internals) {
        std::string line = printable(g.name) + ":";
        for (size_t i = 0; i < g.values.size(); ++i)
            line += fmt::format("{} {} {}", i ? "," : "", printable(g.values[i].first), g.values[i].second);
        out += "  " + line + "\n";
    }
    if (const auto& m = s.mqtt)
        out += fmt::format("mqtt: {} {} as {} (topic {}): connects {}, published {}, commands accepted {} refused {}, "
                           "queue drops {}\n",
                           printable(m->broker), m->connected ? "connected" : "DISCONNECTED", printable(m->client_id),
                           printable(m->topic), m->connects, m->published, m->accepted, m->refused, m->queue_drops);
    if (const auto& r = s.relay)
        out += fmt::format("wol_relay: accepted {}, rejected: not magic {}, unknown MAC {}, bad password {}, over rate {}\n",
                           r->accepted, r->not_magic, r->unknown_mac, r->bad_password, r->over_rate);
    return out;
}

}  // namespace nw::control

// config/load_relay.cc — the `wol_relay:` section (Wake-on-WAN relay, SPEC §7.2): sensors, UDP
// ports, allowed targets (each with wol), password policy and rate. Validation only.
#include <algorithm>

#include "config/sections.h"
#include "config/text.h"

namespace nw::config::detail {
namespace {

// "N/DURATION" (e.g. 1/10s, 3/1m).
void read_rate(Ctx& c, const Val& v, RelayConf* r) {
    const std::string s = v.node.IsScalar() ? v.node.Scalar() : "";
    const size_t slash = s.find('/');
    uint64_t n = 0;
    Duration per{};
    if (slash == std::string::npos || !parse_uint(s.substr(0, slash), 1000, &n) || n == 0 ||
        !parse_duration(s.substr(slash + 1), &per) || per < kSec || per > kDay) {
        c.error(v.mark, v.key + ": expected \"COUNT/DURATION\" (count 1-1000, duration 1s-1d) such as \"1/10s\", got " +
                            describe(v.node));
        return;
    }
    r->rate_count = uint32_t(n);
    r->rate_per = per;
}

void read_relay(Ctx& c, const Val& v, const Config& cfg, RelayConf* r) {
    MapReader m(c, v, "wol_relay entry", "", {"sensors", "ports", "allow", "password", "rate"});
    if (!m.ok()) return;
    m.require("allow");
    if (Val x = m.get("sensors"); x.present)
        for (const Val& e : read_list(c, x, true, "a list of sensor names")) {
            const int i = e.node.IsScalar() ? find_sensor(cfg, e.node.Scalar()) : -1;
            if (i < 0) c.error(e.mark, "sensors: unknown sensor " + describe(e.node) + " (known: " + sensor_names(cfg) + ")");
            else r->sensors.push_back(uint16_t(i));
        }
    if (Val x = m.get("ports"); x.present) {
        r->ports.clear();
        for (const Val& e : read_list(c, x, true, "a list of UDP ports")) {
            uint16_t p = 0;
            if (read_uint_as(c, e, 1, 65535, &p)) r->ports.push_back(p);
        }
        if (x.node.IsSequence() && x.node.size() == 0) c.error(x.mark, "ports: at least one port is needed");
    }
    if (Val x = m.get("allow"); x.present) {
        for (const Val& e : read_list(c, x, true, "a list of target names")) {
            const std::string n = e.node.IsScalar() ? e.node.Scalar() : "";
            auto t = std::find_if(cfg.targets.begin(), cfg.targets.end(), [&](const TargetConf& t) { return t.name == n; });
            if (t == cfg.targets.end()) c.error(e.mark, "allow: unknown target " + describe(e.node));
            else if (!t->wol) c.error(e.mark, "allow: target " + quote(n) + " has no wol section");
            else r->allow.push_back(n);
        }
        if (x.node.IsSequence() && r->allow.empty()) c.error(x.mark, "allow: at least one target is needed");
    }
    if (Val x = m.get("password"); x.present) {
        const std::string s = x.node.IsScalar() ? x.node.Scalar() : "";
        if (s == "required") r->password = RelayPassword::Required;
        else if (s == "optional") r->password = RelayPassword::Optional;
        else if (s == "none") r->password = RelayPassword::None;
        else c.error(x.mark, x.key + ": expected required, optional or none, got " + describe(x.node));
    }
    if (Val x = m.get("rate"); x.present) read_rate(c, x, r);
    if (r->password == RelayPassword::Required)
        for (const std::string& n : r->allow)
            for (const auto& t : cfg.targets)
                if (t.name == n && t.wol && t.wol->password.empty())
                    c.error(m.get("allow").mark, "allow: target " + quote(n) +
                                                     " has no wol.password, but password is required");
}

}  // namespace

void read_wol_relay(Ctx& c, const Val& v, Config* cfg) {
    for (const Val& item : read_list(c, v, false, "a list of relay rules")) {
        RelayConf r;
        read_relay(c, item, *cfg, &r);
        cfg->wol_relay.push_back(std::move(r));
    }
}

}  // namespace nw::config::detail

// config/load_target.cc — `defaults:` and `targets:` with their match/keepalive rules,
// trigger, timers and hooks (SPEC §3, §4). Validation only; never interprets packets.
#include <algorithm>
#include <unordered_set>

#include "config/sections.h"
#include "config/text.h"

namespace nw::config::detail {
namespace {

// Keys a target may set and the subset `defaults:` may set.
#define NW_TARGET_COMMON_KEYS \
    "sensors", "keepalive", "trigger", "min_active", "ttl", "hook", "hook_timeout", "wol", "sleep_proxy"

void read_sensor_refs(Ctx& c, const Val& v, const Config& cfg, std::vector<std::string>* out) {
    std::vector<std::string> names;
    for (const Val& e : read_list(c, v, true, "a list of sensor names")) {
        std::string n;
        if (!read_string(c, e, &n, false)) continue;
        if (find_sensor(cfg, n) < 0) {
            c.error(e.mark, e.key + ": unknown sensor " + quote(n) + " (defined: " + sensor_names(cfg) + ")");
        } else if (std::find(names.begin(), names.end(), n) != names.end()) {
            c.error(e.mark, e.key + ": sensor " + quote(n) + " listed twice");
        } else {
            names.push_back(n);
        }
    }
    *out = std::move(names);
}

bool proto_has_ports(Proto p) { return p == Proto::Any || p == Proto::Tcp || p == Proto::Udp; }

// A rule's "where" fields: sensor, NFLOG prefix and interfaces (see read_rule).
void read_rule_where(Ctx& c, MapReader& m, const Config& cfg, const std::vector<std::string>* tsensors, Rule* r) {
    if (Val s = m.get("sensor"); s.present) {
        std::string name;
        if (read_string(c, s, &name, false)) {
            r->sensor = c.strings.get(name);
            if (find_sensor(cfg, name) < 0)
                c.error(s.mark, "sensor: unknown sensor " + quote(name) + " (defined: " + sensor_names(cfg) + ")");
            else if (tsensors && !tsensors->empty() && std::find(tsensors->begin(), tsensors->end(), name) == tsensors->end())
                c.error(s.mark, "sensor: " + quote(name) + " is not among the target's sensors");
        }
    }
    if (Val p = m.get("prefix"); p.present) {
        std::string s;
        if (read_string(c, p, &s, false)) {
            if (s.size() > 63) c.error(p.mark, "prefix: " + quote(s) + " is longer than 63 bytes");
            else r->prefix = c.strings.get(s);
        }
    }
    for (auto [key, out] : {std::pair{"in_iface", &r->in_iface}, std::pair{"out_iface", &r->out_iface}}) {
        std::string name;
        if (Val i = m.get(key); i.present && read_ifname(c, i, &name)) *out = c.strings.get(name);
    }
}

// One match/keepalive rule. `tsensors`: the target's sensor list (empty: all), or null when
// the rule sits in `defaults:` and the target's list is not known yet.
void read_rule(Ctx& c, const Val& v, const Config& cfg, const std::vector<std::string>* tsensors, Rule* r) {
    MapReader m(c, v, "rule", "", {"sensor", "prefix", "in_iface", "out_iface", "proto", "src", "dst", "src_port",
                                   "dst_port", "tcp_flags", "src_mac", "vlan"});
    if (!m.ok()) return;
    read_rule_where(c, m, cfg, tsensors, r);
    if (Val p = m.get("proto"); p.present) {
        if (!p.node.IsScalar() || !parse_proto(p.node.Scalar(), &r->proto))
            c.error(p.mark, "proto: expected one of tcp, udp, icmp, icmp6, arp, any, got " + describe(p.node));
    }
    for (const char* key : {"src", "dst"}) {
        Val a = m.get(key);
        if (!a.present) continue;
        List<Cidr>& list = key[0] == 's' ? r->src : r->dst;
        for (const Val& e : read_list(c, a, true, "an address, a CIDR or a list of them")) {
            Cidr x;
            if (read_cidr(c, e, true, &x)) list.push_back(x);
        }
    }
    for (const char* key : {"src_port", "dst_port"}) {
        Val p = m.get(key);
        if (!p.present) continue;
        std::vector<PortRange> ports;
        read_port_list(c, p, true, &ports);
        (key[0] == 's' ? r->src_port : r->dst_port) = ports;
        if (!proto_has_ports(r->proto))
            c.error(p.mark, std::string(key) + ": ports need proto tcp, udp or any, got proto " + proto_name(r->proto));
    }
    if (Val f = m.get("tcp_flags"); f.present) {
        TcpFlags tf;
        if (read_tcp_flags(c, f, &tf)) r->tcp_flags = tf;
        if (r->proto != Proto::Any && r->proto != Proto::Tcp)
            c.error(f.mark, std::string("tcp_flags: needs proto tcp or any, got proto ") + proto_name(r->proto));
    }
    if (Val s = m.get("src_mac"); s.present) {
        for (const Val& e : read_list(c, s, true, "a MAC address or a list of them")) {
            Mac6 x;
            if (read_mac(c, e, true, false, &x)) r->src_mac.push_back(x);
        }
    }
    if (Val x = m.get("vlan"); x.present) {
        uint16_t vid = 0;
        if (read_uint_as(c, x, 0, 4095, &vid)) r->vlan = vid;
    }
}

void read_rules(Ctx& c, const Val& v, const Config& cfg, const std::vector<std::string>* tsensors,
                std::vector<Rule>* out) {
    out->clear();
    for (const Val& e : read_list(c, v, false, "a list of rules")) {
        Rule r;
        read_rule(c, e, cfg, tsensors, &r);
        out->push_back(std::move(r));
    }
}

void read_trigger(Ctx& c, const Val& v, Trigger* t) {
    MapReader m(c, v, "trigger", "trigger", {"packets", "within"});
    if (!m.ok()) return;
    if (Val p = m.get("packets"); p.present) read_uint_as(c, p, 1, 1000000, &t->packets);
    if (Val w = m.get("within"); w.present) read_duration(c, w, kMs, kDay, &t->within);
}

// Fields shared by `defaults:` and a target. `m` already checked the key set.
void read_common(Ctx& c, const MapReader& m, Place place, const Config& cfg, const Defaults* defs, TargetConf* t) {
    if (Val s = m.get("sensors"); s.present) read_sensor_refs(c, s, cfg, &t->sensors);
    if (Val k = m.get("keepalive"); k.present) {
        std::vector<Rule> rules;
        read_rules(c, k, cfg, place == Place::Target ? &t->sensors : nullptr, &rules);
        t->keepalive = std::move(rules);
    }
    if (Val x = m.get("trigger"); x.present) read_trigger(c, x, &t->trigger);
    if (Val x = m.get("min_active"); x.present) read_duration(c, x, Duration{0}, 30 * kDay, &t->min_active);
    if (Val x = m.get("ttl"); x.present) read_duration(c, x, kSec, 30 * kDay, &t->ttl);
    if (Val x = m.get("hook"); x.present) {
        std::string h;
        if (read_path(c, x, &h, true)) {
            check_hook(c, x, h);
            t->hook = c.strings.get(h);
        }
    }
    if (Val x = m.get("hook_timeout"); x.present) read_duration(c, x, kSec, kDay, &t->hook_timeout);
    if (place == Place::Target) {
        if (Val w = m.get("wol"); w.present) {
            WolConf wc;
            read_wol(c, w, Place::Target, defs->wol, &wc);
            t->wol = std::move(wc);
        }
        if (Val s = m.get("sleep_proxy"); s.present) {
            SleepProxyConf sp;
            read_sleep_proxy(c, s, Place::Target, defs->sleep_proxy, t->wol ? t->wol->interface : "", &sp);
            t->sleep_proxy = std::move(sp);
            if (!t->wol) c.error(s.mark, "sleep_proxy: needs a \"wol\" block in the same target (the machine's MAC)");
        }
    }
}

}  // namespace

void read_defaults(Ctx& c, const Val& v, const Config& cfg, Defaults* out) {
    MapReader m(c, v, "defaults", "", {NW_TARGET_COMMON_KEYS});
    if (!m.ok()) return;
    read_common(c, m, Place::Defaults, cfg, nullptr, &out->target);
    if (Val w = m.get("wol"); w.present) read_wol(c, w, Place::Defaults, WolConf{}, &out->wol);
    if (Val s = m.get("sleep_proxy"); s.present)
        read_sleep_proxy(c, s, Place::Defaults, SleepProxyConf{}, "", &out->sleep_proxy);
}

void read_targets(Ctx& c, const Val& v, const Defaults& d, Config* cfg, std::vector<TargetInfo>* info,
                  bool may_be_empty) {
    std::vector<Val> items = read_list(c, v, false, "a list of targets");
    if (items.empty() && v.node.IsSequence() && !may_be_empty)
        c.error(v.mark, "targets: at least one target is needed (unless a register section is given)");
    struct Held {
        packet::Addr addr;
        std::string target;
    };
    std::vector<Held> held;  // sleep-proxy addresses, unique across targets
    std::unordered_set<std::string> names;
    cfg->targets.reserve(cfg->targets.size() + items.size());  // no doubling: 10,000 targets peak lower
    info->reserve(info->size() + items.size());
    for (const Val& item : items) {
        TargetConf t = d.target;
        TargetInfo ti;
        ti.mark = item.mark;
        MapReader m(c, item, "target", "", {"name", "match", NW_TARGET_COMMON_KEYS});
        if (!m.ok()) continue;
        m.require("name");
        if (Val n = m.get("name"); n.present && read_string(c, n, &t.name, false)) {
            if (!valid_target_name(t.name)) {
                c.error(n.mark, "name: " + quote(t.name) + " is not a valid target name ([A-Za-z0-9_.-], 1-64 characters)");
            }
            if (!names.insert(t.name).second) c.error(n.mark, "name: duplicate target name " + quote(t.name));
        }
        // sensors first: rules are checked against them.
        read_common(c, m, Place::Target, *cfg, &d, &t);
        if (Val x = m.get("match"); x.present) {
            read_rules(c, x, *cfg, &t.sensors, &t.match);
            ti.has_match = !t.match.empty();
        }
        resolve_verify(&t);
        if (t.sleep_proxy) {
            for (const ProxyAddress& pa : t.sleep_proxy->addresses) {
                for (const Held& h : held)
                    if (h.addr == pa.addr)
                        c.error(m.get("sleep_proxy").mark, "sleep_proxy.addresses: " + pa.addr.str() +
                                                               " is already proxied for target " + quote(h.target));
                held.push_back({pa.addr, t.name});
            }
        }
        cfg->targets.push_back(std::move(t));
        info->push_back(ti);
    }
}

}  // namespace nw::config::detail

// config/load_actions.cc — `wol:`, `sleep_proxy:`, `register:` and `knock:` blocks (SPEC §3,
// §7–§10). Validation only; opens no sockets (key files are only stat'ed and read).
#include <algorithm>

#include "config/sections.h"
#include "config/text.h"
#include "packet/hostaddr.h"
#include "packet/parse.h"
#include "packet/wol.h"

namespace nw::config::detail {
namespace {

bool read_host_address(Ctx& c, const Val& v, packet::Addr* out) {
    if (!v.node.IsScalar() || !packet::parse_addr(v.node.Scalar(), out, nullptr)) {
        c.error(v.mark, v.key + ": expected an IP address, got " + describe(v.node));
        return false;
    }
    if (const std::string why = packet::unusable_address(*out); !why.empty()) {
        c.error(v.mark, v.key + ": " + quote(v.node.Scalar()) + " " + why);
        return false;
    }
    return true;
}

// The host side of the rule (LoadOptions::host_addrs): not the host's own, on-link on `ifname`.
void check_on_host(Ctx& c, const Val& v, const packet::Addr& a, const std::string& ifname) {
    if (!c.opt.host_addrs || ifname.empty()) return;
    if (!c.host) c.host = c.opt.host_addrs();
    bool own = false;
    for (const auto& [name, list] : *c.host)
        for (const auto& x : list) own = own || x.addr == a;
    auto it = c.host->find(ifname);
    const std::vector<packet::IfAddr> none;
    const std::string why = packet::host_address_problem(a, own, ifname, it == c.host->end() ? none : it->second,
                                                         packet::OnLink::IfKnown);
    if (!why.empty()) c.error(v.mark, v.key + ": " + quote(a.str()) + " " + why);
}

// `wol.verify`: true | false | {address, timeout, attempts, grace} (SPEC §7.1).
void read_verify(Ctx& c, const Val& v, Place place, WolVerify* out) {
    if (v.node.IsScalar()) {
        bool on = false;
        if (read_bool(c, v, &on)) out->mode = on ? WolVerify::Mode::On : WolVerify::Mode::Off;
        return;
    }
    MapReader m(c, v, "wol.verify", "wol.verify", {"address", "timeout", "attempts", "grace"});
    if (!m.ok()) return;
    out->mode = WolVerify::Mode::On;
    if (Val x = m.get("address"); x.present) {
        packet::Addr a;
        if (place != Place::Target) c.error(x.mark, x.key + ": not allowed in defaults or register (set it per target)");
        else if (read_host_address(c, x, &a)) out->address = a;
    }
    if (Val x = m.get("timeout"); x.present) read_duration(c, x, 100 * kMs, kHour, &out->timeout);
    if (Val x = m.get("attempts"); x.present) read_uint_as(c, x, 1, 100, &out->attempts);
    if (Val x = m.get("grace"); x.present) read_duration(c, x, Duration{0}, kDay, &out->grace);
}

}  // namespace

void resolve_verify(TargetConf* t) {
    if (!t->wol) return;
    WolVerify& v = t->wol->verify;
    if (!v.address && t->sleep_proxy && !t->sleep_proxy->addresses.empty())
        v.address = t->sleep_proxy->addresses.front().addr;
    if (!v.address && t->match.size() == 1 && t->match[0].dst.size() == 1) {
        const Cidr& d = t->match[0].dst[0];
        if (!d.negate && d.prefix_len == 128) v.address = d.addr;
    }
    v.on = v.mode == WolVerify::Mode::On || (v.mode == WolVerify::Mode::Auto && v.address.has_value());
    v.mode = v.on ? WolVerify::Mode::On : WolVerify::Mode::Off;  // resolved: --check prints what runs
}

namespace {
// wol.method: ethernet, udp or a list of them.
void read_wol_method(Ctx& c, const Val& x, WolConf* out) {
    uint8_t bits = 0;
    std::vector<Val> items = read_list(c, x, true, "ethernet, udp or a list of them");
    for (const Val& e : items) {
        if (e.node.IsScalar() && e.node.Scalar() == "ethernet") bits |= uint8_t(WolMethod::Ethernet);
        else if (e.node.IsScalar() && e.node.Scalar() == "udp") bits |= uint8_t(WolMethod::Udp);
        else c.error(e.mark, e.key + ": expected ethernet or udp, got " + describe(e.node));
    }
    if (x.node.IsSequence() && items.empty()) c.error(x.mark, x.key + ": at least one method is needed");
    if (bits) out->methods = bits;
}

// wol.udp_to: "address:port" (port 9 if omitted), kept normalized.
void read_udp_to(Ctx& c, const Val& x, WolConf* out) {
    packet::Addr host;
    std::string scope, err;
    uint16_t port = 0;
    if (!x.node.IsScalar()) c.error(x.mark, x.key + ": expected \"address:port\", got " + describe(x.node));
    else if (!parse_hostport(x.node.Scalar(), 9, &host, &scope, &port, &err))
        c.error(x.mark, x.key + ": " + err + ", got " + quote(x.node.Scalar()));
    else out->udp_to = format_hostport(host, scope, port);
}
}  // namespace

void read_wol(Ctx& c, const Val& v, Place place, const WolConf& base, WolConf* out) {
    *out = base;
    MapReader m(c, v, "wol", "wol",
                {"mac", "interface", "method", "ethernet_to", "udp_to", "password", "repeat", "interval", "cooldown",
                 "verify"});
    if (!m.ok()) return;
    if (Val x = m.get("mac"); x.present) {
        if (place != Place::Target) {
            c.error(x.mark, place == Place::Defaults ? "wol.mac: not allowed in defaults (set it per target)"
                                                     : "wol.mac: not allowed in register (each machine registers its own)");
        } else {
            Mac6 mac;
            if (read_mac(c, x, false, true, &mac)) out->mac = mac.mac;
        }
    } else if (place == Place::Target) {
        m.require("mac");
    }
    if (Val x = m.get("interface"); x.present) read_ifname(c, x, &out->interface, true);  // "": none (udp only)
    if (Val x = m.get("method"); x.present) read_wol_method(c, x, out);
    if (Val x = m.get("ethernet_to"); x.present) {
        std::string s = x.node.IsScalar() ? x.node.Scalar() : "";
        if (s == "both") out->ethernet_to = EthernetTo::Both;
        else if (s == "unicast") out->ethernet_to = EthernetTo::Unicast;
        else if (s == "broadcast") out->ethernet_to = EthernetTo::Broadcast;
        else c.error(x.mark, x.key + ": expected both, unicast or broadcast, got " + describe(x.node));
    }
    if (Val x = m.get("udp_to"); x.present) read_udp_to(c, x, out);
    if (Val x = m.get("password"); x.present) {
        std::vector<uint8_t> pw;
        if (x.node.IsScalar() && x.node.Scalar().empty()) out->password.clear();
        else if (x.node.IsScalar() && packet::parse_password(x.node.Scalar(), &pw, nullptr)) out->password = pw;
        else
            c.error(x.mark, x.key + ": expected a SecureOn password of 6 bytes (\"00:11:22:33:44:55\") or 4 bytes "
                                    "(\"192.168.1.1\"), got " + describe(x.node));
    }
    if (Val x = m.get("repeat"); x.present) read_uint_as(c, x, 1, 100, &out->repeat);
    if (Val x = m.get("interval"); x.present) read_duration(c, x, 10 * kMs, kMin, &out->interval);
    if (Val x = m.get("cooldown"); x.present) read_duration(c, x, Duration{0}, kDay, &out->cooldown);
    if (Val x = m.get("verify"); x.present) read_verify(c, x, place, &out->verify);
    if (place == Place::Target && (out->methods & uint8_t(WolMethod::Ethernet)) && out->interface.empty())
        c.error(m.mark(), "wol: missing key \"interface\" (needed for method ethernet)");
}

namespace {
// sleep_proxy.addresses: each an address, or {address, ports}; on `ifname`, not the host's own.
void read_proxy_addresses(Ctx& c, const Val& x, const std::string& ifname, SleepProxyConf* out) {
    for (const Val& e : read_list(c, x, true, "a list of addresses")) {
        ProxyAddress pa;
        if (e.node.IsMap()) {
            MapReader am(c, e, "sleep_proxy address", "sleep_proxy.addresses", {"address", "ports"});
            am.require("address");
            if (Val a = am.get("address"); a.present) {
                if (!read_host_address(c, a, &pa.addr)) continue;
                check_on_host(c, a, pa.addr, ifname);
            }
            if (Val p = am.get("ports"); p.present) read_port_list(c, p, false, &pa.ports);
            if (!am.has("address")) continue;
        } else if (!read_host_address(c, e, &pa.addr)) {
            continue;
        } else {
            check_on_host(c, e, pa.addr, ifname);
        }
        bool dup = false;
        for (const ProxyAddress& o : out->addresses) dup = dup || o.addr == pa.addr;
        if (dup) c.error(e.mark, e.key + ": " + pa.addr.str() + " listed twice");
        else out->addresses.push_back(std::move(pa));
    }
}
}  // namespace

void read_sleep_proxy(Ctx& c, const Val& v, Place place, const SleepProxyConf& base,
                      const std::string& fallback_interface, SleepProxyConf* out) {
    *out = base;
    // Register allows only the timing keys (interface and addresses come with each registration).
    MapReader m = place == Place::Register
                      ? MapReader(c, v, "sleep_proxy", "sleep_proxy",
                                  {"probe_interval", "probe_misses", "shutdown_timeout", "wake_attempts",
                                   "wake_interval", "keep"})
                      : MapReader(c, v, "sleep_proxy", "sleep_proxy",
                                  {"interface", "addresses", "ports", "probe_interval", "probe_misses",
                                   "shutdown_timeout", "wake_attempts", "wake_interval", "keep"});
    if (!m.ok()) return;
    if (Val x = m.get("interface"); x.present) read_ifname(c, x, &out->interface);
    if (Val x = m.get("ports"); x.present) read_port_list(c, x, false, &out->ports);
    if (Val x = m.get("addresses"); x.present) {
        if (place == Place::Defaults) {
            c.error(x.mark, "sleep_proxy.addresses: not allowed in defaults (set them per target)");
        } else {
            // A target's interface: its own, the defaults', else its wol's.
            read_proxy_addresses(c, x, !out->interface.empty() ? out->interface : fallback_interface, out);
        }
    }
    if (Val x = m.get("probe_interval"); x.present) read_duration(c, x, 100 * kMs, kHour, &out->probe_interval);
    if (Val x = m.get("probe_misses"); x.present) read_uint_as(c, x, 1, 100, &out->probe_misses);
    if (Val x = m.get("shutdown_timeout"); x.present) read_duration(c, x, kSec, kDay, &out->shutdown_timeout);
    if (Val x = m.get("wake_attempts"); x.present) read_uint_as(c, x, 1, 100, &out->wake_attempts);
    if (Val x = m.get("wake_interval"); x.present) read_duration(c, x, kSec, kHour, &out->wake_interval);
    if (Val x = m.get("keep"); x.present) read_bool(c, x, &out->keep);
    if (place == Place::Target) {
        if (out->interface.empty()) out->interface = fallback_interface;
        if (out->interface.empty())
            c.error(m.mark(), "sleep_proxy: missing key \"interface\" (and the target's wol has none either)");
        if (out->addresses.empty() && !m.has("addresses"))
            c.error(m.mark(), "sleep_proxy: missing key \"addresses\" (at least one address is needed)");
        else if (m.get("addresses").node.IsSequence() && m.get("addresses").node.size() == 0)
            c.error(m.get("addresses").mark, "sleep_proxy.addresses: at least one address is needed");
    }
    if (place == Place::Register) {  // per-registration fields never come from defaults
        out->interface.clear();
        out->addresses.clear();
        out->ports.clear();
    }
}

void read_register(Ctx& c, const Val& v, const Defaults& d, RegisterConf* out) {
    MapReader m(c, v, "register", "register",
                {"listen", "interface", "allow", "any_mac", "sleep_proxy", "hook", "hook_timeout", "wol"});
    if (!m.ok()) return;
    m.require("listen");
    m.require("interface");
    m.require("allow");
    out->sleep_proxy = d.sleep_proxy;
    out->sleep_proxy.interface.clear();
    out->sleep_proxy.ports.clear();
    out->hook = d.target.hook;
    out->hook_timeout = d.target.hook_timeout;
    if (Val x = m.get("listen"); x.present) {
        packet::Addr host;
        std::string scope, err;
        uint16_t port = 0;
        if (!x.node.IsScalar()) {
            c.error(x.mark, x.key + ": expected \"address:port\", got " + describe(x.node));
        } else if (!parse_hostport(x.node.Scalar(), 13717, &host, &scope, &port, &err)) {
            c.error(x.mark, x.key + ": " + err + ", got " + quote(x.node.Scalar()));
        } else {
            out->listen = format_hostport(host, scope, port);
        }
    }
    if (Val x = m.get("interface"); x.present) read_ifname(c, x, &out->interface);
    if (Val x = m.get("allow"); x.present) {
        for (const Val& e : read_list(c, x, true, "a list of networks")) {
            Cidr n;
            if (read_cidr(c, e, false, &n)) out->allow.push_back(n);
        }
        if (x.node.IsSequence() && x.node.size() == 0)
            c.error(x.mark, "register.allow: at least one network is needed");
    }
    if (Val x = m.get("any_mac"); x.present) read_bool(c, x, &out->any_mac);
    if (Val x = m.get("sleep_proxy"); x.present)
        read_sleep_proxy(c, x, Place::Register, out->sleep_proxy, "", &out->sleep_proxy);
    if (Val x = m.get("hook"); x.present && read_path(c, x, &out->hook, true)) check_hook(c, x, out->hook);
    if (Val x = m.get("hook_timeout"); x.present) read_duration(c, x, kSec, kDay, &out->hook_timeout);
    WolConf w = d.wol;
    if (Val x = m.get("wol"); x.present) read_wol(c, x, Place::Register, d.wol, &w);
    w.mac = packet::Mac{};
    if (w.interface.empty()) w.interface = out->interface;
    out->wol = w;
}

namespace {

bool read_step(Ctx& c, const Val& v, KnockStep* out) {
    // "tcp/7000", "udp/9000", "7000" (tcp), "7000:udp" (knockd style).
    std::string s = v.node.IsScalar() ? v.node.Scalar() : "";
    std::string_view body = s, proto = "tcp";
    if (size_t p = body.find('/'); p != std::string_view::npos) {
        proto = body.substr(0, p);
        body = body.substr(p + 1);
    } else if (size_t q = body.find(':'); q != std::string_view::npos) {
        proto = body.substr(q + 1);
        body = body.substr(0, q);
    }
    uint64_t port = 0;
    if (!v.node.IsScalar() || (proto != "tcp" && proto != "udp") || !parse_uint(body, 65535, &port) || port == 0) {
        c.error(v.mark, v.key + ": expected \"tcp/PORT\" or \"udp/PORT\" (port 1-65535), got " + describe(v.node));
        return false;
    }
    out->proto = proto == "tcp" ? Proto::Tcp : Proto::Udp;
    out->port = uint16_t(port);
    return true;
}

void read_knock(Ctx& c, const Val& v, const Config& cfg, KnockConf* k) {
    MapReader m(c, v, "knock", "", {"name", "target", "sequence", "timeout", "tcp_flags", "spa"});
    if (!m.ok()) return;
    m.require("name");
    m.require("target");
    if (Val x = m.get("name"); x.present && read_string(c, x, &k->name, false) && !valid_target_name(k->name))
        c.error(x.mark, "name: " + quote(k->name) + " is not a valid knock name ([A-Za-z0-9_.-], 1-64 characters)");
    if (Val x = m.get("target"); x.present && read_string(c, x, &k->target, false)) {
        bool found = std::any_of(cfg.targets.begin(), cfg.targets.end(),
                                 [&](const TargetConf& t) { return t.name == k->target; });
        if (!found) c.error(x.mark, "target: unknown target " + quote(k->target));
    }
    if (m.has("sequence") == m.has("spa")) c.error(m.mark(), "knock: needs exactly one of \"sequence\" or \"spa\"");
    if (Val x = m.get("sequence"); x.present) {
        std::vector<Val> items = read_list(c, x, false, "a list such as [tcp/7000, udp/8000]");
        for (const Val& e : items) {
            KnockStep st;
            if (read_step(c, e, &st)) k->sequence.push_back(st);
        }
        if (x.node.IsSequence() && items.empty()) c.error(x.mark, "sequence: at least one step is needed");
        if (items.size() > 64) c.error(x.mark, "sequence: more than 64 steps");
        k->tcp_flags = TcpFlags{uint8_t(0x02 | 0x10), 0x02};  // syn,!ack
    }
    if (Val x = m.get("timeout"); x.present) {
        if (m.has("spa")) c.error(x.mark, "timeout: only for sequences (spa uses spa.window)");
        read_duration(c, x, 100 * kMs, kHour, &k->timeout);
    }
    if (Val x = m.get("tcp_flags"); x.present) {
        TcpFlags f;
        if (m.has("spa")) c.error(x.mark, "tcp_flags: only for sequences");
        else if (read_tcp_flags(c, x, &f)) k->tcp_flags = f;
    }
    if (Val x = m.get("spa"); x.present) {
        SpaConf spa;
        MapReader sm(c, x, "spa", "spa", {"port", "key_file", "window"});
        if (sm.ok()) {
            sm.require("key_file");
            if (Val p = sm.get("port"); p.present) read_uint_as(c, p, 1, 65535, &spa.port);
            if (Val f = sm.get("key_file"); f.present && read_path(c, f, &spa.key_file, false))
                check_key_file(c, f, spa.key_file);
            if (Val w = sm.get("window"); w.present) read_duration(c, w, kSec, kDay, &spa.window);
        }
        k->spa = spa;
    }
}

}  // namespace

void read_knocks(Ctx& c, const Val& v, Config* cfg) {
    for (const Val& item : read_list(c, v, false, "a list of knocks")) {
        KnockConf k;
        read_knock(c, item, *cfg, &k);
        for (const KnockConf& o : cfg->knocks)
            if (!k.name.empty() && o.name == k.name) c.error(item.mark, "knock: duplicate knock name " + quote(k.name));
        cfg->knocks.push_back(std::move(k));
    }
}

}  // namespace nw::config::detail

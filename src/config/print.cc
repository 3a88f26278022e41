// config/print.cc — writes a Config as normalized YAML (see print.h). Pure text generation;
// every value is written in the form the loader reads back to the same model.
#include "config/print.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "config/text.h"
#include "packet/parse.h"

namespace nw::config {
namespace {

bool special_word(std::string_view s) {
    static const char* const words[] = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"};
    std::string low;
    for (char ch : s) low += char(std::tolower(static_cast<unsigned char>(ch)));
    for (const char* w : words)
        if (low == w) return true;
    return false;
}

// A YAML scalar: plain when unambiguous, double-quoted otherwise.
std::string sc(std::string_view s) {
    bool plain = !s.empty() && !special_word(s) &&
                 (std::isalnum(static_cast<unsigned char>(s[0])) || s[0] == '/' || s[0] == '_');
    for (char ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && (ch == 0 || !std::strchr("_./+@-", ch))) plain = false;
    if (plain) return std::string(s);
    std::string r = "\"";
    for (unsigned char ch : s) {
        switch (ch) {
            case '"': r += "\\\""; break;
            case '\\': r += "\\\\"; break;
            case '\n': r += "\\n"; break;
            case '\t': r += "\\t"; break;
            default:
                if (ch < 0x20 || ch == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", ch);
                    r += buf;
                } else {
                    r += char(ch);
                }
        }
    }
    return r + "\"";
}

std::string cidr(const Cidr& c) { return packet::cidr_str(packet::Cidr{c.addr, c.prefix_len, c.negate}); }

template <class V, class F>
std::string flow(const V& v, F each) {  // a std::vector or a List
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + sc(each(v[i]));
    return s + "]";
}

std::string ports(std::span<const PortRange> v) {
    return flow(v, [](const PortRange& p) { return format_port_range(p); });
}
std::string cidrs(std::span<const Cidr> v) { return flow(v, cidr); }
std::string dur(Duration d) { return format_duration(d); }
const char* yn(bool b) { return b ? "true" : "false"; }

struct Out {
    std::string s;
    void line(int indent, const std::string& text) {
        s.append(size_t(indent), ' ');
        s += text;
        s += '\n';
    }
};

void print_rules(Out& o, int ind, const char* key, const std::vector<Rule>& rules) {
    if (rules.empty()) {
        o.line(ind, std::string(key) + ": []");
        return;
    }
    o.line(ind, std::string(key) + ":");
    for (const Rule& r : rules) {
        std::vector<std::string> f;
        if (!r.sensor.empty()) f.push_back("sensor: " + sc(r.sensor));
        if (r.prefix) f.push_back("prefix: " + sc(*r.prefix));
        if (!r.in_iface.empty()) f.push_back("in_iface: " + sc(r.in_iface));
        if (!r.out_iface.empty()) f.push_back("out_iface: " + sc(r.out_iface));
        if (r.proto != Proto::Any) f.push_back(std::string("proto: ") + proto_name(r.proto));
        if (!r.src.empty()) f.push_back("src: " + cidrs(r.src));
        if (!r.dst.empty()) f.push_back("dst: " + cidrs(r.dst));
        if (!r.src_port.empty()) f.push_back("src_port: " + ports(r.src_port));
        if (!r.dst_port.empty()) f.push_back("dst_port: " + ports(r.dst_port));
        if (r.tcp_flags) f.push_back("tcp_flags: " + sc(format_tcp_flags(*r.tcp_flags)));
        if (!r.src_mac.empty())
            f.push_back("src_mac: " + flow(r.src_mac, [](const Mac6& m) {
                            return (m.negate ? "!" : "") + packet::mac_str(m.mac);
                        }));
        if (r.vlan) f.push_back("vlan: " + std::to_string(*r.vlan));
        if (f.empty()) {
            o.line(ind + 2, "- {}");
            continue;
        }
        for (size_t i = 0; i < f.size(); ++i) o.line(ind + 2, (i ? "  " : "- ") + f[i]);
    }
}

void print_wol(Out& o, int ind, const WolConf& w, bool with_mac) {
    o.line(ind, "wol:");
    if (with_mac) o.line(ind + 2, "mac: " + sc(packet::mac_str(w.mac)));
    o.line(ind + 2, "interface: " + sc(w.interface));
    std::string m;
    if (w.methods & uint8_t(WolMethod::Ethernet)) m += "ethernet";
    if (w.methods & uint8_t(WolMethod::Udp)) m += std::string(m.empty() ? "" : ", ") + "udp";
    o.line(ind + 2, "method: [" + m + "]");
    const char* to = w.ethernet_to == EthernetTo::Unicast ? "unicast"
                     : w.ethernet_to == EthernetTo::Broadcast ? "broadcast" : "both";
    o.line(ind + 2, std::string("ethernet_to: ") + to);
    o.line(ind + 2, "udp_to: " + sc(w.udp_to));
    o.line(ind + 2, "password: " + sc(format_password(w.password)));
    o.line(ind + 2, "repeat: " + std::to_string(w.repeat));
    o.line(ind + 2, "interval: " + dur(w.interval));
    o.line(ind + 2, "cooldown: " + dur(w.cooldown));
    const WolVerify& v = w.verify;
    if (v.mode == WolVerify::Mode::Auto) return;  // defaults/register: only what was set
    if (v.mode == WolVerify::Mode::Off) {
        o.line(ind + 2, "verify: false");
        return;
    }
    o.line(ind + 2, "verify:");
    if (v.address) o.line(ind + 4, "address: " + sc(v.address->str()));
    o.line(ind + 4, "timeout: " + dur(v.timeout));
    o.line(ind + 4, "attempts: " + std::to_string(v.attempts));
    o.line(ind + 4, "grace: " + dur(v.grace));
}

void print_proxy_timing(Out& o, int ind, const SleepProxyConf& p) {
    o.line(ind, "probe_interval: " + dur(p.probe_interval));
    o.line(ind, "probe_misses: " + std::to_string(p.probe_misses));
    o.line(ind, "shutdown_timeout: " + dur(p.shutdown_timeout));
    o.line(ind, "wake_attempts: " + std::to_string(p.wake_attempts));
    o.line(ind, "wake_interval: " + dur(p.wake_interval));
    o.line(ind, std::string("keep: ") + yn(p.keep));
}

void print_sleep_proxy(Out& o, int ind, const SleepProxyConf& p) {
    o.line(ind, "sleep_proxy:");
    o.line(ind + 2, "interface: " + sc(p.interface));
    o.line(ind + 2, "addresses:");
    for (const ProxyAddress& a : p.addresses) {
        if (a.ports.empty()) o.line(ind + 4, "- " + sc(a.addr.str()));
        else o.line(ind + 4, "- {address: " + sc(a.addr.str()) + ", ports: " + ports(a.ports) + "}");
    }
    o.line(ind + 2, "ports: " + ports(p.ports));
    print_proxy_timing(o, ind + 2, p);
}

void print_target(Out& o, const TargetConf& t) {
    o.line(2, "- name: " + sc(t.name));
    o.line(4, "sensors: " + flow(t.sensors, [](const std::string& s) { return s; }));
    print_rules(o, 4, "match", t.match);
    if (t.keepalive) print_rules(o, 4, "keepalive", *t.keepalive);
    else o.line(4, "# keepalive: same as match");
    o.line(4, "trigger: {packets: " + std::to_string(t.trigger.packets) + ", within: " + dur(t.trigger.within) + "}");
    o.line(4, "min_active: " + dur(t.min_active));
    o.line(4, "ttl: " + dur(t.ttl));
    o.line(4, "hook: " + sc(t.hook));
    o.line(4, "hook_timeout: " + dur(t.hook_timeout));
    if (t.wol) print_wol(o, 4, *t.wol, true);
    if (t.sleep_proxy) print_sleep_proxy(o, 4, *t.sleep_proxy);
}

void print_register(Out& o, const RegisterConf& r) {
    o.s += '\n';
    o.line(0, "register:");
    o.line(2, "listen: " + sc(r.listen));
    o.line(2, "interface: " + sc(r.interface));
    o.line(2, "allow: " + cidrs(r.allow));
    o.line(2, std::string("any_mac: ") + yn(r.any_mac));
    o.line(2, "sleep_proxy:");
    print_proxy_timing(o, 4, r.sleep_proxy);
    o.line(2, "hook: " + sc(r.hook));
    o.line(2, "hook_timeout: " + dur(r.hook_timeout));
    if (r.wol) print_wol(o, 2, *r.wol, false);
}

void print_knock(Out& o, const KnockConf& k) {
    o.line(2, "- name: " + sc(k.name));
    o.line(4, "target: " + sc(k.target));
    if (k.spa) {
        o.line(4, "spa: {port: " + std::to_string(k.spa->port) + ", key_file: " + sc(k.spa->key_file) +
                      ", window: " + dur(k.spa->window) + "}");
        return;
    }
    o.line(4, "sequence: " + flow(k.sequence, [](const KnockStep& s) {
                  return std::string(s.proto == Proto::Udp ? "udp/" : "tcp/") + std::to_string(s.port);
              }));
    o.line(4, "timeout: " + dur(k.timeout));
    if (k.tcp_flags) o.line(4, "tcp_flags: " + sc(format_tcp_flags(*k.tcp_flags)));
}

}  // namespace

std::string print_normalized(const Config& c) {
    Out o;
    o.line(0, "# netwaked configuration, normalized" + (c.source.empty() ? std::string() : " from " + c.source));
    if (!c.savefile.empty()) o.line(0, "# savefile (command line -w): " + c.savefile);
    o.line(0, "daemon:");
    o.line(2, "user: " + sc(c.daemon.user));
    o.line(2, "pidfile: " + sc(c.daemon.pidfile));
    o.line(2, "state_dir: " + sc(c.daemon.state_dir));
    o.line(2, "control_socket: " + sc(c.daemon.control_socket));
    o.line(2, std::string("log_level: ") + log_level_name(c.daemon.log_level));
    o.s += '\n';
    o.line(0, "sensors:");
    for (const SensorConf& s : c.sensors) {
        o.line(2, "- name: " + sc(s.name));
        if (s.nflog)
            o.line(4, "nflog: {group: " + std::to_string(s.nflog->group) +
                          ", copy_range: " + std::to_string(s.nflog->copy_range) + "}");
        if (s.pcap)
            o.line(4, "pcap: {interface: " + sc(s.pcap->interface) + ", filter: " + sc(s.pcap->filter) +
                          ", snaplen: " + std::to_string(s.pcap->snaplen) + ", buffer_size: " +
                          std::to_string(s.pcap->buffer_size) + ", promisc: " + yn(s.pcap->promisc) + "}");
    }
    o.s += '\n';
    o.line(0, c.targets.empty() ? "targets: []" : "targets:");  // empty only with a register section
    for (const TargetConf& t : c.targets) print_target(o, t);
    if (c.reg) print_register(o, *c.reg);
    if (!c.knocks.empty()) {
        o.s += '\n';
        o.line(0, "knock:");
        for (const KnockConf& k : c.knocks) print_knock(o, k);
    }
    if (!c.wol_relay.empty()) {  // SPEC §7.2
        o.s += '\n';
        o.line(0, "wol_relay:");
        for (const RelayConf& r : c.wol_relay) {
            o.line(2, "- sensors: " + flow(r.sensors, [&](uint16_t i) { return c.sensors.at(i).name; }));
            o.line(4, "ports: " + flow(r.ports, [](uint16_t p) { return std::to_string(p); }));
            o.line(4, "allow: " + flow(r.allow, [](const std::string& n) { return n; }));
            o.line(4, std::string("password: ") + (r.password == RelayPassword::Required   ? "required"
                                                   : r.password == RelayPassword::Optional ? "optional"
                                                                                           : "none"));
            o.line(4, "rate: " + std::to_string(r.rate_count) + "/" + dur(r.rate_per));
        }
    }
    if (c.mqtt) o.s += print_mqtt(*c.mqtt);
    if (c.metrics) o.s += "\nmetrics:\n  textfile: " + sc(c.metrics->textfile) + "\n";
    return o.s;
}

}  // namespace nw::config

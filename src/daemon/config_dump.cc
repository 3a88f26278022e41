// daemon/config_dump.cc — the configuration as log lines for SIGUSR1 (see config_dump.h).
#include "daemon/config_dump.h"

#include <span>

#include <fmt/format.h>

#include "config/text.h"
#include "packet/parse.h"

namespace nw::daemon {

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

template <class V, class F>
std::string list(const V& v, F each) {  // a std::vector or a config::List
    std::vector<std::string> s;
    for (const auto& x : v) s.push_back(each(x));
    return "[" + join(s, ", ") + "]";
}

std::string ports(std::span<const config::PortRange> v) { return list(v, config::format_port_range); }
std::string cidrs(std::span<const config::Cidr> v) {
    return list(v, [](const config::Cidr& c) { return packet::cidr_str(packet::Cidr{c.addr, c.prefix_len, c.negate}); });
}

std::string rule_text(const config::Rule& r) {
    std::vector<std::string> f;
    if (!r.sensor.empty()) f.push_back("sensor " + r.sensor);
    if (r.prefix) f.push_back(fmt::format("prefix \"{}\"", *r.prefix));
    if (!r.in_iface.empty()) f.push_back("in_iface " + r.in_iface);
    if (!r.out_iface.empty()) f.push_back("out_iface " + r.out_iface);
    if (r.proto != config::Proto::Any) f.push_back(std::string("proto ") + config::proto_name(r.proto));
    if (!r.src.empty()) f.push_back("src " + cidrs(r.src));
    if (!r.dst.empty()) f.push_back("dst " + cidrs(r.dst));
    if (!r.src_port.empty()) f.push_back("src_port " + ports(r.src_port));
    if (!r.dst_port.empty()) f.push_back("dst_port " + ports(r.dst_port));
    if (r.tcp_flags) f.push_back("tcp_flags " + config::format_tcp_flags(*r.tcp_flags));
    if (!r.src_mac.empty())
        f.push_back("src_mac " + list(r.src_mac, [](const config::Mac6& m) {
                        return (m.negate ? "!" : "") + packet::mac_str(m.mac);
                    }));
    if (r.vlan) f.push_back(fmt::format("vlan {}", *r.vlan));
    return f.empty() ? "any packet" : join(f, " ");
}

std::string rules_text(const std::vector<config::Rule>& rules) {
    std::vector<std::string> s;
    for (const auto& r : rules) s.push_back(rule_text(r));
    return s.empty() ? "none" : join(s, " | ");
}

std::string sensor_line(const config::SensorConf& s) {
    if (s.nflog) return fmt::format("config: sensor {}: NFLOG group {}, copy_range {}", s.name, s.nflog->group,
                                    s.nflog->copy_range);
    const config::PcapConf& p = *s.pcap;
    return fmt::format("config: sensor {}: pcap interface {}, BPF filter {}, snaplen {}{}", s.name, p.interface,
                       p.filter.empty() ? "none" : "\"" + p.filter + "\"", p.snaplen, p.promisc ? ", promisc" : "");
}

}  // namespace

std::string hook_form(const config::TargetConf& t) {
    if (t.hook.empty()) return "none";
    if (t.hook_shell.empty()) return t.hook;
    return fmt::format("{} -c '{} \"$@\"' netwaked <event> {}", t.hook, t.hook_shell, t.name);
}

std::vector<std::string> config_lines(const config::Config& c) {
    std::vector<std::string> out;
    for (const auto& s : c.sensors) out.push_back(sensor_line(s));
    for (const auto& t : c.targets) {
        std::string keep = !t.keepalive ? "same as match" : rules_text(*t.keepalive);
        const bool ack_only = t.keepalive && t.keepalive->size() == 1 && (*t.keepalive)[0].tcp_flags &&
                              (*t.keepalive)[0].tcp_flags->value == packet::kTcpAck &&
                              (*t.keepalive)[0].tcp_flags->mask == packet::kTcpAck;
        if (ack_only && c.source == "command line") keep += " (-a)";
        out.push_back(fmt::format("config: target {}: hook {}, ttl {}, sensors {}, match {}, keepalive {}", t.name,
                                  hook_form(t), config::format_duration(t.ttl),
                                  t.sensors.empty() ? "all" : join(t.sensors, ","), rules_text(t.match), keep));
    }
    if (c.source == "command line") out.push_back("config: savefile (-w): " + (c.savefile.empty() ? "none" : c.savefile));
    return out;
}

}  // namespace nw::daemon

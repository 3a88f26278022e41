// config/model.h — the validated, immutable configuration model (SPEC §3).
// Plain data: no YAML type appears here, nothing here does I/O. The loader (config/load.h)
// and the tuninetd command line (main.cc) both produce a Config; everything else reads it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/boxed.h"
#include "config/interned.h"
#include "config/list.h"
#include "config/model_mqtt.h"
#include "packet/decode.h"

namespace nw::config {

using Duration = std::chrono::milliseconds;

enum class LogLevel : uint8_t { Debug, Info, Notice, Warning, Error };

struct DaemonConf {
    std::string user;                                // empty: keep the starting user
    std::string pidfile;                             // empty: none
    std::string state_dir = "/var/lib/netwaked";     // empty: no persistence
    std::string control_socket = "/run/netwaked/control.sock";  // empty: none
    LogLevel log_level = LogLevel::Info;
    bool operator==(const DaemonConf&) const = default;
};

struct NflogConf {
    uint16_t group = 0;
    uint32_t copy_range = 128;
    bool operator==(const NflogConf&) const = default;
};
struct PcapConf {
    std::string interface;
    std::string filter;                              // tcpdump syntax, may be empty
    uint32_t snaplen = 256;
    uint32_t buffer_size = 4u << 20;                 // bytes (issue 16: 1 MiB lost packets at 100 kpps)
    bool promisc = false;
    bool operator==(const PcapConf&) const = default;
};
struct SensorConf {
    std::string name;                                // default "nflog:<group>" / "pcap:<if>"
    std::optional<NflogConf> nflog;                  // exactly one of nflog/pcap is set
    std::optional<PcapConf> pcap;
    // The running sensor's number in rules and Hits (core::PacketMeta::sensor); -1: its position
    // in Config::sensors. A reload keeps a kept sensor's number (daemon/sensor_set.h).
    int id = -1;
    bool operator==(const SensorConf&) const = default;
};

// An address/CIDR with optional negation.
struct Cidr {
    packet::Addr addr{};                             // v4 stored v4-mapped
    uint8_t prefix_len = 128;                        // in the 128-bit space (v4 /24 => 120)
    bool negate = false;
    bool operator==(const Cidr&) const = default;
};
struct PortRange {
    uint16_t lo = 0, hi = 65535;
    bool negate = false;
    bool operator==(const PortRange&) const = default;
};
// TCP flag expression "syn,!ack": (flags & mask) == value.
struct TcpFlags {
    uint8_t mask = 0, value = 0;
    bool operator==(const TcpFlags&) const = default;
};
struct Mac6 {
    packet::Mac mac{};
    bool negate = false;
    bool operator==(const Mac6&) const = default;
};

enum class Proto : uint8_t { Any, Tcp, Udp, Icmp, Icmp6, Arp };

// One match rule: all given fields must hold. Empty lists / nullopt mean "any".
// For address/port lists: the packet matches if it matches any non-negated entry (or there
// are none) and no negated entry.
// Strings are Interned (shared by equal values) and lists are List (one pointer): a rule is
// 88 bytes instead of 280 (issue 16, memory per target).
struct Rule {
    Interned sensor;                                 // sensor name, empty = any
    std::optional<Interned> prefix;                  // exact NFLOG prefix
    Interned in_iface, out_iface;                    // exact names, empty = any
    List<Cidr> src, dst;
    List<PortRange> src_port, dst_port;
    List<Mac6> src_mac;
    Proto proto = Proto::Any;
    std::optional<TcpFlags> tcp_flags;
    std::optional<uint16_t> vlan;
    bool operator==(const Rule&) const = default;
};

struct Trigger {
    uint32_t packets = 1;
    Duration within = std::chrono::seconds(10);
    bool operator==(const Trigger&) const = default;
};

enum class WolMethod : uint8_t { Ethernet = 1, Udp = 2 };
enum class EthernetTo : uint8_t { Both, Unicast, Broadcast };
// Wake verification (SPEC §7.1). `on` is resolved by the loader: given `verify: true` or a block,
// or (mode Auto) when an address is known (own, the sleep_proxy's first, or a single dst in match).
struct WolVerify {
    enum class Mode : uint8_t { Auto, On, Off };
    Mode mode = Mode::Auto;
    bool on = false;
    std::optional<packet::Addr> address;             // probed with ARP / NS
    Duration timeout = std::chrono::seconds(60);
    uint32_t attempts = 3;
    Duration grace = std::chrono::seconds(30);
    bool operator==(const WolVerify&) const = default;
};
struct WolConf {
    packet::Mac mac{};
    std::string interface;
    uint8_t methods = static_cast<uint8_t>(WolMethod::Ethernet);  // bit set of WolMethod
    EthernetTo ethernet_to = EthernetTo::Both;
    std::string udp_to = "255.255.255.255:9";        // host:port, [v6%if]:port
    std::vector<uint8_t> password;                   // empty, 4 or 6 bytes
    uint32_t repeat = 3;
    Duration interval = std::chrono::seconds(1);
    Duration cooldown = std::chrono::seconds(30);
    WolVerify verify;
    bool operator==(const WolConf&) const = default;
};

struct ProxyAddress {
    packet::Addr addr{};
    std::vector<PortRange> ports;                    // empty: the section's `ports`, or any
    bool operator==(const ProxyAddress&) const = default;
};
struct SleepProxyConf {
    std::string interface;
    std::vector<ProxyAddress> addresses;
    std::vector<PortRange> ports;                    // empty: any port wakes
    Duration probe_interval = std::chrono::seconds(4);
    uint32_t probe_misses = 3;
    Duration shutdown_timeout = std::chrono::minutes(10);
    uint32_t wake_attempts = 3;
    Duration wake_interval = std::chrono::seconds(30);
    bool keep = true;
    bool operator==(const SleepProxyConf&) const = default;
};

struct TargetConf {
    std::string name;
    std::vector<std::string> sensors;                // empty = all
    std::vector<Rule> match;                         // at least one rule (tuninetd: one empty rule)
    Boxed<std::vector<Rule>> keepalive;              // nullopt: same as match
    Trigger trigger;
    Duration min_active{0};
    Duration ttl = std::chrono::minutes(10);
    Interned hook;                                   // absolute path; empty = no hook (shared by targets)
    Interned hook_shell;                             // tuninetd -c command line (hook = /bin/sh)
    Duration hook_timeout = std::chrono::seconds(60);
    Boxed<WolConf> wol;                              // on the heap: most targets have none
    Boxed<SleepProxyConf> sleep_proxy;
    bool operator==(const TargetConf&) const = default;
};

struct RegisterConf {
    std::string listen;                              // "addr:port" / "[v6]:port"
    std::string interface;
    std::vector<Cidr> allow;
    bool any_mac = false;
    SleepProxyConf sleep_proxy;                      // interface/addresses unused
    std::string hook;
    Duration hook_timeout = std::chrono::seconds(60);
    std::optional<WolConf> wol;                      // mac/interface filled per registration
    bool operator==(const RegisterConf&) const = default;
};

struct KnockStep {
    Proto proto = Proto::Tcp;                        // Tcp or Udp
    uint16_t port = 0;
    bool operator==(const KnockStep&) const = default;
};
struct SpaConf {
    uint16_t port = 62201;
    std::string key_file;
    Duration window = std::chrono::seconds(60);
    bool operator==(const SpaConf&) const = default;
};
struct KnockConf {
    std::string name;
    std::string target;
    std::vector<KnockStep> sequence;                 // empty when spa is set
    Duration timeout = std::chrono::seconds(15);
    std::optional<TcpFlags> tcp_flags;               // default: syn,!ack for sequences
    std::optional<SpaConf> spa;
    bool operator==(const KnockConf&) const = default;
};

// Wake-on-WAN relay (SPEC §7.2): one `wol_relay:` entry.
enum class RelayPassword : uint8_t { Required, Optional, None };
struct RelayConf {
    std::vector<uint16_t> sensors;                   // sensor indices; empty = all
    std::vector<uint16_t> ports{7, 9};               // UDP destination ports
    std::vector<std::string> allow;                  // target names (each with wol)
    RelayPassword password = RelayPassword::Optional;
    uint32_t rate_count = 1;                         // accepted packets per target ...
    Duration rate_per = std::chrono::seconds(10);    // ... within this
    bool operator==(const RelayConf&) const = default;
};

struct Config {
    std::string source;                              // file path, or "command line"
    DaemonConf daemon;
    std::vector<SensorConf> sensors;
    std::vector<TargetConf> targets;
    std::optional<RegisterConf> reg;
    std::vector<KnockConf> knocks;
    std::vector<RelayConf> wol_relay;                // SPEC §7.2
    std::optional<MqttConf> mqtt;                    // SPEC §16 (config/model_mqtt.h)
    std::optional<MetricsConf> metrics;              // SPEC §17 (config/model_mqtt.h)
    // tuninetd mode only
    std::string savefile;                            // -w: append start packets here
    bool operator==(const Config&) const = default;
};

const char* log_level_name(LogLevel l);
const char* proto_name(Proto p);

}  // namespace nw::config

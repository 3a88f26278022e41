// tools/register_client.h — `netwakectl register` (issue 19, SPEC §9 client side): discovers the
// machine's MAC, usable addresses and listening ports, sends the Wakupator payload to a sleep
// proxy and reports its answer. The parsing and payload parts are pure and unit-tested.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli_args.h"
#include "packet/parse.h"

namespace nw::tools {

constexpr uint16_t kRegisterDefaultPort = 13717;

// "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address (no port).
bool parse_server(std::string_view s, std::string* host, uint16_t* port, std::string* err);
// "22,445" -> sorted unique ports in 1-65535.
bool parse_port_list(std::string_view s, std::vector<uint16_t>* out, std::string* err);

struct Listener {
    packet::Addr addr;  // v4-mapped for IPv4; all-zero (::) or 0.0.0.0 for wildcard
    bool v6 = false;    // from tcp6
    uint16_t port = 0;
};
// TCP listeners (state 0A) in the text of /proc/net/tcp (v6=false) or /proc/net/tcp6.
std::vector<Listener> parse_proc_net_tcp(std::string_view text, bool v6);
// Ports on which a connection to `a` would be accepted (wildcard or exact listeners; a listener
// on 127.0.0.0/8 or ::1 never counts). Sorted, unique.
std::vector<uint16_t> ports_for(const packet::Addr& a, const std::vector<Listener>& ls);

struct Inet6Entry {
    packet::Addr addr;
    std::string ifname;
    unsigned scope = 0;  // 0 global, 0x20 link, 0x10 host
    unsigned flags = 0;  // IFA_F_*
};
std::vector<Inet6Entry> parse_if_inet6(std::string_view text);
// Would `e` be registered? Global (or link-local when asked), not tentative/DAD-failed, and
// not temporary/deprecated unless asked.
bool usable_v6(const Inet6Entry& e, bool link_local, bool temporary);
// Is an IPv4 address usable (not loopback, not 169.254/16 unless link_local)?
bool usable_v4(const packet::Addr& a, bool link_local);

struct Monitor {
    packet::Addr ip;
    std::vector<uint16_t> ports;
};
// Ports per address: `per_address` first, else `ports` if non-empty, else the listeners (auto).
// Addresses left without a port are dropped only in auto mode (reported in *skipped); with
// explicit ports every address is kept.
std::vector<Monitor> choose_monitors(const std::vector<packet::Addr>& addrs, const std::vector<uint16_t>& ports,
                                     const std::vector<std::pair<packet::Addr, std::vector<uint16_t>>>& per_address,
                                     const std::vector<Listener>& listeners, std::vector<packet::Addr>* skipped);

// The SPEC §9 / Wakupator JSON: {"mac": ..., "name": ..., "monitor": [{"ip", "port"}...]}
// (no "name" when `name` is empty).
std::string build_payload(const packet::Mac& mac, const std::string& name, const std::vector<Monitor>& mon);

// The subcommand: `args` are the words after "register". Returns the exit status.
int register_main(const Args& args);

}  // namespace nw::tools

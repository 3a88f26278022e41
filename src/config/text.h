// config/text.h — pure conversions between configuration values and their text form
// (durations, ports, TCP flags, passwords, host:port). No YAML, no I/O; shared by the loader,
// the normalized printer and the tuninetd command line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace nw::config {

// "500ms", "30s", "10m", "2h", "1d" or a bare integer (seconds). False on anything else
// (negative, fractional, unknown unit, overflow beyond 100 years).
bool parse_duration(std::string_view s, Duration* out);
// Largest exact unit: 600000ms -> "10m", 1500ms -> "1500ms", 0 -> "0s".
std::string format_duration(Duration d);

// Decimal unsigned integer without sign or spaces; false if not digits or above `max`.
bool parse_uint(std::string_view s, uint64_t max, uint64_t* out);

// "22", "1000-2000", with "!" negation if `allow_negate`. Sets *err to the reason on failure.
bool parse_port_range(std::string_view s, bool allow_negate, PortRange* out, std::string* err);
std::string format_port_range(const PortRange& p);

// "syn", "ack", "syn,!ack", "fin|rst" (',' or '|' separated; names fin syn rst psh ack urg ece cwr).
bool parse_tcp_flags(std::string_view s, TcpFlags* out, std::string* err);
std::string format_tcp_flags(const TcpFlags& f);

// SecureOn password as packet::parse_password (packet/wol.h) reads it back: 6 bytes
// "00:11:22:33:44:55", 4 bytes "192.168.1.1".
std::string format_password(const std::vector<uint8_t>& pw);

// "tcp"/"udp"/... -> Proto. False on unknown names.
bool parse_proto(std::string_view s, Proto* out);

// Target/knock names: [A-Za-z0-9_.-]{1,64}. Sensor names also allow ':'.
bool valid_target_name(std::string_view s);
bool valid_sensor_name(std::string_view s);
// Interface names: 1..15 bytes, no '/', no whitespace, not "." or "..".
bool valid_ifname(std::string_view s);

// Standard base64 (padding optional, whitespace ignored). False on invalid characters.
bool base64_decode(std::string_view s, std::vector<uint8_t>* out);

// Splits "1.2.3.4:9", "[v6]:9", "[v6%if]:9", bare "1.2.3.4" or bare v6 into host, scope
// (interface after '%', may be empty) and port (`default_port` if absent). Checks that host is
// an IP literal and port is 1..65535. Sets *err on failure.
bool parse_hostport(std::string_view s, uint16_t default_port, packet::Addr* host, std::string* scope,
                    uint16_t* port, std::string* err);
// Canonical text: "1.2.3.4:9" or "[v6%if]:9".
std::string format_hostport(const packet::Addr& host, const std::string& scope, uint16_t port);

}  // namespace nw::config

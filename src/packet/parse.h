// packet/parse.h — pure text parsers for addresses, CIDRs and MACs (used by config and tools).
// Pure: no syscalls, no logging, no globals; never depends on config/ (packet/ is the bottom layer).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "packet/decode.h"

namespace nw::packet {

// Same three fields as config::Cidr, kept here so packet/ does not depend on config/.
struct Cidr {
    Addr addr{};              // v4 stored v4-mapped; host bits below prefix_len are zero
    uint8_t prefix_len = 128; // in the 128-bit space: IPv4 /24 => 120
    bool negate = false;      // written with a leading "!"
};

// "192.0.2.1" or "2001:db8::1" (no brackets, no zone, no surrounding spaces).
// False and a message in *err (if non-null) on anything else.
// One hex digit's value (either case), -1 if `c` is not one. The project's only copy.
int hex_digit(char c);
// Exactly 2*n hex digits -> n bytes; false (out partly written) on any other input.
bool parse_hex(std::string_view s, uint8_t* out, size_t n);

bool parse_addr(std::string_view s, Addr* out, std::string* err);

// "10.0.0.0/8", "!10.1.2.3", "2001:db8::/32". No prefix means a host route (/32, /128).
// Host bits set below the prefix ("10.1.2.3/8") are cleared, as iptables does.
bool parse_cidr(std::string_view s, Cidr* out, std::string* err);

// "aa:bb:cc:dd:ee:ff", "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff" or "aabbccddeeff", any case.
bool parse_mac(std::string_view s, Mac* out, std::string* err);
// `n` bytes as etherwake/wakeonlan users type them: n groups of 1-2 hex digits joined by one
// separator kind (':' or '-'), or exactly 2*n hex digits with none.
bool parse_byte_groups(std::string_view s, size_t n, std::vector<uint8_t>* out);
// A MAC in any form SPEC §7 accepts: parse_mac's, 0:11:22:aa:bb:cc, aabbccddeeff, aabb.ccdd.eeff.
bool parse_mac_loose(std::string_view s, Mac* out, std::string* err);

// Group bit set (includes broadcast).
bool is_multicast(const Mac& m);
bool is_zero(const Mac& m);

// Is `a` inside net/prefix_len (128-bit space)? Families never mix: an IPv4 net (prefix_len
// >= 96, v4-mapped) holds only IPv4 addresses, and an IPv6 net shorter than /96 ("::/0")
// holds no IPv4 address even though their v4-mapped bits would fall inside it.
bool cidr_contains(const Addr& net, uint8_t prefix_len, const Addr& a);
inline bool cidr_contains(const Cidr& c, const Addr& a) { return cidr_contains(c.addr, c.prefix_len, a); }

// Normalized text: "10.0.0.0/8", "!2001:db8::/32", host routes without a prefix ("192.0.2.1").
std::string cidr_str(const Cidr& c);

}  // namespace nw::packet

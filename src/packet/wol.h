// packet/wol.h — Wake-on-LAN encoders: magic packet payload, its Ethernet frame (EtherType
// 0x0842), and the SecureOn password parser. Pure: no syscalls, no logging, no globals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "packet/decode.h"
#include "packet/encode.h"  // kEthHeaderLen, kBroadcastMac, encode_eth

namespace nw::packet {

inline constexpr size_t kMagicLen = 6 + 16 * 6;                 // 102 bytes without password
inline constexpr size_t kMagicMaxLen = kMagicLen + 6;           // 108 with a 6-byte password
inline constexpr size_t kMagicFrameMaxLen = kEthHeaderLen + kMagicMaxLen;

// Writes 6 x 0xff, 16 x target, then the password (empty, 4 or 6 bytes) into out.
// Returns the length written (102, 106 or 108), or 0 if the password length is bad or out is short.
size_t magic_payload(const Mac& target, std::span<const uint8_t> password, std::span<uint8_t> out);

// Writes an Ethernet frame dst | src | 0x0842 | magic payload into out. Returns its length or 0.
size_t magic_frame(const Mac& dst, const Mac& src, const Mac& target, std::span<const uint8_t> password,
                   std::span<uint8_t> out);

// Parses a SecureOn password (SPEC §7): 6 hex bytes (00:11:22:33:44:55, '-', 1-2 digits a group
// or none), 4 hex bytes (0a:0b:0c:0d) or a dotted quad (192.168.1.1).
// On failure returns false and sets *err to a message quoting the value.
bool parse_password(std::string_view s, std::vector<uint8_t>* out, std::string* err);

}  // namespace nw::packet

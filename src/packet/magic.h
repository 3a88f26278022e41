// packet/magic.h — reading a received magic packet (Wake-on-WAN relay, SPEC §7.2): 6 x 0xff,
// 16 x one MAC, then optionally a SecureOn password; anything further is ignored.
// Pure: no syscalls, no logging, no globals; every length checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "packet/decode.h"

namespace nw::packet {

struct MagicView {
    Mac mac{};
    std::span<const uint8_t> rest;  // the bytes after the 16th MAC (password, junk); may be empty
};

// Reads a magic packet at the start of a UDP payload. False if it is not one (too short, no
// 6 x 0xff sync, the 16 copies differ).
bool parse_magic(std::span<const uint8_t> payload, MagicView* out);

// True if the packet carries `expected` (0, 4 or 6 bytes) right after the MAC copies; compares in
// constant time for a given length. An empty `expected` always matches.
bool magic_password_is(const MagicView& m, std::span<const uint8_t> expected);

}  // namespace nw::packet

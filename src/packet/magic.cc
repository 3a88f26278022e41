// packet/magic.cc — the received magic packet reader (see magic.h). Pure.
#include "packet/magic.h"

#include <cstring>

namespace nw::packet {

bool parse_magic(std::span<const uint8_t> payload, MagicView* out) {
    constexpr size_t kSync = 6, kCopies = 16, kLen = kSync + kCopies * 6;
    if (payload.size() < kLen) return false;
    for (size_t i = 0; i < kSync; ++i)
        if (payload[i] != 0xff) return false;
    const uint8_t* first = payload.data() + kSync;
    for (size_t c = 1; c < kCopies; ++c)
        if (std::memcmp(first, first + c * 6, 6) != 0) return false;
    std::memcpy(out->mac.data(), first, 6);
    out->rest = payload.subspan(kLen);
    return true;
}

bool magic_password_is(const MagicView& m, std::span<const uint8_t> expected) {
    if (expected.empty()) return true;
    if (m.rest.size() < expected.size()) return false;
    uint8_t diff = 0;
    for (size_t i = 0; i < expected.size(); ++i) diff |= static_cast<uint8_t>(m.rest[i] ^ expected[i]);
    return diff == 0;
}

}  // namespace nw::packet

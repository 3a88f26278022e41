// tests/fuzz/fuzz_magic.cc — libFuzzer harness for the relay's magic packet reader: whatever it
// accepts re-encodes to the same first 102 bytes, and the password check never reads past the input.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "packet/magic.h"
#include "packet/wol.h"

using namespace nw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> in(data, size);
    packet::MagicView m;
    if (!packet::parse_magic(in, &m)) return 0;
    if (size < packet::kMagicLen || m.rest.size() != size - packet::kMagicLen) std::abort();
    uint8_t out[packet::kMagicMaxLen];
    if (packet::magic_payload(m.mac, {}, out) != packet::kMagicLen) std::abort();
    if (std::memcmp(out, data, packet::kMagicLen) != 0) std::abort();
    const uint8_t pw6[6] = {1, 2, 3, 4, 5, 6};
    const bool ok6 = packet::magic_password_is(m, pw6);
    if (ok6 != (m.rest.size() >= 6 && std::memcmp(m.rest.data(), pw6, 6) == 0)) std::abort();
    if (!packet::magic_password_is(m, {})) std::abort();
    return 0;
}

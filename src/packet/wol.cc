// packet/wol.cc — implementation of the pure Wake-on-LAN encoders in packet/wol.h.
// Pure: no syscalls, no logging, no globals.
#include "packet/wol.h"
#include "packet/parse.h"

#include <cstring>

namespace nw::packet {

size_t magic_payload(const Mac& target, std::span<const uint8_t> password, std::span<uint8_t> out) {
    if (!password.empty() && password.size() != 4 && password.size() != 6) return 0;
    const size_t n = kMagicLen + password.size();
    if (out.size() < n) return 0;
    std::memset(out.data(), 0xff, 6);
    for (size_t i = 0; i < 16; ++i) std::memcpy(out.data() + 6 + i * 6, target.data(), 6);
    if (!password.empty()) std::memcpy(out.data() + kMagicLen, password.data(), password.size());
    return n;
}

size_t magic_frame(const Mac& dst, const Mac& src, const Mac& target, std::span<const uint8_t> password,
                   std::span<uint8_t> out) {
    if (encode_eth(out, dst, src, kEthWol) != kEthHeaderLen) return 0;
    const size_t n = magic_payload(target, password, out.subspan(kEthHeaderLen));
    return n == 0 ? 0 : kEthHeaderLen + n;
}

namespace {

// "a.b.c.d", each 0-255 in decimal with 1-3 digits.
bool parse_four(std::string_view s, std::vector<uint8_t>* out) {
    std::vector<uint8_t> v;
    size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
        unsigned val = 0;
        size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            val = val * 10 + static_cast<unsigned>(s[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || digits > 3 || val > 255) return false;
        v.push_back(static_cast<uint8_t>(val));
    }
    if (i != s.size()) return false;
    *out = std::move(v);
    return true;
}

}  // namespace

bool parse_password(std::string_view s, std::vector<uint8_t>* out, std::string* err) {
    if (parse_byte_groups(s, 6, out) || parse_byte_groups(s, 4, out) || parse_four(s, out)) return true;
    if (err)
        *err = "invalid SecureOn password \"" + std::string(s) +
               "\": expected 6 hex bytes (00:11:22:33:44:55), 4 hex bytes (0a:0b:0c:0d) or a dotted quad "
               "(192.168.1.1)";
    return false;
}

}  // namespace nw::packet

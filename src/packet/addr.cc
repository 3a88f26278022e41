// packet/addr.cc — Addr/Mac helpers and error names declared in packet/decode.h.
// Pure: no syscalls, no logging, no globals (inet_ntop is a pure libc formatter).
#include <arpa/inet.h>

#include <cstring>

#include "packet/decode.h"

namespace nw::packet {

const char* error_name(Error e) {
    switch (e) {
        case Error::Ok: return "ok";
        case Error::Truncated: return "truncated";
        case Error::Malformed: return "malformed";
        case Error::Unsupported: return "unsupported";
    }
    return "unknown";
}

bool Addr::is_v4() const {
    for (int i = 0; i < 10; ++i)
        if (b[i] != 0) return false;
    return b[10] == 0xff && b[11] == 0xff;
}

Addr Addr::v4(uint32_t host_order) {
    Addr a;
    a.b[10] = 0xff;
    a.b[11] = 0xff;
    a.b[12] = uint8_t(host_order >> 24);
    a.b[13] = uint8_t(host_order >> 16);
    a.b[14] = uint8_t(host_order >> 8);
    a.b[15] = uint8_t(host_order);
    return a;
}

uint32_t Addr::v4_host() const {
    return uint32_t(b[12]) << 24 | uint32_t(b[13]) << 16 | uint32_t(b[14]) << 8 | uint32_t(b[15]);
}

std::string Addr::str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    const char* r = is_v4() ? inet_ntop(AF_INET, &b[12], buf, sizeof buf)
                            : inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
    return r ? std::string(r) : std::string("?");
}

std::string mac_str(const Mac& m) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(17, ':');
    for (size_t i = 0; i < 6; ++i) {
        s[i * 3] = kHex[m[i] >> 4];
        s[i * 3 + 1] = kHex[m[i] & 15];
    }
    return s;
}

}  // namespace nw::packet

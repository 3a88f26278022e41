// packet/spa.h — the authenticated knock (SPA) datagram of SPEC §10: parse, build, verify.
// Pure: no syscalls, no logging, no globals, no clock; HMAC via libcrypto, compared in constant time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nw::packet {

// version(1) | timestamp(8, unix seconds, big endian) | nonce(16) | target(1..64) | HMAC-SHA256(32)
inline constexpr uint8_t kSpaVersion = 1;
inline constexpr size_t kSpaNonceLen = 16;
inline constexpr size_t kSpaMacLen = 32;
inline constexpr size_t kSpaMaxTarget = 64;
inline constexpr size_t kSpaHeadLen = 1 + 8 + kSpaNonceLen;                       // 25
inline constexpr size_t kSpaMinLen = kSpaHeadLen + 1 + kSpaMacLen;                 // 58
inline constexpr size_t kSpaMaxLen = kSpaHeadLen + kSpaMaxTarget + kSpaMacLen;     // 121
inline constexpr size_t kSpaMinKeyLen = 32;

using SpaNonce = std::array<uint8_t, kSpaNonceLen>;

// A parsed datagram. Fixed size, no heap: the target name is kept inline.
struct SpaMessage {
    uint8_t version = 0;
    uint64_t timestamp = 0;                 // unix seconds as sent (unsigned on the wire)
    SpaNonce nonce{};
    uint8_t target_len = 0;
    char target_buf[kSpaMaxTarget] = {};
    std::array<uint8_t, kSpaMacLen> mac{};
    std::string_view target() const { return {target_buf, target_len}; }
};

// Parses exactly one datagram payload. Checks length (58..121), version == 1 and that the
// target name is [A-Za-z0-9_.-]{1,64}; does NOT check the HMAC. False + *err (may be null) on
// any violation; *out is then unspecified.
bool spa_parse(std::span<const uint8_t> in, SpaMessage* out, std::string* err);

// Builds a datagram (HMAC over everything before it). `target` must be 1..64 bytes (longer is
// cut to 64; empty yields a datagram spa_parse refuses). Used by the client and the tests.
std::vector<uint8_t> spa_build(uint8_t version, uint64_t timestamp, const SpaNonce& nonce,
                               std::string_view target, std::span<const uint8_t> key);

// HMAC-SHA256(key, version|timestamp|nonce|target) compared with msg.mac in constant time
// (CRYPTO_memcmp). False also when libcrypto fails or the key is empty.
bool spa_verify_hmac(const SpaMessage& msg, std::span<const uint8_t> key);

// The same check with the key schedule computed once (ipad/opad state kept): the daemon keeps
// one per SPA key, so a forged datagram costs two SHA-256 compressions, not a key setup.
// Not thread-safe (one per thread). Move-only.
class SpaKey {
   public:
    SpaKey() = default;
    explicit SpaKey(std::span<const uint8_t> key);
    ~SpaKey();
    SpaKey(SpaKey&& o) noexcept;
    SpaKey& operator=(SpaKey&& o) noexcept;
    SpaKey(const SpaKey&) = delete;
    SpaKey& operator=(const SpaKey&) = delete;

    bool valid() const { return ctx_ != nullptr; }
    bool verify(const SpaMessage& msg) const;   // false when !valid()

   private:
    void* ctx_ = nullptr;                        // EVP_MAC_CTX initialised with the key
};

}  // namespace nw::packet

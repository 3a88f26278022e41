// packet/spa.cc — SPA datagram parse/build/verify (SPEC §10). Pure: bounds-checked, no
// syscalls, no logging, no mutable globals; every MAC comparison is constant time.
#include "packet/spa.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <cstring>

namespace nw::packet {
namespace {

bool name_char(uint8_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

void set_err(std::string* err, const char* msg) {
    if (err) *err = msg;
}

// The bytes the HMAC covers, rebuilt from the parsed fields into `buf`; returns their length.
size_t signed_part(const SpaMessage& m, uint8_t (&buf)[kSpaHeadLen + kSpaMaxTarget]) {
    buf[0] = m.version;
    for (int i = 0; i < 8; ++i) buf[1 + i] = uint8_t(m.timestamp >> (56 - 8 * i));
    std::memcpy(buf + 9, m.nonce.data(), kSpaNonceLen);
    size_t tl = m.target_len > kSpaMaxTarget ? kSpaMaxTarget : m.target_len;
    std::memcpy(buf + kSpaHeadLen, m.target_buf, tl);
    return kSpaHeadLen + tl;
}

}  // namespace

bool spa_parse(std::span<const uint8_t> in, SpaMessage* out, std::string* err) {
    if (in.size() < kSpaMinLen) {
        set_err(err, in.size() == 0 ? "empty datagram" : "datagram too short for an SPA knock");
        return false;
    }
    if (in.size() > kSpaMaxLen) {
        set_err(err, "datagram too long for an SPA knock");
        return false;
    }
    SpaMessage m;
    m.version = in[0];
    if (m.version != kSpaVersion) {
        set_err(err, "unsupported SPA version");
        return false;
    }
    for (int i = 0; i < 8; ++i) m.timestamp = (m.timestamp << 8) | in[1 + i];
    std::memcpy(m.nonce.data(), in.data() + 9, kSpaNonceLen);
    size_t tl = in.size() - kSpaHeadLen - kSpaMacLen;   // 1..64 by the length checks above
    for (size_t i = 0; i < tl; ++i) {
        if (!name_char(in[kSpaHeadLen + i])) {
            set_err(err, "target name holds a character outside [A-Za-z0-9_.-]");
            return false;
        }
    }
    m.target_len = uint8_t(tl);
    std::memcpy(m.target_buf, in.data() + kSpaHeadLen, tl);
    std::memcpy(m.mac.data(), in.data() + kSpaHeadLen + tl, kSpaMacLen);
    *out = m;
    return true;
}

std::vector<uint8_t> spa_build(uint8_t version, uint64_t timestamp, const SpaNonce& nonce,
                               std::string_view target, std::span<const uint8_t> key) {
    SpaMessage m;
    m.version = version;
    m.timestamp = timestamp;
    m.nonce = nonce;
    m.target_len = uint8_t(target.size() > kSpaMaxTarget ? kSpaMaxTarget : target.size());
    std::memcpy(m.target_buf, target.data(), m.target_len);
    uint8_t buf[kSpaHeadLen + kSpaMaxTarget];
    size_t n = signed_part(m, buf);
    std::vector<uint8_t> outv(buf, buf + n);
    outv.resize(n + kSpaMacLen);
    unsigned int maclen = 0;
    static const uint8_t kNoKey = 0;
    if (!HMAC(EVP_sha256(), key.empty() ? &kNoKey : key.data(), int(key.size()), buf, n, outv.data() + n,
              &maclen) ||
        maclen != kSpaMacLen)
        std::memset(outv.data() + n, 0, kSpaMacLen);
    return outv;
}

bool spa_verify_hmac(const SpaMessage& msg, std::span<const uint8_t> key) {
    if (key.empty()) return false;
    uint8_t buf[kSpaHeadLen + kSpaMaxTarget];
    size_t n = signed_part(msg, buf);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), key.data(), int(key.size()), buf, n, mac, &maclen) || maclen != kSpaMacLen)
        return false;
    return CRYPTO_memcmp(mac, msg.mac.data(), kSpaMacLen) == 0;
}

// ---- SpaKey: EVP_MAC context initialised once with the key, re-initialised per message ----

SpaKey::SpaKey(std::span<const uint8_t> key) {
    if (key.empty()) return;
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!mac) return;
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);   // the context keeps its own reference
    if (!ctx) return;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!EVP_MAC_init(ctx, key.data(), key.size(), params)) {
        EVP_MAC_CTX_free(ctx);
        return;
    }
    ctx_ = ctx;
}

SpaKey::~SpaKey() { EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(ctx_)); }

SpaKey::SpaKey(SpaKey&& o) noexcept : ctx_(o.ctx_) { o.ctx_ = nullptr; }

SpaKey& SpaKey::operator=(SpaKey&& o) noexcept {
    if (this != &o) {
        EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(ctx_));
        ctx_ = o.ctx_;
        o.ctx_ = nullptr;
    }
    return *this;
}

bool SpaKey::verify(const SpaMessage& msg) const {
    auto* ctx = static_cast<EVP_MAC_CTX*>(ctx_);
    if (!ctx) return false;
    uint8_t buf[kSpaHeadLen + kSpaMaxTarget];
    size_t n = signed_part(msg, buf);
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    // A NULL key re-initialises HMAC with the key already set (the pads are not recomputed).
    if (!EVP_MAC_init(ctx, nullptr, 0, nullptr) || !EVP_MAC_update(ctx, buf, n) ||
        !EVP_MAC_final(ctx, mac, &maclen, sizeof mac) || maclen != kSpaMacLen)
        return false;
    return CRYPTO_memcmp(mac, msg.mac.data(), kSpaMacLen) == 0;
}

}  // namespace nw::packet

// sys/lazy_crypto.cc — netwaked's calls into libcrypto (SPA knocks, MQTT command signatures), through
// dlopen (sys/lazylib.h): linked into netwaked only, which does not link libcrypto itself.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "sys/lazy_forward.h"

#define NW_CRYPTO_FUNCTIONS(X)                                                                        \
    X(CRYPTO_memcmp) X(EVP_MAC_CTX_free) X(EVP_MAC_CTX_new) X(EVP_MAC_fetch) X(EVP_MAC_final)          \
    X(EVP_MAC_free) X(EVP_MAC_init) X(EVP_MAC_update) X(EVP_sha256) X(HMAC) X(OPENSSL_cleanse)         \
    X(OSSL_PARAM_construct_end) X(OSSL_PARAM_construct_utf8_string)

NW_LAZY_FORWARDERS(nw::sys::lazy::Lib::Crypto, NW_CRYPTO_FUNCTIONS)

extern "C" {

int CRYPTO_memcmp(const void* a, const void* b, size_t len) { return NW_LAZY(CRYPTO_memcmp)(a, b, len); }
void EVP_MAC_CTX_free(EVP_MAC_CTX* ctx) { NW_LAZY(EVP_MAC_CTX_free)(ctx); }
EVP_MAC_CTX* EVP_MAC_CTX_new(EVP_MAC* mac) { return NW_LAZY(EVP_MAC_CTX_new)(mac); }
EVP_MAC* EVP_MAC_fetch(OSSL_LIB_CTX* libctx, const char* algorithm, const char* properties) {
    return NW_LAZY(EVP_MAC_fetch)(libctx, algorithm, properties);
}
int EVP_MAC_final(EVP_MAC_CTX* ctx, unsigned char* out, size_t* outl, size_t outsize) {
    return NW_LAZY(EVP_MAC_final)(ctx, out, outl, outsize);
}
void EVP_MAC_free(EVP_MAC* mac) { NW_LAZY(EVP_MAC_free)(mac); }
int EVP_MAC_init(EVP_MAC_CTX* ctx, const unsigned char* key, size_t keylen, const OSSL_PARAM params[]) {
    return NW_LAZY(EVP_MAC_init)(ctx, key, keylen, params);
}
int EVP_MAC_update(EVP_MAC_CTX* ctx, const unsigned char* data, size_t datalen) {
    return NW_LAZY(EVP_MAC_update)(ctx, data, datalen);
}
const EVP_MD* EVP_sha256(void) { return NW_LAZY(EVP_sha256)(); }
unsigned char* HMAC(const EVP_MD* evp_md, const void* key, int key_len, const unsigned char* data, size_t data_len,
                    unsigned char* md, unsigned int* md_len) {
    return NW_LAZY(HMAC)(evp_md, key, key_len, data, data_len, md, md_len);
}
void OPENSSL_cleanse(void* ptr, size_t len) { NW_LAZY(OPENSSL_cleanse)(ptr, len); }
OSSL_PARAM OSSL_PARAM_construct_end(void) { return NW_LAZY(OSSL_PARAM_construct_end)(); }
OSSL_PARAM OSSL_PARAM_construct_utf8_string(const char* key, char* buf, size_t bsize) {
    return NW_LAZY(OSSL_PARAM_construct_utf8_string)(key, buf, bsize);
}

}  // extern "C"

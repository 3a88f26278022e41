// action/spa_key.cc — SPA key files for the daemon: load and check one key file, or the key of
// every knock (SPEC §10). Opens only the key files; never logs (callers print *err).
#include "action/spa_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "config/text.h"
#include "packet/spa.h"

namespace nw::action {
namespace {

constexpr size_t kMaxKeyFile = 4096;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string mode_str(mode_t m) {
    char b[8];
    std::snprintf(b, sizeof b, "%04o", unsigned(m & 07777));
    return b;
}

// Closes an fd on scope exit.
struct FdGuard {
    int fd = -1;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};

// Opens a key file: a regular file readable only by its owner.
bool open_key_file(const std::string& path, FdGuard& g, std::string* err) {
    g.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (g.fd < 0) {
        *err = "key file " + quoted(path) + ": " + std::strerror(errno);
        return false;
    }
    struct stat st {};
    if (fstat(g.fd, &st) != 0) {
        *err = "key file " + quoted(path) + ": " + std::strerror(errno);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = "key file " + quoted(path) + " is not a regular file";
        return false;
    }
    if (st.st_mode & (S_IRGRP | S_IROTH)) {
        *err = "key file " + quoted(path) + " is readable by group or others (mode " + mode_str(st.st_mode) +
               "); make it readable only by its owner: chmod 600 " + path;
        return false;
    }
    return true;
}

// Reads up to text.size() bytes of `fd` into `text`; *n is how many.
bool read_key_file(int fd, const std::string& path, std::string& text, size_t* n, std::string* err) {
    *n = 0;
    while (*n < text.size()) {
        ssize_t r = ::read(fd, text.data() + *n, text.size() - *n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            *err = "key file " + quoted(path) + ": " + std::strerror(errno);
            return false;
        }
        if (r == 0) break;
        *n += size_t(r);
    }
    return true;
}

// Decodes a key file's text: one line of base64 for a key of at least kSpaMinKeyLen bytes.
// On failure *k may hold part of a key: the caller cleanses it.
bool parse_key_text(const std::string& path, std::string_view text, std::vector<uint8_t>* k, std::string* err) {
    if (text.size() > kMaxKeyFile) {
        *err = "key file " + quoted(path) + " is too large for a key (max " + std::to_string(kMaxKeyFile) + " bytes)";
        return false;
    }
    size_t len = text.size();
    if (len > 0 && text[len - 1] == '\n') --len;
    if (len > 0 && text[len - 1] == '\r') --len;
    if (len == 0) {
        *err = "key file " + quoted(path) + " is empty (netwakectl keygen FILE writes a key)";
        return false;
    }
    for (size_t i = 0; i < len; ++i) {
        char c = text[i];
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
            *err = "key file " + quoted(path) + " must hold the key as ONE line of base64 (no spaces or extra lines)";
            return false;
        }
    }
    if (!config::base64_decode(text.substr(0, len), k)) {
        *err = "key file " + quoted(path) + " does not hold base64 (A-Z a-z 0-9 + / =)";
        return false;
    }
    if (k->size() < packet::kSpaMinKeyLen) {
        *err = "key file " + quoted(path) + " holds a " + std::to_string(k->size()) + "-byte key; at least " +
               std::to_string(packet::kSpaMinKeyLen) + " bytes are needed (netwakectl keygen FILE writes one)";
        return false;
    }
    return true;
}

}  // namespace

bool load_spa_key(const std::string& path, std::vector<uint8_t>* key, std::string* err) {
    FdGuard g;
    if (!open_key_file(path, g, err)) return false;
    std::string text(kMaxKeyFile + 1, '\0');
    size_t n = 0;
    std::vector<uint8_t> k;
    const bool ok = read_key_file(g.fd, path, text, &n, err) &&
                    parse_key_text(path, std::string_view(text.data(), n), &k, err);
    OPENSSL_cleanse(text.data(), text.size());
    if (!ok) {
        if (!k.empty()) OPENSSL_cleanse(k.data(), k.size());
        return false;
    }
    *key = std::move(k);
    return true;
}

bool load_spa_keys(const std::vector<config::KnockConf>& knocks, std::vector<std::vector<uint8_t>>* keys,
                   std::string* err) {
    std::vector<std::vector<uint8_t>> out(knocks.size());
    for (size_t i = 0; i < knocks.size(); ++i) {
        if (!knocks[i].spa) continue;
        std::string e;
        if (!load_spa_key(knocks[i].spa->key_file, &out[i], &e)) {
            *err = "knock " + quoted(knocks[i].name) + ": " + e;
            return false;
        }
    }
    *keys = std::move(out);
    return true;
}

}  // namespace nw::action

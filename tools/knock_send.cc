// tools/knock_send.cc — netwakectl's SPA side: writing a new key file and the one-datagram
// knock client (SPEC §10). Opens only the key file and one UDP socket per attempt; never logs.
#include "tools/knock_send.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "action/spa_key.h"
#include "config/text.h"
#include "packet/spa.h"
#include "sys/wallclock.h"

namespace nw::tools {
namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Closes an fd on scope exit.
struct FdGuard {
    int fd = -1;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};

// Splits HOST[:PORT], [v6]:PORT, [v6], or a bare IPv6 address (more than one ':').
bool split_host_port(const std::string& s, uint16_t default_port, std::string* host, uint16_t* port,
                     std::string* err) {
    std::string p;
    if (!s.empty() && s[0] == '[') {
        size_t close = s.find(']');
        if (close == std::string::npos) {
            *err = quoted(s) + ": missing \"]\"";
            return false;
        }
        *host = s.substr(1, close - 1);
        std::string rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') {
                *err = quoted(s) + ": expected \":PORT\" after \"]\"";
                return false;
            }
            p = rest.substr(1);
            if (p.empty()) {
                *err = quoted(s) + ": empty port";
                return false;
            }
        }
    } else if (size_t c = s.find(':'); c != std::string::npos && s.find(':', c + 1) == std::string::npos) {
        *host = s.substr(0, c);
        p = s.substr(c + 1);
        if (p.empty()) {
            *err = quoted(s) + ": empty port";
            return false;
        }
    } else {
        *host = s;   // no port, or a bare IPv6 address
    }
    if (host->empty()) {
        *err = quoted(s) + ": empty host";
        return false;
    }
    *port = default_port;
    if (!p.empty()) {
        uint64_t v = 0;
        if (!config::parse_uint(p, 65535, &v) || v == 0) {
            *err = quoted(s) + ": port must be 1-65535, got " + quoted(p);
            return false;
        }
        *port = uint16_t(v);
    }
    return true;
}

}  // namespace

bool keygen_file(const std::string& path, std::string* err) {
    uint8_t raw[kKeygenBytes];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        *err = "cannot get random bytes from libcrypto";
        return false;
    }
    unsigned char b64[4 * ((kKeygenBytes + 2) / 3) + 2];
    int n = EVP_EncodeBlock(b64, raw, int(sizeof raw));
    OPENSSL_cleanse(raw, sizeof raw);
    b64[n] = '\n';
    FdGuard g;
    g.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (g.fd < 0) {
        int e = errno;
        OPENSSL_cleanse(b64, sizeof b64);
        *err = quoted(path) + ": " + std::strerror(e);
        if (e == EEXIST) *err += " (refusing to overwrite an existing key; remove it first)";
        return false;
    }
    bool ok = fchmod(g.fd, 0600) == 0;   // whatever the umask said
    size_t off = 0, total = size_t(n) + 1;
    while (ok && off < total) {
        ssize_t w = ::write(g.fd, b64 + off, total - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            ok = false;
            break;
        }
        off += size_t(w);
    }
    ok = ok && fsync(g.fd) == 0;
    int e = errno;
    OPENSSL_cleanse(b64, sizeof b64);
    if (!ok) {
        *err = quoted(path) + ": cannot write: " + std::strerror(e);
        ::unlink(path.c_str());
        return false;
    }
    if (::close(g.fd) != 0) {
        g.fd = -1;
        *err = quoted(path) + ": cannot write: " + std::strerror(errno);
        ::unlink(path.c_str());
        return false;
    }
    g.fd = -1;
    return true;
}

bool send_knock(const std::string& host_port, const std::string& target, const std::string& key_file,
                uint16_t default_port, std::string* err, std::string* sent_to) {
    if (!config::valid_target_name(target)) {
        *err = "target " + quoted(target) + " is not a valid target name ([A-Za-z0-9_.-], 1-64 characters)";
        return false;
    }
    std::string host;
    uint16_t port = 0;
    if (!split_host_port(host_port, default_port, &host, &port, err)) return false;
    std::vector<uint8_t> key;
    if (!action::load_spa_key(key_file, &key, err)) return false;
    packet::SpaNonce nonce;
    if (RAND_bytes(nonce.data(), int(nonce.size())) != 1) {
        *err = "cannot get random bytes from libcrypto";
        return false;
    }
    std::vector<uint8_t> dgram = packet::spa_build(packet::kSpaVersion, uint64_t(sys::wall_s()), nonce, target, key);
    OPENSSL_cleanse(key.data(), key.size());

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
        *err = quoted(host) + ": " + (rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc));
        return false;
    }
    std::string last = "no address";
    bool ok = false;
    for (addrinfo* ai = res; ai && !ok; ai = ai->ai_next) {
        char num[NI_MAXHOST] = "?";
        getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof num, nullptr, 0, NI_NUMERICHOST);
        std::string where = ai->ai_family == AF_INET6 ? "[" + std::string(num) + "]:" + service : std::string(num) + ":" + service;
        FdGuard s;
        s.fd = ::socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
        if (s.fd < 0) {
            last = where + ": " + std::strerror(errno);
            continue;
        }
        int one = 1;
        setsockopt(s.fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);   // a broadcast HOST is fine too
        ssize_t w = ::sendto(s.fd, dgram.data(), dgram.size(), 0, ai->ai_addr, ai->ai_addrlen);
        if (w == ssize_t(dgram.size())) {
            ok = true;
            if (sent_to) *sent_to = where;
        } else {
            last = where + ": " + (w < 0 ? std::strerror(errno) : "short send");
        }
    }
    freeaddrinfo(res);
    if (!ok) *err = "cannot send to " + last;
    return ok;
}

}  // namespace nw::tools

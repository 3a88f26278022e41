// control/register_server.cc — RegisterServer, the non-blocking TCP server of SPEC §9 on the
// core loop: read until the JSON object is complete (ObjectScanner), hand the parsed
// registration to the daemon, answer "OK.\0" or one line + NUL, half-close, drain, close. Peers
// outside register.allow are closed at accept; slots are bounded per peer and in all, and the
// oldest unfinished connection makes room; a minimum byte rate and a total deadline apply.
#include "control/register.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/text.h"
#include "control/protocol.h"
#include "packet/parse.h"
#include "sys/log.h"

namespace nw::control {

namespace {
constexpr int64_t kAcceptPauseNs = 100'000'000;  // after EMFILE/ENFILE
constexpr const char kOk[] = "OK.";               // + its NUL byte (Wakupator's answer)

// What max_per_peer counts: an IPv4 address, or the /64 of an IPv6 one (SLAAC and privacy
// addresses give one host as many addresses of its /64 as it likes).
packet::Addr peer_key(const packet::Addr& a) {
    if (a.is_v4()) return a;
    packet::Addr k = a;
    std::fill(k.b.begin() + 8, k.b.end(), uint8_t(0));
    return k;
}

// The text of a refusal as sent: one line and a NUL byte, as Wakupator ends its answers.
std::string refusal_text(std::string text) {
    for (char& ch : text)
        if (ch == '\n' || ch == '\r' || ch == '\0') ch = ' ';
    return text + '\0';
}

// Tells a connection that gets no slot why, without waiting for anything; the caller closes it.
void refuse_now(int fd, const std::string& why) {
    const std::string t = refusal_text(why);
    (void)!::send(fd, t.data(), t.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

packet::Addr peer_addr(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET)
        return packet::Addr::v4_bytes(reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in&>(ss).sin_addr));
    return packet::Addr::v6_bytes(reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr.s6_addr);
}
}  // namespace

RegisterServer::RegisterServer(sys::Loop& loop, core::TimerQueue& timers, Options opt)
    : loop_(loop), timers_(timers), opt_(opt) {}
RegisterServer::~RegisterServer() { close(); }

bool RegisterServer::open(const std::string& listen, std::string* err) {
    close();
    packet::Addr host;
    std::string scope, why;
    uint16_t port = 0;
    if (!config::parse_hostport(listen, 13717, &host, &scope, &port, &why)) {
        *err = "register.listen \"" + listen + "\": " + why;
        return false;
    }
    sockaddr_storage ss{};
    socklen_t len;
    if (host.is_v4()) {
        auto& sin = reinterpret_cast<sockaddr_in&>(ss);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        sin.sin_addr.s_addr = htonl(host.v4_host());
        len = sizeof sin;
    } else {
        auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        std::memcpy(sin6.sin6_addr.s6_addr, host.b.data(), 16);
        sin6.sin6_scope_id = scope.empty() ? 0 : ::if_nametoindex(scope.c_str());
        len = sizeof sin6;
    }
    sys::unique_fd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int one = 1;
    if (fd)  // the address may not be configured yet at boot (DHCP): bind anyway
        ::setsockopt(fd.get(), ss.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
                     ss.ss_family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one, sizeof one);
    if (!fd || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0 || ::listen(fd.get(), 64) < 0) {
        *err = log::errno_str("register: listening on " + listen, errno);
        return false;
    }
    listen_fd_ = std::move(fd);
    listen_ = listen;
    loop_.add(listen_fd_.get(), EPOLLIN, [this](uint32_t) { on_listen(); });
    return true;
}

void RegisterServer::close() {
    while (!clients_.empty()) drop(clients_.begin()->first);
    if (listen_fd_ && !paused_) loop_.remove(listen_fd_.get());
    listen_fd_.reset();
    paused_ = false;
    sync_timer();
}

void RegisterServer::on_listen() {
    for (;;) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        sys::unique_fd fd(::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len,
                                    SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                ++stats_.accept_errors;  // no fd to spare: stop accepting for a moment
                loop_.remove(listen_fd_.get());
                paused_ = true;
                resume_ns_ = now_ns() + kAcceptPauseNs;
            }
            sync_timer();
            return;  // EAGAIN, or a connection that died in the backlog
        }
        ++stats_.accepted;
        const packet::Addr peer = peer_addr(ss);
        if (admit_ && !admit_(peer)) {  // before anything else: no slot, no buffer
            ++stats_.denied;
            refuse_now(fd.get(), "peer " + peer.str() + " may not register (not in register.allow)");
            continue;  // closed by unique_fd
        }
        const packet::Addr key = peer_key(peer);
        if (!make_room(key)) {
            ++stats_.busy;
            refuse_now(fd.get(), "busy: too many registrations in progress, try again");
            continue;
        }
        auto c = std::make_unique<Client>();
        c->id = next_id_++;
        c->fd = std::move(fd);
        c->peer = peer;
        c->key = key;
        c->start_ns = now_ns();
        c->hard_deadline_ns = c->start_ns + opt_.total_timeout_ns;
        const uint64_t id = c->id;
        loop_.add(c->fd.get(), EPOLLIN | EPOLLRDHUP, [this, id](uint32_t ev) { on_client(id, ev); });
        clients_[id] = std::move(c);
    }
}

void RegisterServer::on_client(uint64_t id, uint32_t events) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    Client& c = *it->second;
    switch (c.phase) {
        case Phase::Reading: read_some(c); break;
        case Phase::Writing: flush(c); break;
        case Phase::Draining: drain(c); break;
    }
    if (clients_.count(id) && (events & EPOLLERR)) drop(id);
    for (uint64_t x : std::exchange(closing_, {})) drop(x);
    sync_timer();
}

void RegisterServer::read_some(Client& c) {
    char buf[8192];
    for (;;) {
        const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            closing_.push_back(c.id);
            return;
        }
        if (n == 0) {  // the peer half-closed before the object was complete
            ++stats_.invalid;
            answer(c, c.in.empty() ? "no data: expected a JSON object" : "incomplete JSON object");
            return;
        }
        c.in.append(buf, size_t(n));
        if (c.in.size() > kRegisterMaxPayload) {
            ++stats_.too_large;
            answer(c, fmt::format("payload too large (more than {} bytes)", kRegisterMaxPayload));
            return;
        }
        const auto r = c.scan.feed(c.in);
        if (r == ObjectScanner::Result::Incomplete) continue;
        std::string text = r == ObjectScanner::Result::Complete ? c.in.substr(0, c.scan.end()) : c.in;
        Registration reg;
        std::string err;
        if (!parse_registration(text, &reg, &err)) {
            ++stats_.invalid;
            answer(c, err);
            return;
        }
        err = handler_ ? handler_(reg, c.peer) : "registration is not available";
        if (err.empty()) ++stats_.registered;
        else ++stats_.refused;
        answer(c, err.empty() ? std::string(kOk, sizeof kOk) : err, err.empty());
        return;
    }
}

// Queues the answer ("OK.\0" or a refusal: one line and a NUL) and switches to writing.
void RegisterServer::answer(Client& c, std::string text, bool ok) {
    if (!ok) text = refusal_text(std::move(text));
    c.out = std::move(text);
    c.out_off = 0;
    c.phase = Phase::Writing;
    c.hard_deadline_ns = now_ns() + opt_.linger_ns;
    loop_.modify(c.fd.get(), EPOLLOUT);
    flush(c);
}

void RegisterServer::flush(Client& c) {
    while (c.out_off < c.out.size()) {
        const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            closing_.push_back(c.id);
            return;
        }
        c.out_off += size_t(n);
    }
    // Half-close and read what the peer still sends until it closes: closing with unread
    // bytes would make the kernel send a RST that can destroy the answer in flight.
    ::shutdown(c.fd.get(), SHUT_WR);
    c.phase = Phase::Draining;
    loop_.modify(c.fd.get(), EPOLLIN | EPOLLRDHUP);
    drain(c);
}

void RegisterServer::drain(Client& c) {
    char buf[8192];
    for (;;) {
        const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        closing_.push_back(c.id);  // EOF or error
        return;
    }
}

void RegisterServer::drop(uint64_t id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    loop_.remove(it->second->fd.get());
    clients_.erase(it);
}

bool RegisterServer::make_room(const packet::Addr& key) {
    for (;;) {
        size_t same = 0;
        for (const auto& [id, c] : clients_) same += c->key == key;
        const bool peer_full = same >= opt_.max_per_peer;
        if (!peer_full && clients_.size() < opt_.max_clients) return true;
        // The victim: the oldest connection still reading, else the oldest already answered
        // (draining), within the peer when the peer is at its bound; never one being answered.
        Client *reading = nullptr, *draining = nullptr;
        for (const auto& [id, c] : clients_) {  // ordered by id: oldest first
            if (peer_full && c->key != key) continue;
            if (c->phase == Phase::Reading && !reading) reading = c.get();
            if (c->phase == Phase::Draining && !draining) draining = c.get();
        }
        Client* victim = reading ? reading : draining;
        if (!victim) return false;
        const uint64_t id = victim->id;
        if (reading) {  // its payload may be waiting unread behind this accept: serve it first
            read_some(*reading);
            const bool gone = std::erase(closing_, id) > 0;
            if (gone) drop(id);
            if (gone || reading->phase != Phase::Reading) continue;
            refuse_now(reading->fd.get(), "busy: closed to make room for a newer connection");
        }
        ++stats_.evicted;
        drop(id);
        return true;
    }
}

int64_t RegisterServer::deadline(const Client& c) const {
    if (c.phase != Phase::Reading) return c.hard_deadline_ns;
    if (opt_.min_rate == 0) return c.hard_deadline_ns;
    // 64-bit product: size_t is 32 bits on armhf, where 5 bytes * 1e9 already wrapped.
    const uint64_t earned_ns = uint64_t(c.in.size()) * 1'000'000'000 / opt_.min_rate;
    const int64_t owed = c.start_ns + opt_.grace_ns + int64_t(earned_ns);
    return std::min(owed, c.hard_deadline_ns);
}

int64_t RegisterServer::next_deadline_ns() const {
    int64_t next = paused_ ? resume_ns_ : 0;
    for (const auto& [id, c] : clients_) {
        const int64_t d = deadline(*c);
        if (next == 0 || d < next) next = d;
    }
    return next;
}

void RegisterServer::on_time(int64_t now_ns) {
    if (paused_ && now_ns >= resume_ns_ && listen_fd_) {
        paused_ = false;
        loop_.add(listen_fd_.get(), EPOLLIN, [this](uint32_t) { on_listen(); });
        on_listen();
    }
    std::vector<uint64_t> due;
    for (const auto& [id, c] : clients_)
        if (now_ns >= deadline(*c)) due.push_back(id);
    for (uint64_t id : due) {
        auto it = clients_.find(id);
        if (it == clients_.end()) continue;
        Client& c = *it->second;
        if (c.phase != Phase::Reading) {
            drop(id);
            continue;
        }
        ++stats_.timeouts;
        const double secs = double(now_ns - c.start_ns) / 1e9;
        if (now_ns >= c.hard_deadline_ns)
            answer(c, fmt::format("timeout: no complete JSON object within {:.0f} s", secs));
        else if (c.in.empty())
            answer(c, fmt::format("timeout: nothing received within {:.0f} s", secs));
        else
            answer(c, fmt::format("timeout: too slow ({} bytes in {:.1f} s; at least {} bytes/s are needed after "
                                  "the first {} s)", c.in.size(), secs, opt_.min_rate, opt_.grace_ns / 1'000'000'000));
    }
    for (uint64_t x : std::exchange(closing_, {})) drop(x);
    sync_timer();
}

void RegisterServer::sync_timer() {
    const int64_t d = next_deadline_ns();
    if (d == 0)
        timers_.cancel(this, kTick);
    else if (timers_.deadline(this, kTick) != d)
        timers_.arm_at(this, kTick, d, [this](int64_t now) { on_time(now); });
}

}  // namespace nw::control

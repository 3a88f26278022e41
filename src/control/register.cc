// control/register.cc — the registration payload parser and host checks (pure apart from the
// RegisterEnv callbacks) and RegisterServer, a non-blocking TCP server on the core loop: read
// until the JSON object is complete, answer "OK.\0" or one line, half-close, drain, close.
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
#include <nlohmann/json.hpp>

#include "config/text.h"
#include "control/protocol.h"
#include "packet/parse.h"
#include "sys/log.h"

namespace nw::control {

using json = nlohmann::json;

namespace {

// User text inside a message: at most `max` bytes, control characters shown as '?'.
std::string shown(std::string_view s, size_t max = 40) {
    std::string o;
    for (unsigned char c : s.substr(0, max)) o += (c < 0x20 || c == 0x7f) ? '?' : char(c);
    return s.size() > max ? o + "..." : o;
}
std::string shown_json(const json& v) { return shown(v.dump(-1, ' ', false, json::error_handler_t::replace)); }

// Deepest nesting of objects/arrays outside strings (checked before parsing).
int max_depth(std::string_view t) {
    int d = 0, m = 0;
    bool str = false, esc = false;
    for (char c : t) {
        if (str) {
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            m = std::max(m, ++d);
        } else if (c == '}' || c == ']') {
            --d;
        }
    }
    return m;
}

// Why `a` can never be a machine's unicast address ("" if it can).
std::string unusable(const packet::Addr& a) {
    if (a.is_v4()) {
        const uint32_t v = a.v4_host();
        if (v == 0) return "is the unspecified address";
        if (v == 0xffffffffu) return "is the broadcast address";
        if ((v >> 24) == 0) return "is in 0.0.0.0/8 (this network)";
        if ((v >> 24) == 127) return "is a loopback address";
        if ((v >> 28) == 0xe) return "is a multicast address";
        if ((v >> 28) == 0xf) return "is in the reserved range 240.0.0.0/4";
        return "";
    }
    if (a == packet::Addr{}) return "is the unspecified address";
    packet::Addr one;
    one.b[15] = 1;
    if (a == one) return "is the loopback address";
    if (a.b[0] == 0xff) return "is a multicast address";
    return "";
}

bool parse_ports(const json& v, const std::string& where, std::vector<uint16_t>* out, std::string* err) {
    if (!v.is_array()) {
        *err = where + ": expected a list of ports, got " + shown_json(v);
        return false;
    }
    if (v.empty()) {
        *err = where + ": at least one port is needed";
        return false;
    }
    if (v.size() > kRegisterMaxPorts) {
        *err = fmt::format("{}: {} ports (at most {})", where, v.size(), kRegisterMaxPorts);
        return false;
    }
    for (size_t k = 0; k < v.size(); ++k) {
        const json& p = v[k];
        const std::string w = fmt::format("{}[{}]", where, k);
        if (!p.is_number_integer()) {
            *err = w + ": expected a port number, got " + shown_json(p);
            return false;
        }
        const bool neg = p.is_number_unsigned() ? false : p.get<int64_t>() < 0;
        const uint64_t n = neg ? 0 : p.get<uint64_t>();
        if (neg || n < 1 || n > 65535) {
            *err = w + ": " + shown_json(p) + " is not a port (1-65535)";
            return false;
        }
        out->push_back(uint16_t(n));
    }
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
    return true;
}

bool parse_monitor(const json& m, size_t i, Registration* r, std::string* err) {
    const std::string where = fmt::format("monitor[{}]", i);
    if (!m.is_object()) {
        *err = where + ": expected an object {\"ip\": ..., \"port\": [...]}, got " + shown_json(m);
        return false;
    }
    RegMonitor e;
    auto ip = m.find("ip");
    if (ip == m.end() || !ip->is_string()) {
        *err = where + ".ip: " + (ip == m.end() ? std::string("missing") : "expected a string, got " + shown_json(*ip));
        return false;
    }
    const std::string text = ip->get<std::string>();
    if (!packet::parse_addr(text, &e.ip, nullptr)) {
        *err = where + ".ip: \"" + shown(text) + "\" is not an IPv4 or IPv6 address";
        return false;
    }
    if (const std::string why = unusable(e.ip); !why.empty()) {
        *err = where + ".ip: " + e.ip.str() + " " + why;
        return false;
    }
    for (size_t k = 0; k < r->monitor.size(); ++k)
        if (r->monitor[k].ip == e.ip) {
            *err = fmt::format("{}.ip: {} is already listed in monitor[{}]", where, e.ip.str(), k);
            return false;
        }
    auto port = m.find("port");
    if (port == m.end()) {
        *err = where + ".port: missing";
        return false;
    }
    if (!parse_ports(*port, where + ".port", &e.ports, err)) return false;
    r->monitor.push_back(std::move(e));
    return true;
}

}  // namespace

bool parse_registration(std::string_view text, Registration* out, std::string* err) {
    if (text.size() > kRegisterMaxPayload) {
        *err = fmt::format("payload too large ({} bytes, at most {})", text.size(), kRegisterMaxPayload);
        return false;
    }
    if (max_depth(text) > kRegisterMaxDepth) {
        *err = "invalid JSON: nested too deeply";
        return false;
    }
    json j;
    try {
        j = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        std::string w = e.what();
        if (const size_t p = w.find("] "); p != std::string::npos) w.erase(0, p + 2);
        *err = "invalid JSON: " + shown(w, 200);
        return false;
    }
    if (!j.is_object()) {
        *err = "expected a JSON object, got " + shown_json(j);
        return false;
    }
    Registration r;
    auto mac = j.find("mac");
    if (mac == j.end() || !mac->is_string()) {
        *err = "mac: " + (mac == j.end() ? std::string("missing") : "expected a string, got " + shown_json(*mac));
        return false;
    }
    const std::string mtext = mac->get<std::string>();
    if (!packet::parse_mac(mtext, &r.mac, nullptr)) {
        *err = "mac: \"" + shown(mtext) + "\" is not a MAC address";
        return false;
    }
    if (packet::is_multicast(r.mac) || packet::is_zero(r.mac)) {
        *err = "mac: " + packet::mac_str(r.mac) + " is not a unicast MAC address";
        return false;
    }
    r.name = packet::mac_str(r.mac);
    if (auto name = j.find("name"); name != j.end() && !name->is_null()) {
        if (!name->is_string() || !valid_registration_name(name->get<std::string>())) {
            *err = "name: expected 1-64 characters without control characters, got " + shown_json(*name);
            return false;
        }
        r.name = name->get<std::string>();
    }
    auto mon = j.find("monitor");
    if (mon == j.end() || !mon->is_array() || mon->empty()) {
        *err = "monitor: " + (mon == j.end() ? std::string("missing") : "expected a non-empty list, got " + shown_json(*mon));
        return false;
    }
    if (mon->size() > kRegisterMaxMonitor) {
        *err = fmt::format("monitor: {} addresses (at most {})", mon->size(), kRegisterMaxMonitor);
        return false;
    }
    for (size_t i = 0; i < mon->size(); ++i)
        if (!parse_monitor((*mon)[i], i, &r, err)) return false;
    *out = std::move(r);
    return true;
}

ObjectScanner::Result ObjectScanner::feed(std::string_view buf) {
    for (; pos_ < buf.size(); ++pos_) {
        const char c = buf[pos_];
        if (!started_) {
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
            if (c != '{') return Result::Invalid;
            started_ = true;
            depth_ = 1;
            continue;
        }
        if (in_str_) {
            if (esc_) esc_ = false;
            else if (c == '\\') esc_ = true;
            else if (c == '"') in_str_ = false;
        } else if (c == '"') {
            in_str_ = true;
        } else if (c == '{' || c == '[') {
            if (++depth_ > kRegisterMaxDepth) return Result::Invalid;
        } else if (c == '}' || c == ']') {
            if (--depth_ == 0) {
                end_ = ++pos_;
                return Result::Complete;
            }
        }
    }
    return Result::Incomplete;
}

bool validate_registration(const Registration& r, const packet::Addr& peer, const RegisterEnv& env,
                           std::string* err) {
    const config::RegisterConf& rc = *env.conf;
    bool allowed = false;
    for (const auto& c : rc.allow)
        if (packet::cidr_contains(c.addr, c.prefix_len, peer)) allowed = !c.negate;
    if (!allowed) {
        *err = "peer " + peer.str() + " may not register (not in register.allow)";
        return false;
    }
    if (!rc.any_mac) {
        packet::Mac seen{};
        std::string why;
        if (!env.neighbor(rc.interface, peer, &seen, &why)) {
            *err = "mac: cannot check it against the peer's own: " + why;
            return false;
        }
        if (seen != r.mac) {
            *err = fmt::format("mac: {} is not the registering peer's MAC ({} is at {})", packet::mac_str(r.mac),
                               peer.str(), packet::mac_str(seen));
            return false;
        }
    }
    const auto addrs = env.host->if_addrs(rc.interface);
    for (size_t i = 0; i < r.monitor.size(); ++i) {
        const packet::Addr& ip = r.monitor[i].ip;
        const std::string where = fmt::format("monitor[{}].ip: {}", i, ip.str());
        if (env.host->own_addr(ip)) {
            *err = where + " belongs to this host";
            return false;
        }
        const proxy::IfAddr* net = nullptr;
        for (const auto& a : addrs)
            if (a.addr.is_v4() == ip.is_v4() && packet::cidr_contains(a.addr, a.prefix_len, ip)) net = &a;
        if (!net) {
            *err = where + " is not on-link on " + rc.interface;
            return false;
        }
        if (ip.is_v4() && net->prefix_len <= 126) {  // IPv4 /30 or shorter: network/broadcast exist
            const uint32_t mask = (uint32_t(1) << (128 - net->prefix_len)) - 1, host = ip.v4_host() & mask;
            if (host == mask || host == 0) {
                *err = fmt::format("{} is the {} address of its /{} network on {}", where,
                                   host == 0 ? "network" : "broadcast", net->prefix_len - 96, rc.interface);
                return false;
            }
        }
    }
    return true;
}

}  // namespace nw::control

// ---- RegisterServer ---------------------------------------------------------------------

namespace nw::control {

namespace {
constexpr int64_t kAcceptPauseNs = 100'000'000;  // after EMFILE/ENFILE
constexpr const char kOk[] = "OK.";               // + its NUL byte (Wakupator's answer)

packet::Addr peer_addr(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET)
        return packet::Addr::v4_bytes(reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in&>(ss).sin_addr));
    return packet::Addr::v6_bytes(reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr.s6_addr);
}
}  // namespace

RegisterServer::RegisterServer(sys::Loop& loop, Options opt) : loop_(loop), opt_(opt) {}
RegisterServer::~RegisterServer() { close(); }

int64_t RegisterServer::mono_now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

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
                resume_ns_ = mono_now_ns() + kAcceptPauseNs;
                if (on_deadline_change) on_deadline_change();
            }
            return;  // EAGAIN, or a connection that died in the backlog
        }
        ++stats_.accepted;
        const packet::Addr peer = peer_addr(ss);
        size_t same = 0;
        for (const auto& [id, c] : clients_) same += c->peer == peer;
        if (clients_.size() >= opt_.max_clients || same >= opt_.max_per_peer) {
            ++stats_.busy;
            static const char busy[] = "busy: too many registrations in progress, try again\n";
            (void)!::send(fd.get(), busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            continue;  // closed by unique_fd
        }
        auto c = std::make_unique<Client>();
        c->id = next_id_++;
        c->fd = std::move(fd);
        c->peer = peer;
        const int64_t now = mono_now_ns();
        c->idle_deadline_ns = now + opt_.idle_timeout_ns;
        c->hard_deadline_ns = now + opt_.total_timeout_ns;
        const uint64_t id = c->id;
        loop_.add(c->fd.get(), EPOLLIN | EPOLLRDHUP, [this, id](uint32_t ev) { on_client(id, ev); });
        clients_[id] = std::move(c);
        if (on_deadline_change) on_deadline_change();
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
        c.idle_deadline_ns = mono_now_ns() + opt_.idle_timeout_ns;
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
        answer(c, err.empty() ? std::string(kOk, sizeof kOk) : err);
        return;
    }
}

// Queues the answer ("OK.\0" or one line) and switches to writing.
void RegisterServer::answer(Client& c, std::string text) {
    if (text.empty() || text.back() != '\0') {
        for (char& ch : text)
            if (ch == '\n' || ch == '\r') ch = ' ';
        text += '\n';
    }
    c.out = std::move(text);
    c.out_off = 0;
    c.phase = Phase::Writing;
    c.hard_deadline_ns = mono_now_ns() + opt_.linger_ns;
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

int64_t RegisterServer::deadline(const Client& c) const {
    return c.phase == Phase::Reading ? std::min(c.idle_deadline_ns, c.hard_deadline_ns) : c.hard_deadline_ns;
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
        answer(c, "timeout: no complete JSON object within " + std::to_string(opt_.idle_timeout_ns / 1000000000) +
                      " s of silence");
    }
    for (uint64_t x : std::exchange(closing_, {})) drop(x);
}

}  // namespace nw::control

// control/server.cc — the non-blocking control socket server (control/server.h).
// Must never block the core loop or let fds pile up: every client is bounded in bytes and time.
#include "control/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <vector>

#include "sys/log.h"

namespace nw::control {

namespace {

constexpr int kMaxAcceptsPerWakeup = 64;       // stay fair to the loop's other fds
constexpr int64_t kAcceptRetryNs = 1'000'000'000;  // after EMFILE and friends

bool fill_addr(const std::string& path, sockaddr_un* sa, std::string* err) {
    if (path.empty() || path.size() >= sizeof sa->sun_path) {
        *err = "control socket path \"" + path + "\" is empty or longer than " +
               std::to_string(sizeof sa->sun_path - 1) + " bytes";
        return false;
    }
    *sa = {};
    sa->sun_family = AF_UNIX;
    std::memcpy(sa->sun_path, path.data(), path.size());
    return true;
}

// mkdir -p of the directory part of `path`; directories created here get mode 0755.
bool make_parent_dirs(const std::string& path, std::string* err) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return true;
    const std::string dir = path.substr(0, slash);
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos != dir.size() && dir[pos] != '/') continue;
        const std::string part = dir.substr(0, pos);
        if (::mkdir(part.c_str(), 0755) == 0) {
            ::chmod(part.c_str(), 0755);  // whatever the umask
        } else if (errno != EEXIST) {
            *err = log::errno_str("creating directory " + part, errno);
            return false;
        }
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        *err = dir + " is not a directory";
        return false;
    }
    return true;
}

// Is a server accepting on `sa`? 1 yes, 0 no (stale), -1 cannot tell (*err set).
int probe_live(const sockaddr_un& sa, const std::string& path, std::string* err) {
    sys::unique_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) {
        *err = log::errno_str("socket", errno);
        return -1;
    }
    if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) return 1;
    if (errno == EAGAIN || errno == EINPROGRESS) return 1;  // alive, backlog full
    if (errno == ECONNREFUSED || errno == ENOENT) return 0;
    *err = log::errno_str("probing control socket " + path, errno);
    return -1;
}

}  // namespace

Server::Server(sys::Loop& loop, core::TimerQueue& timers) : Server(loop, timers, Options{}) {}
Server::Server(sys::Loop& loop, core::TimerQueue& timers, Options opt) : loop_(loop), timers_(timers), opt_(opt) {}
Server::~Server() { close(); }

bool Server::open(const std::string& path, std::string* err) {
    std::string dummy;
    if (!err) err = &dummy;
    close();
    sockaddr_un sa;
    if (!fill_addr(path, &sa, err) || !make_parent_dirs(path, err)) return false;

    sys::unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        *err = log::errno_str("socket(AF_UNIX)", errno);
        return false;
    }
    const auto bind_it = [&] { return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa); };
    if (bind_it() != 0) {
        if (errno != EADDRINUSE) {
            *err = log::errno_str("binding control socket " + path, errno);
            return false;
        }
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
            *err = "control socket " + path + " exists and is not a socket; not removing it";
            return false;
        }
        const int live = probe_live(sa, path, err);
        if (live < 0) return false;
        if (live > 0) {
            *err = "control socket " + path + " is in use by another netwaked";
            return false;
        }
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            *err = log::errno_str("removing stale control socket " + path, errno);
            return false;
        }
        if (bind_it() != 0) {
            *err = log::errno_str("binding control socket " + path, errno);
            return false;
        }
    }
    struct stat st {};
    if (::chmod(path.c_str(), 0660) != 0 || ::stat(path.c_str(), &st) != 0) {
        *err = log::errno_str("chmod 0660 " + path, errno);
        ::unlink(path.c_str());
        return false;
    }
    if (::listen(fd.get(), opt_.backlog) != 0) {
        *err = log::errno_str("listen on " + path, errno);
        ::unlink(path.c_str());
        return false;
    }
    sock_dev_ = st.st_dev;
    sock_ino_ = st.st_ino;
    path_ = path;
    listen_fd_ = std::move(fd);
    accept_paused_ = false;
    loop_.add(listen_fd_.get(), EPOLLIN, [this](uint32_t ev) { on_listen(ev); });
    return true;
}

void Server::close() {
    for (auto& [id, c] : clients_) loop_.remove(c->fd.get());
    clients_.clear();
    accept_paused_ = false;
    sync_timer();
    if (!listen_fd_) return;
    loop_.remove(listen_fd_.get());
    listen_fd_.reset();
    // Unlink only our own socket: another daemon may have replaced it since.
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == sock_dev_ &&
        st.st_ino == sock_ino_)
        ::unlink(path_.c_str());
}

int64_t Server::next_deadline_ns() const {
    int64_t d = accept_paused_ ? resume_at_ns_ : 0;
    for (const auto& [id, c] : clients_)
        if (d == 0 || c->deadline_ns < d) d = c->deadline_ns;
    return d;
}

void Server::sync_timer() {
    const int64_t d = next_deadline_ns();
    if (d == 0)
        timers_.cancel(this, kTick);
    else if (timers_.deadline(this, kTick) != d)
        timers_.arm_at(this, kTick, d, [this](int64_t now) { on_time(now); });
}

void Server::on_time(int64_t now_ns) {
    std::vector<uint64_t> expired;
    for (const auto& [id, c] : clients_)
        if (c->deadline_ns <= now_ns) expired.push_back(id);
    for (uint64_t id : expired) {
        auto it = clients_.find(id);
        if (it == clients_.end()) continue;
        ++stats_.timeouts;
        if (!it->second->replying) {  // best effort: tell a slow client why
            const bool total = now_ns >= it->second->end_ns;
            const std::string r = reply_error(
                total ? "timeout: no complete request within " + std::to_string(opt_.total_timeout_ns / 1'000'000'000) + " s"
                      : "timeout: no progress for " + std::to_string(opt_.idle_timeout_ns / 1'000'000'000) + " s");
            (void)::send(it->second->fd.get(), r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        drop(id);
    }
    if (accept_paused_ && now_ns >= resume_at_ns_) resume_accepting();
    sync_timer();
}

void Server::pause_accepting(int64_t now_ns) {
    if (accept_paused_ || !listen_fd_) return;
    ++stats_.accept_errors;
    log::warn("{}; control socket stops accepting for 1 s", log::errno_str("accept", errno));
    accept_paused_ = true;
    resume_at_ns_ = now_ns + kAcceptRetryNs;
    loop_.remove(listen_fd_.get());
    sync_timer();
}

void Server::resume_accepting() {
    if (!accept_paused_) return;
    accept_paused_ = false;
    if (listen_fd_) loop_.add(listen_fd_.get(), EPOLLIN, [this](uint32_t ev) { on_listen(ev); });
}

void Server::on_listen(uint32_t) {
    for (int i = 0; i < kMaxAcceptsPerWakeup && listen_fd_; ++i) {
        const int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(now_ns());
            break;  // EAGAIN: drained
        }
        sys::unique_fd cfd(fd);
        if (!make_room()) {
            if (!listen_fd_) return;  // the handler closed the server
            ++stats_.busy;
            const std::string r = reply_error("busy: too many control connections");
            (void)::send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            continue;  // cfd closes
        }
        ++stats_.accepted;
        auto c = std::make_unique<Client>();
        c->id = next_id_++;
        c->fd = std::move(cfd);
        c->end_ns = now_ns() + opt_.total_timeout_ns;
        touch(*c);
        const uint64_t id = c->id;
        loop_.add(c->fd.get(), EPOLLIN | EPOLLRDHUP, [this, id](uint32_t ev) { on_client(id, ev); });
        clients_.emplace(id, std::move(c));
    }
    sync_timer();
}

void Server::touch(Client& c) { c.deadline_ns = std::min(now_ns() + opt_.idle_timeout_ns, c.end_ns); }

bool Server::make_room() {
    while (clients_.size() >= opt_.max_clients && listen_fd_) {
        auto it = std::find_if(clients_.begin(), clients_.end(), [](const auto& kv) { return !kv.second->replying; });
        if (it == clients_.end()) return false;  // all being answered
        // Its request may be waiting unread behind this accept: serve it first.
        const uint64_t id = it->first;
        read_client(id);
        it = clients_.find(id);
        if (it == clients_.end() || it->second->replying) continue;
        ++stats_.evicted;
        const std::string r = reply_error("busy: dropped to make room for a newer connection");
        (void)::send(it->second->fd.get(), r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        drop(id);
    }
    return bool(listen_fd_);
}

void Server::on_client(uint64_t id, uint32_t events) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    if (it->second->replying)
        flush(id);
    else
        read_client(id);
    sync_timer();
}

void Server::read_client(uint64_t id) {
    Client& c = *clients_.at(id);
    char buf[1024];
    for (;;) {
        const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            touch(c);
            const size_t old = c.in.size();
            c.in.append(buf, size_t(n));
            const auto nl = c.in.find('\n', old);
            if (nl != std::string::npos) {
                c.in.resize(nl);
                answer(id, c.in);
                return;
            }
            if (c.in.size() > kMaxRequest) {
                ++stats_.bad_requests;
                start_reply(c, reply_error("request too long (max " + std::to_string(kMaxRequest) + " bytes)"));
                flush(id);
                return;
            }
            continue;
        }
        if (n == 0) {  // EOF: a request without its newline still counts
            if (c.in.empty())
                drop(id);
            else
                answer(id, c.in);
            return;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) drop(id);
        return;
    }
}

void Server::answer(uint64_t id, std::string_view line_view) {
    const std::string line(line_view);  // the handler may destroy the client that holds it
    Request req;
    std::string err, reply;
    if (!parse_request(line, &req, &err)) {
        ++stats_.bad_requests;
        reply = reply_error(err);
    } else if (!handler_) {
        reply = reply_error("netwaked is not ready");
    } else {
        ++stats_.requests;
        try {
            reply = handler_(req);
        } catch (const std::exception& e) {
            reply = reply_error(std::string("internal error: ") + e.what());
        }
    }
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    if (reply.empty() || reply.back() != '\n') reply += '\n';
    start_reply(*it->second, std::move(reply));
    flush(id);
}

void Server::start_reply(Client& c, std::string reply) {
    c.replying = true;
    c.in.clear();
    c.in.shrink_to_fit();
    c.out = std::move(reply);
    c.out_off = 0;
    touch(c);
}

void Server::flush(uint64_t id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    Client& c = *it->second;
    while (c.out_off < c.out.size()) {
        const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out_off += size_t(n);
            touch(c);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            loop_.modify(c.fd.get(), EPOLLOUT);  // level-triggered: wait for room
            return;
        }
        break;  // EPIPE, ECONNRESET: the client went away
    }
    drop(id);
}

void Server::drop(uint64_t id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    loop_.remove(it->second->fd.get());
    clients_.erase(it);
    if (accept_paused_) resume_accepting();  // an fd came free
}

}  // namespace nw::control

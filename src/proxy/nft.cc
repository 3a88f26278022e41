// proxy/nft.cc — NftFirewall (see nft.h): scripts for `table inet netwaked`, posix_spawn of
// `nft -f -` with the script on a memfd as stdin, pidfd reaping on the loop.
#include "proxy/nft.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sys/log.h"

namespace nw::proxy {

namespace {
constexpr int64_t kNftTimeoutNs = 10'000'000'000;

bool quotable(const std::string& ifname) {
    if (ifname.empty() || ifname.size() > 15) return false;
    for (char c : ifname)
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return false;
    return true;
}

bool forwarding_on() {
    for (const char* p : {"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"}) {
        char c = '0';
        const int fd = ::open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (::read(fd, &c, 1) == 1 && c == '1') {
            ::close(fd);
            return true;
        }
        ::close(fd);
    }
    return false;
}

// Around spawning nft after privileges were dropped (the packaged unit runs as user netwaked
// with CAP_NET_ADMIN, and privdrop clears the ambient set so hooks get nothing): CAP_NET_ADMIN
// goes into this thread's inheritable and ambient sets just for the posix_spawn call, so nft —
// and only nft — can change the table. Nothing to do as root.
class NetAdminForChild {
   public:
    NetAdminForChild() {
        if (::geteuid() == 0) return;
        cap_t c = ::cap_get_proc();
        if (!c) return;
        cap_value_t v = CAP_NET_ADMIN;
        cap_flag_value_t have = CAP_CLEAR;
        if (::cap_get_flag(c, v, CAP_PERMITTED, &have) == 0 && have == CAP_SET &&
            ::cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET) == 0 && ::cap_set_proc(c) == 0)
            raised_ = ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) == 0;
        ::cap_free(c);
    }
    ~NetAdminForChild() {
        if (::geteuid() == 0) return;
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (cap_t c = ::cap_get_proc()) {
            ::cap_clear_flag(c, CAP_INHERITABLE);
            ::cap_set_proc(c);
            ::cap_free(c);
        }
    }
    NetAdminForChild(const NetAdminForChild&) = delete;
    NetAdminForChild& operator=(const NetAdminForChild&) = delete;

   private:
    bool raised_ = false;
};

sys::unique_fd memfd_with(const std::string& text) {
    sys::unique_fd fd(::memfd_create("netwaked-nft", MFD_CLOEXEC));
    if (!fd) return fd;
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
        if (n <= 0) return sys::unique_fd();
        off += size_t(n);
    }
    ::lseek(fd.get(), 0, SEEK_SET);
    return fd;
}
}  // namespace

NftFirewall::NftFirewall(sys::Loop& loop, core::TimerQueue& timers) : loop_(loop), timers_(timers) {}

NftFirewall::~NftFirewall() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (pidfd_) loop_.remove(pidfd_.get());
}

std::string NftFirewall::script(const std::vector<std::pair<std::string, packet::Addr>>& held) {
    // "add table" then "delete table" works whether or not a table exists; the rest recreates it.
    std::string s = fmt::format("table inet {0} {{}}\ndelete table inet {0}\n", kNftTable);
    if (held.empty()) return s;
    std::string e4, e6;
    for (const auto& [ifn, a] : held) {
        if (!quotable(ifn)) continue;
        std::string& e = a.is_v4() ? e4 : e6;
        e += fmt::format("{}\"{}\" . {}", e.empty() ? "" : ", ", ifn, a.str());
    }
    auto set = [](const char* name, const char* type, const std::string& elems) {
        return fmt::format("  set {} {{ type ifname . {}; {}}}\n", name, type,
                           elems.empty() ? "" : "elements = { " + elems + " }; ");
    };
    s += fmt::format("table inet {} {{\n", kNftTable);
    s += set("held4", "ipv4_addr", e4) + set("held6", "ipv6_addr", e6);
    s += "  chain prerouting {\n"
         "    type filter hook prerouting priority raw; policy accept;\n"
         "    iifname . ip daddr @held4 counter drop\n"
         "    iifname . ip6 daddr @held6 counter drop\n"
         "  }\n}\n";
    return s;
}

bool NftFirewall::start(std::string* err) {
    for (const char* p : {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"})
        if (::access(p, X_OK) == 0) {
            nft_ = p;
            break;
        }
    if (nft_.empty()) {
        *err = "sleep proxy: nft not found: packets for held addresses are not filtered on this host";
        return false;
    }
    spawn(script({}));  // a table left by a crash goes first
    return true;
}

void NftFirewall::set_held(const std::vector<std::pair<std::string, packet::Addr>>& wanted) {
    wanted_ = wanted;
    std::vector<std::pair<std::string, packet::Addr>> held;
    for (const auto& h : wanted) {
        if (own_ && own_(h.second)) {
            ++own_skipped_;
            log::warn("sleep proxy: {} is an address of this host: left out of table inet {}", h.second.str(), kNftTable);
            continue;
        }
        held.push_back(h);
    }
    applied_ = held;
    if (nft_.empty()) {
        if (!held.empty() && !warned_ && forwarding_on()) {
            warned_ = true;
            log::warn("sleep proxy: IP forwarding is on and nft is missing: this host may route packets for "
                      "held addresses back onto the LAN");
        }
        return;
    }
    std::string text = script(held);
    log::debug("sleep proxy: nft update: {} held address(es){}", held.size(), pid_ > 0 ? " (queued)" : "");
    if (pid_ > 0) pending_ = std::move(text);
    else spawn(text);
}

void NftFirewall::recheck() {
    if (!own_) return;
    for (const auto& h : applied_)
        if (own_(h.second)) return set_held(std::vector(wanted_));
}

bool NftFirewall::spawn(const std::string& text) {
    sys::unique_fd in = memfd_with(text);
    sys::unique_fd out(::memfd_create("netwaked-nft-out", MFD_CLOEXEC));
    if (!in || !out) {
        ++failures_;
        log::warn("{}", log::errno_str("sleep proxy: memfd for nft", errno));
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, out.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, out.get(), 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    char* argv[] = {const_cast<char*>(nft_.c_str()), const_cast<char*>("-f"), const_cast<char*>("-"), nullptr};
    char* envp[] = {const_cast<char*>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), const_cast<char*>("LANG=C"), nullptr};
    pid_t pid = -1;
    int rc;
    {
        NetAdminForChild cap;
        rc = ::posix_spawn(&pid, nft_.c_str(), &fa, &at, argv, envp);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        ++failures_;
        log::warn("{}", log::errno_str("sleep proxy: cannot run " + nft_, rc));
        return false;
    }
    ++runs_;
    pid_ = pid;
    out_ = std::move(out);
    deadline_ns_ = now_ns() + kNftTimeoutNs;
    arm();
    pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (pidfd_) loop_.add(pidfd_.get(), EPOLLIN, [this](uint32_t) { reap(); });
    return true;  // without a pidfd, on_time() polls it at the deadline (on the queue)
}

void NftFirewall::reap() {
    if (pid_ <= 0) return;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == 0) return;
    if (pidfd_) loop_.remove(pidfd_.get());
    pidfd_.reset();
    pid_ = -1;
    timers_.cancel(this, kTimeout);
    if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        ++failures_;
        char msg[512] = {};
        const ssize_t n = out_ ? ::pread(out_.get(), msg, sizeof msg - 1, 0) : 0;
        std::string text(msg, n > 0 ? size_t(n) : 0);
        if (const size_t nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
        log::warn("sleep proxy: nft failed ({}): {}",
                  r < 0 ? "lost" : WIFEXITED(st) ? "exit " + std::to_string(WEXITSTATUS(st)) : "killed", text);
    }
    out_.reset();
    if (pending_) {
        std::string next = std::move(*pending_);
        pending_.reset();
        spawn(next);
    }
}

void NftFirewall::on_time(int64_t now_ns) {
    if (pid_ <= 0) return;
    if (!pidfd_ && now_ns < deadline_ns_) return;
    if (now_ns >= deadline_ns_) {
        log::warn("sleep proxy: nft did not finish within {} s: killed", kNftTimeoutNs / 1000000000);
        ::kill(pid_, SIGKILL);
        deadline_ns_ = now_ns + 1000000000;
    }
    if (!pidfd_) reap();
    if (pid_ > 0 && !timers_.armed(this, kTimeout)) arm();
}

void NftFirewall::arm() {
    timers_.arm_at(this, kTimeout, deadline_ns_, [this](int64_t now) { on_time(now); });
}

bool NftFirewall::wait_child(int timeout_ms) {
    const int64_t end = now_ns() + int64_t(timeout_ms) * 1000000;
    while (pid_ > 0) {
        const int left = int((end - now_ns()) / 1000000);
        if (left <= 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            if (pidfd_) loop_.remove(pidfd_.get());
            pidfd_.reset();
            pid_ = -1;
            timers_.cancel(this, kTimeout);
            return false;
        }
        if (pidfd_) {
            pollfd p{pidfd_.get(), POLLIN, 0};
            ::poll(&p, 1, left);
        } else {
            ::usleep(10000);
        }
        pending_.reset();  // exit: no further update after this one
        reap();
    }
    return true;
}

void NftFirewall::remove_now(int timeout_ms) {
    if (nft_.empty()) return;
    pending_.reset();
    wait_child(timeout_ms / 2);
    if (spawn(script({}))) wait_child(timeout_ms / 2);
}

}  // namespace nw::proxy

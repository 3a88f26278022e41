// sys/process.cc — implementation of sys/process.h (signals, daemonizing, pidfile).
#include "sys/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace nw::sys {

namespace {
int g_ready_fd = -1;  // write end of the pipe to the waiting original process
}

unique_fd block_signals_to_fd(std::string* err) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
        *err = "pthread_sigmask failed";
        return unique_fd();
    }
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) *err = fmt::format("signalfd: {}", std::strerror(errno));
    return unique_fd(fd);
}

bool daemonize(std::string* err) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        *err = fmt::format("pipe: {}", std::strerror(errno));
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        *err = fmt::format("fork: {}", std::strerror(errno));
        return false;
    }
    if (pid > 0) {  // original process: wait for the grandchild's verdict
        close(p[1]);
        std::string msg;
        char buf[512];
        ssize_t n;
        while ((n = read(p[0], buf, sizeof buf)) != 0) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) break;
            msg.append(buf, size_t(n));
        }
        int st;
        waitpid(pid, &st, 0);
        if (msg == "R") _exit(0);
        if (msg.size() > 1 && msg[0] == 'E') std::fprintf(stderr, "netwaked: %s\n", msg.c_str() + 1);
        else std::fprintf(stderr, "netwaked: the daemon exited during start-up (see syslog)\n");
        _exit(1);
    }
    close(p[0]);
    if (setsid() < 0) _exit(1);
    pid = fork();
    if (pid < 0) _exit(1);
    if (pid > 0) _exit(0);
    g_ready_fd = p[1];
    umask(022);
    if (chdir("/") != 0) { /* cannot happen for "/" */ }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2) close(null);
    }
    return true;
}

void daemon_failed(const std::string& msg) {
    if (g_ready_fd < 0) return;
    std::string m = "E" + msg;
    (void)!write(g_ready_fd, m.data(), m.size());
    close(g_ready_fd);
    g_ready_fd = -1;
}

void daemon_ready() {
    if (g_ready_fd < 0) return;
    (void)!write(g_ready_fd, "R", 1);
    close(g_ready_fd);
    g_ready_fd = -1;
}

bool write_pidfile(const std::string& path, std::string* err) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *err = fmt::format("pidfile {}: {}", path, std::strerror(errno));
        return false;
    }
    std::string s = std::to_string(getpid()) + "\n";
    bool ok = write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
    close(fd);
    if (!ok) *err = fmt::format("pidfile {}: short write", path);
    return ok;
}

void remove_pidfile(const std::string& path) {
    if (!path.empty()) unlink(path.c_str());
}

std::string absolute_path(const std::string& p) {
    if (p.empty() || p[0] == '/') return p;
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) return p;
    std::string out = buf;
    if (p.rfind("./", 0) == 0) return out + "/" + p.substr(2);
    return out + "/" + p;
}

}  // namespace nw::sys

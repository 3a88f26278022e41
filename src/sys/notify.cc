// sys/notify.cc — sd_notify(3) datagrams to $NOTIFY_SOCKET: a path or an abstract socket ("@"),
// one short-lived AF_UNIX/SOCK_DGRAM socket per message. Never blocks, never throws, no logging.
#include "sys/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sys/fd.h"

namespace nw::sys {

bool notify_send(std::string_view state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr) return false;
    const size_t len = std::strlen(path);
    sockaddr_un sa{};
    // An abstract address needs at least one name byte after '@'; a path must fit with its NUL.
    if (len < 2 || len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@')) return false;
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path, len);
    socklen_t salen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    if (path[0] == '@') {
        sa.sun_path[0] = '\0';  // abstract namespace: the address length bounds the name, no NUL
    } else {
        salen += 1;  // include the terminating NUL of a filesystem path
    }
    unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return false;
    ssize_t n;
    do {
        n = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&sa),
                     salen);
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(state.size());
}

void notify_ready() { notify_send("READY=1"); }

void notify_reloading() {
    // systemd >= 253 (Type=notify-reload) wants the monotonic time of the reload request;
    // older versions ignore the extra field.
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const unsigned long long usec =
        static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000;
    notify_send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { notify_send("STOPPING=1"); }

}  // namespace nw::sys

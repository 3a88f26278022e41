// tools/register_client.cc — `netwakectl register`: option handling, discovery of the machine's
// MAC, addresses and listeners on the interface routing to the server, and the exchange with
// the server (one JSON object out, "OK.\0" or a message back) within --timeout.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "control/protocol.h"
#include "register_client.h"
#include "sys/fd.h"
#include "wake_args.h"

namespace nw::tools {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kOk = 0, kFail = 1, kUsage = 2;

struct RegOpts {
    std::string host, iface, name, ports = "auto";
    uint16_t port = kRegisterDefaultPort;
    std::vector<std::pair<packet::Addr, std::vector<uint16_t>>> per_address;
    std::vector<packet::Addr> addresses;
    bool dry_run = false, link_local = false, temporary = false, have_mac = false;
    packet::Mac mac{};
    long timeout_ms = 5000;
};

int usage(const std::string& m) {
    std::fprintf(stderr, "netwakectl register: %s\nTry 'netwakectl register --help'.\n", m.c_str());
    return kUsage;
}
int failure(const std::string& m) {
    std::fprintf(stderr, "netwakectl register: %s\n", m.c_str());
    return kFail;
}

std::string read_text(const char* path) {
    std::ifstream f(path);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

bool parse_opts(const Args& args, RegOpts* o, std::string* err) {
    static const std::vector<OptSpec> specs = {
        {'i', "interface", true}, {0, "ports", true},      {0, "ports-per-address", true}, {0, "name", true},
        {0, "address", true},     {0, "mac", true},        {0, "timeout", true},           {0, "dry-run", false},
        {0, "link-local", false}, {0, "temporary", false},
    };
    Scanned sc;
    if (!scan_args(args, specs, &sc, err)) return false;
    if (sc.positional.size() != 1)
        return *err = sc.positional.empty() ? "needs SERVER[:PORT]"
                                            : "takes one SERVER, got \"" + sc.positional[1] + "\" too",
               false;
    if (!parse_server(sc.positional[0], &o->host, &o->port, err)) return false;
    for (const auto& [n, v] : sc.opts) {
        if (n == "interface")
            o->iface = v;
        else if (n == "ports") {
            std::vector<uint16_t> tmp;
            if (v != "auto" && !parse_port_list(v, &tmp, err)) return *err = "--ports: " + *err, false;
            o->ports = v;
        } else if (n == "ports-per-address") {
            const size_t eq = v.find('=');
            packet::Addr a;
            std::vector<uint16_t> ps;
            if (eq == std::string::npos || !packet::parse_addr(v.substr(0, eq), &a, nullptr) ||
                !parse_port_list(v.substr(eq + 1), &ps, err))
                return *err = "--ports-per-address \"" + v + "\": expected ADDR=PORT[,PORT...]", false;
            o->per_address.emplace_back(a, ps);
        } else if (n == "name") {
            if (!control::valid_registration_name(v))
                return *err = "--name \"" + v + "\": want [A-Za-z0-9_.-]{1,64}", false;
            o->name = v;
        } else if (n == "address") {
            packet::Addr a;
            if (!packet::parse_addr(v, &a, err)) return *err = "--address: " + *err, false;
            o->addresses.push_back(a);
        } else if (n == "mac") {
            if (!parse_loose_mac(v, &o->mac, err)) return *err = "--mac: " + *err, false;
            o->have_mac = true;
        } else if (n == "timeout") {
            if (!parse_timeout_ms(v, &o->timeout_ms))
                return *err = "--timeout \"" + v + "\": expected 5s, 500ms or 1m", false;
        } else if (n == "dry-run")
            o->dry_run = true;
        else if (n == "link-local")
            o->link_local = true;
        else if (n == "temporary")
            o->temporary = true;
    }
    return true;
}

packet::Addr from_sockaddr(const sockaddr* sa) {
    if (sa->sa_family == AF_INET)
        return packet::Addr::v4_bytes(
            reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr));
    return packet::Addr::v6_bytes(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr);
}

// The name of the interface whose address the kernel picks as source towards `dst`.
bool route_interface(const sockaddr* dst, socklen_t len, std::string* ifname, std::string* err) {
    sys::unique_fd fd(::socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_storage src{};
    socklen_t sl = sizeof src;
    if (!fd || ::connect(fd.get(), dst, len) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&src), &sl) != 0)
        return *err = std::string("no route: ") + std::strerror(errno), false;
    const packet::Addr me = from_sockaddr(reinterpret_cast<sockaddr*>(&src));
    ifaddrs* ifa = nullptr;
    if (::getifaddrs(&ifa) != 0) return *err = std::string("getifaddrs: ") + std::strerror(errno), false;
    for (ifaddrs* p = ifa; p; p = p->ifa_next)
        if (p->ifa_addr && p->ifa_addr->sa_family == src.ss_family && from_sockaddr(p->ifa_addr) == me) {
            *ifname = p->ifa_name;
            break;
        }
    ::freeifaddrs(ifa);
    if (const size_t c = ifname->find(':'); c != std::string::npos) ifname->resize(c);  // IPv4 label eth0:1
    if (ifname->empty()) return *err = "no interface holds the source address " + me.str(), false;
    return true;
}

// MAC and usable addresses of `ifname`.
bool discover(const std::string& ifname, const RegOpts& o, packet::Mac* mac, std::vector<packet::Addr>* addrs,
              std::string* err) {
    ifaddrs* ifa = nullptr;
    if (::getifaddrs(&ifa) != 0) return *err = std::string("getifaddrs: ") + std::strerror(errno), false;
    bool have_mac = false;
    for (ifaddrs* p = ifa; p; p = p->ifa_next) {
        if (!p->ifa_addr) continue;
        std::string n = p->ifa_name;
        if (const size_t c = n.find(':'); c != std::string::npos) n.resize(c);
        if (n != ifname) continue;
        if (p->ifa_addr->sa_family == AF_PACKET) {
            const auto* ll = reinterpret_cast<const sockaddr_ll*>(p->ifa_addr);
            if (ll->sll_halen == 6) std::memcpy(mac->data(), ll->sll_addr, 6), have_mac = true;
        } else if (p->ifa_addr->sa_family == AF_INET) {
            const packet::Addr a = from_sockaddr(p->ifa_addr);
            if (usable_v4(a, o.link_local)) addrs->push_back(a);
        }
    }
    ::freeifaddrs(ifa);
    for (const auto& e : parse_if_inet6(read_text("/proc/net/if_inet6")))
        if (e.ifname == ifname && usable_v6(e, o.link_local, o.temporary)) addrs->push_back(e.addr);
    if (!have_mac && !o.have_mac) return *err = "interface " + ifname + " has no Ethernet MAC (give --mac)", false;
    return true;
}

// The payload for the interface `ifname` (addresses and ports as the options say).
bool make_payload(const std::string& ifname, const RegOpts& o, std::string* out, std::string* err) {
    packet::Mac mac{};
    std::vector<packet::Addr> addrs;
    if (!discover(ifname, o, &mac, &addrs, err)) return false;
    if (o.have_mac) mac = o.mac;
    if (!o.addresses.empty()) addrs = o.addresses;
    if (addrs.empty()) return *err = "no usable address on " + ifname + " (give --address)", false;
    std::vector<Listener> ls;
    if (o.ports == "auto") {
        ls = parse_proc_net_tcp(read_text("/proc/net/tcp"), false);
        const auto l6 = parse_proc_net_tcp(read_text("/proc/net/tcp6"), true);
        ls.insert(ls.end(), l6.begin(), l6.end());
    }
    std::vector<uint16_t> ports;
    if (o.ports != "auto") parse_port_list(o.ports, &ports, err);
    std::vector<packet::Addr> skipped;
    const std::vector<Monitor> mon = choose_monitors(addrs, ports, o.per_address, ls, &skipped);
    for (const auto& a : skipped)
        std::fprintf(stderr,
                     "netwakectl register: nothing listens on %s (not registered; --ports-per-address adds it)\n",
                     a.str().c_str());
    if (mon.empty()) return *err = "no listening TCP port on any address of " + ifname + " (give --ports)", false;
    std::string name = o.name;
    if (name.empty()) {
        char h[256] = {};
        if (::gethostname(h, sizeof h - 1) == 0 && control::valid_registration_name(h)) name = h;
    }
    *out = build_payload(mac, name, mon);
    return true;
}

long left_ms(Clock::time_point deadline) {
    return std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

// One exchange with `ai`: connect (until `connect_by`), send, read the answer (until `deadline`).
// Returns false with *err when no answer came; true with *answer otherwise.
bool exchange(const addrinfo* ai, const std::string& payload, Clock::time_point connect_by, Clock::time_point deadline,
              std::string* answer, std::string* err) {
    sys::unique_fd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return *err = std::string("socket: ") + std::strerror(errno), false;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
        return *err = std::strerror(errno), false;
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, int(left_ms(connect_by))) <= 0) return *err = "no connection within the timeout", false;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) return *err = std::strerror(soerr), false;
    for (size_t off = 0; off < payload.size();) {
        p = {fd.get(), POLLOUT, 0};
        if (::poll(&p, 1, int(left_ms(deadline))) <= 0) return *err = "timed out sending", false;
        const ssize_t n = ::send(fd.get(), payload.data() + off, payload.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return *err = std::string("send: ") + std::strerror(errno), false;
        if (n > 0) off += size_t(n);
    }
    answer->clear();
    for (;;) {
        p = {fd.get(), POLLIN, 0};
        if (::poll(&p, 1, int(left_ms(deadline))) <= 0) return *err = "no answer within the timeout", false;
        char buf[4096];
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n < 0) return *err = std::string("recv: ") + std::strerror(errno), false;
        if (n == 0) break;
        answer->append(buf, size_t(n));
        if (answer->find('\0') != std::string::npos || answer->size() > 65536) break;
    }
    if (answer->empty()) return *err = "the server closed the connection without answering", false;
    return true;
}

std::string shown_answer(std::string a) {
    if (const size_t z = a.find('\0'); z != std::string::npos) a.resize(z);
    while (!a.empty() && (a.back() == '\n' || a.back() == '\r')) a.pop_back();
    for (char& c : a)
        if (static_cast<unsigned char>(c) < 0x20) c = '?';
    return a;
}

std::string addr_text(const addrinfo* ai) {
    char h[INET6_ADDRSTRLEN] = "?";
    const void* src = ai->ai_family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    ::inet_ntop(ai->ai_family, src, h, sizeof h);
    return ai->ai_family == AF_INET6 ? "[" + std::string(h) + "]" : std::string(h);
}

}  // namespace

int register_main(const Args& args) {
    RegOpts o;
    std::string err;
    if (!parse_opts(args, &o, &err)) return usage(err);
    const auto deadline = Clock::now() + std::chrono::milliseconds(o.timeout_ms);

    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    const std::string port = std::to_string(o.port);
    if (int rc = ::getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res); rc != 0)
        return failure("cannot resolve \"" + o.host + "\": " + ::gai_strerror(rc));
    std::vector<const addrinfo*> cands;
    for (const addrinfo* ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) cands.push_back(ai);

    int rc = kFail;
    std::string why;
    for (size_t k = 0; k < cands.size(); ++k) {
        const addrinfo* ai = cands[k];
        const std::string where = addr_text(ai) + ":" + port;
        std::string ifname = o.iface, payload, answer;
        if (ifname.empty() && !route_interface(ai->ai_addr, ai->ai_addrlen, &ifname, &err)) {
            why += "\n  " + where + ": " + err;
            continue;
        }
        if (!make_payload(ifname, o, &payload, &err)) {
            rc = failure(err);
            why.clear();
            break;
        }
        if (o.dry_run) {
            std::printf("%s\n", payload.c_str());
            rc = kOk;
            why.clear();
            break;
        }
        const auto connect_by = Clock::now() + std::chrono::milliseconds(left_ms(deadline) / long(cands.size() - k));
        if (!exchange(ai, payload, connect_by, deadline, &answer, &err)) {
            why += "\n  " + where + ": " + err;
            if (k + 1 < cands.size())
                std::fprintf(stderr, "netwakectl register: %s: %s; trying the next address\n", where.c_str(),
                             err.c_str());
            continue;
        }
        why.clear();
        if (answer == std::string("OK.\0", 4)) {
            std::printf("registered with %s (%s)\n", where.c_str(), ifname.c_str());
            rc = kOk;
        } else {
            rc = failure(where + " refused the registration: " + shown_answer(answer));
        }
        break;
    }
    ::freeaddrinfo(res);
    if (!why.empty()) return failure("could not register with " + o.host + ":" + port + why);
    return rc;
}

}  // namespace nw::tools

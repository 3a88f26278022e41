// action/wol.cc — implementation of the magic packet sender in action/wol.h.
// Never blocks in send() (non-blocking sockets, no DNS), never throws, never aborts.
#include "action/wol.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "config/text.h"
#include "packet/wol.h"
#include "sys/log.h"

namespace nw::action {

namespace {

std::string errstr(std::string_view what, int e) { return fmt::format("{}: {}", what, std::strerror(e)); }

bool parse_port(std::string_view s, uint16_t* port) {
    if (s.empty() || s.size() > 5) return false;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535) return false;
    *port = static_cast<uint16_t>(v);
    return true;
}

// Interface index (and MAC) by name, asked through `sock` so the socket's own network
// namespace answers. Looked up at every send: interfaces come and go.
bool if_lookup(int sock, const std::string& name, int* index, packet::Mac* mac, std::string* err) {
    ifreq ifr{};
    if (name.empty() || name.size() >= IFNAMSIZ) {
        *err = fmt::format("bad interface name \"{}\"", name);
        return false;
    }
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    if (::ioctl(sock, SIOCGIFINDEX, &ifr) < 0) {
        *err = (errno == ENODEV || errno == ENXIO) ? fmt::format("interface {} not found", name)
                                                   : errstr("interface " + name, errno);
        return false;
    }
    *index = ifr.ifr_ifindex;
    if (mac) {
        if (::ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) {
            *err = errstr("interface " + name + ": hardware address", errno);
            return false;
        }
        std::memcpy(mac->data(), ifr.ifr_hwaddr.sa_data, 6);
    }
    return true;
}

// IPv6 addresses that mean nothing without an interface: link-local unicast, and multicast
// of interface- or link-local scope.
bool needs_scope(const in6_addr& a) {
    const uint8_t* b = a.s6_addr;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;
    return b[0] == 0xff && (b[1] & 0x0f) <= 2;
}

void append(std::string* s, std::string_view part) {
    if (!s) return;
    if (!s->empty()) *s += "; ";
    *s += part;
}

// An IPv6 destination's zone ("eth0", or "3": the interface index itself) as its scope id.
bool set_scope_id(int fd, const std::string& scope, sockaddr_storage* addr, std::string* why) {
    int idx = 0;
    uint16_t numeric = 0;
    if (parse_port(scope, &numeric)) {
        idx = numeric;  // "%3": a numeric zone is the interface index itself
    } else if (!if_lookup(fd, scope, &idx, nullptr, why)) {
        return false;
    }
    reinterpret_cast<sockaddr_in6*>(addr)->sin6_scope_id = static_cast<uint32_t>(idx);
    return true;
}

// 255.255.255.255 has no route of its own: an IP_PKTINFO control message (in `cbuf`) sends it
// out of `ifname`.
bool set_pktinfo(int fd, const std::string& ifname, msghdr* m, char* cbuf, size_t cbuf_len, std::string* why) {
    int idx = 0;
    if (!if_lookup(fd, ifname, &idx, nullptr, why)) return false;
    in_pktinfo pi{};
    pi.ipi_ifindex = idx;
    m->msg_control = cbuf;
    m->msg_controllen = cbuf_len;
    cmsghdr* c = CMSG_FIRSTHDR(m);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return true;
}

}  // namespace

bool WolSenderImpl::open_packet(std::string* err) {
    if (packet_) return true;
    packet_.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!packet_) {
        *err = errstr("AF_PACKET socket for method ethernet (needs CAP_NET_RAW)", errno);
        return false;
    }
    return true;
}

bool WolSenderImpl::open_udp(int family, std::string* err) {
    sys::unique_fd& fd = family == AF_INET ? udp4_ : udp6_;
    if (fd) return true;
    fd.reset(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        *err = errstr(family == AF_INET ? "UDP socket" : "UDP/IPv6 socket", errno);
        return false;
    }
    const int one = 1;
    if (family == AF_INET && ::setsockopt(fd.get(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) {
        *err = errstr("SO_BROADCAST", errno);
        fd.reset();
        return false;
    }
    return true;
}

bool WolSenderImpl::resolve(const config::WolConf& w, Dest* d, std::string* err) {
    packet::Addr host;
    std::string scope, why;
    uint16_t port = 9;
    if (!config::parse_hostport(w.udp_to, 9, &host, &scope, &port, &why)) {
        *err = fmt::format("udp_to \"{}\": {}", w.udp_to, why);
        return false;
    }
    Dest r;
    if (host.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&r.addr);
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(host.v4_host());
        sin->sin_port = htons(port);
        r.len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&r.addr);
        sin6->sin6_family = AF_INET6;
        std::memcpy(sin6->sin6_addr.s6_addr, host.b.data(), 16);
        sin6->sin6_port = htons(port);
        r.len = sizeof(sockaddr_in6);
        r.scope = scope;
        if (r.scope.empty() && needs_scope(sin6->sin6_addr)) r.scope = w.interface;
        if (r.scope.empty() && needs_scope(sin6->sin6_addr)) {
            *err = fmt::format("udp_to \"{}\": a link-local address needs an interface ([addr%eth0]:port)", w.udp_to);
            return false;
        }
    }
    r.label = config::format_hostport(host, r.scope, port);
    *d = std::move(r);
    return true;
}

bool WolSenderImpl::prepare(const config::WolConf& w, std::string* err) {
    if (!w.password.empty() && w.password.size() != 4 && w.password.size() != 6) {
        *err = "wol: SecureOn password must be 4 or 6 bytes";
        return false;
    }
    if (w.methods & static_cast<uint8_t>(config::WolMethod::Ethernet)) {
        if (w.interface.empty()) {
            *err = "wol: method ethernet needs an interface";
            return false;
        }
        if (!open_packet(err)) return false;
        int idx;
        std::string why;
        if (!if_lookup(packet_.get(), w.interface, &idx, nullptr, &why))
            log::warn("wol: {} (looked up again at every send)", why);
    }
    if (w.methods & static_cast<uint8_t>(config::WolMethod::Udp)) {
        Dest d;
        if (!resolve(w, &d, err) || !open_udp(d.addr.ss_family, err)) return false;
    }
    return true;
}

bool WolSenderImpl::send_ethernet(const config::WolConf& w, std::string* desc, std::string* err) {
    std::string why;
    int idx = 0;
    packet::Mac src{};
    if (!open_packet(&why) || !if_lookup(packet_.get(), w.interface, &idx, &src, &why)) {
        append(err, "ethernet " + w.interface + ": " + why);
        return false;
    }
    std::vector<packet::Mac> dsts;
    if (w.ethernet_to != config::EthernetTo::Broadcast) dsts.push_back(w.mac);
    if (w.ethernet_to != config::EthernetTo::Unicast) dsts.push_back(packet::kBroadcastMac);
    std::string sent;
    bool ok = true;
    for (const auto& dst : dsts) {
        uint8_t frame[packet::kMagicFrameMaxLen];
        const size_t n = packet::magic_frame(dst, src, w.mac, w.password, frame);
        if (n == 0) {
            append(err, "ethernet: SecureOn password must be 4 or 6 bytes");
            return false;
        }
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(packet::kEthWol);
        sll.sll_ifindex = idx;
        sll.sll_halen = 6;
        std::memcpy(sll.sll_addr, dst.data(), 6);
        const ssize_t rc = ::sendto(packet_.get(), frame, n, MSG_DONTWAIT | MSG_NOSIGNAL,
                                    reinterpret_cast<sockaddr*>(&sll), sizeof sll);
        if (rc != static_cast<ssize_t>(n)) {
            ok = false;
            append(err, errstr("ethernet " + w.interface + " -> " + packet::mac_str(dst), rc < 0 ? errno : EMSGSIZE));
            continue;
        }
        sent += (sent.empty() ? "" : ",") + packet::mac_str(dst);
    }
    if (!sent.empty()) append(desc, "ethernet " + w.interface + " -> " + sent);
    return ok;
}

bool WolSenderImpl::send_udp(const config::WolConf& w, std::string* desc, std::string* err) {
    std::string why;
    Dest d;  // parsed per send: cheap, and no cache to keep in step with reloads
    if (!resolve(w, &d, &why)) {
        append(err, "udp: " + why);
        return false;
    }
    const int family = d.addr.ss_family;
    if (!open_udp(family, &why)) {
        append(err, "udp " + d.label + ": " + why);
        return false;
    }
    const int fd = family == AF_INET ? udp4_.get() : udp6_.get();

    uint8_t payload[packet::kMagicMaxLen];
    const size_t n = packet::magic_payload(w.mac, w.password, payload);
    if (n == 0) {
        append(err, "udp: SecureOn password must be 4 or 6 bytes");
        return false;
    }
    iovec iov{payload, n};
    msghdr m{};
    m.msg_name = &d.addr;
    m.msg_namelen = d.len;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(in_pktinfo))] = {};
    bool routed = true;
    if (family == AF_INET6 && !d.scope.empty())
        routed = set_scope_id(fd, d.scope, &d.addr, &why);
    else if (family == AF_INET && !w.interface.empty() &&
             reinterpret_cast<sockaddr_in*>(&d.addr)->sin_addr.s_addr == INADDR_BROADCAST)
        routed = set_pktinfo(fd, w.interface, &m, cbuf, sizeof cbuf, &why);
    if (!routed) {
        append(err, "udp " + d.label + ": " + why);
        return false;
    }
    const ssize_t rc = ::sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (rc != static_cast<ssize_t>(n)) {
        append(err, errstr("udp " + d.label + (family == AF_INET && m.msg_control ? " via " + w.interface : ""),
                           rc < 0 ? errno : EMSGSIZE));
        return false;
    }
    append(desc, "udp " + d.label + (m.msg_control ? " via " + w.interface : ""));
    return true;
}

bool WolSenderImpl::send(const config::WolConf& w, std::string* desc, std::string* err) {
    std::string d, e;
    bool ok = true;
    const bool eth = w.methods & static_cast<uint8_t>(config::WolMethod::Ethernet);
    const bool udp = w.methods & static_cast<uint8_t>(config::WolMethod::Udp);
    if (!eth && !udp) {
        e = "no wol method configured";
        ok = false;
    }
    if (eth && !send_ethernet(w, &d, &e)) ok = false;
    if (udp && !send_udp(w, &d, &e)) ok = false;
    if (desc) *desc = std::move(d);
    if (err) *err = std::move(e);
    return ok;
}

bool wol_send_once(const config::WolConf& w, uint32_t repeat, std::chrono::milliseconds interval, std::string* desc,
                   std::string* err) {
    WolSenderImpl s;
    if (!s.prepare(w, err)) return false;
    if (repeat == 0) repeat = 1;
    bool ok = true;
    std::string first_err;
    for (uint32_t i = 0; i < repeat; ++i) {
        if (i > 0 && interval.count() > 0) std::this_thread::sleep_for(interval);
        std::string d, e;
        if (!s.send(w, &d, &e)) {
            ok = false;
            if (first_err.empty()) first_err = e;
        }
        if (desc && !d.empty()) *desc = d;
    }
    if (desc && repeat > 1 && !desc->empty()) *desc += fmt::format(" (x{})", repeat);
    if (!ok && err) *err = first_err;
    return ok;
}

}  // namespace nw::action

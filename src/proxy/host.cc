// proxy/host.cc — HostInfo (getifaddrs snapshot, dropped on RTNETLINK address events) and
// neighbor_mac (rtnetlink RTM_GETNEIGH dump). Read-only views of kernel state; nothing here
// changes the system.
#include "proxy/host.h"

#include <ifaddrs.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "packet/parse.h"
#include "sys/fd.h"
#include "sys/log.h"

namespace nw::proxy {

namespace {

bool to_addr(const sockaddr* sa, packet::Addr* out) {
    if (!sa) return false;
    if (sa->sa_family == AF_INET) {
        sockaddr_in sin;
        std::memcpy(&sin, sa, sizeof sin);
        *out = packet::Addr::v4_bytes(reinterpret_cast<const uint8_t*>(&sin.sin_addr));
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        sockaddr_in6 sin6;
        std::memcpy(&sin6, sa, sizeof sin6);
        *out = packet::Addr::v6_bytes(sin6.sin6_addr.s6_addr);
        return true;
    }
    return false;
}

uint8_t prefix_of(const packet::Addr& mask, bool v4) {
    uint8_t n = 0;
    for (size_t i = v4 ? 12 : 0; i < 16; ++i) {
        uint8_t b = mask.b[i];
        while (b & 0x80) {
            ++n;
            b = uint8_t(b << 1);
        }
        if (mask.b[i] != 0xff) break;
    }
    return uint8_t(v4 ? 96 + n : n);
}

// One getifaddrs() pass: MACs (AF_PACKET entries) and addresses by interface. False if it failed.
bool read_ifaddrs(std::map<std::string, packet::Mac>* macs, std::map<std::string, std::vector<IfAddr>>* addrs) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return false;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || !i->ifa_name) continue;
        if (i->ifa_addr->sa_family == AF_PACKET) {
            sockaddr_ll sll;
            std::memcpy(&sll, i->ifa_addr, sizeof sll);
            if (sll.sll_halen != 6) continue;
            packet::Mac m;
            std::memcpy(m.data(), sll.sll_addr, 6);
            if (packet::is_zero(m)) continue;
            if (macs) (*macs)[i->ifa_name] = m;
            continue;
        }
        IfAddr a;
        packet::Addr mask;
        if (!to_addr(i->ifa_addr, &a.addr)) continue;
        a.prefix_len = to_addr(i->ifa_netmask, &mask) ? prefix_of(mask, a.addr.is_v4()) : 128;
        (*addrs)[i->ifa_name].push_back(a);
    }
    ::freeifaddrs(list);
    return true;
}

}  // namespace

std::map<std::string, std::vector<IfAddr>> host_addresses() {
    std::map<std::string, std::vector<IfAddr>> out;
    if (!read_ifaddrs(nullptr, &out)) out.clear();
    return out;
}

HostInfo::~HostInfo() {
    if (loop_ && nl_) loop_->remove(nl_.get());
}

void HostInfo::refresh() {
    const int64_t now = clock_.now_ns();
    if (taken_ns_ != 0 && now - taken_ns_ < max_age_ns_) return;
    taken_ns_ = now;
    std::map<std::string, packet::Mac> macs;
    std::map<std::string, std::vector<IfAddr>> addrs;
    if (!read_ifaddrs(&macs, &addrs)) return;  // keep the previous snapshot
    macs_ = std::move(macs);
    addrs_ = std::move(addrs);
    mac_set_.clear();
    for (const auto& [name, m] : macs_) mac_set_.insert(m);
}

bool HostInfo::watch(sys::Loop& loop, std::function<void()> changed, std::string* err) {
    sys::unique_fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        *err = log::errno_str("sleep proxy: RTNETLINK address notifications", errno);
        return false;
    }
    if (loop_ && nl_) loop_->remove(nl_.get());
    loop_ = &loop;
    nl_ = std::move(fd);
    changed_ = std::move(changed);
    loop.add(nl_.get(), EPOLLIN, [this](uint32_t) { on_netlink(); });
    return true;
}

// Drains the socket; any address message (or a lost batch: ENOBUFS) drops the snapshot.
void HostInfo::on_netlink() {
    alignas(nlmsghdr) static thread_local char buf[16384];
    bool changed = false;
    for (;;) {
        const ssize_t n = ::recv(nl_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS) {  // notifications were lost: assume anything changed
                changed = true;
                continue;
            }
            if (errno == EINTR) continue;
            break;  // EAGAIN (drained) or a socket error: the snapshot still ages out
        }
        if (n == 0) break;
        int len = int(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf); len >= int(sizeof(nlmsghdr)) && NLMSG_OK(h, unsigned(len));
             h = NLMSG_NEXT(h, len))  // unsigned: NLMSG_OK compares with nlmsg_len
            if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) changed = true;
    }
    if (!changed) return;
    ++events_;
    invalidate();
    log::debug("sleep proxy: the host's addresses changed");
    if (changed_) changed_();
}

std::optional<packet::Mac> HostInfo::if_mac(const std::string& ifname) {
    refresh();
    auto it = macs_.find(ifname);
    if (it != macs_.end()) return it->second;
    return std::nullopt;
}

bool HostInfo::own_mac(const packet::Mac& m) {
    refresh();
    return mac_set_.count(m) != 0;
}

bool HostInfo::own_addr(const packet::Addr& a) {
    refresh();
    for (const auto& [name, list] : addrs_)
        for (const auto& x : list)
            if (x.addr == a) return true;
    return false;
}

std::vector<IfAddr> HostInfo::if_addrs(const std::string& ifname) {
    refresh();
    auto it = addrs_.find(ifname);
    return it == addrs_.end() ? std::vector<IfAddr>{} : it->second;
}

namespace {
// Asks the kernel (netlink socket `fd`) for its neighbor table of one family on interface `idx`.
bool request_neighbors(int fd, int family, unsigned idx, std::string* err) {
    struct {
        nlmsghdr nh;
        ndmsg nd;
    } req{};
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = RTM_GETNEIGH;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nh.nlmsg_seq = 1;
    req.nd.ndm_family = static_cast<unsigned char>(family);
    req.nd.ndm_ifindex = int(idx);
    if (::send(fd, &req, sizeof req, 0) < 0) {
        *err = log::errno_str("RTM_GETNEIGH", errno);
        return false;
    }
    return true;
}

// The link-layer address of one RTM_NEWNEIGH message `h`, if it is a usable entry on interface
// `idx` for the address `want` (`alen` bytes).
bool neighbor_entry_mac(const nlmsghdr* h, unsigned idx, const uint8_t* want, size_t alen, packet::Mac* out) {
    if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return false;
    const auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
    if (nd->ndm_ifindex != int(idx) || (nd->ndm_state & (NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP))) return false;
    int alen_left = int(h->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg)));
    const uint8_t* dst = nullptr;
    const uint8_t* ll = nullptr;
    for (auto* a = reinterpret_cast<rtattr*>(const_cast<ndmsg*>(nd) + 1); RTA_OK(a, alen_left);
         a = RTA_NEXT(a, alen_left)) {
        if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == alen) dst = static_cast<const uint8_t*>(RTA_DATA(a));
        if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) ll = static_cast<const uint8_t*>(RTA_DATA(a));
    }
    if (!dst || !ll || std::memcmp(dst, want, alen) != 0) return false;
    std::memcpy(out->data(), ll, 6);
    return true;
}
}  // namespace

bool neighbor_mac(const std::string& ifname, const packet::Addr& ip, packet::Mac* out, std::string* err) {
    const unsigned idx = ::if_nametoindex(ifname.c_str());
    if (idx == 0) {
        *err = "no interface " + ifname;
        return false;
    }
    sys::unique_fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd) {
        *err = log::errno_str("netlink socket", errno);
        return false;
    }
    const timeval tv{0, 200000};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (!request_neighbors(fd.get(), ip.is_v4() ? AF_INET : AF_INET6, idx, err)) return false;
    const size_t alen = ip.is_v4() ? 4 : 16;
    const uint8_t* want = ip.is_v4() ? &ip.b[12] : ip.b.data();
    alignas(nlmsghdr) static thread_local char buf[32768];
    bool found = false;
    for (;;) {
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0) {
            *err = log::errno_str("reading the neighbor table", n < 0 ? errno : EIO);
            return false;
        }
        int len = int(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf); len >= int(sizeof(nlmsghdr)) && NLMSG_OK(h, unsigned(len));
             h = NLMSG_NEXT(h, len)) {  // unsigned: NLMSG_OK compares with nlmsg_len
            if (h->nlmsg_type == NLMSG_DONE) {
                if (!found) *err = "no usable neighbor entry for " + ip.str() + " on " + ifname;
                return found;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                *err = "the kernel refused the neighbor table dump";
                return false;
            }
            if (!found && neighbor_entry_mac(h, idx, want, alen, out)) found = true;
        }
    }
}

}  // namespace nw::proxy

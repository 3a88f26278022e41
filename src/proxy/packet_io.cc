// proxy/packet_io.cc — AF_PACKET sockets for the sleep proxy (see packet_io.h). The socket is
// created with protocol 0 (receives nothing), gets its BPF filter, and only then is bound to
// ETH_P_ALL on its interface, so no unfiltered frame is ever queued.
#include "proxy/packet_io.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "packet/encode.h"
#include "proxy/bpf.h"
#include "sys/log.h"

namespace nw::proxy {

namespace {
constexpr int kBatch = 64;  // frames per readiness callback (the loop serves others in between)

std::vector<packet::Mac> groups_for(const Interest& in) {
    std::vector<packet::Mac> g;
    for (const auto& a : in.held) {
        if (a.is_v4()) continue;
        const packet::Mac m = packet::ipv6_multicast_mac(packet::solicited_node(a));
        if (std::find(g.begin(), g.end(), m) == g.end()) g.push_back(m);
    }
    return g;
}

bool membership(int fd, int ifindex, const packet::Mac& m, bool add) {
    packet_mreq mr{};
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_MULTICAST;
    mr.mr_alen = 6;
    std::memcpy(mr.mr_address, m.data(), 6);
    return ::setsockopt(fd, SOL_PACKET, add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &mr, sizeof mr) == 0;
}
}  // namespace

PacketIo::PacketIo(sys::Loop& loop, core::TimerQueue& timers, Receiver rx)
    : loop_(loop), timers_(timers), rx_(std::move(rx)), buf_(kSnapLen + 1) {}

PacketIo::~PacketIo() {
    for (auto& [name, s] : socks_) close_sock(*s);
}

bool PacketIo::set_interfaces(const std::vector<std::string>& names, std::string* err) {
    for (auto it = socks_.begin(); it != socks_.end();) {
        if (std::find(names.begin(), names.end(), it->first) == names.end()) {
            close_sock(*it->second);
            timers_.cancel(this, it->second->id);
            it = socks_.erase(it);
        } else {
            ++it;
        }
    }
    bool ok = true;
    for (const auto& n : names) {
        auto& s = socks_[n];
        if (!s) {
            s = std::make_unique<Sock>();
            s->name = n;
            s->id = next_id_++;
        }
        if (s->fd) continue;
        std::string why;
        if (!open_sock(*s, &why)) {
            ok = false;
            if (err) *err += (err->empty() ? "" : "; ") + why;
            retry_later(*s);
        } else {
            timers_.cancel(this, s->id);
            s->retry_ns = 0;
        }
    }
    return ok;
}

bool PacketIo::open_sock(Sock& s, std::string* err) {
    const unsigned idx = ::if_nametoindex(s.name.c_str());
    if (idx == 0) {
        *err = "sleep proxy: no interface " + s.name + " (retrying)";
        ++stats_.open_errors;
        return false;
    }
    sys::unique_fd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        *err = log::errno_str("sleep proxy: AF_PACKET socket on " + s.name + " (needs CAP_NET_RAW)", errno);
        ++stats_.open_errors;
        return false;
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);  // 4.20+; BPF rejects them too
    const auto prog = build_filter(s.interest);
    sock_fprog fp{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = int(idx);
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0 ||
        ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
        *err = log::errno_str("sleep proxy: packet socket on " + s.name, errno);
        ++stats_.open_errors;
        return false;
    }
    s.fd = std::move(fd);
    s.ifindex = int(idx);
    s.groups.clear();
    for (const auto& g : groups_for(s.interest))
        if (membership(s.fd.get(), s.ifindex, g, true)) s.groups.push_back(g);
    Sock* raw = &s;
    loop_.add(s.fd.get(), EPOLLIN, [this, raw](uint32_t) { on_readable(*raw); });
    log::info("sleep proxy: listening on {}", s.name);
    return true;
}

void PacketIo::close_sock(Sock& s) {
    if (!s.fd) return;
    read_stats(s);  // drops counted so far are not lost with the socket
    loop_.remove(s.fd.get());
    s.fd.reset();  // memberships go with the socket
    s.groups.clear();
}

// New filter first (SO_ATTACH_FILTER replaces the old one atomically), then the memberships.
void PacketIo::apply(Sock& s) {
    if (!s.fd) return;
    const auto prog = build_filter(s.interest);
    sock_fprog fp{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
    if (::setsockopt(s.fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0) {
        ++stats_.filter_errors;
        log::warn("{}", log::errno_str("sleep proxy: updating the filter on " + s.name, errno));
    }
    const auto want = groups_for(s.interest);
    for (auto it = s.groups.begin(); it != s.groups.end();) {
        if (std::find(want.begin(), want.end(), *it) == want.end()) {
            membership(s.fd.get(), s.ifindex, *it, false);
            it = s.groups.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& g : want)
        if (std::find(s.groups.begin(), s.groups.end(), g) == s.groups.end()) {
            if (membership(s.fd.get(), s.ifindex, g, true)) s.groups.push_back(g);
            else ++stats_.filter_errors;
        }
}

void PacketIo::set_interest(const std::string& ifname, const Interest& in) {
    auto it = socks_.find(ifname);
    if (it == socks_.end()) return;
    it->second->interest = in;
    apply(*it->second);
}

void PacketIo::on_readable(Sock& s) {
    for (int i = 0; i < kBatch && s.fd; ++i) {
        sockaddr_ll from{};
        socklen_t flen = sizeof from;
        const ssize_t n = ::recvfrom(s.fd.get(), buf_.data(), buf_.size(), MSG_TRUNC,
                                     reinterpret_cast<sockaddr*>(&from), &flen);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            if (errno == ENETDOWN) continue;  // reported once when the link goes down; it recovers
            log::warn("{}", log::errno_str("sleep proxy: reading on " + s.name + " (reopening)", errno));
            close_sock(s);
            retry_later(s);
            return;
        }
        if (from.sll_pkttype == PACKET_OUTGOING) continue;
        size_t len = size_t(n);
        if (len > buf_.size()) {
            ++stats_.truncated;
            len = buf_.size();
        }
        ++stats_.received;
        rx_(s.name, std::span<const uint8_t>(buf_.data(), len), timers_.clock().now_ns());
    }
}

// getsockopt(PACKET_STATISTICS) returns the counts since the previous call and resets them.
void PacketIo::read_stats(Sock& s) {
    if (!s.fd) return;
    tpacket_stats st{};
    socklen_t len = sizeof st;
    if (::getsockopt(s.fd.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return;
    s.drops += st.tp_drops;
    stats_.dropped += st.tp_drops;
}

uint64_t PacketIo::drops(const std::string& ifname) {
    auto it = socks_.find(ifname);
    if (it == socks_.end()) return 0;
    read_stats(*it->second);
    return it->second->drops;
}

uint64_t PacketIo::read_drops() {
    for (auto& [name, s] : socks_) read_stats(*s);
    return stats_.dropped;
}

bool PacketIo::send(const std::string& ifname, std::span<const uint8_t> frame) {
    auto it = socks_.find(ifname);
    if (it == socks_.end() || !it->second->fd || frame.size() < packet::kEthHeaderLen) {
        ++stats_.send_errors;
        return false;
    }
    Sock& s = *it->second;
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = s.ifindex;
    sll.sll_halen = 6;
    std::memcpy(sll.sll_addr, frame.data(), 6);
    std::memcpy(&sll.sll_protocol, frame.data() + 12, 2);
    const ssize_t rc = ::sendto(s.fd.get(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                                reinterpret_cast<sockaddr*>(&sll), sizeof sll);
    if (rc == ssize_t(frame.size())) return true;
    ++stats_.send_errors;
    if (rc < 0 && (errno == ENODEV || errno == ENXIO)) {  // the interface was replaced: reopen
        close_sock(s);
        retry_later(s);
    }
    return false;
}

void PacketIo::retry_later(Sock& s) {
    s.retry_ns = timers_.clock().now_ns() + kRetryNs;
    Sock* raw = &s;  // owned by socks_ until cancelled in set_interfaces
    timers_.arm_at(this, s.id, s.retry_ns, [this, raw](int64_t now) { retry(*raw, now); });
}

void PacketIo::retry(Sock& s, int64_t) {
    s.retry_ns = 0;
    if (s.fd) return;
    std::string why;
    if (!open_sock(s, &why)) retry_later(s);
}

}  // namespace nw::proxy

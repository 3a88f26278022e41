// sensor/pcap.cc — pcap sensor: an immediate-mode libpcap handle with the BPF filter; RTNETLINK
// link events tell it an interface was deleted and when it is back (5 s fallback), so it closes
// and reopens the handle. No policy, no per-packet logging.
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "sensor/ifnames.h"
#include "sensor/sensor.h"
#include "sys/fd.h"
#include "sys/log.h"

namespace nw::sensor {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kRetryNs = 5 * kSec;       // fallback retry while the interface is missing
constexpr int64_t kStatsNs = 1 * kSec;       // pcap_stats at most once a second

bool linktype_of(int dlt, packet::LinkType* lt) {
    switch (dlt) {
        case DLT_EN10MB: *lt = packet::LinkType::Ethernet; return true;
        case DLT_LINUX_SLL: *lt = packet::LinkType::LinuxSll; return true;
        case DLT_LINUX_SLL2: *lt = packet::LinkType::LinuxSll2; return true;
        case 12: case 14: case 101: *lt = packet::LinkType::RawIp; return true;  // DLT_RAW variants
        case DLT_IPV4: *lt = packet::LinkType::Ipv4; return true;
        case DLT_IPV6: *lt = packet::LinkType::Ipv6; return true;
        default: return false;
    }
}

// The message for a pcap_activate failure `st` on interface `ifn` (`pe`: pcap_geterr's text).
std::string activate_error(int st, const std::string& ifn, const std::string& pe) {
    switch (st) {
        case PCAP_ERROR_NO_SUCH_DEVICE: return "pcap: interface " + ifn + ": No such device";
        case PCAP_ERROR_IFACE_NOT_UP: return "pcap: interface " + ifn + " is down";
        case PCAP_ERROR_PERM_DENIED:
            return "pcap: interface " + ifn + ": permission denied (capturing needs CAP_NET_RAW): " + pe;
        case PCAP_ERROR_PROMISC_PERM_DENIED:
            return "pcap: interface " + ifn + ": not allowed to enable promiscuous mode: " + pe;
        default: return "pcap: interface " + ifn + ": " + pe;
    }
}

// Compiles and sets the capture filter `filter` on the activated handle `p`.
bool set_filter(pcap_t* p, const std::string& ifn, const std::string& filter, std::string* err) {
    bpf_program prog{};
    if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        *err = "pcap: interface " + ifn + ": filter \"" + filter + "\": " + pcap_geterr(p);
        return false;
    }
    const int fs = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (fs != 0) {
        *err = "pcap: interface " + ifn + ": cannot set filter: " + pcap_geterr(p);
        return false;
    }
    return true;
}

// What an RTNETLINK buffer says about interface `name` (index `ifindex`, 0 if unknown): it
// exists and is up (RTM_NEWLINK with IFF_UP), or it was deleted (RTM_DELLINK).
struct LinkNews {
    bool up = false;
    bool gone = false;
};
LinkNews link_news(std::span<const uint8_t> buf, const std::string& name, int ifindex) {
    LinkNews news;
    size_t off = 0;
    while (buf.size() - off >= sizeof(nlmsghdr)) {
        nlmsghdr h;
        std::memcpy(&h, &buf[off], sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > buf.size() - off) break;
        const size_t end = off + h.nlmsg_len;
        if ((h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK) && h.nlmsg_len >= sizeof h + sizeof(ifinfomsg)) {
            ifinfomsg ifi;
            std::memcpy(&ifi, &buf[off + sizeof h], sizeof ifi);
            bool named = false;
            size_t a = off + sizeof h + NLMSG_ALIGN(sizeof ifi);
            while (a + sizeof(rtattr) <= end) {
                rtattr ra;
                std::memcpy(&ra, &buf[a], sizeof ra);
                if (ra.rta_len < sizeof ra || ra.rta_len > end - a) break;
                if (ra.rta_type == IFLA_IFNAME) {
                    const char* str = reinterpret_cast<const char*>(&buf[a + sizeof ra]);
                    named = std::string_view(str, strnlen(str, ra.rta_len - sizeof ra)) == name;
                }
                a += RTA_ALIGN(ra.rta_len);
            }
            if (h.nlmsg_type == RTM_NEWLINK && named && (ifi.ifi_flags & IFF_UP)) news.up = true;
            if (h.nlmsg_type == RTM_DELLINK && (named || (ifindex > 0 && ifi.ifi_index == ifindex))) news.gone = true;
        }
        off += NLMSG_ALIGN(h.nlmsg_len);
        if (off > buf.size()) break;
    }
    return news;
}

class PcapSensor final : public Sensor {
   public:
    PcapSensor(const config::SensorConf& c, uint16_t index, Shared* shared)
        : Sensor(c.name, "pcap", index, shared), conf_(*c.pcap) {}
    ~PcapSensor() override { stop(); }

    bool open(std::string* err) override;
    void start() override { thread_ = std::thread([this] { run(); }); }
    void stop() override;

   private:
    // Creates, activates and filters a handle. On failure returns the pcap status
    // (PCAP_ERROR_NO_SUCH_DEVICE, PCAP_ERROR_IFACE_NOT_UP, ...) and a message in *err.
    int open_handle(std::string* err);
    void close_handle();
    void run();
    void dispatch();
    void went_away(const char* why);
    void retry(int64_t now);
    void watch_links();
    void read_links();
    void update_stats();
    static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes);

    config::PcapConf conf_;
    pcap_t* p_ = nullptr;
    int pfd_ = -1;
    packet::LinkType lt_ = packet::LinkType::Ethernet;
    sys::unique_fd stop_fd_, rtnl_;  // rtnl_: link events, open whenever the interface is not "any"
    int ifindex_ = 0;                 // of the interface the open handle captures on (0: "any")
    std::thread thread_;
    int64_t now_ = 0;
    int64_t next_retry_ = 0;       // while missing
    int64_t last_stats_ = 0;
    bool stats_dirty_ = false;
    uint64_t drops_base_ = 0;      // drops of handles closed before
    std::string last_retry_err_;
};

int PcapSensor::open_handle(std::string* err) {
    const std::string& ifn = conf_.interface;
    char eb[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_create(ifn.c_str(), eb);
    if (!p) {
        *err = "pcap: interface " + ifn + ": " + eb;
        return PCAP_ERROR;
    }
    pcap_set_snaplen(p, int(conf_.snaplen));
    pcap_set_promisc(p, conf_.promisc ? 1 : 0);
    pcap_set_immediate_mode(p, 1);
    pcap_set_buffer_size(p, int(conf_.buffer_size));
    const int st = pcap_activate(p);
    if (st < 0) {
        *err = activate_error(st, ifn, pcap_geterr(p));
        pcap_close(p);
        return st;
    }
    if (st > 0) log::warn("sensor {}: pcap: interface {}: {}", name_, ifn, pcap_geterr(p));
    const int dlt = pcap_datalink(p);
    if (!linktype_of(dlt, &lt_)) {
        const char* dn = pcap_datalink_val_to_name(dlt);
        *err = "pcap: interface " + ifn + ": link type " + (dn ? dn : std::to_string(dlt)) +
               " is not supported (Ethernet, Linux cooked or raw IP only" +
               (dlt == 239 ? "; use an nflog sensor for NFLOG groups)" : ")");
        pcap_close(p);
        return PCAP_ERROR;
    }
    if (!conf_.filter.empty() && !set_filter(p, ifn, conf_.filter, err)) {
        pcap_close(p);
        return PCAP_ERROR;
    }
    if (pcap_setnonblock(p, 1, eb) != 0) {
        *err = "pcap: interface " + ifn + ": " + eb;
        pcap_close(p);
        return PCAP_ERROR;
    }
    const int fd = pcap_get_selectable_fd(p);
    if (fd < 0) {
        *err = "pcap: interface " + ifn + ": no selectable file descriptor";
        pcap_close(p);
        return PCAP_ERROR;
    }
    ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);  // libpcap does not set it
    p_ = p;
    pfd_ = fd;
    ifindex_ = ifn == "any" ? 0 : int(::if_nametoindex(ifn.c_str()));
    last_stats_ = monotonic_ns();
    stats_.up.store(true);
    return 0;
}

void PcapSensor::close_handle() {
    if (!p_) return;
    update_stats();
    drops_base_ = stats_.drops.load();
    pcap_close(p_);
    p_ = nullptr;
    pfd_ = -1;
    stats_.up.store(false);
}

bool PcapSensor::open(std::string* err) {
    stop_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_fd_) {
        *err = log::errno_str("pcap: eventfd", errno);
        return false;
    }
    const int st = open_handle(err);
    // Link events tell a deleted interface even when the capture socket does not: libpcap
    // swallows the ENETDOWN of a device that still existed when it looked (deletion race).
    if (st == 0) {
        if (conf_.interface != "any") watch_links();
        return true;
    }
    if (st != PCAP_ERROR_IFACE_NOT_UP) return false;
    // The interface exists but is down (a tun device before its VPN is up): check the filter's
    // syntax now, then wait for it to come up.
    if (!conf_.filter.empty()) {
        pcap_t* dead = pcap_open_dead(DLT_EN10MB, int(conf_.snaplen));
        bpf_program prog{};
        const bool ok = dead && pcap_compile(dead, &prog, conf_.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
        if (!ok) *err = "pcap: interface " + conf_.interface + ": filter \"" + conf_.filter + "\": " +
                        (dead ? pcap_geterr(dead) : "cannot compile");
        else pcap_freecode(&prog);
        if (dead) pcap_close(dead);
        if (!ok) return false;
    }
    log::warn("sensor {}: interface {} is down; waiting for it to come up", name_, conf_.interface);
    err->clear();
    watch_links();
    next_retry_ = monotonic_ns() + kRetryNs;
    return true;
}

void PcapSensor::stop() {
    if (thread_.joinable()) {
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
        thread_.join();
    }
    close_handle();
    rtnl_.reset();
    stop_fd_.reset();
}

void PcapSensor::update_stats() {
    pcap_stat ps{};
    if (p_ && pcap_stats(p_, &ps) == 0) stats_.drops.store(drops_base_ + ps.ps_drop);
    last_stats_ = monotonic_ns();
    stats_dirty_ = false;
}

// Opens the RTNETLINK link-event socket used while the interface is missing.
void PcapSensor::watch_links() {
    if (rtnl_) return;
    rtnl_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    if (rtnl_ && ::bind(rtnl_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) rtnl_.reset();
    if (!rtnl_)
        log::warn("sensor {}: cannot watch link events ({}); retrying every 5 s", name_, std::strerror(errno));
}

void PcapSensor::read_links() {
    uint8_t buf[16384];
    LinkNews news;
    bool missed = false;
    for (;;) {
        const ssize_t n = ::recv(rtnl_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {  // missed events: look for ourselves
                missed = true;
                continue;
            }
            break;
        }
        const LinkNews n1 = link_news({buf, size_t(n)}, conf_.interface, ifindex_);
        news.up = news.up || n1.up;
        news.gone = news.gone || n1.gone;
    }
    if (p_) {
        if (news.gone || (missed && int(::if_nametoindex(conf_.interface.c_str())) != ifindex_))
            went_away("deleted");
    } else if (news.up || missed) {
        retry(monotonic_ns());
    }
}

void PcapSensor::went_away(const char* why) {
    const std::string w = why;  // pcap's buffer dies with the handle
    close_handle();
    log::warn("sensor {}: interface {} went away ({}); waiting for it to come back", name_, conf_.interface, w);
    watch_links();
    last_retry_err_.clear();
    retry(monotonic_ns());  // it may only have bounced
}

void PcapSensor::retry(int64_t now) {
    std::string err;
    if (open_handle(&err) == 0) {
        stats_.reopens.fetch_add(1);
        log::notice("sensor {}: interface {} is back", name_, conf_.interface);
        last_retry_err_.clear();
        return;
    }
    // "No such device" / "is down" is what we are waiting for; anything else is worth one line.
    if (err != last_retry_err_ && err.find("No such device") == std::string::npos &&
        err.find(" is down") == std::string::npos)
        log::warn("sensor {}: {}", name_, err);
    last_retry_err_ = err;
    next_retry_ = now + kRetryNs;
}

void PcapSensor::on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* s = reinterpret_cast<PcapSensor*>(user);
    const std::span<const uint8_t> frame(bytes, h->caplen);
    packet::Decoded& d = s->decoded_;  // decode() resets it: no second zeroing per packet
    const packet::Error de = packet::decode(s->lt_, frame, &d);
    core::PacketMeta meta;
    meta.sensor = s->index_;
    if (s->lt_ == packet::LinkType::LinuxSll2 && frame.size() >= 8) {  // "any": ifindex at 4..7
        const uint32_t ix = uint32_t(frame[4]) << 24 | frame[5] << 16 | frame[6] << 8 | frame[7];
        meta.in_ifindex = ix;
        if (s->want_ifnames()) meta.in_iface = s->ifnames_.name(ix, s->now_);
    } else if (s->conf_.interface != "any") {
        meta.in_iface = s->conf_.interface;
    }
    Raw raw;
    raw.bytes = frame;
    raw.linktype = s->lt_;
    raw.orig_len = h->len;
    s->deliver(d, de, meta, raw, s->now_);
}

// Everything the ring holds, as one batch (pcap_dispatch with no count drains the ring).
void PcapSensor::dispatch() {
    begin_batch();
    now_ = monotonic_ns();
    const int n = pcap_dispatch(p_, -1, &PcapSensor::on_packet, reinterpret_cast<u_char*>(this));
    end_batch();
    if (n < 0) {
        went_away(n == PCAP_ERROR ? pcap_geterr(p_) : "capture stopped");
        return;
    }
    if (n > 0) stats_dirty_ = true;
    if (stats_dirty_ && now_ - last_stats_ >= kStatsNs) update_stats();
}

void PcapSensor::run() {
    for (;;) {
        pollfd fds[3];
        nfds_t nf = 0;
        fds[nf++] = {stop_fd_.get(), POLLIN, 0};
        const int cap_i = p_ ? int(nf) : -1;
        if (p_) fds[nf++] = {pfd_, POLLIN, 0};
        const int rt_i = rtnl_ ? int(nf) : -1;
        if (rt_i >= 0) fds[nf++] = {rtnl_.get(), POLLIN, 0};
        // No timeout while capturing, except once to publish the drop count after traffic.
        int timeout = -1;
        const int64_t now = monotonic_ns();
        if (!p_) timeout = int(std::max<int64_t>(0, next_retry_ - now) / 1'000'000 + 1);
        else if (stats_dirty_) timeout = int(std::max<int64_t>(0, last_stats_ + kStatsNs - now) / 1'000'000 + 1);

        quiesce();
        const int r = ::poll(fds, nf, timeout);
        if (r < 0) {
            if (errno == EINTR) continue;
            log::error("sensor {}: poll: {}; sensor stopped", name_, std::strerror(errno));
            return;
        }
        if (fds[0].revents) return;
        if (rt_i >= 0 && fds[rt_i].revents) read_links();  // first: a deleted link closes p_
        if (cap_i >= 0 && p_ && fds[cap_i].revents) {
            dispatch();
        } else if (r == 0) {
            if (!p_ && monotonic_ns() >= next_retry_) retry(monotonic_ns());
            else if (p_ && stats_dirty_) update_stats();
        }
    }
}

}  // namespace

std::unique_ptr<Sensor> make_pcap_sensor(const config::SensorConf& c, uint16_t index, Shared* shared) {
    return std::make_unique<PcapSensor>(c, index, shared);
}

}  // namespace nw::sensor

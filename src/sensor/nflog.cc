// sensor/nflog.cc — NFLOG sensor: one netfilter log group on a raw netlink socket, recvmmsg +
// the pure packet/nflog parser, adaptive kernel batching. No policy, no per-packet logging.
#include <errno.h>
#include <linux/capability.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "packet/nflog.h"
#include "sensor/ifnames.h"
#include "sensor/nflog_adapt.h"
#include "sensor/sensor.h"
#include "sys/fd.h"
#include "sys/log.h"

namespace nw::sensor {
namespace {

namespace nfl = packet::nflog;

constexpr int kRcvBuf = 4 << 20;        // socket receive buffer (SO_RCVBUFFORCE)
constexpr uint32_t kBusyQthresh = 64;   // packets per kernel batch while busy
constexpr uint32_t kFlushTimeout = 1;   // 1/100 s: the most a packet waits in the kernel (busy)
constexpr uint32_t kLightNlbufsiz = 4096;  // per-message skb while light (small truesize)
constexpr unsigned kSlots = 16;         // messages per recvmmsg
constexpr int kMaxRecvPerWake = 64;     // then poll again (lets stop() in under a flood)

bool have_cap_net_admin() {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &hdr, data) != 0) return true;  // unknown: assume we have it
    return data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

// The message for a group some other netlink socket holds (bind answered EPERM/EBUSY while we
// have CAP_NET_ADMIN). Names the holder from procfs when it can: its port id is usually its pid.
std::string bound_elsewhere(uint16_t group) {
    const std::string g = "NFLOG group " + std::to_string(group);
    std::ifstream f("/proc/net/netfilter/nfnetlink_log");
    std::string line, holder = "holder unknown";
    while (std::getline(f, line)) {
        std::istringstream is(line);
        unsigned grp = 0, port = 0;
        if (!(is >> grp >> port) || grp != group) continue;
        if (pid_t(port) == getpid())
            return g + " is already bound by this netwaked: is it configured for two sensors?";
        holder = "netlink port " + std::to_string(port);
        std::ifstream comm("/proc/" + std::to_string(port) + "/comm");
        std::string name;
        if (port && std::getline(comm, name)) holder += ", process " + std::to_string(port) + " (" + name + ")";
        break;
    }
    return g + " is already bound by another process (" + holder +
           "); a group has a single listener: stop that process or use another group";
}

class NflogSensor final : public Sensor {
   public:
    NflogSensor(const config::SensorConf& c, uint16_t index, Shared* shared)
        : Sensor(c.name, "nflog", index, shared), conf_(*c.nflog) {}
    ~NflogSensor() override { stop(); }

    bool open(std::string* err) override;
    void start() override { thread_ = std::thread([this] { run(); }); }
    void stop() override;

   private:
    bool request(const nfl::ConfigRequest& r, std::string* err);
    bool set_mode(bool busy);
    void run();
    void drain();
    void process(std::span<const uint8_t> buf, int64_t now_ns);
    void packet(const nfl::Packet& p, int64_t now_ns);

    config::NflogConf conf_;
    sys::unique_fd fd_, stop_fd_;
    std::thread thread_;
    uint32_t busy_nlbufsiz_ = 0;
    size_t slot_size_ = 0;
    std::unique_ptr<uint8_t[]> bufs_;
    mmsghdr msgs_[kSlots] = {};
    iovec iov_[kSlots] = {};
    uint32_t nl_seq_ = 1;
    nfl::SeqTracker seq_;
    NflogAdapt adapt_;
    bool warned_config_ = false;
    unsigned errors_ = 0;          // unexpected recvmmsg errors in a row
    uint8_t eth_[14 + 65536 + 1024];  // hw header + payload, for non-IP packets (ARP)
};

// Sends one config request and, if it asks for an ack, waits for it (open() only).
bool NflogSensor::request(const nfl::ConfigRequest& r0, std::string* err) {
    nfl::ConfigRequest r = r0;
    r.nl_seq = nl_seq_++;
    uint8_t msg[128];
    const size_t n = nfl::build_config(r, msg);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_.get(), msg, n, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
        if (err) *err = log::errno_str("send to the kernel", errno);
        return false;
    }
    if (!r.ack) return true;
    std::vector<uint8_t> buf(slot_size_);
    const int64_t deadline = monotonic_ns() + 2'000'000'000;
    for (;;) {
        const int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
        pollfd p{fd_.get(), POLLIN, 0};
        if (left_ms <= 0 || ::poll(&p, 1, int(left_ms)) == 0) {
            if (err) *err = "no answer from the kernel";
            return false;
        }
        const ssize_t got = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            if (errno == ENOBUFS) continue;
            if (err) *err = log::errno_str("receive from the kernel", errno);
            return false;
        }
        int result = -1;
        nfl::for_each({buf.data(), size_t(got)}, [&](const nfl::Message& m) {
            if ((m.kind == nfl::Kind::Ack || m.kind == nfl::Kind::Error) && m.nl_seq == r.nl_seq)
                result = m.kind == nfl::Kind::Ack ? 0 : m.error;
        });  // packets that race with the bind are dropped: the thread is not running yet
        if (result == 0) return true;
        if (result > 0) {
            errno = result;
            return false;  // caller words the message
        }
    }
}

bool NflogSensor::open(std::string* err) {
    const std::string g = std::to_string(conf_.group);
    const uint32_t cr = conf_.copy_range ? conf_.copy_range : 0xffff;
    busy_nlbufsiz_ = std::clamp<uint32_t>(kBusyQthresh * (std::min<uint32_t>(cr, 0xffff) + 256), 16384, 131072);
    // A received skb holds at most its allocation (max(nlbufsiz, one message)) rounded up by
    // the allocator to a power of two; MSG_TRUNC still catches anything larger.
    slot_size_ = std::bit_ceil(size_t(std::max<uint32_t>(busy_nlbufsiz_, std::min<uint32_t>(cr, 0xffff) + 1024)) + 512);

    fd_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER));
    if (!fd_) {
        *err = log::errno_str("NFLOG group " + g + ": netlink socket", errno);
        return false;
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        *err = log::errno_str("NFLOG group " + g + ": bind netlink socket", errno);
        return false;
    }
    const int rcv = kRcvBuf;
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != 0)
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);

    // Bind the group and configure it in one request, so nothing is logged with the kernel
    // defaults (threshold 100, flush 1 s) that would delay a lone packet by a second.
    nfl::ConfigRequest r;
    r.group = conf_.group;
    r.cmd = NFULNL_CFG_CMD_BIND;
    r.copy_mode = NFULNL_COPY_PACKET;
    r.copy_range = conf_.copy_range;
    r.nlbufsiz = kLightNlbufsiz;
    r.timeout = kFlushTimeout;
    r.qthresh = 1;
    r.flags = NFULNL_CFG_F_SEQ;  // per-group numbers count loss; the global one would cost an atomic per packet
    std::string e;
    if (!request(r, &e)) {
        const int en = errno;
        if (!e.empty()) {
            *err = "NFLOG group " + g + ": " + e;
        } else if (en == EPERM && !have_cap_net_admin()) {
            *err = "NFLOG group " + g + ": binding needs CAP_NET_ADMIN (run netwaked as root or "
                   "grant it CAP_NET_ADMIN)";
        } else if (en == EPERM || en == EBUSY) {
            *err = bound_elsewhere(conf_.group);
        } else {
            *err = log::errno_str("NFLOG group " + g + ": the kernel refused to bind it", en);
        }
        fd_.reset();
        return false;
    }

    stop_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_fd_) {
        *err = log::errno_str("NFLOG group " + g + ": eventfd", errno);
        fd_.reset();
        return false;
    }
    bufs_.reset(new uint8_t[slot_size_ * kSlots]);
    for (unsigned i = 0; i < kSlots; ++i) {
        iov_[i] = {bufs_.get() + i * slot_size_, slot_size_};
        msgs_[i].msg_hdr.msg_iov = &iov_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    stats_.up.store(true);
    return true;
}

void NflogSensor::stop() {
    if (thread_.joinable()) {
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
        thread_.join();
    }
    fd_.reset();  // closing the socket unbinds the group
    stop_fd_.reset();
    stats_.up.store(false);
}

// Switches the kernel's batching (see NflogAdapt). No ack: a failure comes back as NLMSG_ERROR.
bool NflogSensor::set_mode(bool busy) {
    nfl::ConfigRequest r;
    r.group = conf_.group;
    r.ack = false;
    r.qthresh = busy ? kBusyQthresh : 1;
    r.nlbufsiz = busy ? busy_nlbufsiz_ : kLightNlbufsiz;
    std::string e;
    if (!request(r, &e)) {
        if (!warned_config_) log::warn("sensor {}: cannot change NFLOG batching: {}", name_, e);
        warned_config_ = true;
        return false;
    }
    log::debug("sensor {}: NFLOG batching {}", name_, busy ? "on (64 packets / 10 ms)" : "off");
    return true;
}

void NflogSensor::run() {
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    for (;;) {
        quiesce();
        const int r = ::poll(fds, 2, adapt_.poll_timeout_ms());
        if (r < 0) {
            if (errno == EINTR) continue;
            log::error("sensor {}: poll: {}; sensor stopped", name_, std::strerror(errno));
            return;
        }
        if (fds[1].revents) return;
        if (r == 0) {
            if (adapt_.on_idle(monotonic_ns())) set_mode(adapt_.busy);
            continue;
        }
        drain();
        if (errors_ >= 1000) {  // the socket is broken for good: do not spin
            log::error("sensor {}: NFLOG socket keeps failing; sensor stopped", name_);
            stats_.up.store(false);
            return;
        }
    }
}

// Reads everything queued on the socket (up to kMaxRecvPerWake recvmmsg calls). Each recvmmsg
// is one batch, so a Hit reaches the core without waiting for the rest of a flood.
void NflogSensor::drain() {
    for (int i = 0; i < kMaxRecvPerWake; ++i) {
        const int n = ::recvmmsg(fd_.get(), msgs_, kSlots, MSG_DONTWAIT, nullptr);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {  // the socket overflowed: loss shows up as NFULA_SEQ gaps
                stats_.enobufs.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && ++errors_ == 1)
                log::warn("sensor {}: recvmmsg: {}", name_, std::strerror(errno));
            break;
        }
        errors_ = 0;
        const int64_t now = monotonic_ns();
        const uint64_t before = stats_.packets.load(std::memory_order_relaxed);
        begin_batch();
        for (int k = 0; k < n; ++k) {
            if (msgs_[k].msg_hdr.msg_flags & MSG_TRUNC) stats_.truncated.fetch_add(1, std::memory_order_relaxed);
            process({static_cast<const uint8_t*>(iov_[k].iov_base), msgs_[k].msg_len}, now);
        }
        end_batch();
        if (adapt_.on_packets(stats_.packets.load(std::memory_order_relaxed) - before, now))
            set_mode(adapt_.busy);
        if (unsigned(n) < kSlots) break;  // the socket was empty: poll again
    }
}

void NflogSensor::process(std::span<const uint8_t> buf, int64_t now_ns) {
    const packet::Error fe = nfl::for_each(buf, [&](const nfl::Message& m) {
        switch (m.kind) {
            case nfl::Kind::Packet:
                packet(m.pkt, now_ns);
                break;
            case nfl::Kind::Bad:
                stats_.malformed.fetch_add(1, std::memory_order_relaxed);
                break;
            case nfl::Kind::Error:
                if (!warned_config_)
                    log::warn("sensor {}: kernel refused an NFLOG setting: {}", name_, std::strerror(m.error));
                warned_config_ = true;
                break;
            default:  // Ack, Done, Other
                break;
        }
    });
    if (fe != packet::Error::Ok) stats_.malformed.fetch_add(1, std::memory_order_relaxed);
}

void NflogSensor::packet(const nfl::Packet& p, int64_t now_ns) {
    if (p.has_seq) {
        if (const uint32_t lost = seq_.observe(p.seq)) stats_.drops.fetch_add(lost, std::memory_order_relaxed);
    }
    packet::Decoded& d = decoded_;  // decode() resets it: no second zeroing per packet
    packet::Error de;
    std::span<const uint8_t> frame = p.payload;
    packet::LinkType lt = packet::LinkType::RawIp;
    const bool eth_hdr = p.hwheader.size() == 14 && (!p.has_hwtype || p.hwtype == ARPHRD_ETHER);
    if (p.has_hdr && p.hw_protocol != packet::kEthIpv4 && p.hw_protocol != packet::kEthIpv6 && eth_hdr &&
        p.payload.size() <= sizeof eth_ - 14) {
        // Not IP (ARP from an arp/bridge-family rule): rebuild the Ethernet frame and decode it.
        std::memcpy(eth_, p.hwheader.data(), 14);
        if (!p.payload.empty()) std::memcpy(eth_ + 14, p.payload.data(), p.payload.size());
        frame = {eth_, 14 + p.payload.size()};
        lt = packet::LinkType::Ethernet;
        de = packet::decode(lt, frame, &d);
    } else {
        de = packet::decode_ip(p.payload, eth_hdr ? p.hwheader : std::span<const uint8_t>{}, &d);
    }
    core::PacketMeta meta;
    meta.sensor = index_;
    meta.prefix = p.prefix;
    meta.has_prefix = p.has_prefix;
    meta.in_ifindex = p.indev;
    meta.out_ifindex = p.outdev;
    char in[IF_NAMESIZE];
    if (want_ifnames()) {  // names cost two lookups: only when a rule compares them
        // Two lookups share one cache: copy the first name before asking for the second.
        const std::string_view in_v = ifnames_.name(p.indev, now_ns);
        const size_t n = std::min(in_v.size(), sizeof in - 1);
        if (n) std::memcpy(in, in_v.data(), n);
        meta.in_iface = std::string_view(in, n);
        meta.out_iface = ifnames_.name(p.outdev, now_ns);
    }
    Raw raw;
    raw.bytes = frame;
    raw.linktype = lt;
    raw.orig_len = std::max<uint32_t>(uint32_t(frame.size()), lt == packet::LinkType::RawIp ? d.ip_total_len : 0);
    deliver(d, de, meta, raw, now_ns);
}

}  // namespace

std::unique_ptr<Sensor> make_nflog_sensor(const config::SensorConf& c, uint16_t index, Shared* shared) {
    return std::make_unique<NflogSensor>(c, index, shared);
}

}  // namespace nw::sensor

// sensor/nflog.cc — NFLOG sensor: one netfilter log group through libnetfilter_log, batched
// recvmmsg into our own buffers, adaptive kernel batching. No policy, no per-packet logging.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnfnetlink/libnfnetlink.h>
#include <linux/capability.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <mutex>
#include <thread>

#include "sensor/ifnames.h"
#include "sensor/nflog_adapt.h"
#include "sensor/sensor.h"
#include "sys/log.h"

namespace nw::sensor {
namespace {

constexpr int kRcvBuf = 4 << 20;        // socket receive buffer (SO_RCVBUFFORCE)
constexpr uint32_t kBusyQthresh = 64;   // packets per kernel batch while busy
constexpr uint32_t kFlushTimeout = 1;   // 1/100 s: the most a packet waits in the kernel (busy)
constexpr uint32_t kLightNlbufsiz = 4096;  // per-message skb while light (small truesize)
constexpr unsigned kSlots = 16;         // messages per recvmmsg
constexpr uint32_t kWakeSeq = 0x6e776b21;  // netlink sequence number of stop()'s wake-up request

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
    void start() override {
        thread_ = std::thread([this] {
            run();
            std::lock_guard lk(exit_mu_);
            exited_ = true;
            exit_cv_.notify_all();
        });
    }
    void stop() override;

   private:
    bool configure(std::string* err);
    void close_handle();
    bool set_mode(bool busy);
    void set_rcvtimeo(int ms);
    bool wake();
    void run();
    void batch(int n);
    void process(std::span<const uint8_t> buf, int64_t now_ns);
    static int on_packet(nflog_g_handle*, nfgenmsg*, nflog_data* nfad, void* self);
    void packet(nflog_data* nfad);
    bool hot(nflog_data* nfad);
    std::string_view prefix_of(const char* pfx) const;

    config::NflogConf conf_;
    nflog_handle* h_ = nullptr;     // owns the netlink socket (fd_ is its descriptor, not owned)
    nflog_g_handle* gh_ = nullptr;
    int fd_ = -1;
    std::thread thread_;
    std::atomic<bool> stopping_{false};  // stop(): the thread returns at its next receive
    std::mutex exit_mu_;                 // exited_: the thread has returned (stop() waits on it)
    std::condition_variable exit_cv_;
    bool exited_ = false;
    int rcvtimeo_ms_ = -1;               // the socket's SO_RCVTIMEO (-1: none)
    uint32_t busy_nlbufsiz_ = 0;
    size_t slot_size_ = 0;
    std::unique_ptr<uint8_t[]> bufs_;
    mmsghdr msgs_[kSlots] = {};
    iovec iov_[kSlots] = {};
    bool running_ = false;           // false while open() configures: packets are dropped
    int64_t now_ns_ = 0;             // receive time of the buffer being processed
    const uint8_t* buf_end_ = nullptr;  // end of that buffer: bounds for the getters' pointers
    const uint8_t* parsed_end_ = nullptr;  // end of the last packet message handed to on_packet
    SeqTracker seq_;
    NflogAdapt adapt_;
    bool warned_config_ = false;
    unsigned errors_ = 0;          // unexpected recvmmsg errors in a row
    const packet::Decoded blank_{};  // what the rules see of a packet they do not look into
    const packet::Key blank_key_{};  // and its key
    packet::Key peeked_;             // the key of the packet in hand (packet::peek_ip)
    uint8_t eth_[14 + 65536 + 1024];  // hw header + payload, for non-IP packets (ARP)
};

// Binds the group and sets it up with acknowledged requests (the socket is still blocking).
// Returns false with errno set by the kernel's answer; *err is set only for local failures.
bool NflogSensor::configure(std::string* err) {
    h_ = nflog_open();
    if (!h_) {
        *err = log::errno_str("netlink socket", errno);
        return false;
    }
    fd_ = nflog_fd(h_);
    ::fcntl(fd_, F_SETFD, FD_CLOEXEC);  // libnfnetlink opens it without SOCK_CLOEXEC
    gh_ = nflog_bind_group(h_, conf_.group);
    if (!gh_) return false;
    // Registered before the settings: packets racing with them are dropped (running_ is false).
    nflog_callback_register(gh_, &NflogSensor::on_packet, this);
    // Threshold and flush first, so as little as possible is logged with the kernel defaults
    // (threshold 100, flush 1 s) that would delay a lone packet by a second.
    // NFULNL_CFG_F_SEQ: per-group numbers count loss; the global one would cost an atomic per packet.
    if (nflog_set_qthresh(gh_, 1) < 0 || nflog_set_timeout(gh_, kFlushTimeout) < 0 ||
        nflog_set_mode(gh_, NFULNL_COPY_PACKET, conf_.copy_range) < 0 ||
        nflog_set_nlbufsiz(gh_, kLightNlbufsiz) < 0 || nflog_set_flags(gh_, NFULNL_CFG_F_SEQ) < 0)
        return false;
    // After nflog_set_nlbufsiz(), which shrinks the receive buffer to ten times nlbufsiz.
    const int rcv = kRcvBuf;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != 0)
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    return true;  // the socket stays blocking: the thread blocks in recvmmsg itself (no poll)
}

// Closing the socket unbinds the group in the kernel. The group handle is ours to free:
// nflog_close() leaves it, and nflog_unbind_group() frees it only after a round trip with the
// kernel, which a non-blocking socket cannot wait for (and which would first dispatch queued
// packets). libnetfilter_log allocates it with calloc and it owns nothing else (1.0.2); without
// this, LeakSanitizer reported 40 bytes per open (every NFLOG scenario in the ASan suite).
void NflogSensor::close_handle() {
    if (h_) nflog_close(h_);
    std::free(gh_);
    h_ = nullptr;
    gh_ = nullptr;
    fd_ = -1;
}

bool NflogSensor::open(std::string* err) {
    const std::string g = std::to_string(conf_.group);
    const uint32_t cr = conf_.copy_range ? conf_.copy_range : 0xffff;
    busy_nlbufsiz_ = std::clamp<uint32_t>(kBusyQthresh * (std::min<uint32_t>(cr, 0xffff) + 256), 16384, 131072);
    // A received skb holds at most its allocation (max(nlbufsiz, one message)) rounded up by
    // the allocator to a power of two; MSG_TRUNC still catches anything larger.
    slot_size_ = std::bit_ceil(size_t(std::max<uint32_t>(busy_nlbufsiz_, std::min<uint32_t>(cr, 0xffff) + 1024)) + 512);

    std::string e;
    if (!configure(&e)) {
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
        close_handle();
        return false;
    }

    bufs_.reset(new uint8_t[slot_size_ * kSlots]);
    for (unsigned i = 0; i < kSlots; ++i) {
        iov_[i] = {bufs_.get() + i * slot_size_, slot_size_};
        msgs_[i].msg_hdr.msg_iov = &iov_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    running_ = true;
    stats_.up.store(true);
    return true;
}

// The thread may be blocked in recvmmsg: wake() makes the kernel answer on the socket, which
// ends the wait. Sent again every 100 ms until the thread is out (a send can fail when the
// kernel is short of memory, and a full receive buffer drops the answer; the thread is busy then).
void NflogSensor::stop() {
    if (thread_.joinable()) {
        stopping_.store(true, std::memory_order_release);
        std::unique_lock lk(exit_mu_);
        while (!exited_) {
            wake();
            exit_cv_.wait_for(lk, std::chrono::milliseconds(100), [this] { return exited_; });
        }
        lk.unlock();
        thread_.join();
    }
    close_handle();
    stats_.up.store(false);
}

// An empty configuration request for our group with NLM_F_ACK: the kernel changes nothing and
// acknowledges it (or refuses it: an answer either way). process() ignores that answer.
bool NflogSensor::wake() {
    alignas(nlmsghdr) char buf[64];
    nlmsghdr* nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, conf_.group);
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = kWakeSeq;
    return nfnl_send(nflog_nfnlh(h_), nlh) >= 0;
}

// The receive timeout: how long recvmmsg waits for a first message (-1: for ever).
void NflogSensor::set_rcvtimeo(int ms) {
    const timeval tv{ms > 0 ? ms / 1000 : 0, ms > 0 ? (ms % 1000) * 1000 : 0};
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0) rcvtimeo_ms_ = ms;
}

// Switches the kernel's batching (see NflogAdapt). No ack (the thread reads the socket): a
// failure comes back as NLMSG_ERROR, which process() reports.
bool NflogSensor::set_mode(bool busy) {
    alignas(nlmsghdr) char buf[64];
    nlmsghdr* nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, conf_.group);
    nfnl_addattr32(nlh, sizeof buf, NFULA_CFG_QTHRESH, htonl(busy ? kBusyQthresh : 1));
    nfnl_addattr32(nlh, sizeof buf, NFULA_CFG_NLBUFSIZ, htonl(busy ? busy_nlbufsiz_ : kLightNlbufsiz));
    if (nfnl_send(nflog_nfnlh(h_), nlh) < 0) {
        if (!warned_config_)
            log::warn("sensor {}: cannot change NFLOG batching: {}", name_, std::strerror(errno));
        warned_config_ = true;
        return false;
    }
    log::debug("sensor {}: NFLOG batching {}", name_, busy ? "on (64 packets / 10 ms)" : "off");
    return true;
}

// One recvmmsg per batch: it blocks for the first message (MSG_WAITFORONE) and takes what else
// is queued, up to kSlots buffers; no poll. In busy mode SO_RCVTIMEO ends a wait after
// NflogAdapt::kIdlePollMs of silence; in light mode a wait has no end (no idle wake-ups).
void NflogSensor::run() {
    for (;;) {
        if (stopping_.load(std::memory_order_acquire)) return;
        if (adapt_.poll_timeout_ms() != rcvtimeo_ms_) set_rcvtimeo(adapt_.poll_timeout_ms());
        quiesce();
        const int n = ::recvmmsg(fd_, msgs_, kSlots, MSG_WAITFORONE, nullptr);
        if (n >= 0) {
            errors_ = 0;
            batch(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {  // the receive timeout: silence (busy mode)
            if (adapt_.on_idle(monotonic_ns())) set_mode(adapt_.busy);
            continue;
        }
        if (errno == ENOBUFS) {  // the socket overflowed: loss shows up as NFULA_SEQ gaps
            stats_.enobufs.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (++errors_ == 1) log::warn("sensor {}: recvmmsg: {}", name_, std::strerror(errno));
        if (errors_ >= 1000) {  // the socket is broken for good: do not spin
            log::error("sensor {}: NFLOG socket keeps failing; sensor stopped", name_);
            stats_.up.store(false);
            return;
        }
    }
}

// The n buffers one recvmmsg returned: one batch, so a Hit reaches the core without waiting
// for the rest of a flood.
void NflogSensor::batch(int n) {
    const int64_t now = monotonic_ns();
    const uint64_t before = stats_.packets.load(std::memory_order_relaxed);
    begin_batch();
    for (int k = 0; k < n; ++k) {
        if (msgs_[k].msg_hdr.msg_flags & MSG_TRUNC) stats_.truncated.fetch_add(1, std::memory_order_relaxed);
        process({static_cast<const uint8_t*>(iov_[k].iov_base), msgs_[k].msg_len}, now);
    }
    end_batch();
    if (adapt_.on_packets(stats_.packets.load(std::memory_order_relaxed) - before, now)) set_mode(adapt_.busy);
}

// One received buffer (one kernel skb): either a batch of packet messages, which the kernel
// ends with NLMSG_DONE when it holds more than one, or the answer to a config request.
void NflogSensor::process(std::span<const uint8_t> buf, int64_t now_ns) {
    if (buf.size() < NLMSG_HDRLEN) {
        stats_.malformed.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const auto* first = reinterpret_cast<const nlmsghdr*>(buf.data());
    if (first->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(first));
        if (first->nlmsg_len < NLMSG_LENGTH(sizeof(int)) || first->nlmsg_len > buf.size()) {
            stats_.malformed.fetch_add(1, std::memory_order_relaxed);
        } else if (e->error != 0 && !warned_config_ && !(first->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->msg.nlmsg_seq == kWakeSeq)) {
            log::warn("sensor {}: kernel refused an NFLOG setting: {}", name_, std::strerror(-e->error));
            warned_config_ = true;
        }
        return;
    }
    now_ns_ = now_ns;
    buf_end_ = buf.data() + buf.size();
    parsed_end_ = buf.data();
    // libnetfilter_log stops at the first message it cannot use and returns -1: normally the
    // closing NLMSG_DONE. Anything else left after the last packet it handed over is malformed.
    if (nflog_handle_packet(h_, reinterpret_cast<char*>(const_cast<uint8_t*>(buf.data())), int(buf.size())) < 0) {
        const size_t left = parsed_end_ < buf_end_ ? size_t(buf_end_ - parsed_end_) : 0;
        const auto* rest = reinterpret_cast<const nlmsghdr*>(parsed_end_);
        if (!(left >= NLMSG_HDRLEN && rest->nlmsg_type == NLMSG_DONE && NLMSG_ALIGN(rest->nlmsg_len) >= left))
            stats_.malformed.fetch_add(1, std::memory_order_relaxed);
    }
}

int NflogSensor::on_packet(nflog_g_handle*, nfgenmsg* nfmsg, nflog_data* nfad, void* self) {
    auto* s = static_cast<NflogSensor*>(self);
    // nfmsg follows its message's netlink header: note where that message ends.
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const uint8_t*>(nfmsg) - NLMSG_HDRLEN);
    s->parsed_end_ = reinterpret_cast<const uint8_t*>(nlh) + NLMSG_ALIGN(nlh->nlmsg_len);
    if (s->running_) s->packet(nfad);
    return 1;  // NFNL_CB_CONTINUE: while open() waits for an ack, keep reading until it comes
}

// NFULA_PREFIX's string. The kernel sends strlen + 1 bytes (the string and its NUL) in an
// attribute whose 4-byte header precedes libnetfilter_log's pointer: its length gives the
// string's without a scan. strnlen only for an attribute not ending in NUL (not the kernel's).
// Empty if the attribute does not lie inside the receive buffers.
std::string_view NflogSensor::prefix_of(const char* pfx) const {
    const auto* p = reinterpret_cast<const uint8_t*>(pfx);
    if (p < bufs_.get() + NFA_LENGTH(0) || p >= buf_end_) return {};
    uint16_t alen;
    std::memcpy(&alen, p - NFA_LENGTH(0), sizeof alen);  // struct nfattr's nfa_len
    size_t n = alen >= NFA_LENGTH(0) ? alen - NFA_LENGTH(0) : 0;
    n = std::min<size_t>(n, size_t(buf_end_ - p));
    return {pfx, n && pfx[n - 1] == '\0' ? n - 1 : strnlen(pfx, n)};
}

// The hot path: fetches and decodes only what the rules read (no hardware header, no
// interface indexes; no decoding at all when they only compare prefixes, or when a keyed
// ruleset's key is the last packet's). False when the packet
// needs the whole path below: a Hit, a knock port, interface or link-layer rules, or a payload
// the IP decoder does not take as it is (ARP, truncated, malformed: counted there).
bool NflogSensor::hot(nflog_data* nfad) {
    if (!hot_ok_) return false;
    std::string_view prefix;
    bool has_prefix = false;
    if (hot_prefix_) {
        if (const char* pfx = nflog_get_prefix(nfad)) {
            has_prefix = true;
            prefix = prefix_of(pfx);
        }
    }
    if (hot_packet_) {
        // Not IP (ARP from an arp/bridge-family rule): packet() rebuilds the Ethernet frame.
        const nfulnl_msg_packet_hdr* ph = nflog_get_msg_packet_hdr(nfad);
        if (ph && ph->hw_protocol != htons(packet::kEthIpv4) && ph->hw_protocol != htons(packet::kEthIpv6)) return false;
        char* data = nullptr;
        const int plen = nflog_get_payload(nfad, &data);
        if (plen <= 0) return false;
        const std::span<const uint8_t> payload(reinterpret_cast<const uint8_t*>(data), size_t(plen));
        // The same key as the last packet (a flow, a service port): its verdicts, without decoding.
        if (hot_keyed_ && packet::peek_ip(payload, hot_addrs_, &peeked_) && deliver_memo(peeked_, has_prefix, prefix, now_ns_))
            return true;
        if (packet::decode_ip(payload, {}, &decoded_) != packet::Error::Ok) return false;
    } else if (deliver_memo(blank_key_, has_prefix, prefix, now_ns_)) {
        return true;
    }
    core::PacketMeta meta;
    meta.sensor = index_;
    meta.has_prefix = has_prefix;
    meta.prefix = prefix;
    return deliver_hot(hot_packet_ ? decoded_ : blank_, meta, now_ns_);
}

void NflogSensor::packet(nflog_data* nfad) {
    const int64_t now_ns = now_ns_;
    if (uint32_t seq = 0; nflog_get_seq(nfad, &seq) == 0) {
        if (const uint32_t lost = seq_.observe(seq)) stats_.drops.fetch_add(lost, std::memory_order_relaxed);
    }
    if (hot(nfad)) return;
    char* data = nullptr;
    const int plen = nflog_get_payload(nfad, &data);
    const std::span<const uint8_t> payload =
        plen > 0 ? std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), size_t(plen)) : std::span<const uint8_t>{};
    // The hardware header: used only when it is a whole Ethernet header inside the buffer.
    std::span<const uint8_t> hwheader;
    const auto* hw = reinterpret_cast<const uint8_t*>(nflog_get_msg_packet_hwhdr(nfad));
    const uint16_t hwtype = nflog_get_hwtype(nfad);  // 0 when absent
    if (hw && nflog_get_msg_packet_hwhdrlen(nfad) == 14 && buf_end_ - hw >= 14 && (hwtype == 0 || hwtype == ARPHRD_ETHER))
        hwheader = {hw, 14};
    const nfulnl_msg_packet_hdr* ph = nflog_get_msg_packet_hdr(nfad);
    const uint16_t proto = ph ? ntohs(ph->hw_protocol) : 0;

    packet::Decoded& d = decoded_;  // decode() resets it: no second zeroing per packet
    packet::Error de;
    std::span<const uint8_t> frame = payload;
    packet::LinkType lt = packet::LinkType::RawIp;
    if (ph && proto != packet::kEthIpv4 && proto != packet::kEthIpv6 && !hwheader.empty() &&
        payload.size() <= sizeof eth_ - 14) {
        // Not IP (ARP from an arp/bridge-family rule): rebuild the Ethernet frame and decode it.
        std::memcpy(eth_, hwheader.data(), 14);
        if (!payload.empty()) std::memcpy(eth_ + 14, payload.data(), payload.size());
        frame = {eth_, 14 + payload.size()};
        lt = packet::LinkType::Ethernet;
        de = packet::decode(lt, frame, &d);
    } else {
        de = packet::decode_ip(payload, hwheader, &d);
    }
    core::PacketMeta meta;
    meta.sensor = index_;
    if (const char* pfx = nflog_get_prefix(nfad)) {
        meta.has_prefix = true;
        meta.prefix = prefix_of(pfx);
    }
    meta.in_ifindex = nflog_get_indev(nfad);
    meta.out_ifindex = nflog_get_outdev(nfad);
    char in[IF_NAMESIZE];
    if (want_ifnames()) {  // names cost two lookups: only when a rule compares them
        // Two lookups share one cache: copy the first name before asking for the second.
        const std::string_view in_v = ifnames_.name(meta.in_ifindex, now_ns);
        const size_t n = std::min(in_v.size(), sizeof in - 1);
        if (n) std::memcpy(in, in_v.data(), n);
        meta.in_iface = std::string_view(in, n);
        meta.out_iface = ifnames_.name(meta.out_ifindex, now_ns);
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

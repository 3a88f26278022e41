// proxy/packet_io.h — the sleep proxy's link layer: ONE AF_PACKET socket per interface (for all
// machines on it), CLOEXEC and non-blocking, with a BPF filter built from the proxy's Interest,
// read on the core loop; also sends frames and joins solicited-node multicast groups.
// Implements FrameSink. Never blocks; per-frame problems are counted, not logged. Reopening a
// socket that failed is a timeout on the loop's core::TimerQueue, key (this, socket id).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/timer_queue.h"
#include "proxy/ports.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace nw::proxy {

class PacketIo : public FrameSink {
   public:
    using Receiver = std::function<void(const std::string& ifname, std::span<const uint8_t> frame, int64_t t_ns)>;

    // `loop` and `timers` must outlive this object; frames are stamped with the queue's clock.
    PacketIo(sys::Loop& loop, core::TimerQueue& timers, Receiver rx);
    ~PacketIo() override;
    PacketIo(const PacketIo&) = delete;
    PacketIo& operator=(const PacketIo&) = delete;

    // Keeps a socket open on exactly these interfaces (opening new ones, closing the rest).
    // An interface that cannot be opened now (missing, down at creation) is retried every
    // few seconds (on the queue). False + *err if any could not be opened now.
    bool set_interfaces(const std::vector<std::string>& names, std::string* err);

    bool send(const std::string& ifname, std::span<const uint8_t> frame) override;
    void set_interest(const std::string& ifname, const Interest& in) override;
    // PACKET_STATISTICS (which the kernel resets on each read) added up per interface.
    uint64_t drops(const std::string& ifname) override;
    // Reads every socket's statistics; returns all drops so far (stats().dropped).
    uint64_t read_drops();

    static constexpr int64_t kRetryNs = 5'000'000'000;  // between attempts to (re)open a socket

    struct Stats {
        uint64_t received = 0, truncated = 0, send_errors = 0, filter_errors = 0, open_errors = 0;
        uint64_t dropped = 0;  // frames the kernel dropped (receive queue full): PACKET_STATISTICS
    };
    const Stats& stats() const { return stats_; }

   private:
    struct Sock {
        std::string name;
        uint64_t id = 0;                  // its timeout's purpose on the queue
        sys::unique_fd fd;
        int ifindex = 0;
        Interest interest;
        std::vector<packet::Mac> groups;  // multicast memberships held
        int64_t retry_ns = 0;             // closed: trying to open again at this time (armed)
        uint64_t drops = 0;               // PACKET_STATISTICS tp_drops, summed over reads
    };
    void read_stats(Sock& s);
    bool open_sock(Sock& s, std::string* err);
    void close_sock(Sock& s);
    void apply(Sock& s);
    void on_readable(Sock& s);
    void retry_later(Sock& s);          // arms (this, s.id) kRetryNs from now
    void retry(Sock& s, int64_t now_ns);

    sys::Loop& loop_;
    core::TimerQueue& timers_;
    Receiver rx_;
    uint64_t next_id_ = 1;
    std::map<std::string, std::unique_ptr<Sock>> socks_;
    std::vector<uint8_t> buf_;
    Stats stats_;
    core::TimerOwner timer_owner_{timers_, this};
};

}  // namespace nw::proxy

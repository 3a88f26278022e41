// proxy/packet_io.h — the sleep proxy's link layer: ONE AF_PACKET socket per interface (for all
// machines on it), CLOEXEC and non-blocking, with a BPF filter built from the proxy's Interest,
// read on the core loop; also sends frames and joins solicited-node multicast groups.
// Implements FrameSink. Never blocks; per-frame problems are counted, not logged.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "proxy/ports.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace nw::proxy {

class PacketIo : public FrameSink {
   public:
    using Receiver = std::function<void(const std::string& ifname, std::span<const uint8_t> frame, int64_t t_ns)>;

    // `loop` must outlive this object.
    PacketIo(sys::Loop& loop, Receiver rx);
    ~PacketIo() override;
    PacketIo(const PacketIo&) = delete;
    PacketIo& operator=(const PacketIo&) = delete;

    // Keeps a socket open on exactly these interfaces (opening new ones, closing the rest).
    // An interface that cannot be opened now (missing, down at creation) is retried every
    // few seconds through on_time(). False + *err if any could not be opened now.
    bool set_interfaces(const std::vector<std::string>& names, std::string* err);

    bool send(const std::string& ifname, std::span<const uint8_t> frame) override;
    void set_interest(const std::string& ifname, const Interest& in) override;
    // PACKET_STATISTICS (which the kernel resets on each read) added up per interface.
    uint64_t drops(const std::string& ifname) override;
    // Reads every socket's statistics; returns all drops so far (stats().dropped).
    uint64_t read_drops();

    int64_t next_deadline_ns() const;
    void on_time(int64_t now_ns);

    struct Stats {
        uint64_t received = 0, truncated = 0, send_errors = 0, filter_errors = 0, open_errors = 0;
        uint64_t dropped = 0;  // frames the kernel dropped (receive queue full): PACKET_STATISTICS
    };
    const Stats& stats() const { return stats_; }
    bool is_open(const std::string& ifname) const;

   private:
    struct Sock {
        std::string name;
        sys::unique_fd fd;
        int ifindex = 0;
        Interest interest;
        std::vector<packet::Mac> groups;  // multicast memberships held
        int64_t retry_ns = 0;             // closed: try to open again at this time
        uint64_t drops = 0;               // PACKET_STATISTICS tp_drops, summed over reads
    };
    void read_stats(Sock& s);
    bool open_sock(Sock& s, std::string* err);
    void close_sock(Sock& s);
    void apply(Sock& s);
    void on_readable(Sock& s);

    sys::Loop& loop_;
    Receiver rx_;
    std::map<std::string, std::unique_ptr<Sock>> socks_;
    std::vector<uint8_t> buf_;
    Stats stats_;
};

}  // namespace nw::proxy

// proxy/announce.h — the per-interface, rate-limited queue for gratuitous ARP and unsolicited NA
// (DESIGN habit 8, keepalived's garp delay). Sends through a FrameSink; owns no timer (the owner
// arms its loop timer to next_deadline_ns()); never blocks, never logs per frame.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "proxy/ports.h"

namespace nw::proxy {

// RFC 5227 §1.1 (IPv4 Address Conflict Detection): ANNOUNCE_NUM = 2 announcements,
// ANNOUNCE_INTERVAL = 2 s apart. We send each takeover announcement as two bursts this far apart.
inline constexpr int kAnnounceNum = 2;
inline constexpr int64_t kAnnounceIntervalNs = 2'000'000'000;
// RFC 4861 §10: MAX_NEIGHBOR_ADVERTISEMENT = 3 unsolicited NAs at most per change; our two
// bursts stay within it.
inline constexpr int kMaxNeighborAdvertisement = 3;
static_assert(kAnnounceNum <= kMaxNeighborAdvertisement);
// Our own limit (no RFC value): at most one announcement frame per 10 ms per interface, and
// at most 512 waiting; beyond that the oldest waiting frame is dropped (counted).
inline constexpr int64_t kAnnounceGapNs = 10'000'000;
inline constexpr size_t kAnnounceQueueMax = 512;

class Announcer {
   public:
    explicit Announcer(FrameSink* sink) : sink_(sink) {}

    // Queues `frame` for `ifname` on behalf of `owner` (a machine id); sends at once if the
    // interface's rate allows it.
    void push(const std::string& ifname, uint64_t owner, std::vector<uint8_t> frame, int64_t now_ns);
    // Drops every queued frame of `owner` (its machine was released: no stale takeover news).
    void cancel(uint64_t owner);
    // Earliest time a queued frame may go out; 0 if nothing is queued.
    int64_t next_deadline_ns() const;
    // Sends what is due.
    void on_time(int64_t now_ns);

    size_t queued() const;
    uint64_t sent() const { return sent_; }
    uint64_t dropped() const { return dropped_; }

   private:
    struct Item {
        uint64_t owner = 0;
        std::vector<uint8_t> frame;
    };
    struct Queue {
        std::deque<Item> items;
        int64_t next_ok_ns = 0;  // the interface may send again at this time
    };
    void send_front(const std::string& ifname, Queue& q, int64_t now_ns);

    FrameSink* sink_;
    std::map<std::string, Queue> q_;
    uint64_t sent_ = 0, dropped_ = 0;
};

}  // namespace nw::proxy

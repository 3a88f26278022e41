// sensor/sensor.h — the sensor interface: one thread per pcap handle / NFLOG group that
// decodes packets, classifies them against the current Ruleset, and hands the core Hits.
// Sensors never touch target state beyond core::TargetShared and never log per packet.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/model.h"
#include "core/knock.h"
#include "core/match.h"
#include "packet/peek.h"
#include "sensor/hitqueue.h"
#include "sensor/ifnames.h"

namespace nw::sensor {

// Counters shown in status (SPEC §11). Written by the sensor thread, read by anyone.
struct Stats {
    std::atomic<uint64_t> packets{0};     // packets received
    std::atomic<uint64_t> matched{0};     // packets that matched at least one target or a knock port
    std::atomic<uint64_t> drops{0};       // kernel drops (pcap_stats ps_drop / NFLOG seq gaps)
    std::atomic<uint64_t> truncated{0};   // decoder: Truncated; NFLOG: recv buffers cut (MSG_TRUNC)
    std::atomic<uint64_t> malformed{0};   // decoder: Malformed/Unsupported
    std::atomic<uint64_t> queue_full{0};  // hits that did not fit the queue (handled via overflow_hits)
    std::atomic<uint64_t> enobufs{0};     // netlink overruns (episodes)
    std::atomic<uint64_t> reopens{0};     // pcap: times the interface came back
    std::atomic<bool> up{false};          // handle currently open
};

// What every sensor shares with the core.
// Ruleset swap protocol: the core stores the new `rules` first, THEN increments `rules_epoch`
// (to E); it may free the old ruleset once every sensor's quiescent_epoch() >= E. A sensor
// loads the epoch before the pointer at the start of each batch, so it never publishes an
// epoch newer than the ruleset it used; before it blocks it publishes the current epoch.
struct Shared {
    std::atomic<const core::Ruleset*> rules{nullptr};  // current snapshot (core swaps it)
    std::atomic<uint64_t> rules_epoch{0};              // bumped by the core on every swap
    int wake_fd = -1;                                   // eventfd: written once per batch that queued a Hit
                                                        // or bumped a target's overflow_hits
    std::atomic<const core::KnockPorts*> knocks{nullptr};  // knock ports; swapped with `rules`
    bool full_frames = false;    // Traffic hits carry the whole frame (-w savefile); set before start
};

class Sensor {
   public:
    virtual ~Sensor() = default;
    // Opens the capture (before privilege drop and before daemonizing); call once. False + *err
    // on failure, with a message a user can act on (group bound by another process, no
    // CAP_NET_ADMIN, no such interface, bad filter).
    virtual bool open(std::string* err) = 0;
    // Starts the thread. Call once, after open() succeeded.
    virtual void start() = 0;
    // Stops and joins the thread; closes the handle.
    virtual void stop() = 0;

    const std::string& name() const { return name_; }
    const char* kind() const { return kind_; }
    uint16_t index() const { return index_; }
    Stats& stats() { return stats_; }
    HitQueue& queue() { return queue_; }
    // Epoch of the ruleset this sensor used in its last completed batch (for safe reclamation).
    uint64_t quiescent_epoch() const { return quiescent_epoch_.load(std::memory_order_acquire); }

   protected:
    Sensor(std::string name, const char* kind, uint16_t index, Shared* shared)
        : name_(std::move(name)), kind_(kind), index_(index), shared_(shared) {
        verdicts_.reserve(64);  // classify() stays allocation-free up to 64 verdicts per packet
    }

    // What deliver() copies into a Hit when one is pushed: the frame's head and its link type.
    struct Raw {
        std::span<const uint8_t> bytes;    // captured bytes (only the first sizeof(Hit::raw) are kept)
        packet::LinkType linktype = packet::LinkType::Ethernet;
        uint32_t orig_len = 0;             // length on the wire (>= bytes.size())
    };

    // Call at the start of every batch: loads the epoch, then the current ruleset (may be null).
    const core::Ruleset* begin_batch();
    // Shared logic for both sensor kinds: counts the packet, classifies it, stores keepalive
    // times for active targets and pushes Hits for idle ones. `derr` is the decoder's result.
    // Allocation-free and syscall-free; call between begin_batch() and end_batch().
    void deliver(const packet::Decoded& d, packet::Error derr, const core::PacketMeta& meta,
                 const Raw& raw, int64_t now_ns);
    // The hot path (issue 16): classifies a packet the caller decoded only as far as the rules
    // look (see Ruleset::uses_packet/uses_prefix/uses_link) and, when every verdict is for an
    // active target, stores the keepalive times and counts the packet. Returns false, having
    // counted nothing, when the packet needs deliver() (a Hit for an idle target, a knock port,
    // no ruleset): the caller then decodes it whole and calls deliver().
    bool deliver_hot(const packet::Decoded& d, const core::PacketMeta& meta, int64_t now_ns);
    // The hot path before any decoding (keyed rulesets): if `k` (packet::peek_ip) and the prefix
    // are the key of the verdicts the last classification left, does what deliver_hot() does with
    // them. False, having done nothing, on any other key or for a Hit: decode, call deliver_hot().
    [[gnu::always_inline]] bool deliver_memo(const packet::Key& k, bool has_prefix, std::string_view prefix, int64_t now_ns) {
        return hot_ok_ && memo_.valid && memo_same(k, has_prefix, prefix) && hot_verdicts(now_ns);
    }
    // Fills the packet part of a Hit (sensor, time, decoded fields, meta, raw head). Interface
    // names the sensor left unresolved (meta.*_ifindex set, name empty) are looked up here.
    // `full_max` > 0: frames longer than raw[] also travel whole (up to full_max bytes) on the heap.
    void fill_hit(core::Hit& h, const packet::Decoded& d, const core::PacketMeta& meta, const Raw& raw, size_t full_max,
                  int64_t now_ns);
    // Should the sensor resolve interface names for classify()? Only if a rule compares them.
    bool want_ifnames() const { return rules_ && rules_->uses_ifaces(); }
    // Call at the end of every batch: wakes the core once if anything was pushed, publishes
    // the epoch loaded by begin_batch().
    void end_batch();
    // Call before blocking while outside a batch: this thread holds no ruleset now, so it
    // publishes the current epoch (lets the core free retired rulesets while we sleep).
    void quiesce();

    std::string name_;
    const char* kind_;
    uint16_t index_;
    Shared* shared_;
    Stats stats_;
    HitQueue queue_;
    std::atomic<uint64_t> quiescent_epoch_{0};
    std::vector<core::Verdict> verdicts_;
    IfNames ifnames_;          // index -> name cache of this sensor thread
    packet::Decoded decoded_;  // the packet being delivered (reused: the decoders reset it)
    const core::KnockPorts* knocks_ = nullptr;  // valid between begin_batch() and end_batch()
    const core::Ruleset* rules_ = nullptr;   // valid between begin_batch() and end_batch()
    uint64_t batch_epoch_ = 0;
    bool pushed_ = false;
    // The hot path's view of the ruleset, set by begin_batch(): may it run at all (a ruleset, no
    // knock ports, no interface or link-layer rules), and what must the sensor fetch for it.
    bool hot_ok_ = false, hot_prefix_ = false, hot_packet_ = false, hot_keyed_ = false, hot_addrs_ = false;
    // The key of the verdicts left in verdicts_ by deliver_hot()'s last classify() (Ruleset::keyed):
    // reused for the next packet with the same key under the same ruleset (begin_batch() drops it
    // when the ruleset changed).
    struct Memo {
        bool valid = false;
        const core::Ruleset* rules = nullptr;
        uint64_t epoch = 0;
        packet::Key key;  // addresses only compared when the rules compare them
        bool has_prefix = false;
        uint8_t plen = 0;
        char prefix[64];
    } memo_;
    bool memo_same(const packet::Key& k, bool has_prefix, std::string_view prefix) const {
        const Memo& m = memo_;
        return k.head() == m.key.head() && m.has_prefix == has_prefix && m.plen == prefix.size() &&
               (m.plen == 0 || std::memcmp(m.prefix, prefix.data(), m.plen) == 0) &&
               (!hot_addrs_ || (k.dst == m.key.dst && k.src == m.key.src));
    }
    // deliver_hot()'s end, on the verdicts in verdicts_ (as in deliver()): keepalive times and
    // counters; false for a Hit (deliver() redoes the packet whole and stores the times again).
    // A batch shares one time: a target's is stored once per batch, not once per packet (a
    // seq_cst store is a locked instruction on x86). Inline: once per packet.
    bool hot_verdicts(int64_t now_ns) {
        for (const core::Verdict& v : verdicts_) {
            core::TargetShared* t = v.target;
            if (t->active.load()) {
                if (v.keepalive && t->last_seen_ns.load(std::memory_order_relaxed) != now_ns) t->last_seen_ns.store(now_ns);
            } else if (v.match) {
                return false;
            }
        }
        bump(stats_.packets);
        if (!verdicts_.empty()) bump(stats_.matched);
        return true;
    }
    // Counters have a single writer (the sensor thread): a plain load+store avoids a locked RMW.
    static void bump(std::atomic<uint64_t>& c) {
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
};

std::unique_ptr<Sensor> make_nflog_sensor(const config::SensorConf& c, uint16_t index, Shared* shared);
std::unique_ptr<Sensor> make_pcap_sensor(const config::SensorConf& c, uint16_t index, Shared* shared);

// CLOCK_MONOTONIC in nanoseconds (the time base of Hit::t_ns and TargetShared::last_seen_ns).
int64_t monotonic_ns();

}  // namespace nw::sensor

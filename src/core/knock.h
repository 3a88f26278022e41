// core/knock.h — knock tracking (SPEC §10): the sensors' port filter and the core's engine for
// sequences and SPA. No I/O, no clock reads, no logging: time comes in, rejections go out by callback.
#pragma once

#include <atomic>
#include <bitset>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/model.h"
#include "core/shared.h"
#include "packet/decode.h"
#include "packet/spa.h"

namespace nw::core {

// The sources with sequence progress, as the sensors see them (SPEC §10: a TCP packet from such
// a source to any other port may reset it, so the sensors must hand it over). The core thread
// adds and removes; sensor threads call has() concurrently. A counting hash table: a false
// positive only queues a packet the engine then ignores. has() is one relaxed load while no
// source has progress, two otherwise.
class KnockSources {
   public:
    static constexpr size_t kSlots = 65536;
    void add(const packet::Addr& a);
    void remove(const packet::Addr& a);
    bool has(const packet::Addr& a) const {
        return total_.load(std::memory_order_relaxed) && slots_[slot(a)].load(std::memory_order_relaxed);
    }
    size_t size() const { return total_.load(std::memory_order_relaxed); }

   private:
    static size_t slot(const packet::Addr& a);
    std::unique_ptr<std::atomic<uint32_t>[]> slots_ = std::make_unique<std::atomic<uint32_t>[]>(kSlots);
    std::atomic<uint32_t> total_{0};
};

// Which packets a sensor must hand the core as HitKind::Knock: TCP/UDP to a destination port
// used by any sequence step or SPA port, and TCP from a source with sequence progress. The
// port sets are immutable after construction, so any number of sensor threads may call
// wants() concurrently. O(1), no allocation.
class KnockPorts {
   public:
    KnockPorts() = default;
    // `relays`: the Wake-on-WAN relay's UDP ports travel the same way (SPEC §7.2).
    explicit KnockPorts(const std::vector<config::KnockConf>& knocks, const std::vector<config::RelayConf>& relays = {});
    bool wants(const packet::Decoded& d) const;
    bool empty() const { return !any_; }
    // The table the KnockEngine built for this configuration fills (see set_sources).
    const std::shared_ptr<KnockSources>& sources() const { return sources_; }

   private:
    std::bitset<65536> tcp_, udp_;
    bool any_ = false;
    std::shared_ptr<KnockSources> sources_;   // null without sequence knocks
};

// A completed knock: the core treats it as a trigger for `target` (reason knock).
struct KnockEvent {
    enum Kind : uint8_t { Sequence, Spa };
    size_t knock_index = 0;          // into the vector the engine was built from
    std::string knock_name, target;
    packet::Addr src{};
    Kind kind = Sequence;
};

struct KnockStats {
    uint64_t sequences_completed = 0;
    uint64_t sequences_evicted = 0;  // in-progress sources dropped because a knock hit its bound
    uint64_t accepted = 0;           // SPA datagrams accepted
    uint64_t bad_hmac = 0, stale = 0, future = 0, replay = 0, malformed = 0, unknown_target = 0;
    uint64_t truncated = 0;          // capture shorter than the datagram (also counted in malformed)
    uint64_t duplicates = 0;         // the same accepted datagram seen again within 2 s from the
                                     // same source (two sensors, retransmission): ignored, not logged
    uint64_t replay_evicted = 0;     // replay-cache entries dropped early because it was full
    uint64_t rejected() const { return bad_hmac + stale + future + replay + malformed + unknown_target; }
};

// The knock engine. Built from the configuration's knock list and, for each SPA knock, its key
// (keys[i] belongs to knocks[i]; empty for sequences — an SPA knock with an empty key rejects
// everything as bad_hmac). Single-threaded: the core thread owns it.
class KnockEngine {
   public:
    // Sources in progress per sequence knock, bounded separately: at most kMaxFreshPerKnock
    // that have only hit step 1 (cheap to spoof: one SYN each; ~3 s of a 5 kpps spoofed flood
    // before the oldest goes) and at most kMaxSourcesPerKnock that got further. A flood of
    // step-1 sources evicts only other step-1 sources, never an attempt that made progress.
    static constexpr size_t kMaxFreshPerKnock = 16384;
    static constexpr size_t kMaxSourcesPerKnock = 4096;
    static constexpr size_t kMaxReplayEntries = 65536;
    static constexpr int64_t kDuplicateNs = 2'000'000'000;    // see KnockStats::duplicates
    static constexpr int64_t kTimerSlackNs = 250'000'000;     // expiry timers coalesce to 250 ms

    KnockEngine() = default;
    KnockEngine(const std::vector<config::KnockConf>& knocks, std::vector<std::vector<uint8_t>> keys);
    KnockEngine(KnockEngine&&) = default;
    KnockEngine& operator=(KnockEngine&&) = default;

    // Called once per SPA rejection with the source and a one-line reason naming the knock
    // ("remote: bad HMAC"). Reasons never contain bytes from the datagram other than a target
    // name that passed [A-Za-z0-9_.-].
    std::function<void(const packet::Addr& src, std::string_view reason)> on_reject;

    // Feeds one packet. `payload` is the UDP payload as captured (used only for SPA ports).
    // `now_ns` monotonic, `wall_s` unix seconds. Appends completed knocks to *out.
    void on_packet(const packet::Decoded& d, std::span<const uint8_t> payload, int64_t now_ns,
                   int64_t wall_s, std::vector<KnockEvent>* out);
    // Convenience for the core: the payload is taken from the Hit's frame (whole if it travelled; see hit_payload).
    void on_hit(const Hit& h, int64_t wall_s, std::vector<KnockEvent>* out) {
        on_packet(h.d, hit_payload(h), h.t_ns, wall_s, out);
    }
    // The captured UDP/TCP payload of a Hit (empty if it lies beyond raw_len).
    static std::span<const uint8_t> hit_payload(const Hit& h);

    // Earliest time (monotonic ns) at which on_time() has something to drop; 0 if none.
    int64_t next_deadline_ns() const;
    // Drops expired sequence progress and replay-cache entries.
    void on_time(int64_t now_ns);

    // Replay cache persistence: (nonce as 32 lowercase hex digits, expiry in unix seconds).
    std::vector<std::pair<std::string, int64_t>> replay_entries() const;
    // Adds saved entries (after a restart, or from the engine a reload replaces). Skips malformed
    // nonces and entries already expired at wall_s; expiries further ahead than the largest SPA
    // window (at least 1 day if there is no SPA knock) are clamped to it.
    void restore_replay(const std::vector<std::pair<std::string, int64_t>>& entries, int64_t now_ns,
                        int64_t wall_s);
    // Records a nonce accepted by another authenticated channel (MQTT signed commands, SPEC
    // §16) in this same cache, persisted like SPA's; false if it was already there.
    bool claim_nonce(const packet::SpaNonce& n, int64_t expires_wall_s, int64_t now_ns, int64_t wall_s);
    // Bumped whenever the replay cache gains an entry: save when it changed (after each Spa event).
    uint64_t replay_generation() const { return replay_gen_; }
    // The entries accepted from datagrams since the last call (not restored ones), in order: the
    // runtime appends them to the replay log. Take them after every on_packet (unbounded otherwise).
    std::vector<std::pair<std::string, int64_t>> take_new_replay() { return std::exchange(new_replay_, {}); }

    // Publishes every source with sequence progress to `s` (KnockPorts::sources(), for the
    // sensors). Call before the first packet; without it only the knock's ports reset progress.
    void set_sources(std::shared_ptr<KnockSources> s) { sources_ = std::move(s); }

    const KnockStats& stats() const { return stats_; }
    size_t replay_size() const { return replay_.size(); }

   private:
    struct Progress {
        packet::Addr src{};
        int64_t first_ns = 0;     // first hit; the attempt expires at first_ns + timeout
        int64_t last_ns = 0;      // last accepted step (duplicate detection)
        size_t next = 0;          // index of the expected step
    };
    struct AddrHash {
        size_t operator()(const packet::Addr& a) const;
    };
    struct SeqKnock {
        size_t index = 0;
        std::string name, target;
        std::vector<config::KnockStep> steps;
        int64_t timeout_ns = 0;
        config::TcpFlags flags;
        std::list<Progress> fresh;     // next == 1, by first hit (= by expiry); front is oldest
        std::list<Progress> advanced;  // next >= 2, kept sorted by first hit too
        std::unordered_map<packet::Addr, std::list<Progress>::iterator, AddrHash> by_src;
    };
    struct SpaKnock {
        size_t index = 0;
        std::string name, target;
        uint16_t port = 0;
        int64_t window_s = 0;
        std::shared_ptr<packet::SpaKey> key;   // shared between knocks with identical keys
    };
    struct ReplayEntry {
        int64_t expires_wall_s = 0;
        int64_t deadline_ns = 0;  // monotonic equivalent of expires_wall_s
        packet::Addr src{};       // who sent the accepted datagram (duplicate detection)
        int64_t accepted_ns = 0;
    };

    void seq_packet(SeqKnock& k, const packet::Decoded& d, int64_t now_ns, std::vector<KnockEvent>* out);
    void seq_erase(SeqKnock& k, std::list<Progress>::iterator it);
    void seq_promote(SeqKnock& k, std::list<Progress>::iterator it);
    void spa_packet(const packet::Decoded& d, std::span<const uint8_t> payload, int64_t now_ns,
                    int64_t wall_s, std::vector<KnockEvent>* out);
    const SpaKnock* spa_key_for(uint16_t port, const packet::SpaMessage& msg) const;
    bool spa_in_window(const SpaKnock& k, const packet::Addr& src, int64_t ts, int64_t wall_s);
    bool spa_nonce_fresh(const SpaKnock& k, const packet::Addr& src, const packet::SpaNonce& n, int64_t now_ns);
    void reject(const packet::Addr& src, uint64_t* counter, const std::string& knock, std::string_view why);
    void replay_insert(const packet::SpaNonce& n, ReplayEntry e);

    std::vector<SeqKnock> seqs_;
    std::vector<SpaKnock> spas_;
    std::bitset<65536> spa_ports_;
    int64_t max_window_s_ = 86400;
    std::map<packet::SpaNonce, ReplayEntry> replay_;
    std::set<std::pair<int64_t, packet::SpaNonce>> replay_by_deadline_;
    uint64_t replay_gen_ = 0;
    std::vector<std::pair<std::string, int64_t>> new_replay_;
    KnockStats stats_;
    std::shared_ptr<KnockSources> sources_;
};

}  // namespace nw::core

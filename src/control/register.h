// control/register.h — Wakupator-compatible self-registration (SPEC §9): a pure payload parser,
// the checks against the register settings and the host, and a non-blocking TCP server on the
// core loop. The parser does no I/O; the server never blocks and owns no timerfd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "core/ports.h"
#include "core/timer_queue.h"
#include "packet/decode.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace nw::control {

inline constexpr size_t kRegisterMaxPayload = 64 * 1024;  // bytes of one registration
inline constexpr size_t kRegisterMaxMonitor = 32;         // addresses per registration
inline constexpr size_t kRegisterMaxPorts = 256;          // ports per address
inline constexpr int kRegisterMaxDepth = 8;               // JSON nesting (the payload needs 3)

struct RegMonitor {
    packet::Addr ip{};
    std::vector<uint16_t> ports;  // sorted, unique; empty ("port": []): held, but nothing wakes it
};

struct Registration {
    packet::Mac mac{};
    std::string name;             // [A-Za-z0-9_.-]{1,64}; default: the MAC as "aa-bb-cc-dd-ee-ff"
    std::vector<RegMonitor> monitor;
};

// Whether `s` may name a registration: a valid target name (protocol.h) that does not start
// with '-' or '.' (an option to a hook, ".."). Names reach root-run hooks as an argument.
bool safe_registration_name(std::string_view s);
// The name of a registration that gives none: its MAC with dashes ("d8-cb-8a-39-be-a1"), which
// fits the target-name charset (hooks get the name as an argument and in NETWAKED_TARGET).
std::string name_from_mac(const packet::Mac& mac);

// Parses one payload: {"mac": ..., "name": ..., "monitor": [{"ip": ..., "port": [...]}]}.
// `name` must be a valid target name (valid_target_name, protocol.h).
// Unknown keys are ignored (newer clients). On error returns false with a one-line message
// naming the field: `monitor[1].port[0]: 70000 is not a port (1-65535)`. Pure.
bool parse_registration(std::string_view text, Registration* out, std::string* err);

// Finds where the first top-level JSON object ends while bytes arrive in pieces, tracking
// strings and escapes; each byte is looked at once. Pure.
class ObjectScanner {
   public:
    enum class Result { Incomplete, Complete, Invalid };
    // Scans the bytes of `buf` not seen yet (`buf` holds everything received so far).
    Result feed(std::string_view buf);
    size_t end() const { return end_; }  // one past the closing brace, when Complete
   private:
    size_t pos_ = 0, end_ = 0;
    int depth_ = 0;
    bool started_ = false, in_str_ = false, esc_ = false;
};

// What validate_registration() needs from the running daemon.
struct RegisterEnv {
    const config::RegisterConf* conf = nullptr;
    core::HostView* host = nullptr;
    // The peer's MAC from the neighbor table of `ifname` (proxy::neighbor_mac in the daemon).
    std::function<bool(const std::string& ifname, const packet::Addr& ip, packet::Mac* mac, std::string* err)> neighbor;
};

// Whether `peer` is inside `allow` (the last matching entry decides; "!" entries exclude).
bool peer_allowed(const std::vector<config::Cidr>& allow, const packet::Addr& peer);

// The host-side checks of SPEC §9: the peer is inside register.allow; unless any_mac, `mac` is
// the peer's own (neighbor table); every address is on-link on register.interface, is not the
// host's own, and is not a network or broadcast address there. One-line message on refusal.
bool validate_registration(const Registration& r, const packet::Addr& peer, const RegisterEnv& env,
                           std::string* err);

class RegisterServer {
   public:
    // Decides on a parsed registration from `peer`: returns "" if accepted, else the refusal.
    using Handler = std::function<std::string(const Registration& r, const packet::Addr& peer)>;
    // Decides at accept whether `peer` may register at all (register.allow): if not, the
    // connection is closed at once and takes no slot. Unset: everyone may.
    using Admit = std::function<bool(const packet::Addr& peer)>;

    // Slots are bounded in all and per peer (an IPv4 address, or an IPv6 /64: one host can
    // use many addresses of its /64). At either bound the oldest unfinished connection in
    // that scope makes room, so slow peers cannot keep a fresh, fast one out. A connection
    // must send `min_rate` bytes a second on average after `grace_ns` (a silent peer is
    // closed after grace_ns, a dribbling one soon after) and finish within total_timeout_ns.
    struct Options {
        size_t max_clients = 64;
        size_t max_per_peer = 8;
        int64_t grace_ns = 5'000'000'000;             // silent this long from connect: closed
        uint64_t min_rate = 128;                      // bytes/s owed after the grace period
        int64_t total_timeout_ns = 10'000'000'000;    // no complete payload after this: closed
        int64_t linger_ns = 1'000'000'000;            // writing the answer / draining after it
    };

    // `loop` and `timers` must outlive the server; its deadlines are one keyed timeout,
    // (this, kTick), on the loop's queue, whose clock is its only clock.
    RegisterServer(sys::Loop& loop, core::TimerQueue& timers) : RegisterServer(loop, timers, Options{}) {}
    RegisterServer(sys::Loop& loop, core::TimerQueue& timers, Options opt);
    ~RegisterServer();
    RegisterServer(const RegisterServer&) = delete;
    RegisterServer& operator=(const RegisterServer&) = delete;

    void set_handler(Handler h) { handler_ = std::move(h); }
    void set_admit(Admit a) { admit_ = std::move(a); }

    // Listens on "addr:port" / "[v6%if]:port" (config::parse_hostport syntax). Closes a
    // previous socket first.
    bool open(const std::string& listen, std::string* err);
    void close();
    bool is_open() const { return bool(listen_fd_); }
    const std::string& listen_address() const { return listen_; }

    static constexpr core::TimerQueue::Purpose kTick = 0;  // its one timeout on the queue
    size_t clients() const { return clients_.size(); }

    struct Stats {
        uint64_t accepted = 0, registered = 0, refused = 0, invalid = 0, too_large = 0;
        uint64_t timeouts = 0, busy = 0, accept_errors = 0;
        uint64_t denied = 0;   // peers outside register.allow, closed at accept
        uint64_t evicted = 0;  // unfinished connections closed to make room for a new one
    };
    const Stats& stats() const { return stats_; }

   private:
    enum class Phase { Reading, Writing, Draining };
    struct Client {
        uint64_t id = 0;
        sys::unique_fd fd;
        packet::Addr peer{};
        packet::Addr key{};       // what max_per_peer counts: the address, or its /64
        std::string in;
        ObjectScanner scan;
        std::string out;
        size_t out_off = 0;
        Phase phase = Phase::Reading;
        int64_t start_ns = 0, hard_deadline_ns = 0;
    };
    void on_listen();
    // Finds room for a new connection from `key`: true if there is (possibly after evicting
    // the oldest unfinished connection of that peer, or of all).
    bool make_room(const packet::Addr& key);
    void on_client(uint64_t id, uint32_t events);
    void read_some(Client& c);
    void answer(Client& c, std::string text, bool ok = false);
    void flush(Client& c);
    void drain(Client& c);
    void drop(uint64_t id);
    int64_t deadline(const Client& c) const;
    int64_t next_deadline_ns() const;  // earliest deadline, 0 if none
    void on_time(int64_t now_ns);
    void sync_timer();                 // (re)arms or cancels kTick at next_deadline_ns()
    int64_t now_ns() const { return timers_.clock().now_ns(); }

    sys::Loop& loop_;
    core::TimerQueue& timers_;
    Options opt_;
    Handler handler_;
    Admit admit_;
    sys::unique_fd listen_fd_;
    std::string listen_;
    bool paused_ = false;
    int64_t resume_ns_ = 0;
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::unique_ptr<Client>> clients_;
    std::vector<uint64_t> closing_;
    Stats stats_;
    core::TimerOwner timer_owner_{timers_, this};
};

}  // namespace nw::control

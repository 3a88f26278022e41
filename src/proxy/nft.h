// proxy/nft.h — netwaked's own nftables table, `table inet netwaked`: sets of held (interface,
// address) pairs and a prerouting rule dropping packets to them, so a forwarding host never
// routes them back onto the LAN nor answers them. Each update rewrites the table in one `nft -f`
// transaction, spawned with posix_spawn and reaped through a pidfd on the loop; updates are
// serialized (the newest pending one wins). Never blocks the loop — except remove_now() at exit.
// An update that runs too long is killed by a timeout on the loop's core::TimerQueue, key
// (this, kTimeout), armed while nft runs; time is read only through the queue's core::Clock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/timer_queue.h"
#include "proxy/ports.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace nw::proxy {

inline constexpr const char* kNftTable = "netwaked";  // family inet

class NftFirewall : public Firewall {
   public:
    // `loop` and `timers` must outlive it.
    NftFirewall(sys::Loop& loop, core::TimerQueue& timers);
    ~NftFirewall() override;  // kills an update still running (no table change is waited for)
    NftFirewall(const NftFirewall&) = delete;
    NftFirewall& operator=(const NftFirewall&) = delete;

    // Finds the nft binary and queues the removal of a table an earlier run left behind (a
    // crash). False + *err if there is no nft (then set_held only warns).
    bool start(std::string* err);
    void set_held(const std::vector<std::pair<std::string, packet::Addr>>& held) override;
    // Defence in depth: an address `own` says is the host's never goes into the sets (it would
    // drop every packet to the host on that interface), whatever set_held is given. recheck()
    // applies the last set again if the filter now leaves out something else (the host's
    // addresses changed).
    void set_own_filter(std::function<bool(const packet::Addr&)> own) { own_ = std::move(own); }
    void recheck();
    // Exit: waits (up to timeout_ms) for an update in progress, then deletes the table and waits
    // for that too. Blocks; only for shutdown.
    void remove_now(int timeout_ms);

    static constexpr core::TimerQueue::Purpose kTimeout = 0;  // armed while nft runs

    // The nft script for a held set (empty: just delete the table). Pure; interface names that
    // nft could not quote safely are skipped.
    static std::string script(const std::vector<std::pair<std::string, packet::Addr>>& held);

    uint64_t runs() const { return runs_; }
    uint64_t own_skipped() const { return own_skipped_; }
    const std::vector<std::pair<std::string, packet::Addr>>& applied() const { return applied_; }
    uint64_t failures() const { return failures_; }
    bool busy() const { return pid_ > 0; }

   private:
    bool spawn(const std::string& text);
    void reap();
    bool wait_child(int timeout_ms);
    void on_time(int64_t now_ns);  // the update's deadline: kill it (or poll it without a pidfd)
    void arm();                    // (this, kTimeout) at deadline_ns_
    int64_t now_ns() const { return timers_.clock().now_ns(); }

    sys::Loop& loop_;
    core::TimerQueue& timers_;
    std::string nft_;
    pid_t pid_ = -1;
    sys::unique_fd pidfd_, out_;
    int64_t deadline_ns_ = 0;
    std::optional<std::string> pending_;
    bool warned_ = false;
    uint64_t runs_ = 0, failures_ = 0, own_skipped_ = 0;
    std::function<bool(const packet::Addr&)> own_;
    std::vector<std::pair<std::string, packet::Addr>> wanted_, applied_;  // asked for / after the filter
    core::TimerOwner timer_owner_{timers_, this};
};

}  // namespace nw::proxy

// sensor/nflog_adapt.h — when an NFLOG sensor should batch: a rate estimator with hysteresis.
// Pure policy (no I/O): the sensor feeds it packet counts and times, it says light or busy.
// Also the NFULA_SEQ gap counter that turns per-group sequence numbers into a loss count.
#pragma once

#include <cstdint>

namespace nw::sensor {

// Light mode: kernel queue threshold 1 — every packet is sent at once (~0.07 ms latency,
// one wake-up per packet). Busy mode: threshold 64 + 10 ms flush timeout — a tenth of the CPU
// per packet, but a packet may wait up to the flush timeout in the kernel, so under a flood an
// idle→active `start` can be delayed by at most 10 ms. Hysteresis keeps the mode from flapping.
struct NflogAdapt {
    static constexpr int64_t kWindowNs = 100'000'000;  // rate measured over >= 100 ms
    static constexpr uint64_t kBusyPps = 2000;         // light → busy at or above this rate
    static constexpr uint64_t kLightPps = 200;         // busy → light below this rate
    static constexpr int kIdlePollMs = 250;            // busy: receive timeout to notice silence

    bool busy = false;
    int64_t win_start_ns = 0;
    uint64_t count = 0;

    // `n` packets were received at `now_ns`. Returns true if the mode changed.
    bool on_packets(uint64_t n, int64_t now_ns) {
        if (win_start_ns == 0) win_start_ns = now_ns;
        count += n;
        const int64_t el = now_ns - win_start_ns;
        // A flood is recognised before the window closes (2000 pps ⇒ 200 packets in 100 ms).
        if (!busy && count >= kBusyPps * kWindowNs / 1'000'000'000) return set(true, now_ns);
        if (el < kWindowNs) return false;
        return close_window(el, now_ns);
    }
    // The receive timed out: no packet for kIdlePollMs (busy mode flushes every 10 ms, so this is
    // real silence). Returns true if the mode changed.
    bool on_idle(int64_t now_ns) { return busy ? set(false, now_ns) : false; }
    // Receive timeout for the sensor thread (its socket's SO_RCVTIMEO): none (block for ever)
    // while light.
    int poll_timeout_ms() const { return busy ? kIdlePollMs : -1; }

   private:
    bool close_window(int64_t el, int64_t now_ns) {
        const uint64_t pps = count * 1'000'000'000 / uint64_t(el);
        win_start_ns = now_ns;
        count = 0;
        if (!busy && pps >= kBusyPps) return set(true, now_ns);
        if (busy && pps < kLightPps) return set(false, now_ns);
        return false;
    }
    bool set(bool b, int64_t now_ns) {
        busy = b;
        win_start_ns = now_ns;
        count = 0;
        return true;
    }
};

// Sequence-gap accounting for NFULA_SEQ: returns how many packets the kernel lost between the
// previous packet and this one (0 for the first packet or when the sequence restarted/went back).
struct SeqTracker {
    bool started = false;
    uint32_t next = 0;
    uint32_t observe(uint32_t seq) {
        uint32_t lost = 0;
        if (started) {
            const uint32_t gap = seq - next;  // modulo 2^32
            // A "gap" of more than 2^31 means the sequence went backwards (group re-bound): resync.
            if (gap < 0x80000000u) lost = gap;
        }
        started = true;
        next = seq + 1;
        return lost;
    }
};

}  // namespace nw::sensor

// sensor/sensor.cc — the hot path shared by all sensors: classify, store keepalive times, queue
// Hits for idle targets. No locks, allocation, syscalls or logging per packet; no target state.
#include "sensor/sensor.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace nw::sensor {
namespace {

// Bytes of a knock-port UDP frame kept for SPA: any valid datagram (121 bytes) behind any headers.
constexpr size_t kKnockFrameMax = 1024;

template <size_t N>
void copy_str(char (&dst)[N], std::string_view s) {
    const size_t n = std::min(s.size(), N - 1);
    if (n) std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

}  // namespace

int64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

const core::Ruleset* Sensor::begin_batch() {
    batch_epoch_ = shared_->rules_epoch.load(std::memory_order_seq_cst);
    rules_ = shared_->rules.load(std::memory_order_seq_cst);
    knocks_ = shared_->knocks.load(std::memory_order_seq_cst);
    pushed_ = false;
    if (memo_.rules != rules_ || memo_.epoch != batch_epoch_) memo_.valid = false;
    hot_ok_ = rules_ && !knocks_ && !rules_->uses_ifaces() && !rules_->uses_link();
    if (hot_ok_) {
        hot_prefix_ = rules_->uses_prefix();
        hot_packet_ = rules_->uses_packet();
        hot_keyed_ = rules_->keyed();
        hot_addrs_ = rules_->uses_addrs();
    }
    return rules_;
}

void Sensor::fill_hit(core::Hit& h, const packet::Decoded& d, const core::PacketMeta& meta, const Raw& raw,
                      size_t full_max, int64_t now_ns) {
    h.sensor = index_;
    h.t_ns = now_ns;
    h.d = d;
    if (meta.has_prefix) copy_str(h.prefix, meta.prefix);
    // A view from ifnames_ lasts until its next lookup, and a sensor may pass one as either name
    // (NFLOG: out_iface; pcap: in_iface, with no out index): copy out_iface first.
    copy_str(h.out_iface, meta.out_iface.empty() && meta.out_ifindex ? ifnames_.name(meta.out_ifindex, now_ns)
                                                                     : meta.out_iface);
    copy_str(h.in_iface, meta.in_iface.empty() && meta.in_ifindex ? ifnames_.name(meta.in_ifindex, now_ns)
                                                                  : meta.in_iface);
    h.linktype = raw.linktype;
    h.raw_len = uint16_t(std::min(raw.bytes.size(), sizeof h.raw));
    if (h.raw_len) std::memcpy(h.raw, raw.bytes.data(), h.raw_len);
    h.orig_len = std::max<uint32_t>(raw.orig_len, uint32_t(raw.bytes.size()));
    if (full_max && raw.bytes.size() > sizeof h.raw) {
        const size_t n = std::min(raw.bytes.size(), full_max);
        h.full = static_cast<uint8_t*>(std::malloc(n));
        if (h.full) {
            std::memcpy(h.full, raw.bytes.data(), n);
            h.full_len = uint32_t(n);
        }
    }
}

void Sensor::deliver(const packet::Decoded& d, packet::Error derr, const core::PacketMeta& meta,
                     const Raw& raw, int64_t now_ns) {
    bump(stats_.packets);
    if (derr == packet::Error::Truncated) bump(stats_.truncated);
    else if (derr != packet::Error::Ok) bump(stats_.malformed);
    // Partially decoded packets are still classified: rules only look at fields whose has_/l3
    // flags are set, and a target with an empty rule (tuninetd mode) must see every packet.
    if (!rules_) return;
    bool knock = false;
    if (knocks_ && knocks_->wants(d)) {
        // Knock ports: the core tracks sequences and verifies SPA; every such packet is queued.
        knock = true;
        core::Hit h;
        // SPA needs the datagram (at most kKnockFrameMax bytes of it) even past raw[].
        fill_hit(h, d, meta, raw, d.proto == packet::kProtoUdp ? kKnockFrameMax : 0, now_ns);
        h.kind = core::HitKind::Knock;
        if (!queue_.push(h)) {
            bump(stats_.queue_full);
            core::release_full(h);
        }
        else pushed_ = true;
    }
    memo_.valid = false;  // verdicts_ is about to hold another packet's verdicts
    rules_->classify(d, meta, &verdicts_);
    if (verdicts_.empty()) {
        if (knock) bump(stats_.matched);
        return;
    }
    bump(stats_.matched);

    for (const core::Verdict& v : verdicts_) {
        core::TargetShared* t = v.target;
        if (t->active.load()) {
            // Hot path: an active target only needs "seen at now".
            if (v.keepalive) t->last_seen_ns.store(now_ns);
            continue;
        }
        if (!v.match) continue;

        core::Hit h;
        fill_hit(h, d, meta, raw, shared_->full_frames ? SIZE_MAX : 0, now_ns);
        h.kind = core::HitKind::Traffic;
        h.match = v.match;
        h.keepalive = v.keepalive;
        h.target = t;
        if (!queue_.push(h)) {
            // The core collects overflow_hits as hits at its own "now": nothing is lost.
            bump(stats_.queue_full);
            t->overflow_hits.fetch_add(1);
            core::release_full(h);
        }
        pushed_ = true;  // the core must look at the queue or at overflow_hits
    }
}

bool Sensor::deliver_hot(const packet::Decoded& d, const core::PacketMeta& meta, int64_t now_ns) {
    if (!hot_ok_) return false;
    const packet::Key k = packet::Key::of(d);
    if (!memo_.valid || !memo_same(k, meta.has_prefix, meta.prefix)) {
        rules_->classify(d, meta, &verdicts_);
        memo_.valid = false;
        if (hot_keyed_ && meta.prefix.size() <= sizeof memo_.prefix) {
            memo_.valid = true;
            memo_.rules = rules_;
            memo_.epoch = batch_epoch_;
            memo_.key = k;
            memo_.has_prefix = meta.has_prefix;
            memo_.plen = uint8_t(meta.prefix.size());
            if (memo_.plen) std::memcpy(memo_.prefix, meta.prefix.data(), memo_.plen);
        }
    }
    return hot_verdicts(now_ns);
}

void Sensor::end_batch() {
    if (pushed_ && shared_->wake_fd >= 0) {
        const uint64_t one = 1;
        // eventfd: can only fail with EAGAIN when the counter is near 2^64 (the core is awake).
        [[maybe_unused]] ssize_t n = ::write(shared_->wake_fd, &one, sizeof one);
    }
    pushed_ = false;
    rules_ = nullptr;
    knocks_ = nullptr;
    quiescent_epoch_.store(batch_epoch_, std::memory_order_release);
}

void Sensor::quiesce() {
    quiescent_epoch_.store(shared_->rules_epoch.load(std::memory_order_seq_cst), std::memory_order_release);
}

}  // namespace nw::sensor

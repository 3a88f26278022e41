// core/knock.cc — knock sequences and SPA verification for the core (SPEC §10).
// No I/O, no clock reads, no logging: the caller passes time in and logs what on_reject reports.
#include "core/knock.h"
#include "packet/parse.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>

namespace nw::core {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
// knockd's default for sequence steps: a bare SYN (retransmitted SYNs match too).
constexpr config::TcpFlags kDefaultFlags{packet::kTcpSyn | packet::kTcpAck, packet::kTcpSyn};

uint8_t wire_proto(config::Proto p) {
    return p == config::Proto::Udp ? packet::kProtoUdp : packet::kProtoTcp;
}

bool is_tcp_or_udp(const packet::Decoded& d) {
    return d.has_l4 && (d.l3 == 4 || d.l3 == 6) && (d.proto == packet::kProtoTcp || d.proto == packet::kProtoUdp);
}

std::string hex(const packet::SpaNonce& n) {
    static const char kDigits[] = "0123456789abcdef";
    std::string s(n.size() * 2, '0');
    for (size_t i = 0; i < n.size(); ++i) {
        s[2 * i] = kDigits[n[i] >> 4];
        s[2 * i + 1] = kDigits[n[i] & 15];
    }
    return s;
}

bool unhex(const std::string& s, packet::SpaNonce* out) { return packet::parse_hex(s, out->data(), out->size()); }

int64_t round_up(int64_t t, int64_t q) { return t <= 0 ? t : ((t + q - 1) / q) * q; }

}  // namespace

// ---- KnockSources / KnockPorts -------------------------------------------------------------

size_t KnockSources::slot(const packet::Addr& a) {
    uint64_t x, y;
    std::memcpy(&x, a.b.data(), 8);
    std::memcpy(&y, a.b.data() + 8, 8);
    const uint64_t h = (x ^ (y * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
    return size_t(h >> 48) & (kSlots - 1);
}

void KnockSources::add(const packet::Addr& a) {
    slots_[slot(a)].fetch_add(1, std::memory_order_relaxed);
    total_.fetch_add(1, std::memory_order_relaxed);
}

void KnockSources::remove(const packet::Addr& a) {
    slots_[slot(a)].fetch_sub(1, std::memory_order_relaxed);
    total_.fetch_sub(1, std::memory_order_relaxed);
}

KnockPorts::KnockPorts(const std::vector<config::KnockConf>& knocks, const std::vector<config::RelayConf>& relays) {
    for (const config::RelayConf& r : relays)
        for (uint16_t p : r.ports) {
            udp_.set(p);
            any_ = true;
        }
    for (const config::KnockConf& k : knocks) {
        if (!k.spa && !k.sequence.empty() && !sources_) sources_ = std::make_shared<KnockSources>();
        for (const config::KnockStep& s : k.sequence) {
            (s.proto == config::Proto::Udp ? udp_ : tcp_).set(s.port);
            any_ = true;
        }
        if (k.spa) {
            udp_.set(k.spa->port);
            any_ = true;
        }
    }
}

bool KnockPorts::wants(const packet::Decoded& d) const {
    if (!any_ || !is_tcp_or_udp(d)) return false;
    if (d.proto != packet::kProtoTcp) return udp_.test(d.dst_port);
    return tcp_.test(d.dst_port) || (sources_ && sources_->has(d.src));
}

// ---- KnockEngine: construction ------------------------------------------------------------

size_t KnockEngine::AddrHash::operator()(const packet::Addr& a) const {
    uint64_t x, y;
    std::memcpy(&x, a.b.data(), 8);
    std::memcpy(&y, a.b.data() + 8, 8);
    uint64_t h = x * 0x9e3779b97f4a7c15ull ^ (y + 0x632be59bd9b4e019ull);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return size_t(h);
}

KnockEngine::KnockEngine(const std::vector<config::KnockConf>& knocks, std::vector<std::vector<uint8_t>> keys) {
    keys.resize(knocks.size());
    bool any_spa = false;
    max_window_s_ = 0;
    for (size_t i = 0; i < knocks.size(); ++i) {
        const config::KnockConf& k = knocks[i];
        if (k.spa) {
            SpaKnock s;
            s.index = i;
            s.name = k.name;
            s.target = k.target;
            s.port = k.spa->port;
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(k.spa->window).count();
            s.window_s = std::max<int64_t>(1, (ms + 999) / 1000);
            for (size_t j = 0; j < i && !s.key; ++j)   // knocks sharing a key share one context
                if (!keys[i].empty() && keys[j] == keys[i])
                    for (const SpaKnock& o : spas_)
                        if (o.index == j) s.key = o.key;
            if (!s.key && !keys[i].empty()) s.key = std::make_shared<packet::SpaKey>(keys[i]);
            spa_ports_.set(s.port);
            max_window_s_ = std::max(max_window_s_, s.window_s);
            any_spa = true;
            spas_.push_back(std::move(s));
        } else if (!k.sequence.empty()) {
            SeqKnock s;
            s.index = i;
            s.name = k.name;
            s.target = k.target;
            s.steps = k.sequence;
            s.timeout_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(k.timeout).count();
            s.flags = k.tcp_flags.value_or(kDefaultFlags);
            seqs_.push_back(std::move(s));
        }
    }
    if (!any_spa) max_window_s_ = 86400;
}

// ---- packets ------------------------------------------------------------------------------

std::span<const uint8_t> KnockEngine::hit_payload(const Hit& h) {
    const packet::Decoded& d = h.d;
    const std::span<const uint8_t> f = core::frame_bytes(h);
    if (!d.has_l4 || d.payload_offset >= f.size()) return {};
    return f.subspan(d.payload_offset, std::min<size_t>(d.payload_len, f.size() - d.payload_offset));
}

void KnockEngine::on_packet(const packet::Decoded& d, std::span<const uint8_t> payload, int64_t now_ns,
                            int64_t wall_s, std::vector<KnockEvent>* out) {
    if (!is_tcp_or_udp(d)) return;
    for (SeqKnock& k : seqs_) seq_packet(k, d, now_ns, out);
    if (d.proto == packet::kProtoUdp && spa_ports_.test(d.dst_port)) spa_packet(d, payload, now_ns, wall_s, out);
}

void KnockEngine::seq_erase(SeqKnock& k, std::list<Progress>::iterator it) {
    if (sources_) sources_->remove(it->src);
    k.by_src.erase(it->src);
    (it->next > 1 ? k.advanced : k.fresh).erase(it);
}

// A source took step 2: it moves from `fresh` to `advanced` (splice keeps by_src's iterator
// valid), at its place by first hit. Scanning from the back is O(1) unless hits arrive out of order.
void KnockEngine::seq_promote(SeqKnock& k, std::list<Progress>::iterator it) {
    if (k.advanced.size() >= kMaxSourcesPerKnock) {
        seq_erase(k, k.advanced.begin());
        ++stats_.sequences_evicted;
    }
    auto pos = k.advanced.end();
    while (pos != k.advanced.begin() && std::prev(pos)->first_ns > it->first_ns) --pos;
    k.advanced.splice(pos, k.fresh, it);
}

void KnockEngine::seq_packet(SeqKnock& k, const packet::Decoded& d, int64_t now_ns, std::vector<KnockEvent>* out) {
    auto is_step = [&](size_t i) { return wire_proto(k.steps[i].proto) == d.proto && k.steps[i].port == d.dst_port; };
    bool ours = false;
    for (size_t i = 0; i < k.steps.size() && !ours; ++i) ours = is_step(i);
    const bool flags_ok = d.proto != packet::kProtoTcp || (d.tcp_flags & k.flags.mask) == k.flags.value;
    if (!ours) {
        // A matching-flag TCP packet to any other port: a scan never walks a sequence (§10).
        if (d.proto != packet::kProtoTcp || !flags_ok || k.by_src.empty()) return;
        if (auto f = k.by_src.find(d.src); f != k.by_src.end()) seq_erase(k, f->second);
        return;
    }
    if (!flags_ok) return;

    auto complete = [&] {
        ++stats_.sequences_completed;
        out->push_back(KnockEvent{k.index, k.name, k.target, d.src, KnockEvent::Sequence});
    };
    auto f = k.by_src.find(d.src);
    if (f != k.by_src.end() && now_ns >= f->second->first_ns + k.timeout_ns) {
        seq_erase(k, f->second);                               // too late: start over
        f = k.by_src.end();
    }
    if (f != k.by_src.end()) {
        Progress& p = *f->second;
        if (is_step(p.next)) {
            p.last_ns = now_ns;
            if (p.next + 1 == k.steps.size()) {
                seq_erase(k, f->second);
                complete();
                return;
            }
            if (p.next == 1) seq_promote(k, f->second);
            ++p.next;
            return;
        }
        // The step just taken, seen again right away: a retransmitted SYN or a second sensor.
        if (p.next > 0 && is_step(p.next - 1) && now_ns - p.last_ns <= kDuplicateNs) {
            ++stats_.duplicates;
            return;
        }
        seq_erase(k, f->second);                               // wrong port: reset
    }
    if (!is_step(0)) return;
    if (k.steps.size() == 1) {
        complete();
        return;
    }
    if (k.fresh.size() >= kMaxFreshPerKnock) {
        seq_erase(k, k.fresh.begin());                         // oldest step-1 attempt goes
        ++stats_.sequences_evicted;
    }
    k.fresh.push_back(Progress{d.src, now_ns, now_ns, 1});
    k.by_src.emplace(d.src, std::prev(k.fresh.end()));
    if (sources_) sources_->add(d.src);
}

void KnockEngine::reject(const packet::Addr& src, uint64_t* counter, const std::string& knock, std::string_view why) {
    ++*counter;
    if (on_reject) on_reject(src, knock + ": " + std::string(why));
}

namespace {
// What the datagram's length claims to be (from the IP header), against `captured` bytes.
size_t spa_claimed_len(const packet::Decoded& d, size_t captured) {
    size_t claimed = captured;
    if (d.ip_total_len && d.l4_offset >= d.l3_offset) {
        size_t hdrs = d.l4_offset - d.l3_offset + 8;
        if (d.ip_total_len >= hdrs) claimed = std::max<size_t>(claimed, d.ip_total_len - hdrs);
    }
    return claimed;
}
}  // namespace

void KnockEngine::spa_packet(const packet::Decoded& d, std::span<const uint8_t> payload, int64_t now_ns,
                             int64_t wall_s, std::vector<KnockEvent>* out) {
    const SpaKnock* first = nullptr;
    size_t total = 0;
    for (const SpaKnock& s : spas_)
        if (s.port == d.dst_port && !total++) first = &s;
    if (!first) return;
    std::string label = total == 1 ? first->name : "SPA port " + std::to_string(d.dst_port);

    const size_t claimed = spa_claimed_len(d, payload.size());
    if (claimed <= packet::kSpaMaxLen && payload.size() < claimed) {
        ++stats_.truncated;
        reject(d.src, &stats_.malformed, label,
               "capture truncated to " + std::to_string(payload.size()) + " of " + std::to_string(claimed) +
                   " bytes (raise the sensor's copy_range/snaplen)");
        return;
    }
    packet::SpaMessage msg;
    std::string err;
    if (!packet::spa_parse(payload, &msg, &err)) {
        reject(d.src, &stats_.malformed, label, "malformed datagram (" + std::to_string(claimed) + " bytes): " + err);
        return;
    }
    // 1. HMAC.
    const SpaKnock* chosen = spa_key_for(d.dst_port, msg);
    if (!chosen) {
        reject(d.src, &stats_.bad_hmac, label, "bad HMAC (wrong key or altered datagram)");
        return;
    }
    // 2. Time window.
    int64_t ts = msg.timestamp > uint64_t(INT64_MAX / 2) ? INT64_MAX / 2 : int64_t(msg.timestamp);
    if (!spa_in_window(*chosen, d.src, ts, wall_s)) return;
    // 3. Target.
    if (chosen->target != msg.target()) {
        reject(d.src, &stats_.unknown_target, chosen->name,
               "datagram names target \"" + std::string(msg.target()) + "\", this knock starts \"" + chosen->target + "\"");
        return;
    }
    // 4. Replay.
    if (!spa_nonce_fresh(*chosen, d.src, msg.nonce, now_ns)) return;
    ReplayEntry e;
    e.expires_wall_s = std::max(wall_s, ts) + chosen->window_s;
    e.deadline_ns = now_ns + (e.expires_wall_s - wall_s) * kNsPerSec;
    e.src = d.src;
    e.accepted_ns = now_ns;
    replay_insert(msg.nonce, e);
    new_replay_.emplace_back(hex(msg.nonce), e.expires_wall_s);
    ++stats_.accepted;
    out->push_back(KnockEvent{chosen->index, chosen->name, chosen->target, d.src, KnockEvent::Spa});
}

// Among the knocks on `port` whose key verifies `msg`, the one for the target it names, else the
// first; nullptr when no key verifies it. Knocks sharing a key verify it once.
const KnockEngine::SpaKnock* KnockEngine::spa_key_for(uint16_t port, const packet::SpaMessage& msg) const {
    const SpaKnock* chosen = nullptr;
    const packet::SpaKey* last_key = nullptr;
    bool last_ok = false;
    for (const SpaKnock& s : spas_) {
        if (s.port != port) continue;
        const packet::SpaKey* key = s.key.get();
        bool ok = key == last_key ? last_ok : (key && key->verify(msg));
        last_key = key;
        last_ok = ok;
        if (!ok) continue;
        if (!chosen) chosen = &s;
        if (s.target == msg.target()) return &s;
    }
    return chosen;
}

// Whether the datagram's timestamp `ts` is within the knock's window of `wall_s`; rejects it if not.
bool KnockEngine::spa_in_window(const SpaKnock& k, const packet::Addr& src, int64_t ts, int64_t wall_s) {
    if (ts < wall_s - k.window_s) {
        reject(src, &stats_.stale, k.name,
               "stale timestamp, " + std::to_string(wall_s - ts) + " s old (window " + std::to_string(k.window_s) +
                   " s; check the sender's clock)");
        return false;
    }
    if (ts > wall_s + k.window_s) {
        reject(src, &stats_.future, k.name,
               "timestamp " + std::to_string(ts - wall_s) + " s in the future (window " +
                   std::to_string(k.window_s) + " s; check the sender's clock)");
        return false;
    }
    return true;
}

// Whether nonce `n` was never accepted; a used one is a duplicate (same source, right away:
// counted, not an error) or a replay (rejected).
bool KnockEngine::spa_nonce_fresh(const SpaKnock& k, const packet::Addr& src, const packet::SpaNonce& n,
                                  int64_t now_ns) {
    auto it = replay_.find(n);
    if (it == replay_.end()) return true;
    if (it->second.src == src && now_ns - it->second.accepted_ns <= kDuplicateNs) {
        ++stats_.duplicates;
        return false;
    }
    reject(src, &stats_.replay, k.name, "replayed datagram (nonce " + hex(n) + " already used)");
    return false;
}

// ---- replay cache ---------------------------------------------------------------------------

void KnockEngine::replay_insert(const packet::SpaNonce& n, ReplayEntry e) {
    // HMAC comes first, so only holders of a key can add entries; still, stay bounded.
    if (replay_.size() >= kMaxReplayEntries) {
        auto oldest = replay_by_deadline_.begin();
        replay_.erase(oldest->second);
        replay_by_deadline_.erase(oldest);
        ++stats_.replay_evicted;
    }
    replay_.emplace(n, e);
    replay_by_deadline_.insert({e.deadline_ns, n});
    ++replay_gen_;
}

bool KnockEngine::claim_nonce(const packet::SpaNonce& n, int64_t expires_wall_s, int64_t now_ns, int64_t wall_s) {
    if (replay_.count(n)) return false;
    ReplayEntry e;
    e.expires_wall_s = expires_wall_s;
    e.deadline_ns = now_ns + std::max<int64_t>(0, expires_wall_s - wall_s) * 1'000'000'000;
    e.accepted_ns = now_ns;
    replay_insert(n, e);
    new_replay_.emplace_back(hex(n), e.expires_wall_s);  // appended to the replay log by the daemon
    return true;
}

std::vector<std::pair<std::string, int64_t>> KnockEngine::replay_entries() const {
    std::vector<std::pair<std::string, int64_t>> v;
    v.reserve(replay_.size());
    for (const auto& [n, e] : replay_) v.emplace_back(hex(n), e.expires_wall_s);
    return v;
}

void KnockEngine::restore_replay(const std::vector<std::pair<std::string, int64_t>>& entries, int64_t now_ns,
                                 int64_t wall_s) {
    for (const auto& [text, expires] : entries) {
        packet::SpaNonce n;
        if (!unhex(text, &n) || expires <= wall_s || replay_.count(n)) continue;
        ReplayEntry e;
        e.expires_wall_s = std::min(expires, wall_s + max_window_s_);
        e.deadline_ns = now_ns + (e.expires_wall_s - wall_s) * kNsPerSec;
        e.accepted_ns = INT64_MIN / 2;   // never a "duplicate"
        replay_insert(n, e);
    }
}

// ---- timers -------------------------------------------------------------------------------

int64_t KnockEngine::next_deadline_ns() const {
    int64_t best = 0;
    auto consider = [&](int64_t t) {
        if (best == 0 || t < best) best = t;
    };
    for (const SeqKnock& k : seqs_) {
        if (!k.fresh.empty()) consider(k.fresh.front().first_ns + k.timeout_ns);
        if (!k.advanced.empty()) consider(k.advanced.front().first_ns + k.timeout_ns);
    }
    if (!replay_by_deadline_.empty()) consider(replay_by_deadline_.begin()->first);
    return best == 0 ? 0 : round_up(best, kTimerSlackNs);
}

void KnockEngine::on_time(int64_t now_ns) {
    // `fresh` and `advanced` are by first hit, so their fronts expire first. (Hits from two
    // sensors may be a little out of order; such an entry goes at most a few ms after its deadline, and
    // seq_packet checks the deadline itself, so this only delays freeing memory.)
    for (SeqKnock& k : seqs_) {
        while (!k.fresh.empty() && k.fresh.front().first_ns + k.timeout_ns <= now_ns) seq_erase(k, k.fresh.begin());
        while (!k.advanced.empty() && k.advanced.front().first_ns + k.timeout_ns <= now_ns)
            seq_erase(k, k.advanced.begin());
    }
    while (!replay_by_deadline_.empty() && replay_by_deadline_.begin()->first <= now_ns) {
        replay_.erase(replay_by_deadline_.begin()->second);
        replay_by_deadline_.erase(replay_by_deadline_.begin());
    }
}

}  // namespace nw::core

// proxy/announce.cc — the rate-limited announcement queue (see announce.h). Logic only: frames
// leave through the FrameSink; time comes from the caller.
#include "proxy/announce.h"

#include <algorithm>

namespace nw::proxy {

void Announcer::send_front(const std::string& ifname, Queue& q, int64_t now_ns) {
    Item it = std::move(q.items.front());
    q.items.pop_front();
    if (sink_->send(ifname, it.frame)) ++sent_;
    else ++dropped_;
    q.next_ok_ns = now_ns + kAnnounceGapNs;
}

void Announcer::push(const std::string& ifname, uint64_t owner, std::vector<uint8_t> frame, int64_t now_ns) {
    Queue& q = q_[ifname];
    if (q.items.size() >= kAnnounceQueueMax) {
        q.items.pop_front();
        ++dropped_;
    }
    q.items.push_back({owner, std::move(frame)});
    if (q.items.size() == 1 && now_ns >= q.next_ok_ns) send_front(ifname, q, now_ns);
}

void Announcer::cancel(uint64_t owner) {
    for (auto& [name, q] : q_)
        q.items.erase(std::remove_if(q.items.begin(), q.items.end(), [&](const Item& i) { return i.owner == owner; }),
                      q.items.end());
}

int64_t Announcer::next_deadline_ns() const {
    int64_t next = 0;
    for (const auto& [name, q] : q_)
        if (!q.items.empty() && (next == 0 || q.next_ok_ns < next)) next = std::max<int64_t>(q.next_ok_ns, 1);
    return next;
}

void Announcer::on_time(int64_t now_ns) {
    for (auto& [name, q] : q_)
        if (!q.items.empty() && now_ns >= q.next_ok_ns) send_front(name, q, now_ns);
}

size_t Announcer::queued() const {
    size_t n = 0;
    for (const auto& [name, q] : q_) n += q.items.size();
    return n;
}

}  // namespace nw::proxy

// proxy/host.h — HostInfo: the host's own MACs and addresses (getifaddrs, cached until RTNETLINK
// says they changed, or for a moment), and neighbor-table lookups over rtnetlink. Reads kernel
// state only; changes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proxy/ports.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace nw::proxy {

class HostInfo : public HostView {
   public:
    // `max_age_ns`: how long a snapshot of the interfaces is reused before getifaddrs() runs again.
    // The snapshot's age is measured on `clock` (the daemon's core::Clock; it must outlive this).
    explicit HostInfo(const core::Clock& clock, int64_t max_age_ns = 2'000'000'000)
        : clock_(clock), max_age_ns_(max_age_ns) {}
    ~HostInfo() override;
    HostInfo(const HostInfo&) = delete;
    HostInfo& operator=(const HostInfo&) = delete;

    std::optional<packet::Mac> if_mac(const std::string& ifname) override;
    bool own_mac(const packet::Mac& m) override;
    bool own_addr(const packet::Addr& a) override;
    std::vector<IfAddr> if_addrs(const std::string& ifname) override;
    // Drops the snapshot (the next call reads the kernel again).
    void invalidate() { taken_ns_ = 0; }

    // Listens (on `loop`) to the kernel's address notifications (RTNETLINK RTM_NEWADDR /
    // RTM_DELADDR, IPv4 and IPv6): after each batch the snapshot is dropped and `changed` runs.
    // False + *err if the socket cannot be opened (the snapshot then only ages out).
    bool watch(sys::Loop& loop, std::function<void()> changed, std::string* err);
    uint64_t address_events() const { return events_; }

   private:
    void refresh();
    void on_netlink();
    const core::Clock& clock_;
    int64_t max_age_ns_;
    int64_t taken_ns_ = 0;
    std::map<std::string, packet::Mac> macs_;
    std::set<packet::Mac> mac_set_;
    std::map<std::string, std::vector<IfAddr>> addrs_;
    sys::Loop* loop_ = nullptr;
    sys::unique_fd nl_;
    std::function<void()> changed_;
    uint64_t events_ = 0;
};

// The host's addresses by interface name (one getifaddrs() call; empty map if it fails).
std::map<std::string, std::vector<IfAddr>> host_addresses();

// The link-layer address the kernel's neighbor table holds for `ip` on `ifname` (a usable
// entry: not incomplete or failed). False + *err ("no neighbor entry for ...") otherwise.
// One rtnetlink dump, answered by the kernel at once (bounded by a 200 ms receive timeout).
bool neighbor_mac(const std::string& ifname, const packet::Addr& ip, packet::Mac* out, std::string* err);

}  // namespace nw::proxy

// core/relay.h — the Wake-on-WAN relay's decision (SPEC §7.2): is a UDP datagram seen by a sensor
// a magic packet for an allowed target, with its SecureOn password, within the rate? Pure: no
// I/O; the core acts on an accepted packet by sending a FRESH burst with the target's own wol.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/model.h"
#include "core/shared.h"

namespace nw::core {

struct RelayStats {
    uint64_t accepted = 0, not_magic = 0, unknown_mac = 0, bad_password = 0, over_rate = 0;
    uint64_t rejected() const { return not_magic + unknown_mac + bad_password + over_rate; }
};

class RelayEngine {
   public:
    // `cfg` must outlive the engine (the core's configuration snapshot).
    explicit RelayEngine(const config::Config& cfg);

    // UDP to one of the relay ports, seen by one of its sensors?
    bool wants(const Hit& h) const;
    // Decides about one datagram at `now_ns`: the target to wake, or "" and *why (for the log).
    std::string decide(const Hit& h, int64_t now_ns, std::string* why);
    const RelayStats& stats() const { return stats_; }
    void set_stats(const RelayStats& s) { stats_ = s; }  // carried over a reload

   private:
    const config::RelayConf* rule_for(const Hit& h) const;
    const config::Config& cfg_;
    std::map<std::string, std::vector<int64_t>> recent_;  // per target: accepted times within `per`
    RelayStats stats_;
};

}  // namespace nw::core

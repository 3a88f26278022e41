// sensor/ifnames.h — small per-thread cache of interface index → name for sensor threads.
// One ioctl on a miss or when an entry is older than 10 s; never allocates; not thread-safe.
#pragma once

#include <net/if.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "sys/fd.h"

namespace nw::sensor {

class IfNames {
   public:
    // Name of `ifindex` ("" for 0 or an unknown index). The view stays valid until the next call.
    std::string_view name(uint32_t ifindex, int64_t now_ns);

   private:
    struct Entry {
        uint32_t ifindex = 0;
        int64_t fetched_ns = 0;
        char name[IF_NAMESIZE] = {};
    };
    static constexpr int64_t kTtlNs = 10'000'000'000;      // refresh names (renames) every 10 s
    static constexpr int64_t kNegTtlNs = 1'000'000'000;    // unknown index: ask again after 1 s
    std::array<Entry, 32> cache_{};
    sys::unique_fd sock_;   // for SIOCGIFNAME, opened on first use
};

}  // namespace nw::sensor

// sys/wallclock.cc — CLOCK_REALTIME read with a 64-bit time_t in this file only: on 32-bit
// Debian 12 (armhf) time_t is 32 bits and clock_gettime()/time() fail or wrap in 2038. The
// 64-bit interface is local to this file (only int64_t leaves it), so no library ABI changes.
#if !defined(__LP64__) && !defined(_TIME_BITS)
#define _FILE_OFFSET_BITS 64
#define _TIME_BITS 64
#endif
#include "sys/wallclock.h"

#include <time.h>

namespace nw::sys {

static_assert(sizeof(time_t) == 8, "sys/wallclock.cc needs a 64-bit time_t");

int64_t wall_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t wall_s() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec);
}

}  // namespace nw::sys

// sys/wallclock.h — the wall clock as 64-bit counts, also past 2038 on 32-bit time_t systems
// (Debian 12 armhf): persisted times, SPA timestamps and file names use these, never time().
#pragma once

#include <cstdint>

namespace nw::sys {

int64_t wall_ms();   // milliseconds since the Unix epoch (CLOCK_REALTIME)
int64_t wall_s();    // seconds since the Unix epoch

}  // namespace nw::sys

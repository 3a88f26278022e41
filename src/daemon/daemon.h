// daemon/daemon.h — wires sensors, the core, hooks, WoL, control socket and state file onto
// the core thread's loop, in dependency order (DESIGN habit 7: open everything, then
// daemonize/drop privileges, then start threads). The only module that knows them all.
#pragma once

#include "daemon/cli.h"

namespace nw::daemon {

// Runs netwaked with a validated configuration. Returns the process exit status
// (0 clean exit, 1 runtime failure such as a sensor that cannot be opened).
int run_daemon(const CliOptions& opts, config::Config cfg);

}  // namespace nw::daemon

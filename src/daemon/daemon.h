// daemon/daemon.h — run_daemon(): brings the Runtime (daemon/runtime.h, the wiring of every
// component) up in dependency order (DESIGN habit 7: open everything, then daemonize/drop
// privileges, then start threads), handles signals and runs the loop to a clean exit.
#pragma once

#include "daemon/cli.h"

namespace nw::daemon {

// Runs netwaked with a validated configuration. Returns the process exit status
// (0 clean exit, 1 runtime failure such as a sensor that cannot be opened).
int run_daemon(const CliOptions& opts, config::Config cfg);

}  // namespace nw::daemon

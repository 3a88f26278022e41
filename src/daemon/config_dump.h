// daemon/config_dump.h — the configuration as log lines (SPEC §6: SIGUSR1 writes every sensor,
// every target's hook, TTL and keepalive rule, and the -w file), and the start-up note for -c.
#pragma once

#include <string>
#include <vector>

#include "config/model.h"

namespace nw::daemon {

// One line per sensor, per target and for the savefile, each starting with "config: ". Never
// contains a secret (no WoL password, no key material: key files are named, not read).
std::vector<std::string> config_lines(const config::Config& c);

// How a target's hook is run, e.g. "/etc/hook" or
// "/bin/sh -c '/x --vpn wg0 \"$@\"' netwaked <event> default" for a tuninetd -c command line.
std::string hook_form(const config::TargetConf& t);

}  // namespace nw::daemon

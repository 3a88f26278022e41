// proxy/persist.h — the sleep proxy's part of the state file (SPEC §8, §9): proxy states of config
// targets and the registrations, converted to and from state/statefile.h records. No I/O.
#pragma once

#include <vector>

#include "proxy/proxy.h"
#include "state/statefile.h"

namespace nw::proxy {

// Fills PersistedTarget::proxy_state of the config targets already in ps->targets and appends
// every registration with its state.
void save_proxy(const SleepProxy& p, state::PersistedState* ps);
// What SleepProxy::restore() takes: every registration, and the config targets with a proxy
// state. Records that do not parse are skipped (logged).
std::vector<RestoredMachine> load_proxy(const state::PersistedState& ps);

}  // namespace nw::proxy

// sys/notify.h — the systemd readiness protocol (sd_notify(3) wire format) without libsystemd:
// one datagram per call to $NOTIFY_SOCKET. Silent no-ops when the variable is unset.
#pragma once

#include <string_view>

namespace nw::sys {

// "READY=1": start-up finished (sensors open, privileges dropped, loop about to run).
void notify_ready();
// "RELOADING=1" + MONOTONIC_USEC: a configuration reload began; call notify_ready() when done.
void notify_reloading();
// "STOPPING=1": a clean shutdown began.
void notify_stopping();

// The primitive behind the three above: sends `state` (newline-separated VAR=value lines) as
// one datagram. Returns true when sent, false when $NOTIFY_SOCKET is unset/invalid or the
// send failed (callers normally ignore it: notification is best effort).
bool notify_send(std::string_view state);

}  // namespace nw::sys

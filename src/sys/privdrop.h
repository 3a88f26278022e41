// sys/privdrop.h — give up privileges once sockets are open (DESIGN habit 7, chrony order):
// switch user, keep only CAP_NET_RAW/CAP_NET_ADMIN as needed, clear ambient caps, optional NNP.
#pragma once

#include <string>

namespace nw::sys {

// Drops privileges for the rest of the process's life. Call from the main thread after every
// pcap handle, NFLOG group and raw socket is open and BEFORE any other thread starts:
// capabilities and no_new_privs are per thread (the uid switch is process-wide).
//
//  - `user` non-empty and different from the current user: resolve it (getpwnam_r), set its
//    supplementary groups (initgroups), keep capabilities across the switch
//    (PR_SET_KEEPCAPS), setresgid/setresuid to it. Needs root (or CAP_SETUID+CAP_SETGID).
//  - unless still running as uid 0 with no `user` to switch to: permitted = effective = the
//    kept set (CAP_NET_RAW if keep_net_raw, CAP_NET_ADMIN if keep_net_admin, each only if it
//    is permitted now), inheritable = empty. Root without `user` keeps its capabilities.
//  - always: the ambient set is cleared, so hooks (plain execve) start with no capabilities
//    even when systemd granted AmbientCapabilities; PR_SET_NO_NEW_PRIVS if `no_new_privs`
//    (inherited by hooks: sudo and other setuid programs then no longer gain anything).
//
// Returns false with *err on any failure; the process may then be half-dropped and must
// exit (it is fatal before the loop starts). The bounding set is left alone on purpose.
bool drop_privileges(const std::string& user, bool keep_net_raw, bool keep_net_admin, bool no_new_privs,
                     std::string* err);

// One line for the log, e.g. "uid=998(netwaked) gid=998 groups=998
// caps=[cap_net_admin,cap_net_raw=ep] ambient=none no_new_privs=1" (caps in cap_to_text(3) form).
std::string describe_caps();

}  // namespace nw::sys

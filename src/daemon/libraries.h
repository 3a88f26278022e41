// daemon/libraries.h — which optional libraries (sys/lazylib.h) a configuration needs, and loading
// them before it is used: at --check, at start and at reload, never at a first packet.
#pragma once

#include <string>
#include <vector>

#include "config/model.h"
#include "sys/lazylib.h"

namespace nw::daemon {

struct LibraryNeed {
    sys::lazy::Lib lib;
    std::string what;  // the first part of the configuration that needs it: "sensor \"pcap:eth0\""
};

// One entry per library `cfg` needs, in the order Pcap, Mosquitto, Crypto: pcap sensors need libpcap,
// the mqtt section libmosquitto and libcrypto (signed commands), SPA knocks libcrypto. Pure.
std::vector<LibraryNeed> needed_libraries(const config::Config& cfg);

// Loads what `cfg` needs. False with "<what> needs <soname>: <reason>" for the first that cannot be.
[[nodiscard]] bool load_libraries(const config::Config& cfg, std::string* err);

}  // namespace nw::daemon

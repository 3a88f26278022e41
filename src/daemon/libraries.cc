// daemon/libraries.cc — the configuration → optional libraries mapping and their loading
// (daemon/libraries.h).
#include "daemon/libraries.h"

#include <algorithm>

namespace nw::daemon {

using sys::lazy::Lib;

std::vector<LibraryNeed> needed_libraries(const config::Config& cfg) {
    std::vector<LibraryNeed> out;
    for (const auto& s : cfg.sensors) {
        if (s.pcap) {
            out.push_back({Lib::Pcap, "sensor \"" + s.name + "\""});
            break;
        }
    }
    if (cfg.mqtt) out.push_back({Lib::Mosquitto, "the mqtt section"});
    // libcrypto: SPA keys, and MQTT (libmosquitto's TLS, signed commands). Named once, by the first user.
    const auto spa = std::find_if(cfg.knocks.begin(), cfg.knocks.end(), [](const auto& k) { return bool(k.spa); });
    if (spa != cfg.knocks.end()) out.push_back({Lib::Crypto, "SPA knock \"" + spa->name + "\""});
    else if (cfg.mqtt) out.push_back({Lib::Crypto, "the mqtt section"});
    return out;
}

bool load_libraries(const config::Config& cfg, std::string* err) {
    for (const auto& n : needed_libraries(cfg)) {
        std::string why;
        if (!sys::lazy::require(n.lib, &why)) {
            *err = n.what + " needs " + sys::lazy::soname(n.lib) + ": " + why;
            return false;
        }
    }
    return true;
}

}  // namespace nw::daemon

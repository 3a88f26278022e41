// config/model.cc — name tables for the enums of config/model.h. Pure; no YAML, no I/O.
// The loader and printer use these names, so they are the configuration file's spelling.
#include "config/model.h"

namespace nw::config {

const char* log_level_name(LogLevel l) {
    switch (l) {
        case LogLevel::Debug: return "debug";
        case LogLevel::Info: return "info";
        case LogLevel::Notice: return "notice";
        case LogLevel::Warning: return "warning";
        case LogLevel::Error: return "error";
    }
    return "info";
}

const char* proto_name(Proto p) {
    switch (p) {
        case Proto::Any: return "any";
        case Proto::Tcp: return "tcp";
        case Proto::Udp: return "udp";
        case Proto::Icmp: return "icmp";
        case Proto::Icmp6: return "icmp6";
        case Proto::Arp: return "arp";
    }
    return "any";
}

}  // namespace nw::config

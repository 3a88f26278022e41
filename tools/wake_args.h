// tools/wake_args.h — `netwakectl wake` forms (SPEC §7): the MAC and SecureOn spellings that
// etherwake and wakeonlan users type, options before or after the MAC. Pure; unit-tested.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli_args.h"
#include "config/model.h"
#include "packet/parse.h"

namespace nw::tools {

// 6 groups of 1-2 hex digits separated by ':' or '-' (0:11:22:aa:bb:cc), aabb.ccdd.eeff or
// 12 hex digits without separators.
bool parse_loose_mac(std::string_view s, packet::Mac* out, std::string* err);

// SecureOn password: 6 hex bytes (00:11:22:33:44:55, '-' or no separator too), 4 hex bytes
// (0a:0b:0c:0d) or a dotted quad (192.168.1.1). Hex groups are 1-2 digits, as etherwake reads them.
bool parse_secureon(std::string_view s, std::vector<uint8_t>* out, std::string* err);

// `wake` arguments. With a MAC: a local burst described by `wol`; otherwise `target`.
struct WakeArgs {
    bool local = false;  // the subject is a MAC
    std::string subject;  // as typed
    std::string target;   // a configured target (daemon) when !local
    config::WolConf wol;  // local: mac, interface, methods, ethernet_to, udp_to, password, repeat
};
bool parse_wake_args(const Args& args, WakeArgs* out, std::string* err);

}  // namespace nw::tools

// config/load.h — YAML file/text → validated config::Config (SPEC §3). The only entry points
// to the loader; no YAML type crosses this header. On failure *out is left untouched.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "packet/hostaddr.h"

namespace nw::config {

struct LoadOptions {
    // Check the filesystem: hooks exist and are executable, SPA key files exist, are not
    // group/world readable and hold a long enough key, daemon.user exists. Path syntax
    // (absolute) is checked either way. Tests and the fuzzer turn this off.
    bool check_files = true;
    // The host's addresses by interface, read once per load when a target has a sleep_proxy:
    // each sleep_proxy address must not be the host's own (any interface) and must be on-link
    // on its interface (judged only when that interface has a prefix of the address's family).
    // Empty: not checked (tests, the fuzzer). netwaked passes proxy::host_addresses.
    std::function<std::map<std::string, std::vector<packet::IfAddr>>()> host_addrs;
};

// Loads and validates `path`. On success fills *out (out->source = path) and returns true.
// On failure returns false and appends every error found to *errors, each formatted
// "FILE:LINE:COL: message" (1-based), sorted by position.
bool load_file(const std::string& path, Config* out, std::vector<std::string>* errors,
               const LoadOptions& opt = {});

// Same for YAML text; `source_name` is used in messages and as out->source.
bool load_string(std::string_view yaml, const std::string& source_name, Config* out,
                 std::vector<std::string>* errors, const LoadOptions& opt = {});

// A deep copy whose Interned strings are its own (equal ones shared again, none shared with `c`):
// what load_file's arena copy makes, so no block of the parse stays referenced (issue 16).
Config own_copy(const Config& c);

}  // namespace nw::config

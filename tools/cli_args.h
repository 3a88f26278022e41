// tools/cli_args.h — netwakectl's option scanner: options before or after positional words,
// `--opt=value` and `--opt value`, `-xVALUE` and `-x VALUE`, `--` ends options. Pure.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace nw::tools {

using Args = std::vector<std::string>;

struct OptSpec {
    char short_name;   // 0: none
    const char* name;  // long name without "--"; the key in Scanned::opts
    bool takes_value;
};

struct Scanned {
    std::vector<std::pair<std::string, std::string>> opts;  // (long name, value or "") in order
    Args positional;
    bool help = false;  // -h or --help seen (before "--")
};

// Sorts `args` into options (by `specs`) and positional words. False with *err on an unknown
// option, a missing value, or a value given to a flag.
bool scan_args(const Args& args, const std::vector<OptSpec>& specs, Scanned* out, std::string* err);

// True if -h or --help appears before "--" (subcommands answer it without the daemon).
bool wants_help(const Args& args);

// "5s", "500ms", "2" (seconds) -> milliseconds in [1, 3600000]; false if not a duration.
bool parse_timeout_ms(std::string_view s, long* ms);

}  // namespace nw::tools

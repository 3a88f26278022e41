// tools/cli_args.cc — netwakectl's option scanner (see cli_args.h).
#include "cli_args.h"

#include <cctype>
#include <cstdlib>

namespace nw::tools {

namespace {

const OptSpec* find_long(const std::vector<OptSpec>& specs, std::string_view n) {
    for (const auto& s : specs)
        if (n == s.name) return &s;
    return nullptr;
}
const OptSpec* find_short(const std::vector<OptSpec>& specs, char c) {
    for (const auto& s : specs)
        if (s.short_name && s.short_name == c) return &s;
    return nullptr;
}

}  // namespace

bool scan_args(const Args& args, const std::vector<OptSpec>& specs, Scanned* out, std::string* err) {
    *out = Scanned{};
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            out->positional.insert(out->positional.end(), args.begin() + long(i) + 1, args.end());
            break;
        }
        if (a == "-h" || a == "--help") {
            out->help = true;
            continue;
        }
        if (a.size() < 2 || a[0] != '-') {
            out->positional.push_back(a);
            continue;
        }
        const OptSpec* spec = nullptr;
        std::string value;
        bool inline_value = false;
        if (a[1] == '-') {
            const size_t eq = a.find('=');
            spec =
                find_long(specs, std::string_view(a).substr(2, eq == std::string::npos ? std::string::npos : eq - 2));
            if (eq != std::string::npos) value = a.substr(eq + 1), inline_value = true;
        } else {
            spec = find_short(specs, a[1]);
            if (spec && a.size() > 2) {
                if (!spec->takes_value)
                    spec = nullptr;  // no bundled flags
                else
                    value = a.substr(2), inline_value = true;
            }
        }
        if (!spec) {
            *err = "unknown option \"" + a + "\"";
            return false;
        }
        if (!spec->takes_value && inline_value) {
            *err = "option --" + std::string(spec->name) + " takes no value";
            return false;
        }
        if (spec->takes_value && !inline_value) {
            if (i + 1 >= args.size()) {
                *err = "option " + a + " needs a value";
                return false;
            }
            value = args[++i];
        }
        out->opts.emplace_back(spec->name, value);
    }
    return true;
}

bool wants_help(const Args& args) {
    for (const auto& a : args) {
        if (a == "--") return false;
        if (a == "-h" || a == "--help") return true;
    }
    return false;
}

bool parse_timeout_ms(std::string_view s, long* ms) {
    size_t i = 0;
    long n = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && n <= 3600000) n = n * 10 + (s[i++] - '0');
    if (i == 0) return false;
    const std::string_view unit = s.substr(i);
    long mult;
    if (unit.empty() || unit == "s")
        mult = 1000;
    else if (unit == "ms")
        mult = 1;
    else if (unit == "m")
        mult = 60000;
    else
        return false;
    if (n > 3600000 / mult || n * mult < 1) return false;
    *ms = n * mult;
    return true;
}

}  // namespace nw::tools

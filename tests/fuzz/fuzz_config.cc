// tests/fuzz/fuzz_config.cc — libFuzzer harness for config/: any bytes as a configuration file
// (file checks off). Must never crash; a loaded config must print, reload to an equal model and
// compile into a Ruleset; a refused one must come with "NAME:LINE:COL: message" errors.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/load.h"
#include "config/print.h"
#include "core/match.h"

using namespace nw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) return 0;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    config::LoadOptions opt;
    opt.check_files = false;
    config::Config c;
    std::vector<std::string> errs;
    bool ok = false;
    try {
        ok = config::load_string(text, "fuzz.yaml", &c, &errs, opt);
    } catch (...) {
        std::abort();  // the loader must catch every yaml-cpp exception itself
    }
    if (!ok) {
        if (errs.empty()) std::abort();
        for (const std::string& e : errs)
            if (e.rfind("fuzz.yaml:", 0) != 0) std::abort();
        return 0;
    }
    if (!errs.empty()) std::abort();

    std::string printed = config::print_normalized(c);
    config::Config again;
    std::vector<std::string> errs2;
    if (!config::load_string(printed, "fuzz.yaml", &again, &errs2, opt)) std::abort();
    if (!(again == c)) std::abort();

    std::vector<std::shared_ptr<core::TargetShared>> slots;
    for (const auto& t : c.targets) slots.push_back(std::make_shared<core::TargetShared>(t.name));
    std::string err;
    if (!core::Ruleset::build(c, slots, &err)) std::abort();  // the loader validated every rule
    return 0;
}

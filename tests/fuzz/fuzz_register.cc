// tests/fuzz/fuzz_register.cc — libFuzzer harness for the registration payload (control/register):
// any bytes through the incremental scanner (fed in two pieces) and the parser. Aborts on a
// broken invariant: accepted payloads are well-formed, refusals carry a one-line message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "control/protocol.h"
#include "control/register.h"
#include "packet/parse.h"

namespace ctl = nw::control;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    // The scanner gives the same answer whether the bytes come at once or in two segments.
    ctl::ObjectScanner whole, split;
    const auto a = whole.feed(in);
    auto b = split.feed(in.substr(0, size / 2));
    if (b == ctl::ObjectScanner::Result::Incomplete) b = split.feed(in);
    if (a != b) std::abort();
    if (a == ctl::ObjectScanner::Result::Complete && (whole.end() != split.end() || whole.end() > size)) std::abort();

    ctl::Registration r;
    std::string err;
    if (ctl::parse_registration(in, &r, &err)) {
        if (nw::packet::is_multicast(r.mac) || nw::packet::is_zero(r.mac)) std::abort();
        if (!ctl::safe_registration_name(r.name)) std::abort();
        if (r.monitor.empty() || r.monitor.size() > ctl::kRegisterMaxMonitor) std::abort();
        for (size_t i = 0; i < r.monitor.size(); ++i) {
            const auto& m = r.monitor[i];
            if (m.ports.size() > ctl::kRegisterMaxPorts) std::abort();  // empty: "port": []
            for (size_t k = 0; k < m.ports.size(); ++k)
                if (m.ports[k] == 0 || (k && m.ports[k] <= m.ports[k - 1])) std::abort();
            for (size_t j = 0; j < i; ++j)
                if (r.monitor[j].ip == m.ip) std::abort();
        }
    } else {
        if (err.empty() || err.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos) std::abort();
    }
    return 0;
}

// tests/fuzz/fuzz_control.cc — libFuzzer harness for control/protocol: any bytes as a request
// line, a reply and a status reply; accepted input must round-trip. Aborts on a broken invariant.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "control/protocol.h"

namespace ctl = nw::control;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string err;

    ctl::Request r;
    if (ctl::parse_request(in, &r, &err)) {
        // Whatever is accepted is a valid command with a valid name, and round-trips.
        const bool named = r.cmd != ctl::Cmd::Status && r.cmd != ctl::Cmd::Reload;
        if (named != !r.target.empty()) std::abort();
        if (r.cmd == ctl::Cmd::Forget ? !ctl::valid_registration_name(r.target)
                                      : named && !ctl::valid_target_name(r.target))
            std::abort();
        const std::string line = ctl::format_request(r);
        ctl::Request back;
        if (!ctl::parse_request(line, &back, &err) || back.cmd != r.cmd || back.target != r.target) std::abort();
    } else {
        // Every refusal has a one-line message, and the error reply stays one line.
        if (err.empty()) std::abort();
        const std::string reply = ctl::reply_error(err);
        if (reply.find('\n') != reply.size() - 1) std::abort();
    }

    ctl::Reply rep;
    if (ctl::parse_reply(in, &rep, &err) && !rep.ok && rep.error.empty()) std::abort();

    ctl::Status s;
    if (ctl::parse_status(in, &s, &err)) {
        const std::string text = ctl::render_status_text(s);
        for (unsigned char c : text)
            if (c < 0x20 && c != '\n') std::abort();  // no terminal escapes get through
        // format ∘ parse is idempotent after one pass.
        const std::string line = ctl::format_status(s);
        ctl::Status s2;
        if (!ctl::parse_status(line, &s2, &err)) std::abort();
        if (ctl::format_status(s2) != line) std::abort();
    }
    return 0;
}

// daemon/control_dispatch.cc — ControlDispatch (see control_dispatch.h).
#include "daemon/control_dispatch.h"

#include <fmt/format.h>

namespace nw::daemon {

std::string ControlDispatch::command(core::Action a, const std::string& target) {
    const core::CommandResult res = d_.command({a, target, core::Origin::Control, "netwakectl"});
    return res.ok ? control::reply_ok(res.message) : control::reply_error(res.message);
}

std::string ControlDispatch::handle(const control::Request& r) {
    switch (r.cmd) {
        case control::Cmd::Status: return control::format_status(d_.status());
        case control::Cmd::Start: return command(core::Action::Start, r.target);
        case control::Cmd::Stop: return command(core::Action::Stop, r.target);
        case control::Cmd::Wake: return command(core::Action::Wake, r.target);
        case control::Cmd::Forget: return command(core::Action::Forget, r.target);
        case control::Cmd::Reload: {
            std::string why;
            if (!d_.reload(&why)) return control::reply_error("reload failed: " + why);
            return control::reply_ok(fmt::format("reloaded {}", d_.config_path()));
        }
    }
    return control::reply_error("unknown command");
}

}  // namespace nw::daemon

// daemon/control_dispatch.h — a netwakectl request (control socket, SPEC §11) turned into its reply:
// target actions go to the one command path (origin control), status and reload to the wiring's
// functions. Knows no component itself, so a unit test drives it with fakes. Core thread only.
#pragma once

#include <functional>
#include <string>

#include "control/protocol.h"
#include "core/command.h"

namespace nw::daemon {

class ControlDispatch {
   public:
    struct Deps {
        std::function<core::CommandResult(const core::Command&)> command;  // CommandHandler::run
        std::function<control::Status()> status;
        // Reloads the configuration file; false + *why when the running one is kept.
        std::function<bool(std::string* why)> reload;
        std::function<std::string()> config_path;  // named in the reload reply
    };
    explicit ControlDispatch(Deps d) : d_(std::move(d)) {}

    // The reply line for `r` (control::reply_ok / reply_error / format_status).
    std::string handle(const control::Request& r);

   private:
    std::string command(core::Action a, const std::string& target);

    Deps d_;
};

}  // namespace nw::daemon

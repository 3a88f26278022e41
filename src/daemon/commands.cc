// daemon/commands.cc — CommandHandler (see commands.h).
#include "daemon/commands.h"

#include "sys/log.h"

namespace nw::daemon {

core::CommandResult CommandHandler::run(const core::Command& c) {
    d_.core->set_origin(core::origin_name(c.origin));
    core::CommandResult r = act(c);
    d_.core->set_origin("");
    ++(r.ok ? done_ : failed_);
    const std::string who = c.source.empty() ? core::origin_name(c.origin)
                                             : fmt::format("{} {}", core::origin_name(c.origin), c.source);
    if (r.ok) log::info("command {} {} ({}): {}", core::action_name(c.action), c.target, who, r.message);
    else log::info("command {} {} ({}) failed: {}", core::action_name(c.action), c.target, who, r.message);
    return r;
}

core::CommandResult CommandHandler::act(const core::Command& c) {
    std::string err;
    switch (c.action) {
        case core::Action::Start:
            if (!d_.core->start(c.target, core::Reason::Control, &err)) return {false, err};
            return {true, fmt::format("{} started", c.target)};
        case core::Action::Stop:
            if (!d_.core->stop(c.target, core::Reason::Control, &err)) return {false, err};
            return {true, fmt::format("{} stopped", c.target)};
        case core::Action::Wake:
            if (!d_.core->wake(c.target, &err)) return {false, err};
            return {true, fmt::format("magic packets sent for {}", c.target)};
        case core::Action::Forget:
            if (!d_.forget) return {false, "no registration named " + c.target};
            if (!d_.forget(c.target, &err)) return {false, err};
            return {true, fmt::format("registration {} forgotten", c.target)};
    }
    return {false, "unknown command"};
}

}  // namespace nw::daemon

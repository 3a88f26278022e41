// daemon/commands.cc — CommandHandler (see commands.h).
#include "daemon/commands.h"

#include "sys/log.h"

namespace nw::daemon {

core::CommandResult CommandHandler::run(const core::Command& c) {
    d_.core->set_origin(core::event_origin(c.origin));
    core::CommandResult r = act(c);
    d_.core->set_origin("");
    ++(r.ok ? done_ : failed_);
    const std::string who = c.source.empty() ? core::origin_name(c.origin)
                                             : fmt::format("{} {}", core::origin_name(c.origin), c.source);
    if (r.ok) log::info("command {} {} ({}): {}", core::action_name(c.action), c.target, who, r.message);
    else log::info("command {} {} ({}) failed: {}", core::action_name(c.action), c.target, who, r.message);
    return r;
}

namespace {

// NETWAKED_REASON of what a command causes: a knock's start says knock, a relayed magic packet
// is traffic; requests (netwakectl, MQTT) say control.
core::Reason reason_of(core::Origin o) {
    switch (o) {
        case core::Origin::Knock: return core::Reason::Knock;
        case core::Origin::Relay: return core::Reason::Traffic;
        default: return core::Reason::Control;
    }
}

}  // namespace

core::CommandResult CommandHandler::act(const core::Command& c) {
    std::string err;
    const core::Reason why = reason_of(c.origin);
    switch (c.action) {
        case core::Action::Start:
            if (!d_.core->start(c.target, why, &err, c.cause)) return {false, err};
            return {true, fmt::format("{} started", c.target)};
        case core::Action::Stop:
            if (!d_.core->stop(c.target, why, &err)) return {false, err};
            return {true, fmt::format("{} stopped", c.target)};
        case core::Action::Wake:
            if (!d_.core->wake(c.target, &err, why, c.cause)) return {false, err};
            return {true, fmt::format("magic packets sent for {}", c.target)};
        case core::Action::Forget:
            if (!d_.forget) return {false, "no registration named " + c.target};
            if (!d_.forget(c.target, &err)) return {false, err};
            return {true, fmt::format("registration {} forgotten", c.target)};
    }
    return {false, "unknown command"};
}

}  // namespace nw::daemon

// daemon/commands.h — the one command path: every Command (netwakectl, MQTT, the relay, completed
// knocks through CoreDeps::command) is carried out here — the core told its origin (NETWAKED_ORIGIN
// of the events it causes), one log line, one result. Core thread only.
#pragma once

#include <functional>
#include <string>

#include "core/command.h"
#include "core/core.h"

namespace nw::daemon {

class CommandHandler {
   public:
    struct Deps {
        core::Core* core = nullptr;
        // `forget`: drops a registration (the sleep proxy); empty: there is none to forget.
        std::function<bool(const std::string& name, std::string* err)> forget;
    };
    explicit CommandHandler(Deps d) : d_(std::move(d)) {}

    core::CommandResult run(const core::Command& c);
    uint64_t done() const { return done_; }
    uint64_t failed() const { return failed_; }

   private:
    core::CommandResult act(const core::Command& c);

    Deps d_;
    uint64_t done_ = 0, failed_ = 0;
};

}  // namespace nw::daemon

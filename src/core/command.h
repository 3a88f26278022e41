// core/command.h — the one Command every command source becomes (netwakectl over the control
// socket, MQTT, the Wake-on-WAN relay, completed knocks): action, target, origin, source. Handled by
// one function (daemon/commands.h), so authorization, logging and the result are written once.
#pragma once

#include <cstdint>
#include <string>

namespace nw::core {

enum class Action : uint8_t { Start, Stop, Wake, Forget };
enum class Origin : uint8_t { Control, Mqtt, Knock, Relay };
const char* action_name(Action a);  // "start", "stop", "wake", "forget"
const char* origin_name(Origin o);  // "control", "mqtt", "knock", "relay" (NETWAKED_ORIGIN)

struct Hit;  // core/shared.h

struct Command {
    Action action = Action::Start;
    std::string target;
    Origin origin = Origin::Control;
    std::string source;          // who, for the log: "netwakectl", a broker client, a knock's or relay's sender
    const Hit* cause = nullptr;  // the packet behind it (knocks, the relay); valid during the call only
};
// NETWAKED_ORIGIN of the events a command causes (SPEC §5): "control", "mqtt", "relay"; none ("")
// for a knock, whose events say reason knock.
const char* event_origin(Origin o);

struct CommandResult {
    bool ok = false;
    std::string message;  // what was done ("nas started"), or why not
};

}  // namespace nw::core

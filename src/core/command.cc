// core/command.cc — names of the Command actions and origins (see command.h).
#include "core/command.h"

namespace nw::core {

const char* action_name(Action a) {
    switch (a) {
        case Action::Start: return "start";
        case Action::Stop: return "stop";
        case Action::Wake: return "wake";
        case Action::Forget: return "forget";
    }
    return "?";
}

const char* origin_name(Origin o) {
    switch (o) {
        case Origin::Control: return "control";
        case Origin::Mqtt: return "mqtt";
        case Origin::Knock: return "knock";
        case Origin::Relay: return "relay";
    }
    return "?";
}

const char* event_origin(Origin o) { return o == Origin::Knock ? "" : origin_name(o); }

}  // namespace nw::core

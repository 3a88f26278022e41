// config/print.h — the normalized YAML form of a Config (`netwaked --check`, SIGUSR1).
// Pure text generation: no I/O. load_string(print_normalized(c)) yields a Config equal to c
// (apart from `source`, and `savefile`, which only the tuninetd command line sets).
#pragma once

#include <string>

#include "config/model.h"

namespace nw::config {

// YAML text of the whole model with every default written out.
std::string print_normalized(const Config& c);
// The `mqtt:` section alone (config/print_mqtt.cc).
std::string print_mqtt(const MqttConf& m);

}  // namespace nw::config

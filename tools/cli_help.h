// tools/cli_help.h — the per-subcommand help of netwakectl (`netwakectl CMD --help`,
// `netwakectl help CMD`): printed without contacting the daemon.
#pragma once
#include <string_view>

namespace nw::tools {

// The usage text of subcommand `cmd` (several lines, ends in '\n'); nullptr if unknown.
const char* command_usage(std::string_view cmd);

}  // namespace nw::tools

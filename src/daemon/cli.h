// daemon/cli.h — netwaked's command line (SPEC §2): configuration-file mode and the
// tuninetd-compatible mode, validated strictly (tuninetd turns `-t abc` into 0; we refuse).
// Pure apart from stat() of the hook path; builds the Config for tuninetd mode.
#pragma once

#include <string>

#include "config/model.h"

namespace nw::daemon {

struct CliOptions {
    enum class Mode { ConfigFile, Tuninetd, Help, Version } mode = Mode::ConfigFile;
    std::string config_path = "/etc/netwaked/netwaked.yaml";
    bool daemonize = false;
    bool debug = false;
    bool syslog = false;
    bool check = false;
    std::string pidfile;          // --pidfile (empty: config's, or /run/netwaked.pid with -d in tuninetd mode)
    config::Config tuninetd;      // the whole configuration in tuninetd mode
};

// Parses argv. Returns 0 on success, 2 on a usage error with *err set to a one-line message
// naming the flag and the bad value.
int parse_cli(int argc, char** argv, CliOptions* out, std::string* err);

const char* usage_text();

}  // namespace nw::daemon

// main.cc — netwaked's entry point: parse the command line, load and validate the
// configuration, then hand over to run_daemon(). Short on purpose (DESIGN "Layout").
#include <malloc.h>

#include <cstdio>
#include <string>
#include <vector>

#include "config/load.h"
#include "config/print.h"
#include "daemon/cli.h"
#include "daemon/daemon.h"
#include "daemon/libraries.h"
#include "proxy/host.h"

// Loads the libraries `cfg` needs (daemon/libraries.h); 0, or 1 after saying which cannot be loaded.
static int load_libraries(const nw::config::Config& cfg) {
    std::string err;
    if (nw::daemon::load_libraries(cfg, &err)) return 0;
    std::fprintf(stderr, "netwaked: %s\n", err.c_str());
    return 1;
}

int main(int argc, char** argv) {
    // Fixed malloc thresholds (issue 16): large blocks are mmapped and unmapped when freed, and free
    // heap above 128 KiB is returned, also in the configuration loader's arena (config/load.cc); the
    // dynamic defaults raise both after the first large free and kept the parser's heap resident.
    ::mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    ::mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    using nw::daemon::CliOptions;
    CliOptions opts;
    std::string err;
    if (nw::daemon::parse_cli(argc, argv, &opts, &err) != 0) {
        std::fprintf(stderr, "netwaked: %s\nTry 'netwaked --help'.\n", err.c_str());
        return 2;
    }
    switch (opts.mode) {
        case CliOptions::Mode::Help: std::fputs(nw::daemon::usage_text(), stdout); return 0;
        case CliOptions::Mode::Version: std::printf("netwaked %s\n", NETWAKED_VERSION); return 0;
        case CliOptions::Mode::Tuninetd:
            if (int rc = load_libraries(opts.tuninetd)) return rc;
            return nw::daemon::run_daemon(opts, opts.tuninetd);
        case CliOptions::Mode::ConfigFile: break;
    }
    nw::config::Config cfg;
    std::vector<std::string> errors;
    nw::config::LoadOptions lo;
    lo.host_addrs = nw::proxy::host_addresses;  // sleep_proxy addresses: not ours, on-link
    if (!nw::config::load_file(opts.config_path, &cfg, &errors, lo)) {
        for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
        std::fprintf(stderr, "netwaked: %zu error(s) in %s\n", errors.size(), opts.config_path.c_str());
        return 2;
    }
    if (int rc = load_libraries(cfg)) return rc;
    if (opts.check) {
        std::fputs(nw::config::print_normalized(cfg).c_str(), stdout);
        return 0;
    }
    return nw::daemon::run_daemon(opts, std::move(cfg));
}

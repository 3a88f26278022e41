// daemon/cli.cc — command-line parsing and validation (see cli.h). No sockets, no threads.
#include "daemon/cli.h"

#include <getopt.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "sys/process.h"

namespace nw::daemon {

const char* usage_text() {
    return "usage: netwaked [-C FILE] [-d] [-D] [--syslog] [--pidfile FILE] [--check]\n"
           "       netwaked -i IFNAME -c HOOK [-f FILTER] [-n GROUP] [-t TTL] [-a] [-w FILE] [-d]\n"
           "       netwaked -n GROUP -c HOOK [-i IFNAME [-f FILTER]] [-t TTL] [-a] [-w FILE] [-d]\n"
           "\n"
           "Configuration-file mode:\n"
           "  -C, --config FILE   configuration (default /etc/netwaked/netwaked.yaml)\n"
           "      --check         validate the configuration, print it normalized, exit\n"
           "  -d                  daemonize (double fork, pidfile, log to syslog)\n"
           "  -D, --debug         log debug messages\n"
           "      --syslog        log to syslog even in the foreground\n"
           "      --pidfile FILE  write the process id to FILE\n"
           "tuninetd-compatible mode (one target named \"default\"):\n"
           "  -i IFNAME           pcap sensor on interface IFNAME\n"
           "  -f FILTER           BPF filter (tcpdump syntax) for the pcap sensor\n"
           "  -n GROUP            NFLOG sensor on netfilter log group GROUP (0-65535)\n"
           "  -c HOOK             hook executable, run as: HOOK start|stop default; a command\n"
           "                      line (\"HOOK ARGS\") is run with /bin/sh -c, as tuninetd does\n"
           "  -t TTL              idle seconds before stop (default 600)\n"
           "  -a                  only TCP packets with ACK reset the idle timer\n"
           "  -w FILE             append the packets that caused each start to a pcap file\n"
           "  -h, --help          this help;  -v, --version  print the version\n";
}

namespace {

bool parse_uint(const char* s, unsigned long max, unsigned long* out) {
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') return false;
    errno = 0;
    char* end = nullptr;
    unsigned long v = std::strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) return false;
    *out = v;
    return true;
}

// A hook must be an existing, executable regular file; relative paths become absolute here,
// before daemonizing changes directory. `what` names the path in messages.
bool check_hook(const std::string& path, const std::string& what, std::string* abs, std::string* err) {
    *abs = sys::absolute_path(path);
    struct stat st {};
    if (stat(abs->c_str(), &st) != 0) {
        *err = fmt::format("-c: {} \"{}\": {}", what, path, std::strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = fmt::format("-c: {} \"{}\" is not a regular file", what, path);
        return false;
    }
    if ((st.st_mode & 0111) == 0 || access(abs->c_str(), X_OK) != 0) {
        *err = fmt::format("-c: {} \"{}\" is not executable", what, path);
        return false;
    }
    return true;
}

// A bare command name as the shell would find it (PATH, or the shell's default).
bool in_path(const std::string& name) {
    const char* env = std::getenv("PATH");
    std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
    for (size_t pos = 0; pos <= path.size();) {
        size_t end = path.find(':', pos);
        if (end == std::string::npos) end = path.size();
        std::string dir = end > pos ? path.substr(pos, end - pos) : ".";
        if (access((dir + "/" + name).c_str(), X_OK) == 0) return true;
        pos = end + 1;
    }
    return false;
}

// tuninetd hands -c to a shell (SPEC §2.2): a value that is not an existing file but a command
// line ("/path/hook --vpn wg0", "/bin/sh /path/toggle.sh") becomes *shell, run later as
// /bin/sh -c '<value> "$@"' netwaked <event> <target>. Its first word is checked like a hook
// (made absolute if relative: hooks run in /); a bare command name is looked up in PATH.
bool hook_command(const std::string& value, config::TargetConf* t, std::string* err) {
    struct stat st {};
    const size_t b = value.find_first_not_of(" \t");
    const bool words = b != std::string::npos && value.find_first_of(" \t", b) != std::string::npos;
    if (!words || stat(sys::absolute_path(value).c_str(), &st) == 0) {
        std::string hook;
        if (!check_hook(value, "hook", &hook, err)) return false;
        t->hook = hook;
        return true;
    }
    const size_t e = value.find_first_of(" \t", b);
    std::string first = value.substr(b, e - b), rest = value.substr(e);
    if (first.find_first_of("'\"\\$`;|&<>()=*?~") == std::string::npos) {
        std::string abs;
        if (first.find('/') != std::string::npos) {
            if (!check_hook(first, fmt::format("command \"{}\": program", value), &abs, err)) return false;
            first = abs;
        } else if (!in_path(first)) {
            *err = fmt::format("-c: command \"{}\": program \"{}\" not found in PATH", value, first);
            return false;
        }
    }
    t->hook = "/bin/sh";
    t->hook_shell = first + rest;
    return true;
}

}  // namespace

namespace {

// The tuninetd flags as given, before the mode is decided.
struct Flags {
    std::string iface, filter, hook, savefile;
    bool have_n = false, have_t = false, have_f = false, have_C = false, ack = false;
    unsigned long group = 0, ttl = 600;
};

enum class Took { Next, Stop, Error };  // Stop: --help / --version decided the mode
enum LongOnly { kSyslog = 1000, kPidfile, kCheck };  // options without a short form

Took bad(std::string* err, std::string msg) {
    *err = std::move(msg);
    return Took::Error;
}

// One option returned by getopt_long (optarg, optopt and optind as it left them).
Took take_option(int c, char** argv, CliOptions* o, Flags* f, std::string* err) {
    switch (c) {
        case 'C': o->config_path = optarg; f->have_C = true; break;
        case 'd': o->daemonize = true; break;
        case 'D': o->debug = true; break;
        case kSyslog: o->syslog = true; break;
        case kPidfile: o->pidfile = sys::absolute_path(optarg); break;
        case kCheck: o->check = true; break;
        case 'h': o->mode = CliOptions::Mode::Help; return Took::Stop;
        case 'v': o->mode = CliOptions::Mode::Version; return Took::Stop;
        case 'i':
            f->iface = optarg;
            if (f->iface.empty() || f->iface.size() >= IF_NAMESIZE || f->iface.find('/') != std::string::npos)
                return bad(err, fmt::format("-i: invalid interface name \"{}\" (1-{} characters)", f->iface, IF_NAMESIZE - 1));
            break;
        case 'f': f->filter = optarg; f->have_f = true; break;
        case 'n':
            if (!parse_uint(optarg, 65535, &f->group))
                return bad(err, fmt::format("-n: invalid NFLOG group \"{}\" (an integer 0-65535)", optarg));
            f->have_n = true;
            break;
        case 'c': f->hook = optarg; break;
        case 't':
            if (!parse_uint(optarg, 31536000, &f->ttl) || f->ttl == 0)
                return bad(err, fmt::format("-t: invalid TTL \"{}\" (whole seconds, 1-31536000)", optarg));
            f->have_t = true;
            break;
        case 'a': f->ack = true; break;
        case 'w':
            f->savefile = optarg;
            if (f->savefile.empty()) return bad(err, "-w: empty path");
            break;
        case ':':
            return bad(err, optopt ? fmt::format("option -{} needs an argument", static_cast<char>(optopt))
                                   : fmt::format("option {} needs an argument", argv[optind - 1]));
        default:
            return bad(err, optopt ? fmt::format("unknown option -{}", static_cast<char>(optopt))
                                   : fmt::format("unknown option {}", argv[optind - 1]));
    }
    return Took::Next;
}

// The combinations the tuninetd mode needs (SPEC §2.2).
bool check_tuninetd(const CliOptions& o, const Flags& f, std::string* err) {
    if (f.have_C || o.check) *err = "-C/--check cannot be combined with the tuninetd flags -i/-n/-c";
    else if (f.hook.empty()) *err = "-c HOOK is required with -i/-n";
    else if (f.iface.empty() && !f.have_n) *err = "-c needs a sensor: -i IFNAME and/or -n GROUP";
    else if (f.have_f && f.iface.empty()) *err = "-f FILTER needs -i IFNAME";
    else return true;
    return false;
}

// The whole configuration of the tuninetd mode: its sensors and the one target "default".
bool build_tuninetd(const Flags& f, CliOptions* o, std::string* err) {
    config::Config& cfg = o->tuninetd;
    cfg = config::Config{};
    cfg.source = "command line";
    cfg.daemon.state_dir.clear();       // tuninetd mode keeps no state and opens no socket
    cfg.daemon.control_socket.clear();
    cfg.daemon.log_level = o->debug ? config::LogLevel::Debug : config::LogLevel::Info;
    if (f.have_n) {
        config::SensorConf s;
        s.name = fmt::format("nflog:{}", f.group);
        // -w keeps whole packets (SPEC §2.2): the copy range and snap length grow to hold them.
        s.nflog = config::NflogConf{static_cast<uint16_t>(f.group), f.savefile.empty() ? 128u : 65535u};
        cfg.sensors.push_back(s);
    }
    if (!f.iface.empty()) {
        config::SensorConf s;
        s.name = fmt::format("pcap:{}", f.iface);
        config::PcapConf p;
        p.interface = f.iface;
        p.filter = f.filter;
        if (!f.savefile.empty()) p.snaplen = 65535;
        s.pcap = p;
        cfg.sensors.push_back(s);
    }
    config::TargetConf t;
    t.name = "default";
    t.match.push_back(config::Rule{});
    if (f.ack) {
        config::Rule k;
        k.tcp_flags = config::TcpFlags{packet::kTcpAck, packet::kTcpAck};
        k.proto = config::Proto::Tcp;
        t.keepalive = std::vector<config::Rule>{k};
    }
    t.ttl = std::chrono::seconds(f.ttl);
    if (!hook_command(f.hook, &t, err)) return false;
    cfg.targets.push_back(t);
    if (!f.savefile.empty()) cfg.savefile = sys::absolute_path(f.savefile);
    if (o->daemonize && o->pidfile.empty()) o->pidfile = "/run/netwaked.pid";
    cfg.daemon.pidfile = o->pidfile;
    return true;
}

}  // namespace

int parse_cli(int argc, char** argv, CliOptions* o, std::string* err) {
    static const option longopts[] = {
        {"config", required_argument, nullptr, 'C'}, {"debug", no_argument, nullptr, 'D'},
        {"syslog", no_argument, nullptr, kSyslog},   {"pidfile", required_argument, nullptr, kPidfile},
        {"check", no_argument, nullptr, kCheck},     {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, 'v'},      {nullptr, 0, nullptr, 0},
    };
    Flags f;
    opterr = 0;
    optind = 0;  // glibc: 0 also resets getopt's state left by an earlier parse stopped mid-argument
    int c;
    while ((c = getopt_long(argc, argv, ":C:dDi:f:n:c:t:aw:hv", longopts, nullptr)) != -1) {
        const Took took = take_option(c, argv, o, &f, err);
        if (took == Took::Stop) return 0;
        if (took == Took::Error) return 2;
    }
    if (optind < argc) {
        *err = fmt::format("unexpected argument \"{}\"", argv[optind]);
        return 2;
    }
    if (f.iface.empty() && !f.have_n && f.hook.empty()) {
        if (f.have_f || f.have_t || f.ack || !f.savefile.empty()) {
            *err = "-f, -t, -a and -w need the tuninetd mode (-i IFNAME and/or -n GROUP, and -c HOOK)";
            return 2;
        }
        o->mode = CliOptions::Mode::ConfigFile;
        return 0;
    }
    if (!check_tuninetd(*o, f, err)) return 2;
    o->mode = CliOptions::Mode::Tuninetd;
    return build_tuninetd(f, o, err) ? 0 : 2;
}

}  // namespace nw::daemon

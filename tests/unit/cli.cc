// tests/unit/cli.cc — netwaked's command line: tuninetd-compatible flags, strict validation
// with exact messages, and the Config built for tuninetd mode.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "daemon/cli.h"

using nw::daemon::CliOptions;

namespace {
int parse(std::vector<std::string> args, CliOptions* o, std::string* err) {
    args.insert(args.begin(), "netwaked");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return nw::daemon::parse_cli(static_cast<int>(args.size()), argv.data(), o, err);
}
std::string error_of(std::vector<std::string> args) {
    CliOptions o;
    std::string err;
    if (parse(std::move(args), &o, &err) == 0) return "<ok>";
    return err;
}
}  // namespace

TEST_CASE("tuninetd command lines build the default target") {
    CliOptions o;
    std::string err;
    REQUIRE(parse({"-n", "1", "-c", "/bin/true", "-t", "600"}, &o, &err) == 0);
    CHECK(o.mode == CliOptions::Mode::Tuninetd);
    REQUIRE(o.tuninetd.sensors.size() == 1);
    CHECK(o.tuninetd.sensors[0].name == "nflog:1");
    REQUIRE(o.tuninetd.targets.size() == 1);
    CHECK(o.tuninetd.targets[0].name == "default");
    CHECK(o.tuninetd.targets[0].ttl == std::chrono::seconds(600));
    CHECK(o.tuninetd.targets[0].hook == "/bin/true");
    CHECK_FALSE(o.tuninetd.targets[0].keepalive.has_value());
    CHECK(o.tuninetd.daemon.control_socket.empty());

    CliOptions p;
    REQUIRE(parse({"-i", "eth0", "-f", "udp port 51820", "-c", "/bin/true", "-a"}, &p, &err) == 0);
    REQUIRE(p.tuninetd.sensors.size() == 1);
    CHECK(p.tuninetd.sensors[0].pcap->filter == "udp port 51820");
    REQUIRE(p.tuninetd.targets[0].keepalive.has_value());
    CHECK(p.tuninetd.targets[0].keepalive->at(0).tcp_flags->mask == 0x10);
    CHECK(p.tuninetd.targets[0].ttl == std::chrono::seconds(600));

    CliOptions q;
    REQUIRE(parse({"-n", "5", "-i", "tun0", "-c", "/bin/true", "-d", "-w", "out.pcap"}, &q, &err) == 0);
    CHECK(q.tuninetd.sensors.size() == 2);
    CHECK(q.daemonize);
    CHECK(q.pidfile == "/run/netwaked.pid");
    CHECK(q.tuninetd.savefile.front() == '/');  // made absolute before daemonizing
}

TEST_CASE("bad numbers and paths are refused with exact messages") {
    CHECK(error_of({"-n", "1", "-c", "/bin/true", "-t", "abc"}) ==
          "-t: invalid TTL \"abc\" (whole seconds, 1-31536000)");
    CHECK(error_of({"-n", "1", "-c", "/bin/true", "-t", "-5"}) ==
          "-t: invalid TTL \"-5\" (whole seconds, 1-31536000)");
    CHECK(error_of({"-n", "1", "-c", "/bin/true", "-t", "0"}) ==
          "-t: invalid TTL \"0\" (whole seconds, 1-31536000)");
    CHECK(error_of({"-n", "99999", "-c", "/bin/true"}) == "-n: invalid NFLOG group \"99999\" (an integer 0-65535)");
    CHECK(error_of({"-n", "x", "-c", "/bin/true"}) == "-n: invalid NFLOG group \"x\" (an integer 0-65535)");
    CHECK(error_of({"-n", "1"}) == "-c HOOK is required with -i/-n");
    CHECK(error_of({"-c", "/bin/true"}) == "-c needs a sensor: -i IFNAME and/or -n GROUP");
    CHECK(error_of({"-n", "1", "-c", "/nonexistent/hook"}) ==
          "-c: hook \"/nonexistent/hook\": No such file or directory");
    char tmpl[] = "/tmp/nw-cli-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    chmod(tmpl, 0644);
    CHECK(error_of({"-n", "1", "-c", tmpl}) == fmt::format("-c: hook \"{}\" is not executable", tmpl));
    unlink(tmpl);
    CHECK(error_of({"-n", "1", "-c", "/tmp"}) == "-c: hook \"/tmp\" is not a regular file");
    CHECK(error_of({"-n", "1", "-f", "udp", "-c", "/bin/true"}) == "-f FILTER needs -i IFNAME");
    CHECK(error_of({"-n", "1", "-c", "/bin/true", "-x"}) == "unknown option -x");
    CHECK(error_of({"-n"}) == "option -n needs an argument");
    CHECK(error_of({"--bogus"}) == "unknown option --bogus");
    CHECK(error_of({"-i", "averyveryverylongname0", "-c", "/bin/true"}) ==
          "-i: invalid interface name \"averyveryverylongname0\" (1-15 characters)");
    CHECK(error_of({"-C", "x.yaml", "-n", "1", "-c", "/bin/true"}) ==
          "-C/--check cannot be combined with the tuninetd flags -i/-n/-c");
    CHECK(error_of({"-t", "5"}) ==
          "-f, -t, -a and -w need the tuninetd mode (-i IFNAME and/or -n GROUP, and -c HOOK)");
    CHECK(error_of({"extra"}) == "unexpected argument \"extra\"");
}

TEST_CASE("config-file mode flags") {
    CliOptions o;
    std::string err;
    REQUIRE(parse({"-C", "/x.yaml", "--check", "-D"}, &o, &err) == 0);
    CHECK(o.mode == CliOptions::Mode::ConfigFile);
    CHECK(o.config_path == "/x.yaml");
    CHECK(o.check);
    CHECK(o.debug);
    CliOptions h, v;
    CHECK(parse({"-h"}, &h, &err) == 0);
    CHECK(h.mode == CliOptions::Mode::Help);
    CHECK(parse({"--version"}, &v, &err) == 0);
    CHECK(v.mode == CliOptions::Mode::Version);
}

TEST_CASE("tuninetd -c command lines run through /bin/sh (SPEC 2.2)") {
    CliOptions o;
    std::string err;
    REQUIRE_MESSAGE(parse({"-n", "1", "-c", "/bin/true --vpn wg0"}, &o, &err) == 0, err);
    CHECK(o.tuninetd.targets[0].hook == "/bin/sh");
    CHECK(o.tuninetd.targets[0].hook_shell == "/bin/true --vpn wg0");
    REQUIRE(parse({"-n", "1", "-c", "true x"}, &o, &err) == 0);  // a bare name: found in PATH
    CHECK(o.tuninetd.targets[0].hook_shell == "true x");
    REQUIRE(parse({"-n", "1", "-c", "/bin/true"}, &o, &err) == 0);  // a plain path: no shell
    CHECK(o.tuninetd.targets[0].hook == "/bin/true");
    CHECK(o.tuninetd.targets[0].hook_shell.empty());
    CHECK(error_of({"-n", "1", "-c", "/nonexistent/hook --vpn wg0"}) ==
          "-c: command \"/nonexistent/hook --vpn wg0\": program \"/nonexistent/hook\": No such file or directory");
    CHECK(error_of({"-n", "1", "-c", "no-such-program-nw x"}) ==
          "-c: command \"no-such-program-nw x\": program \"no-such-program-nw\" not found in PATH");
}

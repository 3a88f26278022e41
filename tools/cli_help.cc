// tools/cli_help.cc — the per-subcommand help texts of netwakectl (see cli_help.h).
#include "cli_help.h"

namespace nw::tools {

namespace {

struct Usage {
    const char* cmd;
    const char* text;
};

constexpr Usage kUsage[] = {
    {"status",
     "usage: netwakectl status [--json]\n"
     "Show sensors, targets and counters of the running netwaked (--json: the raw reply).\n"},
    {"start", "usage: netwakectl start TARGET\nStart TARGET now, as if traffic had arrived.\n"},
    {"stop", "usage: netwakectl stop TARGET\nStop TARGET now, without waiting for its TTL.\n"},
    {"wake",
     "usage: netwakectl wake TARGET\n"
     "       netwakectl wake [OPTIONS] MAC [OPTIONS]\n"
     "With TARGET: the running netwaked sends TARGET's configured magic packets.\n"
     "With MAC: send one burst now, without a daemon. MAC: aa:bb:cc:dd:ee:ff, 0:b:c:d:e:f,\n"
     "aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff.\n"
     "  -i, --interface IF     EtherType 0x0842 frame on IF, to MAC and broadcast (etherwake)\n"
     "  -b, --broadcast        with -i: to the broadcast MAC only\n"
     "      --unicast          with -i: to MAC only\n"
     "      --udp HOST[:PORT]  UDP datagram to HOST (port 9 by default; [v6%IF]:PORT)\n"
     "  -p, --password PW      SecureOn password: 6 hex bytes, 4 hex bytes or a dotted quad\n"
     "      --repeat N         N copies, 100 ms apart (default 1)\n"
     "Without -i or --udp: UDP to 255.255.255.255:9 (wakeonlan). --opt=value works too.\n"},
    {"forget", "usage: netwakectl forget NAME\nDrop the registration NAME (sleep proxy).\n"},
    {"reload", "usage: netwakectl reload\nReload the configuration file of the running netwaked.\n"},
    {"register",
     "usage: netwakectl register SERVER[:PORT] [OPTIONS]\n"
     "Register this machine with a netwaked (or Wakupator) sleep proxy before it sleeps: its MAC,\n"
     "its addresses on the interface that routes to SERVER, and the ports that should wake it.\n"
     "Exit 0 only when the server answers \"OK.\"; otherwise print its message and exit 1.\n"
     "SERVER: a name, an IPv4 address or [IPv6]; PORT defaults to 13717.\n"
     "  -i, --interface IF        use IF instead of the interface routing to SERVER\n"
     "      --ports LIST|auto     ports for every address: 22,445 or auto (the TCP ports this\n"
     "                            machine listens on, loopback-only listeners excluded; default)\n"
     "      --ports-per-address ADDR=LIST   ports for one address (repeatable)\n"
     "      --address ADDR        register ADDR instead of the discovered ones (repeatable)\n"
     "      --link-local          include link-local addresses\n"
     "      --temporary           include temporary and deprecated IPv6 addresses\n"
     "      --name NAME           the name the proxy shows (default: the MAC)\n"
     "      --mac MAC             the MAC to register (default: the interface's)\n"
     "      --timeout T           give up after T (5s, 500ms; default 5s)\n"
     "      --dry-run             print the JSON payload, send nothing\n"},
    {"keygen", "usage: netwakectl keygen FILE\nWrite a new authenticated-knock key to FILE (mode 0600).\n"},
    {"knock",
     "usage: netwakectl knock HOST[:PORT] TARGET --key-file F [--port N]\n"
     "Send one authenticated knock (SPA) for TARGET to HOST.\n"},
    {"help", "usage: netwakectl help [COMMAND]\nShow the general help, or COMMAND's.\n"},
};

}  // namespace

const char* command_usage(std::string_view cmd) {
    for (const auto& u : kUsage)
        if (cmd == u.cmd) return u.text;
    return nullptr;
}

}  // namespace nw::tools

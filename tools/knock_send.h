// tools/knock_send.h — netwakectl's SPA client (SPEC §10): new key files and sending one
// authenticated knock datagram (the daemon loads keys with action/spa_key.h). Never throws, never exits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nw::tools {

inline constexpr size_t kKeygenBytes = 32;

// Writes 32 random bytes (RAND_bytes) as one line of base64 to a NEW file, mode 0600
// (O_EXCL: an existing file is never overwritten).
bool keygen_file(const std::string& path, std::string* err);

// Sends one SPA datagram for `target` (timestamp now, random nonce) to HOST[:PORT], "[v6]:PORT",
// "[v6%if]:PORT" or a bare IPv6 address; HOST may be a name (getaddrinfo, IPv4 or IPv6; the
// first address that accepts the datagram wins). *sent_to, if given, receives "addr:port".
bool send_knock(const std::string& host_port, const std::string& target, const std::string& key_file,
                uint16_t default_port, std::string* err, std::string* sent_to = nullptr);

// netwakectl sub-commands (knock_cli.cc). argv[0] is the sub-command name ("knock"/"keygen").
// Return the exit status: 0 ok, 1 runtime failure, 2 usage error.
//   netwakectl keygen FILE
//   netwakectl knock HOST[:PORT] TARGET --key-file F [--port N]
int keygen_cli_main(int argc, char** argv);
int knock_cli_main(int argc, char** argv);

}  // namespace nw::tools

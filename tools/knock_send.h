// action/knock_send.h — SPA key files (load for the daemon, generate for netwakectl) and the
// client that sends one authenticated knock datagram (SPEC §10). Never throws, never exits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/model.h"

namespace nw::action {

inline constexpr size_t kKeygenBytes = 32;

// Reads a key file: one line of base64 (a trailing newline is fine), at least 32 bytes decoded.
// Refuses anything but a regular file, and files readable by group or others ("chmod 600").
bool load_spa_key(const std::string& path, std::vector<uint8_t>* key, std::string* err);

// Loads the key of every SPA knock: keys->at(i) belongs to knocks[i] (empty for sequences),
// ready for core::KnockEngine. On failure *err names the knock and the file.
bool load_spa_keys(const std::vector<config::KnockConf>& knocks, std::vector<std::vector<uint8_t>>* keys,
                   std::string* err);

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

}  // namespace nw::action

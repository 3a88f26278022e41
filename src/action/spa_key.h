// action/spa_key.h — SPA key files for the daemon (SPEC §10): load one key file, or the key of
// every knock. netwakectl's key generation and knock client are in tools/knock_send.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/model.h"

namespace nw::action {

// Reads a key file: one line of base64 (a trailing newline is fine), at least 32 bytes decoded.
// Refuses anything but a regular file, and files readable by group or others ("chmod 600").
bool load_spa_key(const std::string& path, std::vector<uint8_t>* key, std::string* err);

// Loads the key of every SPA knock: keys->at(i) belongs to knocks[i] (empty for sequences),
// ready for core::KnockEngine. On failure *err names the knock and the file.
bool load_spa_keys(const std::vector<config::KnockConf>& knocks, std::vector<std::vector<uint8_t>>* keys,
                   std::string* err);

}  // namespace nw::action

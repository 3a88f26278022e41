// action/savefile.h — appends packets to a classic pcap savefile (tuninetd -w, SPEC §2.2).
// Opened once (before daemonizing/chdir, so relative paths work) and kept open; never truncates.
//
// Link type rule: a file holds one link type, fixed by its header. A new or empty file gets
// the link type given to open() (main: LINKTYPE_RAW when any NFLOG sensor feeds it, else the
// pcap handle's own). An existing file keeps its own. A packet of another link type is
// converted when it carries IPv4/IPv6 and the file is RAW (101: the link header is stripped)
// or Ethernet (1: a 14-byte header is synthesized: zero destination, the source MAC when a
// cooked header has one, EtherType from the IP version). Anything else is refused by write()
// (counted in skipped()). A file that is not a native-order pcap (µs or ns timestamps) —
// pcapng, byte-swapped, too short — is refused at open() with a message.
#pragma once

#include <time.h>

#include <cstdint>
#include <span>
#include <string>

#include "packet/decode.h"
#include "sys/fd.h"

namespace nw::action {

class Savefile {
   public:
    static constexpr uint32_t kSnaplen = 65535;

    // Opens (creating with mode 0640) `path` for appending; writes the global header if the
    // file is empty, else checks it. False + *err (naming the path) on any problem.
    bool open(const std::string& path, packet::LinkType lt, std::string* err);
    bool is_open() const { return bool(fd_); }
    uint32_t linktype() const { return file_lt_; }

    // Appends one record (at most the file's snaplen bytes kept; orig_len is the length on
    // the wire, adjusted when the link header is converted). One write() per record.
    bool write(packet::LinkType lt, std::span<const uint8_t> bytes, uint32_t orig_len, timespec wall,
               std::string* err);
    // Same, stamped with the current wall clock.
    bool write(packet::LinkType lt, std::span<const uint8_t> bytes, uint32_t orig_len, std::string* err);

    uint64_t written() const { return written_; }
    uint64_t skipped() const { return skipped_; }

   private:
    sys::unique_fd fd_;
    std::string path_;
    uint32_t file_lt_ = 0;
    uint32_t snaplen_ = kSnaplen;
    bool nanos_ = false;
    uint64_t written_ = 0, skipped_ = 0;
};

}  // namespace nw::action

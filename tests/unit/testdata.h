// tests/unit/testdata.h — the captures under tests/data as the unit tests read them (read_pcap is
// defined in tests/unit/packet_decode.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nw::packet::testdata {
struct Pcap {
    uint32_t linktype = 0;
    std::vector<std::vector<uint8_t>> frames;
};
Pcap read_pcap(const std::string& name);
}  // namespace nw::packet::testdata

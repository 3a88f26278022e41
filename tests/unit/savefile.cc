// tests/unit/savefile.cc — pcap savefile appender: read back by a tiny reader and, when
// installed, by `tcpdump -r`; link-type conversion rule; refusal of foreign files.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "action/savefile.h"

using namespace nw;
namespace fs = std::filesystem;

namespace {

struct Record {
    uint32_t sec, usec, incl, orig;
    std::vector<uint8_t> data;
};
struct Pcap {
    uint32_t magic = 0, snaplen = 0, linktype = 0;
    uint16_t major = 0, minor = 0;
    std::vector<Record> recs;
    bool ok = false;
};

// The tiny reader: native-order classic pcap only.
Pcap read_pcap(const std::string& path) {
    Pcap p;
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (b.size() < 24) return p;
    std::memcpy(&p.magic, &b[0], 4);
    std::memcpy(&p.major, &b[4], 2);
    std::memcpy(&p.minor, &b[6], 2);
    std::memcpy(&p.snaplen, &b[16], 4);
    std::memcpy(&p.linktype, &b[20], 4);
    size_t off = 24;
    while (off + 16 <= b.size()) {
        Record r;
        std::memcpy(&r.sec, &b[off], 4);
        std::memcpy(&r.usec, &b[off + 4], 4);
        std::memcpy(&r.incl, &b[off + 8], 4);
        std::memcpy(&r.orig, &b[off + 12], 4);
        off += 16;
        if (off + r.incl > b.size()) return p;
        r.data.assign(b.begin() + static_cast<long>(off), b.begin() + static_cast<long>(off + r.incl));
        off += r.incl;
        p.recs.push_back(std::move(r));
    }
    p.ok = off == b.size();
    return p;
}

// IPv4/UDP 10.0.0.1:1234 -> 10.0.0.2:9 with `n` payload bytes (valid header checksum).
std::vector<uint8_t> ipv4_udp(size_t n) {
    std::vector<uint8_t> v(28 + n, 0xab);
    const size_t total = v.size();
    uint8_t h[28] = {0x45, 0, uint8_t(total >> 8), uint8_t(total), 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0,
                     0, 2, 0x04, 0xd2, 0, 9, uint8_t((8 + n) >> 8), uint8_t(8 + n), 0, 0};
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += uint32_t(h[i] << 8 | h[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    h[10] = uint8_t(~sum >> 8);
    h[11] = uint8_t(~sum);
    std::memcpy(v.data(), h, 28);
    return v;
}

std::vector<uint8_t> ether(uint16_t type, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> v = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, uint8_t(type >> 8), uint8_t(type)};
    v.insert(v.end(), payload.begin(), payload.end());
    return v;
}

std::string tcpdump(const std::string& args) {
    std::string out;
    if (FILE* f = ::popen(("tcpdump " + args + " 2>/dev/null").c_str(), "r")) {
        char buf[512];
        while (size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
        ::pclose(f);
    }
    return out;
}
bool have_tcpdump() { return std::system("command -v tcpdump >/dev/null 2>&1") == 0; }

size_t count(const std::string& s, const std::string& needle) {
    size_t n = 0;
    for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
}

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/nw-savefile-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("savefile: new file gets a header; records read back; appends on reopen") {
    TempDir d;
    const std::string path = d.path + "/start.pcap";
    std::string err;
    {
        action::Savefile sf;
        REQUIRE_MESSAGE(sf.open(path, packet::LinkType::RawIp, &err), err);
        CHECK(sf.linktype() == 101);
        const auto pkt = ipv4_udp(10);
        REQUIRE(sf.write(packet::LinkType::RawIp, pkt, 38, timespec{1700000000, 123456789}, &err));
        // a capture truncated to 30 bytes of a 200-byte packet
        const auto big = ipv4_udp(172);
        REQUIRE(sf.write(packet::LinkType::RawIp, std::span(big).first(30), 200, timespec{1700000001, 5000}, &err));
    }
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    {
        action::Savefile sf;  // reopen: appends, keeps the header
        REQUIRE(sf.open(path, packet::LinkType::RawIp, &err));
        REQUIRE(sf.write(packet::LinkType::RawIp, ipv4_udp(1), 29, &err));
        CHECK(sf.written() == 1);
    }
    const Pcap p = read_pcap(path);
    REQUIRE(p.ok);
    CHECK(p.magic == 0xa1b2c3d4);
    CHECK((p.major == 2 && p.minor == 4));
    CHECK(p.snaplen == 65535);
    CHECK(p.linktype == 101);
    REQUIRE(p.recs.size() == 3);
    CHECK(p.recs[0].sec == 1700000000);
    CHECK(p.recs[0].usec == 123456);
    CHECK(p.recs[0].incl == 38);
    CHECK(p.recs[0].orig == 38);
    CHECK(p.recs[0].data == ipv4_udp(10));
    CHECK(p.recs[1].incl == 30);
    CHECK(p.recs[1].orig == 200);
    CHECK(p.recs[2].sec > 1700000001);  // wall clock now

    if (have_tcpdump()) {
        const std::string out = tcpdump("-nr " + path);
        CHECK(count(out, "IP 10.0.0.1.1234 > 10.0.0.2.9: UDP") == 3);
    } else {
        MESSAGE("tcpdump not installed: only the built-in reader checked the file");
    }
}

TEST_CASE("savefile: packets of another link type are converted or refused") {
    TempDir d;
    std::string err;
    const auto ip = ipv4_udp(4);

    SUBCASE("RAW file: Ethernet and VLAN-tagged frames are stripped; ARP refused") {
        const std::string path = d.path + "/raw.pcap";
        action::Savefile sf;
        REQUIRE(sf.open(path, packet::LinkType::RawIp, &err));
        REQUIRE(sf.write(packet::LinkType::Ethernet, ether(0x0800, ip), 14 + 32, &err));
        std::vector<uint8_t> tagged = {0, 5, 0x08, 0};  // TCI (VLAN 5), then EtherType IPv4
        tagged.insert(tagged.end(), ip.begin(), ip.end());
        REQUIRE(sf.write(packet::LinkType::Ethernet, ether(0x8100, tagged), 18 + 32, &err));
        CHECK_FALSE(sf.write(packet::LinkType::Ethernet, ether(0x0806, std::vector<uint8_t>(28)), 42, &err));
        CHECK(err.find("cannot store a link type 1 packet in a link type 101 file") != std::string::npos);
        CHECK(sf.skipped() == 1);
        const Pcap p = read_pcap(path);
        REQUIRE(p.recs.size() == 2);
        for (const auto& r : p.recs) {
            CHECK(r.data == ip);
            CHECK(r.orig == 32);
        }
    }
    SUBCASE("Ethernet file: raw IP gets a synthesized header; an existing file keeps its type") {
        const std::string path = d.path + "/eth.pcap";
        {
            action::Savefile sf;
            REQUIRE(sf.open(path, packet::LinkType::Ethernet, &err));
        }
        action::Savefile sf;
        REQUIRE(sf.open(path, packet::LinkType::RawIp, &err));  // the file's own type wins
        CHECK(sf.linktype() == 1);
        REQUIRE(sf.write(packet::LinkType::RawIp, ip, 32, &err));
        REQUIRE(sf.write(packet::LinkType::Ethernet, ether(0x0800, ip), 46, &err));
        CHECK_FALSE(sf.write(packet::LinkType::RawIp, std::vector<uint8_t>{0x10, 0, 0}, 3, &err));  // not IP
        const Pcap p = read_pcap(path);
        REQUIRE(p.recs.size() == 2);
        CHECK(p.recs[0].incl == 46);
        CHECK(p.recs[0].orig == 46);
        CHECK(std::vector<uint8_t>(p.recs[0].data.begin(), p.recs[0].data.begin() + 14) ==
              std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00});
        CHECK(std::vector<uint8_t>(p.recs[0].data.begin() + 14, p.recs[0].data.end()) == ip);
        CHECK(p.recs[1].data == ether(0x0800, ip));
        if (have_tcpdump()) {
            const std::string out = tcpdump("-enr " + path);
            CHECK(count(out, "ethertype IPv4 (0x0800)") == 2);
            CHECK(count(out, "10.0.0.1.1234 > 10.0.0.2.9: UDP") == 2);
        }
    }
    SUBCASE("snaplen caps what is kept") {
        const std::string path = d.path + "/big.pcap";
        action::Savefile sf;
        REQUIRE(sf.open(path, packet::LinkType::RawIp, &err));
        std::vector<uint8_t> huge = ipv4_udp(70000 - 28);
        REQUIRE(sf.write(packet::LinkType::RawIp, huge, 70000, &err));
        const Pcap p = read_pcap(path);
        REQUIRE(p.recs.size() == 1);
        CHECK(p.recs[0].incl == 65535);
        CHECK(p.recs[0].orig == 70000);
    }
}

TEST_CASE("savefile: foreign files are refused at open, never touched") {
    TempDir d;
    std::string err;
    action::Savefile sf;
    auto put = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
        const std::string p = d.path + "/" + name;
        std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
        return p;
    };
    const std::string text = put("notes.txt", std::vector<uint8_t>(40, 'x'));
    CHECK_FALSE(sf.open(text, packet::LinkType::RawIp, &err));
    CHECK(err.find("is not a pcap file") != std::string::npos);
    CHECK(fs::file_size(text) == 40);
    std::vector<uint8_t> ng(28, 0);
    ng[0] = 0x0a, ng[1] = 0x0d, ng[2] = 0x0d, ng[3] = 0x0a;
    CHECK_FALSE(sf.open(put("x.pcapng", ng), packet::LinkType::RawIp, &err));
    CHECK(err.find("pcapng") != std::string::npos);
    std::vector<uint8_t> swapped(24, 0);
    swapped[0] = 0xa1, swapped[1] = 0xb2, swapped[2] = 0xc3, swapped[3] = 0xd4;  // big-endian file on x86
    CHECK_FALSE(sf.open(put("be.pcap", swapped), packet::LinkType::RawIp, &err));
    CHECK(err.find("byte-swapped") != std::string::npos);
    CHECK_FALSE(sf.open(put("short.pcap", {0xd4, 0xc3}), packet::LinkType::RawIp, &err));
    CHECK(err.find("too short") != std::string::npos);
    CHECK_FALSE(sf.open(d.path, packet::LinkType::RawIp, &err));  // a directory
    CHECK_FALSE(sf.open(d.path + "/no/such/dir/f.pcap", packet::LinkType::RawIp, &err));
    CHECK(err.find("No such file or directory") != std::string::npos);
    CHECK_FALSE(sf.is_open());
    std::string werr;
    CHECK_FALSE(sf.write(packet::LinkType::RawIp, ipv4_udp(1), 29, &werr));
}

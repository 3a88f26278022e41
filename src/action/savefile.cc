// action/savefile.cc — implementation of the pcap savefile appender in action/savefile.h.
// Never truncates or rewrites an existing file; never writes a record in more than one write().
#include "action/savefile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "packet/encode.h"

namespace nw::action {

namespace {

constexpr uint32_t kMagicMicros = 0xa1b2c3d4, kMagicNanos = 0xa1b23c4d;
constexpr uint32_t kLtEthernet = 1, kLtRaw = 101;

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Where the IP packet starts in a frame of link type `lt`, and its version (4/6); false if the
// frame does not carry IP or is too short to tell. *src_mac is set when a cooked header has one.
bool find_ip(packet::LinkType lt, std::span<const uint8_t> f, size_t* off, int* version, packet::Mac* src_mac,
             bool* has_mac) {
    *has_mac = false;
    uint16_t et = 0;
    size_t o = 0;
    switch (lt) {
        case packet::LinkType::Ethernet:
            if (f.size() < 14) return false;
            et = be16(&f[12]);
            o = 14;
            while ((et == packet::kEthVlan || et == packet::kEthQinQ) && f.size() >= o + 4) {
                et = be16(&f[o + 2]);
                o += 4;
            }
            std::memcpy(src_mac->data(), &f[6], 6);
            *has_mac = true;
            break;
        case packet::LinkType::LinuxSll:  // type(2) arphrd(2) halen(2) addr(8) proto(2)
            if (f.size() < 16) return false;
            et = be16(&f[14]);
            o = 16;
            if (be16(&f[4]) == 6) std::memcpy(src_mac->data(), &f[6], 6), *has_mac = true;
            break;
        case packet::LinkType::LinuxSll2:  // proto(2) rsv(2) ifindex(4) arphrd(2) type(1) halen(1) addr(8)
            if (f.size() < 20) return false;
            et = be16(&f[0]);
            o = 20;
            if (f[11] == 6) std::memcpy(src_mac->data(), &f[12], 6), *has_mac = true;
            break;
        case packet::LinkType::RawIp:
        case packet::LinkType::Ipv4:
        case packet::LinkType::Ipv6:
            o = 0;
            break;
        default:
            return false;
    }
    if (f.size() <= o) return false;
    const int v = f[o] >> 4;
    if (lt != packet::LinkType::RawIp && lt != packet::LinkType::Ipv4 && lt != packet::LinkType::Ipv6 &&
        !((et == packet::kEthIpv4 && v == 4) || (et == packet::kEthIpv6 && v == 6)))
        return false;
    if (v != 4 && v != 6) return false;
    *off = o;
    *version = v;
    return true;
}

}  // namespace

bool Savefile::open(const std::string& path, packet::LinkType lt, std::string* err) {
    path_ = path;
    sys::unique_fd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!fd) {
        *err = fmt::format("{}: {}", path, std::strerror(errno));
        return false;
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) {
        *err = fmt::format("{}: not a regular file", path);
        return false;
    }
    if (st.st_size == 0) {
        // magic, version 2.4, thiszone 0, sigfigs 0, snaplen, link type — in native byte order
        const uint32_t magic = kMagicMicros, zero = 0, snap = kSnaplen, link = static_cast<uint32_t>(lt);
        const uint16_t major = 2, minor = 4;
        uint8_t buf[24];
        std::memcpy(buf, &magic, 4);
        std::memcpy(buf + 4, &major, 2);
        std::memcpy(buf + 6, &minor, 2);
        std::memcpy(buf + 8, &zero, 4);
        std::memcpy(buf + 12, &zero, 4);
        std::memcpy(buf + 16, &snap, 4);
        std::memcpy(buf + 20, &link, 4);
        if (::write(fd.get(), buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) {
            *err = fmt::format("{}: writing the pcap header: {}", path, std::strerror(errno));
            return false;
        }
        file_lt_ = static_cast<uint32_t>(lt);
        snaplen_ = kSnaplen;
        nanos_ = false;
    } else {
        uint8_t buf[24];
        if (st.st_size < 24 || ::pread(fd.get(), buf, sizeof buf, 0) != static_cast<ssize_t>(sizeof buf)) {
            *err = fmt::format("{}: exists but is not a pcap file (too short); refusing to append", path);
            return false;
        }
        uint32_t magic, snap, link;
        std::memcpy(&magic, buf, 4);
        std::memcpy(&snap, buf + 16, 4);
        std::memcpy(&link, buf + 20, 4);
        if (magic == 0x0a0d0d0a) {
            *err = fmt::format("{}: is a pcapng file; only classic pcap can be appended to", path);
            return false;
        }
        if (magic == __builtin_bswap32(kMagicMicros) || magic == __builtin_bswap32(kMagicNanos)) {
            *err = fmt::format("{}: is a byte-swapped pcap file (other architecture); refusing to append", path);
            return false;
        }
        if (magic != kMagicMicros && magic != kMagicNanos) {
            *err = fmt::format("{}: exists but is not a pcap file (magic 0x{:08x}); refusing to append", path, magic);
            return false;
        }
        nanos_ = magic == kMagicNanos;
        snaplen_ = snap == 0 ? kSnaplen : snap;
        file_lt_ = link & 0x0fffffff;  // the upper bits may carry FCS information
    }
    fd_ = std::move(fd);
    return true;
}

bool Savefile::write(packet::LinkType lt, std::span<const uint8_t> bytes, uint32_t orig_len, timespec wall,
                     std::string* err) {
    if (!fd_) {
        *err = "savefile is not open";
        return false;
    }
    if (orig_len < bytes.size()) orig_len = static_cast<uint32_t>(bytes.size());
    uint8_t eth[14] = {};
    std::span<const uint8_t> head;  // a synthesized link header, written before `bytes`
    if (static_cast<uint32_t>(lt) != file_lt_) {
        size_t off = 0;
        int v = 0;
        packet::Mac src{};
        bool has_mac = false;
        const bool ip = find_ip(lt, bytes, &off, &v, &src, &has_mac);
        if (ip && file_lt_ == kLtRaw) {
            bytes = bytes.subspan(off);
            orig_len -= static_cast<uint32_t>(off);
        } else if (ip && file_lt_ == kLtEthernet) {
            bytes = bytes.subspan(off);
            packet::encode_eth(eth, packet::Mac{}, has_mac ? src : packet::Mac{},
                               v == 4 ? packet::kEthIpv4 : packet::kEthIpv6);
            head = eth;
            orig_len = orig_len - static_cast<uint32_t>(off) + sizeof eth;
        } else {
            ++skipped_;
            *err = fmt::format("{}: cannot store a link type {} packet in a link type {} file", path_,
                               static_cast<unsigned>(lt), file_lt_);
            return false;
        }
    }
    size_t incl = head.size() + bytes.size();
    if (incl > snaplen_) {
        incl = snaplen_;
        if (head.size() > incl) head = head.first(incl);
        bytes = bytes.first(incl - head.size());
    }
    uint32_t rec[4] = {static_cast<uint32_t>(wall.tv_sec),
                       static_cast<uint32_t>(nanos_ ? wall.tv_nsec : wall.tv_nsec / 1000),
                       static_cast<uint32_t>(incl), orig_len};
    iovec iov[3] = {{rec, sizeof rec},
                    {const_cast<uint8_t*>(head.data()), head.size()},
                    {const_cast<uint8_t*>(bytes.data()), bytes.size()}};
    const ssize_t want = static_cast<ssize_t>(sizeof rec + incl);
    ssize_t rc;
    do rc = ::writev(fd_.get(), iov, 3);
    while (rc < 0 && errno == EINTR);
    if (rc != want) {
        *err = fmt::format("{}: {}", path_, rc < 0 ? std::strerror(errno) : "short write");
        return false;
    }
    ++written_;
    return true;
}

bool Savefile::write(packet::LinkType lt, std::span<const uint8_t> bytes, uint32_t orig_len, std::string* err) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return write(lt, bytes, orig_len, now, err);
}

}  // namespace nw::action

// bench/common.h — small helpers shared by the benchmark tools: clocks, address parsing,
// percentiles. Header-only; benchmark code only (never linked into netwaked).
#pragma once

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

inline int64_t now_ns(clockid_t c = CLOCK_MONOTONIC) {
    timespec ts;
    clock_gettime(c, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline void sleep_until_ns(int64_t t) {
    timespec ts{time_t(t / 1'000'000'000), long(t % 1'000'000'000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
    }
}

[[noreturn]] inline void die(const std::string& m) {
    std::fprintf(stderr, "%s\n", m.c_str());
    std::exit(2);
}

// "10.0.0.1" + port -> sockaddr_in (IPv4 only: the bench lab is IPv4).
inline sockaddr_in ipv4(const std::string& ip, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, ip.c_str(), &sa.sin_addr) != 1) die("bad IPv4 address: " + ip);
    return sa;
}

// Nearest-rank percentile (p in 0..100) of unsorted samples; 0 if empty.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t k = size_t(p / 100.0 * double(v.size()) + 0.999999);
    k = std::clamp<size_t>(k, 1, v.size());
    return v[k - 1];
}

// {"n":..,"p50":..,"p90":..,"p99":..,"min":..,"max":..,"mean":..} in the samples' unit.
inline std::string summary_json(const std::vector<double>& v) {
    double sum = 0, mn = 0, mx = 0;
    if (!v.empty()) mn = mx = v[0];
    for (double x : v) {
        sum += x;
        mn = std::min(mn, x);
        mx = std::max(mx, x);
    }
    char b[256];
    std::snprintf(b, sizeof b, "{\"n\":%zu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"min\":%.1f,\"max\":%.1f,\"mean\":%.1f}",
                  v.size(), percentile(v, 50), percentile(v, 90), percentile(v, 99), mn, mx,
                  v.empty() ? 0.0 : sum / double(v.size()));
    return b;
}

// A magic packet (EtherType 0x0842, to broadcast) on an AF_PACKET socket opened once: what a
// minimal "packet seen → wake" implementation does. Used by the reference receivers (--wol).
class MagicSender {
   public:
    MagicSender(const std::string& ifname, const std::string& mac) {
        fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd_ < 0) die("magic: AF_PACKET socket failed");
        sockaddr_ll ll{};
        ll.sll_family = AF_PACKET;
        ll.sll_ifindex = int(if_nametoindex(ifname.c_str()));
        if (!ll.sll_ifindex || ::bind(fd_, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0)
            die("magic: cannot bind to " + ifname);
        ifreq ifr{};
        std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname.c_str());
        if (::ioctl(fd_, SIOCGIFHWADDR, &ifr) != 0) die("magic: SIOCGIFHWADDR " + ifname);
        unsigned m[6];
        if (std::sscanf(mac.c_str(), "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
            die("magic: bad MAC " + mac);
        std::memset(frame_, 0xff, 6);
        std::memcpy(frame_ + 6, ifr.ifr_hwaddr.sa_data, 6);
        frame_[12] = 0x08, frame_[13] = 0x42;
        std::memset(frame_ + 14, 0xff, 6);
        for (int r = 0; r < 16; ++r)
            for (int i = 0; i < 6; ++i) frame_[20 + r * 6 + i] = uint8_t(m[i]);
    }
    void send() { [[maybe_unused]] ssize_t n = ::send(fd_, frame_, sizeof frame_, 0); }

   private:
    int fd_ = -1;
    uint8_t frame_[14 + 102] = {};
};

}  // namespace bench

// bench/lat.cc — latency probe for the benchmarks: sends trigger packets, times the hook's first
// line (read from a FIFO the hook writes to) and magic packets on the wire (AF_PACKET capture).
//
//   lat start --fifo F --hook PATH --dst IP --port P --ref-port Q --pid PID
//       per try, interleaved so that all three see the same machine load:
//         spawn:   posix_spawn PATH ref bench → its first line (the floor: /bin/sh start-up)
//         deliver: UDP to Q → "pkt" line of a reference receiver (sensor delivery floor)
//         start:   UDP to P → "start" line of netwaked's hook; then SIGHUP PID, wait for "stop"
//   lat wol --fifo F --dst IP --port P --ref-port Q --pid PID --if IFACE
//       per try: TCP SYN to Q → first magic packet (reference receiver --wol-if), then TCP SYN
//       to P → first magic packet (netwaked) and its hook's "start" line; SIGHUP, wait "stop".
//       SYN and magic packet are both timed by the kernel on IFACE (SO_TIMESTAMPNS, one clock).
//   lat stop --fifo F --dst IP --port P --ttl-ms T [--pkts K] [--pkt-gap-ms G]
//       K packets G ms apart → "stop" line − (last send + TTL)
//   common: --tries N (default 100) --warmup W (default 3, not counted) --gap-ms MS (default 20)
//           --verbose (one "sample" line per measurement), --samples (every sample in the JSON)
// Hooks write "<event> <target>" lines to the FIFO (the first word is compared). All times are
// CLOCK_MONOTONIC except the wol capture. Last line: one JSON object, times in microseconds.
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "common.h"

extern char** environ;

namespace {

struct Args {
    std::string mode, fifo, hook, dst, ifname;
    uint16_t port = 0, ref_port = 0;
    pid_t pid = 0;
    int tries = 100, warmup = 3, gap_ms = 20, ttl_ms = 1000, pkts = 1, pkt_gap_ms = 50;
    bool verbose = false, samples = false;
};

// Lines from the FIFO, each stamped when read() returned it.
class Fifo {
   public:
    explicit Fifo(const std::string& path) {
        // O_RDWR: the FIFO always has a reader and a writer, so hooks never block on open()
        // and we never see EOF between hooks.
        fd_ = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd_ < 0) bench::die("lat: open " + path + ": " + std::strerror(errno));
    }
    // Waits for a line whose first word is `word` (others are skipped) until `deadline`.
    // Returns its time, or -1 on timeout.
    int64_t wait(const std::string& word, int64_t deadline) {
        for (;;) {
            size_t nl;
            while ((nl = buf_.find('\n')) != std::string::npos) {
                const std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                if (line.substr(0, line.find(' ')) == word) return stamp_;
            }
            const int64_t left = deadline - bench::now_ns();
            if (left <= 0) return -1;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, int(left / 1'000'000) + 1) <= 0) continue;
            char b[512];
            const ssize_t n = ::read(fd_, b, sizeof b);
            stamp_ = bench::now_ns();
            if (n > 0) buf_.append(b, size_t(n));
        }
    }
    void drain() {
        char b[512];
        while (::read(fd_, b, sizeof b) > 0) {
        }
        buf_.clear();
    }

   private:
    int fd_ = -1;
    std::string buf_;
    int64_t stamp_ = 0;
};

// One trigger packet: a UDP datagram, or a TCP SYN (non-blocking connect, closed afterwards).
class Sender {
   public:
    Sender(const Args& a, uint16_t port, const std::string& proto) : proto_(proto), sa_(bench::ipv4(a.dst, port)) {
        if (proto_ == "udp") {
            udp_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (udp_ < 0) bench::die(std::string("lat: socket: ") + std::strerror(errno));
        } else if (proto_ != "tcp") {
            bench::die("lat: proto udp|tcp");
        }
    }
    // Sends; returns the CLOCK_MONOTONIC time taken just before the send.
    int64_t send() {
        if (proto_ == "udp") {
            const int64_t t = bench::now_ns();
            if (::sendto(udp_, "bench", 5, 0, reinterpret_cast<sockaddr*>(&sa_), sizeof sa_) < 0)
                bench::die(std::string("lat: sendto: ") + std::strerror(errno));
            return t;
        }
        if (tcp_ >= 0) ::close(tcp_);
        tcp_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        const int64_t t = bench::now_ns();
        if (::connect(tcp_, reinterpret_cast<sockaddr*>(&sa_), sizeof sa_) < 0 && errno != EINPROGRESS)
            bench::die(std::string("lat: connect: ") + std::strerror(errno));
        return t;
    }
    void done() {
        if (tcp_ >= 0) ::close(tcp_);
        tcp_ = -1;
    }

   private:
    std::string proto_;
    sockaddr_in sa_;
    int udp_ = -1, tcp_ = -1;
};

// AF_PACKET capture on one interface with kernel timestamps (CLOCK_REALTIME, ns).
class Capture {
   public:
    explicit Capture(const std::string& ifname) {
        fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
        if (fd_ < 0) bench::die(std::string("lat: AF_PACKET socket: ") + std::strerror(errno));
        sockaddr_ll ll{};
        ll.sll_family = AF_PACKET;
        ll.sll_protocol = htons(ETH_P_ALL);
        ll.sll_ifindex = int(if_nametoindex(ifname.c_str()));
        if (!ll.sll_ifindex) bench::die("lat: no interface " + ifname);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0)
            bench::die(std::string("lat: bind: ") + std::strerror(errno));
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    }
    void drain() {
        uint8_t b[2048];
        while (::recv(fd_, b, sizeof b, 0) > 0) {
        }
    }
    // Waits for the outgoing SYN to port_ and then the first magic packet. Returns the two
    // kernel timestamps (ns), or false on timeout.
    bool trigger_and_magic(uint16_t port, int64_t deadline, int64_t* t_trig, int64_t* t_magic) {
        port_ = port;
        *t_trig = *t_magic = -1;
        while (*t_magic < 0) {
            const int64_t left = deadline - bench::now_ns();
            if (left <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, int(left / 1'000'000) + 1) <= 0) continue;
            uint8_t b[2048];
            sockaddr_ll from{};
            iovec iov{b, sizeof b};
            alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(timespec))];
            msghdr m{};
            m.msg_name = &from;
            m.msg_namelen = sizeof from;
            m.msg_iov = &iov;
            m.msg_iovlen = 1;
            m.msg_control = cbuf;
            m.msg_controllen = sizeof cbuf;
            const ssize_t n = ::recvmsg(fd_, &m, 0);
            if (n < 14) continue;
            int64_t ts = -1;
            for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    timespec t;
                    std::memcpy(&t, CMSG_DATA(c), sizeof t);
                    ts = int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
                }
            if (ts < 0) continue;
            const uint16_t et = uint16_t(b[12] << 8 | b[13]);
            if (*t_trig < 0) {
                if (from.sll_pkttype == PACKET_OUTGOING && is_syn(b, size_t(n))) *t_trig = ts;
                continue;
            }
            if (et == 0x0842 || is_magic_udp(b, size_t(n))) *t_magic = ts;
        }
        return true;
    }

   private:
    bool is_syn(const uint8_t* b, size_t n) const {
        if (n < 14 + 20 + 20 || b[12] != 0x08 || b[13] != 0x00 || b[14 + 9] != IPPROTO_TCP) return false;
        const size_t ihl = size_t(b[14] & 0x0f) * 4;
        if (n < 14 + ihl + 20) return false;
        const uint8_t* t = b + 14 + ihl;
        return uint16_t(t[2] << 8 | t[3]) == port_ && (t[13] & 0x02) && !(t[13] & 0x10);
    }
    static bool is_magic_udp(const uint8_t* b, size_t n) {
        if (n < 14 + 20 + 8 + 6 || b[12] != 0x08 || b[13] != 0x00 || b[14 + 9] != IPPROTO_UDP) return false;
        const size_t ihl = size_t(b[14] & 0x0f) * 4;
        if (n < 14 + ihl + 8 + 6) return false;
        const uint8_t* p = b + 14 + ihl + 8;
        for (int i = 0; i < 6; ++i)
            if (p[i] != 0xff) return false;
        return true;
    }
    int fd_ = -1;
    uint16_t port_ = 0;
};

Args parse(int argc, char** argv) {
    if (argc < 2) bench::die("usage: lat start|wol|stop [options] (see bench/lat.cc)");
    Args a;
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string k = argv[i];
        if (k == "--verbose" || k == "--samples") {
            (k == "--verbose" ? a.verbose : a.samples) = true;
            continue;
        }
        if (i + 1 >= argc) bench::die("lat: " + k + " needs a value");
        const std::string v = argv[++i];
        if (k == "--fifo") a.fifo = v;
        else if (k == "--hook") a.hook = v;
        else if (k == "--dst") a.dst = v;
        else if (k == "--port") a.port = uint16_t(std::stoul(v));
        else if (k == "--ref-port") a.ref_port = uint16_t(std::stoul(v));
        else if (k == "--pid") a.pid = pid_t(std::stol(v));
        else if (k == "--if") a.ifname = v;
        else if (k == "--tries") a.tries = std::stoi(v);
        else if (k == "--warmup") a.warmup = std::stoi(v);
        else if (k == "--gap-ms") a.gap_ms = std::stoi(v);
        else if (k == "--ttl-ms") a.ttl_ms = std::stoi(v);
        else if (k == "--pkts") a.pkts = std::stoi(v);
        else if (k == "--pkt-gap-ms") a.pkt_gap_ms = std::stoi(v);
        else bench::die("lat: unknown argument " + k);
    }
    if (a.fifo.empty() || a.dst.empty() || !a.port) bench::die("lat: --fifo, --dst and --port are required");
    if (a.mode != "stop" && (!a.ref_port || a.pid <= 0)) bench::die("lat: --ref-port and --pid are required");
    if (a.mode == "start" && a.hook.empty()) bench::die("lat start: --hook is required");
    if (a.mode == "wol" && a.ifname.empty()) bench::die("lat wol: --if is required");
    return a;
}

void pause_between(const Args& a) {
    // A fixed gap plus up to 10 ms of jitter, so tries do not phase-lock with anything periodic.
    bench::sleep_until_ns(bench::now_ns() + int64_t(a.gap_ms) * 1'000'000 + (std::rand() % 10'000) * 1000);
}

constexpr int64_t kSec = 1'000'000'000;

// Named sample series, printed as {"name":{summary},...}.
struct Series {
    std::vector<std::pair<std::string, std::vector<double>>> all;
    std::vector<double>& operator[](const std::string& k) {
        for (auto& [n, v] : all)
            if (n == k) return v;
        all.emplace_back(k, std::vector<double>{});
        return all.back().second;
    }
};

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    prctl(PR_SET_TIMERSLACK, 1UL);
    std::srand(unsigned(bench::now_ns()));
    Fifo fifo(a.fifo);
    Series S;
    int timeouts = 0;
    double neg_min = 0;  // stop: most negative lateness seen (must stay >= 0)
    auto record = [&](int i, const char* what, double us) {
        if (i < a.warmup) return;
        S[what].push_back(us);
        if (a.verbose) std::printf("sample %d %s %.1f\n", i - a.warmup, what, us);
    };
    const int total = a.tries + a.warmup;

    if (a.mode == "start") {
        Sender nw(a, a.port, "udp"), ref(a, a.ref_port, "udp");
        for (int i = 0; i < total; ++i) {
            // 1. the hook alone
            fifo.drain();
            char* argv2[] = {const_cast<char*>(a.hook.c_str()), const_cast<char*>("ref"),
                             const_cast<char*>("bench"), nullptr};
            pid_t pid;
            int64_t t0 = bench::now_ns();
            if (posix_spawn(&pid, a.hook.c_str(), nullptr, nullptr, argv2, environ) != 0)
                bench::die("lat: posix_spawn " + a.hook);
            int64_t t1 = fifo.wait("ref", t0 + 3 * kSec);
            waitpid(pid, nullptr, 0);
            double spawn = -1;
            if (t1 < 0) ++timeouts;
            else record(i, "spawn", spawn = double(t1 - t0) / 1e3);
            // 2. the reference receiver's delivery
            fifo.drain();
            t0 = ref.send();
            t1 = fifo.wait("pkt", t0 + 3 * kSec);
            if (t1 < 0) ++timeouts;
            else record(i, "deliver", double(t1 - t0) / 1e3);
            // 3. netwaked: packet → hook's first line
            fifo.drain();
            t0 = nw.send();
            t1 = fifo.wait("start", t0 + 3 * kSec);
            if (t1 < 0) {
                ++timeouts;
            } else {
                record(i, "start", double(t1 - t0) / 1e3);
                if (spawn >= 0) record(i, "start_minus_spawn", double(t1 - t0) / 1e3 - spawn);
            }
            ::kill(a.pid, SIGHUP);  // stop every active target now
            if (fifo.wait("stop", bench::now_ns() + 3 * kSec) < 0) ++timeouts;
            pause_between(a);
        }
    } else if (a.mode == "wol") {
        Sender nw(a, a.port, "tcp"), ref(a, a.ref_port, "tcp");
        Capture cap(a.ifname);
        for (int i = 0; i < total; ++i) {
            int64_t tt, tm;
            // 1. the reference receiver: SYN → magic packet
            cap.drain();
            int64_t t0 = ref.send();
            if (!cap.trigger_and_magic(a.ref_port, t0 + 3 * kSec, &tt, &tm)) ++timeouts;
            else record(i, "ref_magic", double(tm - tt) / 1e3);
            ref.done();
            bench::sleep_until_ns(bench::now_ns() + 2'000'000);
            // 2. netwaked: SYN → magic packet, and its start hook
            fifo.drain();
            cap.drain();
            t0 = nw.send();
            if (!cap.trigger_and_magic(a.port, t0 + 3 * kSec, &tt, &tm)) ++timeouts;
            else record(i, "magic", double(tm - tt) / 1e3);
            const int64_t th = fifo.wait("start", t0 + 3 * kSec);
            if (th < 0) ++timeouts;
            else record(i, "hook", double(th - t0) / 1e3);
            nw.done();
            ::kill(a.pid, SIGHUP);
            if (fifo.wait("stop", bench::now_ns() + 3 * kSec) < 0) ++timeouts;
            pause_between(a);
        }
    } else if (a.mode == "stop") {
        Sender snd(a, a.port, "udp");
        for (int i = 0; i < total; ++i) {
            fifo.drain();
            int64_t last = 0;
            for (int k = 0; k < a.pkts; ++k) {
                if (k) bench::sleep_until_ns(last + int64_t(a.pkt_gap_ms) * 1'000'000);
                last = snd.send();
            }
            const int64_t due = last + int64_t(a.ttl_ms) * 1'000'000;
            const int64_t ts = fifo.wait("stop", due + 5 * kSec);
            if (ts < 0) {
                ++timeouts;
                continue;
            }
            const double late = double(ts - due) / 1e3;
            neg_min = std::min(neg_min, late);
            record(i, "stop_late", late);
            pause_between(a);
        }
    } else {
        bench::die("lat: unknown mode " + a.mode);
    }

    std::printf("{\"mode\":\"%s\",\"unit\":\"us\",\"timeouts\":%d", a.mode.c_str(), timeouts);
    if (a.mode == "stop") std::printf(",\"most_negative\":%.1f", neg_min);
    for (auto& [n, v] : S.all) std::printf(",\"%s\":%s", n.c_str(), bench::summary_json(v).c_str());
    if (a.samples) {  // in try order, so series can be paired
        std::printf(",\"samples\":{");
        const char* sep = "";
        for (auto& [n, v] : S.all) {
            std::printf("%s\"%s\":[", sep, n.c_str());
            for (size_t i = 0; i < v.size(); ++i) std::printf("%s%.1f", i ? "," : "", v[i]);
            std::printf("]");
            sep = ",";
        }
        std::printf("}");
    }
    std::printf("}\n");
    return 0;
}

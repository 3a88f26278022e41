// bench/ref_nflog.cc — minimal reference NFLOG receiver (libnetfilter_log): binds a group, counts
// packets, and reports loss from NFLOG sequence numbers. The yardstick netwaked is compared with.
//
//   ref_nflog --group G [--qthresh N] [--timeout CS] [--nlbufsiz B] [--range BYTES]
//             [--rcvbuf BYTES] [--notify FIFO] [--wol-if IFACE [--wol-mac MAC]]
//
// What it does (a straightforward careful implementation, nothing more):
//   - libnetfilter_log: nflog_bind_group, copy mode packet with --range bytes (default 128, the
//     same as netwaked's copy_range), NFULNL_CFG_F_SEQ (per-group sequence numbers), the given
//     queue threshold / flush timeout / kernel buffer size, SO_RCVBUFFORCE --rcvbuf (4 MiB);
//   - poll() on the socket, then recv() until EAGAIN, each buffer through nflog_handle_packet;
//   - the callback counts the packet and checks its sequence number (a gap = packets the kernel
//     dropped: ENOBUFS is only reported once per overflow episode); with --notify it also
//     writes "pkt\n" to FIFO, and with --wol-if sends a magic packet on an AF_PACKET socket
//     opened at start (latency references; low rates only).
// The driver chooses the batching: --qthresh 1 for latency (every packet sent at once), and
// --qthresh 64 --timeout 1 --nlbufsiz 24576 for throughput — netwaked's own busy-mode settings
// for copy_range 128, so the CPU ratio compares implementations, not policies.
// SIGUSR1 prints the counters as one JSON line on stdout; SIGINT/SIGTERM print them and exit.
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnfnetlink/libnfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "common.h"

namespace {

volatile sig_atomic_t g_dump = 0, g_quit = 0;
void on_signal(int s) {
    if (s == SIGUSR1) g_dump = 1;
    else g_quit = 1;
}

struct Counters {
    uint64_t packets = 0, lost = 0, enobufs = 0, no_seq = 0;
    bool have_seq = false;
    uint32_t last_seq = 0;
    int notify_fd = -1;
    bench::MagicSender* magic = nullptr;
};

int on_packet(nflog_g_handle*, nfgenmsg*, nflog_data* nfad, void* data) {
    auto* c = static_cast<Counters*>(data);
    ++c->packets;
    uint32_t seq = 0;
    if (nflog_get_seq(nfad, &seq) == 0) {
        if (c->have_seq && seq != c->last_seq + 1) c->lost += uint32_t(seq - c->last_seq - 1);
        c->have_seq = true;
        c->last_seq = seq;
    } else {
        ++c->no_seq;
    }
    if (c->magic) c->magic->send();
    if (c->notify_fd >= 0) [[maybe_unused]] ssize_t n = ::write(c->notify_fd, "pkt\n", 4);
    return 0;
}

void dump(const Counters& c) {
    std::printf("{\"packets\":%llu,\"lost\":%llu,\"enobufs\":%llu,\"no_seq\":%llu}\n", (unsigned long long)c.packets,
                (unsigned long long)c.lost, (unsigned long long)c.enobufs, (unsigned long long)c.no_seq);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    long group = -1, qthresh = 1, timeout = 1, nlbufsiz = 0, range = 128, rcvbuf = 4 << 20;
    std::string notify;
    std::string wol_if, wol_mac;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (i + 1 >= argc) bench::die("ref_nflog: " + k + " needs a value");
        const std::string v = argv[++i];
        if (k == "--group") group = std::stol(v);
        else if (k == "--qthresh") qthresh = std::stol(v);
        else if (k == "--timeout") timeout = std::stol(v);
        else if (k == "--nlbufsiz") nlbufsiz = std::stol(v);
        else if (k == "--range") range = std::stol(v);
        else if (k == "--rcvbuf") rcvbuf = std::stol(v);
        else if (k == "--notify") notify = v;
        else if (k == "--wol-if") wol_if = v;
        else if (k == "--wol-mac") wol_mac = v;
        else bench::die("ref_nflog: unknown argument " + k);
    }
    if (group < 0 || group > 65535) bench::die("ref_nflog: --group 0..65535 is required");

    struct sigaction sa{};
    sa.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR
    sigaction(SIGUSR1, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    Counters c;
    if (!wol_if.empty()) c.magic = new bench::MagicSender(wol_if, wol_mac.empty() ? "02:00:00:00:00:02" : wol_mac);
    if (!notify.empty() && (c.notify_fd = ::open(notify.c_str(), O_WRONLY | O_CLOEXEC)) < 0)
        bench::die("ref_nflog: open " + notify + ": " + std::strerror(errno));

    nflog_handle* h = nflog_open();
    if (!h) bench::die(std::string("ref_nflog: nflog_open: ") + std::strerror(errno));
    nflog_g_handle* gh = nflog_bind_group(h, uint16_t(group));
    if (!gh) bench::die("ref_nflog: cannot bind group " + std::to_string(group) + ": " + std::strerror(errno));
    if (nflog_set_mode(gh, NFULNL_COPY_PACKET, unsigned(range)) < 0 || nflog_set_flags(gh, NFULNL_CFG_F_SEQ) < 0 ||
        nflog_set_qthresh(gh, uint32_t(qthresh)) < 0 || nflog_set_timeout(gh, uint32_t(timeout)) < 0 ||
        (nlbufsiz && nflog_set_nlbufsiz(gh, uint32_t(nlbufsiz)) < 0))
        bench::die(std::string("ref_nflog: configuring the group failed: ") + std::strerror(errno));
    nflog_callback_register(gh, &on_packet, &c);
    // SO_RCVBUFFORCE (as netwaked does), and only now: nflog_set_nlbufsiz() quietly resets the
    // socket buffer to 10 × nlbufsiz through nfnl_rcvbufsiz(), which also stops at rmem_max.
    const int rb = int(rcvbuf);
    if (::setsockopt(nflog_fd(h), SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb) != 0)
        nfnl_rcvbufsiz(nflog_nfnlh(h), unsigned(rcvbuf));


    const int fd = nflog_fd(h);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    static char buf[1 << 18];  // one netlink skb (nlbufsiz is at most 128 KiB here)
    std::fprintf(stderr, "ref_nflog: listening on group %ld (qthresh %ld)\n", group, qthresh);
    while (!g_quit) {
        if (g_dump) {
            g_dump = 0;
            dump(c);
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, -1) < 0) continue;  // EINTR: a signal
        for (;;) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0) {
                if (errno == ENOBUFS) {
                    ++c.enobufs;
                    continue;
                }
                break;  // EAGAIN (or EINTR: back to the loop)
            }
            nflog_handle_packet(h, buf, int(n));
        }
    }
    dump(c);
    nflog_unbind_group(gh);
    nflog_close(h);
    return 0;
}

// bench/ref_pcap.cc — minimal reference pcap receiver: immediate mode, netwaked's default
// snaplen (256) and buffer size (4 MiB, netwaked's default), a BPF filter; counts packets and kernel drops.
//
//   ref_pcap --if IFACE [--filter EXPR] [--snaplen N] [--buffer BYTES] [--notify FIFO]
//            [--wol-if IFACE [--wol-mac MAC]]
//
// Non-blocking handle, poll() on its selectable fd, pcap_dispatch(-1) drains the ring, the
// callback counts (and with --notify writes "pkt\n" to FIFO, with --wol-if sends a magic packet
// on an AF_PACKET socket opened at start: latency references, low rates only).
// SIGUSR1 prints {"packets","drops","ifdrops"} as one JSON line; SIGINT/SIGTERM print and exit.
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
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
    uint64_t packets = 0;
    int notify_fd = -1;
    bench::MagicSender* magic = nullptr;
};

void on_packet(u_char* user, const pcap_pkthdr*, const u_char*) {
    auto* c = reinterpret_cast<Counters*>(user);
    ++c->packets;
    if (c->magic) c->magic->send();
    if (c->notify_fd >= 0) [[maybe_unused]] ssize_t n = ::write(c->notify_fd, "pkt\n", 4);
}

void dump(pcap_t* p, const Counters& c) {
    pcap_stat st{};
    pcap_stats(p, &st);
    std::printf("{\"packets\":%llu,\"drops\":%u,\"ifdrops\":%u}\n", (unsigned long long)c.packets, st.ps_drop,
                st.ps_ifdrop);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    std::string ifname, filter, notify;
    std::string wol_if, wol_mac;
    int snaplen = 256, buffer = 4 << 20;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (i + 1 >= argc) bench::die("ref_pcap: " + k + " needs a value");
        const std::string v = argv[++i];
        if (k == "--if") ifname = v;
        else if (k == "--filter") filter = v;
        else if (k == "--snaplen") snaplen = std::stoi(v);
        else if (k == "--buffer") buffer = std::stoi(v);
        else if (k == "--notify") notify = v;
        else if (k == "--wol-if") wol_if = v;
        else if (k == "--wol-mac") wol_mac = v;
        else bench::die("ref_pcap: unknown argument " + k);
    }
    if (ifname.empty()) bench::die("ref_pcap: --if is required");
    struct sigaction sa{};
    sa.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR
    sigaction(SIGUSR1, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    Counters c;
    if (!wol_if.empty()) c.magic = new bench::MagicSender(wol_if, wol_mac.empty() ? "02:00:00:00:00:02" : wol_mac);
    if (!notify.empty() && (c.notify_fd = ::open(notify.c_str(), O_WRONLY | O_CLOEXEC)) < 0)
        bench::die("ref_pcap: open " + notify + ": " + std::strerror(errno));

    char eb[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_create(ifname.c_str(), eb);
    if (!p) bench::die(std::string("ref_pcap: ") + eb);
    pcap_set_snaplen(p, snaplen);
    pcap_set_promisc(p, 0);
    pcap_set_immediate_mode(p, 1);
    pcap_set_buffer_size(p, buffer);
    if (pcap_activate(p) < 0) bench::die(std::string("ref_pcap: activate: ") + pcap_geterr(p));
    if (!filter.empty()) {
        bpf_program prog{};
        if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(p, &prog) != 0)
            bench::die(std::string("ref_pcap: filter: ") + pcap_geterr(p));
        pcap_freecode(&prog);
    }
    if (pcap_setnonblock(p, 1, eb) != 0) bench::die(std::string("ref_pcap: ") + eb);
    const int fd = pcap_get_selectable_fd(p);

    std::fprintf(stderr, "ref_pcap: listening on %s\n", ifname.c_str());
    while (!g_quit) {
        if (g_dump) {
            g_dump = 0;
            dump(p, c);
        }
        pollfd pf{fd, POLLIN, 0};
        if (::poll(&pf, 1, -1) < 0) continue;
        pcap_dispatch(p, -1, on_packet, reinterpret_cast<u_char*>(&c));
    }
    dump(p, c);
    pcap_close(p);
    return 0;
}

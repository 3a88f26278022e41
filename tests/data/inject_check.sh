#!/bin/bash
# tests/data/inject_check.sh — one-off check that the kernel accepts frames from src/packet/encode.cc:
# injects them with AF_PACKET in a throw-away veth pair and watches the peer answer. Root only.
#
#   ns A (va 02:00:00:00:00:01, 10.0.0.1, fd00::1) <-veth-> ns B (vb 02:00:00:00:00:02, 10.0.0.2, fd00::2)
#   1. our NS from A for fd00::2          -> B answers with a solicited NA        (tcpdump on va)
#   2. our DAD NS (from ::) for fd00::2   -> B defends with an NA to ff02::1      (tcpdump on va)
#   3. our ARP request for 10.0.0.2       -> B answers with an ARP reply          (tcpdump on va)
#   4. our unsolicited NA (O) fd00::1 is-at 02:..:aa -> B's neighbor entry changes (ip neigh)
#   5. our gratuitous ARP 10.0.0.1 is-at 02:..:aa    -> B's ARP entry changes      (ip neigh)
# Usage: tests/data/inject_check.sh   (from the repository root; needs g++ and tcpdump)
set -euo pipefail
A=nwinjA$$
B=nwinjB$$
TMP=$(mktemp -d)
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/inject.cc" <<'EOF'
// Sends one frame built by packet/encode.h on an interface (AF_PACKET).
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <string>
#include "packet/encode.h"
#include "packet/parse.h"
using namespace nw::packet;
static Mac mac(const char* s) { Mac m{}; if (!parse_mac(s, &m, nullptr)) throw 1; return m; }
static Addr ip(const char* s) { Addr a{}; if (!parse_addr(s, &a, nullptr)) throw 1; return a; }
int main(int argc, char** argv) {
    std::string k = argv[2];
    uint8_t buf[128];
    size_t n = 0;
    if (k == "ns") n = encode_ns(buf, mac(argv[3]), ip(argv[4]), ip(argv[5]));
    if (k == "dad") n = encode_ns_dad(buf, mac(argv[3]), ip(argv[4]));
    if (k == "arpreq") n = encode_arp_request(buf, mac(argv[3]), ip(argv[4]), ip(argv[5]));
    if (k == "na") n = encode_na_unsolicited(buf, mac(argv[3]), ip(argv[4]), mac(argv[5]), kNaOverride);
    if (k == "garp") n = encode_arp_announce(buf, mac(argv[3]), mac(argv[4]), ip(argv[5]));
    if (n == 0) { std::fprintf(stderr, "encode failed\n"); return 1; }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = int(if_nametoindex(argv[1]));
    if (fd < 0 || sendto(fd, buf, n, 0, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != ssize_t(n)) {
        std::perror("send");
        return 1;
    }
    close(fd);
    return 0;
}
EOF
g++ -std=c++20 -O1 -Isrc "$TMP/inject.cc" src/packet/encode.cc src/packet/parse.cc src/packet/addr.cc -o "$TMP/inject"

ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" link set va address 02:00:00:00:00:01
ip -n "$B" link set vb address 02:00:00:00:00:02
ip -n "$A" addr add 10.0.0.1/24 dev va
ip -n "$B" addr add 10.0.0.2/24 dev vb
ip -n "$A" addr add fd00::1/64 dev va nodad
ip -n "$B" addr add fd00::2/64 dev vb nodad
ip -n "$A" link set va up
ip -n "$B" link set vb up
sleep 1
inject() { ip netns exec "$A" "$TMP/inject" va "$@"; }
FAIL=0
# expect NAME FILTER -- INJECT ARGS: injects, then waits (3 s) for one frame matching FILTER on va.
expect() {
    local name=$1 filter=$2
    shift 3
    : >"$TMP/err"
    ip netns exec "$A" timeout 3 tcpdump -Z root -i va -U -c 1 -nn -l "$filter" >"$TMP/out" 2>"$TMP/err" &
    local pid=$!
    for _ in $(seq 100); do grep -q listening "$TMP/err" && break; sleep 0.05; done
    inject "$@"
    if wait "$pid" && [ -s "$TMP/out" ]; then
        echo "ok   $name: $(cat "$TMP/out")"
    else
        echo "FAIL $name: no answer"
        FAIL=1
    fi
}
expect "NS -> NA" 'icmp6 and ip6[40] == 136 and dst fd00::1' -- ns 02:00:00:00:00:01 fd00::1 fd00::2
expect "DAD NS -> defending NA" 'icmp6 and ip6[40] == 136 and dst ff02::1' -- dad 02:00:00:00:00:01 fd00::2
expect "ARP request -> reply" 'arp and arp[6:2] == 2' -- arpreq 02:00:00:00:00:01 10.0.0.1 10.0.0.2
sleep 1.2  # past the neighbor entries' locktime, so an override is honored
inject na 02:00:00:00:00:01 fd00::1 02:00:00:00:00:aa
inject garp 02:00:00:00:00:01 02:00:00:00:00:aa 10.0.0.1
sleep 0.2
for a in fd00::1 10.0.0.1; do
    line=$(ip -n "$B" neigh show "$a" dev vb)
    if [[ $line == *02:00:00:00:00:aa* ]]; then echo "ok   announce $a: $line"; else echo "FAIL announce $a: $line"; FAIL=1; fi
done
exit $FAIL

#!/usr/bin/env python3
# tests/netns/nwpkt.py — packet sender for the netns scenarios: UDP datagrams and hand-made TCP
# segments (raw socket, chosen flags); prints "sent <unix-us>" taken just before each send.
import argparse
import socket
import struct
import sys
import time


def now_us():
    return time.time_ns() // 1000


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20}


def tcp_segment(src, dst, sport, dport, flags, seq, payload=b""):
    bits = 0
    for c in flags.upper():
        bits |= FLAG_BITS[c]
    ack = 1 if bits & 0x10 else 0
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, bits, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
    csum = checksum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:] + payload


def source_for(dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((dst, 9))
    src = s.getsockname()[0]
    s.close()
    return src


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kind", choices=["udp", "tcp"])
    ap.add_argument("dst")
    ap.add_argument("dport", type=int)
    ap.add_argument("--sport", type=int, default=0, help="source port (0: any for udp, 40000 for tcp)")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.0, help="seconds between packets")
    ap.add_argument("--flags", default="S", help="tcp flags, letters of FSRPAU (default S)")
    ap.add_argument("--payload", default="netwaked-test")
    a = ap.parse_args()

    if a.kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if a.sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", a.sport))
        send = lambda: s.sendto(a.payload.encode(), (a.dst, a.dport))
    else:
        src = source_for(a.dst)
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        sport = a.sport or 40000
        state = {"seq": 1000}

        def send():
            seg = tcp_segment(src, a.dst, sport, a.dport, a.flags, state["seq"])
            state["seq"] += 1
            s.sendto(seg, (a.dst, 0))

    next_t = time.monotonic()
    for i in range(a.count):
        if i:
            next_t += a.interval
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        t = now_us()
        send()
        print("sent", t, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

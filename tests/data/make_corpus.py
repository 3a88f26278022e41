#!/usr/bin/env python3
# tests/data/make_corpus.py — writes the seed corpus of tests/fuzz/fuzz_packet.cc from tests/data/*.pcap:
# one file per frame with the harness's selector byte prepended. Reads pcaps, writes only the corpus dir.
import os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "fuzz", "corpus", "packet")
SEL = {1: 0, 101: 1, 113: 2, 276: 3}  # pcap linktype -> harness selector


def frames(path):
    d = open(path, "rb").read()
    swap = d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    e = "<" if swap else ">"
    lt = struct.unpack(e + "I", d[20:24])[0] & 0x0FFFFFFF
    off, out = 24, []
    while off + 16 <= len(d):
        incl = struct.unpack(e + "I", d[off + 8:off + 12])[0]
        out.append(d[off + 16:off + 16 + incl])
        off += 16 + incl
    return lt, out


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


os.makedirs(OUT, exist_ok=True)
for fn in sorted(os.listdir(HERE)):
    if not fn.endswith(".pcap"):
        continue
    lt, fs = frames(os.path.join(HERE, fn))
    base = fn[:-5]
    for i, f in enumerate(fs):
        write(f"{base}-{i}", bytes([SEL[lt]]) + f)
        if lt == 1 and f[12:14] in (b"\x08\x00", b"\x86\xdd"):
            # NFLOG shape: 14-byte hw header then the IP packet; and the bare IP packet.
            write(f"{base}-{i}-nflog", bytes([6]) + f)
            write(f"{base}-{i}-ip", bytes([4 if f[12] == 8 else 5]) + f[14:])
        if lt == 101:
            write(f"{base}-{i}-noh", bytes([7]) + f)
for i, t in enumerate([b"192.0.2.1", b"2001:db8::1", b"!10.0.0.0/8", b"2001:db8::/32", b"::ffff:10.1.2.3/120",
                       b"d8:cb:8a:39:be:a1", b"d8-cb-8a-39-be-a1", b"d8cb.8a39.bea1", b"D8CB8A39BEA1"]):
    write(f"text-{i}", bytes([8]) + t)
write("encode-0", bytes([9]) + bytes(range(2, 47)))
write("encode-1", bytes([9]) + bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]) +
      bytes.fromhex("fd000000000000000000000000000001fd000000000000000000000000000002") + b"\x20")
print("wrote", len(os.listdir(OUT)), "files to", OUT)

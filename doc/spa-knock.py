#!/usr/bin/env python3
# doc/spa-knock.py — sends one netwaked authenticated knock (SPA datagram, netwaked SPEC §10)
# with the Python 3 standard library only; an example for clients without netwakectl. Sends, never listens.
"""usage: spa-knock.py HOST[:PORT] TARGET KEYFILE

Datagram: version(1)=1 | timestamp(8, unix seconds, big endian) | nonce(16) |
          target name (1-64 bytes) | HMAC-SHA256(key, everything before)(32)
KEYFILE holds the key as one line of base64 (netwakectl keygen FILE). PORT defaults to 62201.
"""
import base64
import hashlib
import hmac
import os
import re
import socket
import struct
import sys
import time

DEFAULT_PORT = 62201


def build(key: bytes, target: str, timestamp=None, nonce=None) -> bytes:
    name = target.encode("ascii")
    if not re.fullmatch(rb"[A-Za-z0-9_.-]{1,64}", name):
        raise ValueError("target must be 1-64 characters of [A-Za-z0-9_.-]")
    ts = int(time.time()) if timestamp is None else timestamp
    body = struct.pack(">BQ", 1, ts) + (os.urandom(16) if nonce is None else nonce) + name
    return body + hmac.new(key, body, hashlib.sha256).digest()


def split_host_port(s: str):
    if s.startswith("["):                      # [v6]:port or [v6]
        host, _, rest = s[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else DEFAULT_PORT
    if s.count(":") == 1:                      # host:port
        host, port = s.split(":")
        return host, int(port)
    return s, DEFAULT_PORT                     # host, or a bare IPv6 address


def main(argv) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port = split_host_port(argv[1])
    with open(argv[3], "rb") as f:
        key = base64.b64decode(f.read().strip(), validate=True)
    if len(key) < 32:
        print(f"{argv[3]}: key too short ({len(key)} bytes, need 32)", file=sys.stderr)
        return 1
    try:
        dgram = build(key, argv[2])
    except (ValueError, UnicodeError) as e:
        print(f"{argv[2]!r}: {e}", file=sys.stderr)
        return 2
    last = None
    for family, _, _, _, addr in socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.sendto(dgram, addr)
            print(f"knock for {argv[2]} sent to {addr[0]} port {addr[1]}")
            return 0
        except OSError as e:
            last = e
    print(f"cannot send: {last}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
# bench/mqtt_lat.py — MQTT latency probe for bench/run.sh (section mqtt): per try, a plain `wake`
# published on one kept-open MQTT 3.1.1 connection -> netwaked's magic packet seen leaving IF
# (AF_PACKET, outgoing); the `wake` event that command causes -> its message at a second
# mosquitto_sub (EVENTFILE), timed from the magic packet's kernel stamp (the event and the packet
# leave in the same core step); and the same publish on a reference topic -> mosquitto_sub's
# receive time (its -F '%U' stamp in SUBFILE). Prints one JSON line with the series (microseconds).
import argparse, fcntl, json, os, select, socket, struct, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--set-topic", required=True)
p.add_argument("--ref-topic", required=True)
p.add_argument("--sub-file", required=True)
p.add_argument("--event-file", required=True, help="mosquitto_sub -F '%%U %%p' of <base>/<t>/event")
p.add_argument("--ifname", required=True)
p.add_argument("--tries", type=int, default=100)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--gap-ms", type=float, default=10, help="pause after each publish's answer")
a = p.parse_args()


def mqtt_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def packet(kind, body):
    n, rem = len(body), b""
    while True:
        d, n = n % 128, n // 128
        rem += bytes([d | (128 if n else 0)])
        if not n:
            return bytes([kind]) + rem + body


m = socket.create_connection(("127.0.0.1", a.port))
m.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
cid = "nwbench-%d" % os.getpid()
m.sendall(packet(0x10, mqtt_str("MQTT") + bytes([4, 2]) + struct.pack("!H", 60) + mqtt_str(cid)))
ack = m.recv(4)
if len(ack) < 4 or ack[0] != 0x20 or ack[3] != 0:
    raise SystemExit("mqtt_lat: CONNACK refused: %r" % ack)


def publish(topic, payload):  # QoS 0, not retained
    m.sendall(packet(0x30, mqtt_str(topic) + payload.encode()))


# Outgoing frames reach only ETH_P_ALL taps: take everything on IF, keep EtherType 0x0842.
ETH_P_ALL = 3
cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
cap.bind((a.ifname, ETH_P_ALL))
cap.setblocking(False)


SIOCGSTAMPNS = 0x8907


def magic_seen(deadline):
    """The magic packet's kernel timestamp (ns, realtime), or None after the deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([cap], [], [], left)[0]:
            return None
        try:
            while True:
                f = cap.recv(2048)
                if f[12:14] == b"\x08\x42":
                    sec, nsec = struct.unpack("qq", fcntl.ioctl(cap, SIOCGSTAMPNS, bytes(16)))
                    return sec * 10**9 + nsec
        except BlockingIOError:
            pass


def drain():
    while True:
        try:
            cap.recv(2048)
        except BlockingIOError:
            return


def stamp(line):
    sec, _, frac = line.split()[0].partition(".")
    return int(sec) * 10**9 + int((frac + "000000000")[:9])


def event_stamp(n, deadline):
    """mosquitto_sub's receive time (ns, realtime) of the n-th (from 1) wake event message."""
    while time.monotonic() < deadline:
        with open(a.event_file) as f:
            lines = [x for x in f if '"event":"wake"' in x]
        if len(lines) >= n:
            return stamp(lines[n - 1])
        time.sleep(0.002)
    return None


def sub_stamp(tag, deadline):
    """mosquitto_sub's receive time (ns, realtime) of the line whose payload is tag."""
    while time.monotonic() < deadline:
        with open(a.sub_file) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[1] == tag:
                    sec, _, frac = parts[0].partition(".")
                    return int(sec) * 10**9 + int((frac + "000000000")[:9])
        time.sleep(0.002)
    return None


wire, ref, event, cmd_event = [], [], [], []
for i in range(a.warmup + a.tries):
    drain()
    t0 = time.time_ns()
    publish(a.set_topic, "wake")
    ok = magic_seen(time.monotonic() + 2.0)
    t1 = time.time_ns()
    if ok is None:
        raise SystemExit("mqtt_lat: no magic packet within 2 s (try %d)" % i)
    t2 = event_stamp(i + 1, time.monotonic() + 2.0)
    if t2 is None:
        raise SystemExit("mqtt_lat: no wake event message within 2 s (try %d)" % i)
    if i >= a.warmup:
        wire.append((t1 - t0) / 1000)
        event.append((t2 - ok) / 1000)
        cmd_event.append((t2 - t0) / 1000)
    time.sleep(a.gap_ms / 1000)
    tag = "r%d" % i
    t0 = time.time_ns()
    publish(a.ref_topic, tag)
    t1 = sub_stamp(tag, time.monotonic() + 2.0)
    if t1 is None:
        raise SystemExit("mqtt_lat: mosquitto_sub did not see %s" % tag)
    if i >= a.warmup:
        ref.append((t1 - t0) / 1000)
    time.sleep(a.gap_ms / 1000)
m.sendall(bytes([0xE0, 0]))


def pct(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


print(json.dumps({"tries": a.tries,
                  "wire_us": {"p50": pct(wire, 0.5), "p99": pct(wire, 0.99)},
                  "ref_us": {"p50": pct(ref, 0.5), "p99": pct(ref, 0.99)},
                  "event_us": {"p50": pct(event, 0.5), "p99": pct(event, 0.99)},
                  "cmd_event_us": {"p50": pct(cmd_event, 0.5), "p99": pct(cmd_event, 0.99)},
                  "samples": {"wire_us": wire, "ref_us": ref, "event_us": event, "cmd_event_us": cmd_event}}))

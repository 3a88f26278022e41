#!/usr/bin/env python3
# webhook.py - example netwaked hook (Python 3, standard library only): POSTs every event as a
# JSON object to the URL in NETWAKED_WEBHOOK_URL (or WEBHOOK_URL below); 10 s timeout.
#
# netwaked runs it as:  webhook.py EVENT TARGET  with the details in NETWAKED_* variables.
# netwaked passes hooks no environment of its own besides PATH, LANG and TZ, so set the URL
# here in a copy (/etc/netwaked/hooks/webhook.py), or call this script from a wrapper:
#
#   #!/bin/sh
#   NETWAKED_WEBHOOK_URL=https://hooks.example.net/netwaked \
#       exec /usr/share/doc/netwaked/examples/hooks/webhook.py "$@"
#
# The body, e.g. for a start event:
#   {"event": "start", "target": "vpn", "host": "gw", "time": "2026-11-22T04:00:00+00:00",
#    "reason": "traffic", "sensor": "wan", "proto": "udp", "src": "10.0.0.5", ...}
# (every NETWAKED_* variable netwaked set, lower-cased without the prefix).
#
# Exit status: 0 delivered (HTTP 2xx) or no URL configured; 1 HTTP error, timeout or network
# error; 2 a URL that is not http:// or https://.
import datetime
import json
import os
import socket
import sys
import urllib.error
import urllib.request

WEBHOOK_URL = ""      # used when NETWAKED_WEBHOOK_URL is not set
WEBHOOK_TOKEN = ""    # sent as "Authorization: Bearer ..." when set (or NETWAKED_WEBHOOK_TOKEN)
TIMEOUT_S = 10.0      # NETWAKED_WEBHOOK_TIMEOUT overrides it

# Our own settings, not event data.
SETTINGS = ("NETWAKED_WEBHOOK_URL", "NETWAKED_WEBHOOK_TOKEN", "NETWAKED_WEBHOOK_TIMEOUT")


def payload(argv, env):
    """The JSON object for this event: argv first, then every NETWAKED_* variable."""
    body = {
        "event": argv[1] if len(argv) > 1 else env.get("NETWAKED_EVENT", ""),
        "target": argv[2] if len(argv) > 2 else env.get("NETWAKED_TARGET", ""),
        "host": socket.gethostname(),
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    for key in sorted(env):
        if key.startswith("NETWAKED_") and key not in SETTINGS:
            name = key[len("NETWAKED_"):].lower()
            body.setdefault(name, env[key])
    return body


def main(argv, env):
    url = env.get("NETWAKED_WEBHOOK_URL", WEBHOOK_URL)
    if not url:
        return 0  # not configured: nothing to do
    if not url.startswith(("http://", "https://")):
        print(f"webhook.py: NETWAKED_WEBHOOK_URL must be http:// or https://, got {url!r}", file=sys.stderr)
        return 2
    try:
        timeout = float(env.get("NETWAKED_WEBHOOK_TIMEOUT", TIMEOUT_S))
    except ValueError:
        timeout = TIMEOUT_S
    body = json.dumps(payload(argv, env)).encode("utf-8")
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("User-Agent", "netwaked-webhook/1")
    token = env.get("NETWAKED_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as e:
        print(f"webhook.py: {url}: HTTP {e.code} {e.reason}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        print(f"webhook.py: {url}: {reason}", file=sys.stderr)
        return 1
    if not 200 <= status < 300:
        print(f"webhook.py: {url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv, os.environ))

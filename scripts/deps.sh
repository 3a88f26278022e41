#!/bin/sh
# deps.sh — install the Debian packages netwaked needs to build, test and demo
# (or, given package names as arguments, those instead: scripts/deb-deps.sh does that).
# Idempotent: installs only what is missing. Needs root (apt-get); without root it
# only reports what is missing and exits 1 if anything is.
set -eu

PKGS="build-essential g++ make pkg-config
libpcap-dev libnetfilter-log-dev libnfnetlink-dev libyaml-cpp-dev libfmt-dev
doctest-dev nlohmann-json3-dev libssl-dev libcap-dev
clang libclang-rt-14-dev
iproute2 iptables nftables tcpdump procps psmisc python3 iputils-ping netcat-openbsd util-linux
etherwake wakeonlan shellcheck strace nmap
libmosquitto-dev mosquitto mosquitto-clients openssl"

[ $# -gt 0 ] && PKGS="$*"
who=${DEPS_NAME:-deps.sh}
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "$who: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "$who: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

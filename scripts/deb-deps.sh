#!/bin/sh
# deb-deps.sh — install the Debian packages needed to build, check and test the .deb
# (make deb, tests/package.sh). Idempotent; needs root to install, otherwise only reports.
set -eu

# Build-Depends of debian/control, the packaging tools, and what tests/package.sh uses.
PKGS="build-essential dpkg-dev debhelper pkg-config
libpcap-dev libnetfilter-log-dev libnfnetlink-dev libyaml-cpp-dev libfmt-dev
nlohmann-json3-dev libssl-dev libcap-dev
lintian adduser systemd man-db iproute2 iptables python3 util-linux"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deb-deps.sh: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "deb-deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

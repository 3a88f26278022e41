#!/bin/sh
# deb-deps.sh — install the Debian packages needed to build, check and test the .deb
# (make deb, tests/package.sh). Idempotent; needs root to install, otherwise only reports.
set -eu

# Build-Depends of debian/control, the packaging tools, and what tests/package.sh uses.
PKGS="build-essential dpkg-dev debhelper pkg-config
libpcap-dev libnetfilter-log-dev libnfnetlink-dev libyaml-cpp-dev libfmt-dev
nlohmann-json3-dev libssl-dev libcap-dev libmosquitto-dev
lintian adduser systemd man-db iproute2 iptables python3 util-linux"

# shellcheck disable=SC2086
DEPS_NAME=deb-deps.sh exec "$(dirname "$0")/deps.sh" $PKGS

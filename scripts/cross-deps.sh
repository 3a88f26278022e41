#!/bin/sh
# cross-deps.sh — install what `make deb ARCH=arm64|armhf` and tests/cross.sh need on an amd64
# Debian 12: the foreign architecture, the cross toolchain, the ARCH -dev packages of every library
# in the Makefile's PKGS, and qemu-user-static. Usage: scripts/cross-deps.sh [arm64] [armhf]
# (default: both). Idempotent; needs root to install, otherwise only reports what is missing.
set -eu

[ $# -gt 0 ] || set -- arm64 armhf
APT="apt-get -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends"
export DEBIAN_FRONTEND=noninteractive

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=""
for arch in "$@"; do
    case $arch in arm64|armhf) ;; *) echo "cross-deps.sh: unknown ARCH '$arch' (arm64, armhf)" >&2; exit 2;; esac
    for p in crossbuild-essential-$arch qemu-user-static dpkg-dev debhelper \
             pkg-config:$arch libpcap-dev:$arch libnetfilter-log-dev:$arch libnfnetlink-dev:$arch \
             libfmt-dev:$arch libssl-dev:$arch libcap-dev:$arch libmosquitto-dev:$arch libyaml-cpp0.7:$arch \
             nlohmann-json3-dev doctest-dev libyaml-cpp-dev; do
        is_installed "$p" || missing="$missing $p"
    done
    triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
    [ -e "/usr/local/lib/$triplet/pkgconfig/yaml-cpp.pc" ] || missing="$missing yaml-cpp.pc:$arch"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "cross-deps.sh: missing:$missing (run as root to install them)" >&2
    exit 1
fi

echo "cross-deps.sh: installing:$missing" >&2
for arch in "$@"; do
    dpkg --print-foreign-architectures | grep -qx "$arch" || dpkg --add-architecture "$arch"
done
$APT update >/dev/null
pkgs=$(echo "$missing" | tr ' ' '\n' | grep -v '^yaml-cpp.pc:' | sort -u | tr '\n' ' ')
# shellcheck disable=SC2086
[ -z "${pkgs# }" ] || $APT install $pkgs >/dev/null

# Debian 12's libyaml-cpp-dev is not Multi-Arch: same, so libyaml-cpp-dev:ARCH would replace the
# amd64 one (and arm64 and armhf would exclude each other). Its headers are the same for every
# architecture: take only the ARCH linker symlink and .pc file from the Debian package, into
# /usr/local/lib/TRIPLET/ (where ARCH's pkg-config looks), next to the packaged libyaml-cpp0.7:ARCH.
tmp=$(mktemp -d) && chmod 0755 "$tmp"   # apt-get download runs as _apt
trap 'rm -rf "$tmp"' EXIT
for arch in "$@"; do
    triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH)
    [ -e "/usr/local/lib/$triplet/pkgconfig/yaml-cpp.pc" ] && continue
    (cd "$tmp" && apt-get download -qq "libyaml-cpp-dev:$arch" >/dev/null)
    dpkg-deb -x "$tmp"/libyaml-cpp-dev_*_"$arch".deb "$tmp/$arch"
    so=$(readlink "$tmp/$arch/usr/lib/$triplet/libyaml-cpp.so")
    install -d "/usr/local/lib/$triplet/pkgconfig"
    ln -sfn "/usr/lib/$triplet/$so" "/usr/local/lib/$triplet/libyaml-cpp.so"
    sed "s|^libdir=.*|libdir=/usr/local/lib/$triplet|" "$tmp/$arch/usr/lib/$triplet/pkgconfig/yaml-cpp.pc" \
        >"/usr/local/lib/$triplet/pkgconfig/yaml-cpp.pc"
done

#!/usr/bin/env bash
# package.sh - the Debian packages ozma-worker_VERSION_ARCH.deb and
# ozma-server_VERSION_ARCH.deb (CPack, deploy/package.cmake), built from
# scratch in build/package with the /usr prefix and written to OUTDIR.
#
#   deploy/package.sh [OUTDIR]        (default: build/packages)
#
# OZ_PACKAGE_BUILD=DIR builds in DIR instead of build/package.
# Needs the build dependencies (deploy/install-deps.sh) and dpkg-dev's
# dpkg-shlibdeps, which works out the packages' runtime dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/packages}
case $out in /*) ;; *) out=$PWD/$out ;; esac
command -v dpkg-shlibdeps >/dev/null || { echo "package.sh: dpkg-shlibdeps missing (apt-get install dpkg-dev)" >&2; exit 1; }
build=${OZ_PACKAGE_BUILD:-build/package}
mkdir -p "$out"
rm -rf "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DOZ_BUILD_TESTS=OFF -DOZ_PACKAGE=ON >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
(cd "$build" && cpack -G DEB >/dev/null)
cp "$build"/ozma-worker_*.deb "$build"/ozma-server_*.deb "$out"/
ls "$out"/ozma-worker_*.deb "$out"/ozma-server_*.deb

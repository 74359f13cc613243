#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages Ozma needs to build, test
# and run.  Idempotent: packages already present are not touched, so it runs
# offline on a machine that has them.  Run as root (or it uses sudo).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  # libraries (DESIGN.md: fftw3 single precision, jansson; STYLE.md: libsodium, cmocka)
  libfftw3-dev libjansson-dev libsodium-dev libcmocka-dev
  # scheduler (HTTP server, SQLite) and worker (HTTP client, INI preferences)
  libmicrohttpd-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev libinih-dev
  # benchmarks: the HTTP load generator
  wrk
  # tests drive the programs with bash and python3
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || echo "install-deps: apt-get update failed; trying the cached lists" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

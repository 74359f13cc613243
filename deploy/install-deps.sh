#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages Ozma needs to build, test
# and run.  Idempotent: packages already present are not touched, so it runs
# offline on a machine that has them.  Run as root (or it uses sudo).
set -euo pipefail

packages=(
  # build; the Debian packages (deploy/package.sh: dpkg-shlibdeps, and
  # deb-systemd-helper in their maintainer scripts)
  build-essential cmake ninja-build pkg-config dpkg-dev init-system-helpers
  # libraries (DESIGN.md: fftw3 single precision, jansson; STYLE.md: libsodium, cmocka;
  # libssl-dev for libcrypto's SHA-NI SHA-256 of unit files, workunits/lib/sha256.c)
  libfftw3-dev libjansson-dev libsodium-dev libcmocka-dev libssl-dev
  # the sky (workunits/lib/sky.c): ERFA for the barycentric correction, HEALPix pixels
  liberfa-dev libchealpix-dev
  # scheduler (HTTP server, SQLite; libunistring's NFKC and case folding for the
  # names people see, scheduler/name.c) and worker (HTTP client, INI preferences)
  libmicrohttpd-dev libsqlite3-dev sqlite3 libunistring-dev libcurl4-openssl-dev libinih-dev
  # the scheduler's gzip statistics exports (scheduler/stats.c)
  zlib1g-dev
  # the store's PostgreSQL backend (scheduler/store/sql_pg.c): libpq, and the
  # server the tests run throwaway clusters of (tests/support/pg_cluster.sh);
  # the "main" cluster Debian's package creates is stopped and set to start
  # by hand below when this script installed it
  libpq-dev postgresql-15
  # benchmarks: the HTTP load generator
  wrk
  # unit files from a file server (project.json units_url, deploy/nginx.conf):
  # the test starts its own nginx on loopback; the stock service Debian's
  # package starts on port 80 is stopped and disabled below when this script
  # installed it (an nginx installed before is left as it was)
  nginx
  # tests drive the programs with bash and python3; the demo calls the API with curl
  python3 curl
  # the suite's timed fuzzing (ctest fuzz/timed, tests/fuzz/run.sh): Clang and its
  # libFuzzer runtime
  clang libclang-rt-dev
  # web pages: Chart.js is embedded in ozma-server; the browser tests drive
  # Debian's headless Chromium with playwright-core (npm)
  libjs-chart.js chromium
)
# Node.js and npm for the browser tests, unless a Node.js is installed already
# (NodeSource's nodejs package carries its own npm and conflicts with Debian's).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

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
# nginx and PostgreSQL are here for the tests, which start their own on
# loopback (a Unix socket for PostgreSQL): a web server on port 80 and a
# database server on port 5432 that nobody asked for are not left behind.
# Under systemd the services are disabled; with or without it, the
# PostgreSQL clusters Debian's postinst created (and started, where an init
# let it) are stopped and marked to start by hand (start.conf "manual").
systemd=false
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemd=true; fi
for p in "${missing[@]}"; do
  if [ "$p" = nginx ] && $systemd; then
    $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
    echo "install-deps: nginx installed for the tests; its stock service is disabled" \
         "(systemctl enable --now nginx to serve with it)" >&2
  fi
  if [ "$p" = postgresql-15 ]; then
    if $systemd; then
      $sudo systemctl disable --now postgresql >/dev/null 2>&1 || true
    fi
    for conf in /etc/postgresql/15/*/start.conf; do
      [ -f "$conf" ] || continue
      cluster=$(basename "$(dirname "$conf")")
      $sudo pg_ctlcluster 15 "$cluster" stop >/dev/null 2>&1 || true
      echo manual | $sudo tee "$conf" >/dev/null
      echo "install-deps: postgresql-15 installed for the tests; its cluster 15/$cluster is" \
           "stopped and starts by hand (pg_ctlcluster 15 $cluster start)" >&2
    done
  fi
done

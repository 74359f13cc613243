#!/usr/bin/env bash
# test_deploy_package.sh - the Debian packages for real: deploy/package.sh
# builds ozma-worker_VERSION_ARCH.deb and ozma-server_VERSION_ARCH.deb, dpkg
# installs them on this machine, and the test checks what a volunteer and
# an operator get: the files where Debian keeps them, units naming /usr/bin
# and /etc, the service users and their directories, `ozma-worker
# --version` from /usr/bin, `attach` run as the service user writing the
# account the service reads (against the installed ozma-server on
# loopback), the service's own command line running as that user.  Then
# `dpkg --purge` must leave the machine as it was: no files, no unit links,
# no users.
#
# Usage: test_deploy_package.sh BINDIR   (BINDIR unused: the packages are
# built from the source tree)
#
# Skipped (exit 77) unless root with dpkg-shlibdeps, and when an ozma
# package or service user is on this machine already (a test must not
# remove what it did not install).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"

skip() { echo "skipped: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "installing packages needs root"
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps missing (apt-get install dpkg-dev)"
for p in ozma-worker ozma-server; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
        skip "package $p is installed on this machine already"
    fi
    if getent passwd "$p" >/dev/null || getent group "$p" >/dev/null; then
        skip "user or group $p exists on this machine already"
    fi
    [[ ! -e /var/lib/$p ]] || skip "/var/lib/$p exists on this machine already"
done
[[ ! -e /etc/ozma ]] || skip "/etc/ozma exists on this machine already"

WORK=$(mktemp -d)
SPID=
cleanup() {
    [[ -z $SPID ]] || kill -9 "$SPID" 2>/dev/null || true
    dpkg --purge ozma-worker ozma-server >/dev/null 2>&1 || true
    rm -rf /var/lib/ozma-server "$WORK"
}
trap cleanup EXIT

version=$(sed -n 's/^project(ozma VERSION \([0-9.]*\) .*/\1/p' "$SRC/CMakeLists.txt")
arch=$(dpkg --print-architecture)
# what the machine holds before, to compare after the purge
snapshot() {
    { ls -d /usr/bin/ozma-* /etc/ozma /var/lib/ozma-* /usr/lib/systemd/system/ozma-* \
        /lib/systemd/system/ozma-* /etc/systemd/system/*/ozma-* /usr/lib/sysusers.d/ozma-* \
        /var/lib/systemd/deb-systemd-helper-enabled/*ozma* \
        /var/lib/systemd/deb-systemd-helper-enabled/*/ozma* \
        2>/dev/null || true
      getent passwd ozma-worker ozma-server || true
      getent group ozma-worker ozma-server || true; } | sort
}
before=$(snapshot)

# --- build ---
if OZ_PACKAGE_BUILD="$WORK/build" "$SRC/deploy/package.sh" "$WORK/pkgs" >"$WORK/package.log" 2>&1; then
    pass "deploy/package.sh built the packages"
else
    fail "deploy/package.sh: $(tail -20 "$WORK/package.log")"
    finish deploy_package
fi
WDEB=$WORK/pkgs/ozma-worker_${version}_${arch}.deb
SDEB=$WORK/pkgs/ozma-server_${version}_${arch}.deb
for deb in "$WDEB" "$SDEB"; do
    [[ -f $deb ]] && pass "$(basename "$deb")" || { fail "no $deb: $(ls "$WORK/pkgs")"; finish deploy_package; }
done
# runtime dependencies from the libraries the programs link
wdeps=$(dpkg-deb -f "$WDEB" Depends)
sdeps=$(dpkg-deb -f "$SDEB" Depends)
for lib in libfftw3-single3 libcurl4 libjansson4 libsodium23 libinih1; do
    [[ $wdeps == *"$lib"* ]] || fail "ozma-worker does not depend on $lib: $wdeps"
done
for lib in libfftw3-single3 libmicrohttpd12 libsqlite3-0 libjansson4 libunistring2; do
    [[ $sdeps == *"$lib"* ]] || fail "ozma-server does not depend on $lib: $sdeps"
done
[[ $wdeps != *libmicrohttpd* && $wdeps != *libsqlite3* ]] ||
    fail "the worker package depends on the scheduler's libraries: $wdeps"
pass "dependencies: the libraries each program links"

# --- install ---
if dpkg -i "$WDEB" "$SDEB" >"$WORK/install.log" 2>&1; then
    pass "dpkg -i both packages"
else
    fail "dpkg -i: $(cat "$WORK/install.log")"
    finish deploy_package
fi
for f in /usr/bin/ozma-worker /usr/bin/ozma-server /usr/bin/ozma-search /usr/bin/ozma-split \
    /usr/bin/ozma-synth /etc/ozma/worker.conf /usr/lib/sysusers.d/ozma-worker.conf \
    /usr/lib/sysusers.d/ozma-server.conf; do
    [[ -e $f ]] || fail "$f is not installed"
done
wunit=/usr/lib/systemd/system/ozma-worker.service
sunit=/usr/lib/systemd/system/ozma-server.service
exec_w=$(sed -n 's/^ExecStart=//p' "$wunit")
exec_s=$(sed -n 's/^ExecStart=//p' "$sunit")
[[ $exec_w == "/usr/bin/ozma-worker run --dir /var/lib/ozma-worker --config /etc/ozma/worker.conf" ]] &&
    pass "worker unit: $exec_w" || fail "worker unit's ExecStart: $exec_w"
[[ $exec_s == "/usr/bin/ozma-server serve /var/lib/ozma-server" ]] &&
    pass "server unit: $exec_s" || fail "server unit's ExecStart: $exec_s"
grep -q '^PathExists=/var/lib/ozma-worker/account.json' /usr/lib/systemd/system/ozma-worker.path &&
    pass "ozma-worker.path waits for account.json" || fail "ozma-worker.path"
! grep -rq /usr/local /usr/lib/systemd/system/ozma-* || fail "a unit still names /usr/local"
# enabled: the links deb-systemd-helper made (systemd need not run)
[[ -L /etc/systemd/system/multi-user.target.wants/ozma-worker.service ]] ||
    fail "ozma-worker.service is not enabled"
[[ -L /etc/systemd/system/paths.target.wants/ozma-worker.path ]] ||
    fail "ozma-worker.path is not enabled"
v=$(/usr/bin/ozma-worker --version 2>&1) || true
[[ $v == *"$version"* ]] && pass "ozma-worker --version: $v" || fail "ozma-worker --version: $v"
/usr/bin/ozma-server --help >/dev/null 2>&1 && pass "ozma-server --help" || fail "ozma-server --help"
for u in ozma-worker ozma-server; do
    uid=$(id -u "$u" 2>/dev/null || echo none)
    if [[ $uid == none ]]; then
        fail "no user $u"
    elif ((uid >= 1000)); then
        fail "$u is not a system user (uid $uid)"
    fi
done
[[ $(stat -c '%U %a' /var/lib/ozma-worker 2>&1) == "ozma-worker 700" ]] &&
    pass "/var/lib/ozma-worker: ozma-worker, 700" ||
    fail "/var/lib/ozma-worker: $(stat -c '%U %a' /var/lib/ozma-worker 2>&1)"
[[ $(stat -c '%U %a' /var/lib/ozma-server 2>&1) == "ozma-server 750" ]] &&
    pass "/var/lib/ozma-server: ozma-server, 750" ||
    fail "/var/lib/ozma-server: $(stat -c '%U %a' /var/lib/ozma-server 2>&1)"

# --- an operator's project, served by the installed scheduler ---
if runuser -u ozma-server -- /usr/bin/ozma-server init /var/lib/ozma-server >"$WORK/init.log" 2>&1; then
    pass "ozma-server init, as ozma-server, in /var/lib/ozma-server"
else
    fail "init as ozma-server: $(cat "$WORK/init.log")"
fi
/usr/bin/ozma-synth --out "$WORK/rec" --samples 65536 --datatype ci16_le \
    --datetime 2026-11-25T12:00:00Z --seed 3 --spike f=1500,drift=0.7,snr=0.05 >/dev/null
chmod -R a+rX "$WORK"
runuser -u ozma-server -- /usr/bin/ozma-server load /var/lib/ozma-server "$WORK/rec" --name demo \
    --unit-samples 2^16 --fft-min 64 --fft-max 1024 --chirp-max 2 -q >"$WORK/load.log" 2>&1 ||
    fail "load as ozma-server: $(cat "$WORK/load.log")"
runuser -u ozma-server -- /usr/bin/ozma-server serve /var/lib/ozma-server --bind 127.0.0.1 \
    --port 0 2>"$WORK/serve.err" &
SPID=$!
port=
for _ in $(seq 150); do
    port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$WORK/serve.err" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
done
[[ -n $port ]] || { fail "the installed server did not start: $(cat "$WORK/serve.err")"; finish deploy_package; }

# --- a volunteer attaches as the service user: the service's directory ---
if runuser -u ozma-worker -- /usr/bin/ozma-worker attach "http://127.0.0.1:$port" --name pkgtest \
    >"$WORK/attach.log" 2>&1; then
    pass "attach as ozma-worker"
else
    fail "attach as ozma-worker: $(cat "$WORK/attach.log")"
fi
[[ $(stat -c '%U %a' /var/lib/ozma-worker/account.json 2>&1) == "ozma-worker 600" ]] &&
    pass "account.json in /var/lib/ozma-worker, the service's, mode 600" ||
    fail "account.json: $(stat -c '%U %a' /var/lib/ozma-worker/account.json 2>&1)"
# the unit's own command line, as the unit runs it, with the unit's
# environment (StateDirectory= sets STATE_DIRECTORY): it starts and runs.
# setpriv execs (runuser would stay between, and take the SIGTERM itself).
read -r -a cmd <<<"$exec_w"
setpriv --reuid ozma-worker --regid ozma-worker --init-groups \
    env STATE_DIRECTORY=/var/lib/ozma-worker "${cmd[@]}" \
    >"$WORK/run.log" 2>&1 &
wpid=$!
sleep 3
if kill -0 $wpid 2>/dev/null; then
    pass "the service's command line runs as ozma-worker"
    kill -TERM $wpid
    wait $wpid && pass "SIGTERM: exit 0" || fail "the worker exited $? on SIGTERM: $(cat "$WORK/run.log")"
else
    wait $wpid || true
    fail "the service's command line exited: $(cat "$WORK/run.log")"
fi
st=$(runuser -u ozma-worker -- /usr/bin/ozma-worker status 2>&1) &&
    pass "status as ozma-worker" || fail "status as ozma-worker: $st"
kill -TERM $SPID
wait $SPID || true
SPID=

# --- purge: the machine as it was ---
if dpkg --purge ozma-worker ozma-server >"$WORK/purge.log" 2>&1; then
    pass "dpkg --purge both packages"
else
    fail "dpkg --purge: $(cat "$WORK/purge.log")"
fi
grep -q "/var/lib/ozma-server holds a project; kept" "$WORK/purge.log" &&
    pass "purge keeps the operator's project and says so" ||
    fail "purge did not say it kept /var/lib/ozma-server: $(cat "$WORK/purge.log")"
rm -rf /var/lib/ozma-server
after=$(snapshot)
[[ $after == "$before" ]] && pass "nothing left: files, unit links, users" ||
    fail "left behind after purge: $(comm -13 <(echo "$before") <(echo "$after"))"
finish deploy_package

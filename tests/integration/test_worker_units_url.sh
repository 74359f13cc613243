#!/usr/bin/env bash
# test_worker_units_url.sh - unit files from a file server: project.json
# units_url, with Debian's nginx running deploy/nginx.conf on loopback.
#
# Usage: test_worker_units_url.sh BINDIR
#
# The shipped deploy/nginx.conf, its listen address, paths and upstream
# ports rewritten, serves a copy of the project's units/ (as a file server
# on another host would) and proxies everything else to the scheduler.
# units_url points at it, so assignments name nginx's URL.  Two workers run
# four units to validation: one attached to the scheduler directly (its
# downloads cross to another origin), one through nginx's proxy; one of them
# starts with half a download already on disk.  Then:
#   - nginx's access log holds every unit file, the half one resumed with a
#     Range request (206), and the scheduler's request log has no /units/;
#   - the example's /units/ serves only NAME.ozwu, answers Range itself;
#   - a damaged copy on the file server is refused by the worker's SHA-256
#     check, fetched again, then reported, never searched.
# Skipped (77) when nginx is not installed.  nginx is stopped in the trap.
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || { echo "SKIP: nginx is not installed (deploy/install-deps.sh)"; exit 77; }
source "$(dirname "$0")/worker_lib.sh"
CONF_SRC="$(dirname "$0")/../../deploy/nginx.conf"
wl_setup
NGINX_PID=
stop_nginx() {
    if [[ -n $NGINX_PID ]]; then
        kill -TERM "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=
    fi
}
trap 'stop_nginx; wl_cleanup' EXIT

free_port() {
    python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

make_recording "$WORK/rec" $((2 * 65536 + 57344))
make_project proj
"$SERVER" load "$PROJ" "$WORK/rec" --name main --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max 5 --quorum 1 --replicas 1 -q
# the file server's copy of units/ (on the scheduler's host nginx may read
# the project directory itself, as deploy/nginx.conf does)
WWW="$WORK/www"
mkdir -p "$WWW/units"
cp "$PROJ"/units/*.ozwu "$WWW/units/"
touch "$WWW/units/main.load.tmp" # a load's temporary file: never served
chmod -R a+rX "$WORK"

NG_PORT=$(free_port)
NG_URL="http://127.0.0.1:$NG_PORT"
python3 - "$PROJ/project.json" "$NG_URL/units" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["units_url"] = sys.argv[2]         # no '/' at the end: the scheduler adds it
json.dump(c, open(p, "w"), indent=2)
PY

# the scheduler, logging every request
SLOG="$WORK/server.log"
"$SERVER" serve "$PROJ" --bind 127.0.0.1 --port 0 --log-level debug 2>"$SLOG" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_until 15 grep -q "serving" "$SLOG" || { fail "ozma-server did not start: $(cat "$SLOG")"; exit 1; }
PORT=$(sed -n 's#.*http://127\.0\.0\.1:\([0-9]*\)/.*#\1#p' "$SLOG" | head -1)
URL="http://127.0.0.1:$PORT"

# deploy/nginx.conf, rewritten for loopback and this directory; every
# rewrite must have found its line
NG="$WORK/nginx"
mkdir -p "$NG"
python3 - "$CONF_SRC" "$NG/nginx.conf" "$NG" "$WWW" "$NG_PORT" "$PORT" <<'PY'
import sys
src, dst, ng, www, port, sched = sys.argv[1:]
c = open(src).read()
for old, new in [("user www-data;", "user %s;" % ("root" if __import__("os").getuid() == 0 else "nobody")),
                 ("pid /run/ozma-nginx.pid;", "pid %s/nginx.pid;" % ng),
                 ("/var/log/nginx/ozma-error.log", ng + "/error.log"),
                 ("/var/log/nginx/ozma-access.log", ng + "/access.log"),
                 ("/var/lib/nginx/", ng + "/tmp-"),
                 ("listen 80;", "listen 127.0.0.1:%s;" % port),
                 ("/var/lib/ozma-server", www),
                 ("127.0.0.1:8080", "127.0.0.1:" + sched),
                 ("127.0.0.1:8081", "127.0.0.1:" + sched),
                 ("worker_processes auto;", "worker_processes 1;")]:
    if old not in c:
        sys.exit("deploy/nginx.conf no longer has %r" % old)
    c = c.replace(old, new)
open(dst, "w").write(c)
PY
"$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" -g 'daemon off;' 2>>"$NG/error.log" &
NGINX_PID=$!
if wait_until 10 curl -sf -o /dev/null "$NG_URL/api/v1/status"; then
    pass "nginx runs deploy/nginx.conf and proxies the API"
else
    fail "nginx did not come up: $(cat "$NG/error.log")"
    exit 1
fi

# --- assignments name the file server ---
attach_worker "$WORK/a" alice || fail "attach a: $(cat "$WORK/a.attach.out")"
URL_SCHED=$URL
URL=$NG_URL # b attaches through nginx's proxy
attach_worker "$WORK/b" bob || fail "attach b: $(cat "$WORK/b.attach.out")"
URL=$URL_SCHED
# a's first assignment taken by hand, half of it already downloaded (the
# true first half: a resumed download must then verify)
python3 - "$URL" "$WORK/a" "$NG_URL" "$WWW/units" <<'PY' || fail "a first assignment: see above"
import json, os, sys, urllib.request
url, d, ng, units = sys.argv[1:]
acct = json.load(open(d + "/account.json"))
req = urllib.request.Request(url + "/api/v1/work", data=json.dumps({"want_seconds": 1}).encode(),
                             headers={"Authorization": "Bearer " + acct["host_key"],
                                      "Content-Type": "application/json"}, method="POST")
a = json.load(urllib.request.urlopen(req))["assignments"][0]
name = a["unit_id"] + ".ozwu"
if a["url"] != ng + "/units/" + name:
    sys.exit("the assignment's url is %s, not units_url + NAME.ozwu" % a["url"])
t = dict(a, version=1, received=0, state="downloading", bad_downloads=0, error="")
td = "%s/tasks/%d" % (d, a["replica_id"])
os.makedirs(td)
json.dump(t, open(td + "/task.json", "w"))
whole = open(os.path.join(units, name), "rb").read()
open(td + "/unit.ozwu.part", "wb").write(whole[:a["bytes"] // 2])
open(os.path.join(os.path.dirname(d), "resumed"), "w").write(name)
PY
pass "an assignment's url is units_url + NAME.ozwu"
resumed=$(cat "$WORK/resumed")

start_worker "$WORK/a"
WA=$WPID
start_worker "$WORK/b"
WB=$WPID
total=$(server_status units.total)
if wait_until 60 units_validated "$total"; then
    pass "$total units validated, their files fetched from nginx"
else
    fail "units not validated in time: $("$SERVER" status "$PROJ"); $(tail -n 5 "$WORK/a.log" "$WORK/b.log")"
fi
stop_worker "$WA"
stop_worker "$WB"

ALOG="$NG/access.log"
for f in "$PROJ"/units/main-*.ozwu; do
    n=$(basename "$f")
    grep -qE "\"GET /units/$n HTTP/1\.1\" 20[06] " "$ALOG" && pass "nginx served $n" ||
        fail "nginx never served $n: $(cat "$ALOG")"
done
grep -qE "\"GET /units/$resumed HTTP/1\.1\" 206 " "$ALOG" &&
    grep -q "${resumed%.ozwu} downloaded, SHA-256 verified" "$WORK/a.log" &&
    ! grep -q "${resumed%.ozwu} does not verify" "$WORK/a.log" &&
    pass "the half download resumed through nginx with Range (206) and verified" ||
    fail "no resumed download of $resumed: $(grep "$resumed" "$ALOG"); $(grep "${resumed%.ozwu}" "$WORK/a.log")"
grep -q ' path=/units/' "$SLOG" && fail "the scheduler served unit files: $(grep ' path=/units/' "$SLOG" | head -3)" ||
    pass "the scheduler served no unit file"
grep -q ' path=/api/v1/work ' "$SLOG" || fail "the scheduler's request log shows no work request"
grep -qE "\"POST /api/v1/work HTTP/1\.1\" 200 " "$ALOG" &&
    pass "worker b's work requests went through nginx's proxy" || fail "no work request via nginx"

# --- the example's /units/: only NAME.ozwu, Range by nginx ---
n=$(basename "$(ls "$WWW"/units/main-*.ozwu | head -1)")
curl -s -r 100-199 -o "$WORK/range.bin" -w '%{http_code}' "$NG_URL/units/$n" >"$WORK/code" || true
if [[ $(cat "$WORK/code") == 206 ]] && cmp -s "$WORK/range.bin" <(tail -c +101 "$WWW/units/$n" | head -c 100); then
    pass "Range: bytes 100-199 of $n, 206"
else
    fail "Range: HTTP $(cat "$WORK/code"), $(stat -c %s "$WORK/range.bin") bytes"
fi
for p in /units/main.load.tmp /units/ /units/../proj/project.json; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$NG_URL$p" || true)
    [[ $code == 404 || $code == 400 ]] && pass "nginx refuses $p ($code)" || fail "nginx served $p: $code"
done

# --- a damaged copy on the file server is refused by the SHA-256 check ---
"$SERVER" load "$PROJ" "$WORK/rec" --name bad --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max 5 --quorum 1 --replicas 1 -q 2>/dev/null || fail "second load"
cp "$PROJ"/units/bad-000000.ozwu "$WWW/units/"
chmod a+r "$WWW/units/bad-000000.ozwu"
python3 - "$WWW/units/bad-000000.ozwu" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-1000] ^= 0x55                     # one payload byte; the size is unchanged
open(p, "wb").write(b)
PY
start_worker "$WORK/a"
if wait_until 30 grep -q "error reported" "$WORK/a.log"; then
    pass "the damaged unit was reported as an error"
else
    fail "no error report: $(tail -n 5 "$WORK/a.log")"
fi
stop_worker "$WPID"
grep -q "bad-000000 does not verify.*fetching it again" "$WORK/a.log" &&
    grep -q "bad-000000: download 2 does not verify" "$WORK/a.log" &&
    pass "the damaged copy failed its SHA-256 twice (fetched again once)" ||
    fail "no SHA-256 refusal: $(grep bad-000000 "$WORK/a.log")"
[[ $(grep -cE "\"GET /units/bad-000000\.ozwu HTTP/1\.1\" 200 " "$ALOG") -ge 2 ]] ||
    fail "the damaged copy was not fetched twice from nginx"
grep -q "starting bad-000000\|resuming bad-000000" "$WORK/a.log" &&
    fail "the damaged unit was searched" || pass "the damaged unit was never searched"
[[ $(server_status units.file_bad) -eq 0 ]] &&
    pass "the scheduler's own copy hashes right, so the unit is not withheld" ||
    fail "the scheduler marked its good copy bad: $("$SERVER" status "$PROJ")"

grep -q "AddressSanitizer\|runtime error" "$WORK/a.log" "$WORK/b.log" "$SLOG" &&
    fail "sanitizer reports in the logs"
stop_nginx
stop_server
finish "units_url with nginx"

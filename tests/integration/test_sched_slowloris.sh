#!/usr/bin/env bash
# test_sched_slowloris.sh - slow clients must not lock everyone out (issue
# 21, hole 1), against a real `ozma-server serve` on loopback with low
# limits: 24 connections, 6 per address, headers within 3 s, bodies at 1000
# bytes/s.  sched_slowloris.py plays many hosts from 127.0.0.N and checks
# that connections past either limit get a prompt 503 with Retry-After,
# that other addresses are served meanwhile, and that clients trickling
# their headers or body are closed after the deadline though they are
# never idle.  About 15 s.  KEEP=1 keeps the scratch directory.
#
# Usage: test_sched_slowloris.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
SERVER=$BIN/ozma-server
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill -KILL "$SERVER_PID" 2>/dev/null
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
P=$WORK/proj
TOTAL=24 PER_ADDR=6 HEADER_S=3

"$SERVER" init "$P" >/dev/null 2>"$WORK/err.txt" || { fail "init: $(cat "$WORK/err.txt")"; finish test_sched_slowloris; }
# The idle timeout stays long: a trickler is never idle, so only the header
# and body deadlines can close it.
python3 - "$P/project.json" $TOTAL $PER_ADDR $HEADER_S <<'PY' || fail "editing project.json"
import json, sys
c = json.load(open(sys.argv[1]))
c.update(http_threads=4, connection_limit=int(sys.argv[2]),
         per_ip_connection_limit=int(sys.argv[3]), header_timeout_s=int(sys.argv[4]),
         body_min_rate=1000, connection_timeout_s=60)
json.dump(c, open(sys.argv[1], "w"))
PY

serve_start "$P" test_sched_slowloris

python3 "$HERE/sched_slowloris.py" "$PORT" $TOTAL $PER_ADDR $HEADER_S \
    >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "slow clients (sched_slowloris.py exit $rc)"
fi

no_sanitizer_report "$WORK/serve.err"

serve_stop
finish test_sched_slowloris

#!/usr/bin/env bash
# test_sched_reads.sh - public reads are limited per client address (issue
# 21, hole 4), against a real `ozma-server serve` on loopback with a read
# bucket of 5 refilled at one every 5 s: sched_reads.py hammers
# GET /api/v1/status from 127.0.0.1 until it gets 429 with Retry-After and
# checks that 127.0.0.2 is still served.  A few seconds.  KEEP=1 keeps the
# scratch directory.
#
# Usage: test_sched_reads.sh BIN_DIR   (ctest passes build/PRESET/bin)
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
BURST=5

"$SERVER" init "$P" >/dev/null 2>"$WORK/err.txt" || { fail "init: $(cat "$WORK/err.txt")"; finish test_sched_reads; }
python3 - "$P/project.json" $BURST <<'PY' || fail "editing project.json"
import json, sys
c = json.load(open(sys.argv[1]))
c.update(read_burst=int(sys.argv[2]), read_rate=0.2)
json.dump(c, open(sys.argv[1], "w"))
PY

serve_start "$P" test_sched_reads

python3 "$HERE/sched_reads.py" "$PORT" $BURST >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "public reads (sched_reads.py exit $rc)"
fi

no_sanitizer_report "$WORK/serve.err"

serve_stop
finish test_sched_reads

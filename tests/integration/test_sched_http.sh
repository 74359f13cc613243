#!/usr/bin/env bash
# test_sched_http.sh - HTTP framing edge cases against a real
# `ozma-server serve` on loopback (issue 21, hole 9): conflicting
# Content-Lengths, Transfer-Encoding beside Content-Length, unknown transfer
# codings, HTTP/1.1 without Host.  The requests are written byte for byte
# by sched_http.py; a project with no units is enough.  KEEP=1 keeps the
# scratch directory.
#
# Usage: test_sched_http.sh BIN_DIR   (ctest passes build/PRESET/bin)
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
"$SERVER" init "$P" >/dev/null 2>"$WORK/err.txt" || { fail "init: $(cat "$WORK/err.txt")"; finish test_sched_http; }

serve_start "$P" test_sched_http

python3 "$HERE/sched_http.py" 127.0.0.1 "$PORT" >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "HTTP framing checks (sched_http.py exit $rc)"
fi
# Refusing a request is the client's fault: none of them is a server error.
grep -q 'status=5[0-9][0-9] .*code=internal' "$WORK/serve.err" \
    && fail "a refusal was logged as a server error: $(grep 'status=5' "$WORK/serve.err")" \
    || pass "no refusal logged as a server error"

serve_stop
finish test_sched_http

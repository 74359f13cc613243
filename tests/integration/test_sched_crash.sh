#!/usr/bin/env bash
# test_sched_crash.sh - kill -9 of the scheduler under concurrent uploads
# (issue 21, "Tests that stay"): sched_crash.py runs 8 hosts that take work
# and upload results against a real `ozma-server serve`, kills it with
# SIGKILL at random moments (after 15 to 55 new acknowledgments) OZ_CRASH_CYCLES times (8 by default; more for a
# longer run, OZ_CRASH_SEED picks the moments), restarts it each time, and
# checks that every result acknowledged with 200 is stored byte for byte,
# counted once and credited as credit.c says.  Without python3 the test is
# skipped (exit 77).  About 10 s.  KEEP=1 keeps the scratch directory (the
# server's log and database are there).
#
# Usage: test_sched_crash.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
WORK=$(mktemp -d)
cleanup() {
    # the server, should the client have died without stopping it
    [[ -s $WORK/server.pid ]] && kill -KILL "$(cat "$WORK/server.pid")" 2>/dev/null && sleep 0.2
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

timeout -k 5 300 python3 "$HERE/sched_crash.py" "$BIN" "$WORK" "${OZ_CRASH_CYCLES:-8}" \
    >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "kill -9 under load (sched_crash.py exit $rc; KEEP=1 keeps the server's log)"
fi
finish test_sched_crash

#!/usr/bin/env bash
# test_sched_powercut.sh - power cuts under concurrent uploads
# (issue 21, "Tests that stay"): sched_crash.py in its "powercut" mode,
# which starts each server with tests/fault/vfs_powercut.c preloaded and,
# after each SIGKILL (OZ_CRASH_CYCLES of them, 8 by default), undoes every
# write to the database files that no fsync covered, as a disk that lost
# its page cache would.  On the files as each cut left them, and again at
# the end: every result acknowledged with 200 is stored byte for byte, every
# stored result is one a host sent, integrity_check is ok, and the counters
# and credit agree.  Without python3 or the shim the test is skipped (exit
# 77).  About 15 s.  KEEP=1 keeps the scratch directory (the undo logs too).
#
# Usage: test_sched_powercut.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[[ -f $BIN/oz_vfs_powercut.so ]] || { echo "SKIP: no $BIN/oz_vfs_powercut.so"; exit 77; }
WORK=$(mktemp -d)
cleanup() {
    # the server, should the client have died without stopping it
    [[ -s $WORK/server.pid ]] && kill -KILL "$(cat "$WORK/server.pid")" 2>/dev/null && sleep 0.2
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

timeout -k 5 300 python3 "$HERE/sched_crash.py" "$BIN" "$WORK" "${OZ_CRASH_CYCLES:-8}" powercut \
    >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "power cuts under load (sched_crash.py exit $rc; KEEP=1 keeps the server's log)"
fi
finish test_sched_powercut

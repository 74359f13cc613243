#!/usr/bin/env bash
# test_sched_diskfull.sh - a full disk (issue 21, hole 10): writes get 503
# with Retry-After instead of 500, the log says once that the disk is full
# and once that writes succeed again (not a line per request or job tick),
# and service resumes when space is freed.  The project lives on a 24 MiB
# tmpfs mounted for the test; sched_diskfull.py drives a real
# `ozma-server serve` and fills it.  Mounting needs privileges: without
# them (or without python3) the test is skipped (exit 77).  The tmpfs is
# unmounted on every exit.  About 10 s.  KEEP=1 keeps the scratch directory
# (the server's log is there).
#
# Usage: test_sched_diskfull.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
WORK=$(mktemp -d)
MNT=$WORK/mnt
MOUNTED=
cleanup() {
    # the server, should the client have died without stopping it
    [[ -s $WORK/server.pid ]] && kill -KILL "$(cat "$WORK/server.pid")" 2>/dev/null && sleep 0.2
    [[ -n $MOUNTED ]] && { umount "$MNT" || umount -l "$MNT"; }
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir "$MNT"
if ! mount -t tmpfs -o size=24m,mode=0700 ozma-test "$MNT" 2>"$WORK/mount.err"; then
    echo "SKIP: cannot mount a tmpfs here: $(cat "$WORK/mount.err")"
    exit 77
fi
MOUNTED=1

python3 "$HERE/sched_diskfull.py" "$BIN" "$MNT" "$WORK" >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "a full disk (sched_diskfull.py exit $rc; the server's log: $WORK/serve.log, KEEP=1 keeps it)"
fi
finish test_sched_diskfull

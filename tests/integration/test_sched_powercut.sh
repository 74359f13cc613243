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
[[ -f $BIN/oz_vfs_powercut.so ]] || { echo "SKIP: no $BIN/oz_vfs_powercut.so"; exit 77; }
py_client test_sched_powercut "power cuts under load" 300 "$HERE/sched_crash.py" \
    "${OZ_CRASH_CYCLES:-8}" powercut

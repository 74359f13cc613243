#!/usr/bin/env bash
# test_sched_iofault.sh - I/O errors below SQLite under concurrent uploads
# (issue 21, "Tests that stay"): sched_crash.py in its "iofault" mode,
# which starts each server with tests/fault/vfs_fault.c preloaded, so that
# a run of writes, syncs or truncates at a random point fails as a bad disk
# would, and kills it with SIGKILL OZ_CRASH_CYCLES times (8 by default).
# Requests meanwhile may get 500 or 503; every result acknowledged with 200
# must be stored byte for byte, counted once and credited once after a
# clean restart.  Without python3 or the shim the test is skipped (exit
# 77).  About 10 s.  KEEP=1 keeps the scratch directory.
#
# Usage: test_sched_iofault.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
[[ -f $BIN/oz_vfs_fault.so ]] || { echo "SKIP: no $BIN/oz_vfs_fault.so"; exit 77; }
py_client test_sched_iofault "I/O errors and kill -9 under load" 300 "$HERE/sched_crash.py" \
    "${OZ_CRASH_CYCLES:-8}" iofault

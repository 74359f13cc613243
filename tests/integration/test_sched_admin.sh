#!/usr/bin/env bash
# test_sched_admin.sh - the operator commands (ozma-server dataset list |
# cancel | delete, host ban): sched_admin.py runs them while a real
# `ozma-server serve` on loopback serves and checks what hosts and the API
# then see.  A few seconds.
# KEEP=1 keeps the scratch directory.
#
# Usage: test_sched_admin.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
WORK=$(mktemp -d)
cleanup() { if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
py_test test_sched_admin "$HERE/sched_admin.py" 120

#!/usr/bin/env bash
# test_sched_flow.sh - the scheduler's life cycle over real HTTP on loopback:
# the honest path, timeouts and reissue, cheaters, units ending in error and
# crash safety (kill -9).  The scenarios are in sched_flow.py, next to this.
#   test_sched_flow.sh BIN_DIR [SCENARIO...]
set -euo pipefail
exec python3 "$(dirname "$0")/sched_flow.py" "$@"

#!/usr/bin/env bash
# test_sched_adaptive.sh - adaptive replication with canaries and spot
# checks (issue 18) over real HTTP on loopback: a turncoat's fabricated
# single result is caught by its canary, canaries never reach the signals,
# an edited result fails its spot check, and 30 honest hosts with 3
# cheaters complete a dataset with no fabrication canonical.  The scenarios
# are in sched_adaptive.py, next to this.
#   test_sched_adaptive.sh BIN_DIR [SCENARIO...]
set -euo pipefail
exec python3 "$(dirname "$0")/sched_adaptive.py" "$@"

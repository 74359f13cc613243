#!/usr/bin/env bash
# test_sched_candidates.sh - candidates from a synthetic survey over real
# HTTP on loopback (issue 17): sky-fixed tone as a multiplet, carriers
# flagged RFI, the API, CLI and pages, and grouping exact under reordering.
# The checks are in cand_survey.py, next to this.
#   test_sched_candidates.sh BIN_DIR
set -euo pipefail
exec python3 "$(dirname "$0")/cand_survey.py" "$@"

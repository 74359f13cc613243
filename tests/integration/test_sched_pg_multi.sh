#!/usr/bin/env bash
# test_sched_pg_multi.sh - several `ozma-server serve` processes on one
# PostgreSQL database (issue 22): two schedulers with real workers split
# between them and a cheater, two schedulers whose claims collide on a
# few units, kill -9 of one of two under load, and
# `pg_ctl restart -m immediate` under load; also serve --read-database.
# The scenarios and what each asserts are in sched_pg_multi.py, next to
# this.  The test runs itself again under pg_run.sh, which starts a
# throwaway PostgreSQL cluster and removes it at the end; exit 77
# (skipped) when PostgreSQL's server programs or python3 are missing.
#   test_sched_pg_multi.sh BIN_DIR [SCENARIO...]   (two, collide, kill9, restart)
set -u
BIN=${1:?usage: $0 BIN_DIR [SCENARIO...]}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
if [[ -z ${OZ_TEST_PG_HOST:-} || -z ${PG_RESTART:-} ]]; then
    exec bash "$HERE/pg_run.sh" "$HERE/test_sched_pg_multi.sh" "$@"
fi
timeout -k 5 400 python3 "$HERE/sched_pg_multi.py" "$@"

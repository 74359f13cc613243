#!/usr/bin/env bash
# test_sched_sql_pg.sh - the PostgreSQL driver of the store's SQL interface
# (scheduler/store/sql_pg.c) against a real server: a throwaway cluster
# (tests/support/pg_cluster.sh) for the cmocka test test_sched_sql_pg, which
# restarts it with `pg_ctl restart -m immediate`, stops and starts it itself
# (OZ_TEST_PG_RESTART, _STOP, _START) to see its connection lost and revived.  The cluster is stopped and
# removed on every exit.  Skipped (77) when PostgreSQL is not installed.
#
# Usage: test_sched_sql_pg.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
EXE=$(cd "$BIN/../tests" 2>/dev/null && pwd)/test_sched_sql_pg
[[ -x $EXE ]] || { echo "FAIL: $EXE is not built" >&2; exit 1; }
source "$HERE/../support/pg_cluster.sh"

WORK=$(mktemp -d)
trap 'pg_cluster_stop "$WORK/pg"; rm -rf "$WORK"' EXIT
pg_cluster_start "$WORK/pg" >/dev/null
rc=0
OZ_TEST_PG_URI=$PG_URI OZ_TEST_PG_RESTART=$PG_RESTART OZ_TEST_PG_STOP=$PG_STOP \
    OZ_TEST_PG_START=$PG_START timeout -k 5 120 "$EXE" || rc=$?
if ((rc != 0)); then
    echo "FAIL: test_sched_sql_pg exit $rc; the server's log:" >&2
    tail -n 20 "$WORK/pg/server.log" >&2
    exit 1
fi
echo "ok: the PostgreSQL driver"

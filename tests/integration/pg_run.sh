#!/usr/bin/env bash
# pg_run.sh - runs an integration test against PostgreSQL: starts a
# throwaway cluster (tests/support/pg_cluster.sh), tells the test where it
# is (OZ_TEST_PG_HOST: every project the test makes gets a database of its
# own there, see testdb.py and lib.sh's oz_init), runs it and removes the
# cluster, whatever the test's end.  The exit status is the test's (77: the
# PostgreSQL server is not installed).
#   pg_run.sh TEST BIN_DIR [ARGS...]
set -u
TEST=${1:?usage: $0 TEST BIN_DIR [ARGS...]}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../support/pg_cluster.sh"
WORK=$(mktemp -d)
trap 'pg_cluster_stop "$WORK/pg"; rm -rf "$WORK"' EXIT
pg_cluster_start "$WORK/pg" >/dev/null
export OZ_TEST_PG_HOST=$WORK/pg
case $TEST in
*.py) python3 "$TEST" "$@" ;;
*) bash "$TEST" "$@" ;;
esac

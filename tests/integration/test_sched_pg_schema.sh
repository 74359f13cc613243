#!/usr/bin/env bash
# test_sched_pg_schema.sh - the PostgreSQL schema (scheduler/store/
# pg_schema.c) on a throwaway PostgreSQL cluster: it applies in one
# transaction, and it is SQLite's: the same tables, columns, keys, indexes
# and triggers as a project made by `ozma-server init` (a table, column or
# index one has and the other lacks fails the test, by name), the same
# version, the same counts kept by the triggers after the same statements,
# and SQL decay() giving credit.c's doubles (pg_schema.py); then every
# statement of the store's query files prepares on it as the PostgreSQL
# driver sends it, and on SQLite (pg_statements.py); and the runner that
# creates and upgrades it (test_sched_migrate_pg, once the build has the
# PostgreSQL driver).
# Exit 77 (skipped) without PostgreSQL's server programs.  KEEP=1 keeps the
# scratch directory (the cluster is stopped either way).
#
# Usage: test_sched_pg_schema.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
PGBIN=$(pg_config --bindir 2>/dev/null)
[[ -x $PGBIN/initdb ]] || PGBIN=/usr/lib/postgresql/15/bin
for tool in "$PGBIN/initdb" "$PGBIN/pg_ctl" "$PGBIN/psql"; do
    [[ -x $tool ]] || { echo "SKIP: $tool not installed"; exit 77; }
done
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
# initdb refuses root: the cluster belongs to postgres then
AS=()
[[ $(id -u) -eq 0 ]] && AS=(runuser -u postgres --)
WORK=$(mktemp -d)
chmod 755 "$WORK"
PGDATA=$WORK/pgdata
cleanup() {
    [[ -f $PGDATA/postmaster.pid ]] && "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" stop -m immediate \
        >/dev/null 2>&1
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir "$PGDATA" "$WORK/sock"
[[ ${#AS[@]} -gt 0 ]] && chown postgres "$PGDATA" "$WORK/sock"
"${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" --auth=trust -U postgres >"$WORK/initdb.log" 2>&1 ||
    { cat "$WORK/initdb.log" >&2; fail "initdb"; finish pg_schema; }
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/sock/server.log" -w \
    -o "-c listen_addresses='' -k $WORK/sock -c shared_buffers=16MB -c fsync=off" start \
    >/dev/null || { cat "$WORK/sock/server.log" >&2; fail "pg_ctl start"; finish pg_schema; }
export PGHOST=$WORK/sock PGUSER=postgres
"$PGBIN/psql" -X -q -d postgres -c "CREATE DATABASE ozma" || fail "CREATE DATABASE"
timeout -k 5 120 python3 "$HERE/pg_schema.py" "$BIN" "$WORK" "$PGBIN/psql" ozma ||
    fail "pg_schema.py failed"
timeout -k 5 120 python3 "$HERE/pg_statements.py" "$BIN" "$WORK" "$PGBIN/psql" ozma \
    "$HERE/../.." || fail "pg_statements.py failed"
rc=0
OZ_TEST_PG_URI="postgresql:///ozma?host=$WORK/sock&user=postgres" timeout -k 5 120 \
    "$BIN/../tests/test_sched_migrate_pg" || rc=$?
case $rc in
0) pass "test_sched_migrate_pg" ;;
77) echo "test_sched_migrate_pg skipped (no PostgreSQL driver in this build)" ;;
*) fail "test_sched_migrate_pg exit $rc" ;;
esac
finish pg_schema

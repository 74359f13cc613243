#!/usr/bin/env bash
# bench_sched_pg.sh - bench_sched_load against PostgreSQL on a throwaway
# cluster: starts one (tests/support/pg_cluster.sh: initdb in a temporary
# directory, a Unix socket there and no TCP port), tunes it for a
# benchmark, runs bench_sched_load --database on it with the arguments
# given, and removes the cluster whatever the end.
#
#   bench_sched_pg.sh [--diagnose] [ARGS...]
#   (ARGS: bench_sched_load's, e.g. --units 100000 --schedulers 2)
#
# The cluster keeps a scheduler's durability: fsync and synchronous_commit
# on (a 200 means committed), with more memory and connections than the
# tests' clusters (shared_buffers 256MB, max_connections 300) and
# checkpoints spread out so that none falls in a 10 s run unasked.
#
# --diagnose: also loads pg_stat_statements and logs lock waits of 50 ms
# or more, samples what the bench databases' busy backends wait on
# (pg_stat_activity, 5 times a second) and, after the run, prints the
# statements that took the most of the server's time, the wait events
# seen, and the serialization failures, deadlocks and lock waits the
# server logged.  The sampling costs some CPU: take the figures from a run
# without it.
#
# BENCH (default: build/release/tests/bench_sched_load), PG_BIN and
# TMPDIR (where the cluster's directory goes; /tmp) may be set.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BENCH=${BENCH:-$ROOT/build/release/tests/bench_sched_load}
DIAGNOSE=0
if [[ ${1:-} == --diagnose ]]; then
    DIAGNOSE=1
    shift
fi
if [[ ${1:-} == --help || ${1:-} == -h ]]; then
    sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi
[[ -x $BENCH ]] || { echo "bench_sched_pg.sh: no $BENCH (build first, or set BENCH)" >&2; exit 1; }
source "$ROOT/tests/support/pg_cluster.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ozbpg.XXXXXX") # short: the socket path must fit 107 bytes
SAMPLER=
cleanup() {
    [[ -n $SAMPLER ]] && kill "$SAMPLER" 2>/dev/null
    pg_cluster_stop "$WORK/pg"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_cluster_start "$WORK/pg" >/dev/null

# the benchmark's settings over the tests' (later lines win), then a restart
cat >>"$WORK/pg/data/postgresql.conf" <<EOF
shared_buffers = 256MB
max_connections = 300
wal_buffers = 16MB
max_wal_size = 4GB
checkpoint_timeout = 30min
EOF
if ((DIAGNOSE)); then
    cat >>"$WORK/pg/data/postgresql.conf" <<EOF
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.max = 1000
track_io_timing = on
log_lock_waits = on
deadlock_timeout = 50ms
EOF
fi
if ! eval "$PG_STOP" || ! eval "$PG_START"; then
    echo "bench_sched_pg.sh: the tuned cluster did not start: $(tail -n 5 "$WORK/pg/server.log")" >&2
    exit 1
fi
psql_do() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URI" "$@"; }
if ((DIAGNOSE)); then
    psql_do -c "CREATE EXTENSION pg_stat_statements" || exit 1
    (
        while :; do
            psql_do -F ' ' -c "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, '-')
                               FROM pg_stat_activity WHERE datname LIKE 'bench\_%'
                               AND state = 'active'" 2>/dev/null
            sleep 0.2
        done >"$WORK/waits"
    ) &
    SAMPLER=$!
fi

"$BENCH" --database "$PG_URI" "$@"
rc=$?

if ((DIAGNOSE)); then
    kill "$SAMPLER" 2>/dev/null
    wait "$SAMPLER" 2>/dev/null
    SAMPLER=
    echo
    echo "== the statements that took the most of the server's time (pg_stat_statements)"
    psql_do -F ' | ' -c "SELECT round(total_exec_time)::bigint AS ms, calls,
                                round((total_exec_time / greatest(calls, 1) * 1000)::numeric, 1)
                                  AS us_per_call, rows,
                                round((100 * shared_blks_hit::numeric
                                       / greatest(shared_blks_hit + shared_blks_read, 1)), 1)
                                  AS hit_pct,
                                left(regexp_replace(query, '\s+', ' ', 'g'), 160)
                         FROM pg_stat_statements
                         WHERE dbid NOT IN (SELECT oid FROM pg_database
                                            WHERE datname NOT LIKE 'bench\_%')
                         ORDER BY total_exec_time DESC LIMIT 25"
    echo "(ms total | calls | us per call | rows | shared-buffer hit % | statement)"
    echo
    echo "== what the bench databases' active backends waited on (samples, 5 a second)"
    sort "$WORK/waits" | uniq -c | sort -rn | head -n 15
    echo
    echo "== in the server's log"
    for what in "could not serialize access" "deadlock detected" "still waiting for" \
                "canceling statement"; do
        printf '%8d  %s\n' "$(grep -c "$what" "$WORK/pg/server.log")" "$what"
    done
    echo "(the first of them, with what they waited for:)"
    grep -E -A4 "could not serialize|deadlock detected|still waiting for" "$WORK/pg/server.log" |
        grep -E "ERROR|LOG|DETAIL|STATEMENT|CONTEXT" | cut -c1-300 | head -n 40
fi
exit $rc

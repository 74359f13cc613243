#!/usr/bin/env bash
# test_sched_pg_cluster.sh - the throwaway PostgreSQL cluster every
# PostgreSQL test uses (tests/support/pg_cluster.sh) leaves nothing behind:
#  - pg_cluster_start gives a URI a client connects with, to a server on a
#    Unix socket only, fsync and synchronous_commit on;
#  - pg_cluster_stop ends the server (its postmaster's pid is gone) and
#    removes the directory;
#  - a test shell killed with SIGKILL, its trap never run, has its cluster
#    stopped and removed by the watchdog within a few seconds;
# Skipped (77) when PostgreSQL is not installed.
#
# Usage: test_sched_pg_cluster.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
HARNESS=$HERE/../support/pg_cluster.sh
# shellcheck source=../support/pg_cluster.sh
source "$HARNESS"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
WORK=$(mktemp -d)
trap 'for d in a b c; do pg_cluster_stop "$WORK/$d"; done; rm -rf "$WORK"' EXIT
PSQL=$PG_BIN/psql

# gone DIR PID SECONDS: DIR removed and PID ended within SECONDS (an
# ended postmaster is a zombie until init reaps it).
gone() {
    local end=$((SECONDS + $3))
    while ((SECONDS <= end)); do
        if [[ ! -e $1 ]] && ! kill -0 "$2" 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    return 1
}

pg_cluster_start "$WORK/a" >"$WORK/a.uri"
[[ $(cat "$WORK/a.uri") == "$PG_URI" && $PG_URI == "postgresql:///ozma?host=$WORK/a&user=postgres" ]] \
    && pass "the URI is printed and exported" || fail "URI: $PG_URI / $(cat "$WORK/a.uri")"
got=$("$PSQL" "$PG_URI" -XAtc "SELECT current_database(), current_setting('fsync'),
        current_setting('synchronous_commit'), current_setting('listen_addresses') = ''" 2>&1)
[[ $got == "ozma|on|on|t" ]] && pass "a client connects: ozma, fsync, synchronous, no TCP" \
    || fail "psql: $got"
pid=$(head -n 1 "$WORK/a/data/postmaster.pid")
pg_cluster_stop "$WORK/a"
gone "$WORK/a" "$pid" 5 && pass "pg_cluster_stop: server ended, directory removed" \
    || fail "pg_cluster_stop left $WORK/a or pid $pid"

# a test shell killed before its trap runs
bash -c 'source "$1"; pg_cluster_start "$2" >"$3"; exec sleep 60' \
    _ "$HARNESS" "$WORK/b" "$WORK/b.uri" &
shell=$!
for _ in $(seq 300); do [[ -s $WORK/b.uri ]] && break; sleep 0.1; done
pid=$(head -n 1 "$WORK/b/data/postmaster.pid" 2>/dev/null)
[[ -n $pid ]] || fail "the second cluster did not start"
kill -KILL "$shell"
wait "$shell" 2>/dev/null
gone "$WORK/b" "$pid" 10 && pass "SIGKILL of the test: the watchdog stopped and removed its cluster" \
    || fail "SIGKILL of the test left $WORK/b or pid $pid"

finish "pg_cluster"

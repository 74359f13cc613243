#!/usr/bin/env bash
# test_sched_store_boundary.sh - the store is a boundary (issue 22), checked
# on the source tree and the built tests:
#  - nothing outside scheduler/store/ includes sqlite3.h, libpq-fe.h or the
#    store's own store_internal.h (the one exception: tests/fault's
#    VFS shims, which sit below SQLite itself to inject I/O errors and power
#    cuts into the SQLite backend);
#  - inside it, the query files (store*.c) include no engine's header
#    (store_writer.c alone, for SQLite's WAL restarts);
#  - store/store.h names no engine (sqlite, WAL, checkpoint, writer, PRAGMA);
#  - the store's SQL names no state by its digits (sql_states.h):
#    `state = 1` or `outcome != 4` in a string is a failure;
#  - the policy's unit tests (dispatch, transition, validate, trust, canary,
#    credit) are linked without SQLite.
#
# Usage: test_sched_store_boundary.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TESTS=$(cd "$BIN/../tests" 2>/dev/null && pwd)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

cd "$ROOT" || exit 1
leaks=$(grep -rlE '#include *[<"](sqlite3\.h|libpq-fe\.h|store_internal\.h)[>"]' \
            --include='*.c' --include='*.h' scheduler worker workunits science tests tools 2>/dev/null |
        grep -v '^scheduler/store/' | grep -vE '^tests/fault/vfs_[a-z]+\.[ch]$')
[[ -z $leaks ]] || fail "outside scheduler/store/, these include the database's headers: $leaks"

# inside it, the queries speak sql.h alone: the engines' headers are the
# backends' (sqlite.c, sql_sqlite.c, the writer's WAL restarts; sql_pg.c)
engine=$(grep -lE '#include *[<"](sqlite3\.h|libpq-fe\.h|sql_sqlite\.h|sql_pg\.h)[>"]' \
             scheduler/store/store*.c | grep -v '^scheduler/store/store_writer\.c$')
[[ -z $engine ]] || fail "store query files that include an engine's header: $engine"

words=$(grep -niE 'sqlite|\bwal\b|checkpoint|writer|pragma' scheduler/store/store.h)
[[ -z $words ]] || fail "store.h names an engine: $words"

digits=$(grep -nE '"[^"]*\b(state|outcome|validate_state) *(=|!=|<>|<=|>=|<|>) *[0-9]' \
             scheduler/store/*.c)
[[ -z $digits ]] || fail "a state as digits in the store's SQL: $digits"

if [[ -n $TESTS ]]; then
    for t in dispatch transition validate trust canary credit; do
        exe="$TESTS/test_sched_$t"
        if [[ ! -x $exe ]]; then
            fail "$exe not built"
        elif readelf -d "$exe" | grep -q sqlite; then
            fail "test_sched_$t links SQLite: the policy must need no database"
        fi
    done
else
    fail "no tests folder beside $BIN"
fi

if ((failures)); then
    echo "$failures failure(s)"
    exit 1
fi
echo "ok: the store is a boundary"

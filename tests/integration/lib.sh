# lib.sh - what the integration scripts share (sourced, not a test itself):
# pass/fail bookkeeping and the check that a program refuses bad input the
# Ozma way - exit status 2 and exactly one stderr line "PROG: ..." naming
# the problem.  Scripts set WORK (a scratch directory) before calling it.

FAILURES=0
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The project's database, on either backend (testdb.py): SQLite by default,
# a database of its own on pg_run.sh's PostgreSQL cluster when
# OZ_TEST_PG_HOST is set.
#   oz_init SERVER DIR [ARGS...]   ozma-server init DIR ARGS (+ --database)
#   oz_sql DIR SQL                 rows, columns separated by |
#   oz_dump DIR                    every row, as text to compare
oz_init() { python3 "$LIB_DIR/testdb.py" init "$@"; }
oz_sql() { python3 "$LIB_DIR/testdb.py" query "$@"; }
oz_dump() { python3 "$LIB_DIR/testdb.py" dump "$@"; }
oz_pg() { [[ -n ${OZ_TEST_PG_HOST:-} ]]; }

fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
pass() { echo "ok: $*"; }

# expect_exit2 PROGRAM WHAT PATTERN ARGS...: PROGRAM ARGS exits 2 with one
# stderr line that starts "<program name>: " and contains PATTERN.  Returns
# non-zero (after recording the failure) when it does not.
expect_exit2() {
    local prog=$1 what=$2 pattern=$3
    shift 3
    local name rc=0 err
    name=$(basename "$prog")
    "$prog" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
    err=$(cat "$WORK/err.txt")
    if [[ $rc -ne 2 ]]; then
        fail "$what: exit status $rc, expected 2 (stderr: $err)"
    elif [[ $(wc -l <"$WORK/err.txt") -ne 1 ]]; then
        fail "$what: expected one line on stderr, got: $err"
    elif [[ $err != "$name: "* ]]; then
        fail "$what: message does not start with '$name: ': $err"
    elif ! grep -qF -- "$pattern" "$WORK/err.txt"; then
        fail "$what: message does not mention '$pattern': $err"
    else
        return 0
    fi
    return 1
}

# serve_start PROJECT NAME: starts `$SERVER serve PROJECT --port 0` in the
# background, its stderr in $WORK/serve.err; sets SERVER_PID, and PORT from
# its ready line.  Without a ready line (it died, or took over 5 s) the
# script ends there, failed.
serve_start() {
    "$SERVER" serve "$1" --port 0 2>"$WORK/serve.err" &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 100); do
        PORT=$(sed -n 's|^ozma-server: serving .* on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' \
            "$WORK/serve.err")
        [[ -n $PORT ]] && break
        kill -0 $SERVER_PID 2>/dev/null || break
        sleep 0.05
    done
    if [[ -z $PORT || $PORT == 0 ]]; then
        fail "serve: no ready line: $(cat "$WORK/serve.err")"
        finish "$2"
    fi
}

# serve_stop: SIGTERM to SERVER_PID, which must exit 0.
serve_stop() {
    local rc=0
    kill -TERM $SERVER_PID
    wait $SERVER_PID || rc=$?
    SERVER_PID=
    [[ $rc -eq 0 ]] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
}

# no_sanitizer_report FILE: ASan/UBSan write their reports to the
# program's stderr, not its exit status.
no_sanitizer_report() {
    grep -qE 'Sanitizer|runtime error' "$1" \
        && fail "sanitizer report: $(grep -E -m3 'Sanitizer|runtime error' "$1")" \
        || pass "no sanitizer report"
}

# py_test NAME SCRIPT SECONDS: a test whose work is a python script run as
# `python3 SCRIPT BIN WORK` (BIN and WORK set by the caller) within SECONDS;
# then no sanitizer report in WORK/server.log, and the verdict.  Exit 77
# (skipped) without python3.
py_test() {
    command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
    timeout -k 5 "$3" python3 "$2" "$BIN" "$WORK" || fail "$(basename "$2") failed"
    [[ -f $WORK/server.log ]] && no_sanitizer_report "$WORK/server.log"
    finish "$1"
}

# py_client NAME WHAT SECONDS SCRIPT [ARG...]: a test whose client is a
# python script run as `python3 SCRIPT BIN WORK ARG...` within SECONDS, in
# a scratch WORK of its own (the script writes the server's pid to
# WORK/server.pid; that server is killed should the client die without
# stopping it).  Its output is printed, its errors too when it fails (WHAT
# names the failure), and the verdict follows.  KEEP=1 keeps WORK.  Exit 77
# (skipped) without python3.
py_client() {
    local name=$1 what=$2 secs=$3 script=$4 rc=0
    shift 4
    command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
    WORK=$(mktemp -d)
    trap py_client_cleanup EXIT
    timeout -k 5 "$secs" python3 "$script" "$BIN" "$WORK" "$@" \
        >"$WORK/client.out" 2>"$WORK/client.err" || rc=$?
    cat "$WORK/client.out"
    if [[ $rc -ne 0 ]]; then
        cat "$WORK/client.err" >&2
        fail "$what ($(basename "$script") exit $rc; KEEP=1 keeps the server's log)"
    fi
    finish "$name"
}

py_client_cleanup() {
    [[ -s $WORK/server.pid ]] && kill -KILL "$(cat "$WORK/server.pid")" 2>/dev/null && sleep 0.2
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}

# finish NAME: the script's verdict from FAILURES.
finish() {
    if [[ $FAILURES -ne 0 ]]; then
        echo "$FAILURES failure(s)" >&2
        exit 1
    fi
    echo "all $1 checks passed"
}

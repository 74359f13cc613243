# lib.sh - what the integration scripts share (sourced, not a test itself):
# pass/fail bookkeeping and the check that a program refuses bad input the
# Ozma way - exit status 2 and exactly one stderr line "PROG: ..." naming
# the problem.  Scripts set WORK (a scratch directory) before calling it.

FAILURES=0
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

# finish NAME: the script's verdict from FAILURES.
finish() {
    if [[ $FAILURES -ne 0 ]]; then
        echo "$FAILURES failure(s)" >&2
        exit 1
    fi
    echo "all $1 checks passed"
}

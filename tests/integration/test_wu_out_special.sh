#!/usr/bin/env bash
# test_wu_out_special.sh - output paths that are not files (issue 21, hole 0).
#
# Usage: test_wu_out_special.sh BINDIR   (ozma-search, ozma-split, ozma-synth)
#
# Run as root, `ozma-search ... --out /dev/null` once renamed a regular file
# over the machine's /dev/null.  Here each program's output is pointed at a
# character device made for the test (mknod DIR/null c 1 3, the same device
# as /dev/null) and at a FIFO: the device must still be that device
# afterwards, and what went into the FIFO must come out of its other end.
# /dev/stdout on a pipe is written through too, and into a file it writes
# that file and stays a link: tried on WORK/stdout, a link to /proc/self/fd/1
# as /dev/stdout is, because a program with the bug replaces the link it is
# given (a run of the unfixed programs replaced this machine's /dev/stdout
# with a regular file).  A directory (or, for
# ozma-split, whose --out is a directory, a device or FIFO) is refused with
# one line on stderr and a non-zero exit, and nothing is written.
#
# mknod needs root: without it the test exits 77, which ctest reports as
# skipped (SKIP_RETURN_CODE), never as passed.
set -uo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BINDIR=${1:?usage: $0 BINDIR}
SEARCH="$BINDIR/ozma-search"
SPLIT="$BINDIR/ozma-split"
SYNTH="$BINDIR/ozma-synth"
for p in "$SEARCH" "$SPLIT" "$SYNTH"; do
    [[ -x "$p" ]] || { echo "FAIL: $p is not an executable" >&2; exit 1; }
done

WORK=$(mktemp -d)
READER=
cleanup() {
    [[ -n $READER ]] && kill "$READER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

DEV=$WORK/null
if ! mknod "$DEV" c 1 3 2>/dev/null; then
    echo "SKIP: cannot mknod a device node (not root)"
    exit 77
fi
FIFO=$WORK/fifo
mkfifo "$FIFO" || { echo "FAIL: mkfifo" >&2; exit 1; }

# still_dev WHAT: DEV is still character device 1:3 (/dev/null's numbers).
still_dev() {
    if [[ -c $DEV && $(stat -c '%t:%T' "$DEV") == 1:3 ]]; then
        pass "$1: $DEV is still a character device (1:3)"
    else
        fail "$1: $DEV is now $(stat -c '%F %t:%T' "$DEV" 2>&1)"
    fi
}

# still_fifo WHAT: FIFO is still a FIFO.
still_fifo() {
    [[ -p $FIFO ]] && pass "$1: $FIFO is still a FIFO" \
        || fail "$1: $FIFO is now $(stat -c %F "$FIFO" 2>&1)"
}

# no_leftovers WHAT: no temporary files beside the targets.
no_leftovers() {
    local left
    left=$(find "$WORK" -maxdepth 1 -name '*.tmp.*')
    [[ -z $left ]] && pass "$1: no temporary files left" || fail "$1: left behind: $left"
}

# refused WHAT PATTERN PROG ARGS...: PROG ARGS exits non-zero with one
# stderr line "PROG: ..." containing PATTERN.
refused() {
    local what=$1 pattern=$2 prog=$3 rc=0
    shift 3
    "$prog" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
    local err name
    err=$(cat "$WORK/err.txt")
    name=$(basename "$prog")
    if [[ $rc -eq 0 ]]; then
        fail "$what: exit status 0, expected a refusal"
    elif [[ $(wc -l <"$WORK/err.txt") -ne 1 || $err != "$name: "* ]]; then
        fail "$what: expected one line \"$name: ...\" on stderr, got: $err"
    elif ! grep -qF -- "$pattern" "$WORK/err.txt"; then
        fail "$what: message does not mention '$pattern': $err"
    else
        pass "$what -> exit $rc: $err"
    fi
}

# read_fifo OUT: a reader on the FIFO's other end, copying to OUT.
read_fifo() {
    cat "$FIFO" >"$1" &
    READER=$!
}
# reader_done WHAT: waits for the reader (a writer that never opens the FIFO
# would leave it blocked: give up after 60 s).
reader_done() {
    local i
    for i in $(seq 600); do
        kill -0 "$READER" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$READER" 2>/dev/null; then
        fail "$1: nothing closed the FIFO"
        kill "$READER" 2>/dev/null
    fi
    wait "$READER" 2>/dev/null
    READER=
}

# ---- ozma-synth: the truth file, and the data file, on a device and a FIFO ----
"$SYNTH" --out "$WORK/rec" --samples 2^15 --datatype ci8 --truth "$DEV" \
    --spike f=500,drift=0,snr=2 >/dev/null 2>"$WORK/err.txt" \
    && pass "ozma-synth --truth DEV" || fail "ozma-synth --truth DEV: $(cat "$WORK/err.txt")"
still_dev "ozma-synth --truth"
[[ -s $WORK/rec.sigmf-data && -s $WORK/rec.sigmf-meta ]] \
    && pass "ozma-synth wrote the recording beside the device truth" \
    || fail "ozma-synth: recording missing"
read_fifo "$WORK/truth.got"
"$SYNTH" --out "$WORK/rec2" --samples 2^15 --datatype ci8 --truth "$FIFO" \
    --spike f=500,drift=0,snr=2 >/dev/null 2>"$WORK/err.txt" \
    || fail "ozma-synth --truth FIFO: $(cat "$WORK/err.txt")"
reader_done "ozma-synth --truth FIFO"
still_fifo "ozma-synth --truth"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); assert t["signals"]' \
    "$WORK/truth.got" 2>/dev/null \
    && pass "ozma-synth --truth FIFO: the truth came out of the other end" \
    || fail "ozma-synth --truth FIFO: read back $(head -c 200 "$WORK/truth.got")"
mknod "$WORK/dev.sigmf-data" c 1 3
"$SYNTH" --out "$WORK/dev" --samples 2^15 --datatype ci8 >/dev/null 2>"$WORK/err.txt" \
    || fail "ozma-synth with STEM.sigmf-data a device: $(cat "$WORK/err.txt")"
[[ -c $WORK/dev.sigmf-data && $(stat -c '%t:%T' "$WORK/dev.sigmf-data") == 1:3 ]] \
    && pass "ozma-synth: a device as STEM.sigmf-data is still the device" \
    || fail "ozma-synth: STEM.sigmf-data is now $(stat -c %F "$WORK/dev.sigmf-data")"
rm -f "$WORK/dev.sigmf-data" "$WORK/dev.sigmf-meta" "$WORK/dev.truth.json"
mkdir "$WORK/adir"
refused "ozma-synth --truth DIR" "adir: is a directory" "$SYNTH" --out "$WORK/rec3" \
    --samples 2^15 --truth "$WORK/adir"
[[ ! -e $WORK/rec3.sigmf-data ]] && pass "ozma-synth --truth DIR: refused before writing" \
    || fail "ozma-synth --truth DIR: wrote the recording anyway"
no_leftovers "ozma-synth"

# ---- ozma-search --out ----
CFG=(--fft-min 64 --fft-max 1024 --chirp-max 1)
"$SEARCH" -q "${CFG[@]}" --out "$DEV" "$WORK/rec" 2>"$WORK/err.txt" \
    && pass "ozma-search --out DEV" || fail "ozma-search --out DEV: $(cat "$WORK/err.txt")"
still_dev "ozma-search --out"
read_fifo "$WORK/search.got"
"$SEARCH" -q "${CFG[@]}" --out "$FIFO" "$WORK/rec" 2>"$WORK/err.txt" \
    || fail "ozma-search --out FIFO: $(cat "$WORK/err.txt")"
reader_done "ozma-search --out FIFO"
still_fifo "ozma-search --out"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert "signals" in r' \
    "$WORK/search.got" 2>/dev/null \
    && pass "ozma-search --out FIFO: the result came out of the other end" \
    || fail "ozma-search --out FIFO: read back $(head -c 200 "$WORK/search.got")"
STDOUT=$WORK/stdout
ln -s /proc/self/fd/1 "$STDOUT"
"$SEARCH" -q "${CFG[@]}" --out "$STDOUT" "$WORK/rec" 2>"$WORK/err.txt" | cat >"$WORK/piped.got"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert "signals" in r' \
    "$WORK/piped.got" 2>/dev/null \
    && pass "ozma-search --out a /dev/stdout link on a pipe: the result came through" \
    || fail "ozma-search --out stdout link, pipe: $(cat "$WORK/err.txt") $(head -c 99 "$WORK/piped.got")"
"$SEARCH" -q "${CFG[@]}" --out "$STDOUT" "$WORK/rec" >"$WORK/redirected.json" 2>"$WORK/err.txt"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert "signals" in r' \
    "$WORK/redirected.json" 2>/dev/null \
    && pass "ozma-search --out a /dev/stdout link into a file: the file has the result" \
    || fail "ozma-search --out stdout link, file: $(cat "$WORK/err.txt")"
[[ -L $STDOUT && $(readlink "$STDOUT") == /proc/self/fd/1 ]] \
    && pass "ozma-search --out a /dev/stdout link: still the link" \
    || fail "ozma-search --out a /dev/stdout link: it is now $(stat -c %F "$STDOUT")"
refused "ozma-search --out DIR" "adir: is a directory" "$SEARCH" -q "${CFG[@]}" \
    --out "$WORK/adir" "$WORK/rec"
[[ -z $(ls -A "$WORK/adir") ]] && pass "ozma-search --out DIR: nothing written into it" \
    || fail "ozma-search --out DIR: wrote $(ls -A "$WORK/adir")"
no_leftovers "ozma-search"

# ---- ozma-split --out is a directory: a device or FIFO is refused ----
refused "ozma-split --out DEV" "is a character device" "$SPLIT" "$WORK/rec" --out "$DEV" \
    --unit-samples 2^14 --fft-max 1024 --chirp-max 1 -q
still_dev "ozma-split --out"
refused "ozma-split --out FIFO" "is a FIFO" "$SPLIT" "$WORK/rec" --out "$FIFO" \
    --unit-samples 2^14 --fft-max 1024 --chirp-max 1 -q
still_fifo "ozma-split --out"
mkdir "$WORK/units"
mkfifo "$WORK/units/manifest.json"
cat "$WORK/units/manifest.json" >"$WORK/manifest.got" &
READER=$!
"$SPLIT" "$WORK/rec" --out "$WORK/units" --unit-samples 2^14 --fft-max 1024 --chirp-max 1 -q 2>"$WORK/err.txt" \
    || fail "ozma-split with manifest.json a FIFO: $(cat "$WORK/err.txt")"
reader_done "ozma-split manifest FIFO"
[[ -p $WORK/units/manifest.json ]] \
    && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/manifest.got" \
    && pass "ozma-split: a FIFO as manifest.json stays one and carries the manifest" \
    || fail "ozma-split: manifest.json FIFO: $(stat -c %F "$WORK/units/manifest.json")"
no_leftovers "ozma-split"

finish test_wu_out_special

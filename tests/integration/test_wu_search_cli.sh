#!/usr/bin/env bash
# test_wu_search_cli.sh - ozma-search as a real process.
#
# Usage: test_wu_search_cli.sh BINDIR   (the directory holding ozma-search)
#
# Writes a cf32 recording of noise plus one strong tone with python3 (stdlib
# only), searches it with a small configuration and checks that a spike is
# reported at the tone's absolute frequency; then checks --help/--version,
# --out, and that every kind of bad input exits 2 with one line on stderr
# that starts "ozma-search: " and names the problem.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BINDIR=${1:?usage: $0 BINDIR}
SEARCH="$BINDIR/ozma-search"
[[ -x "$SEARCH" ]] || { echo "FAIL: $SEARCH is not an executable" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

FS=10000
CENTER=1420000000
OFFSET=1220.703125          # bin 500 of a 4096-point FFT at 10 kHz


# make_cf32 FILE NSAMPLES [NAN_AT]: unit-power complex noise (seeded) plus a
# tone of amplitude 0.5 at OFFSET Hz; sample NAN_AT (if given) becomes NaN.
make_cf32() {
    python3 - "$1" "$2" "${3:--1}" "$FS" "$OFFSET" <<'EOF'
import math, random, struct, sys
path, n, nan_at, fs, offset = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
rng = random.Random(12345)
sd = math.sqrt(0.5)
out = bytearray()
for k in range(n):
    ph = 2 * math.pi * offset * k / fs
    i = rng.gauss(0, sd) + 0.5 * math.cos(ph)
    q = rng.gauss(0, sd) + 0.5 * math.sin(ph)
    if k == nan_at:
        i = float("nan")
    out += struct.pack("<ff", i, q)
open(path, "wb").write(out)
EOF
}

# expect_bad WHAT PATTERN ARGS...: ozma-search ARGS must exit 2 with a single
# stderr line "ozma-search: ..." containing PATTERN (grep -F).
expect_bad() {
    local what=$1
    expect_exit2 "$SEARCH" "$@" || return 0
    if [[ -s "$WORK/out.txt" ]]; then
        fail "$what: wrote to stdout on failure"
    else
        pass "$what -> $(cat "$WORK/err.txt")"
    fi
}

# check_spike JSONFILE: a spike within one 4096-point bin of CENTER+OFFSET.
check_spike() {
    python3 - "$1" "$CENTER" "$OFFSET" "$FS" <<'EOF'
import json, sys
path, center, offset, fs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
r = json.load(open(path))
for key in ("signals", "best", "counts", "overflow", "flops", "cpu_s", "kernel_version"):
    assert key in r, "result has no %r" % key
truth = center + offset
spikes = [s for s in r["signals"] if s["type"] == "spike"]
assert spikes, "no spike reported: %r" % r["signals"]
best = min(spikes, key=lambda s: abs(s["freq_hz"] - truth))
err = abs(best["freq_hz"] - truth)
assert err <= fs / 4096, "nearest spike at %.3f Hz, %.3f Hz from the tone at %.3f Hz" % (best["freq_hz"], err, truth)
assert r["counts"]["spike"] == len(spikes), "counts.spike does not match"
assert r["flops"] > 0
print("spike at %.3f Hz (L=%d, score %.1f), %.3f Hz from the tone" % (best["freq_hz"], best["fft_len"], best["score"], err))
EOF
}

SMALL=(--sample-rate "$FS" --center-freq "$CENTER" --fft-min 64 --fft-max 4096 --chirp-max 2 --quiet)

make_cf32 "$WORK/tone.cf32" 65536

# ---- a real search, result on stdout ------------------------------------------
if "$SEARCH" "${SMALL[@]}" "$WORK/tone.cf32" >"$WORK/stdout.json" 2>"$WORK/err.txt"; then
    if [[ -s "$WORK/err.txt" ]]; then
        fail "search: wrote to stderr with --quiet: $(cat "$WORK/err.txt")"
    fi
    if msg=$(check_spike "$WORK/stdout.json" 2>&1); then
        pass "search: $msg"
    else
        fail "search: $msg"
    fi
    [[ $(tail -c 1 "$WORK/stdout.json" | od -An -c | tr -d ' ') == '\n' ]] ||
        fail "search: output does not end with a newline"
else
    fail "search exited $? : $(cat "$WORK/err.txt")"
fi

# ---- --fft-wisdom: written after planning, the same result, garbage refused ----
if "$SEARCH" "${SMALL[@]}" --planner measure --fft-wisdom "$WORK/wisdom" "$WORK/tone.cf32" \
    >"$WORK/w1.json" 2>"$WORK/err.txt"; then
    if head -c 5 "$WORK/wisdom" 2>/dev/null | grep -q '^(fftw'; then
        pass "--fft-wisdom: FFTW's wisdom written ($(stat -c %s "$WORK/wisdom") bytes)"
    else
        fail "--fft-wisdom: no wisdom in the file"
    fi
    before=$(stat -c %i "$WORK/wisdom")
    "$SEARCH" "${SMALL[@]}" --planner measure --fft-wisdom "$WORK/wisdom" "$WORK/tone.cf32" \
        >"$WORK/w2.json" 2>"$WORK/err.txt" || fail "--fft-wisdom, second run: $(cat "$WORK/err.txt")"
    [[ $(stat -c %i "$WORK/wisdom") == "$before" ]] && pass "--fft-wisdom: unchanged, not rewritten" ||
        fail "--fft-wisdom: rewritten though nothing new was learned"
    check_spike "$WORK/w2.json" && pass "--fft-wisdom: the spike as without it" ||
        fail "--fft-wisdom: the tone is not found with kept wisdom"
else
    fail "--fft-wisdom: $(cat "$WORK/err.txt")"
fi
echo "not wisdom" >"$WORK/badwisdom"
expect_bad "--fft-wisdom of garbage" "--fft-wisdom: $WORK/badwisdom: not wisdom" "${SMALL[@]}" \
    --fft-wisdom "$WORK/badwisdom" "$WORK/tone.cf32"

# ---- --out writes a complete file and leaves no temporary behind -------------
mkdir "$WORK/outdir"
if "$SEARCH" "${SMALL[@]}" --out "$WORK/outdir/result.json" "$WORK/tone.cf32" \
    >"$WORK/out.txt" 2>"$WORK/err.txt"; then
    [[ -s "$WORK/out.txt" ]] && fail "--out: also wrote to stdout"
    if msg=$(check_spike "$WORK/outdir/result.json" 2>&1); then
        pass "--out: $msg"
    else
        fail "--out: $msg"
    fi
    leftovers=$(find "$WORK/outdir" -type f ! -name result.json)
    [[ -z $leftovers ]] || fail "--out: left files behind: $leftovers"
    # Overwriting an existing result works too.
    "$SEARCH" "${SMALL[@]}" -o "$WORK/outdir/result.json" "$WORK/tone.cf32" 2>"$WORK/err.txt" ||
        fail "--out over an existing file: $(cat "$WORK/err.txt")"
else
    fail "--out exited with an error: $(cat "$WORK/err.txt")"
fi

# ---- a configuration file overlays the defaults --------------------------------
echo '{"fft_min": 64, "fft_max": 4096, "chirp_max": 2, "max_signals": 5}' >"$WORK/good.json"
if "$SEARCH" --sample-rate "$FS" --center-freq "$CENTER" --config "$WORK/good.json" -q \
    "$WORK/tone.cf32" >"$WORK/cfg.json" 2>"$WORK/err.txt"; then
    if msg=$(check_spike "$WORK/cfg.json" 2>&1); then pass "--config: $msg"; else fail "--config: $msg"; fi
else
    fail "--config exited with an error: $(cat "$WORK/err.txt")"
fi

# ---- SETI@home's search and result XML ----------------------------------------
# --report seti runs v8's search (every detection, v8's statistics);
# --result-format sah writes SETI@home's result XML, which needs a start time.
if "$SEARCH" "${SMALL[@]}" --report seti --result-format sah --datetime 2000-03-03T08:36:01Z \
    "$WORK/tone.cf32" >"$WORK/seti.xml" 2>"$WORK/err.txt"; then
    if msg=$(python3 - "$WORK/seti.xml" "$CENTER" "$OFFSET" "$FS" 2>&1 <<'EOF'
import re, sys
path, center, offset, fs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
t = open(path).read()
assert "<setiathome_version>" in t, "no <setiathome_version>"
spikes = re.findall(r"<spike>(.*?)</spike>", t, re.S)
assert spikes, "no <spike> in the result XML"
def field(s, name):
    return float(re.search(r"<%s>([^<]+)<" % name, s).group(1))
truth = center + offset
# v8 reports every spectrum's spike in its order (rate 0, the shortest
# length first): the strong tone fills the list there, each spike within
# one bin of its own length
for s in spikes:
    err = abs(field(s, "detection_freq") - truth)
    assert err <= fs / field(s, "fft_len"), "a spike %.3f Hz from the tone at L=%d" % (err, field(s, "fft_len"))
    assert 2451606.85 < field(s, "time") < 2451606.87, "<time> is not a Julian date from the start"
print("%d spikes at L=%d, each within a bin of the tone" % (len(spikes), field(spikes[0], "fft_len")))
EOF
    ); then pass "--report seti --result-format sah: $msg"; else fail "--result-format sah: $msg"; fi
else
    fail "--report seti --result-format sah exited $? : $(cat "$WORK/err.txt")"
fi
expect_bad "--result-format sah without a start time" "no start time" "${SMALL[@]}" \
    --result-format sah "$WORK/tone.cf32"
expect_bad "an unknown --report" "--report" "${SMALL[@]}" --report boinc "$WORK/tone.cf32"
expect_bad "an unknown --result-format" "--result-format" "${SMALL[@]}" --result-format csv \
    "$WORK/tone.cf32"

# ---- --help and --version ------------------------------------------------------
if "$SEARCH" --help >"$WORK/help.txt" 2>&1; then
    if grep -q SYNOPSIS "$WORK/help.txt" && grep -q -- --sample-rate "$WORK/help.txt" &&
        grep -q "EXIT STATUS" "$WORK/help.txt"; then
        pass "--help prints the usage"
    else
        fail "--help output lacks SYNOPSIS, --sample-rate or EXIT STATUS"
    fi
else
    fail "--help exited non-zero"
fi
if "$SEARCH" --version >"$WORK/version.txt" 2>&1 && grep -q "^ozma-search " "$WORK/version.txt"; then
    pass "--version: $(cat "$WORK/version.txt")"
else
    fail "--version: $(cat "$WORK/version.txt")"
fi

# ---- bad input: exit 2, one clear line -----------------------------------------
head -c 1001 "$WORK/tone.cf32" >"$WORK/odd.cf32"
: >"$WORK/empty.cf32"
make_cf32 "$WORK/nan.cf32" 8192 100
make_cf32 "$WORK/short.cf32" 1000
echo '{"fft_max": 4096,' >"$WORK/broken.json"
echo '{"fft_mxa": 4096}' >"$WORK/unknown.json"
echo '{"fft_min": 8192, "fft_max": 4096}' >"$WORK/impossible.json"

expect_bad "missing file" "$WORK/nope.cf32: No such file" "${SMALL[@]}" "$WORK/nope.cf32"
expect_bad "directory" "is a directory" "${SMALL[@]}" "$WORK"
expect_bad "odd byte count" \
    "odd.cf32: 1001 bytes is not a whole number of complex float32 samples (8 bytes each)" \
    "${SMALL[@]}" "$WORK/odd.cf32"
expect_bad "empty file" "empty" "${SMALL[@]}" "$WORK/empty.cf32"
# A headerless file longer than one unit is cut into units, so its length has
# no limit (test_wu_search_recording.sh); the unit size has one, checked first.
expect_bad "unit too large" \
    "--unit-samples 2^27 must be a power of two from 256 (2^8) to 67108864 (2^26)" \
    "${SMALL[@]}" --unit-samples 2^27 "$WORK/tone.cf32"
if [[ $EUID -ne 0 ]]; then # root reads anything
    cp "$WORK/tone.cf32" "$WORK/secret.cf32"
    chmod 000 "$WORK/secret.cf32"
    expect_bad "unreadable file" "secret.cf32: Permission denied" "${SMALL[@]}" "$WORK/secret.cf32"
fi
expect_bad "NaN sample" "sample 100 is not a finite number" "${SMALL[@]}" "$WORK/nan.cf32"
expect_bad "--fft-max 3000" "--fft-max 3000: fft_max: 3000 is not a power of two" \
    --sample-rate "$FS" --fft-max 3000 -q "$WORK/tone.cf32"
expect_bad "--fft-max larger than the file" "fft_max 4096 is larger than the file's 1000 samples" \
    "${SMALL[@]}" "$WORK/short.cf32"
expect_bad "default fft_max larger than the file" "fft_max 131072" \
    --sample-rate "$FS" -q "$WORK/tone.cf32"
expect_bad "--fft-min above --fft-max" "fft_min: 8192 is larger than fft_max 4096" \
    --sample-rate "$FS" --fft-min 8192 --fft-max 4096 -q "$WORK/tone.cf32"
expect_bad "bad JSON config" "--config: $WORK/broken.json: invalid JSON at line 2" \
    --sample-rate "$FS" --config "$WORK/broken.json" -q "$WORK/tone.cf32"
expect_bad "missing config" "nothere.json" \
    --sample-rate "$FS" --config "$WORK/nothere.json" -q "$WORK/tone.cf32"
expect_bad "unknown config key" "unknown key \"fft_mxa\"" \
    --sample-rate "$FS" --config "$WORK/unknown.json" -q "$WORK/tone.cf32"
expect_bad "impossible config" "impossible.json: fft_min" \
    --sample-rate "$FS" --config "$WORK/impossible.json" -q "$WORK/tone.cf32"
expect_bad "no sample rate" "--sample-rate is required" --fft-max 4096 "$WORK/tone.cf32"
expect_bad "bad sample rate" "--sample-rate: \"10k\" is not a number" \
    --sample-rate 10k "$WORK/tone.cf32"
expect_bad "negative sample rate" "--sample-rate: -5 must be greater than 0" \
    --sample-rate -5 "$WORK/tone.cf32"
expect_bad "bad chirp" "chirp_max" --sample-rate "$FS" --fft-max 4096 --chirp-max -1 \
    "$WORK/tone.cf32"
expect_bad "negative fft length" "--fft-min -64: fft_min: -64 is negative" \
    --sample-rate "$FS" --fft-min -64 "$WORK/tone.cf32"
expect_bad "bad planner" "--planner fast: planner: \"fast\" is not" --sample-rate "$FS" \
    --planner fast "$WORK/tone.cf32"
expect_bad "unknown option" "unknown option '--frobnicate'" --frobnicate "$WORK/tone.cf32"
expect_bad "no input file" "no input file" --sample-rate "$FS"
expect_bad "two input files" "one input file expected" --sample-rate "$FS" a.cf32 b.cf32

# ---- write failures: exit 1 ---------------------------------------------------
rc=0
"$SEARCH" "${SMALL[@]}" --out "$WORK/no/such/dir/r.json" "$WORK/tone.cf32" 2>"$WORK/err.txt" || rc=$?
if [[ $rc -eq 1 ]] && grep -qF "ozma-search: $WORK/no/such/dir/r.json: cannot create" "$WORK/err.txt"; then
    pass "--out into a missing directory -> $(cat "$WORK/err.txt")"
else
    fail "--out into a missing directory: exit $rc, stderr: $(cat "$WORK/err.txt")"
fi
if [[ -w /dev/full ]]; then
    rc=0
    "$SEARCH" "${SMALL[@]}" "$WORK/tone.cf32" >/dev/full 2>"$WORK/err.txt" || rc=$?
    if [[ $rc -eq 1 ]] && grep -qF "ozma-search: standard output: write failed" "$WORK/err.txt"; then
        pass "stdout on a full disk -> $(cat "$WORK/err.txt")"
    else
        fail "stdout on a full disk: exit $rc, stderr: $(cat "$WORK/err.txt")"
    fi
fi

if [[ $FAILURES -ne 0 ]]; then
    echo "$FAILURES check(s) failed" >&2
    exit 1
fi
echo "all checks passed"

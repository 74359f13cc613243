#!/usr/bin/env bash
# test_wu_search_recording.sh - ozma-search on whole recordings and on .ozwu units,
# as real processes.
#
# Usage: test_wu_search_recording.sh BINDIR   (ozma-search, ozma-synth, ozma-split)
#
# 1. ozma-synth writes a SigMF recording (2.5 units of 2^16 samples at
#    9765.625 Hz, 16.8 s) with one signal of every type it makes - a drifting
#    tone, a Gaussian beam crossing, a pulse train, a triplet - and its truth
#    file.  ozma-search cuts it into units as the splitter does and searches
#    it; every truth signal must have a detection of its type at the right
#    frequency, drift and time on the recording's clock, the tone seen in all
#    three units must be reported once, nothing may be reported away from the
#    injected signals, and time_utc must be the recording's datetime + time_s.
#    The same samples as a headerless ci16 file (the .sigmf-data) searched
#    with --sample-rate/--format give the same signals.
# 2. A tone laid exactly across the boundary of units 0 and 1 is found, once.
# 3. ozma-split cuts the recording into .ozwu files; ozma-search on unit 1
#    uses the unit's own configuration, finds the signals of its time range,
#    and reports exactly what the recording search can only have got from it.
# 4. Bad inputs (SigMF metadata missing a field, a truncated or corrupted
#    .ozwu, a file that is neither SigMF nor .ozwu without --sample-rate, bad
#    unit flags ...) exit 2 with one line naming the problem.
#
# The signals and configuration are those of tests/unit/test_wu_searchrec.c
# (the library-level version): FFT 64..4096, chirp +-5 Hz/s, Gaussians,
# pulses and triplets at L <= 1024, beam sigma 0.4 s, so a unit searches in
# a fraction of a second (seconds under ASan).
#
# Tolerances, from the kernel's resolution at the detection's FFT length L
# (DESIGN.md §2; the validator's own tolerances are one bin, one chirp step,
# one spectrum):
#   frequency  one bin, fs/L, at the detection's time (truth f + drift * t):
#              a bin centre is within half a bin of a tone, and the residual
#              drift over one spectrum is at most chirp_resolution/2 bins.
#   drift      half a chirp step, chirp_resolution * (fs/L)^2 / 2: searched
#              rates are multiples of the step, so the nearest is within half
#              of one; spike slopes and lines only refine it.  (At L <= 1024
#              the step exceeds 2 * chirp_max, so rate 0 alone is searched and
#              the injected drifts there are 0.)  A tone lasting only D
#              seconds pins its drift to about a bin over D, so the boundary
#              tone gets 1.5 * (fs/L) / D.
#   time       tones and triplets: inside the injected extent, widened by one
#              spectrum (L/fs) - a spike's time is the spectrum it peaked in;
#              Gaussians: the fitted centre within two power-over-time points
#              (unit/gauss_pot_len samples each, 0.105 s here); pulses: on the
#              train's grid t0 + k * period within the pulse width plus one
#              power-over-time point (unit/pulse_pot_len samples, or one
#              spectrum if longer), period within 5 % plus a point.
#   elsewhere  no reported signal's track (frequency moved along its chirp,
#              over a unit's length either side of its time) may keep more
#              than 4 bins + 1 Hz from every injected signal's track: strong
#              pulsed signals are also reported as spikes and lines at
#              neighbouring drifts, which cross them.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BINDIR=${1:?usage: $0 BINDIR}
SEARCH="$BINDIR/ozma-search"
SYNTH="$BINDIR/ozma-synth"
SPLIT="$BINDIR/ozma-split"
for p in "$SEARCH" "$SYNTH" "$SPLIT"; do
    [[ -x "$p" ]] || { echo "FAIL: $p is not an executable" >&2; exit 1; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

FS=9765.625
CENTER=1420000000
UNIT=65536
DATETIME=2024-05-01T12:00:00Z
# The analysis configuration, as flags (any configuration key is a flag).
CFG=(--fft-min 64 --fft-max 4096 --chirp-max 5 --gauss-fft-max 1024 --pulse-fft-max 1024
     --triplet-fft-max 1024 --gauss-sigma-s 0.4)
# shellcheck disable=SC2054 # the commas separate ozma-synth's key=value pairs
SIGNALS=(--spike f=1500,drift=0.7,snr=0.0225
         --gaussian f=-2500,snr=0.0225,t=9.5,sigma=0.4
         --pulse f=-1000,snr=0.3,t=1,period=0.8,width=0.1,end=5.9
         --triplet f=3000,snr=0.25,t=14,period=1.1,width=0.1)

# The checks, in one python3 program: check.py MODE ARGS... (see each mode).
cat >"$WORK/check.py" <<'EOF'
import datetime, json, math, sys

FS, UNIT = 9765.625, 65536
CHIRP_RES, GAUSS_POT, PULSE_POT = 0.1665, 64, 256   # the configuration's defaults
LINE_TYPES = ("spike", "line")

def load(path):
    with open(path) as f:
        return json.load(f)

def bin_hz(s):
    return FS / s["fft_len"]

def step(s):
    return CHIRP_RES * bin_hz(s) ** 2

def truth_freq(sig, center, t):
    return center + sig["offset_hz"] + sig["chirp_hz_s"] * t

def matches(s, sig, center, tol_c=None):
    """Is detection s the injected signal sig (on the recording's clock)?"""
    kind = sig["type"]  # a tone ("spike") is also reported as a line
    if s["type"] != kind and not (kind == "spike" and s["type"] == "line"):
        return False
    if abs(s["freq_hz"] - truth_freq(sig, center, s["time_s"])) > bin_hz(s) + 1e-6:
        return False
    tol_c = step(s) / 2 if tol_c is None else max(tol_c, step(s) / 2)
    if abs(s["chirp_hz_s"] - sig["chirp_hz_s"]) > tol_c:
        return False
    tfft = s["fft_len"] / FS
    if kind == "spike":
        if s["type"] == "line" and not (s["start_s"] <= s["time_s"] <= s["end_s"]):
            return False
        return sig["t_start"] - tfft <= s["time_s"] <= sig["t_end"] + tfft
    if kind == "gaussian":
        return abs(s["time_s"] - sig["time_s"]) <= 2 * UNIT / GAUSS_POT / FS
    point = max(UNIT / PULSE_POT, s["fft_len"]) / FS
    if abs(s["period_s"] - sig["period_s"]) > 0.05 * sig["period_s"] + point:
        return False
    if kind == "pulse":
        t0 = sig["t_start"]
        k = round((s["time_s"] - t0) / sig["period_s"])
        return abs(s["time_s"] - (t0 + k * sig["period_s"])) <= sig["width_s"] + point
    return sig["t_start"] - point <= s["time_s"] <= sig["t_end"] + point

def near(s, sigs, center):
    """Does s's track pass within 4 bins + 1 Hz of some injected track?"""
    D, tol = UNIT / FS, 4 * bin_hz(s) + 1.0
    for sig in sigs:
        g = []
        for t in (s["time_s"] - D, s["time_s"] + D):
            g.append(s["freq_hz"] + s["chirp_hz_s"] * (t - s["time_s"]) - truth_freq(sig, center, t))
        if abs(g[0]) <= tol or abs(g[1]) <= tol or (g[0] < 0) != (g[1] < 0):
            return True
    return False

def utc(text):
    assert text.endswith("Z"), text
    return datetime.datetime.strptime(text[:-1], "%Y-%m-%dT%H:%M:%S.%f")

def check_utc(r, start, offset=0.0):
    """start_utc is `start` (+offset) and every time_utc is it + time_s."""
    t0 = utc(start) if "." in start else datetime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ")
    t0 += datetime.timedelta(seconds=offset)
    assert "start_utc" in r, "no start_utc"
    assert abs((utc(r["start_utc"]) - t0).total_seconds()) < 2e-6, (r["start_utc"], t0)
    entries = list(r["signals"]) + list(r["best"].values())
    for s in entries:
        assert "time_utc" in s, "a %s without time_utc" % s["type"]
        want = utc(r["start_utc"]) + datetime.timedelta(seconds=s["time_s"])
        err = abs((utc(s["time_utc"]) - want).total_seconds())
        assert err < 2e-6, "time_utc %s is not start_utc + %.6f s" % (s["time_utc"], s["time_s"])
    return len(entries)

def show(r):
    return "\n".join("  %-8s %15.3f Hz %+7.3f Hz/s %7.3f s L=%-5d score %.2f" %
                     (s["type"], s["freq_hz"], s["chirp_hz_s"], s["time_s"], s["fft_len"], s["score"])
                     for s in r["signals"])

def every(result, truth):
    """Mode 1: every truth signal found; the tone once; nothing elsewhere; UTC."""
    r, t = load(result), load(truth)
    center, sigs = t["center_freq_hz"], t["signals"]
    assert sorted(s["type"] for s in sigs) == ["gaussian", "pulse", "spike", "triplet"]
    assert not r["overflow"], "overflow"
    for sig in sigs:
        hits = [s for s in r["signals"] if matches(s, sig, center)]
        assert hits, "injected %s at %+.1f Hz not found:\n%s" % (sig["type"], sig["offset_hz"], show(r))
        best = max(hits, key=lambda s: s["score"])
        print("%-8s found: %.3f Hz (truth %.3f), %+.3f Hz/s (truth %+.3f), %.3f s, L=%d" %
              (sig["type"], best["freq_hz"], truth_freq(sig, center, best["time_s"]),
               best["chirp_hz_s"], sig["chirp_hz_s"], best["time_s"], best["fft_len"]))
    tone = [s for s in sigs if s["type"] == "spike"][0]
    line = [s for s in r["signals"] if s["type"] == "line" and matches(s, tone, center)]
    assert line, "the drifting tone is not reported as a line:\n" + show(r)
    spikes = [s for s in r["signals"] if s["type"] == "spike" and near(s, [tone], center)]
    assert len(spikes) == 1, "the tone seen in 3 units is reported %d times" % len(spikes)
    for s in r["signals"]:
        assert s["score"] >= 1, "a listed signal below threshold"
        assert near(s, sigs, center), "a %s at %.3f Hz, %.2f s where nothing was injected:\n%s" % (
            s["type"], s["freq_hz"], s["time_s"], show(r))
    times = [s["time_s"] for s in r["signals"]]
    assert times == sorted(times), "signals not sorted by time"
    assert max(times) > 2 * UNIT / FS, "no time beyond unit 0: times are not on the recording's clock"
    n = check_utc(r, t["datetime"])
    assert r["counts"]["spike"] == len([s for s in r["signals"] if s["type"] == "spike"])
    print("%d signals, all at injected tracks; %d time_utc = %s + time_s" % (len(r["signals"]), n, t["datetime"]))

def boundary(result, truth):
    """Mode 2: the boundary tone found, once, nothing else."""
    r, t = load(result), load(truth)
    center, (sig,) = t["center_freq_hz"], t["signals"]
    D = sig["t_end"] - sig["t_start"]
    hits = [s for s in r["signals"] if s["type"] == "spike" and
            matches(s, sig, center, tol_c=1.5 * bin_hz(s) / D)]
    assert hits, "the tone across the unit boundary was not found:\n" + show(r)
    spikes = [s for s in r["signals"] if s["type"] == "spike"]
    assert len(spikes) == 1, "%d spikes for one tone:\n%s" % (len(spikes), show(r))
    for s in r["signals"]:
        assert near(s, [sig], center), "a detection where nothing was injected:\n" + show(r)
    check_utc(r, t["datetime"])
    s = hits[0]
    print("spike at %.3f Hz, %.3f s (tone %.3f..%.3f s, boundary %.3f s), %s" %
          (s["freq_hz"], s["time_s"], sig["t_start"], sig["t_end"], UNIT / FS, s["time_utc"]))

def same(a, b):
    """Mode: a and b have the same signals (cpu time aside)."""
    ra, rb = load(a), load(b)
    for k in ("signals", "best", "counts", "overflow", "flops", "start_utc"):
        assert ra.get(k) == rb.get(k), "%s differs" % k
    print("%d signals, identical" % len(ra["signals"]))

def unit(uresult, rresult, truth, manifest, unit_id):
    """Mode 3: an .ozwu unit's search against the recording's."""
    u, r, t, m = load(uresult), load(rresult), load(truth), load(manifest)
    center, sigs = t["center_freq_hz"], t["signals"]
    (e,) = [x for x in m["units"] if x["unit_id"] == unit_id]
    t0, t1 = e["start_s"], e["start_s"] + UNIT / FS
    starts = sorted(x["start_s"] for x in m["units"])
    i = starts.index(t0)
    # seen only by this unit: after the previous unit ends, before the next starts
    lo = starts[i - 1] + UNIT / FS if i > 0 else t0
    hi = starts[i + 1] if i + 1 < len(starts) else t1
    assert all(s["fft_len"] <= m["analysis"]["fft_max"] for s in u["signals"])
    shifted = []
    for s in u["signals"]:
        assert 0 <= s["time_s"] <= UNIT / FS, "time_s %.3f outside the unit" % s["time_s"]
        c = dict(s)
        c["time_s"] += t0
        if c["type"] == "line":
            c["start_s"] += t0
            c["end_s"] += t0
        shifted.append(c)
        assert near(c, sigs, center), "a %s at %.3f Hz where nothing was injected" % (s["type"], s["freq_hz"])
    found = 0
    for sig in sigs:
        if sig["t_start"] >= t0 and sig["t_end"] <= t1 or sig["type"] == "spike":
            assert any(matches(s, sig, center) for s in shifted), \
                "%s of %s..%s s not found in the unit:\n%s" % (sig["type"], sig["t_start"], sig["t_end"], show(u))
            found += 1
    exclusive = [s for s in r["signals"] if lo < s["time_s"] < hi]
    assert exclusive, "nothing in the unit's own stretch %.2f..%.2f s to compare" % (lo, hi)
    for s in exclusive:
        partner = [c for c in shifted if c["type"] == s["type"] and c["fft_len"] == s["fft_len"] and
                   abs(c["freq_hz"] - s["freq_hz"]) < 1e-6 and abs(c["time_s"] - s["time_s"]) < 1e-6 and
                   abs(c["power"] - s["power"]) <= 1e-9 * abs(s["power"])]
        assert partner, "the recording's %s at %.3f Hz, %.3f s is not in the unit's result" % (
            s["type"], s["freq_hz"], s["time_s"])
    check_utc(u, t["datetime"], offset=t0)
    print("%d truth signals found in %s (%.2f..%.2f s); the recording's %d signals of %.2f..%.2f s "
          "are in it exactly" % (found, unit_id, t0, t1, len(exclusive), lo, hi))

def every1(result, truth):
    """A one-tone recording searched whole: the tone found, nothing else, no UTC."""
    r, t = load(result), load(truth)
    center, (sig,) = t["center_freq_hz"], t["signals"]
    assert any(matches(s, sig, center) for s in r["signals"] if s["type"] == "spike"), show(r)
    assert all(near(s, [sig], center) for s in r["signals"]), show(r)
    assert "start_utc" not in r and all("time_utc" not in s for s in r["signals"]), "UTC without a datetime"
    print("tone found; no start time, no time_utc")

def fft_max(result, limit):
    r = load(result)
    assert r["signals"], "no signals"
    assert all(s["fft_len"] <= int(limit) for s in r["signals"]), "an FFT length above %s" % limit
    print("%d signals, all at L <= %s" % (len(r["signals"]), limit))

{"every": every, "every1": every1, "boundary": boundary, "same": same, "unit": unit, "fft_max": fft_max}[sys.argv[1]](*sys.argv[2:])
EOF

# check WHAT MODE ARGS...: runs a check, pass or fail with its output.
check() {
    local what=$1
    shift
    local msg
    if msg=$(python3 "$WORK/check.py" "$@" 2>&1); then
        pass "$what: $msg"
    else
        fail "$what: $msg"
    fi
}

# search WHAT OUT ARGS...: ozma-search ARGS > OUT, quietly; false on failure.
search() {
    local what=$1 out=$2
    shift 2
    if "$SEARCH" -q "$@" >"$out" 2>"$WORK/err.txt"; then
        [[ -s "$WORK/err.txt" ]] && fail "$what: wrote to stderr with --quiet: $(cat "$WORK/err.txt")"
        return 0
    fi
    fail "$what: ozma-search exited with an error: $(cat "$WORK/err.txt")"
    return 1
}

# ---- 1. a recording with one signal of every type --------------------------------
REC="$WORK/rec"
"$SYNTH" --out "$REC" --samples $((2 * UNIT + UNIT / 2)) --datatype ci16_le --seed 2024 \
    --datetime "$DATETIME" "${SIGNALS[@]}"
if search "recording" "$WORK/rec.json" --unit-samples 2^16 "${CFG[@]}" "$REC"; then
    check "every type found on the recording's clock" every "$WORK/rec.json" "$REC.truth.json"
fi
# The same recording named by its meta file, with the configuration from a file.
cat >"$WORK/cfg.json" <<'EOF'
{"fft_min": 64, "fft_max": 4096, "chirp_max": 5, "gauss_fft_max": 1024, "pulse_fft_max": 1024,
 "triplet_fft_max": 1024, "gauss_sigma_s": 0.4}
EOF
if search "recording by its .sigmf-meta" "$WORK/meta.json" --config "$WORK/cfg.json" \
    --unit-samples 65536 --overlap 0.125 "$REC.sigmf-meta"; then
    check "named by .sigmf-meta, --config" same "$WORK/meta.json" "$WORK/rec.json"
fi
# The data file as headerless ci16: cut into the same units, the same result.
cp "$REC.sigmf-data" "$WORK/rec.ci16"
if search "headerless ci16" "$WORK/raw.json" --sample-rate $FS --center-freq $CENTER \
    --format ci16 --datetime $DATETIME --unit-samples 2^16 "${CFG[@]}" "$WORK/rec.ci16"; then
    check "headerless samples longer than a unit are cut like a recording" \
        same "$WORK/raw.json" "$WORK/rec.json"
fi
# A recording of at most one unit (here the default unit, 2^20) is searched whole.
"$SYNTH" --out "$WORK/one" --samples 2^14 --spike f=1220.703125,snr=0.05
if search "recording shorter than a unit" "$WORK/one.json" "${CFG[@]}" "$WORK/one"; then
    check "a recording shorter than a unit, whole" every1 "$WORK/one.json" "$WORK/one.truth.json"
fi
# With --out, and a progress bar when stderr is a terminal (script gives one).
if command -v script >/dev/null; then
    if script -qec "'$SEARCH' --unit-samples 2^16 ${CFG[*]} --out '$WORK/out.json' '$REC'" \
        /dev/null >"$WORK/tty.txt" 2>&1; then
        if grep -qE "100\.0% \[#+\] unit 3/3, ([0-9]+)/\1 steps" "$WORK/tty.txt"; then
            pass "progress bar shows units and steps: $(tr '\r' '\n' <"$WORK/tty.txt" | tail -2 | head -1)"
        else
            fail "progress bar: $(tr '\r' '\n' <"$WORK/tty.txt" | tail -3)"
        fi
        check "--out" same "$WORK/out.json" "$WORK/rec.json"
    else
        fail "search on a terminal: $(cat "$WORK/tty.txt")"
    fi
fi

# ---- 2. a tone exactly across a unit boundary ------------------------------------
# Unit 0 is samples [0, 65536); the tone covers [65536 - 4096, 65536 + 4096), as
# long as the overlap (8192 samples), so it lies whole only in unit 1.
BND="$WORK/boundary"
T_ON=$(python3 -c "print(($UNIT - 4096) / $FS)")
T_OFF=$(python3 -c "print(($UNIT + 4096) / $FS)")
"$SYNTH" --out "$BND" --samples $((2 * UNIT + UNIT / 4)) --datatype ci8 --seed 7 \
    --datetime "$DATETIME" --spike "f=-777,snr=0.0225,start=$T_ON,end=$T_OFF"
if search "boundary tone" "$WORK/bnd.json" --unit-samples 2^16 "${CFG[@]}" "$BND"; then
    check "tone across the unit boundary found once" boundary "$WORK/bnd.json" "$BND.truth.json"
fi

# ---- 3. an .ozwu unit ------------------------------------------------------------
mkdir "$WORK/units"
if "$SPLIT" "$REC" --out "$WORK/units" --unit-samples 2^16 "${CFG[@]}" -q 2>"$WORK/err.txt"; then
    U1="$WORK/units/rec-000001.ozwu"
    # no analysis flags: the unit's header gives the configuration
    if search ".ozwu unit" "$WORK/u1.json" "$U1"; then
        check ".ozwu unit 1 against the recording" \
            unit "$WORK/u1.json" "$WORK/rec.json" "$REC.truth.json" "$WORK/units/manifest.json" rec-000001
    fi
    # flags override the header's configuration
    if search ".ozwu with --fft-max" "$WORK/u1small.json" --fft-max 1024 "$U1"; then
        check ".ozwu: --fft-max overrides the header" fft_max "$WORK/u1small.json" 1024
    fi
    # an .ozwu renamed is still an .ozwu (recognised by its magic)
    cp "$U1" "$WORK/renamed.bin"
    if search "renamed .ozwu" "$WORK/renamed.json" "$WORK/renamed.bin"; then
        check "an .ozwu under another name" same "$WORK/renamed.json" "$WORK/u1.json"
    fi
else
    fail "ozma-split: $(cat "$WORK/err.txt")"
fi

# ---- 4. bad inputs: exit 2, one line naming the problem ---------------------------
# expect_bad WHAT PATTERN ARGS...: exit 2, one stderr line "ozma-search: ..." with PATTERN.
expect_bad() {
    expect_exit2 "$SEARCH" "$@" && pass "$1"
}

# SigMF metadata without its sample rate
cp "$REC.sigmf-data" "$WORK/nofs.sigmf-data"
python3 - "$REC.sigmf-meta" "$WORK/nofs.sigmf-meta" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
del m["global"]["core:sample_rate"]
json.dump(m, open(sys.argv[2], "w"))
EOF
expect_bad "SigMF meta missing a field" "nofs.sigmf-meta: global.core:sample_rate is missing" \
    "${CFG[@]}" "$WORK/nofs"
# SigMF metadata whose data file is missing
cp "$REC.sigmf-meta" "$WORK/nodata.sigmf-meta"
expect_bad "SigMF data file missing" "nodata.sigmf-data" "${CFG[@]}" "$WORK/nodata.sigmf-meta"
if [[ -e "$WORK/units/rec-000001.ozwu" ]]; then
    head -c 100000 "$WORK/units/rec-000001.ozwu" >"$WORK/trunc.ozwu"
    expect_bad "truncated .ozwu" "trunc.ozwu: header and payload lengths add up to" "$WORK/trunc.ozwu"
    # one payload byte changed: the hash no longer matches
    cp "$WORK/units/rec-000001.ozwu" "$WORK/flipped.ozwu"
    printf '\x55' | dd of="$WORK/flipped.ozwu" bs=1 seek=200000 conv=notrunc status=none
    expect_bad "corrupted .ozwu" "SHA-256" "$WORK/flipped.ozwu"
    expect_bad ".ozwu with --unit-samples" "an .ozwu unit is searched whole" \
        --unit-samples 2^16 "$WORK/units/rec-000001.ozwu"
    expect_bad ".ozwu with --sample-rate" "an .ozwu unit carries its own sample rate" \
        --sample-rate $FS "$WORK/units/rec-000001.ozwu"
fi
head -c 4096 /dev/zero >"$WORK/plain.bin"
expect_bad "neither SigMF nor .ozwu, no --sample-rate" \
    "plain.bin: neither a SigMF recording (no .sigmf-meta beside it) nor an .ozwu unit; for headerless samples --sample-rate is required" \
    "$WORK/plain.bin"
expect_bad "missing recording" "nothere: No such file or directory" "$WORK/nothere"
expect_bad "SigMF with --sample-rate" "drop --sample-rate" --sample-rate $FS "$REC.sigmf-meta"
expect_bad "--center-freq without --sample-rate" "give --sample-rate too" \
    --center-freq 1e9 "${CFG[@]}" "$REC"
expect_bad "--format without --sample-rate" "give --sample-rate too" --format ci8 "$REC"
expect_bad "bad --format" "--format: \"cu8\" is not ci8, ci16 or cf32" \
    --sample-rate $FS --format cu8 "$WORK/plain.bin"
expect_bad "bad --datetime" "--datetime:" --sample-rate $FS --datetime yesterday "$WORK/plain.bin"
head -c 4097 /dev/zero >"$WORK/odd.ci16"
expect_bad "odd ci16 file" "odd.ci16: 4097 bytes is not a whole number of complex int16 samples (4 bytes each)" \
    --sample-rate $FS --format ci16 "$WORK/odd.ci16"
expect_bad "--unit-samples not a power of two" "--unit-samples 3000 must be a power of two" \
    --unit-samples 3000 "$REC"
expect_bad "--unit-samples not a number" "--unit-samples \"lots\" is not a number" \
    --unit-samples lots "$REC"
expect_bad "--overlap out of range" "--overlap: 0.9 is not a fraction from 0 to 0.75" \
    --overlap 0.9 "$REC"
expect_bad "units shorter than fft_max" \
    "units of 1024 samples are shorter than fft_max 4096 (raise --unit-samples or lower --fft-max)" \
    --unit-samples 2^10 "${CFG[@]}" "$REC"
# a recording of at most one unit is searched whole, so fft_max must fit in it
"$SYNTH" --out "$WORK/short" --samples 2^14 --spike f=100,snr=0.1
expect_bad "recording shorter than fft_max" "short: fft_max 32768 is larger than the file's 16384 samples" \
    "${CFG[@]}" --fft-max 32768 "$WORK/short"
expect_bad "bad analysis flag value" "--spike-thresh lots" --spike-thresh lots "${CFG[@]}" "$REC"
expect_bad "unknown analysis flag" "unknown option '--spike-thresold'" \
    --spike-thresold 30 "${CFG[@]}" "$REC"

if [[ $FAILURES -ne 0 ]]; then
    echo "$FAILURES check(s) failed" >&2
    exit 1
fi
echo "all checks passed"

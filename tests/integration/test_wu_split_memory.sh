#!/usr/bin/env bash
# test_wu_split_memory.sh - a recording far larger than a memory bound splits in
# flat memory.
#
# Usage: test_wu_split_memory.sh BINDIR   (the directory holding ozma-split)
#
# Builds two SigMF ci8 recordings of zeros as sparse files (no disk, instant):
# 2 MiB and 256 MiB.  Splits each into default 2^20-sample units and
# measures the peak resident memory of the ozma-split process (python3's
# resource.getrusage of its child).  The big recording is 16 times the
# 16 MiB bound; its peak may exceed the small one's by at most that bound.
set -euo pipefail

BINDIR=${1:?usage: $0 BINDIR}
SPLIT="$BINDIR/ozma-split"
[[ -x "$SPLIT" ]] || { echo "FAIL: $SPLIT is not an executable" >&2; exit 1; }

# Units go to memory when /dev/shm is there: the test is about RSS, not disks.
if [[ -d /dev/shm && -w /dev/shm ]]; then WORK=$(mktemp -d -p /dev/shm); else WORK=$(mktemp -d); fi
trap 'rm -rf "$WORK"' EXIT

make_recording() { # STEM BYTES
    cat >"$1.sigmf-meta" <<'EOF'
{"global": {"core:datatype": "ci8", "core:version": "1.0.0", "core:sample_rate": 9765.625},
 "captures": [{"core:sample_start": 0, "core:frequency": 1420e6}], "annotations": []}
EOF
    truncate -s "$2" "$1.sigmf-data"
}

peak_kib() { # RECORDING OUTDIR -> peak RSS of ozma-split in KiB
    python3 - "$SPLIT" "$1" "$2" <<'EOF'
import resource, subprocess, sys
split, rec, out = sys.argv[1:4]
subprocess.run([split, rec, "--out", out, "-q"], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
}

make_recording "$WORK/small" $((2 << 20))
make_recording "$WORK/big" $((256 << 20))
small=$(peak_kib "$WORK/small" "$WORK/small-units")
rm -rf "$WORK/small-units"
big=$(peak_kib "$WORK/big" "$WORK/big-units")
units=$(ls "$WORK/big-units" | grep -c '\.ozwu$')
rm -rf "$WORK/big-units"
echo "peak RSS: ${small} KiB for 2 MiB, ${big} KiB for 256 MiB ($units units)"
if (( big - small > 16 * 1024 )); then
    echo "FAIL: peak memory grew by $(( (big - small) / 1024 )) MiB with the recording's size" >&2
    exit 1
fi
if (( units != 147 )); then
    echo "FAIL: expected 147 units of 2^20 samples, got $units" >&2
    exit 1
fi
echo "ok: flat memory"

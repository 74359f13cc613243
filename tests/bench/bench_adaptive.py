#!/usr/bin/env python3
"""bench_adaptive.py - adaptive replication at the scale of issue 18.

   python3 tests/bench/bench_adaptive.py build/release/bin [UNITS [DAILY_QUOTA]]

The simulation of tests/integration/sched_adaptive.py (a real ozma-server on
loopback, real canaries and spot checks): 30 honest hosts and 3 cheaters (a
fabricator from the start, a turncoat after 50 valid results, a lazy host
returning empty results for 20 % of units; fabricator and turncoat collude,
returning identical fabrications) on an adaptive dataset of UNITS (default
600) small units, adaptive_trust_after 10, replication floor 5 %, canaries on
5 % of units.  With the default daily_result_quota (100) each bad result halves
its host's quota and the cheaters soon get almost nothing; DAILY_QUOTA 1000000
keeps them working, to count how many of many bad results are caught.  Prints replicas per validated unit (all, and for the units
validated once every honest host was trusted; target <= 1.15), the fraction
of bad results caught (target >= 99 %), and the spot checks' server CPU per
unit; then bench_sched_spot's measure of a check's CPU against the whole
search of a unit, for these units and larger ones (target <= 1 %).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import sched_adaptive as A  # noqa: E402
import sched_flow as F  # noqa: E402


def main():
    units = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    quota = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    sys.argv[2:] = []
    tmp = tempfile.mkdtemp(prefix="oz-bench-adaptive-")
    fig = A.simulation(tmp, units=units, trust_after=10, turn_after=50, cheat_rate=3, timeout=900,
                       quota=quota)
    print()
    print("units validated:                        %d" % fig["units"])
    print("results returned:                       %d" % fig["results"])
    print("replicas per validated unit, all:       %.3f" % fig["replicas_per_validated"])
    late = fig["replicas_per_validated_once_trusted"]
    print("  ... once honest hosts are trusted:    %s" % ("%.3f" % late if late else "n/a"))
    print("bad results caught:                     %d of %d (%.1f %%)"
          % (fig["bad_caught"], fig["bad_results"],
             100.0 * fig["bad_caught"] / max(1, fig["bad_results"])))
    print("spot checks:                            %d (%d failed)"
          % (fig["spot_checks"], fig["spot_failed"]))
    print("server CPU per spot check:              %.2f ms (the unit's kernel time: %.2f ms)"
          % (1e3 * fig["spot_cpu_per_check_s"], 1e3 * fig["unit_cpu_s"]))
    print("canaries found / missed:                %d / %d"
          % (fig["canaries_found"], fig["canaries_missed"]))
    print("simulated in                            %.1f s" % fig["elapsed_s"])
    print(json.dumps(fig))
    print()
    subprocess.run([os.path.join(F.BIN, "..", "tests", "bench_sched_spot")], check=False)
    subprocess.run(["rm", "-rf", tmp])
    sys.exit(1 if F.FAILURES else 0)


if __name__ == "__main__":
    main()

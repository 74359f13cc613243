#!/usr/bin/env python3
"""sched_adaptive.py - adaptive replication with known-answer checks (issue 18)
over real HTTP on loopback, against a real `ozma-server serve`.

Run by test_sched_adaptive.sh (scenarios "canary" and "simulation", small) and
by tests/bench/bench_adaptive.py (the simulation at the issue's scale).  Hosts
are played with urllib; an honest host's result is the real kernel's
(ozma-search, computed once per unit before the server starts, reused by every
honest host), a cheater's is made from it.  The server's canaries and spot
checks are real.

  canary      every unit of an adaptive dataset carries a hidden canary.
              Honest hosts become trusted and run units alone; a host that
              turns cheat once trusted has its first fabricated result (a
              unit out alone) invalidated for the missing canary: its trust
              resets, its quota halves, the unit is replicated and validated
              on honest results.  No canary signal reaches the signal table,
              /api/v1/signals or the pages; what is assimilated is the honest
              result less the canary.  A result edited in one signal fails its
              spot check (replicas.spot = 2) and is invalid.
  simulation  30 honest hosts and 3 cheaters (a fabricator from the start, a
              turncoat after T valid results, a lazy host returning empty
              results for 20 % of units; fabricator and turncoat collude:
              identical fabrications, every signal moved by 137 Hz) on an
              adaptive dataset of several hundred small units.  No fabricated
              result becomes canonical, every bad result is invalid (each
              cheater loses its trust at its first bad result: the bound is
              one), honest hosts end trusted, and the replication factor once
              they are trusted is reported (and bounded).  The test runs 300
              units with adaptive_trust_after 5 and the turncoat turning after
              20; tests/bench/bench_adaptive.py runs 600 with 10 and 50.
"""
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_flow as F  # noqa: E402  (argv[1]: the binaries' folder)

MOVE_HZ = 137.0


def project(tmp, name, cfg_over, units, unit_samples="2^13", chirp_max="500"):
    """A project with an adaptive dataset of about `units` units whose plans
    have a few hundred chirp steps (fft_max 2048, so a spot check is a small
    share of a unit); its honest results, computed with ozma-search."""
    d = os.path.join(tmp, name)
    subprocess.run([F.SERVER, "init", d], check=True, capture_output=True)
    with open(os.path.join(d, "project.json")) as f:
        cfg = json.load(f)
    cfg.update({"job_tick_s": 0.1, "rate_per_host": 1000, "rate_burst": 10000})
    cfg.update(cfg_over)
    with open(os.path.join(d, "project.json"), "w") as f:
        json.dump(cfg, f)
    rec = os.path.join(tmp, name + "-rec")
    samples = units * 7168 + 1024
    subprocess.run([F.SYNTH, "--out", rec, "--samples", str(samples), "--datatype", "ci16_le",
                    "--seed", "11", "--spike", "f=1000.5,drift=0.5,snr=0.05",
                    "--spike", "f=-2000.25,drift=-3,snr=0.05",
                    "--spike", "f=-4000,drift=3,snr=0.08"], check=True, capture_output=True)
    subprocess.run([F.SERVER, "load", d, rec, "--name", name, "--unit-samples", unit_samples,
                    "--fft-max", "2048", "--chirp-max", chirp_max, "--line-pfa", "0",
                    "--adaptive", "--quiet"], check=True, capture_output=True)
    return d, honest_results(d)


def search(path):
    out = subprocess.run([F.SEARCH, "--quiet", path], check=True, capture_output=True).stdout
    r = json.loads(out)
    r.pop("start_utc", None)
    for s in r["signals"]:
        s.pop("time_utc", None)
    for s in r["best"].values():
        s.pop("time_utc", None)
    return r


def honest_results(d):
    """{unit name: (kernel result, unit sha256, cpu_s)} for every unit."""
    rows = F.db(d, "SELECT name, file, hex(sha256) FROM units")
    paths = [os.path.join(d, "units", f) for _, f, _ in rows]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(search, paths))
    return {name: (r, sha.lower()) for (name, _, sha), r in zip(rows, results)}


def result_file(a, kernel):
    return {"version": 1, "unit_id": a["unit_id"], "unit_sha256": a["sha256"], "result": kernel}


def moved(kernel):
    r = json.loads(json.dumps(kernel))
    for s in r["signals"]:
        s["freq_hz"] += MOVE_HZ
    for s in r["best"].values():
        s["freq_hz"] += MOVE_HZ
    return r


def emptied(kernel):
    """A result computed by no one: no signals, counts to match (the best
    of each type kept, as favourable to the cheater as can be)."""
    r = json.loads(json.dumps(kernel))
    r["signals"] = []
    r["counts"] = {k: 0 for k in r["counts"]}
    return r


class Sim:
    """Hosts asking for one unit at a time and returning at once."""

    def __init__(self, srv, honest):
        self.srv = srv
        self.honest = honest
        self.returned = {}  # replica id -> (host name, "honest" | "moved" | "empty")

    def visit(self, host, kind_of):
        """host asks for one unit and returns a result made by kind_of(host,
        assignment) ("honest", "moved" or "empty"); False when none came."""
        got = host.ask(seconds=1e-6)
        for a in got:
            kind = kind_of(host, a)
            kernel = self.honest[a["unit_id"]][0]
            body = {"honest": kernel, "moved": moved(kernel), "empty": emptied(kernel)}[kind]
            st, r = host.upload(a, result_file(a, body))
            F.check(st == 200, "%s's result is accepted (%s)" % (host.name, st)) or print(r)
            self.returned[a["replica_id"]] = (host.name, kind)
        return bool(got)


def trust(d, host_id):
    return dict(zip(("consecutive_valid", "n_valid", "n_invalid", "n_error", "quota_halvings"),
                    F.db(d, "SELECT consecutive_valid, n_valid, n_invalid, n_error, quota_halvings"
                         " FROM hosts WHERE id = ?", (host_id,))[0]))


def named_host(srv, name):
    h = F.Host(srv, name)
    h.name = name
    return h


def settle(d, what, timeout=60):
    """Waits until the validator has judged every result and no unit waits
    for work besides unsent replicas."""
    return F.wait_for(what, lambda: F.db(d, "SELECT count(*) FROM units WHERE need_validate = 1"
                                         " OR need_transition = 1")[0][0] == 0, timeout)


def unit_done(d):
    """Every unit over (validated or, wrongly, in error)."""
    return F.db(d, "SELECT count(*) = sum(state != 0) FROM units")[0][0] == 1


# ---- canary ---------------------------------------------------------------------------------------

def canary_track_hit(truth, s, center, fs, any_length):
    L = s["fft_len"]
    want = center + truth["offset_hz"] + truth["chirp_hz_s"] * s["time_s"]
    tol = 2 * fs / L + abs(truth["chirp_hz_s"]) * L / fs + 0.1665 * fs / L
    return abs(s["freq_hz"] - want) <= tol and (any_length or L * 4 >= 2048)


def scenario_canary(tmp):
    d, honest = project(tmp, "canary", {"canary_fraction": 1.0, "adaptive_trust_after": 3,
                                        "adaptive_replicate_floor": 0.0}, units=40)
    srv = F.Server(d)
    try:
        sim = Sim(srv, honest)
        hosts = [named_host(srv, "honest%d" % i) for i in range(4)]
        turn = named_host(srv, "turncoat")
        # Honest work until every honest host and the turncoat are trusted.
        for _ in range(12):
            if min(trust(d, h.host_id)["consecutive_valid"] for h in hosts + [turn]) >= 3:
                break
            for h in hosts + [turn]:
                sim.visit(h, lambda h, a: "honest")
            settle(d, "verdicts")
        for h in hosts + [turn]:
            t = trust(d, h.host_id)
            F.check(t["consecutive_valid"] >= 3 and t["n_invalid"] == 0,
                    "%s is trusted after honest work (%s)" % (h.name, t))
        alone = F.db(d, "SELECT count(*) FROM units WHERE single = 1")[0][0]
        F.check(alone > 0, "trusted hosts run units alone (%d units)" % alone)
        credits = F.db(d, "SELECT r.credit, u.flops FROM units u JOIN replicas r"
                       " ON r.id = u.canonical WHERE u.single = 1")
        F.check(credits and all(abs(c - F.credit_formula(f)) < 1e-9 * max(1, c) for c, f in credits),
                "a unit validated alone earns its host the usual credit (%d units)" % len(credits))
        # The turncoat cheats on its next unit, which goes out alone.
        got = turn.ask(seconds=1e-6)
        F.check(len(got) == 1, "the trusted turncoat gets a unit")
        a = got[0]
        uid = F.db(d, "SELECT id FROM units WHERE name = ?", (a["unit_id"],))[0][0]
        single = F.db(d, "SELECT single FROM units WHERE id = ?", (uid,))[0][0]
        F.check(single == 1, "its unit went out alone")
        q_before = trust(d, turn.host_id)["quota_halvings"]
        st, _ = turn.upload(a, result_file(a, moved(honest[a["unit_id"]][0])))
        settle(d, "the fabrication's verdict")
        vs, spot = F.db(d, "SELECT validate_state, spot FROM replicas WHERE id = ?",
                        (a["replica_id"],))[0]
        F.check(vs == 2, "the fabricated single result is invalid")
        missed = F.db(d, "SELECT missed FROM canaries WHERE unit_id = ?", (uid,))[0][0]
        F.check(missed == 1, "for missing its canary (missed %d; spot check %d)" % (missed, spot))
        t = trust(d, turn.host_id)
        F.check(t["consecutive_valid"] == 0 and t["n_invalid"] == 1
                and t["quota_halvings"] == q_before + 1,
                "the turncoat's trust is reset and its quota halved (%s)" % t)
        row = F.db(d, "SELECT single, target FROM units WHERE id = ?", (uid,))[0]
        F.check(row == (2, 2), "the unit is replicated for good (single, target = %s)" % (row,))
        # Honest hosts finish everything, the replicated unit included.
        for _ in range(40):
            if unit_done(d):
                break
            busy = False
            for h in hosts:
                busy |= sim.visit(h, lambda h, a: "honest")
            settle(d, "verdicts")
            if not busy:
                time.sleep(0.2)
        F.check(F.db(d, "SELECT count(*) FROM units WHERE state != 1")[0][0] == 0,
                "every unit is validated")
        canon = F.db(d, "SELECT r.host_id FROM units u JOIN replicas r ON r.id = u.canonical"
                     " WHERE u.id = ?", (uid,))[0][0]
        F.check(canon != turn.host_id, "the fabricated unit's canonical result is an honest one")
        F.wait_for("assimilation", lambda: F.db(d, "SELECT count(*) FROM units WHERE assimilated"
                                                " = 0")[0][0] == 0)
        st, status = F.call(srv.url + "/api/v1/status")
        ad = status.get("adaptive", {})
        F.check(ad.get("canaries_missed") == 1 and ad.get("canaries_found", 0) > 0
                and ad.get("trusted_hosts") == 4 and 1.0 <= ad.get("replicas_per_validated", 0) < 2,
                "/api/v1/status shows the replication factor, trusted hosts and canaries (%s)" % ad)
        st, metrics = F.call(srv.url + "/metrics")
        text = metrics.decode()
        F.check('ozma_canary_results_total{outcome="missed"} 1' in text
                and "ozma_hosts_trusted 4" in text and "ozma_replicas_per_validated_unit" in text
                and 'ozma_spot_checks_total{outcome="failed"} 1' in text,
                "/metrics shows them too")
        check_canaries_hidden(d, srv, honest)
        check_spot_edit(d, srv, tmp)
        # the seti mode's search cannot be spot-checked: never adaptive
        r = subprocess.run([F.SERVER, "load", d, os.path.join(tmp, "canary-rec"), "--name",
                            "seti", "--unit-samples", "2^13", "--mode", "seti", "--adaptive",
                            "--quiet"], capture_output=True)
        F.check(r.returncode == 2 and b"seti mode" in r.stderr,
                "--adaptive is refused for a seti-mode dataset (%d %s)" % (r.returncode, r.stderr))
        F.check(srv.stop() == 0, "the server stops cleanly")
    finally:
        if srv.proc.poll() is None:
            srv.kill9()


def check_canaries_hidden(d, srv, honest):
    fs, center = F.db(d, "SELECT sample_rate, center_hz FROM datasets")[0]
    truths = {name: json.loads(t) for name, t in
              F.db(d, "SELECT u.name, c.truth FROM canaries c JOIN units u ON u.id = c.unit_id")}
    bad = wrong = 0
    for name, truth in truths.items():
        rows = F.db(d, "SELECT s.freq_hz, s.time_s - u.start_s, s.fft_len FROM signals s"
                    " JOIN units u ON u.id = s.unit_id WHERE u.name = ?", (name,))
        stored = sorted(round(f, 3) for f, _, _ in rows)
        for f, t, L in rows:
            bad += canary_track_hit(truth, {"freq_hz": f, "time_s": t, "fft_len": L}, center, fs,
                                    True)
        kernel = honest[name][0]
        want = sorted(round(s["freq_hz"], 3) for s in kernel["signals"]
                      if not canary_track_hit(truth, s, center, fs, True))
        wrong += stored != want
    F.check(bad == 0, "no canary signal is in the signal table (%d found)" % bad)
    F.check(wrong == 0, "each unit's assimilated signals are its honest result less the canary "
            "(%d of %d differ)" % (wrong, len(truths)))
    st, sig = F.call(srv.url + "/api/v1/signals?limit=500")
    start = dict(F.db(d, "SELECT name, start_s FROM units"))
    near = sum(canary_track_hit(truths[s["unit_id"]], dict(s, time_s=s["time_s"] -
                                                           start[s["unit_id"]]), center, fs, True)
               for s in sig["signals"] if s["unit_id"] in truths)
    F.check(st == 200 and len(sig["signals"]) > 0 and near == 0,
            "/api/v1/signals shows no signal on its unit's canary track (%d of %d)"
            % (near, len(sig["signals"])))
    for path in ("/", "/signals", "/status", "/api/v1/status", "/api/v1/datasets",
                 "/api/v1/signals", "/api/v1/hosts", "/metrics"):
        st, body = F.call(srv.url + path)
        text = body.decode() if isinstance(body, bytes) else json.dumps(body)
        leak = [w for w in ("truth", "offset_hz", "single") if w in text]
        F.check(st == 200 and not leak, "%s names no canary or unit marker (%s)" % (path, leak))


def check_spot_edit(d, srv, tmp):
    """A dataset without canaries: a result with one signal moved fails its
    spot check."""
    d2, honest = project(tmp, "spotedit", {"canary_fraction": 0.0}, units=6)
    s2 = F.Server(d2)
    try:
        a_host, b_host = named_host(s2, "alice"), named_host(s2, "bob")
        got = a_host.ask(seconds=1e-6)
        a = got[0]
        kernel = json.loads(json.dumps(honest[a["unit_id"]][0]))
        claims = [s for s in kernel["signals"] if s["type"] in ("spike", "gaussian", "pulse",
                                                                "triplet")]
        F.check(len(claims) > 0, "the unit has signals to edit")
        for s in kernel["signals"]:  # every claim moved: whichever step is drawn sees it
            s["freq_hz"] += 40.0
        a_host.upload(a, result_file(a, kernel))
        got_b = b_host.ask(seconds=1e-6)
        b = [x for x in got_b if x["unit_id"] == a["unit_id"]] or got_b
        b_host.upload(b[0], result_file(b[0], honest[b[0]["unit_id"]][0]))
        settle(d2, "the edited result's verdict")
        vs, spot = F.db(d2, "SELECT validate_state, spot FROM replicas WHERE id = ?",
                        (a["replica_id"],))[0]
        F.check(spot == 2 and vs == 2, "an edited result fails its spot check and is invalid "
                "(spot %d, state %d)" % (spot, vs))
        ok = F.db(d2, "SELECT spot FROM replicas WHERE id = ?", (b[0]["replica_id"],))[0][0]
        F.check(ok == 1, "the honest result passes its spot check")
        s2.stop()
    finally:
        if s2.proc.poll() is None:
            s2.kill9()


# ---- simulation -----------------------------------------------------------------------------------

def simulation(tmp, units, trust_after, turn_after, cheat_rate, seed=1, timeout=300, quota=100):
    """Returns the figures; checks the issue's assertions as it goes."""
    rng = random.Random(seed)
    d, honest = project(tmp, "sim", {"adaptive_trust_after": trust_after,
                                     "adaptive_replicate_floor": 0.05,
                                     "canary_fraction": 0.05, "daily_result_quota": quota},
                      units=units)
    unit_cpu = sum(r[0]["cpu_s"] for r in honest.values()) / len(honest)
    srv = F.Server(d)
    try:
        sim = Sim(srv, honest)
        good = [named_host(srv, "honest%02d" % i) for i in range(30)]
        fab, turn, lazy = (named_host(srv, n) for n in ("fabricator", "turncoat", "lazy"))
        cheaters = [fab, turn, lazy]
        valid_seen = {turn.host_id: 0}
        lazy_draw = {}

        def kind_of(h, a):
            if h is fab:
                return "moved"
            if h is turn:  # honest until it has turn_after valid results
                n = F.db(d, "SELECT n_valid FROM hosts WHERE id = ?", (turn.host_id,))[0][0]
                valid_seen[turn.host_id] = n
                return "moved" if n >= turn_after else "honest"
            if h is lazy:
                lazy_draw[a["replica_id"]] = rng.random() < 0.2
                return "empty" if lazy_draw[a["replica_id"]] else "honest"
            return "honest"

        t0 = time.time()
        trusted_at = None  # replicas made when every honest host was trusted
        while not unit_done(d) and time.time() - t0 < timeout:
            order = good + cheaters * cheat_rate  # cheaters fake fast: several units a round
            rng.shuffle(order)
            busy = False
            for h in order:
                busy |= sim.visit(h, kind_of)
            settle(d, "verdicts")
            if trusted_at is None and F.db(d, "SELECT min(consecutive_valid) FROM hosts"
                                           " WHERE name LIKE 'honest%'")[0][0] >= trust_after:
                trusted_at = (F.db(d, "SELECT count(*) FROM units WHERE state = 1")[0][0],
                              F.db(d, "SELECT count(*) FROM replicas WHERE outcome = 1")[0][0])
            if not busy:
                time.sleep(0.1)
        elapsed = time.time() - t0
        errors = F.db(d, "SELECT count(*) FROM units WHERE state != 1")[0][0]
        F.check(errors == 0, "every unit is validated (%.0f s; %d not)" % (elapsed, errors))
        # Which returned results were bad: differing from the honest one.
        rows = F.db(d, "SELECT r.id, r.validate_state, u.name, u.canonical = r.id, r.spot"
                    " FROM replicas r JOIN units u ON u.id = r.unit_id WHERE r.outcome = 1")
        bad = caught = bad_canonical = 0
        by_host = {}
        for rid, vs, uname, is_canon, spot in rows:
            host, kind = sim.returned.get(rid, ("?", "honest"))
            kernel = honest[uname][0]
            is_bad = kind != "honest" and len(kernel["signals"]) > 0
            if is_bad:
                bad += 1
                caught += vs == 2
                bad_canonical += is_canon == 1
                by_host.setdefault(host, []).append(vs)
        F.check(bad_canonical == 0, "no fabricated result becomes canonical (%d of %d bad)"
                % (bad_canonical, bad))
        F.check(bad > 0 and caught == bad, "every bad result is invalid (%d of %d)" % (caught, bad))
        for h in cheaters:
            t = trust(d, h.host_id)
            F.check(h.name in by_host and t["n_invalid"] >= len(by_host[h.name])
                    and all(v == 2 for v in by_host[h.name]),
                    "%s loses its trust at each bad result (%s, verdicts %s)"
                    % (h.name, t, by_host.get(h.name)))
        F.check("turncoat" in by_host, "the turncoat turned (after %d valid results)"
                % valid_seen[turn.host_id])
        honest_trust = [trust(d, h.host_id) for h in good]
        F.check(all(t["consecutive_valid"] >= trust_after and t["n_invalid"] == 0
                    for t in honest_trust),
                "every honest host ends trusted with no invalid result (least %d in a row)"
                % min(t["consecutive_valid"] for t in honest_trust))
        validated = F.db(d, "SELECT count(*) FROM units WHERE state = 1")[0][0]
        results = F.db(d, "SELECT count(*) FROM replicas WHERE outcome = 1")[0][0]
        factor_all = results / validated
        factor_late = None
        if trusted_at and validated > trusted_at[0]:
            factor_late = (results - trusted_at[1]) / (validated - trusted_at[0])
        passed, failed, cpu = F.db(d, "SELECT passed, failed, cpu_s FROM spot_stats")[0]
        found, missed = F.db(d, "SELECT sum(found), sum(missed) FROM canaries")[0]
        F.check(srv.stop() == 0, "the server stops cleanly")
        return {"units": validated, "results": results, "replicas_per_validated": factor_all,
                "replicas_per_validated_once_trusted": factor_late, "bad_results": bad,
                "bad_caught": caught, "spot_checks": passed + failed, "spot_failed": failed,
                "spot_cpu_per_check_s": cpu / max(1, passed + failed),
                "unit_cpu_s": unit_cpu,
                "spot_share_of_unit_cpu": cpu / max(1, passed + failed) / unit_cpu,
                "canaries_found": found or 0, "canaries_missed": missed or 0,
                "elapsed_s": elapsed}
    finally:
        if srv.proc.poll() is None:
            srv.kill9()


def scenario_simulation(tmp):
    fig = simulation(tmp, units=300, trust_after=5, turn_after=20, cheat_rate=3)
    print("figures:", json.dumps(fig))
    late = fig["replicas_per_validated_once_trusted"]
    F.check(late is not None and late <= 1.3,
            "replicas per validated unit once hosts are trusted: %.3f" % (late or 0))


def main():
    tmp = tempfile.mkdtemp(prefix="oz-adaptive-")
    scenarios = {"canary": scenario_canary, "simulation": scenario_simulation}
    for name in F.ONLY or list(scenarios):
        print("== scenario", name)
        scenarios[name](tmp)
    F.finish(tmp, "all adaptive replication checks passed")


if __name__ == "__main__":
    main()

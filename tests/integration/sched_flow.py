#!/usr/bin/env python3
"""sched_flow.py - the scheduler's life cycle, end to end, over real HTTP.

Run by test_sched_flow.sh with the folder holding ozma-server, ozma-synth and
ozma-search.  Every scenario makes its own project, loads a small synthetic
recording with injected signals, starts a real `ozma-server serve` on a free
loopback port, and plays volunteer hosts with urllib: they ask for work,
download units (checking the SHA-256), compute real results with ozma-search
(or fabricate them, for the cheaters), and upload them.  Scenarios:

  honest     two accounts complete a dataset with quorum 2: every unit gets
             two replicas on different accounts, validates, the signals
             table holds the injected signals, both accounts get the same
             credit and it equals the FLOP-based formula.
  timeout    a silent host's replica passes its deadline and is reissued to
             another host.
  cheating   a host that moves, drops or invents a signal never becomes
             canonical, is marked invalid, earns nothing; the units complete
             through an extra replica.
  errors     a unit whose replicas keep failing ends in error after
             max_error_results, with its reason.
  crash      kill -9 the server straight after uploads were acknowledged,
             restart: no accepted result is lost, none counted twice, and
             PRAGMA integrity_check is ok.
  hoarding   a host claiming 1,024 CPUs on a fresh account (issue 21, hole
             2) gets a bounded number of replicas, and more only as it
             returns results; an account registers a bounded number of
             hosts a day.
  resend     a work reply lost after its commit (issue 21, hole 3): the host
             asks again listing the replicas it holds ("held") and is sent
             the lost ones again, its in-progress count unchanged; a host
             that lists nothing is served as before.
  badfile    a unit file corrupted on the server after its load (issue 21,
             hole 8): a host's report that its download does not verify
             makes the server hash its copy, mark the unit (file_bad), stop
             sending it and say so to the operator (error log line, status,
             /api/v1/server); the host is not blamed; a file that checks
             out is not marked; once the operator puts the file right (cut
             again with ozma-split) `ozma-server verify` clears the mark and
             the unit goes out again.
  busy       one HTTP thread serves 16 hosts asking at once: a work
             request waiting for the database (its write lock held by
             another process) does not hold the thread, which answers a
             status request meanwhile; each replica goes out once, results
             returned together in work requests are all accepted and
             validated; SIGTERM with requests in flight answers them and
             exits 0, also with no drain time while they wait for the lock.
"""
import glob
import hashlib
import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import testdb

BIN = sys.argv[1]
ONLY = sys.argv[2:]  # scenario names to run (default: all)
SERVER = os.path.join(BIN, "ozma-server")
SEARCH = os.path.join(BIN, "ozma-search")
SYNTH = os.path.join(BIN, "ozma-synth")
SPLIT = os.path.join(BIN, "ozma-split")
FS = 9765.625
F0 = 1420e6
FAILURES = []


def check(cond, what):
    if cond:
        print("ok:", what)
    else:
        print("FAIL:", what, file=sys.stderr)
        FAILURES.append(what)
    return cond


class Server:
    """A real ozma-server serve on a free port, with more serve arguments
    args and its stderr in the project's file log; stop() or kill9()."""

    def __init__(self, project, args=(), log="serve.log"):
        self.project = project
        self.args = list(args)
        self.log = log
        self.start()

    def start(self):
        self.err = open(os.path.join(self.project, self.log), "ab")
        self.proc = subprocess.Popen(
            [SERVER, "serve", self.project, "--port", "0"] + self.args,
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        line = self.proc.stderr.readline().decode()
        self.err.write(line.encode())
        if "http://" not in line:  # it may be running, having logged an error first
            self.proc.kill()
            self.proc.wait()
            raise SystemExit("server did not start: " + line)
        self.url = line.split("on ", 1)[1].strip().rstrip("/")
        # Keep its stderr flowing into the log.
        self.pump = subprocess.Popen(["cat"], stdin=self.proc.stderr, stdout=self.err)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.pump.wait(timeout=5)
        return rc

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)
        self.pump.wait(timeout=5)


def call(url, method="GET", body=None, key=None, raw=None):
    """(status, parsed JSON or bytes)."""
    status, payload, _ = call_headers(url, method, body, key, raw)
    return status, payload


def call_headers(url, method="GET", body=None, key=None, raw=None, timeout=60):
    """(status, parsed JSON or bytes, the answer's headers); no answer
    raises OSError."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            payload, status, headers = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        payload, status, headers = e.read(), e.code, e.headers
    try:
        return status, json.loads(payload), headers
    except ValueError:
        return status, payload, headers


class Host:
    """One volunteer host under its own account (or a given one)."""

    def __init__(self, srv, name, account_key=None, ncpus=1):
        self.srv = srv
        if account_key is None:
            st, r = call(srv.url + "/api/v1/accounts", "POST", {"name": name})
            assert st == 200, r
            self.account_id, account_key = r["account_id"], r["authenticator"]
        self.account_key = account_key
        st, r = call(srv.url + "/api/v1/hosts", "POST",
                     {"name": name, "os": "Linux", "ncpus": ncpus, "flops": 1e9,
                      "memory_mb": 1024},
                     key=account_key)
        assert st == 200, r
        self.host_id, self.key = r["host_id"], r["host_key"]
        self.work = []

    def ask(self, seconds=86400):
        st, r = call(self.srv.url + "/api/v1/work", "POST", {"want_seconds": seconds}, key=self.key)
        assert st == 200, r
        self.work += r["assignments"]
        return r["assignments"]

    def download(self, a, folder):
        st, data = call(self.srv.url + a["url"])
        assert st == 200 and isinstance(data, bytes), st
        assert len(data) == a["bytes"]
        assert hashlib.sha256(data).hexdigest() == a["sha256"]
        path = os.path.join(folder, "%s-%d.ozwu" % (a["unit_id"], a["replica_id"]))
        with open(path, "wb") as f:
            f.write(data)
        return path

    def compute(self, a, folder):
        """The result file JSON a worker would upload, computed for real."""
        path = self.download(a, folder)
        out = subprocess.run([SEARCH, "--quiet", path], check=True, capture_output=True).stdout
        result = json.loads(out)
        # The kernel's shape only: drop the human conveniences ozma-search adds.
        result.pop("start_utc", None)
        for s in result["signals"]:
            s.pop("time_utc", None)
        for s in result["best"].values():
            s.pop("time_utc", None)
        return {"version": 1, "unit_id": a["unit_id"], "unit_sha256": a["sha256"], "result": result}

    def upload(self, a, result):
        body = json.dumps(result).encode()
        return call(self.srv.url + "/api/v1/replicas/%d/result" % a["replica_id"], "PUT",
                    raw=body, key=self.key)


def init(d, tick_s=0.2):
    """A new project in d with fast jobs for tests (deadlines checked, units
    validated and assimilated every tick_s)."""
    testdb.init(SERVER, d)
    with open(os.path.join(d, "project.json")) as f:
        cfg = json.load(f)
    cfg["job_tick_s"] = tick_s
    with open(os.path.join(d, "project.json"), "w") as f:
        json.dump(cfg, f)


def project(tmp, name, recording, *load_args, unit_samples="2^15"):
    d = os.path.join(tmp, name)
    init(d)
    subprocess.run([SERVER, "load", d, recording, "--name", name, "--unit-samples", unit_samples,
                    "--fft-max", "1024", "--chirp-max", "2", "--quiet"] + list(load_args),
                   check=True, capture_output=True)
    return d


def wait_for(what, cond, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(0.1)
    return check(False, "timed out waiting for " + what)


def status(srv):
    st, r = call(srv.url + "/api/v1/status")
    assert st == 200, r
    return r


def db(project_dir, sql, args=()):
    return testdb.query(project_dir, sql, args)


# Each unit's progress class, computed from scratch; the server keeps these
# counts with triggers (scheduler/store/sqlite.c, schema 4) and must agree at every moment.
CLASS_SQL = """SELECT count(CASE WHEN c = 1 THEN 1 END), count(CASE WHEN c = 2 THEN 1 END),
                      count(CASE WHEN c = 3 THEN 1 END), count(CASE WHEN c = 4 THEN 1 END),
                      count(CASE WHEN c = 5 THEN 1 END), count(*)
  FROM (SELECT CASE WHEN u.state = 1 THEN 1 WHEN u.state = 2 THEN 2
    WHEN EXISTS(SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.outcome = 1) THEN 3
    WHEN EXISTS(SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.state = 1) THEN 4
    ELSE 5 END AS c FROM units u JOIN datasets d ON d.id = u.dataset_id WHERE d.name = ?) x"""


def check_progress(srv, d, name, when):
    """The dataset's progress as served equals a count from scratch.  The two
    are read one after the other while the validator may be moving a unit
    (a result just returned), so a difference must be gone within seconds:
    a counter that is wrong stays wrong."""
    t0 = time.time()
    while True:
        st, r = call(srv.url + "/api/v1/datasets")
        assert st == 200, r
        got = [x for x in r["datasets"] if x["name"] == name]
        want = db(d, CLASS_SQL, (name,))[0]
        have = tuple(got[0][k] for k in ("validated", "error", "validating", "in_progress",
                                         "unsent", "units")) if got else None
        if have == want or time.time() - t0 > 10:
            break
        time.sleep(0.1)
    off = db(d, UNIT_COUNTS_SQL)[0][0]
    check(off == 0, "each unit's counts of running and successful replicas are right %s (%d "
          "wrong)" % (when, off))
    return check(have == want, "dataset progress %s: %s equals the count from scratch %s"
                 % (when, have, want))


# Units whose kept counts of running and successful replicas are wrong.
UNIT_COUNTS_SQL = """SELECT count(*) FROM units u
  WHERE n_running != (SELECT count(*) FROM replicas r WHERE r.unit_id = u.id AND r.state = 1)
     OR n_success != (SELECT count(*) FROM replicas r WHERE r.unit_id = u.id AND r.outcome = 1)"""


SIG_TYPES = ("spike", "gaussian", "pulse", "triplet", "line", "autocorr")
SIG_FIELDS = ("freq_hz", "chirp_hz_s", "time_s", "power", "score", "period_s", "sigma_s", "chisq",
              "start_s", "end_s", "mean_power", "delay_s", "null_chisq", "max_power", "snr",
              "thresh", "len_prof")


def unpack_result(b):
    """A result's packed form (scheduler/result_bin.h) as the JSON's dict
    would hold it, read here independently of the C code."""
    assert b[:4] == b"OZR1", b[:4]
    o = 4

    def text(o):
        n = b[o]
        return b[o + 1:o + 1 + n].decode(), o + 1 + n

    def sig(o):
        t, fft_len, m0, m1, m2 = struct.unpack_from("<BIBBB", b, o)
        mask, o = m0 | m1 << 8 | m2 << 16, o + 8
        g = {"type": SIG_TYPES[t], "fft_len": fft_len}
        for i, k in enumerate(SIG_FIELDS):  # only the doubles that are not zero
            g[k] = 0.0
            if mask >> i & 1:
                g[k], o = struct.unpack_from("<d", b, o)[0], o + 8
        return g, o
    r = {}
    r["unit_id"], o = text(o)
    r["unit_sha256"] = b[o:o + 32].hex()
    r["flops"], r["cpu_s"], r["fft_s"] = struct.unpack_from("<Qdd", b, o + 32)
    r["kernel_version"], o = text(o + 32 + 24)
    r["overflow"] = bool(b[o])
    has, o = b[o + 1:o + 1 + len(SIG_TYPES)], o + 1 + len(SIG_TYPES)
    r["best"] = {}
    for t, name in enumerate(SIG_TYPES):
        if has[t]:
            r["best"][name], o = sig(o)
    n, = struct.unpack_from("<I", b, o)
    o += 4
    r["signals"] = []
    for _ in range(n):
        g, o = sig(o)
        r["signals"].append(g)
    assert o == len(b), "%d bytes left over" % (len(b) - o)
    return r


def check_packed(d, name):
    """Every stored result's packed form says what its JSON says, field for
    field and number for number (the validator and the assimilator read the
    packed form: result_bin.h)."""
    hexed = "encode(result_bin, 'hex')" if testdb.pg() else "hex(result_bin)"
    rows = db(d, "SELECT id, result, %s FROM replicas WHERE result IS NOT NULL"
                 " OR result_bin IS NOT NULL" % hexed)
    bad = []
    for rid, text, packed in rows:
        if text is None or packed is None:
            bad.append((rid, "one without the other"))
            continue
        j, p = json.loads(text), unpack_result(bytes.fromhex(packed))
        def sigs(g):
            return dict(g, **{k: g.get(k, 0.0) for k in SIG_FIELDS})
        res = j["result"]
        want = {"unit_id": j["unit_id"], "unit_sha256": j["unit_sha256"],
                "flops": res["flops"], "cpu_s": res["cpu_s"], "fft_s": res["fft_s"],
                "kernel_version": res["kernel_version"], "overflow": res["overflow"],
                "best": {k: sigs(g) for k, g in res["best"].items()},
                "signals": [sigs(g) for g in res["signals"]]}
        if p != want:
            bad.append((rid, "differs"))
    check(rows and not bad, "%s: each of the %d stored results is packed beside its JSON and says"
          " the same (%s)" % (name, len(rows), bad[:3]))


def undo_migration_13(c):
    """Drops what schema 13 (the data lifecycle) added, on an open connection c."""
    c.execute("DROP INDEX units_purge")
    c.execute("ALTER TABLE units DROP COLUMN purged")
    c.execute("ALTER TABLE datasets DROP COLUMN files_gone")


def undo_migration_14(c):
    """Drops what schema 14 (the persistence links' index by dataset) added,
    on an open connection c: schema 12's index instead."""
    c.execute("DROP INDEX signals_sky")
    c.execute("CREATE INDEX signals_bary ON signals(pixel, freq_bary_hz, dataset_id, candidate_id)"
              " WHERE freq_bary_hz IS NOT NULL")


def undo_migration_15(c):
    """Drops what schema 15 (a .sah unit's own sky track) added, on an open
    connection c."""
    c.execute("ALTER TABLE units DROP COLUMN sky")


def undo_migration_16(c):
    """Puts schema 15's progress counters back on the datasets' rows, with
    the counts dataset_progress gives, and drops what schema 16 (the
    counters' shards) added, on an open connection c.  (Schema 15's own
    triggers are not made again: what calls this drops them.)"""
    cols = ("n_validated", "n_error", "n_validating", "n_running", "n_unsent")
    for col in cols:
        c.execute("ALTER TABLE datasets ADD COLUMN %s INTEGER NOT NULL DEFAULT 0" % col)
    c.execute("UPDATE datasets SET (%s) = (SELECT %s FROM dataset_progress p"
              " WHERE p.dataset_id = datasets.id)" % (", ".join(cols), ", ".join(cols)))
    c.execute("DROP VIEW dataset_progress")
    c.execute("DROP TRIGGER units_count_update")
    c.execute("DROP TABLE dataset_counts")


def undo_migration_17(c):
    """Drops what schema 17 (each result packed beside its JSON) added, on an
    open connection c."""
    c.execute("ALTER TABLE replicas DROP COLUMN result_bin")


def undo_migration_12(c):
    """Drops what schema 12 (candidates) added, on an open connection c."""
    c.execute("DROP TABLE candidates")
    c.execute("DROP TABLE rfi_bins")
    for idx in ("signals_time", "signals_bary", "signals_candidate"):
        c.execute("DROP INDEX " + idx)
    for col in ("ra_deg", "dec_deg", "pixel", "freq_bary_hz", "candidate_id"):
        c.execute("ALTER TABLE signals DROP COLUMN " + col)
    c.execute("ALTER TABLE datasets DROP COLUMN sky")


def downgrade_to_v3(d):
    """Turns a project's database back into schema 3 (no progress counters),
    as a server from before them left it."""
    c = sqlite3.connect(os.path.join(d, "ozma.db"), timeout=30)
    try:
        undo_migration_17(c)
        undo_migration_16(c)
        for t in ("replicas_count_insert", "replicas_count_update", "replicas_count_delete",
                  "units_count_insert", "units_count_update", "units_count_delete"):
            c.execute("DROP TRIGGER IF EXISTS " + t)  # replicas_count_update: gone since v5
        for table, col in (("units", "n_running"), ("units", "n_success"),
                           ("datasets", "n_validated"), ("datasets", "n_error"),
                           ("datasets", "n_validating"), ("datasets", "n_running"),
                           ("datasets", "n_unsent")):
            c.execute("ALTER TABLE %s DROP COLUMN %s" % (table, col))
        c.execute("DROP INDEX teams_name_key")  # migration 6 (test_sched_names.sh tests it)
        c.execute("ALTER TABLE teams DROP COLUMN name_key")
        for col in ("returned", "quota_day", "quota_sent"):  # migration 7
            c.execute("ALTER TABLE hosts DROP COLUMN " + col)
        c.execute("DROP INDEX replicas_host_running")  # migration 8
        c.execute("DROP INDEX units_file_bad")  # migration 9
        for col in ("file_bad", "file_bad_time"):
            c.execute("ALTER TABLE units DROP COLUMN " + col)
        undo_migration_15(c)
        undo_migration_14(c)
        undo_migration_13(c)
        undo_migration_12(c)
        c.execute("DROP TABLE canaries")  # migration 11
        c.execute("DROP TABLE spot_stats")
        c.execute("ALTER TABLE replicas DROP COLUMN spot")
        for col in ("consecutive_valid", "n_valid", "n_invalid", "n_error", "quota_halvings"):
            c.execute("ALTER TABLE hosts DROP COLUMN " + col)
        c.execute("ALTER TABLE datasets DROP COLUMN adaptive")
        c.execute("ALTER TABLE units DROP COLUMN single")
        for col in ("banned", "ban_reason"):  # migration 10
            c.execute("ALTER TABLE hosts DROP COLUMN " + col)
        c.execute("PRAGMA user_version = 3")
        c.commit()
    finally:
        c.close()


def credit_formula(flops):
    return flops / 1e9 / 86400 * 200


def user(srv, account_id):
    st, r = call(srv.url + "/api/v1/users/%d" % account_id)
    assert st == 200, r
    return r


def run_all(host, tmp, results=None):
    """Asks for work until none is left, computing and uploading everything."""
    done = 0
    while True:
        got = host.ask()
        if not got:
            return done
        for a in got:
            r = host.compute(a, tmp)
            st, body = host.upload(a, r)
            assert st == 200, body
            if results is not None:
                results[a["replica_id"]] = r
            done += 1


def scenario_honest(tmp, rec, truth):
    d = project(tmp, "honest", rec)
    srv = Server(d)
    try:
        a, b = Host(srv, "alice"), Host(srv, "bob")
        total = status(srv)["units"]["total"]
        check(total >= 4, "the recording was cut into %d units" % total)
        check_progress(srv, d, "honest", "before any work")
        na = run_all(a, tmp)
        check_progress(srv, d, "honest", "after one account's results")
        nb = run_all(b, tmp)
        check(na == total and nb == total, "each account computed every unit once (%d, %d)" % (na, nb))
        units_a = {w["unit_id"] for w in a.work}
        check(len(units_a) == len(a.work), "no account got two replicas of one unit")
        wait_for("validation", lambda: status(srv)["units"]["validated"] == total)
        wait_for("assimilation", lambda: db(d, "SELECT count(*) FROM units WHERE assimilated = 0") == [(0,)])
        check_progress(srv, d, "honest", "when every unit is validated")
        check_packed(d, "honest")
        flops = sum(w["flops"] for w in a.work)
        ca, cb = user(srv, a.account_id), user(srv, b.account_id)
        check(abs(ca["total_credit"] - cb["total_credit"]) < 1e-9, "both accounts got the same credit")
        check(abs(ca["total_credit"] - credit_formula(flops)) < 1e-6 * credit_formula(flops),
              "credit %.6f equals flops/1e9/86400*200 = %.6f" % (ca["total_credit"], credit_formula(flops)))
        check(ca["recent_credit"] > 0, "recent credit is positive")
        st, sig = call(srv.url + "/api/v1/signals?dataset=honest&limit=500")
        tones = [s for s in sig["signals"] if s["type"] in ("spike", "line")]
        for t in truth["signals"]:
            # The injected track at the time each reported signal was seen,
            # within one bin of the FFT it was seen in.
            hit = [s for s in tones
                   if abs(s["freq_hz"] - (t["freq_hz"] + t["chirp_hz_s"] * (s["time_s"] - t["time_s"])))
                   < FS / s["fft_len"]]
            check(hit, "signals table holds the injected spike at %.3f Hz" % t["freq_hz"])
        check(all(s["time_utc"] for s in sig["signals"]), "signals carry their UTC time")
        check(srv.stop() == 0, "SIGTERM stops the server with status 0")
    finally:
        if srv.proc.poll() is None:
            srv.kill9()


def scenario_timeout(tmp, rec, truth):
    d = project(tmp, "timeout", rec, "--deadline", "2s")
    srv = Server(d)
    try:
        silent, b, c = Host(srv, "silent"), Host(srv, "bob"), Host(srv, "carol")
        got = silent.ask(seconds=0.001)
        check(len(got) == 1, "the silent host got one unit")
        check_progress(srv, d, "timeout", "with one replica out")
        unit = got[0]["unit_id"]
        # Bob takes everything else; the silent host's replica is still out.
        run_all(b, tmp)
        first = c.ask()
        check(all(a["unit_id"] != unit for a in first),
              "before the deadline the silent host's unit is not sent again")
        for a in first:
            st, body = c.upload(a, c.compute(a, tmp))
            assert st == 200, body
        # After the deadline the transitioner reissues it.
        def reissued():
            return any(a["unit_id"] == unit for a in c.ask())
        check(wait_for("the reissue", reissued, timeout=30), "the late replica of %s was reissued to another host" % unit)
        rows = db(d, "SELECT outcome FROM replicas WHERE host_id = ?", (silent.host_id,))
        check(rows == [(3,)], "the silent host's replica is over with outcome NO_REPLY")
        check_progress(srv, d, "timeout", "after a timeout and a reissue")
        # The silent host wakes up and returns its result after all: taken
        # (a late result is checked like any other), and counted once.
        st, body = silent.upload(got[0], silent.compute(got[0], tmp))
        check(st == 200, "the silent host's late result is taken (%s)" % st)
        check_progress(srv, d, "timeout", "after the late result")
    finally:
        srv.kill9()


def fabricate(result, how):
    r = json.loads(json.dumps(result))
    sigs = r["result"]["signals"]
    if how == "moved" and sigs:
        sigs[0]["freq_hz"] += 37.0
    elif how == "dropped" and sigs:
        sigs.pop(0)
    else:
        fake = dict(sigs[0]) if sigs else {
            "type": "spike", "fft_len": 1024, "chirp_hz_s": 0.0, "time_s": 1.0, "power": 40.0,
            "score": 40.0 / 24}  # the default spike threshold
        fake["freq_hz"] = F0 + 1111.0
        # score is power over the type's threshold (a listed signal's is
        # never capped): the server refuses a result where it is not
        fake["power"] *= 2
        fake["score"] *= 2
        sigs.append(fake)
    # A careful cheater keeps the per-type counts consistent.
    counts = r["result"].get("counts")
    if isinstance(counts, dict):
        for t in counts:
            counts[t] = sum(1 for s in sigs if s["type"] == t)
    return r


def scenario_cheating(tmp, rec, truth):
    d = project(tmp, "cheat", rec)
    srv = Server(d)
    try:
        cheater, honest, third = Host(srv, "mallory"), Host(srv, "bob"), Host(srv, "carol")
        got = cheater.ask()
        kinds = ["moved", "dropped", "invented"]
        for i, a in enumerate(got):
            real = cheater.compute(a, tmp)
            st, body = cheater.upload(a, fabricate(real, kinds[i % 3]))
            check(st == 200, "the fabricated result is accepted as plausible (%s): %s" % (kinds[i % 3], body))
        run_all(honest, tmp)
        total = status(srv)["units"]["total"]
        # No consensus on the cheated units: one more replica each, for carol.
        wait_for("extra replicas", lambda: db(d, "SELECT count(*) FROM replicas WHERE state = 0")[0][0] == total)
        check_progress(srv, d, "cheat", "waiting for a third result")
        # The same database as a schema-3 server left it: migration 4 counts
        # every unit into its class, migration 5 leaves the counting of
        # running and successful replicas to the server's statements
        # (migration 6 keys team names, 7 counts hosts' returned results, 8
        # indexes hosts' replicas in progress, 9 marks bad unit files, 10
        # banned hosts, 11 adaptive replication, 12 candidates, 13 the data
        # lifecycle, 14 the persistence links' index, 15 .sah units' own
        # sky tracks, 16 the progress counters' shards), and
        # the counts go on from there.
        returned = db(d, "SELECT returned FROM hosts WHERE id = ?", (honest.host_id,))
        srv.kill9()
        if not testdb.pg():  # PostgreSQL's schema begins at 15
            downgrade_to_v3(d)
        srv.start()
        if not testdb.pg():
            check(db(d, "PRAGMA user_version") == [(17,)], "a schema-3 database is migrated to 17")
        check(db(d, "SELECT returned FROM hosts WHERE id = ?", (honest.host_id,)) == returned and
              returned[0][0] == status(srv)["units"]["total"],
              "migration 7 counts each host's returned results (%s)" % returned)
        check_progress(srv, d, "cheat", "after a kill -9" if testdb.pg() else
                       "after migrating from schema 3")
        run_all(third, tmp)
        wait_for("validation", lambda: status(srv)["units"]["validated"] == total)
        check(user(srv, cheater.account_id)["total_credit"] == 0, "the cheater earned no credit")
        check(user(srv, third.account_id)["total_credit"] > 0, "the honest third host earned credit")
        states = db(d, "SELECT DISTINCT validate_state FROM replicas WHERE host_id = ?", (cheater.host_id,))
        check(states == [(2,)], "every fabricated result is INVALID")
        canon = db(d, "SELECT count(*) FROM units u JOIN replicas r ON r.id = u.canonical WHERE r.host_id = ?",
                   (cheater.host_id,))
        check(canon == [(0,)], "no fabricated result became canonical")
        wait_for("assimilation", lambda: db(d, "SELECT count(*) FROM units WHERE assimilated = 0") == [(0,)])
        fake = db(d, "SELECT count(*) FROM signals WHERE abs(freq_hz - ?) < 1", (F0 + 1111.0,))
        check(fake == [(0,)], "the invented signal is not in the signals table")
        check_progress(srv, d, "cheat", "after the extra replicas")
    finally:
        srv.kill9()


def scenario_errors(tmp, rec, truth):
    one = os.path.join(tmp, "one")
    subprocess.run([SYNTH, "--out", one, "--samples", "32768", "--seed", "3"], check=True,
                   capture_output=True)
    d = project(tmp, "errors", one, "--max-errors", "3")
    srv = Server(d)
    try:
        hosts = [Host(srv, "h%d" % i) for i in range(6)]
        check(status(srv)["units"]["total"] == 1, "a one-unit dataset")
        target = "errors-000000"
        # Host 0 keeps its replica; hosts 1, 2, 3 each get one and fail.
        check(len(hosts[0].ask()) == 1, "host 0 holds the first replica")
        for h in hosts[1:4]:
            got = []
            wait_for("a replica for host %d" % h.host_id, lambda: got.extend(h.ask()) or got)
            a = got[0]
            check(a["unit_id"] == target, "host %d got a replica of the failing unit" % h.host_id)
            st, r = call(srv.url + "/api/v1/replicas/%d/error" % a["replica_id"], "POST",
                         {"message": "segfault in fftwf_execute"}, key=h.key)
            check(st == 200, "the error report is taken")
        wait_for("the unit to end in error", lambda: status(srv)["units"]["error"] == 1)
        row = db(d, "SELECT error FROM units WHERE name = ?", (target,))
        check(row and "max_error_results 3" in row[0][0] and "segfault" in row[0][0],
              "the unit's reason names the limit and the last error: %s" % (row,))
        check_progress(srv, d, "errors", "with the unit in error")
        more = hosts[4].ask()
        check(all(a["unit_id"] != target for a in more), "the failed unit is not sent again")
    finally:
        srv.kill9()


def scenario_crash(tmp, rec, truth):
    d = project(tmp, "crash", rec)
    srv = Server(d)
    a, b = Host(srv, "alice"), Host(srv, "bob")
    accepted = {}
    got_a, got_b = a.ask(), b.ask()
    results = {}
    for h, got in ((a, got_a), (b, got_b)):
        for w in got:
            results[w["replica_id"]] = (h, w, h.compute(w, tmp))
    # Upload everything, then kill -9 at once: validation has had no time.
    for rid, (h, w, r) in results.items():
        st, body = h.upload(w, r)
        assert st == 200, body
        accepted[rid] = hashlib.sha256(json.dumps(r).encode()).hexdigest()
    srv.kill9()
    srv.start()
    try:
        rows = db(d, "SELECT id, result_sha256 FROM replicas WHERE outcome = 1")
        have = {rid: sha.hex() if isinstance(sha, bytes) else sha[2:] for rid, sha in rows}
        check(have == accepted, "every acknowledged result survived kill -9 (%d of %d)" % (len(have), len(accepted)))
        both = {w["unit_id"] for w in got_a} & {w["unit_id"] for w in got_b}
        check(len(both) >= 2, "%d units have both results" % len(both))
        wait_for("validation after restart", lambda: status(srv)["units"]["validated"] == len(both))
        check_progress(srv, d, "crash", "after kill -9 and validation")
        # Upload again after the restart: idempotent, nothing counted twice.
        for rid, (h, w, r) in list(results.items())[:3]:
            st, body = h.upload(w, r)
            check(st == 200, "re-uploading replica %d after the restart is accepted idempotently" % rid)
        time.sleep(1.0)
        flops = sum(w["flops"] for w in got_a if w["unit_id"] in both)
        c = user(srv, a.account_id)["total_credit"]
        check(abs(c - credit_formula(flops)) < 1e-6 * credit_formula(flops), "credit counted exactly once")
        n = db(d, "SELECT count(*) FROM signals")[0][0]
        m = db(d, "SELECT count(*) FROM (SELECT DISTINCT unit_id, type, freq_hz, time_s FROM signals) x")[0][0]
        check(n == m, "no signal stored twice")
        srv.kill9()
        if not testdb.pg():  # PostgreSQL checks its own pages
            ok = db(d, "PRAGMA integrity_check")
            check(ok == [("ok",)], "PRAGMA integrity_check is ok")
    finally:
        if srv.proc.poll() is None:
            srv.kill9()


def scenario_hoarding(tmp, rec, truth):
    d = project(tmp, "hoard", rec, unit_samples="2^12")
    srv = Server(d)
    try:
        total = status(srv)["units"]["total"]
        check(total >= 40, "the recording was cut into %d small units" % total)
        st, r = call(srv.url + "/api/v1/accounts", "POST", {"name": "hoarder"})
        assert st == 200, r
        account = r["authenticator"]
        # Hosts per account per day: max_hosts_per_account_day (10) a day.
        hosts = [Host(srv, "big%d" % i, account_key=account, ncpus=1024) for i in range(10)]
        st, r = call(srv.url + "/api/v1/hosts", "POST",
                     {"name": "big10", "os": "Linux", "ncpus": 1024, "flops": 1e9,
                      "memory_mb": 1024}, key=account)
        msg = r["error"]["message"] if st == 403 else str(r)
        check(st == 403 and "max_hosts_per_account_day" in msg,
              "an account's 11th host in a day is refused, naming the limit (%d %s)" % (st, msg))
        big = hosts[0]
        got = big.ask(864000)
        # A host that has returned nothing counts for new_host_ncpus (4)
        # CPUs whatever it claims: max_in_progress_per_cpu (4) x 4.
        check(len(got) == 16, "a fresh host claiming 1024 CPUs gets 16 replicas, not its claim's "
              "4096 (got %d of %d units)" % (len(got), total))
        check(big.ask(864000) == [], "and nothing more while it returns nothing")
        done = [(a, big.compute(a, tmp)) for a in got[:2]]
        st, r = call(srv.url + "/api/v1/work", "POST",
                     {"want_seconds": 864000,
                      "results": [{"replica_id": a["replica_id"], "result": json.dumps(res)}
                                  for a, res in done]}, key=big.key)
        more = r.get("assignments", []) if st == 200 else []
        held = db(d, "SELECT in_progress FROM hosts WHERE id = ?", (big.host_id,))[0][0]
        # Each result returned counts one more CPU: 4 x (4 + 2) = 24 in
        # progress, 14 held after the two returned.
        check(st == 200 and len(more) == 10 and held == 24,
              "two results returned raise its cap by 8: it gets 10 more, holds 24 (%d: %d, %d)"
              % (st, len(more), held))
        check(hosts[1].ask(864000) != [] and
              db(d, "SELECT in_progress FROM hosts WHERE id = ?", (hosts[1].host_id,))[0][0] <= 16,
              "another fresh host of the account is bounded the same way")
    finally:
        srv.kill9()


def scenario_resend(tmp, rec, truth):
    d = project(tmp, "resend", rec)
    srv = Server(d)
    try:
        h = Host(srv, "lossy")  # one CPU: a cap of 4

        def work(body):
            st, r = call(srv.url + "/api/v1/work", "POST", body, key=h.key)
            return st, (r.get("assignments") if st == 200 else r)

        def in_progress():
            return (db(d, "SELECT in_progress FROM hosts WHERE id = ?", (h.host_id,))[0][0],
                    db(d, "SELECT count(*) FROM replicas WHERE host_id = ? AND state = 1",
                       (h.host_id,))[0][0])

        st, first = work({"want_seconds": 864000})
        lost = sorted(a["replica_id"] for a in first)
        check(st == 200 and len(lost) == 4, "the host is sent its cap of 4 (%s)" % lost)
        # ... and the reply is lost.  A host that lists nothing (an older
        # worker) is served as before: nothing past its cap.
        st, got = work({"want_seconds": 864000})
        check(st == 200 and got == [], "without \"held\" nothing is sent again (%s)" % got)
        st, got = work({"want_seconds": 864000, "held": []})
        check(st == 200 and sorted(got, key=lambda a: a["replica_id"]) ==
              sorted(first, key=lambda a: a["replica_id"]),
              "with \"held\": [] the lost replicas are sent again, as first sent (%s)"
              % str(got)[:300])
        check(in_progress() == (4, 4), "the host still has 4 in progress (%s)" % (in_progress(),))
        st, got = work({"want_seconds": 864000, "held": lost})
        check(st == 200 and got == [], "holding them all: nothing sent (%s)" % got)
        st, got = work({"want_seconds": 864000, "held": lost[:2] + [987654]})
        check(st == 200 and sorted(a["replica_id"] for a in got) == lost[2:],
              "holding two (and one the server does not know): the other two again (%s)"
              % str(got)[:300])
        # A result returned while listing the rest: a new unit for the slot
        # it frees, nothing sent twice.
        a = next(x for x in first if x["replica_id"] == lost[0])
        st, r = call(srv.url + "/api/v1/work", "POST",
                     {"want_seconds": 864000, "held": lost,
                      "results": [{"replica_id": lost[0], "result": json.dumps(h.compute(a, tmp))}]},
                     key=h.key)
        new = r.get("assignments", []) if st == 200 else []
        check(st == 200 and r.get("results") == [{"replica_id": lost[0], "accepted": True}] and
              len(new) == 1 and new[0]["replica_id"] not in lost,
              "a result returned with the others held: one new replica (%d %s)" % (st, str(r)[:300]))
        check(in_progress() == (4, 4), "4 in progress after it (%s)" % (in_progress(),))
        before = db(d, "SELECT id, state, host_id, sent, deadline FROM replicas ORDER BY id")
        for bad in ["x", {"a": 1}, [0], [-3], [1.5], ["7"], [None], list(range(1, 5000))]:
            st, r = work({"want_seconds": 864000, "held": bad})
            check(st == 400 and "held" in r["error"]["message"],
                  "a malformed \"held\" (%s) is a 400 naming it (%d)" % (str(bad)[:20], st))
        check(db(d, "SELECT id, state, host_id, sent, deadline FROM replicas ORDER BY id") == before,
              "and changes nothing")
    finally:
        srv.kill9()


def scenario_badfile(tmp, rec, truth):
    d = project(tmp, "badfile", rec)
    srv = Server(d)
    try:
        target = "badfile-000000"
        path = os.path.join(d, "units", target + ".ozwu")
        with open(path, "rb") as f:
            good = f.read()
        bad = bytearray(good)
        bad[-1000] ^= 0x55  # one payload byte; the size is unchanged
        with open(path, "wb") as f:
            f.write(bad)
        a, b, c = Host(srv, "ann"), Host(srv, "ben"), Host(srv, "cal")
        got = a.ask()
        x = next((w for w in got if w["unit_id"] == target), None)
        if not check(x is not None, "the first host holds a replica of %s" % target):
            return
        st, data = call(srv.url + x["url"])
        check(st == 200 and hashlib.sha256(data).hexdigest() != x["sha256"],
              "its download does not match the assignment's SHA-256")
        msg = ("%s: download 2 does not verify: SHA-256 %s, the assignment says %s"
               % (target, hashlib.sha256(data).hexdigest(), x["sha256"]))
        st, r = call(srv.url + "/api/v1/replicas/%d/error" % x["replica_id"], "POST",
                     {"message": msg}, key=a.key)
        check(st == 200, "the host reports it as the worker does (%d %s)" % (st, r))
        mark = db(d, "SELECT file_bad, state FROM units WHERE name = ?", (target,))[0]
        check(mark[0] is not None and "SHA-256" in mark[0] and mark[1] == 0,
              "the unit is marked file_bad, still active: %s" % (mark,))
        check(db(d, "SELECT outcome FROM replicas WHERE id = ?", (x["replica_id"],)) == [(4,)],
              "the host's replica is over, not counted as its error (outcome DIDNT_NEED)")
        sent = b.ask() + c.ask()
        check(sent and all(w["unit_id"] != target for w in sent),
              "no further replica of it goes out (%s)" % sorted(w["unit_id"] for w in sent))
        time.sleep(1.0)  # transitioner ticks: it neither ends the unit nor adds replicas
        check(db(d, "SELECT state FROM units WHERE name = ?", (target,)) == [(0,)] and
              db(d, "SELECT count(*) FROM replicas r JOIN units u ON u.id = r.unit_id"
                    " WHERE u.name = ? AND r.state = 0", (target,)) == [(0,)],
              "the transitioner neither ends it in error nor makes replicas of it")
        # what the operator sees
        check(status(srv)["units"].get("file_bad") == 1, "GET /api/v1/status counts it")
        st, info = call(srv.url + "/api/v1/server")
        listed = info.get("unit_files_bad", []) if st == 200 else []
        check(len(listed) == 1 and listed[0]["unit_id"] == target and
              listed[0]["dataset"] == "badfile" and "SHA-256" in listed[0]["reason"],
              "GET /api/v1/server lists it with its reason (%s)" % listed)
        out = subprocess.run([SERVER, "status", d], capture_output=True, text=True).stdout
        check(target in out and "SHA-256" in out, "ozma-server status names it:\n" + out)
        with open(os.path.join(d, "serve.log"), errors="replace") as f:
            log = f.read()
        check(any("level=error" in line and target in line for line in log.splitlines()),
              "an error-level log line names it")
        # a mismatch the server's file does not explain: the host's own
        y = next(w for w in got if w["unit_id"] != target)
        st, r = call(srv.url + "/api/v1/replicas/%d/error" % y["replica_id"], "POST",
                     {"message": "%s: download 2 does not verify: SHA-256 %s, the assignment "
                      "says %s" % (y["unit_id"], "0" * 64, y["sha256"])}, key=a.key)
        check(st == 200 and db(d, "SELECT file_bad FROM units WHERE name = ?",
                               (y["unit_id"],)) == [(None,)] and
              db(d, "SELECT outcome FROM replicas WHERE id = ?", (y["replica_id"],)) == [(2,)],
              "a mismatch on a good file leaves the unit unmarked, the host's error")
        # the operator cuts the unit again and verifies
        cut = os.path.join(tmp, "badfile-cut")
        subprocess.run([SPLIT, rec, "--out", cut, "--dataset", "badfile", "--unit-samples",
                        "2^15", "--fft-max", "1024", "--chirp-max", "2", "-q"], check=True,
                       capture_output=True)
        with open(os.path.join(cut, target + ".ozwu"), "rb") as f:
            recut = f.read()
        check(recut == good, "ozma-split with the load's options cuts the unit byte for byte")
        v = subprocess.run([SERVER, "verify", d], capture_output=True, text=True)
        check(v.returncode == 1 and target in v.stderr + v.stdout,
              "ozma-server verify before the fix: exit 1, naming it (%d %s%s)"
              % (v.returncode, v.stdout, v.stderr))
        with open(path, "wb") as f:
            f.write(recut)
        v = subprocess.run([SERVER, "verify", d], capture_output=True, text=True)
        check(v.returncode == 0 and db(d, "SELECT file_bad FROM units WHERE name = ?",
                                       (target,)) == [(None,)],
              "after it the mark is cleared (%d %s%s)" % (v.returncode, v.stdout, v.stderr))
        wait_for("a new replica of the unit", lambda: db(
            d, "SELECT count(*) FROM replicas r JOIN units u ON u.id = r.unit_id"
               " WHERE u.name = ? AND r.state = 0", (target,))[0][0] > 0, timeout=10)
        dee = Host(srv, "dee")
        check(any(w["unit_id"] == target for w in dee.ask()), "and the unit goes out again")
        v = subprocess.run([SERVER, "verify", d, "--all"], capture_output=True, text=True)
        check(v.returncode == 0, "verify --all: every unit file checks out (%d %s%s)"
              % (v.returncode, v.stdout, v.stderr))
        os.remove(os.path.join(d, "units", "badfile-000003.ozwu"))
        v = subprocess.run([SERVER, "verify", d, "--all"], capture_output=True, text=True)
        check(v.returncode == 1 and "badfile-000003" in v.stdout + v.stderr and
              db(d, "SELECT file_bad IS NOT NULL FROM units WHERE name = 'badfile-000003'") ==
              [(1,)], "verify --all marks a missing file bad (%d %s%s)"
              % (v.returncode, v.stdout, v.stderr))
    finally:
        srv.kill9()


def scenario_busy(tmp, rec, truth):
    d = project(tmp, "busy", rec)
    with open(os.path.join(d, "project.json")) as f:
        cfg = json.load(f)
    cfg["http_threads"] = 1
    with open(os.path.join(d, "project.json"), "w") as f:
        json.dump(cfg, f)
    srv = Server(d)
    try:
        st, info = call(srv.url + "/api/v1/server")
        check(st == 200 and info.get("http_threads") == 1, "the server runs one HTTP thread")
        hosts = [Host(srv, "busy%d" % i) for i in range(16)]
        nunits = db(d, "SELECT count(*) FROM units")[0][0]
        assert 2 * nunits < len(hosts), nunits  # some hosts get nothing

        # Another process holds the database's write lock: a work request
        # waits for it, and the one HTTP thread answers a status request
        # meanwhile.
        lock = hold_write_lock(d)
        held = {}
        t = threading.Thread(target=lambda: held.update(
            r=call(srv.url + "/api/v1/work", "POST", {"want_seconds": 0}, key=hosts[0].key)))
        t.start()
        wait_for("the work request to reach the server", lambda: in_flight(srv) >= 2)
        t0 = time.time()
        st, _ = call(srv.url + "/api/v1/status")
        ms = (time.time() - t0) * 1000
        check(st == 200 and t.is_alive(), "while a work request waits for the write lock, the one "
              "HTTP thread answers a status request (%d in %.0f ms)" % (st, ms))
        lock.rollback()
        lock.close()
        t.join(30)
        check(held.get("r", (0,))[0] == 200, "the work request is answered once the lock is free")

        def together(fn):
            """fn(host) for every host at once; their results in order."""
            out = [None] * len(hosts)
            start = threading.Barrier(len(hosts))

            def run(i):
                start.wait()
                try:
                    out[i] = fn(hosts[i])
                except Exception as e:  # reported below, not lost in a thread
                    out[i] = e
            ts = [threading.Thread(target=run, args=(i,)) for i in range(len(hosts))]
            for t in ts:
                t.start()
            for t in ts:
                t.join(120)
            return out

        got = together(lambda h: h.ask(1))
        check(not any(isinstance(g, Exception) for g in got),
              "%d hosts asking at once all get answers" % len(hosts))
        sent = [a for g in got if isinstance(g, list) for a in g]
        ids = [a["replica_id"] for a in sent]
        units = sorted(a["unit_id"] for a in sent)
        check(len(ids) == len(set(ids)) == 2 * nunits and all(units.count(u) == 2 for u in units),
              "each of the %d replicas went out once, two per unit (%d sent)" % (2 * nunits, len(ids)))
        done = {h.host_id: [(a, h.compute(a, tmp)) for a in h.work] for h in hosts}

        def report(h):
            body = {"want_seconds": 1,
                    "results": [{"replica_id": a["replica_id"], "result": json.dumps(r)}
                                for a, r in done[h.host_id]]}
            return call(srv.url + "/api/v1/work", "POST", body, key=h.key)
        replies = together(report)
        accepted = [x for rep in replies if isinstance(rep, tuple) and rep[0] == 200
                    for x in rep[1].get("results", []) if x.get("accepted")]
        check(len(accepted) == 2 * nunits, "the %d results returned at once in work requests were "
              "all accepted (%d)" % (2 * nunits, len(accepted)))
        wait_for("validation of the busy dataset", lambda: status(srv)["units"]["validated"] == nunits)
        check_progress(srv, d, "busy", "after the burst")

        # SIGTERM while the hosts keep asking: each request is answered
        # (200, or 503 once draining) or its connection closed, and the
        # server exits 0, promptly.
        stop = threading.Event()
        bad = []

        def keep_asking(h):
            while not stop.is_set():
                try:
                    st, r = call(srv.url + "/api/v1/work", "POST", {"want_seconds": 1}, key=h.key)
                except (urllib.error.URLError, ConnectionError, OSError):
                    return
                if st not in (200, 429, 503):  # 429: the host's rate limit
                    bad.append((st, r))
        asking = [threading.Thread(target=keep_asking, args=(h,)) for h in hosts]
        for t in asking:
            t.start()
        time.sleep(0.5)
        t0 = time.time()
        rc = srv.stop()
        ms = (time.time() - t0) * 1000
        stop.set()
        for t in asking:
            t.join(60)
        check(rc == 0, "SIGTERM with work requests in flight: exit 0 (got %s)" % rc)
        check(ms < 5000, "SIGTERM with work requests in flight: stopped in %.0f ms" % ms)
        check(not bad, "every request in flight answered 200, 429 or 503 (%s)" % bad[:3])

        # No drain time, and the requests in flight wait for a write lock
        # held elsewhere: the server stops only once they are answered.
        with open(os.path.join(d, "project.json")) as f:
            cfg = json.load(f)
        cfg["drain_timeout_s"] = 0
        with open(os.path.join(d, "project.json"), "w") as f:
            json.dump(cfg, f)
        srv.start()
        lock = hold_write_lock(d)
        answers = [None] * 4

        def one(i):
            answers[i] = call(srv.url + "/api/v1/work", "POST", {"want_seconds": 0},
                              key=hosts[i].key)[0]
        waiting = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for t in waiting:
            t.start()
        wait_for("the four requests to reach the server", lambda: in_flight(srv) >= 5)
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        lock.rollback()
        lock.close()
        rc = srv.stop()
        for t in waiting:
            t.join(30)
        check(rc == 0, "SIGTERM with no drain time while requests wait for the lock: exit 0 "
              "(got %s)" % rc)
        check(answers == [200] * 4, "those requests were answered: %s" % answers)
        check(db(d, "PRAGMA integrity_check") == [("ok",)], "PRAGMA integrity_check is ok")
    finally:
        if srv.proc.poll() is None:
            srv.kill9()


def in_flight(srv):
    """Requests the server has begun and not finished, this one included."""
    st, r = call(srv.url + "/api/v1/server")
    assert st == 200, r
    return r["in_flight"]


def hold_write_lock(project_dir):
    """A connection of this process holding the database's write lock."""
    c = sqlite3.connect(os.path.join(project_dir, "ozma.db"), timeout=30, isolation_level=None)
    c.execute("BEGIN IMMEDIATE")
    return c


def main():
    tmp = tempfile.mkdtemp(prefix="oz-flow-")
    rec = os.path.join(tmp, "rec")
    # Two drifting tones over ~17 s (5 units of 2^15 samples with overlap).
    subprocess.run([SYNTH, "--out", rec, "--samples", "163840", "--datatype", "ci16_le", "--seed", "7",
                    "--datetime", "2026-11-25T12:00:00Z",
                    "--spike", "f=1000.5,drift=0.5,snr=0.05",
                    "--spike", "f=-2000.25,drift=-1,snr=0.05"],
                   check=True, capture_output=True)
    with open(rec + ".truth.json") as f:
        truth = json.load(f)
    scenarios = {"honest": scenario_honest, "timeout": scenario_timeout,
                 "cheating": scenario_cheating, "errors": scenario_errors, "crash": scenario_crash,
                 "hoarding": scenario_hoarding, "resend": scenario_resend,
                 "badfile": scenario_badfile, "busy": scenario_busy}
    if testdb.pg():  # busy holds SQLite's write lock from beside the server
        del scenarios["busy"]
    for name, fn in scenarios.items():
        if ONLY and name not in ONLY:
            continue
        print("== %s" % name)
        fn(tmp, rec, truth)
    finish(tmp, "all scheduler flow checks passed")


def finish(tmp, passed):
    """The verdict of a run whose projects are in tmp: no sanitizer report
    in any server's log (serve*.log: under ASan/UBSan a report goes to the
    server's stderr, not its exit status), then exit 1 on any failure
    (tmp kept), else tmp removed and `passed` printed."""
    for log in sorted(glob.glob(os.path.join(tmp, "*", "serve*.log"))):
        with open(log, errors="replace") as f:
            text = f.read()
        check("Sanitizer" not in text and "runtime error" not in text,
              "no sanitizer report in %s" % os.path.relpath(log, tmp))
    if FAILURES:
        print("%d failure(s); projects kept in %s" % (len(FAILURES), tmp), file=sys.stderr)
        sys.exit(1)
    subprocess.run(["rm", "-rf", tmp])
    print(passed)


if __name__ == "__main__":  # cand_survey.py and sched_adaptive.py import the helpers
    main()

#!/usr/bin/env python3
"""sched_pg_multi.py - several `ozma-server serve` processes on one
PostgreSQL database, under load and through outages (issue 22), over real
HTTP on loopback.

Run by test_sched_pg_multi.sh inside pg_run.sh's throwaway cluster
(OZ_TEST_PG_HOST: every project gets a database of its own there;
PG_RESTART: `pg_ctl restart -m immediate` of that cluster):

    python3 sched_pg_multi.py BIN_DIR [SCENARIO...]

Scenarios (all, by default):

  two      two schedulers on one project, both running the background jobs;
           two real ozma-workers attached to each, and a cheating host that
           takes its work from one scheduler and returns fabricated results
           to the other.  Every unit validates with one canonical result,
           never the cheater's; it is assimilated once (the assimilators'
           counts of units done, summed over both processes, are the
           units; no signal twice, each from the canonical result); each
           account's credit is the formula's for its valid results; each
           host's verdicts are counted once; no replica went to two hosts,
           nor two replicas of a unit to one account; every fabricated result
           is invalid.  Then `serve --read-database` naming the same database
           serves the status, the leaderboard and the signals as the others
           do, and a read database that is not PostgreSQL is refused with
           one line.
  collide  two schedulers with jobs, twelve simulated hosts of three
           accounts split between them, all claiming the same few units at
           once: every answer is a 200 (no write fails against the other
           scheduler's), every acknowledged result is in, no replica went
           to two hosts nor two of a unit to one account, every unit
           validated and assimilated once, credit is the formula's.
  kill9    two schedulers running the jobs, simulated hosts (threads
           returning precomputed real results at once) split between them;
           kill -9 of one once a third of the results are in: its hosts go
           on with the other, as behind a load balancer.  Every result
           acknowledged with a 200 is in the database with the SHA-256 that
           was uploaded, credit is the formula's (nothing counted twice),
           the survivor answers every request after the kill with a 200 and
           validates every unit; before it the only other answer is a 503
           with Retry-After (the two schedulers' transactions conflicting).
  restart  a scheduler running the jobs and one with --no-jobs, hosts split
           between them; `pg_ctl restart -m immediate` once a third of the
           results are in.  Clients see only 200s and 503s with Retry-After,
           every answer within HANG_S; both schedulers reconnect by
           themselves (work requests succeed after, every unit validates),
           every acknowledged result is present, credit is the formula's.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_adaptive as A  # noqa: E402  (search: a unit's real result, the kernel's shape)
import sched_flow as F  # noqa: E402  (argv[1]: the binaries' folder; Server, Host, checks)
import testdb  # noqa: E402

WORKER = os.path.join(F.BIN, "ozma-worker")
HANG_S = 10.0  # no answer may take longer, outage or not
VALID, INVALID = 1, 2  # replicas.validate_state (store.h)
SUCCESS = 1  # replicas.outcome


def req(url, method="GET", body=None, key=None, raw=None):
    """(status, or None when no answer came; JSON or bytes; whether a
    Retry-After came; seconds taken)."""
    t0 = time.time()
    try:
        st, payload, headers = F.call_headers(url, method, body, key, raw, timeout=HANG_S + 20)
    except OSError:  # refused, reset, timed out (urllib's URLError is one)
        return None, b"", False, time.time() - t0
    return st, payload, headers.get("Retry-After") is not None, time.time() - t0


STARTED = []  # every scheduler and worker started, for reap()


def serve(d, args=(), log="serve.log"):
    srv = F.Server(d, args, log)
    STARTED.append(srv.proc)
    return srv


def reap():
    """kill -9 whatever is still running of what was started."""
    for p in STARTED:
        if p.poll() is None:
            p.kill()
            p.wait()
    STARTED.clear()


def configure(d, **kv):
    with open(os.path.join(d, "project.json")) as f:
        cfg = json.load(f)
    cfg.update(kv)
    with open(os.path.join(d, "project.json"), "w") as f:
        json.dump(cfg, f)


def project(tmp, name, rec, unit_samples, *load_args):
    """A project on its own PostgreSQL database, with limits no test host
    reaches and workers asked back after 1 s; its number of units."""
    d = F.project(tmp, name, rec, *load_args, unit_samples=unit_samples)
    configure(d, rate_per_host=1000, rate_burst=10000, read_rate=1000, read_burst=10000,
              next_rpc_delay=1)
    return d, F.db(d, "SELECT count(*) FROM units")[0][0]


def server_info(srv):
    st, r = F.call(srv.url + "/api/v1/server")
    assert st == 200, r
    return r


def sha_hex(v):
    return v.hex() if isinstance(v, bytes) else v[2:]  # psql shows bytea as \x...


def check_acked(d, acked, when):
    """Every result acknowledged with a 200 is in the database, as uploaded."""
    have = {rid: sha_hex(sha) for rid, sha in
            F.db(d, "SELECT id, result_sha256 FROM replicas WHERE outcome = ?", (SUCCESS,))}
    lost = [rid for rid, sha in acked.items() if have.get(rid) != sha]
    F.check(acked and not lost, "%s: every one of %d results acknowledged with 200 is in the "
            "database with its SHA-256 (missing or changed: %s)" % (when, len(acked), lost[:10]))


def check_credit(srv, d, accounts, when):
    """Each account's credit is the formula's for its valid results, once."""
    flops = dict(F.db(d, "SELECT r.account_id, sum(u.flops) FROM replicas r"
                         " JOIN units u ON u.id = r.unit_id WHERE r.validate_state = ?"
                         " GROUP BY r.account_id", (VALID,)))
    wrong = []
    for acct in accounts:
        want = F.credit_formula(flops.get(acct, 0))
        got = F.user(srv, acct)["total_credit"]
        if abs(got - want) > 1e-6 * max(want, 1e-9):
            wrong.append((acct, got, want))
    F.check(not wrong, "%s: the credit of each of %d accounts equals the formula for its valid "
            "results (wrong: %s)" % (when, len(accounts), wrong))
    counts = F.db(d, "SELECT count(*) FROM hosts h WHERE n_valid != (SELECT count(*) FROM replicas"
                     " r WHERE r.host_id = h.id AND r.validate_state = ?) OR n_invalid != (SELECT"
                     " count(*) FROM replicas r WHERE r.host_id = h.id AND r.validate_state = ?)",
                  (VALID, INVALID))[0][0]
    F.check(counts == 0, "%s: each host's counts of valid and invalid results are its replicas' "
            "(%d hosts wrong)" % (when, counts))


def check_units(srv, d, name, total, when):
    """Each unit validated once: one canonical result of its own, valid; its
    signals the canonical result's, none twice; the counters right."""
    bad = F.db(d, "SELECT count(*) FROM units u LEFT JOIN replicas r ON r.id = u.canonical"
                  " WHERE u.state != 1 OR r.id IS NULL OR r.unit_id != u.id"
                  " OR r.validate_state != ? OR u.assimilated != 1", (VALID,))[0][0]
    F.check(bad == 0, "%s: all %d units validated and assimilated, each with a valid canonical "
            "result of its own (%d not)" % (when, total, bad))
    stray = F.db(d, "SELECT count(*) FROM signals s JOIN units u ON u.id = s.unit_id"
                    " WHERE s.replica_id != u.canonical")[0][0]
    n = F.db(d, "SELECT count(*) FROM signals")[0][0]
    m = F.db(d, "SELECT count(*) FROM (SELECT DISTINCT unit_id, type, fft_len, freq_hz, time_s"
                " FROM signals) x")[0][0]
    F.check(n > 0 and n == m and stray == 0, "%s: %d signals, none twice (%d distinct), none "
            "from another result than the canonical (%d)" % (when, n, m, stray))
    two = F.db(d, "SELECT count(*) FROM (SELECT unit_id, account_id FROM replicas"
                  " WHERE account_id IS NOT NULL GROUP BY unit_id, account_id"
                  " HAVING count(*) > 1) x")[0][0]
    F.check(two == 0, "%s: no account got two replicas of one unit (%d pairs did)" % (when, two))
    F.check_progress(srv, d, name, when)


def wait_validated(srv, total, timeout):
    """Every unit validated and assimilated; a 503 (the database still
    recovering) is "not yet"."""
    def done():
        st, r = F.call(srv.url + "/api/v1/status")
        if st == 503:
            return False
        assert st == 200, r
        return r["units"]["validated"] == total and r["queues"]["assimilate"] == 0
    return F.wait_for("%d units validated" % total, done, timeout=timeout)


# ---- two: real workers on two schedulers, and a cheater ----------------------------------------

def attach_worker(folder, url, name):
    """A worker state folder attached to url as a new account (the test
    preferences of worker_lib.sh's attach_worker, one CPU)."""
    os.makedirs(folder)
    prefs = {"work_buffer_s": 60, "checkpoint_interval_s": 1, "backoff_min_s": 0.5,
             "backoff_max_s": 4, "status_interval_s": 0.2, "net_timeout_s": 10,
             "keep_results": "yes", "suspend_on_battery": "no", "max_cpus": 1}
    with open(os.path.join(folder, "worker.conf"), "w") as f:
        f.write("[worker]\n" + "".join("%s = %s\n" % kv for kv in prefs.items()))
    subprocess.run([WORKER, "attach", url, "--name", name, "--dir", folder], check=True,
                   capture_output=True, timeout=30)
    with open(os.path.join(folder, "account.json")) as f:
        return json.load(f)


def uploaded(folder):
    """Replica ids of the results a worker uploaded (keep_results), and of
    those refused."""
    names = os.listdir(os.path.join(folder, "uploaded")) if os.path.isdir(
        os.path.join(folder, "uploaded")) else []
    return ({int(n[:-5]) for n in names if n.endswith(".json") and "." not in n[:-5]},
            [n for n in names if n.endswith(".refused.json")])


def scenario_two(tmp, rec):
    d, total = project(tmp, "two", rec, "2^13")
    F.check(total >= 10, "the recording was cut into %d units" % total)
    a = serve(d, log="serve-a.log")
    b = serve(d, log="serve-b.log")
    workers = []
    # The cheater asks one scheduler and answers to the other.
    cheater = F.Host(a, "mallory")
    got = cheater.ask()
    F.check(len(got) >= 1, "the cheater got %d replicas from scheduler A" % len(got))
    cheater.srv = b
    for i, w in enumerate(got):
        st, body = cheater.upload(w, F.fabricate(cheater.compute(w, tmp),
                                                 ("moved", "dropped", "invented")[i % 3]))
        F.check(st == 200, "scheduler B takes the fabricated result as plausible (%s)" % st)
    for i, srv in enumerate((a, b, a, b)):
        folder = os.path.join(tmp, "two-w%d" % i)
        acct = attach_worker(folder, srv.url, "worker%d" % i)
        with open(folder + ".log", "ab") as log:
            proc = subprocess.Popen([WORKER, "run", "--dir", folder],
                                    stdout=subprocess.DEVNULL, stderr=log)
        STARTED.append(proc)
        workers.append((folder, acct, proc, "AB"[i % 2]))
    wait_validated(a, total, timeout=150)
    # A worker SIGTERMed before it set its handler would die of the signal:
    # each logs its first line after setting it (the last one may start
    # only as the others finish the work).
    for folder, _, proc, _ in workers:
        F.wait_for("worker %s running" % os.path.basename(folder),
                   lambda f=folder: os.path.getsize(f + ".log") > 0, timeout=20)
    for folder, _, proc, _ in workers:
        proc.send_signal(signal.SIGTERM)
    for folder, _, proc, _ in workers:
        F.check(proc.wait(timeout=20) == 0, "worker %s stops with status 0 on SIGTERM"
                % os.path.basename(folder))
    check_units(a, d, "two", total, "two schedulers")
    # Each scheduler's connections count the progress in shards of their own
    # (migration 16), never in one row that both would hold until commit.
    shards = F.db(d, "SELECT count(DISTINCT shard) FROM dataset_counts")[0][0]
    F.check(shards >= 2, "the two schedulers counted the progress in %d shards (2 or more)"
            % shards)
    # No replica went to two hosts: each uploaded once, by its own host.
    seen, twice, owner = {}, [], dict(F.db(d, "SELECT id, host_id FROM replicas"))
    per = {"A": 0, "B": 0}
    for folder, acct, _, via in workers:
        ids, refused = uploaded(folder)
        F.check(not refused, "worker %s (on scheduler %s) uploaded %d results, none refused "
                "%s" % (os.path.basename(folder), via, len(ids), refused))
        per[via] += len(ids)
        for rid in ids:
            if rid in seen or owner.get(rid) != acct["host_id"]:
                twice.append(rid)
            seen[rid] = acct["host_id"]
    for w in got:
        if w["replica_id"] in seen:
            twice.append(w["replica_id"])
    F.check(per["A"] and per["B"], "the workers of both schedulers computed: %s" % per)
    F.check(not twice, "no replica was sent to two hosts, and each result came from the "
            "replica's own host (%s)" % twice)
    states = F.db(d, "SELECT DISTINCT validate_state FROM replicas WHERE host_id = ?",
                  (cheater.host_id,))
    F.check(states == [(INVALID,)], "every fabricated result is invalid (%s)" % states)
    F.check(F.user(a, cheater.account_id)["total_credit"] == 0, "the cheater earned nothing")
    check_credit(b, d, [acct["account_id"] for _, acct, _, _ in workers], "two schedulers")
    # The background jobs ran in both, and no unit was assimilated by both.
    jobs = [server_info(s)["jobs"] for s in (a, b)]
    F.check(all(j["validator"]["passes"] > 0 and j["assimilator"]["passes"] > 0 for j in jobs),
            "both schedulers ran the validator and the assimilator")
    done = [j["assimilator"]["done"] for j in jobs]
    F.check(sum(done) == total, "the two assimilators assimilated %s units: %d in all, each "
            "unit once" % (done, sum(done)))
    read_database(d, a, "two")
    F.check(a.stop() == 0 and b.stop() == 0, "SIGTERM stops both schedulers with status 0")


def read_database(d, primary, name):
    """serve --read-database naming the project's own database (a stand-in
    for a streaming replica of it) answers the read-only views as the
    primary's scheduler does; a read database that is not PostgreSQL is
    refused."""
    uri = testdb.uri(d)
    r = serve(d, ["--no-jobs", "--read-database", uri], log="serve-read.log")
    for path in ("/api/v1/status", "/api/v1/users?order=total&limit=500",
                 "/api/v1/teams", "/api/v1/signals?dataset=%s&limit=500" % name):
        # Recent credit decays by the second and the primary keeps its
        # status for a second: the two answers agree once asked within one.
        for _ in range(5):
            st1, want = F.call(primary.url + path)
            st2, got = F.call(r.url + path)
            if st1 == st2 == 200 and got == want:
                break
            time.sleep(0.4)
        F.check(st1 == st2 == 200 and got == want,
                "serve --read-database answers %s as the primary's scheduler" % path)
    for page in ("/", "/users", "/signals", "/status"):
        st, _ = F.call(r.url + page)
        F.check(st == 200, "serve --read-database serves the page %s (%s)" % (page, st))
    F.check(r.stop() == 0, "SIGTERM stops the read scheduler with status 0")
    p = subprocess.run([F.SERVER, "serve", d, "--port", "0", "--read-database",
                        os.path.join(d, "ozma.db")], capture_output=True, text=True, timeout=30)
    lines = p.stderr.strip().splitlines()
    F.check(p.returncode == 2 and len(lines) == 1 and "postgresql://" in lines[0],
            "a read database that is not PostgreSQL is refused with one line (exit %d: %s)"
            % (p.returncode, p.stderr.strip()))


# ---- kill9, restart: simulated hosts under load ------------------------------------------------

def honest_results(d):
    """{unit name: its real result}, computed with ozma-search."""
    rows = F.db(d, "SELECT name, file FROM units")
    return {n: A.search(os.path.join(d, "units", f)) for n, f in rows}


class Swarm:
    """Hosts in threads, each of its own account, asking its scheduler for
    one unit at a time and returning the honest result at once.  A host
    whose scheduler gives no answer goes on with the next (a load balancer's
    failover); after a 503 it waits (less than Retry-After: a test) and
    asks again.  Every answer is noted: (start, end, scheduler, what,
    status, Retry-After given)."""

    def __init__(self, servers, honest, n, after, accounts=None):
        self.urls = [s.url for s in servers]
        self.honest = honest
        self.hosts = []
        for i in range(n):  # with accounts, host i is of account i % accounts
            key = self.hosts[i % accounts].account_key if accounts and i >= accounts else None
            self.hosts.append(F.Host(servers[i % len(servers)], "host%d" % i, key))
        self.after = after  # acknowledged results at which `reached` is set
        self.lock = threading.Lock()
        self.acked = {}  # replica id -> SHA-256 of the body acknowledged with a 200
        self.answers = []
        self.stop = threading.Event()
        self.reached = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(n)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=HANG_S + 30)

    def call(self, i, what, path, method, **kw):
        t0 = time.time()
        st, body, ra, _ = req(self.urls[i] + path, method, **kw)
        with self.lock:
            self.answers.append((t0, time.time(), i, what, st, ra))
        return st, body

    def run(self, h):
        host, i = self.hosts[h], h % len(self.urls)
        while not self.stop.is_set():
            st, r = self.call(i, "work", "/api/v1/work", "POST", body={"want_seconds": 1e-6},
                              key=host.key)
            if st is None:
                i = (i + 1) % len(self.urls)
                continue
            if st != 200 or not r["assignments"]:
                time.sleep(0.05)
                continue
            for a in r["assignments"]:
                body = json.dumps({"version": 1, "unit_id": a["unit_id"],
                                   "unit_sha256": a["sha256"],
                                   "result": self.honest[a["unit_id"]]}).encode()
                path = "/api/v1/replicas/%d/result" % a["replica_id"]
                while not self.stop.is_set():
                    st, _ = self.call(i, "upload", path, "PUT", raw=body, key=host.key)
                    if st == 200:
                        with self.lock:
                            self.acked[a["replica_id"]] = hashlib.sha256(body).hexdigest()
                            if len(self.acked) >= self.after:
                                self.reached.set()
                        break
                    if st is None:
                        i = (i + 1) % len(self.urls)
                    elif st == 503:
                        time.sleep(0.05)
                    else:
                        break

    def statuses(self, pick):
        with self.lock:
            return [x for x in self.answers if pick(x)]


def load_project(tmp, name, rec, hosts, servers_args):
    """A project of small units, two schedulers and a swarm of hosts on
    them (not started); the units' deadline is short, so that a replica
    whose work reply was lost with a scheduler goes out again."""
    d, total = project(tmp, name, rec, "2^12", "--deadline", "4s")
    F.check(total >= 30, "the recording was cut into %d units" % total)
    honest = honest_results(d)
    servers = [serve(d, args, log="serve-%s.log" % "ab"[k])
               for k, args in enumerate(servers_args)]
    return d, total, servers, Swarm(servers, honest, hosts, after=2 * total // 3)


def scenario_kill9(tmp, rec):
    d, total, (a, b), swarm = load_project(tmp, "kill9", rec, 6, ([], []))
    try:
        swarm.start()
        F.check(swarm.reached.wait(timeout=60), "a third of the results came in")
        a.kill9()
        t_kill = time.time()
        print("   scheduler A killed with %d results acknowledged" % len(swarm.acked))
        ok = wait_validated(b, total, timeout=90)
        swarm.join()
        F.check(ok, "the surviving scheduler validated every unit")
        after = swarm.statuses(lambda x: x[0] > t_kill and x[2] == 1)
        bad = [x for x in after if x[4] != 200]
        F.check(len(after) > 10 and not bad, "the survivor answered all of %d requests after the "
                "kill with a 200 (others: %s)" % (len(after), bad[:5]))
        # Before the kill the two schedulers' transactions may conflict
        # often enough that one gives up on a batch: a 503, sent again.
        odd = swarm.statuses(lambda x: x[4] not in (200, 503, None) or (x[4] == 503 and not x[5]))
        F.check(not odd, "every answer was a 200, a 503 with Retry-After (%d, while both ran) or "
                "none (from the killed scheduler): %s"
                % (len(swarm.statuses(lambda x: x[4] == 503)), odd[:5]))
        check_acked(d, swarm.acked, "kill -9")
        check_units(b, d, "kill9", total, "after kill -9 of one of two")
        check_credit(b, d, [h.account_id for h in swarm.hosts], "after kill -9 of one of two")
        F.check(b.stop() == 0, "SIGTERM stops the survivor with status 0")
    finally:
        swarm.join()


def scenario_restart(tmp, rec):
    d, total, (a, b), swarm = load_project(tmp, "restart", rec, 6, ([], ["--no-jobs"]))
    try:
        F.check(server_info(b).get("jobs") is None and server_info(a)["jobs"],
                "serve --no-jobs runs no background jobs, the other scheduler does")
        swarm.start()
        F.check(swarm.reached.wait(timeout=60), "a third of the results came in")
        t0 = time.time()
        rc = subprocess.run(os.environ["PG_RESTART"], shell=True).returncode
        t1 = time.time()
        F.check(rc == 0, "pg_ctl restart -m immediate under load (%.1f s)" % (t1 - t0))
        ok = wait_validated(a, total, timeout=90)
        swarm.join()
        F.check(ok, "every unit validated after the restart: the jobs reconnected")
        met = swarm.statuses(lambda x: x[1] > t0 and x[0] < t1)
        n503 = [x for x in met if x[4] == 503]
        F.check(met, "%d requests met the outage, %d of them answered 503" % (len(met), len(n503)))
        odd = swarm.statuses(lambda x: x[4] not in (200, 503) or (x[4] == 503 and not x[5]))
        F.check(not odd, "every answer was a 200, or a 503 with Retry-After (others: %s)"
                % odd[:5])
        slow = max(x[1] - x[0] for x in swarm.statuses(lambda x: True))
        F.check(slow < HANG_S, "every answer came within %.0f s (the slowest: %.2f s)"
                % (HANG_S, slow))
        for k in (0, 1):
            fine = swarm.statuses(lambda x: x[0] > t1 and x[2] == k and x[3] == "work"
                                  and x[4] == 200)
            F.check(fine, "scheduler %s answers work requests after the restart (%d)"
                    % ("AB"[k], len(fine)))
        check_acked(d, swarm.acked, "restart")
        check_units(a, d, "restart", total, "after the restart")
        check_credit(a, d, [h.account_id for h in swarm.hosts], "after the restart")
        F.check(a.stop() == 0 and b.stop() == 0, "SIGTERM stops both schedulers with status 0")
    finally:
        swarm.join()


def conflicts(srv):
    """The scheduler's write transactions that lost a conflict with another
    scheduler's and ran again (/metrics)."""
    st, text = F.call(srv.url + "/metrics")
    assert st == 200, st
    text = text.decode() if isinstance(text, bytes) else text
    for line in text.splitlines():
        if line.startswith("ozma_database_write_conflicts_total "):
            return int(line.split()[1])
    raise AssertionError("no ozma_database_write_conflicts_total in /metrics")


def scenario_collide(tmp, rec):
    """Two schedulers with jobs, twelve hosts of three accounts split
    between them, all asking for the same few units at once: their claims
    meet on the same rows all the time.  No write may fail for it (every
    answer a 200), and none of the invariants may give."""
    d, total, (a, b), swarm = load_project(tmp, "collide", rec, 0, ([], []))
    swarm = Swarm([a, b], swarm.honest, 12, after=total, accounts=3)
    owner = dict(F.db(d, "SELECT id, account_id FROM hosts"))
    accounts = sorted(set(owner.values()))
    F.check(len(accounts) == 3 and len(owner) == 12, "12 hosts of %d accounts, each account's "
            "hosts on both schedulers" % len(accounts))
    try:
        swarm.start()
        ok = wait_validated(a, total, timeout=90)
        swarm.join()
        F.check(ok, "every unit validated with both schedulers' claims meeting")
        works = swarm.statuses(lambda x: x[3] == "work")
        odd = swarm.statuses(lambda x: x[4] != 200)
        F.check(len(works) > total and not odd, "all %d answers were 200s, no write failed "
                "against the other scheduler's (others: %s)"
                % (len(swarm.statuses(lambda x: True)), odd[:5]))
        # Rows are locked, not SERIALIZABLE snapshots checked: a write
        # runs again only after a deadlock (two batches taking a unit's and
        # a host's rows in opposite orders: rare, but a loaded machine saw
        # 4 in one run), and the jobs never wait for a unit.  SERIALIZABLE
        # batches lost some 50 conflicts in this run, a seventh of the
        # answers; the bound is a twentieth.
        lost = [conflicts(s) for s in (a, b)]
        bound = max(4, len(works) // 20)
        F.check(sum(lost) <= bound, "the two schedulers ran %s write transactions again after a "
                "conflict (at most %d)" % (lost, bound))
        check_acked(d, swarm.acked, "collide")
        sent = dict(F.db(d, "SELECT id, host_id FROM replicas WHERE host_id IS NOT NULL"))
        stray = [rid for rid in swarm.acked if rid not in sent]
        F.check(not stray, "each acknowledged result is of a replica sent to one host (%s)"
                % stray[:5])
        check_units(a, d, "collide", total, "claims colliding")
        check_credit(a, d, accounts, "claims colliding")
        F.check(a.stop() == 0 and b.stop() == 0, "SIGTERM stops both schedulers with status 0")
    finally:
        swarm.join()


def main():
    if not testdb.pg() or not os.environ.get("PG_RESTART"):
        sys.exit("sched_pg_multi.py: run under pg_run.sh (a PostgreSQL cluster)")
    # ctest's timeout: SIGTERM, and the finally clauses stop what was started
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("sched_pg_multi.py: terminated"))
    tmp = tempfile.mkdtemp(prefix="oz-pgmulti-")
    rec = os.path.join(tmp, "rec")
    subprocess.run([F.SYNTH, "--out", rec, "--samples", "163840", "--datatype", "ci16_le",
                    "--seed", "7", "--datetime", "2026-11-25T12:00:00Z",
                    "--spike", "f=1000.5,drift=0.5,snr=0.05",
                    "--spike", "f=-2000.25,drift=-1,snr=0.05"], check=True, capture_output=True)
    scenarios = {"two": scenario_two, "collide": scenario_collide, "kill9": scenario_kill9,
                 "restart": scenario_restart}
    for name in F.ONLY or list(scenarios):
        print("== %s" % name, flush=True)
        t = time.time()
        try:
            scenarios[name](tmp, rec)
        finally:
            reap()
        print("   (%.1f s)" % (time.time() - t), flush=True)
    F.finish(tmp, "all checks of several schedulers on PostgreSQL passed")

if __name__ == "__main__":
    main()

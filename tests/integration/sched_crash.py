# sched_crash.py - the client half of test_sched_crash.sh (run by it, not
# by ctest on its own): kill -9 of a real `ozma-server serve` while hosts
# take work and upload results, again and again (issue 21, "Tests that
# stay").  Each host keeps a ledger of the results the server acknowledged
# with 200 (`accepted`); the server is killed at random moments CYCLES
# times and started again on the same project, and the hosts carry on
# against it, resending what got no answer as the worker does.  At the
# end, after a clean restart and the validator's run, the database must
# hold every acknowledged result byte for byte (acknowledged set within the
# stored set), each counted once (the units' success counters, the hosts'
# in-progress counters), every acknowledged replica valid with the credit
# scheduler/credit.c gives its unit's FLOPs, and each host's and account's
# total the sum of its replicas' credit.  Prints "ok: ..." / "FAIL: ..."
# lines and exits 1 on any failure.
#
#   python3 sched_crash.py BIN_DIR WORK CYCLES [iofault|powercut]
#
# With "iofault" each cycle's server also has I/O errors injected below
# SQLite (BIN_DIR/oz_vfs_fault.so preloaded, tests/fault/vfs_fault.c): a
# run of write-side calls at a random point fail, so requests meanwhile
# may get 500 or 503, never a 200 for what was not stored; the last, clean
# start has none.
#
# With "powercut" each kill is a power cut: the server runs with
# BIN_DIR/oz_vfs_powercut.so preloaded (tests/fault/vfs_powercut.c), and
# after the kill every write to the database files that no fsync covered
# is undone (powercut.py) before anything opens them again.  Then, on a
# copy of the files as the cut left them, every result acknowledged so far
# must be there byte for byte, every stored result must be one a host sent
# (acknowledged or in flight), integrity_check must be ok and the counters
# and credit must agree - and again at the end.  Work assignments are not
# fsynced (scheduler/store/store_work.c), so a cut may take one back: the host's
# upload then gets 403 (not sent to this host) and the host drops it; the
# unit goes out again.  That alone is expected of a power cut.
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import sys
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import powercut  # noqa: E402
import sched_project  # noqa: E402

BIN, WORK, CYCLES = sys.argv[1], sys.argv[2], int(sys.argv[3])
IOFAULT = sys.argv[4:5] == ["iofault"]
POWERCUT = sys.argv[4:5] == ["powercut"]
FAULT_OK = (500, 503) if IOFAULT else (503,)
HOSTS = 8
check = sched_project.Checks()


# Generous limits: the test is about crashes, not about hoarding or spam.
CONFIG = {"job_tick_s": 0.2, "per_ip_connection_limit": 0, "rate_per_host": 1e5,
          "rate_burst": 1e6, "read_rate": 1e5, "read_burst": 1e6, "max_ncpus": 64,
          "new_host_ncpus": 64, "daily_result_quota": 1000000, "max_hosts_per_account": 1000,
          "max_hosts_per_account_day": 1000, "max_in_progress_per_cpu": 2}
# About 36 units (73 replicas) a cycle, and each kill comes after 15 to 55
# new acknowledgments (at a random moment of the upload stream, whatever
# the machine's speed): the hosts still have work at the last kill, then
# return the rest.  No more units than that: the sanitized ozma-search
# takes 60 ms a unit to compute them beforehand.
proj, results = sched_project.make_project(BIN, WORK, max(8, CYCLES) << 17, 1 << 12, CONFIG)
PACE = [0.02]
print("ok: %d units, each result computed beforehand" % len(results))
log = os.path.join(WORK, "serve.log")
db_path = os.path.join(proj, "ozma.db")


class Server:
    def __init__(self):
        self.proc = None
        self.hostport = None
        self.start()

    def start(self, env=None):
        self.proc, url = sched_project.serve(BIN, proj, log, env)
        with open(os.path.join(WORK, "server.pid"), "w") as f:  # for the script's cleanup
            f.write(str(self.proc.pid))
        self.hostport = url.split("//", 1)[1]


srv = Server()
stop = threading.Event()
ledger = {}           # replica id -> sha256 of the result text acknowledged with 200
ledger_lock = threading.Lock()
sent = set()          # replica ids whose result a host has sent at least once
lost_assignments = set()  # replicas a power cut took back from their host (powercut mode)
unexpected = []       # replies no crash explains
cut = [0]             # requests that got no answer (the server was killed or starting)
keys = []


def register(i):
    c = sched_project.Client(srv.hostport)
    st, a = c.json("POST", "/api/v1/accounts", {"name": "crash%d" % i})
    st2, h = c.json("POST", "/api/v1/hosts", {"name": "h%d" % i, "os": "Linux", "ncpus": 4,
                                              "flops": 1e9, "memory_mb": 4096},
                    key=a["authenticator"])
    c.close()
    if not (st == 200 and st2 == 200):
        sys.exit("registration failed: %s %s" % (st, st2))
    return h["host_key"]


def host(key, seed):
    rnd = random.Random(seed)
    c = sched_project.Client(srv.hostport)
    held = set()         # replicas this host holds and has not had acknowledged
    todo = {}            # replica id -> result text, "computed" and not yet acknowledged

    def acked(rid):
        with ledger_lock:
            ledger[rid] = hashlib.sha256(todo[rid].encode()).hexdigest()
        todo.pop(rid)
        held.discard(rid)

    def forgotten(rid, status, message):
        """A power cut may take back an assignment (dispatch is not
        fsynced: scheduler/store/store_work.c): the upload is then refused as a
        replica not sent to this host, and the host drops it, as the
        worker does.  Anything else is unexpected."""
        if not (POWERCUT and status == 403 and "not sent to this host" in message):
            return False
        todo.pop(rid, None)
        held.discard(rid)
        lost_assignments.add(rid)
        return True

    while not stop.is_set():
        if c.hostport != srv.hostport:
            c.close()
            c = sched_project.Client(srv.hostport)
        try:
            if todo and rnd.random() < 0.5:  # half by PUT, half carried by a work request
                rid = rnd.choice(sorted(todo))
                sent.add(rid)
                st, j = c.json("PUT", "/api/v1/replicas/%d/result" % rid, raw=todo[rid].encode(),
                               key=key)
                if st == 200 and j.get("accepted") is True:
                    acked(rid)
                elif st not in FAULT_OK and not forgotten(rid, st, str(j)):
                    unexpected.append("PUT %d: %s %s" % (rid, st, str(j)[:200]))
                time.sleep(PACE[0])
                continue
            carried = sorted(todo)[:2]
            sent.update(carried)
            body = {"want_seconds": 1, "held": sorted(held),
                    "results": [{"replica_id": r, "result": todo[r]} for r in carried]}
            st, j = c.json("POST", "/api/v1/work", body, key=key)
            if st != 200:
                if st not in FAULT_OK:
                    unexpected.append("work: %s %s" % (st, str(j)[:200]))
                continue
            for s in j.get("results", []):
                if s.get("accepted") is True:
                    acked(s["replica_id"])
                elif (s.get("error", {}).get("status") not in FAULT_OK and
                      not forgotten(s["replica_id"], s.get("error", {}).get("status"), str(s))):
                    unexpected.append("carried %s" % str(s)[:200])
            for a in j["assignments"]:
                held.add(a["replica_id"])
                todo[a["replica_id"]] = results[a["unit_id"]]
            if not j["assignments"] and not todo:
                time.sleep(0.1)
            time.sleep(PACE[0])  # a pace that makes the work last through the cycles
        except (OSError, http.client.HTTPException):
            cut[0] += 1
            c.close()
            time.sleep(0.02)
    c.close()


keys = [register(i) for i in range(HOSTS)]
threads = [threading.Thread(target=host, args=(k, i)) for i, k in enumerate(keys)]
for t in threads:
    t.start()
rnd = random.Random(int(os.environ.get("OZ_CRASH_SEED", "1")))
def preload_env(lib, extra):
    """The environment of a server with the shim LIB preloaded (under ASan
    it comes before ASan's runtime, which must be told to allow it)."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return dict(extra, LD_PRELOAD=os.path.join(os.path.abspath(BIN), lib),
                ASAN_OPTIONS=(asan + ":" if asan else "") + "verify_asan_link_order=0")


def fault_env(after, count):
    return preload_env("oz_vfs_fault.so", {"OZ_VFS_FAULT_AFTER": str(after),
                                           "OZ_VFS_FAULT_COUNT": str(count)})


def powercut_env(n):
    return preload_env("oz_vfs_powercut.so",
                       {"OZ_VFS_POWERCUT_LOG": os.path.join(WORK, "undo-%d.log" % n)})


def next_env(cycle, last):
    if last:
        return None
    if IOFAULT:
        return fault_env(rnd.randint(20, 400), rnd.randint(1, 40))
    return powercut_env(cycle + 1) if POWERCUT else None


def store_checks(path, acked, label):
    """The database at PATH against the acknowledged results ACKED
    (replica id -> sha256): integrity, every acknowledged result stored byte
    for byte, every stored result one a host sent, counters and credit
    agreeing.  Returns the number of stored results."""
    db = sqlite3.connect(path)
    check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
          "%s: integrity_check ok" % label)
    stored = {rid: (hashlib.sha256(res.encode()).hexdigest() if res else None)
              for rid, res in db.execute("SELECT id, result FROM replicas"
                                         " WHERE received IS NOT NULL")}
    missing = [r for r in acked if r not in stored]
    changed = [r for r in acked if r in stored and stored[r] != acked[r]]
    check(not missing and not changed,
          "%s: every acknowledged result is stored byte for byte: %d acknowledged, %d stored, "
          "%d missing, %d changed" % (label, len(acked), len(stored), len(missing), len(changed)))
    stray = [r for r in stored if r not in sent]
    check(not stray, "%s: every stored result is one a host sent, acknowledged or in flight "
          "(%d not: %s)" % (label, len(stray), stray[:5]))
    bad = db.execute("SELECT count(*) FROM units u WHERE n_success !="
                     " (SELECT count(*) FROM replicas r WHERE r.unit_id = u.id AND r.outcome = 1)"
                     ).fetchone()[0]
    check(bad == 0, "%s: each unit's success counter counts its successes once (%d differ)"
          % (label, bad))
    bad = db.execute("SELECT count(*) FROM hosts h WHERE in_progress !="
                     " (SELECT count(*) FROM replicas r WHERE r.host_id = h.id AND r.state = 1)"
                     ).fetchone()[0]
    check(bad == 0, "%s: each host's in-progress counter agrees with its replicas (%d differ)"
          % (label, bad))
    # credit.c: flops / 1e9 / 86400 * 200 per valid replica
    bad = db.execute("SELECT count(*) FROM replicas r JOIN units u ON u.id = r.unit_id"
                     " WHERE r.validate_state = 1"
                     " AND abs(r.credit - u.flops / 1e9 / 86400.0 * 200.0) > 1e-9 * r.credit"
                     ).fetchone()[0]
    check(bad == 0, "%s: each valid replica has its unit's credit (%d differ)" % (label, bad))
    for table, col in (("hosts", "host_id"), ("accounts", "account_id")):
        rows = db.execute("SELECT t.id, t.total_credit, (SELECT coalesce(sum(credit), 0)"
                          " FROM replicas r WHERE r.%s = t.id AND r.validate_state = 1)"
                          " FROM %s t" % (col, table)).fetchall()
        bad = [r for r in rows if abs(r[1] - r[2]) > 1e-6 * max(1.0, r[2])]
        check(not bad, "%s: each of %d %s has the credit of its valid replicas, granted once (%s)"
              % (label, len(rows), table, bad[:3]))
    total = db.execute("SELECT sum(total_credit) FROM hosts").fetchone()[0] or 0
    daily = db.execute("SELECT sum(credit) FROM credit_daily WHERE kind = 'host'"
                       ).fetchone()[0] or 0
    check(abs(total - daily) <= 1e-6 * max(1.0, total),
          "%s: the credit history adds up to the hosts' totals (%.6f, %.6f)"
          % (label, total, daily))
    db.close()
    return len(stored)


def after_cut(cycle):
    """Undoes what the cut server wrote and did not sync, then checks a
    copy of the files as the cut left them (SQLite's recovery of the copy
    must not change what the next server finds).  Returns the writes undone."""
    undone, kept, nbytes, per_file = powercut.undo(os.path.join(WORK, "undo-%d.log" % cycle))
    with ledger_lock:
        acked = dict(ledger)
    snap = os.path.join(WORK, "snap")
    os.makedirs(snap, exist_ok=True)
    for ext in ("", "-wal"):
        if os.path.exists(os.path.join(snap, "ozma.db" + ext)):
            os.unlink(os.path.join(snap, "ozma.db" + ext))
        if os.path.exists(db_path + ext):
            shutil.copyfile(db_path + ext, os.path.join(snap, "ozma.db" + ext))
    if os.path.exists(os.path.join(snap, "ozma.db-shm")):
        os.unlink(os.path.join(snap, "ozma.db-shm"))
    n = store_checks(os.path.join(snap, "ozma.db"), acked, "power cut %d" % (cycle + 1))
    print("power cut %d: %d writes undone (%s; %d bytes put back), %d synced kept; "
          "%d acknowledged, %d stored" % (cycle + 1, undone, ", ".join(
              "%s %d" % kv for kv in sorted(per_file.items())) or "none", nbytes, kept,
              len(acked), n))
    return undone


before = []
exited = []  # exit statuses of servers that ended before their kill
undone = []  # writes each power cut undid
if IOFAULT or POWERCUT:
    srv.proc.kill()
    srv.proc.wait()
    srv.start(fault_env(100, 20) if IOFAULT else powercut_env(0))
try:
    for cycle in range(CYCLES):
        target, t = len(ledger) + rnd.randint(15, 55), time.monotonic()
        while len(ledger) < target and time.monotonic() < t + 20:
            time.sleep(0.002)
        before.append(len(ledger))
        srv.proc.send_signal(signal.SIGKILL)
        if srv.proc.wait() != -signal.SIGKILL:
            exited.append(srv.proc.returncode)
        if POWERCUT:
            undone.append(after_cut(cycle))
        srv.start(next_env(cycle, cycle == CYCLES - 1))
    total = len(results) * 2
    check(not exited, "no server ended by itself before its kill (%s)" % exited)
    check(all(0 < n < total for n in before) and before == sorted(set(before)),
          "%d kill -9 cycles, each under load: results acknowledged at each kill %s of %d, "
          "%d requests cut" % (CYCLES, before, total, cut[0]))
    if POWERCUT:
        check(sum(undone) > 0, "the power cuts lost unsynced writes: %s undone" % undone)
    # A clean run to the end: every unit validated, or 60 s.
    PACE[0] = 0.005
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db = sqlite3.connect(db_path, timeout=10)
        left = db.execute("SELECT count(*) FROM units WHERE state != 1").fetchone()[0]
        db.close()
        if left == 0:
            break
        time.sleep(0.5)
    check(left == 0, "after the last restart every unit is validated (%d left)" % left)
finally:
    stop.set()
    for t in threads:
        t.join(timeout=30)
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(timeout=30)
    os.unlink(os.path.join(WORK, "server.pid"))
check(rc == 0, "SIGTERM after the cycles: exit %d" % rc)
check(not unexpected, "no reply a crash does not explain (%d: %s)"
      % (len(unexpected), "; ".join(unexpected[:3])))

n_stored = store_checks(db_path, ledger, "at the end")
db = sqlite3.connect(db_path)
bad = db.execute("SELECT count(*) FROM replicas WHERE received IS NOT NULL"
                 " AND (outcome != 1 OR validate_state != 1)").fetchone()[0]
check(bad == 0, "every stored result is a success and valid (%d not)" % bad)
total = db.execute("SELECT sum(total_credit) FROM hosts").fetchone()[0] or 0
check(total > 0, "credit was granted (%.6f)" % total)
db.close()
print("figures: cycles=%d acknowledged=%d stored=%d cut=%d"
      % (CYCLES, len(ledger), n_stored, cut[0]))
if POWERCUT:
    print("figures: power_cuts=%d writes_undone=%d assignments_taken_back=%d"
          % (CYCLES, sum(undone), len(lost_assignments)))
with open(log, errors="replace") as f:
    text = f.read()
check("Sanitizer" not in text and "runtime error" not in text, "no sanitizer report")
if IOFAULT:
    n = text.count("disk I/O error")
    check(n > 0, "the faults reached the server: %d log lines name a disk I/O error" % n)
    print("figures: io_error_lines=%d" % n)
sys.exit(1 if check.failures else 0)

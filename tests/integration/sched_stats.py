# sched_stats.py - the statistics exports (scheduler/stats.h), run by
# test_sched_stats.sh: a real server on loopback, three accounts (two in a
# team) whose hosts return real results (quorum 1, so each valid result is
# credit at once), and the exports every stats_interval_s (1 s here).
#
# Checked as a stats site would read them: /stats/tables.xml, user.gz,
# team.gz and host.gz parse as XML with BOINC's element names and their
# totals equal the API's leaderboards (/api/v1/users, teams, hosts); the
# .jsonl.gz files say the same; the first export is there at start (empty
# lists); a file is replaced whole (no temporary files left behind); only
# the export names are served.
#
#   python3 sched_stats.py BIN_DIR WORK_DIR
import gzip
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_project  # noqa: E402

BIN, WORK = sys.argv[1:3]
check = sched_project.Checks()


proj, results = sched_project.make_project(BIN, WORK, 4 * 32768, 32768,
                                           {"stats_interval_s": 1, "max_in_progress_per_cpu": 1,
                                            "read_rate": 1000, "read_burst": 10000}, quorum=1, replicas=1)
proc, url = sched_project.serve(BIN, proj, os.path.join(WORK, "server.log"))
cl = sched_project.Client(url.split("//", 1)[1])
stats_dir = os.path.join(proj, "stats")


def get_raw(path):
    """(status, bytes, content type) of a GET, on a fresh connection."""
    import http.client
    c = http.client.HTTPConnection(url.split("//", 1)[1], timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body, r.getheader("Content-Type")


def close(a, b):
    """Equal within the 9 decimals the XML carries and a relative 1e-6."""
    return abs(a - b) <= 1e-9 + 1e-6 * abs(b)


def tables():
    st, body, _ = get_raw("/stats/tables.xml")
    return ET.fromstring(body) if st == 200 else None


try:
    # ---- the first export, written as the server starts ------------------------------
    deadline = time.time() + 10
    t0 = None
    while time.time() < deadline and t0 is None:
        t0 = tables()
        time.sleep(0.1)
    check(t0 is not None and t0.tag == "tables" and t0.findtext("nusers_total") == "0",
          "tables.xml at start: no users with credit yet")
    st, body, ctype = get_raw("/stats/user.gz")
    check(st == 200 and ctype == "application/gzip" and
          ET.fromstring(gzip.decompress(body)).tag == "users" and
          len(ET.fromstring(gzip.decompress(body))) == 0, "user.gz at start: an empty <users>")

    # ---- credit: three accounts, two in a team, one host each ------------------------------
    keys = {}
    for name in ("ada", "bob", "cyd"):
        st, a = cl.json("POST", "/api/v1/accounts", {"name": name})
        check(st == 200, "account %s" % name)
        keys[name] = a["authenticator"]
    st, t = cl.json("POST", "/api/v1/teams", {"name": "Listeners & <Co>",
                                              "description": "we \"listen\""}, keys["ada"])
    check(st == 200, "team created")
    st, _ = cl.json("POST", "/api/v1/teams/%d/join" % t["team_id"], None, keys["bob"])
    check(st == 200, "bob joins the team")
    for i, name in enumerate(("ada", "bob", "cyd")):
        st, h = cl.json("POST", "/api/v1/hosts",
                        {"name": "h-" + name, "os": "Linux 6.1.0 x86_64", "ncpus": 1,
                         "flops": 1e9, "memory_mb": 1024}, keys[name])
        check(st == 200, "host of %s" % name)
        # one unit in progress per host (max_in_progress_per_cpu 1): ada
        # returns two, the others one each
        for _ in range(2 if name == "ada" else 1):
            st, w = cl.json("POST", "/api/v1/work", {"want_seconds": 1}, h["host_key"])
            for a in w.get("assignments", []) if st == 200 else []:
                st, _ = cl.json("PUT", "/api/v1/replicas/%d/result" % a["replica_id"],
                                raw=results[a["unit_id"]].encode(), key=h["host_key"])
                check(st == 200, "%s uploads %s" % (name, a["unit_id"]))

    # the validator grants credit; then an export newer than that
    def users_api():
        out, after = [], None
        while True:
            st, j = cl.json("GET", "/api/v1/users?limit=500" + ("&after=" + after if after
                                                                  else ""))
            out += j["users"]
            after = j.get("next")
            if not after:
                return out

    deadline = time.time() + 20
    while time.time() < deadline:
        api_users = [u for u in users_api() if u["total_credit"] > 0]
        if len(api_users) == 3:
            break
        time.sleep(0.2)
    check(len(api_users) == 3, "all three accounts have credit (%d)" % len(api_users))
    credited = time.time()
    deadline = time.time() + 10
    t1 = None
    while time.time() < deadline:
        t1 = tables()
        if t1 is not None and int(t1.findtext("update_time")) > credited + 1:
            break
        time.sleep(0.2)
    check(t1 is not None and int(t1.findtext("update_time")) > int(t0.findtext("update_time")),
          "tables.xml rewritten on the schedule (update_time %s, then %s)"
          % (t0.findtext("update_time"), t1.findtext("update_time") if t1 is not None else None))

    # ---- the XML against the API ------------------------------------------------------------
    st, body, _ = get_raw("/stats/user.gz")
    users = ET.fromstring(gzip.decompress(body))
    rows = {int(u.findtext("id")): u for u in users.findall("user")}
    api = {u["id"]: u for u in users_api() if u["total_credit"] > 0}
    check(set(rows) == set(api), "user.gz lists the accounts with credit: %s" % sorted(rows))
    for uid, u in rows.items():
        check(set(c.tag for c in u) >= {"id", "name", "create_time", "total_credit",
                                        "expavg_credit", "expavg_time"},
              "user %d has BOINC's elements: %s" % (uid, [c.tag for c in u]))
        check([c.tag for c in u][:6] == ["id", "name", "create_time", "total_credit",
                                         "expavg_credit", "expavg_time"],
              "user %d: in BOINC's order" % uid)
        check(u.findtext("name") == api[uid]["name"] and
              close(float(u.findtext("total_credit")), api[uid]["total_credit"]) and
              # recent credit decays (7-day half-life): 1e-4 is over a minute apart
              abs(float(u.findtext("expavg_credit")) - api[uid]["recent_credit"]) <=
              1e-9 + 1e-4 * api[uid]["recent_credit"],
              "user %d: name and credit as the API says" % uid)
        team = u.findtext("teamid")
        check((team and int(team)) == (api[uid]["team_id"] or None),
              "user %d: teamid %s" % (uid, team))
    xml_total = sum(float(u.findtext("total_credit")) for u in rows.values())
    api_total = sum(u["total_credit"] for u in api.values())
    check(close(xml_total, api_total) and
          close(float(t1.findtext("total_credit")), api_total) and
          int(t1.findtext("nusers_total")) == len(api),
          "totals: user.gz %.6f, tables.xml %s, API %.6f over %d users"
          % (xml_total, t1.findtext("total_credit"), api_total, len(api)))

    st, body, _ = get_raw("/stats/team.gz")
    teams = ET.fromstring(gzip.decompress(body)).findall("team")
    st, tj = cl.json("GET", "/api/v1/teams/%d" % t["team_id"])
    check(len(teams) == 1 and teams[0].findtext("name") == "Listeners & <Co>" and
          teams[0].findtext("founder_name") == "ada" and
          teams[0].findtext("description") == 'we "listen"' and
          close(float(teams[0].findtext("total_credit")), tj["total_credit"]) and
          int(t1.findtext("nteams_total")) == 1,
          "team.gz: the team, its name escaped and read back, credit %s as the API's %s"
          % (teams[0].findtext("total_credit") if teams else None, tj.get("total_credit")))

    st, hj = cl.json("GET", "/api/v1/hosts?limit=500")
    api_hosts = {h["id"]: h for h in hj["hosts"] if h["total_credit"] > 0}
    st, body, _ = get_raw("/stats/host.gz")
    hosts = {int(h.findtext("id")): h for h in ET.fromstring(gzip.decompress(body)).findall("host")}
    check(set(hosts) == set(api_hosts) and int(t1.findtext("nhosts_total")) == len(api_hosts) and
          all(close(float(h.findtext("total_credit")), api_hosts[i]["total_credit"]) and
              h.findtext("os_name") == "Linux" and h.findtext("os_version") == "6.1.0 x86_64"
              for i, h in hosts.items()),
          "host.gz: %d hosts, credit, os_name and os_version as the API" % len(hosts))

    # ---- the JSON lines say the same ------------------------------------------------------------
    st, body, _ = get_raw("/stats/user.jsonl.gz")
    jl = [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]
    check(st == 200 and {u["id"]: round(u["total_credit"], 9) for u in jl} ==
          {i: round(float(u.findtext("total_credit")), 9) for i, u in rows.items()},
          "user.jsonl.gz: the same users and credit as user.gz")
    st, body, _ = get_raw("/stats/tables.json")
    tjs = json.loads(body)
    check(st == 200 and tjs["nusers_total"] == len(api) and
          close(tjs["total_credit"], api_total), "tables.json: the same totals")
    for f in ("team.jsonl.gz", "host.jsonl.gz"):
        st, body, _ = get_raw("/stats/" + f)
        check(st == 200 and len(gzip.decompress(body).decode().splitlines()) ==
              (1 if f.startswith("team") else len(api_hosts)), f + ": one line per row")

    # ---- atomic files, and nothing else served ---------------------------------------------------
    left = [f for f in os.listdir(stats_dir) if ".tmp" in f]
    check(not left, "no temporary files left in stats/: %s" % left)
    with open(os.path.join(stats_dir, "secret.txt"), "w") as f:
        f.write("x")
    for path in ("/stats/secret.txt", "/stats/..%2Fozma.db", "/stats/", "/stats/user"):
        st, body, _ = get_raw(path)
        check(st == 404, "GET %s: %d" % (path, st))
finally:
    proc.terminate()
    proc.wait(timeout=15)
check(proc.returncode == 0, "server exit status %s on SIGTERM" % proc.returncode)
sys.exit(1 if check.failures else 0)

#!/usr/bin/env bash
# test_sched_names.sh - names cannot impersonate (issue 21, hole 6),
# through a real ozma-server on loopback: account and team names are
# stored NFKC-normalised and trimmed; invisible, bidi-control and
# whitespace-only names are 400; a team name that reads as a taken one
# (fullwidth letters, other case, extra spaces) is 409; joining by name
# joins the team the name reads as.  Then the database is turned back into
# schema 5 with a look-alike team in it, as an older server could have
# left it: the migration keys the oldest of the look-alikes, and joining by
# name still finds that one.  The normaliser's cases are unit-tested in
# test_sched_name.c.  KEEP=1 keeps the scratch directory.
#
# Usage: test_sched_names.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
for tool in sqlite3 python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
WORK=$(mktemp -d)
cleanup() {
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

python3 - "$BIN/ozma-server" "$WORK/proj" <<'EOF'
import http.client, json, sqlite3, subprocess, sys
SERVER, P = sys.argv[1:3]
failures = 0


def check(cond, msg):
    global failures
    print(("ok: " if cond else "FAIL: ") + msg, file=sys.stdout if cond else sys.stderr)
    failures += 0 if cond else 1
    return cond


class Server:
    def __init__(self):
        self.proc = subprocess.Popen([SERVER, "serve", P, "--port", "0", "--quiet"],
                                     stderr=subprocess.PIPE)
        line = self.proc.stderr.readline().decode()
        if "http://" not in line:
            raise SystemExit("FAIL: server did not start: " + line + self.proc.stderr.read().decode())
        self.hostport = line.split("http://", 1)[1].strip().rstrip("/")
        self.c = http.client.HTTPConnection(self.hostport, timeout=10)

    def req(self, method, path, body=None, token=None):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        self.c.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers=h)
        r = self.c.getresponse()
        return r.status, json.loads(r.read() or b"null")

    def stop(self):
        self.c.close()
        self.proc.terminate()
        check(self.proc.wait(timeout=20) == 0, "the server stops with exit 0")


def db(sql, *args):
    c = sqlite3.connect(P + "/ozma.db", timeout=10)
    try:
        rows = c.execute(sql, args).fetchall()
        c.commit()
        return rows
    finally:
        c.close()


if subprocess.run([SERVER, "init", P], capture_output=True).returncode != 0:
    raise SystemExit("FAIL: init")
s = Server()
FULLWIDTH = "\uff2f\uff5a\uff4d\uff41 Team"  # Ｏｚｍａ Team

st, a = s.req("POST", "/api/v1/accounts", {"name": "  Zo\u00eb   \u00c5ngstr\u00f6m "})
check(st == 200, "account \"  Zo\u00eb   \u00c5ngstr\u00f6m \" created (%d %s)" % (st, a))
A = a["authenticator"]
st, u = s.req("GET", "/api/v1/users/%d" % a["account_id"])
check(u["name"] == "Zo\u00eb \u00c5ngstr\u00f6m", "it is stored trimmed, one space (%r)" % u["name"])
st, y = s.req("POST", "/api/v1/accounts", {"name": "\u5c71\u7530"})
st, u = s.req("GET", "/api/v1/users/%d" % y.get("account_id", 0))
check(st == 200 and u["name"] == "\u5c71\u7530", "account \u5c71\u7530 kept as sent")
st, z = s.req("POST", "/api/v1/accounts", {"name": "\uff21lice"})
st, u = s.req("GET", "/api/v1/users/%d" % z.get("account_id", 0))
check(st == 200 and u["name"] == "Alice", "a fullwidth account name is stored as ASCII (%r)"
      % u.get("name"))
st, t = s.req("POST", "/api/v1/teams", {"name": "Ozma Team"}, A)
check(st == 200, "team \"Ozma Team\" created (%d)" % st)
TEAM = t["team_id"]

st, b = s.req("POST", "/api/v1/accounts", {"name": "mallory"})
B = b["authenticator"]
for name, what in [(FULLWIDTH, "fullwidth letters"), ("ozma team", "other case"),
                   ("OZMA TEAM", "capitals"), (" Ozma  Team ", "extra spaces"),
                   ("Ozma\u00a0Team", "a no-break space"),
                   ("\uff2f\uff3a\uff2d\uff21\u3000\uff34\uff25\uff21\uff2d", "all fullwidth")]:
    st, j = s.req("POST", "/api/v1/teams", {"name": name}, B)
    check(st == 409 and "taken" in j["error"]["message"],
          "a team named like \"Ozma Team\" (%s): 409 (%d %s)" % (what, st, j))
for name, what in [("Ozma\u200dTeam", "zero-width joiner"), ("Ozma\u200bTeam", "zero-width space"),
                   ("\u202emaeT amzO", "right-to-left override"), ("\u2067Ozma Team", "isolate"),
                   ("\ufeffOzma Team", "BOM"), ("   ", "spaces only"), ("\u3000", "ideographic space"),
                   ("\u3164", "Hangul filler")]:
    st, j = s.req("POST", "/api/v1/teams", {"name": name}, B)
    check(st == 400 and j["error"]["message"].startswith("name: "),
          "team name with %s: 400 (%d %s)" % (what, st, j))
    st, j = s.req("POST", "/api/v1/accounts", {"name": name})
    check(st == 400, "account name with %s: 400 (%d)" % (what, st))
st, j = s.req("POST", "/api/v1/accounts", {"name": "x", "team": "Ozma\u200dTeam"})
check(st == 400 and j["error"]["message"].startswith("team: "),
      "joining by a name with a zero-width joiner: 400 (%d %s)" % (st, j))
st, j = s.req("GET", "/api/v1/teams")
check([x["name"] for x in j["teams"]] == ["Ozma Team"], "no look-alike team was made")

# joining by name: the team the name reads as (there is only one)
for name in ["Ozma Team", FULLWIDTH, "ozma team", "  OZMA TEAM"]:
    st, c = s.req("POST", "/api/v1/accounts", {"name": "joiner", "team": name})
    st2, u = s.req("GET", "/api/v1/users/%d" % c.get("account_id", 0))
    check(st == 200 and u.get("team_id") == TEAM,
          "an account made with team %r joins \"Ozma Team\" (%d %s)" % (name, st, u.get("team_id")))
st, j = s.req("POST", "/api/v1/accounts", {"name": "x", "team": "Ozma Teams"})
check(st == 404, "a name that reads as no team: 404 (%d)" % st)
st, t2 = s.req("POST", "/api/v1/teams", {"name": "  \uff33\uff25\uff34\uff29  fans "}, B)
st2, tm = s.req("GET", "/api/v1/teams/%d" % t2.get("team_id", 0))
check(st == 200 and tm.get("name") == "SETI fans", "a team name is stored normalised (%r)"
      % tm.get("name"))
s.stop()

# ---- a database from before the rule, with a look-alike team in it ----
db("ALTER TABLE replicas DROP COLUMN result_bin")  # migration 17's
db("DROP VIEW dataset_progress")  # migration 16's: schema 15's counters back on datasets
db("DROP TRIGGER units_count_update")
db("DROP TABLE dataset_counts")
for col in ("n_validated", "n_error", "n_validating", "n_running", "n_unsent"):
    db("ALTER TABLE datasets ADD COLUMN %s INTEGER NOT NULL DEFAULT 0" % col)
db("ALTER TABLE units DROP COLUMN sky")  # migration 15's
db("DROP INDEX units_purge")  # migration 13's
db("ALTER TABLE units DROP COLUMN purged")
db("ALTER TABLE datasets DROP COLUMN files_gone")
db("DROP INDEX teams_name_key")
db("ALTER TABLE teams DROP COLUMN name_key")
for col in ("returned", "quota_day", "quota_sent"):  # migration 7's
    db("ALTER TABLE hosts DROP COLUMN " + col)
db("DROP INDEX replicas_host_running")  # migration 8's
db("DROP INDEX units_file_bad")  # migration 9's
for col in ("file_bad", "file_bad_time"):
    db("ALTER TABLE units DROP COLUMN " + col)
db("DROP INDEX signals_sky")  # migration 14's
db("CREATE INDEX signals_bary ON signals(pixel, freq_bary_hz, dataset_id, candidate_id)"
   " WHERE freq_bary_hz IS NOT NULL")
db("DROP TABLE candidates")  # migration 12's
db("DROP TABLE rfi_bins")
for idx in ("signals_time", "signals_bary", "signals_candidate"):
    db("DROP INDEX " + idx)
for col in ("ra_deg", "dec_deg", "pixel", "freq_bary_hz", "candidate_id"):
    db("ALTER TABLE signals DROP COLUMN " + col)
db("ALTER TABLE datasets DROP COLUMN sky")
db("DROP TABLE canaries")  # migration 11's
db("DROP TABLE spot_stats")
db("ALTER TABLE replicas DROP COLUMN spot")
for col in ("consecutive_valid", "n_valid", "n_invalid", "n_error", "quota_halvings"):
    db("ALTER TABLE hosts DROP COLUMN " + col)
db("ALTER TABLE datasets DROP COLUMN adaptive")
db("ALTER TABLE units DROP COLUMN single")
for col in ("banned", "ban_reason"):  # migration 10's
    db("ALTER TABLE hosts DROP COLUMN " + col)
db("PRAGMA user_version = 5")
db("INSERT INTO teams(name, created) VALUES(?, 0), (?, 0), (?, 0)", "\uff2f\uff3a\uff2d\uff21 team",
   "Ozma\u200dTeam", "Quiet Ones")
s = Server()
check(db("PRAGMA user_version") == [(17,)], "a schema-5 database is migrated to 17")
keys = dict(db("SELECT name, name_key FROM teams"))
check(keys == {"Ozma Team": "ozma team", "\uff2f\uff3a\uff2d\uff21 team": None,
               "Ozma\u200dTeam": None, "SETI fans": "seti fans", "Quiet Ones": "quiet ones"},
      "the oldest of the look-alikes has the key; the younger and the invisible have none (%r)"
      % keys)
st, c = s.req("POST", "/api/v1/accounts", {"name": "late", "team": "\uff2f\uff3a\uff2d\uff21 team"})
st2, u = s.req("GET", "/api/v1/users/%d" % c.get("account_id", 0))
check(st == 200 and u.get("team_id") == TEAM,
      "joining by the look-alike's own name joins the oldest, \"Ozma Team\" (%d)" % st)
st, c = s.req("POST", "/api/v1/accounts", {"name": "q", "team": "quiet ones"})
check(st == 200, "an older team is joined by its name (%d)" % st)
st, j = s.req("POST", "/api/v1/teams", {"name": "QUIET ONES"}, B)
check(st == 409, "and a look-alike of it is refused (%d)" % st)
s.stop()
sys.exit(1 if failures else 0)
EOF
rc=$?
[[ $rc -eq 0 ]] && pass "names" || fail "names (exit $rc)"
finish test_sched_names

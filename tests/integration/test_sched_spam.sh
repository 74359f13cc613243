#!/usr/bin/env bash
# test_sched_spam.sh - the limits on spam and guessing (issue 21, hole 5)
# through a real ozma-server on loopback: an account may register
# max_hosts_per_account hosts and no more; failed authentications are
# charged to the client address, so guessing tokens on one connection gets
# 429 with Retry-After after rate_burst failures, before any token is
# looked up, while account creation from that address keeps its own bucket.
# The keying of addresses (IPv6 /64) is unit-tested in test_sched_ratelimit.c,
# since loopback offers one address per family.  KEEP=1 keeps the scratch
# directory.
#
# Usage: test_sched_spam.sh BIN_DIR   (ctest passes build/PRESET/bin)
set -u
BIN=${1:?usage: $0 BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
SERVER=$BIN/ozma-server
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill -KILL "$SERVER_PID" 2>/dev/null
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
P=$WORK/proj

"$SERVER" init "$P" >/dev/null 2>"$WORK/err.txt" || { fail "init: $(cat "$WORK/err.txt")"; finish test_sched_spam; }
# 10 tokens, one back every 20 s: nothing refills while the checks run
python3 - "$P/project.json" <<'EOF' || fail "editing project.json"
import json, sys
c = json.load(open(sys.argv[1]))
c.update(rate_per_host=0.05, rate_burst=10, max_hosts_per_account=3)
json.dump(c, open(sys.argv[1], "w"))
EOF

serve_start "$P" test_sched_spam

python3 - "127.0.0.1:$PORT" <<'EOF' >"$WORK/client.out" 2>"$WORK/client.err"
import http.client, json, secrets, sys
HOSTPORT = sys.argv[1]
c = http.client.HTTPConnection(HOSTPORT, timeout=10)  # one keep-alive connection
failures = 0


def check(cond, msg):
    global failures
    print(("ok: " if cond else "FAIL: ") + msg, file=sys.stdout if cond else sys.stderr)
    failures += 0 if cond else 1


def req(method, path, body=None, token=None, auth=None):
    h = {"Content-Type": "application/json"}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if auth is not None:
        h["Authorization"] = auth
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read()
    try:
        j = json.loads(data)
    except ValueError:
        j = None
    return r.status, r, j


st, _, a = req("POST", "/api/v1/accounts", {"name": "alice"})
check(st == 200, "account created (%d)" % st)
A = a["authenticator"]
HOST = {"name": "h", "os": "Linux", "ncpus": 1, "flops": 1e9, "memory_mb": 1024}

# ---- hosts per account: max_hosts_per_account, then 403 ----
ids = []
for i in range(3):
    st, _, h = req("POST", "/api/v1/hosts", dict(HOST, name="h%d" % i), A)
    ids.append(h.get("host_id") if st == 200 else st)
check(all(isinstance(x, int) for x in ids), "an account registers 3 hosts (%s)" % ids)
st, _, j = req("POST", "/api/v1/hosts", dict(HOST, name="h3"), A)
msg = j["error"]["message"] if st >= 400 and j else ""
check(st == 403 and j["error"]["code"] == "forbidden" and "max_hosts_per_account" in msg and
      "3 hosts" in msg, "the 4th host of an account: 403 naming the limit (%d %s)" % (st, msg))
st, _, b = req("POST", "/api/v1/accounts", {"name": "bob"})
st, _, h = req("POST", "/api/v1/hosts", HOST, b["authenticator"]) if st == 200 else (st, 0, 0)
check(st == 200, "another account still registers its own host (%d)" % st)

# ---- guessing: charged to the address, 429 after rate_burst failures ----
codes = []
for i in range(10):
    st, _, j = req("POST", "/api/v1/work", {"want_seconds": 10}, secrets.token_hex(32))
    codes.append(st)
check(codes == [401] * 10, "10 unknown host keys: 401 each (%s)" % codes)
st, r, j = req("POST", "/api/v1/work", {"want_seconds": 10}, secrets.token_hex(32))
retry = r.getheader("Retry-After")
check(st == 429 and j["error"]["code"] == "rate_limited" and retry is not None and
      int(retry) >= 1, "the 11th guess on the same connection: 429 with Retry-After (%d %s)"
      % (st, retry))
st, _, _ = req("POST", "/api/v1/hosts", HOST, secrets.token_hex(32))
check(st == 429, "an unknown authenticator from the address: 429 (%d)" % st)
st, _, _ = req("POST", "/api/v1/work", {"want_seconds": 10}, auth="Basic xyz")
check(st == 429, "a malformed Authorization from the address: 429 (%d)" % st)
st, _, _ = req("POST", "/api/v1/work", {"want_seconds": 10})
check(st == 429, "no Authorization from the address: 429 (%d)" % st)
codes = [req("POST", "/api/v1/work", {"want_seconds": 10}, secrets.token_hex(32))[0]
         for i in range(200)]
check(codes.count(429) == 200, "200 more guesses: all 429 (%d)" % codes.count(429))
# while over, the address is refused before its token is looked up (so a
# guess, right or wrong, learns nothing), a valid one included
st, _, _ = req("POST", "/api/v1/hosts", HOST, A)
check(st == 429, "a valid authenticator from the address meanwhile: 429 (%d)" % st)
# account creation keeps its own bucket per address
st, _, _ = req("POST", "/api/v1/accounts", {"name": "carol"})
check(st == 200, "account creation from the address is not refused by the guessing (%d)" % st)
sys.exit(1 if failures else 0)
EOF
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "HTTP checks (exit $rc)"
fi
grep -q 'level=warn msg="request failed" method=POST path=/api/v1/work status=429' \
    "$WORK/serve.err" && pass "the 429s are logged" || fail "no 429 log line"

serve_stop
finish test_sched_spam

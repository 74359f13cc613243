#!/usr/bin/env bash
# test_sched_operator.sh - operator data stays with operators (issue 21,
# hole 11): GET /api/v1/server (the database's path, hosts' error texts,
# the paths and messages of the server's 5xx answers) is answered to
# requests from the server's own machine only, over loopback and not
# relayed by a proxy; everyone else gets 403, while GET /api/v1/status keeps
# the public counts and the pages still load.
#
# A client elsewhere is a client from a non-loopback address.  The server
# binds 0.0.0.0 and the test connects once to 127.0.0.1 (an operator) and
# once to this machine's own non-loopback address (from `hostname -I`), so
# the server sees that address as the client's: a real non-loopback client,
# no setting that pretends.  A loopback request carrying Forwarded,
# X-Forwarded-For or X-Real-IP is a stranger's relayed by a proxy on this
# machine, and is refused too.  Without a non-loopback address the loopback
# checks still run and the test then exits 77 (skipped), since its main
# case could not.  KEEP=1 keeps the scratch directory.
#
# Usage: test_sched_operator.sh BIN_DIR   (ctest passes build/PRESET/bin)
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
"$SERVER" init "$P" >/dev/null 2>"$WORK/err.txt" || fail "init: $(cat "$WORK/err.txt")"
"$BIN/ozma-synth" --out "$WORK/rec" --samples 2^15 --datatype ci8 >/dev/null \
    || fail "ozma-synth failed"
"$SERVER" load "$P" "$WORK/rec" --unit-samples 2^14 --fft-max 1024 --chirp-max 1 --quiet \
    2>"$WORK/err.txt" || fail "load: $(cat "$WORK/err.txt")"

"$SERVER" serve "$P" --bind 0.0.0.0 --port 0 2>"$WORK/serve.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's|^ozma-server: serving .* on http://0\.0\.0\.0:\([0-9]*\)/$|\1|p' \
        "$WORK/serve.err")
    [[ -n $PORT ]] && break
    kill -0 $SERVER_PID 2>/dev/null || break
    sleep 0.05
done
if [[ -z $PORT ]]; then
    fail "serve: no ready line: $(cat "$WORK/serve.err")"
    finish test_sched_operator
fi
OTHER=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -1)

python3 - "$PORT" "$OTHER" "$P" >"$WORK/client.out" 2>"$WORK/client.err" <<'PY'
import http.client
import json
import sys

PORT, OTHER, PROJECT = int(sys.argv[1]), sys.argv[2], sys.argv[3]
failures = 0


def check(cond, msg):
    global failures
    print(("ok: " if cond else "FAIL: ") + msg, file=sys.stdout if cond else sys.stderr)
    failures += not cond
    return cond


def get(host, path, headers=None, method="GET", body=None):
    c = http.client.HTTPConnection(host, PORT, timeout=10)
    h = dict(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        return r.status, json.loads(data)
    except ValueError:
        return r.status, data


# A host's error report with a text only operators may read.
SECRET = "disk /home/volunteer/secret-path failed"
st, a = get("127.0.0.1", "/api/v1/accounts", method="POST", body={"name": "op"})
st, h = get("127.0.0.1", "/api/v1/hosts", {"Authorization": "Bearer " + a["authenticator"]},
            "POST", {"name": "h", "os": "Linux", "ncpus": 1, "flops": 1e9, "memory_mb": 1024})
key = {"Authorization": "Bearer " + h["host_key"]}
st, w = get("127.0.0.1", "/api/v1/work", key, "POST", {"want_seconds": 10})
rid = w["assignments"][0]["replica_id"]
st, _ = get("127.0.0.1", "/api/v1/replicas/%d/error" % rid, key, "POST", {"message": SECRET})
check(st == 200, "a host reports an error (%d)" % st)

st, s = get("127.0.0.1", "/api/v1/server")
check(st == 200 and s["database"]["path"].endswith("ozma.db") and
      any(e["message"] == SECRET for e in s["replica_errors"]),
      "loopback: /api/v1/server answers 200 with the database path and hosts' error texts (%d)"
      % st)


def refused(host, headers, what):
    st, s = get(host, "/api/v1/server", headers)
    text = json.dumps(s) if isinstance(s, dict) else str(s)
    check(st == 403 and isinstance(s, dict) and s["error"]["code"] == "forbidden",
          "%s: /api/v1/server is 403 forbidden (got %d %s)" % (what, st, text[:120]))
    check(SECRET not in text and "ozma.db" not in text and PROJECT not in text,
          "%s: nothing of the operator's data in the refusal" % what)


for hdr in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"},
            {"X-Real-IP": "203.0.113.9"}):
    refused("127.0.0.1", hdr, "loopback relayed by a proxy (%s)" % list(hdr)[0])


def public(host, what, headers=None):
    st, s = get(host, "/api/v1/status", headers)
    check(st == 200 and s["units"]["total"] == 3 and s["name"] == "proj" and
          s["queues"]["in_progress"] == s["replicas"]["in_progress"] > 0 and
          s["queues"]["unsent"] == s["replicas"]["unsent"] and
          all(isinstance(s["queues"][k], int) for k in ("transition", "validate", "assimilate")),
          "%s: /api/v1/status keeps the counts and the name (%d %s)" % (what, st, str(s)[:200]))
    text = json.dumps(s)
    check(SECRET not in text and "ozma.db" not in text,
          "%s: /api/v1/status holds no operator data" % what)
    for page in ("/", "/status", "/static/status.js"):
        st, _ = get(host, page, headers)
        check(st == 200, "%s: %s answers 200" % (what, page))


public("127.0.0.1", "proxied", {"X-Forwarded-For": "203.0.113.9"})
if OTHER:
    refused(OTHER, None, "from %s (not loopback)" % OTHER)
    public(OTHER, "from %s" % OTHER)
sys.exit(1 if failures else 0)
PY
rc=$?
cat "$WORK/client.out"
if [[ $rc -ne 0 ]]; then
    cat "$WORK/client.err" >&2
    fail "operator checks (exit $rc)"
fi

kill -TERM $SERVER_PID
wait $SERVER_PID
SERVER_PID=
if [[ -z $OTHER && $FAILURES -eq 0 ]]; then
    echo "SKIP: no non-loopback address on this machine; only the loopback checks ran"
    exit 77
fi
finish test_sched_operator

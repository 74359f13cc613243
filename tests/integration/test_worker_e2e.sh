#!/usr/bin/env bash
# test_worker_e2e.sh - ozma-worker against a real ozma-server on loopback.
#
# Usage: test_worker_e2e.sh BINDIR
#
# A synthetic recording with one signal of each type is loaded (3 units,
# quorum 2).  Two workers attach under different accounts and run until every
# unit is validated; the signals table must then hold every injected signal.
# Along the way: the command line's refusals (exit 2, one line), account.json
# readable by its owner only, `status` while running (progress, credit) and
# stopped, SIGTERM within a second, attaching a second host with --key, and
# detach.
set -euo pipefail
BINDIR=${1:?usage: $0 BINDIR}
source "$(dirname "$0")/worker_lib.sh"
wl_setup

make_recording "$WORK/rec" 163840
make_project proj
"$SERVER" load "$PROJ" "$WORK/rec" --name demo --unit-samples 2^16 "${ANALYSIS[@]}" \
    --chirp-max 5 -q
start_server

# --- the command line refuses bad input the Ozma way ---
refuses "no command" "no command"
refuses "unknown command" "unknown command" frobnicate
refuses "run before attach" "not attached" run --dir "$WORK/none"
refuses "status before attach" "not attached" status --dir "$WORK/none"
refuses "attach without name or key" "--name" attach "$URL" --dir "$WORK/x"
refuses "attach with both" "--name" attach "$URL" --name a --key \
    0000000000000000000000000000000000000000000000000000000000000000 --dir "$WORK/x"
refuses "a malformed key" "--key" attach "$URL" --key abc --dir "$WORK/x"
refuses "a bad URL" "http" attach "ftp://x" --name a --dir "$WORK/x"
refuses "a flag of another command" "--json" run --json
refuses "an unknown key" "unauthorized" attach "$URL" --key \
    0000000000000000000000000000000000000000000000000000000000000000 --dir "$WORK/x"
[[ ! -e "$WORK/x/account.json" ]] || fail "a refused attach left account.json"

if attach_worker "$WORK/a" alice && attach_worker "$WORK/b" bob; then
    pass "two accounts attached"
else
    fail "attach: $(cat "$WORK/a.attach.out" "$WORK/b.attach.out")"
fi
mode=$(stat -c %a "$WORK/a/account.json")
[[ $mode == 600 ]] && pass "account.json is mode 600" || fail "account.json is mode $mode"
refuses "attaching twice" "already attached" attach "$URL" --name again \
    --dir "$WORK/a"
key=$(json_field "$WORK/a/account.json" authenticator)
[[ $(json_field "$WORK/a/account.json" account_id) != $(json_field "$WORK/b/account.json" account_id) ]] ||
    fail "both workers share an account"

# a broken worker.conf is refused before anything runs
echo "max_cpus = lots" >"$WORK/bad.conf"
refuses "a bad worker.conf" "max_cpus" run --dir "$WORK/a" --config "$WORK/bad.conf"

# worker b starts with a damaged wisdom file: set aside, then rewritten
printf 'not fftw wisdom\n' >"$WORK/b/fftw.wisdom"
start_worker "$WORK/a"
WA=$WPID
start_worker "$WORK/b"
WB=$WPID
# The first worker must hold the directory's lock before a second one tries.
wait_until 15 grep -q "running for" "$WORK/a.log" || fail "worker a did not start: $(cat "$WORK/a.log")"
refuses "a second worker on one directory" "another worker" run --dir "$WORK/a"

if wait_until 90 units_validated 3; then
    pass "all 3 units validated by two workers"
else
    fail "units not validated in time: $("$SERVER" status "$PROJ")"
fi
[[ $(server_status units.error) -eq 0 ]] || fail "units in error: $("$SERVER" status "$PROJ")"
for w in a b; do
    n=$(ls "$WORK/$w/uploaded" | wc -l)
    [[ $n -eq 3 ]] && pass "worker $w uploaded 3 results" || fail "worker $w uploaded $n results"
    # results ride in the next work request when one is due (next_rpc_delay 1 s)
    grep -q "returned with the work request" "$WORK/$w.log" &&
        pass "worker $w returned results with its work requests" ||
        fail "worker $w never returned a result with a work request: $(grep replica "$WORK/$w.log")"
done

# FFTW's wisdom is kept in the worker's directory for the next unit's plans
for w in a b; do
    head -c 7 "$WORK/$w/fftw.wisdom" 2>/dev/null | grep -q '^(fftw-3' &&
        pass "worker $w keeps FFTW's wisdom in fftw.wisdom" ||
        fail "worker $w: no FFTW wisdom in $WORK/$w/fftw.wisdom"
done
grep -q "FFTW's wisdom not used" "$WORK/b.log" &&
    pass "a damaged wisdom file is reported and replaced" ||
    fail "worker b said nothing of its damaged wisdom file"

# every injected signal is in the signals table, at its frequency track
"$SERVER" signals "$PROJ" --format json >"$WORK/signals.json"
if python3 - "$WORK/rec.truth.json" "$WORK/signals.json" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))["signals"]
found = json.load(open(sys.argv[2]))["signals"]
missing = []
for t in truth:
    # within one frequency bin of the FFT length that found it
    ok = any(s["type"] == t["type"] and
             abs(s["freq_hz"] - (t["freq_hz"] + t["chirp_hz_s"] * (s["time_s"] - t["time_s"])))
             <= max(1.0, 9765.625 / s["fft_len"])
             for s in found)
    if not ok:
        missing.append("%s at %.1f Hz" % (t["type"], t["freq_hz"]))
if missing:
    print("missing:", ", ".join(missing), "; found:",
          [(s["type"], round(s["freq_hz"], 1)) for s in found])
    sys.exit(1)
PY
then pass "the signals table holds every injected signal"; else fail "signals above"; fi

# status while running: the worker, the account's credit
if wait_until 10 bash -c "\"$WORKER\" status --dir \"$WORK/a\" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s[\"running\"] and s[\"host\"][\"total_credit\"] > 0 and s[\"account\"][\"total_credit\"] > 0
'"; then pass "status --json: running, with the server's credit"
else fail "status --json: $("$WORKER" status --dir "$WORK/a" --json)"; fi
out=$("$WORKER" status --dir "$WORK/a")
[[ $out == *"Worker     running"* && $out == *"Credit     host"* ]] &&
    pass "status: human-readable" || fail "status: $out"

for p in $WA $WB; do
    stop_worker "$p"
    if [[ $WORKER_RC -eq 0 ]] && python3 -c "import sys; sys.exit(0 if $STOP_S < 1.0 else 1)"; then
        pass "SIGTERM: exit 0 in $STOP_S s"
    else
        fail "SIGTERM: exit $WORKER_RC after $STOP_S s"
    fi
done
out=$("$WORKER" status --dir "$WORK/a")
[[ $out == *"not running"* ]] && pass "status: not running" || fail "status when stopped: $out"

# another host of alice's account, by key; then detach it
if "$WORKER" attach "$URL" --key "$key" --dir "$WORK/c" >"$WORK/c.out" 2>&1 &&
    [[ $(json_field "$WORK/c/account.json" account_id) == $(json_field "$WORK/a/account.json" account_id) ]] &&
    [[ $(json_field "$WORK/c/account.json" host_id) != $(json_field "$WORK/a/account.json" host_id) ]]; then
    pass "attach --key: a second host of the same account"
else
    fail "attach --key: $(cat "$WORK/c.out")"
fi
if "$WORKER" detach --dir "$WORK/c" >"$WORK/c.out" 2>&1 && [[ ! -e "$WORK/c/account.json" ]]; then
    pass "detach"
else
    fail "detach: $(cat "$WORK/c.out")"
fi
refuses "status after detach" "not attached" status --dir "$WORK/c"

# --team by name: alice founds a team, a new account joins it by its name
curl -sf -X POST -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
    -d '{"name": "Arecibo Alumni"}' "$URL/api/v1/teams" >"$WORK/team.json" ||
    fail "creating a team"
team_id=$(json_field "$WORK/team.json" team_id)
if "$WORKER" attach "$URL" --name dora --team "Arecibo Alumni" --dir "$WORK/d" \
    >"$WORK/d.out" 2>&1 &&
    [[ $(curl -sf "$URL/api/v1/users/$(json_field "$WORK/d/account.json" account_id)" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['team_id'])") == "$team_id" ]]; then
    pass "attach --team NAME joins the team of that name"
else
    fail "attach --team NAME: $(cat "$WORK/d.out")"
fi
refuses "an unknown team name" "no team is named" attach "$URL" --name erin --team "Nobody" \
    --dir "$WORK/e"
refuses "a team name with a tab" "--team" attach "$URL" --name erin --team "$(printf 'a\tb')" \
    --dir "$WORK/e"
grep -q "ERROR\|AddressSanitizer\|runtime error" "$WORK/a.log" "$WORK/b.log" &&
    fail "sanitizer reports in the worker logs"
stop_server
finish "worker end-to-end"

#!/usr/bin/env bash
# isyncsf refresh: due vs not due vs --force; --json shape; two processes refreshing one org at
# once (one grant, the other by_other); a passing failure (failing, exit 5, backoff skips, then
# recovers); a permanent one (expired, exit 4, never retried); a blackholed org does not delay
# 100 live ones; usage errors. run_isf checks every run for secrets and tokens.
source "$(dirname "$0")/lib.sh"

DEAD_ID="3MVG9dead.client"
DEAD_SECRET="deadS3cr3t-$(openssl rand -hex 8)"
SECRETS+=("$DEAD_SECRET")
start_fake_org --client "$DEAD_ID:$DEAD_SECRET"

t "setup"
add_org fresh
connect_org fresh
add_org due --session-ttl 60 # expires within refresh.margin_s (600 s): due at once
connect_org due
add_org never # never connected

t "due vs not due"
before=$(counter token_grants)
run_isf refresh fresh due never
assert_exit 0 "new orgs are skipped, not failed"
assert_stdout_contains "refreshed 1, not due 1, by another process 0, skipped 1, failed 0"
assert_eq $((before + 1)) "$(counter token_grants)" "exactly one grant (the due org)"
run_isf --json org show due
assert_json '.status == "connected" and .refresh_failures == 0 and .session_ttl_s == 60'
run_isf refresh fresh
assert_exit 0
assert_stdout_contains "not due 1"
assert_eq $((before + 1)) "$(counter token_grants)" "a fresh org costs no request"

t "--force and --json"
run_isf --json refresh fresh --force
assert_exit 0
assert_json 'type == "array" and length == 1' "an array of one object"
assert_json '.[0].org == "fresh" and .[0].outcome == "refreshed"'
assert_json '.[0].expires_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")' \
    "expires_at is RFC 3339"
assert_json '.[0] | has("status") | not' "no status on success"
assert_json '(.[0].elapsed_ms | type) == "number"'
assert_eq $((before + 2)) "$(counter token_grants)" "--force made one grant"
run_isf --json refresh never
assert_json '.[0].outcome == "skipped" and (.[0].message | test("org connect never"))'

t "introspection gives the real expiry"
# The org's sessions last 1000 s; without introspection isyncsf assumes the TTL (7200 s).
fake_ctl /__fake/config '{"token_ttl":1000}' >/dev/null
write_config "http: {ca_file: $CA}" "refresh: {introspect: true}"
before=$(counter introspections)
run_isf --json refresh fresh --force
assert_exit 0
assert_eq $((before + 1)) "$(counter introspections)" "one introspection after the grant"
run_isf --json org show fresh
life=$(json_of '((.token.expires_at | fromdate) - (.token.issued_at | fromdate))')
if ((life >= 995 && life <= 1001)); then pass "expires_at = exp (${life} s after issue)"; else fail "expires_at ${life} s after issue, expected ~1000"; fi
write_config
run_isf --json refresh fresh --force
run_isf --json org show fresh
assert_eq 7200 "$(json_of '((.token.expires_at | fromdate) - (.token.issued_at | fromdate))')" \
    "without introspection: issued_at + session TTL"
fake_ctl /__fake/config '{"token_ttl":7200}' >/dev/null

t "a progress bar on stderr only when it is a terminal"
run_isf refresh fresh due --force
assert_stderr_lacks "2/2" "no progress bar when stderr is not a terminal"
if command -v script >/dev/null 2>&1; then
    tty_out=$(script -qec "$(printf '%q ' "$ISF_BIN" refresh fresh due --force) 2>&1 >/dev/null" /dev/null)
    if grep -q '2/2' <<<"$tty_out"; then pass "progress drawn up to 2/2"; else
        fail "no progress bar on a terminal: $(head -c 300 <<<"$tty_out" | cat -v)"; fi
    tty_out=$(script -qec "$(printf '%q ' "$ISF_BIN" --json refresh fresh --force) 2>&1 >/dev/null" /dev/null)
    if grep -q '1/1' <<<"$tty_out"; then fail "a progress bar with --json"; else pass "none with --json"; fi
else
    pass "no script(1): progress bar not checked"
fi

t "single flight across processes"
# The grant takes 1.5 s, so the second process finds the record locked, waits, re-reads it and
# sees that it was refreshed after it started.
fake_ctl /__fake/fault '{"kind":"delay","delay_ms":1500,"path_prefix":"/services/oauth2/token","count":1}' >/dev/null
before=$(counter token_grants)
"$ISF_BIN" --json refresh fresh --force >"$WORK/p1.json" 2>"$WORK/p1.err" &
p1=$!
sleep 0.3
"$ISF_BIN" --json refresh fresh --force >"$WORK/p2.json" 2>"$WORK/p2.err" &
p2=$!
wait $p1
rc1=$?
wait $p2
rc2=$?
assert_eq "0 0" "$rc1 $rc2" "both exit 0"
assert_eq $((before + 1)) "$(counter token_grants)" "one grant for two processes"
outcomes=$(jq -r '.[0].outcome' "$WORK/p1.json" "$WORK/p2.json" | sort | tr '\n' ' ')
assert_eq "by_other refreshed " "$outcomes" "one refreshed, the other by_other"

t "an org locked by another process is waited for, within its time limit"
hold_lock "$ISYNCSF_HOME/orgs/.locks/fresh.lock"
run_isf --json refresh fresh --force --timeout 1
assert_exit 7 "still locked at the time limit: exit 7"
assert_json '.[0].outcome == "failed" and .[0].status == "lock_timeout" and (.[0].message | test("locked by another process"))'
assert_json '.[0].elapsed_ms >= 900'
"$ISF_BIN" --json refresh fresh --force --timeout 10 >"$WORK/wait.json" 2>"$WORK/wait.err" &
waiter=$!
sleep 0.6
release_locks
wait $waiter
assert_eq 0 "$?" "exit 0 once the lock is released"
assert_eq refreshed "$(jq -r '.[0].outcome' "$WORK/wait.json")" "refreshed after the wait"
waited=$(jq -r '.[0].elapsed_ms' "$WORK/wait.json")
if ((waited >= 500)); then pass "it waited for the lock (${waited} ms)"; else fail "elapsed ${waited} ms"; fi

t "passing failure: failing, backoff, recovery"
add_org flaky --client-id "$DEAD_ID" <<<"" >/dev/null
STDIN_DATA=$DEAD_SECRET run_isf org edit flaky --client-secret-stdin
connect_org flaky
fake_ctl /__fake/fault "{\"kind\":\"status\",\"status\":503,\"client_id\":\"$DEAD_ID\",\"count\":-1}" >/dev/null
run_isf refresh flaky fresh --force
assert_exit 5 "a 503 exits 5"
assert_stdout_contains "flaky: "
assert_stdout_contains "refreshed 1, not due 0, by another process 0, skipped 0, failed 1"
run_isf --json org show flaky
assert_json '.status == "failing" and .refresh_failures == 1 and (.next_attempt_at | type) == "string"' \
    "failing, one failure, a next attempt time"
requests=$(counter token_requests)
run_isf --json refresh flaky
assert_exit 0 "within the backoff: skipped, exit 0"
assert_json '.[0].outcome == "skipped" and (.[0].message | test("next attempt"))'
assert_eq "$requests" "$(counter token_requests)" "no request during the backoff"
fake_ctl /__fake/reset >/dev/null
# A short cap lets the backoff run out during the test.
write_config "http: {ca_file: $CA}" "refresh: {max_backoff_s: 1}"
run_isf refresh flaky --force
run_isf --json org show flaky
sleep 1.1
fake_ctl /__fake/fault "{\"kind\":\"status\",\"status\":503,\"client_id\":\"$DEAD_ID\",\"count\":1}" >/dev/null
run_isf refresh flaky --force
assert_exit 5
sleep 1.1
run_isf refresh flaky
assert_exit 0 "after the backoff, without --force, it is retried"
assert_stdout_contains "refreshed 1"
run_isf --json org show flaky
assert_json '.status == "connected" and .refresh_failures == 0 and .next_attempt_at == null' \
    "recovered: connected, failures reset"
# A successful org test of a failing org ends its backoff too.
fake_ctl /__fake/fault "{\"kind\":\"status\",\"status\":503,\"client_id\":\"$DEAD_ID\",\"count\":1}" >/dev/null
write_config
run_isf refresh flaky --force
assert_exit 5
run_isf org test flaky
assert_exit 0
run_isf --json org show flaky
assert_json '.status == "connected" and .refresh_failures == 0 and .next_attempt_at == null' \
    "org test: connected, backoff cleared"
run_isf --json refresh flaky
assert_json '.[0].outcome == "not_due"' "a connected org with a fresh token is not due"

t "permanent failure: expired, exit 4, not retried"
run_isf_stdin "wrong-secret-$(openssl rand -hex 4)" org edit flaky --client-secret-stdin
run_isf refresh flaky --force
assert_exit 4 "invalid_client exits 4"
assert_stdout_contains "invalid_client"
run_isf --json org show flaky
assert_json '.status == "expired"'
requests=$(counter token_requests)
run_isf --json refresh flaky --force
assert_exit 4 "expired stays exit 4"
assert_json '.[0].outcome == "skipped" and .[0].status == "auth_required"'
assert_eq "$requests" "$(counter token_requests)" "an expired org is never retried"

t "a blackholed org does not delay 100 live ones"
add_org dead --client-id "$DEAD_ID" <<<"" >/dev/null
STDIN_DATA=$DEAD_SECRET run_isf org edit dead --client-secret-stdin
connect_org dead
for i in $(seq -w 1 100); do
    run_isf_stdin "$CLIENT_SECRET" org add "live$i" --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
        --client-secret-stdin
    run_isf org connect "live$i"
done
run_isf org remove flaky --local-only
run_isf org remove never --local-only
fake_ctl /__fake/fault "{\"kind\":\"delay\",\"delay_ms\":60000,\"client_id\":\"$DEAD_ID\",\"count\":-1}" >/dev/null
# "dead" sorts first: it takes a slot before any live org starts.
run_isf --json refresh --all --force --timeout 6 --jobs 8
assert_exit 5 "the dead org's timeout exits 5"
assert_json 'length == 103' "every org reported (fresh, due, dead, 100 live)"
assert_json '[.[] | select(.org | startswith("live")) | .outcome] | unique == ["refreshed"]' \
    "all 100 live orgs refreshed"
assert_json '.[] | select(.org == "dead") | .outcome == "failed" and .status == "org_unreachable" and .elapsed_ms >= 5500' \
    "the dead org failed at its time limit"
live_max=$(json_of '[.[] | select(.org | startswith("live")) | .finished_ms] | max')
dead_ms=$(json_of '.[] | select(.org == "dead") | .elapsed_ms')
echo "    live orgs all done after ${live_max} ms; the dead org gave up after ${dead_ms} ms" >&3
if ((live_max * 2 < dead_ms)); then
    pass "the live orgs finished well before the dead one's time limit"
else
    fail "live orgs took ${live_max} ms, the dead one ${dead_ms} ms"
fi
run_isf --json org show dead
assert_json '.status == "failing"'

t "usage"
run_isf refresh
assert_exit 2 "no names and no --all"
run_isf refresh fresh --all
assert_exit 2 "names and --all"
run_isf refresh fresh --jobs 0
assert_exit 2 "--jobs 0"
run_isf --json refresh nosuchorg
assert_exit 3 "an unknown org exits 3"
assert_json '.[0].outcome == "failed" and .[0].status == "not_found"'

finish

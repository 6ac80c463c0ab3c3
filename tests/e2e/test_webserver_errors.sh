#!/usr/bin/env bash
# The web server flow's bad input and failures: denial, wrong state, missing code, replayed
# callback, wrong path, oversized request, a client that never finishes, port taken, timeout, an
# expired code, a browser that cannot start, bad pastes. Each: the contract's exit code, a clear
# message, and the record unchanged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/webserver-lib.sh"

start_fake_org
PORT=$(free_port)
add_eca_org acme "$PORT"
browser_connect acme
assert_exit 0 "setup: acme connected"
SNAP=$(snapshot)

t "denied at the login page → exit 4, the browser is told, the record unchanged"
fake_ctl /__fake/config '{"deny":true}' >/dev/null
browser_connect acme
assert_exit 4
assert_stderr_contains "denied"
assert_stderr_contains "org connect acme"
assert_eq "400" "$(browser_status)" "the loopback page is an error"
if grep -q 'was not connected' "$FB_LOG"; then pass "the page says not connected"; else fail "page"; fi
assert_unchanged "$SNAP"
BROWSER=$FAKE_BROWSER run_isf --json org connect acme
assert_error_json 4 acme
fake_ctl /__fake/config '{"deny":false}' >/dev/null
assert_unchanged "$SNAP"

t "wrong state → exit 4, nothing exchanged, record unchanged"
grants=$(counter token_grants)
FB_SED='s/state=[^&]*/state=forged-state-value/' browser_connect acme
assert_exit 4
assert_stderr_contains "wrong state"
assert_eq "$grants" "$(counter token_grants)" "the code was not exchanged"
assert_unchanged "$SNAP"

t "no state at all → exit 4"
FB_SED='s/&state=[^&]*//' browser_connect acme
assert_exit 4
assert_stderr_contains "no state"
assert_unchanged "$SNAP"

t "missing code → exit 4, record unchanged"
FB_SED='s/code=[^&]*&//' browser_connect acme
assert_exit 4
assert_stderr_contains "no authorization code"
assert_unchanged "$SNAP"

t "a repeated parameter → exit 4"
FB_SED='s/$/\&code=second/' browser_connect acme
assert_exit 4
assert_stderr_contains "repeated"
assert_unchanged "$SNAP"

t "wrong path → 404, and the real redirect still connects; a replay afterwards → 410"
# The code exchange is slowed down (1.5 s) so that the replay arrives while it runs.
fake_ctl /__fake/fault '{"kind":"delay","delay_ms":1500,"path_prefix":"/services/oauth2/token","count":1}' >/dev/null
FB_BEFORE="/wrong /favicon.ico" FB_AFTER=0.5 browser_connect acme
assert_exit 0
if grep -q '^before /wrong 404$' "$FB_LOG" && grep -q '^before /favicon.ico 404$' "$FB_LOG"; then
    pass "404 on other paths"
else
    fail "expected 404s: $(cat "$FB_LOG")"
fi
statuses=$(grep '^status ' "$FB_LOG" | cut -d' ' -f2 | sort | tr '\n' ' ')
assert_eq "200 410 " "$statuses" "the callback got 200, the replayed one 410"
if grep -q 'This login is over' "$FB_LOG"; then pass "the replay page says the login is over"; else fail "410 page"; fi
SNAP=$(snapshot)

t "an oversized request is refused and the real redirect still connects"
big=$(head -c 20000 /dev/zero | tr '\0' 'A')
FB_BEFORE="/OauthRedirect?x=$big" browser_connect acme
assert_exit 0
code=$(grep '^before /OauthRedirect' "$FB_LOG" | awk '{print $NF}')
case $code in
413 | 414 | 431) pass "oversized request refused with $code" ;;
*) fail "oversized request answered '$code'" ;;
esac

t "a client that never finishes its request does not block the redirect"
start=$(date +%s)
FB_STALL=1 browser_connect acme
assert_exit 0
if (($(date +%s) - start < 8)); then pass "not held up by the stalled client"; else fail "took $(($(date +%s) - start)) s"; fi
SNAP=$(snapshot)

t "the port is already taken → exit 2 naming the port, record unchanged"
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); open(sys.argv[2],"w").close(); time.sleep(30)' \
    "$PORT" "$WORK/holder.ready" &
holder=$!
E2E_HELD_PIDS+=("$holder")
for _ in $(seq 200); do [[ -e $WORK/holder.ready ]] && break; sleep 0.05; done
browser_connect acme
assert_exit 2
assert_stderr_contains "port $PORT"
assert_stderr_contains "already in use"
assert_unchanged "$SNAP"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

t "nobody completes the login: --timeout 2 → exit 5, record unchanged"
start=$(date +%s)
FB_EXIT=0 browser_connect acme --timeout 2
assert_exit 5
assert_stderr_contains "nobody completed the login within 2 s"
if (($(date +%s) - start <= 5)); then pass "gave up in time"; else fail "took too long"; fi
assert_unchanged "$SNAP"

t "a browser that fails → the URL is printed instead"
FB_EXIT=3 browser_connect acme --timeout 1
assert_exit 5
assert_stderr_contains "Could not open a browser"
assert_stderr_contains "/services/oauth2/authorize?"
if [[ -n ${ISF_WRAP:-} ]]; then
    # Under valgrind posix_spawn cannot report a failed exec (the child exits 127 instead).
    pass "a browser that cannot be started: skipped under ISF_WRAP (${ISF_WRAP%% *})"
else
    BROWSER=/nonexistent/browser run_isf org connect acme --timeout 1
    assert_exit 5
    assert_stderr_contains "could not be started"
fi
assert_unchanged "$SNAP"

t "an expired code → exit 4 (invalid_grant), the page says so, record unchanged"
fake_ctl /__fake/config '{"code_ttl":1}' >/dev/null
FB_DELAY=2.2 browser_connect acme
assert_exit 4
assert_stderr_contains "invalid_grant"
assert_eq "400" "$(browser_status)" "the browser is told it failed"
fake_ctl /__fake/config '{"code_ttl":600}' >/dev/null
assert_unchanged "$SNAP"

t "pasted: a wrong state → exit 4; garbage first is ignored with a hint"
paste_connect acme 's/state=[^&]*/state=forged/'
assert_exit 4
assert_stderr_contains "wrong state"
assert_unchanged "$SNAP"
paste_connect acme 's/^/not a url /; s/?.*//' --timeout 2
assert_exit 5 "only garbage pasted, then stdin ends: the listener is awaited until the timeout"
assert_stderr_contains "That is not the redirect address"

t "pasted: a stray line, then the redirect URL in the same write → the URL is used"
paste_connect acme 's/^/some stray words\n/'
assert_exit 0
assert_stderr_contains "That is not the redirect address"

t "the record is not locked while the login waits for a person"
: >"$FB_LOG"
BROWSER=$FAKE_BROWSER FB_SLEEP=2 "$ISF_BIN" org connect acme </dev/null >"$WORK/bg.out" \
    2>"$WORK/bg.err" &
bg=$!
sleep 0.5
start=$(date +%s%N)
learn_token acme
assert_exit 0 "org token works during the login"
if (($(date +%s%N) - start < 1500000000)); then pass "without waiting for it"; else fail "org token waited for the login"; fi
wait "$bg"
assert_eq 0 "$?" "the login then completes"

t "the org edited during the login → exit 7, the new grant not stored"
: >"$FB_LOG"
BROWSER=$FAKE_BROWSER FB_SLEEP=1.5 "$ISF_BIN" org connect acme </dev/null >"$WORK/bg.out" \
    2>"$WORK/bg.err" &
bg=$!
sleep 0.3
run_isf org edit acme --client-id 3MVG9.other.app
assert_exit 0
SNAP=$(snapshot)
wait "$bg"
assert_eq 7 "$?" "connect refuses to store a grant of the old settings"
if grep -q "was edited" "$WORK/bg.err"; then pass "it says why"; else fail "message: $(cat "$WORK/bg.err")"; fi
assert_unchanged "$SNAP"
run_isf org edit acme --client-id "$CLIENT_ID"
assert_exit 0

t "a redirect URI with a bad port → exit 2 at connect"
rec_rewrite acme ".redirect_uri = \"http://localhost:99999/OauthRedirect\""
SNAP=$(snapshot)
browser_connect acme
assert_exit 2
assert_stderr_contains "port"
assert_unchanged "$SNAP"

finish

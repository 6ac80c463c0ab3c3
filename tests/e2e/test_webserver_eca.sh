#!/usr/bin/env bash
# Mode webserver-eca (External Client App kept per org): connect through a browser ($BROWSER =
# fake-browser.sh) → connected → token → refresh with rotation → disconnect revokes; connect with
# --no-browser and the redirect URL pasted on stdin; a rotated-out refresh token reused → the
# family is revoked → expired (exit 4).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/webserver-lib.sh"

make_pki
# Every token is due at once (session_ttl_s = margin_s): each org token refreshes.
write_config "http: {ca_file: $CA}" "refresh: {session_ttl_s: 60, margin_s: 60}"
start_fake_org --rotate-refresh
PORT=$(free_port)
add_eca_org acme "$PORT"

t "org add: webserver-eca needs a client id; a non-loopback redirect URI is refused"
run_isf org add nocid --mode webserver-eca --login-url "$FAKE_URL"
assert_exit 2
assert_stderr_contains "--client-id"
run_isf_stdin "$CLIENT_SECRET" org add badredir --mode webserver-eca --login-url "$FAKE_URL" \
    --client-id "$CLIENT_ID" --client-secret-stdin --redirect-uri "https://example.com/cb"
assert_exit 2
assert_stderr_contains "loopback"
run_isf org show badredir
assert_exit 3 "nothing was added"

t "connect through the browser: the login page, the loopback redirect, the code exchange"
auth_before=$(counter authorize_requests)
grants_before=$(counter token_grants)
: >"$FB_LOG"
BROWSER=$FAKE_BROWSER run_isf -v org connect acme # verbose: the log must not show the code
no_code_in_output
assert_exit 0
assert_stderr_contains "waiting up to 300 s for the login redirect"
assert_eq "200" "$(browser_status)" "the browser got 200 from the loopback listener"
if grep -q 'Org acme is connected' "$FB_LOG"; then pass "the page says the org is connected"; else fail "the page does not say connected"; fi
assert_eq $((auth_before + 1)) "$(counter authorize_requests)" "one authorization request"
assert_eq $((grants_before + 1)) "$(counter token_grants)" "one code exchange"
loc=$(grep '^location ' "$FB_LOG" | cut -d' ' -f2)
case $loc in
http://localhost:$PORT/OauthRedirect\?code=*state=*) pass "redirected to the loopback URI with code and state" ;;
*) fail "unexpected redirect '$loc'" ;;
esac
run_isf --json org show acme
assert_json '.status == "connected" and .mode == "webserver-eca" and .has_refresh_token == true'
assert_json '.org_id != null and .package.installed == true' "details read after connect"

t "redirect URIs on 127.0.0.1 and [::1] (when this machine has IPv6 loopback)"
add_eca_org v4 "$PORT"
rec_rewrite v4 ".redirect_uri = \"http://127.0.0.1:$PORT/cb/v4\""
browser_connect v4
assert_exit 0 "127.0.0.1 redirect"
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    add_eca_org v6 "$PORT"
    rec_rewrite v6 ".redirect_uri = \"http://[::1]:$PORT/OauthRedirect\""
    browser_connect v6
    assert_exit 0 "[::1] redirect"
    assert_eq "200" "$(browser_status)" "the browser reached the listener on ::1"
else
    pass "no IPv6 loopback here: the [::1] case is skipped"
fi

t "org token: the stored access token; refresh with rotation stores the new refresh token first"
learn_token acme
assert_exit 0
first=$TOKEN
sealed1=$(sealed_refresh_of acme)
cp "$(rec_file acme)" "$WORK/acme.rec.before-rotation"
tok_before=$(counter token_requests)
run_isf org token acme
assert_exit 0
SECRETS+=("$OUT")
assert_ne "$first" "$OUT" "a new access token"
assert_eq $((tok_before + 1)) "$(counter token_requests)" "one refresh request"
sealed2=$(sealed_refresh_of acme)
if [[ -n $sealed2 && $sealed2 != "$sealed1" ]]; then pass "the rotated refresh token was stored"; else fail "refresh token not rotated in the record"; fi
run_isf org token acme
assert_exit 0 "the rotated refresh token works"
SECRETS+=("$OUT")
run_isf --json org show acme
assert_json '.status == "connected" and .last_refreshed_at != null'

t "16 processes refreshing at once on a rotating org: every one succeeds, it stays refreshable"
# Every org token refreshes here (session_ttl_s = margin_s); each runs under the record's lock and
# re-reads the record first, so none reuses a rotated-out refresh token (which would revoke the
# whole family at the org).
tok_before=$(counter token_requests)
pids=()
for i in $(seq 16); do
    "$ISF_BIN" org token acme </dev/null >"$WORK/par.$i.out" 2>"$WORK/par.$i.err" &
    pids+=("$!")
done
failed=0
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed=$((failed + 1)); done
assert_eq 0 "$failed" "all 16 got a token"
assert_eq $((tok_before + 16)) "$(counter token_requests)" "16 refreshes, one after the other"
if grep -qE -- "$TOKEN_RE" "$WORK"/par.*.err; then fail "a token on stderr"; else pass "no token on stderr"; fi
run_isf --json org show acme
assert_json '.status == "connected"' "still connected"
learn_token acme
assert_exit 0 "still refreshable"

t "16 processes on an expired session: one refresh; the others re-read the record under the lock"
printf 'http: {ca_file: %s}\n' "$CA" >"$WORK/normal.yaml" # the default TTL and margin
rec_rewrite acme '.token.expires_at = 1000000000000'      # long gone
tok_before=$(counter token_requests)
pids=()
for i in $(seq 16); do
    "$ISF_BIN" --config "$WORK/normal.yaml" org token acme </dev/null >"$WORK/one.$i.out" \
        2>"$WORK/one.$i.err" &
    pids+=("$!")
done
failed=0
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed=$((failed + 1)); done
assert_eq 0 "$failed" "all 16 got a token"
assert_eq $((tok_before + 1)) "$(counter token_requests)" "exactly one refresh"
assert_eq 1 "$(cat "$WORK"/one.*.out | sort -u | wc -l)" "all 16 got the same new token"
SECRETS+=("$(cat "$WORK/one.1.out")")

t "16 processes running refresh --force at once on a rotating org: one chain, still connected"
# Each refresh takes the record's lock without waiting, re-reads the record once it has it, and
# skips (by_other) when another process refreshed it since its own run began; none may present a
# rotated-out refresh token (the org would revoke the whole family: invalid_grant, expired).
tok_before=$(counter token_requests)
pids=()
for i in $(seq 16); do
    "$ISF_BIN" --json refresh acme --force </dev/null >"$WORK/rf.$i.out" 2>"$WORK/rf.$i.err" &
    pids+=("$!")
done
failed=0
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed=$((failed + 1)); done
assert_eq 0 "$failed" "all 16 refresh runs exit 0"
done_n=$(cat "$WORK"/rf.*.out | jq -s '[.[][] | select(.outcome == "refreshed")] | length')
other_n=$(cat "$WORK"/rf.*.out | jq -s '[.[][] | select(.outcome == "by_other")] | length')
assert_eq 16 $((done_n + other_n)) "each run either refreshed or saw another's refresh"
if ((done_n >= 1)); then pass "at least one refresh ($done_n done, $other_n by another process)"; else fail "no run refreshed"; fi
assert_eq $((tok_before + done_n)) "$(counter token_requests)" "one token request per refresh done"
if grep -qE -- "$TOKEN_RE" "$WORK"/rf.*.out "$WORK"/rf.*.err; then fail "a token in the output"; else pass "no token in the output"; fi
run_isf --json org show acme
assert_json '.status == "connected" and .refresh_failures == 0' "still connected, no failure"
run_isf refresh acme --force
assert_exit 0 "the stored refresh token is the live one: refreshable again"
learn_token acme
assert_exit 0 "and usable"

t "a revocation that fails for a passing reason keeps the tokens and says so"
fake_ctl /__fake/fault '{"kind":"status","status":503,"path_prefix":"/services/oauth2/revoke","count":1}' >/dev/null
SNAP=$(snapshot)
run_isf org disconnect acme
assert_exit 5
assert_stderr_contains "nothing was changed locally"
assert_unchanged "$SNAP"

t "disconnect revokes the refresh token at the org"
rev_before=$(counter revocations)
run_isf org disconnect acme
assert_exit 0
assert_stdout_contains "revoked"
assert_eq $((rev_before + 1)) "$(counter revocations)" "one revocation"
run_isf --json org show acme
assert_json '.status == "disconnected" and .has_refresh_token == false'
run_isf org token acme
assert_exit 4 "no token after disconnect"

t "--no-browser: the URL on stderr, the redirect URL pasted on stdin"
paste_connect acme ""
assert_exit 0
assert_stderr_contains "/services/oauth2/authorize?"
assert_stderr_contains "paste"
assert_stderr_contains "code_challenge_method=S256"
run_isf --json org show acme
assert_json '.status == "connected" and .has_refresh_token == true'

t "a rotated-out refresh token reused: the org revokes the family → expired, exit 4"
# Put back the record as it was before the rotation above: it holds a refresh token of the first
# family that was rotated out. The org answers invalid_grant and revokes that family.
run_isf org disconnect acme --local-only
browser_connect acme
assert_exit 0
cp "$WORK/acme.rec.before-rotation" "$(rec_file acme)"
run_isf org token acme
assert_exit 4
assert_stderr_contains "org connect"
run_isf --json org show acme
assert_json '.status == "expired"'

t "invalid_grant on refresh (grant revoked at the org) → expired, exit 4, record kept"
browser_connect acme
assert_exit 0
fake_ctl /__fake/revoke-all >/dev/null
run_isf org token acme
assert_exit 4
assert_stderr_contains "isyncsf org connect acme"
run_isf --json org show acme
assert_json '.status == "expired" and .has_refresh_token == true' "expired; the record keeps its data"
browser_connect acme
assert_exit 0 "org connect brings it back"

finish

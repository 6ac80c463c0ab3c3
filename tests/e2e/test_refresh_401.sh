#!/usr/bin/env bash
# Token life: a token is reused while fresh, requested again when due; a 401 from the org makes
# exactly one refresh and one retry; a second 401 marks the org expired (exit 4) until
# org connect.
source "$(dirname "$0")/lib.sh"

start_fake_org
add_org acme
add_org beta
connect_org acme

t "org token within the TTL makes no token request"
before=$(counter token_requests)
learn_token acme
assert_exit 0
first=$TOKEN
learn_token acme
assert_eq "$first" "$TOKEN" "same token"
run_isf --json org token acme
assert_json ".access_token == \"$first\"" "same token in JSON"
assert_eq "$before" "$(counter token_requests)" "no token request"

t "401 once: one refresh, one retry, success"
fake_ctl /__fake/fault '{"kind":"unauthorized","count":1,"path_prefix":"/services/data"}' >/dev/null
tok_before=$(counter token_requests)
rest_before=$(counter rest_calls)
faults_before=$(counter faults_injected)
run_isf --json org test acme
assert_exit 0
assert_json 'if type == "array" then .[0].status else .status end | . == "connected"' "connected"
assert_eq $((tok_before + 1)) "$(counter token_requests)" "exactly one extra token request"
assert_eq $((faults_before + 1)) "$(counter faults_injected)" "the 401 was served"
rest_now=$(counter rest_calls)
if ((rest_now - rest_before >= 1 && rest_now - rest_before <= 2)); then
    pass "the call was retried once ($((rest_now - rest_before)) REST calls counted)"
else
    fail "expected one retry, the org counted $((rest_now - rest_before)) REST calls"
fi
learn_token acme
assert_ne "$first" "$TOKEN" "the refreshed token is stored and handed out"
run_isf --json org show acme
assert_json '.status == "connected" and .status_detail == null' "still connected"
assert_json '.last_refreshed_at != null and .last_tested_at != null' "refresh and test recorded"

t "401 twice: refresh once, then give up — exit 4, status expired"
fake_ctl /__fake/fault '{"kind":"unauthorized","count":2,"path_prefix":"/services/data"}' >/dev/null
tok_before=$(counter token_requests)
run_isf org test acme
assert_exit 4
assert_stderr_contains "acme"
assert_eq $((tok_before + 1)) "$(counter token_requests)" "one refresh only, no loop"
run_isf --json org show acme
assert_json '.status == "expired"' "status expired"
assert_json '.status_detail | type == "string" and length > 0' "status_detail says why"

t "org token on an expired org → 4, no token"
tok_before=$(counter token_requests)
run_isf org token acme
assert_exit 4
assert_stdout_empty "no token printed"
assert_stderr_contains "connect" "says to reconnect"
run_isf --json org token acme
assert_error_json 4 acme
assert_json '.error.code == "auth_required"' "error code auth_required"

t "org list --status expired"
run_isf --json org list --status expired
assert_json '[.[].name] == ["acme"]'

t "org connect brings an expired org back"
run_isf --json org connect acme
assert_exit 0
assert_json '.status == "connected" and .status_detail == null'
run_isf org test acme
assert_exit 0

t "401 for ever (count -1): exit 4, expired, exactly one refresh"
fake_ctl /__fake/fault '{"kind":"unauthorized","count":-1,"path_prefix":"/services/data"}' >/dev/null
tok_before=$(counter token_requests)
run_isf --json org test acme
assert_exit 4
assert_eq $((tok_before + 1)) "$(counter token_requests)" "one refresh only"
run_isf --json org show acme
assert_json '.status == "expired"'
fake_ctl /__fake/reset >/dev/null
connect_org acme

t "org test --all: exit 0 only if every org is connected"
connect_org beta
fake_ctl /__fake/fault '{"kind":"unauthorized","count":-1,"path_prefix":"/services/data"}' >/dev/null
run_isf --json org test --all
assert_exit 4 "both now fail with 401"
fake_ctl /__fake/reset >/dev/null
connect_org acme
connect_org beta
run_isf org test --all
assert_exit 0 "all connected again"

t "the session really expires at the org (fake token TTL 2 s): refresh once on 401"
fake_ctl /__fake/config '{"token_ttl":2}' >/dev/null
connect_org beta
fake_ctl /__fake/config '{"token_ttl":7200}' >/dev/null
sleep 2.2
tok_before=$(counter token_requests)
run_isf --json org test beta
assert_exit 0
assert_eq $((tok_before + 1)) "$(counter token_requests)" "one new token"
run_isf --json org show beta
assert_json '.status == "connected"'

t "every token revoked at the org: client credentials get a new one on the next call"
fake_ctl /__fake/revoke-all >/dev/null
tok_before=$(counter token_requests)
run_isf org test beta
assert_exit 0
assert_eq $((tok_before + 1)) "$(counter token_requests)" "one new token"

t "a due token is requested again (refresh.session_ttl_s = margin_s: always due)"
cat >"$WORK/due.yaml" <<EOF
http: {ca_file: $CA}
refresh: {session_ttl_s: 60, margin_s: 60}
EOF
run_isf --config "$WORK/due.yaml" --json org connect beta
assert_exit 0
assert_json '(.token.expires_at | fromdateiso8601) - (.token.issued_at | fromdateiso8601) == 60' \
    "expires_at = issued_at + session_ttl_s"
tok_before=$(counter token_requests)
run_isf --config "$WORK/due.yaml" org token beta
assert_exit 0
SECRETS+=("$OUT")
t1=$OUT
assert_eq $((tok_before + 1)) "$(counter token_requests)" "a due token makes a token request"
tok_before=$(counter token_requests)
run_isf --config "$WORK/due.yaml" org token beta
assert_exit 0
SECRETS+=("$OUT")
assert_eq $((tok_before + 1)) "$(counter token_requests)" "and again on the next call"
assert_ne "$t1" "$OUT" "a new token is printed"
t2=$OUT
run_isf --config "$WORK/due.yaml" --json org token beta
assert_exit 0
assert_eq $((tok_before + 2)) "$(counter token_requests)" "and again with --json"
assert_json ".access_token != \"$t2\"" "another new token"
SECRETS+=("$(json_of .access_token)")
run_isf --json org show beta
assert_json '.last_refreshed_at != null and .status == "connected"'

t "with the default config the same token is not due"
connect_org beta
learn_token beta
t3=$TOKEN
tok_before=$(counter token_requests)
learn_token beta
assert_eq "$t3" "$TOKEN"
assert_eq "$tok_before" "$(counter token_requests)" "no request"

finish

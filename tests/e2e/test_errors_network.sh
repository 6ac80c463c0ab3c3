#!/usr/bin/env bash
# The org cannot be reached or answers with a passing error → exit 5: untrusted certificate,
# wrong host name, too large, not JSON, JSON of the wrong shape, 5xx/429, timeout, connection
# refused or dropped. A connected org becomes `failing` and comes back; its stored token is kept.
source "$(dirname "$0")/lib.sh"

start_fake_org
MAIN_URL=$FAKE_URL
# One attempt per call and short limits keep the failures fast.
write_config "http: {ca_file: $CA, max_response_bytes: 65536, timeout_s: 1, retries: 0}"
add_org acme
add_org beta
connect_org acme
SEALED_A=$(rec_json acme | jq -r .sealed.access_token)
[[ $SEALED_A == A* ]] || fail "setup: no sealed token in acme's record"

# beta_connect_fails_5 WHAT: org connect beta (a new org) exits 5 with TEXT on stderr, prints
# nothing on stdout, and leaves beta new.
beta_connect_fails_5() {
    run_isf org connect beta
    assert_exit 5 "$1 → 5"
    assert_stdout_empty
    [[ -n ${2:-} ]] && assert_stderr_contains "$2"
    run_isf --json org show beta
    assert_json '.status != "connected" and .token.issued_at == null' "beta not connected"
    assert_json '.status == "new" or .status == "failing"' "beta new (or failing)"
}

# acme_token_kept: the failure did not drop or change acme's stored (sealed) token, and org token
# works once the org answers again (it may refresh a failing org's token: SEALED_A follows).
acme_token_kept() {
    assert_eq "$SEALED_A" "$(rec_json acme | jq -r .sealed.access_token)" \
        "the stored token is kept as it was"
    run_isf org token acme
    assert_exit 0 "org token works"
    [[ $RC == 0 ]] && SECRETS+=("$OUT")
    SEALED_A=$(rec_json acme | jq -r .sealed.access_token)
}

t "response too large (fault huge, max_response_bytes 65536) → 5"
fake_ctl /__fake/fault '{"kind":"huge","bytes":1048576,"path_prefix":"/services/oauth2/token"}' >/dev/null
beta_connect_fails_5 "huge token answer" "65536"
fake_ctl /__fake/fault '{"kind":"huge","bytes":1048576,"path_prefix":"/services/data"}' >/dev/null
run_isf org test acme
assert_exit 5 "huge REST answer → 5"
fake_ctl /__fake/reset >/dev/null
acme_token_kept

t "not JSON (fault malformed) → 5"
fake_ctl /__fake/fault '{"kind":"malformed","path_prefix":"/services/oauth2/token"}' >/dev/null
beta_connect_fails_5 "truncated JSON" "JSON"
add_org delta
run_isf --json org connect delta
assert_exit 0 "the fault was used up: another org connects"

t "not JSON: an HTML page with status 200 → 5"
fake_ctl /__fake/fault '{"kind":"status","status":200,"body":"<html><body>Login</body></html>","path_prefix":"/services/oauth2/token"}' >/dev/null
beta_connect_fails_5 "HTML answer"

t "JSON of the wrong shape on the token endpoint → 5"
fake_ctl /__fake/fault '{"kind":"status","status":200,"body":"[1,2,3]","path_prefix":"/services/oauth2/token"}' >/dev/null
beta_connect_fails_5 "an array"
fake_ctl /__fake/fault '{"kind":"status","status":200,"body":"{\"foo\":1}","path_prefix":"/services/oauth2/token"}' >/dev/null
beta_connect_fails_5 "an object without access_token"
fake_ctl /__fake/fault '{"kind":"status","status":200,"body":"{\"access_token\":42,\"instance_url\":true}","path_prefix":"/services/oauth2/token"}' >/dev/null
beta_connect_fails_5 "wrong types"

t "not JSON from the REST API (a login page with 200) → 5"
fake_ctl /__fake/fault '{"kind":"status","status":200,"body":"<html>Login</html>","path_prefix":"/services/data","count":-1}' >/dev/null
run_isf org test acme
assert_exit 5
assert_stderr_contains "JSON"
fake_ctl /__fake/reset >/dev/null
run_isf org test acme
assert_exit 0 "fine again"
acme_token_kept

t "the org answers 503 for ever → 5, status failing; back to connected after reset"
fake_ctl /__fake/fault '{"kind":"status","status":503,"count":-1}' >/dev/null
run_isf org test acme
assert_exit 5
assert_stderr_contains "503"
run_isf --json org test acme
assert_exit 5 "--json too"
run_isf --json org show acme
assert_json '.status == "failing"' "status failing"
assert_json '.status_detail | type == "string" and contains("503")' "status_detail says 503"
assert_eq "$SEALED_A" "$(rec_json acme | jq -r .sealed.access_token)" "the stored token is kept"
run_isf --json org list --status failing
assert_json '[.[].name] == ["acme"]' "listed as failing"
beta_connect_fails_5 "503 on the token endpoint" "503"
fake_ctl /__fake/reset >/dev/null
run_isf org test acme
assert_exit 0 "works again"
run_isf --json org show acme
assert_json '.status == "connected" and .status_detail == null' "connected again"

t "500 and 429 → 5"
fake_ctl /__fake/fault '{"kind":"status","status":500,"path_prefix":"/services/oauth2/token"}' >/dev/null
beta_connect_fails_5 "500"
fake_ctl /__fake/fault '{"kind":"status","status":429,"path_prefix":"/services/data"}' >/dev/null
run_isf org test acme
assert_exit 5 "429 → 5"
run_isf --json org show acme
assert_json '.status == "failing"'
run_isf org test acme
assert_exit 0 "next call works"

t "a timeout (timeout_s 1, delay 3000 ms) → 5 within a few seconds"
fake_ctl /__fake/fault '{"kind":"delay","delay_ms":3000,"path_prefix":"/services/data"}' >/dev/null
start=$(date +%s%N)
run_isf org test acme
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_exit 5
assert_stderr_contains "time"
if ((elapsed_ms < 2900)); then pass "gave up after ${elapsed_ms} ms"; else
    fail "took ${elapsed_ms} ms with timeout_s 1"; fi
fake_ctl /__fake/fault '{"kind":"delay","delay_ms":3000,"path_prefix":"/services/oauth2/token"}' >/dev/null
start=$(date +%s%N)
run_isf --json org connect beta
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_error_json 5 beta
assert_json '.error.code == "org_unreachable"' "code org_unreachable"
if ((elapsed_ms < 2900)); then pass "connect gave up after ${elapsed_ms} ms"; else
    fail "connect took ${elapsed_ms} ms with timeout_s 1"; fi
fake_ctl /__fake/reset >/dev/null
run_isf org test acme
assert_exit 0 "fine again"

t "connection dropped without an answer → 5"
fake_ctl /__fake/fault '{"kind":"close","path_prefix":"/services/data"}' >/dev/null
run_isf org test acme
assert_exit 5
fake_ctl /__fake/reset >/dev/null

t "revocation fails (503) → disconnect and remove exit 5, nothing changed locally"
fake_ctl /__fake/fault '{"kind":"status","status":503,"count":-1,"path_prefix":"/services/oauth2/revoke"}' >/dev/null
run_isf --json org show delta
delta_before=$OUT
SNAP=$(snapshot)
run_isf org disconnect delta
assert_exit 5
assert_stderr_contains "local-only" "suggests --local-only"
run_isf --json org remove delta
assert_error_json 5 delta
assert_unchanged "$SNAP" "record kept as it was"
run_isf --json org show delta
assert_eq "$delta_before" "$OUT" "org show delta unchanged"
run_isf org token delta
assert_exit 0 "the token is still there"
SECRETS+=("$OUT")
run_isf --json org disconnect delta --local-only
assert_exit 0 "--local-only works without the org"
assert_json '.status == "disconnected"'
fake_ctl /__fake/reset >/dev/null
run_isf org connect delta
assert_exit 0

t "untrusted certificate: config without ca_file → 5 'certificate'"
write_config "http: {timeout_s: 5}"
run_isf org test acme
assert_exit 5
assert_stderr_contains "certificate"
run_isf org connect beta
assert_exit 5
assert_stderr_contains "certificate"
write_config "http: {ca_file: $CA, max_response_bytes: 65536, timeout_s: 1, retries: 0}"
run_isf org test acme
assert_exit 0 "trusted again with the CA"

t "untrusted certificate: a self-signed server certificate → 5 'certificate'"
FAKE_CERT=untrusted start_fake_org
add_org untrusted
run_isf org connect untrusted
assert_exit 5
assert_stderr_contains "certificate"
run_isf --json org connect untrusted
assert_error_json 5 untrusted
run_isf --json org show untrusted
assert_json '.status != "connected"'

t "wrong host name in the certificate → 5"
FAKE_CERT=wrong-name start_fake_org
add_org wrongname
run_isf org connect wrongname
assert_exit 5
assert_stderr_contains "certificate"
assert_stderr_contains "name"

t "nobody listening → 5"
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
run_isf org connect wrongname
assert_exit 5
assert_stderr_contains "wrongname"

t "the orgs of the first fake are not affected by the others"
FAKE_URL=$MAIN_URL
run_isf --json org test acme delta
assert_exit 0
run_isf --json org show beta
assert_json '.status == "new"' "beta, which never connected, is still new"

finish

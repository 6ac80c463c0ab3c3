#!/usr/bin/env bash
# The main job end to end, with the contract's JSON: org add (three ways to give the secret) →
# connect → show → list → token → test → edit → disconnect → remove.
source "$(dirname "$0")/lib.sh"

start_fake_org --org-name "Acme Basic" --package installed --package-version 1.4.0.2

ORG_KEYS='["connected_at","created_at","description","environment","has_refresh_token",
 "instance_url","last_refreshed_at","last_tested_at","login_url","mode","name","org_id",
 "org_name","org_type","package","status","status_detail","token","updated_at","username"]'
TS_EXPR="$(ts_ok .token.issued_at) and $(ts_ok .token.expires_at) and $(ts_ok .connected_at) and \
$(ts_ok .last_tested_at) and $(ts_ok .last_refreshed_at) and $(ts_ok .created_at) and \
$(ts_ok .updated_at)"

t "an empty store"
run_isf --json org list
assert_exit 0
assert_json '. == []' "org list --json: []"
run_isf org list
assert_exit 0
assert_stdout_empty "no table without orgs"
run_isf --json org test --all
assert_exit 0 "org test --all with no org"

t "org add with --client-secret-stdin (default mode)"
run_isf_stdin "$CLIENT_SECRET" --json org add acme --login-url "$FAKE_URL" \
    --client-id "$CLIENT_ID" --client-secret-stdin --description "Main Acme org"
assert_exit 0
assert_json '.name == "acme"' "name"
assert_json '.mode == "client-credentials"' "default mode is client-credentials"
assert_json '.status == "new"' "status new"
assert_json ".login_url == \"$FAKE_URL\"" "login_url as given"
assert_json '.description == "Main Acme org"' "description"
assert_json "$ORG_KEYS - keys == []" "every contract key present"
assert_json "$TS_EXPR" "timestamps are RFC 3339 UTC or null"
assert_json '.created_at != null and .updated_at != null' "created_at/updated_at set"
assert_json '.token.issued_at == null and .connected_at == null and .org_id == null' \
    "nothing connected yet"
assert_json '.has_refresh_token == false' "no refresh token"

t "org add with --client-secret-env"
export E2E_SECRET_VAR="$CLIENT_SECRET"
run_isf --json org add beta --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_SECRET_VAR
assert_exit 0
assert_json '.name == "beta" and .status == "new"' "beta added"
unset E2E_SECRET_VAR

t "org add with --client-secret-file"
printf '%s\n' "$CLIENT_SECRET" >"$WORK/secret.txt"
chmod 600 "$WORK/secret.txt"
run_isf --json org add gamma --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-file "$WORK/secret.txt" --description "third"
assert_exit 0
assert_json '.name == "gamma" and .description == "third"' "gamma added"

t "org add text output"
run_isf_stdin "$CLIENT_SECRET" org add delta --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-stdin
assert_exit 0
assert_stdout_contains "delta"
assert_stdout_contains "new"

t "org connect"
before=$(counter token_requests)
run_isf --json org connect acme
assert_exit 0
assert_json '.status == "connected"' "status connected"
assert_json '.org_id | type == "string" and test("^00D[A-Za-z0-9]{15}$")' "18-char org id"
assert_json '.org_name == "Acme Basic"' "org name from the org"
assert_json '.environment == "production"' "environment production"
assert_json '.username == "integration@fake-org.example"' "username"
assert_json ".instance_url == \"$FAKE_URL\"" "instance_url"
assert_json '.package == {namespace:"isyncsf", installed:true, version:"1.4.0.2"} or
    (.package.namespace == "isyncsf" and .package.installed == true and .package.version == "1.4.0.2")' \
    "package installed 1.4.0.2"
assert_json '.token.issued_at != null and .token.expires_at != null' "token times"
assert_json '.connected_at != null' "connected_at set"
assert_json "$TS_EXPR" "timestamps are RFC 3339 UTC or null"
assert_json "$ORG_KEYS - keys == []" "every contract key present"
assert_eq $((before + 1)) "$(counter token_requests)" "exactly one token request"
assert_json '.status_detail == null' "no status detail when connected"

t "org connect text output"
run_isf org connect beta
assert_exit 0
assert_stdout_contains "connected"
assert_stdout_contains "Acme Basic"

t "org show"
run_isf --json org show acme
assert_exit 0
assert_json "$ORG_KEYS - keys == []" "every contract key present"
assert_json '.package | has("namespace") and has("installed") and has("version")' "package keys"
assert_json '.token | has("issued_at") and has("expires_at")' "token keys"
assert_json '.name == "acme" and .status == "connected" and .mode == "client-credentials"' \
    "values"
assert_json '.environment as $e | ["production","sandbox","scratch",null] | index([$e]) != null' \
    "environment value in range"
assert_json "$TS_EXPR" "timestamps are RFC 3339 UTC or null"
assert_json '(.token.expires_at > .token.issued_at)' "token expires after it was issued"
show_acme=$OUT

t "org show text"
run_isf org show acme
assert_exit 0
assert_stdout_contains "acme"
assert_stdout_contains "connected"
assert_stdout_contains "PRODUCTION"
assert_stdout_contains "1.4.0.2"

t "org list --json"
run_isf --json org list
assert_exit 0
assert_json 'type == "array" and length == 4' "four orgs"
assert_json '[.[].name] == ["acme","beta","delta","gamma"]' "sorted by name"
assert_json "all(.[]; ($ORG_KEYS - keys) == [])" "each is a full org object"

t "org list text"
run_isf org list
assert_exit 0
for n in acme beta gamma delta; do assert_stdout_contains "$n" "lists $n"; done

t "org token"
before=$(counter token_requests)
learn_token acme
token=$TOKEN
assert_exit 0
assert_ne "" "$token" "a token is printed"
assert_eq 1 "$(printf '%s\n' "$OUT" | wc -l)" "one line only"
assert_eq "$before" "$(counter token_requests)" "no token request while the token is fresh"

t "org token --json"
before=$(counter token_requests)
run_isf --json org token acme
assert_exit 0
assert_json 'keys == ["access_token","expires_at","instance_url"]' "exactly the contract keys"
assert_json ".access_token == \"$token\"" "same token within the TTL"
assert_json ".instance_url == \"$FAKE_URL\"" "instance_url"
assert_json "$(ts_ok .expires_at) and .expires_at != null" "expires_at RFC 3339"
assert_eq "$before" "$(counter token_requests)" "second call makes no token request"

t "the token works at the org"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" \
    -H "Authorization: Bearer $token" "$FAKE_URL/services/data/v66.0/limits")
assert_eq 200 "$code" "the fake org accepts the token"

t "org test NAME"
before=$(counter rest_calls)
run_isf --json org test acme
assert_exit 0
assert_json 'type == "object" and .status == "connected" and .name == "acme"' \
    "one org named: its org object, connected"
assert_json '.last_tested_at != null' "last_tested_at set"
rest_after=$(counter rest_calls)
if ((rest_after > before)); then pass "an authenticated call reached the org"; else
    fail "org test made no REST call"; fi

t "org test NAME text"
run_isf org test acme
assert_exit 0
assert_stdout_contains "acme"

t "org test several names: exit 0 only if all are connected"
run_isf org test acme beta
assert_exit 0 "both connected"
run_isf org test acme gamma
if ((RC != 0 && RC < 128)); then pass "gamma was never connected: exit $RC"; else
    fail "org test acme gamma (gamma new): expected a failure exit, got $RC"; fi
assert_stderr_contains "gamma"

t "org test --all"
connect_org gamma
connect_org delta
before=$(counter rest_calls)
run_isf --json org test --all
assert_exit 0
assert_json 'type == "array" and length == 4' "one result per org"
assert_json 'all(.[]; .status == "connected")' "all connected"
rest_after=$(counter rest_calls)
if ((rest_after >= before + 4)); then pass "one call per org at least"; else
    fail "org test --all made $((rest_after - before)) REST calls for 4 orgs"; fi

t "org edit description"
run_isf --json org edit acme --description "Edited description"
assert_exit 0
assert_json '.description == "Edited description"' "description changed"
assert_json '.status == "connected"' "still connected"
run_isf --json org show acme
assert_json '.description == "Edited description"' "stored"
assert_json ".created_at == $(jq .created_at <<<"$show_acme")" "created_at unchanged"

t "org edit with a new (wrong) secret, then connect fails; the right one works again"
run_isf_stdin "wrong-secret-value" --json org edit beta --client-secret-stdin
assert_exit 0
run_isf org disconnect beta --local-only
assert_exit 0
run_isf org connect beta
assert_exit 4 "the new secret is used: invalid client"
run_isf_stdin "$CLIENT_SECRET" org edit beta --client-secret-stdin
assert_exit 0
run_isf --json org connect beta
assert_exit 0 "connects again with the right secret"
assert_json '.status == "connected"'

t "org disconnect"
learn_token gamma
before=$(counter revocations)
run_isf --json org disconnect gamma
assert_exit 0
assert_json '.status == "disconnected"' "status disconnected"
assert_json '.token.issued_at == null and .token.expires_at == null' "token times cleared"
assert_eq $((before + 1)) "$(counter revocations)" "one revocation at the org"
run_isf org token gamma
assert_exit 4 "no token after disconnect"
assert_stdout_empty "no token printed"
assert_stderr_nonempty
run_isf org show gamma
assert_exit 0 "the record is kept"

t "org disconnect --local-only"
before=$(counter revoke_requests)
run_isf --json org disconnect delta --local-only
assert_exit 0
assert_json '.status == "disconnected"'
assert_eq "$before" "$(counter revoke_requests)" "no revocation request"
run_isf org token delta
assert_exit 4 "no token after a local disconnect"

t "org connect after disconnect"
run_isf --json org connect gamma
assert_exit 0
assert_json '.status == "connected"'

t "org remove"
run_isf --json org remove gamma
assert_exit 0
run_isf org show gamma
assert_exit 3 "gone"
assert_stderr_contains "gamma"
[[ ! -e $(rec_file gamma) ]] && pass "record file deleted" || fail "record file still there"
run_isf --json org list
assert_json '[.[].name] == ["acme","beta","delta"]' "the others remain"

t "org remove --local-only"
before=$(counter revoke_requests)
run_isf org remove delta --local-only
assert_exit 0
assert_eq "$before" "$(counter revoke_requests)" "no revocation request"
run_isf org show delta
assert_exit 3

finish

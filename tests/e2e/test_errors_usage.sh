#!/usr/bin/env bash
# Mistakes of the user: usage errors (2), unknown org or mode (3), duplicate name (1), invalid
# names and login URLs (2), a wrong client secret (4). Each has a clear message on stderr (or the
# JSON error object alone on stdout with --json) and changes nothing in the store.
source "$(dirname "$0")/lib.sh"

start_fake_org
add_org acme --description "keep me"
add_org beta
connect_org acme
export E2E_SECRET="$CLIENT_SECRET"
SNAP=$(snapshot)
[[ -n $SNAP ]] || fail "setup: empty snapshot"

# usage_case EXPECTED-EXIT TEXT-ON-STDERR ARGS...: text mode, then --json, then the store.
usage_case() {
    local want=$1 text=$2
    shift 2
    run_isf "$@"
    assert_exit "$want"
    assert_stderr_contains "$text"
    assert_stdout_empty "nothing on stdout"
    run_isf --json "$@"
    assert_error_json "$want"
    assert_json ".error.message | ascii_downcase | contains(\"$(tr 'A-Z' 'a-z' <<<"$text")\")" \
        "the JSON message says it too"
    assert_unchanged "$SNAP" "nothing changed in the store"
}

t "unknown flag"
usage_case 2 "--bogus" org show acme --bogus
t "unknown short flag"
usage_case 2 "-z" org list -z
t "missing argument (no NAME)"
usage_case 2 "NAME" org show
t "missing flag value"
usage_case 2 "--description" org edit acme --description
t "unknown command"
usage_case 2 "frobnicate" frobnicate
t "unknown org subcommand"
usage_case 2 "frob" org frob
t "no command at all"
run_isf
assert_exit 2
assert_stderr_contains "usage"
t "--config without a value"
run_isf org list --config
assert_exit 2
t "org test without NAME or --all"
usage_case 2 "--all" org test
t "a value where none is taken"
usage_case 2 "local-only" org disconnect acme --local-only=yes
t "two secret sources at once"
usage_case 2 "only one" org add gamma --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_SECRET --client-secret-file /dev/null
t "secret variable not set"
usage_case 2 "E2E_UNSET_VAR" org add gamma --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_UNSET_VAR
t "secret file missing"
usage_case 2 "$WORK/nope.txt" org add gamma --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-file "$WORK/nope.txt"
t "empty secret on stdin"
STDIN_DATA="" run_isf org add gamma --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-stdin
assert_exit 2
assert_stderr_contains "secret"
assert_unchanged "$SNAP"
t "a secret as a command-line value is refused"
usage_case 2 "--client-secret" org add gamma --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret "$CLIENT_SECRET"
usage_case 2 "--client-secret" org edit acme --client-secret=s3cret-on-argv
t "missing client id / login URL for client credentials"
usage_case 2 "client-id" org add gamma --login-url "$FAKE_URL" --client-secret-env E2E_SECRET
usage_case 2 "login-url" org add gamma --client-id "$CLIENT_ID" --client-secret-env E2E_SECRET

t "unknown org → 3"
for cmd in show connect token disconnect remove; do
    run_isf org "$cmd" nope
    assert_exit 3 "org $cmd nope → 3"
    assert_stderr_contains "nope"
    run_isf --json org "$cmd" nope
    assert_error_json 3 nope
    assert_json '.error.code == "not_found"' "code not_found"
done
run_isf org test nope
assert_exit 3 "org test nope → 3"
run_isf org edit nope --description x
assert_exit 3 "org edit nope → 3"
assert_unchanged "$SNAP"
[[ ! -e $(rec_file nope) ]] && pass "no record appeared" || fail "a record 'nope' appeared"

t "unknown mode → 3"
usage_case 3 "nope" org add gamma --mode nope --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_SECRET
run_isf --json org edit acme --mode nope
assert_exit 3 "edit to an unknown mode → 3"
assert_unchanged "$SNAP"

t "duplicate org name → 1, 'already exists', the first record kept"
run_isf --json org show acme
before_json=$OUT
usage_case 1 "already exists" org add acme --login-url "$FAKE_URL" --client-id other.client \
    --client-secret-env E2E_SECRET --description "overwrite attempt"
run_isf --json org show acme
assert_eq "$before_json" "$OUT" "org show acme unchanged"
assert_json '.description == "keep me" and .status == "connected"'

t "invalid org names → 2"
long65=$(printf 'a%.0s' {1..65})
for bad in "../x" "a/b" ".hidden" "_x" "sp ace" "$long65" "x:y" "é"; do
    run_isf org add --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
        --client-secret-env E2E_SECRET -- "$bad"
    assert_exit 2 "'${bad:0:12}' refused"
    assert_stderr_contains "name"
done
run_isf --json org add --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_SECRET -- -bad
assert_error_json 2
assert_unchanged "$SNAP"
[[ ! -e $WORK/x.rec && ! -e $WORK/home/x.rec ]] && pass "no file escaped the store" ||
    fail "a record was written outside the store"
run_isf org show ../x
assert_exit 2 "org show ../x is a usage error, not a path"

t "the longest valid name (64) works"
long64=$(printf 'b%.0s' {1..64})
run_isf --json org add "$long64" --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_SECRET
assert_exit 0
assert_json ".name == \"$long64\""
run_isf org remove "$long64"
assert_exit 0
SNAP=$(snapshot)

t "login URL not https → 2"
usage_case 2 "https" org add gamma --login-url "http://127.0.0.1:1" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_SECRET
usage_case 2 "https" org add gamma --login-url "not a url" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_SECRET
run_isf org edit acme --login-url "http://acme.example.com"
assert_exit 2 "edit to http:// → 2"
assert_unchanged "$SNAP"

t "login.salesforce.com / test.salesforce.com → 2, 'My Domain'"
usage_case 2 "My Domain" org add gamma --login-url "https://login.salesforce.com" \
    --client-id "$CLIENT_ID" --client-secret-env E2E_SECRET
usage_case 2 "My Domain" org add gamma --login-url "https://test.salesforce.com" \
    --client-id "$CLIENT_ID" --client-secret-env E2E_SECRET

t "wrong client secret at connect → 4 with Salesforce's error_description; status stays new"
run_isf_stdin "definitely-not-the-secret" org add wrong --login-url "$FAKE_URL" \
    --client-id "$CLIENT_ID" --client-secret-stdin
assert_exit 0
SNAP=$(snapshot)
run_isf org connect wrong
assert_exit 4
assert_stderr_contains "invalid client credentials"
assert_stdout_empty
run_isf --json org connect wrong
assert_error_json 4 wrong
assert_json '.error.message | contains("invalid client credentials")'
run_isf --json org show wrong
assert_json '.status == "new"' "status stays new"
assert_json '.token.issued_at == null and .connected_at == null' "nothing connected"

t "unknown client id at connect → 4"
run_isf org add wrongid --login-url "$FAKE_URL" --client-id "3MVG9.unknown" \
    --client-secret-env E2E_SECRET
run_isf org connect wrongid
assert_exit 4
assert_stderr_contains "client"

t "org add refused by the org's plugin leaves the others readable"
run_isf --json org list
assert_exit 0
assert_json '[.[].name] == ["acme","beta","wrong","wrongid"]'

finish

#!/usr/bin/env bash
# What org connect learns about the org: environment (production/sandbox/scratch), org name,
# the managed package (installed, absent, Tooling API forbidden → PackageLicense fallback, both
# forbidden → unknown with a reason); and org list's filters over those values.
source "$(dirname "$0")/lib.sh"

start_fake_org --org-name "Prod Company" --env production --package installed \
    --package-version 1.4.0.2
URL_A=$FAKE_URL
start_fake_org --org-name "Scratchy Dev" --env scratch --org-id 00D5e000000Scr1 \
    --username scratch@example.test --package absent
URL_B=$FAKE_URL
export E2E_SECRET="$CLIENT_SECRET"

# add NAME URL [flags]: org add with the secret from the environment.
add() {
    local name=$1 url=$2
    shift 2
    run_isf org add "$name" --login-url "$url" --client-id "$CLIENT_ID" \
        --client-secret-env E2E_SECRET "$@"
    [[ $RC == 0 ]] || fail "setup: org add $name"
}

t "environment production, package installed with version"
FAKE_URL=$URL_A
add prod "$URL_A" --description "the production one"
run_isf --json org connect prod
assert_exit 0
assert_json '.environment == "production"' "production"
assert_json '.org_name == "Prod Company"' "org name"
assert_json '.package.namespace == "isyncsf" and .package.installed == true and
    .package.version == "1.4.0.2"' "package isyncsf 1.4.0.2 installed"

t "environment sandbox (set through /__fake/config), package absent"
fake_ctl /__fake/config '{"env":"sandbox","org_name":"Sandbox Corp","package":"absent"}' >/dev/null
add sbx "$URL_A" --description "UAT box"
run_isf --json org connect sbx
assert_exit 0
assert_json '.environment == "sandbox"' "sandbox"
assert_json '.org_name == "Sandbox Corp"' "org name from the org"
assert_json '.package.namespace == "isyncsf" and .package.installed == false' \
    "package not installed"
assert_json '.package.version == null' "no version when absent"

t "package: Tooling API forbidden → PackageLicense fallback"
fake_ctl /__fake/config '{"env":"production","org_name":"Forbidden Inc","package":"forbidden"}' \
    >/dev/null
add forb "$URL_A"
run_isf --json org connect forb
assert_exit 0
assert_json '.package.installed == true' "installed (seen through PackageLicense)"
assert_json '.package.version == null' "version unknown through PackageLicense"

t "package: both queries forbidden → unknown, with a reason"
fake_ctl /__fake/config '{"package":"forbidden-all","org_name":"Locked Down"}' >/dev/null
add locked "$URL_A"
run_isf --json org connect locked
assert_exit 0 "connects anyway"
assert_json '.package.installed == null' "installed null"
assert_json '.package.reason | type == "string" and length > 0' "a reason"
run_isf org show locked
assert_stdout_contains "unknown" "text output says unknown"

t "package version follows the org (config package_version)"
fake_ctl /__fake/config '{"package":"installed","package_version":"2.0.1.7","org_name":"Prod Company"}' >/dev/null
run_isf --json org connect prod
assert_exit 0
assert_json '.package.installed == true and .package.version == "2.0.1.7"' "new version seen"

t "environment scratch (fake --env scratch), other org id and user"
FAKE_URL=$URL_B
add scr "$URL_B" --description "scratch for CI"
run_isf --json org connect scr
assert_exit 0
assert_json '.environment == "scratch"' "scratch"
assert_json '.org_id | startswith("00D5e000000Scr1")' "org id from the org (18 chars)"
assert_json '.org_id | length == 18' "18-character org id"
assert_json '.username == "scratch@example.test"' "username"
assert_json '.package.installed == false' "absent"
run_isf org show scr
assert_stdout_contains "SCRATCH"

t "a never-connected org stays in the list with environment null"
add fresh "$URL_B" --description "not yet"

t "org list --env"
run_isf --json org list --env production
assert_exit 0
assert_json '[.[].name] == ["forb","locked","prod"]' "production orgs"
run_isf --json org list --env sandbox
assert_json '[.[].name] == ["sbx"]' "sandbox orgs"
run_isf --json org list --env scratch
assert_json '[.[].name] == ["scr"]' "scratch orgs"
run_isf org list --env nope
assert_exit 2 "bad --env value is a usage error"

t "org list --status"
run_isf --json org list --status new
assert_exit 0
assert_json '[.[].name] == ["fresh"]' "new"
run_isf --json org list --status connected
assert_json '[.[].name] == ["forb","locked","prod","sbx","scr"]' "connected"
run_isf --json org list --status disconnected
assert_json '. == []' "none disconnected"
run_isf --json org list --status expired
assert_exit 0
assert_json '. == []' "no expired org: empty array"

t "org list --mode"
run_isf --json org list --mode client-credentials
assert_exit 0
assert_json 'length == 6' "every org is client-credentials"
run_isf --json org list --mode webserver-eca
assert_exit 0
assert_json '. == []' "none in another mode"

t "org list --filter (case-insensitive, name / org name / org id / instance URL / description)"
run_isf --json org list --filter SBX
assert_exit 0
assert_json '[.[].name] == ["sbx"]' "by name, other case"
run_isf --json org list --filter "sandbox corp"
assert_json '[.[].name] == ["sbx"]' "by org name, other case"
run_isf --json org list --filter "00d5e000000scr1"
assert_json '[.[].name] == ["scr"]' "by org id, other case"
port_b=${URL_B##*:}
run_isf --json org list --filter ":$port_b"
assert_json '[.[].name] | contains(["scr"]) and (contains(["prod"]) | not)' \
    "by instance URL (port of the second fake)"
run_isf --json org list --filter "uat BOX"
assert_json '[.[].name] == ["sbx"]' "by description"
run_isf --json org list --filter "no-such-thing-anywhere"
assert_exit 0
assert_json '. == []' "no match: empty array"

t "org list filters combine"
run_isf --json org list --env production --filter prod
assert_json '[.[].name] == ["prod"]' "env and text"
run_isf --json org list --status connected --env scratch --mode client-credentials
assert_json '[.[].name] == ["scr"]' "three filters"

t "org edit --login-url to another org drops the tokens; connect reaches the new org"
run_isf --json org edit forb --login-url "$URL_B"
assert_exit 0
assert_json ".login_url == \"$URL_B\"" "login URL changed"
assert_json '.status == "new"' "back to new"
assert_json '.token.issued_at == null and .token.expires_at == null' "old tokens dropped"
(rec_json forb | jq -e '(.sealed.access_token // null) == null' >/dev/null) &&
    pass "no sealed token left in the record" || fail "the old token is still in the record"
run_isf --json org connect forb
assert_exit 0
assert_json '.environment == "scratch" and .org_name == "Scratchy Dev"' "the new org's details"
assert_json ".instance_url == \"$URL_B\""

t "org list text output with a filter"
run_isf org list --filter scratchy
assert_exit 0
assert_stdout_contains "scr"
assert_stdout_lacks "Prod Company"

finish

#!/usr/bin/env bash
# Mode named-credential: an org names a credential defined in the options of
# auth-named-credential; its token comes from a helper command (either output shape), an
# environment variable or a file, is asked for again on 401, and never reaches the store. Each
# bad source fails with its own message and exit code.
source "$(dirname "$0")/lib.sh"

start_fake_org
H="$WORK/helpers"
mkdir -p "$H"

# A token from the fake org, the way a real helper would get one from somewhere else.
GRANT="curl -s --cacert '$CA' -d grant_type=client_credentials -d client_id='$CLIENT_ID' \
-d client_secret='$CLIENT_SECRET' '$FAKE_URL/services/oauth2/token' | jq -r .access_token"

# helper NAME BODY: an executable bash script $H/NAME. The helper runs with isyncsf's clean
# environment, so everything it needs is written into it.
helper() {
    printf '#!/usr/bin/env bash\n%s\n' "$2" >"$H/$1"
    chmod 700 "$H/$1"
}

helper sf-shape "echo run >>'$H/sf-shape.count'
env >'$H/sf-shape.env'
tok=\$($GRANT)
printf '{\"status\":0,\"result\":{\"accessToken\":\"%s\",\"instanceUrl\":\"%s\",\"username\":\"ci@acme\"}}\n' \"\$tok\" '$FAKE_URL'"
helper own-shape "tok=\$($GRANT)
printf '{\"version\":1,\"access_token\":\"%s\",\"instance_url\":\"%s\",\"expires_at\":\"2099-01-02T03:04:05Z\"}\n' \"\$tok\" '$FAKE_URL'"
helper hangs "echo \$\$ >'$H/hangs.pid'
exec sleep 60"
# It explains itself on stderr, and echoes a real token there (as a careless helper might).
helper fails "echo \"helper: no such org (last token \$($GRANT))\" >&2
exit 1"
helper garbage "echo 'this is not JSON'"
helper huge "head -c 10000000 /dev/zero | tr '\\\\0' x"
helper wrong-json "echo '{\"token\":\"abc\"}'"

write_config \
    "http: {ca_file: $CA}" \
    "plugins:" \
    "  load:" \
    "    - name: auth-client-credentials" \
    "    - name: store-file" \
    "    - name: auth-named-credential" \
    "      options:" \
    "        timeout_s: 20" \
    "        credentials:" \
    "          sf-cli: {url: \"$FAKE_URL\", command: [\"$H/sf-shape\"]}" \
    "          own: {url: \"$FAKE_URL\", command: [\"$H/own-shape\"]}" \
    "          hangs: {url: \"$FAKE_URL\", command: [\"$H/hangs\"], timeout_s: 2}" \
    "          fails: {url: \"$FAKE_URL\", command: [\"$H/fails\"]}" \
    "          garbage: {url: \"$FAKE_URL\", command: [\"$H/garbage\"]}" \
    "          huge: {url: \"$FAKE_URL\", command: [\"$H/huge\"]}" \
    "          wrong-json: {url: \"$FAKE_URL\", command: [\"$H/wrong-json\"]}" \
    "          missing-program: {url: \"$FAKE_URL\", command: [\"$H/does-not-exist\"]}" \
    "          from-env: {url: \"$FAKE_URL\", token_env: NC_E2E_TOKEN}" \
    "          unset-env: {url: \"$FAKE_URL\", token_env: NC_E2E_UNSET}" \
    "          from-file: {url: \"$FAKE_URL\", token_file: \"$WORK/token.txt\"}" \
    "          loose-file: {url: \"$FAKE_URL\", token_file: \"$WORK/loose.txt\"}"

# Every token seen is a secret: run_isf fails if one shows anywhere but `org token`'s stdout.
seen_tokens=()
remember() {
    if [[ -n $1 ]]; then
        seen_tokens+=("$1")
        SECRETS+=("$1")
    fi
}

t "a named credential that does not exist → 3, listing the defined ones"
run_isf org add ghost --mode named-credential --named-credential nope
assert_exit 3
assert_stderr_contains "named credential nope not found"
assert_stderr_contains "sf-cli"
run_isf --json org add ghost --mode named-credential --named-credential nope
assert_error_json 3
run_isf org show ghost
assert_exit 3 "no record was created"

t "mode named-credential without --named-credential → 2"
run_isf org add ghost --mode named-credential
assert_exit 2
assert_stderr_contains "--named-credential"

t "sf org display --json shape: add, connect, test, show, token"
run_isf org add sfcli --mode named-credential --named-credential sf-cli
assert_exit 0 "org add without --login-url"
export E2E_MUST_NOT_LEAK="leaked-$RANDOM"
run_isf --json org connect sfcli
assert_exit 0
assert_json '.status == "connected"' "connected"
assert_json ".instance_url == \"$FAKE_URL\"" "instance URL from the helper"
assert_json '.org_id | type == "string" and length >= 15' "org details read"
assert_json '.token.expires_at == null and .has_refresh_token == false' "no token times kept"
unset E2E_MUST_NOT_LEAK
run_isf org test sfcli
assert_exit 0
run_isf --json org show sfcli
assert_exit 0
assert_json '.mode == "named-credential" and .status == "connected"' "show"
learn_token sfcli
assert_exit 0
remember "$TOKEN"
if grep -qE "^$TOKEN_RE" <<<"$TOKEN"; then pass "org token prints the helper's token"; else
    fail "org token printed '${TOKEN:0:20}…'"; fi
run_isf --json org token sfcli
assert_exit 0
assert_json ".instance_url == \"$FAKE_URL\" and (.access_token | length > 15)" "token --json"
remember "$(json_of .access_token)"

t "the helper ran with the clean environment only"
if [[ -s $H/sf-shape.env ]]; then
    # bash itself adds PWD, SHLVL and _.
    extra=$(cut -d= -f1 "$H/sf-shape.env" |
        grep -vxE 'PATH|HOME|LANG|LC_ALL|TMPDIR|PWD|SHLVL|_|OLDPWD' | tr '\n' ' ')
    assert_eq "" "$extra" "nothing beyond PATH, HOME, LANG, LC_ALL, TMPDIR"
    assert_eq "HOME=$HOME" "$(grep '^HOME=' "$H/sf-shape.env")" "HOME passed on"
    assert_eq "LC_ALL=C" "$(grep '^LC_ALL=' "$H/sf-shape.env")" "LC_ALL passed on"
    if grep -q E2E_MUST_NOT_LEAK "$H/sf-shape.env"; then fail "a caller's variable reached the helper"; else
        pass "the caller's other variables stay out"; fi
else
    fail "the helper did not record its environment"
fi

t "401 from the org: the helper is asked once more, the call retried"
runs_before=$(wc -l <"$H/sf-shape.count")
fake_ctl /__fake/fault '{"kind":"unauthorized","count":1,"path_prefix":"/services/data"}' >/dev/null
run_isf --json org test sfcli
assert_exit 0
assert_json 'if type == "array" then .[0].status else .status end | . == "connected"' "connected"
assert_eq $((runs_before + 2)) "$(wc -l <"$H/sf-shape.count")" "asked at start and after the 401"

t "org edit to a credential that does not exist → 3, nothing changed"
run_isf org edit sfcli --named-credential nope
assert_exit 3
assert_stderr_contains "named credential nope not found"
run_isf --json org show sfcli
assert_json '.named_credential == "sf-cli" and .status == "connected"' "unchanged"

t "a broken credential table is a config error naming the credential and key → 6"
printf '%s\n' "http: {ca_file: $CA}" "plugins: {load: [{name: store-file}, {name: auth-named-credential, options: {credentials: {x: {url: \"$FAKE_URL\", token_env: A, colour: blue}}}}]}" >"$WORK/badnc.yaml"
run_isf --config "$WORK/badnc.yaml" org token sfcli
assert_exit 6
assert_stderr_contains "credentials.x: unknown key 'colour'"

t "own shape with expires_at"
run_isf org add own --mode named-credential --named-credential own
connect_org own
run_isf --json org token own
assert_exit 0
assert_json '.expires_at == "2099-01-02T03:04:05Z"' "expires_at from the helper"
remember "$(json_of .access_token)"

t "token_env and token_file"
NC_E2E_TOKEN=$(eval "$GRANT")
export NC_E2E_TOKEN
remember "$NC_E2E_TOKEN"
run_isf org add env1 --mode named-credential --named-credential from-env
connect_org env1
learn_token env1
assert_eq "$NC_E2E_TOKEN" "$TOKEN" "the variable's token"
file_token=$(eval "$GRANT")
remember "$file_token"
printf '%s\n' "$file_token" >"$WORK/token.txt"
chmod 600 "$WORK/token.txt"
run_isf org add file1 --mode named-credential --named-credential from-file
connect_org file1
learn_token file1
assert_eq "$file_token" "$TOKEN" "the file's token, without its newline"

t "the store holds no copy of any token"
leaks=0
for tok in "${seen_tokens[@]}"; do
    if grep -rqF -- "$tok" "$ISYNCSF_HOME"; then leaks=$((leaks + 1)); fi
done
assert_eq 0 "$leaks" "none of ${#seen_tokens[@]} tokens under ISYNCSF_HOME"
if grep -rqE -- "$TOKEN_RE" "$ISYNCSF_HOME"; then fail "something token-shaped in the store"; else
    pass "nothing token-shaped in the store"; fi
if rec_json sfcli | jq -e 'has("access_token") or has("sealed_access_token")' >/dev/null 2>&1; then
    fail "the record has an access token field"
else
    pass "the record has no access token field"
fi

# bad_case NAME CRED EXIT TEXT: add an org for CRED, connect must fail with EXIT and TEXT.
bad_case() {
    run_isf org add "$1" --mode named-credential --named-credential "$2"
    [[ $RC == 0 ]] || fail "setup: org add $1"
    run_isf org connect "$1"
    assert_exit "$3"
    assert_stderr_contains "$4"
    assert_stdout_empty
}

t "a helper that hangs is killed at its time limit → 5"
start=$(date +%s)
bad_case hang hangs 5 "did not finish within 2 s and was killed"
elapsed=$(($(date +%s) - start))
if ((elapsed < 10)); then pass "returned after ${elapsed}s"; else fail "took ${elapsed}s"; fi
pid=$(cat "$H/hangs.pid" 2>/dev/null)
if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then pass "the helper is gone"; else
    fail "the helper (pid ${pid:-?}) still runs"; fi

t "a helper that exits 1 → 1, quoting its stderr with the token redacted"
bad_case fail1 fails 1 "exited with status 1"
assert_stderr_contains 'stderr: "helper: no such org (last token [redacted])"'
run_isf --json org show fail1
assert_json '.status_detail == null or (.status_detail | test("!") | not)' "no token in the record"

t "a helper that prints garbage → 1"
bad_case garbage1 garbage 1 "not a JSON object"
bad_case wrong1 wrong-json 1 "without access_token"
assert_stderr_lacks "abc" "the output is not quoted"

t "a helper that prints 10 MB → 1"
bad_case huge1 huge 1 "printed more than 1048576 bytes"

t "a helper that cannot be started → 6"
if [[ -n ${ISF_WRAP:-} ]]; then
    # Under valgrind posix_spawn cannot report a failed exec (the child exits 127 instead).
    pass "skipped under ISF_WRAP (${ISF_WRAP%% *})"
else
    bad_case nostart1 missing-program 6 "cannot run the helper"
fi

t "a token file with mode 0644 → 6, with the fix"
printf '%s\n' "$file_token" >"$WORK/loose.txt"
chmod 644 "$WORK/loose.txt"
bad_case loose1 loose-file 6 "chmod 600 $WORK/loose.txt"

t "an unset variable → 6"
bad_case unset1 unset-env 6 "NC_E2E_UNSET is not set"

t "a connected org whose source breaks: org token fails and says why"
chmod 644 "$WORK/token.txt"
run_isf org token file1
assert_exit 6
assert_stderr_contains "chmod 600"
chmod 600 "$WORK/token.txt"

t "refresh: nothing stored to renew; --force asks the credential's source once"
runs_before=$(wc -l <"$H/sf-shape.count")
run_isf --json refresh sfcli
assert_exit 0
assert_json '.[0].outcome == "skipped" and (.[0].message | test("keeps no token"))' "skipped, saying why"
assert_eq "$runs_before" "$(wc -l <"$H/sf-shape.count")" "the helper was not run"
run_isf --json refresh sfcli --force
assert_exit 0
assert_json '.[0].outcome == "refreshed"' "forced: refreshed"
assert_eq $((runs_before + 1)) "$(wc -l <"$H/sf-shape.count")" "the helper ran once"
run_isf --json org show sfcli
assert_json '.status == "connected" and .last_refreshed_at != null and .has_refresh_token == false and .token.expires_at == null' \
    "connected, refreshed now, still no token kept"
run_isf org add broken --mode named-credential --named-credential fails
run_isf org connect broken
assert_exit 1 "setup: the broken helper cannot connect"
rec_rewrite broken '.status = "connected"'
run_isf --json refresh broken --force
assert_exit 1 "a helper that fails: exit 1"
assert_json '.[0].outcome == "failed"' "failed"
run_isf org remove broken --local-only

t "disconnect clears what isyncsf holds and revokes nothing"
revocations=$(counter revocations)
run_isf --json org disconnect sfcli
assert_exit 0
assert_json '.status == "disconnected"' "disconnected"
assert_json '.status_detail | test("none was revoked")' "says it revoked nothing"
assert_eq "$revocations" "$(counter revocations)" "no revocation request"
run_isf org token sfcli
assert_exit 4 "a disconnected org gives no token"
run_isf org connect sfcli
assert_exit 0 "connect again"

finish

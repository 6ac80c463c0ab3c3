#!/usr/bin/env bash
# Secrets: the client secret and the access tokens never appear in any output except `org token`'s
# stdout (run_isf checks every single run of every script for that; here also with -v), never on
# the command line, never in plaintext on disk; the key and store files are private, whatever
# the umask.
source "$(dirname "$0")/lib.sh"

# A permissive umask: the CLI must make its files private itself.
umask 000
start_fake_org
umask 022

# secret_nowhere_on_disk WHAT: neither the client secret nor any token seen so far is in any file
# under ISYNCSF_HOME (record files, key, locks, config...).
secret_nowhere_on_disk() {
    local s found=0
    for s in "${SECRETS[@]}"; do
        if grep -rqF -- "$s" "$ISYNCSF_HOME"; then
            found=1
            fail "$1: a secret (${s:0:6}…) is in plaintext under ISYNCSF_HOME: $(grep -rlF -- "$s" "$ISYNCSF_HOME" | head -3)"
        fi
    done
    if grep -rqE -- "$TOKEN_RE" "$ISYNCSF_HOME"; then
        found=1
        fail "$1: something shaped like an access token is in plaintext under ISYNCSF_HOME"
    fi
    [[ $found == 0 ]] && pass "$1: no plaintext secret under ISYNCSF_HOME"
}

t "-v output of add and connect holds no secret"
umask 000
run_isf_stdin "$CLIENT_SECRET" -v org add acme --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-stdin
assert_exit 0
assert_stderr_contains "debug" "verbose output is there"
run_isf -v org connect acme
umask 022
assert_exit 0
assert_stderr_contains "http" "the HTTP calls are logged"
assert_stderr_lacks "$CLIENT_SECRET" "no client secret"
if grep -qE -- "$TOKEN_RE" <<<"$ERR"; then fail "a token on stderr"; else pass "no token"; fi
assert_stderr_lacks "client_secret=" "no form body"
assert_stderr_lacks "Bearer " "no Authorization header"

t "modes: key 0600, store folder 0700, record 0600 (even with umask 000)"
assert_eq 600 "$(file_mode "$ISYNCSF_HOME/master.key")" "master.key 0600"
assert_eq 700 "$(file_mode "$ISYNCSF_HOME/orgs")" "orgs/ 0700"
assert_eq 600 "$(file_mode "$(rec_file acme)")" "acme.rec 0600"
if [[ -d $ISYNCSF_HOME/orgs/.locks ]]; then
    assert_eq 700 "$(file_mode "$ISYNCSF_HOME/orgs/.locks")" ".locks 0700"
    for f in "$ISYNCSF_HOME"/orgs/.locks/*; do
        [[ -e $f ]] || continue
        m=$(file_mode "$f")
        [[ $m == 600 || $m == 400 ]] && pass "lock file $(basename "$f") private" ||
            fail "lock file $(basename "$f") has mode $m"
    done
fi
bad=$(find "$ISYNCSF_HOME/orgs" "$ISYNCSF_HOME/master.key" -perm /077 2>/dev/null)
assert_eq "" "$bad" "nothing in the store is open to group or others"

t "org token prints the token on stdout, and only there"
learn_token acme
assert_exit 0
assert_ne "" "$TOKEN"
assert_eq "" "$ERR" "nothing on stderr"
run_isf -v --json org token acme
assert_exit 0
assert_stderr_lacks "$TOKEN" "-v stderr has no token"
assert_json ".access_token == \"$TOKEN\""

t "no secret in the store files"
secret_nowhere_on_disk "after connect"
rec_json acme | jq -e '.sealed.client_secret and .sealed.access_token' >/dev/null &&
    pass "the record holds the secrets sealed" || fail "the record holds no sealed secrets"

t "org show / list / test with -v hold no secret fields or values"
run_isf -v --json org show acme
assert_exit 0
assert_json '[paths | .[-1] | strings] | map(select(test("^(client_secret|access_token|refresh_token|sealed)$"))) == []' \
    "no secret-bearing key in the org object"
assert_json '.has_refresh_token == false' "only a boolean about the refresh token"
run_isf -v --json org list
assert_exit 0
assert_json '[.. | objects | keys[]] | map(select(test("^(client_secret|access_token|refresh_token|sealed)$"))) == []' \
    "no secret-bearing key in the list"
run_isf -v org test acme
assert_exit 0
assert_stderr_contains "http"

t "-v of the 401 → refresh → retry path holds no token"
fake_ctl /__fake/fault '{"kind":"unauthorized","count":1,"path_prefix":"/services/data"}' >/dev/null
run_isf -v org test acme
assert_exit 0
assert_stderr_contains "refresh" "the refresh is logged"
learn_token acme
assert_exit 0
secret_nowhere_on_disk "after a refresh"

t "-v of failures holds no secret (bad secret at the token endpoint)"
run_isf_stdin "$CLIENT_SECRET-but-wrong" -v org add wrong --login-url "$FAKE_URL" \
    --client-id "$CLIENT_ID" --client-secret-stdin
SECRETS+=("$CLIENT_SECRET-but-wrong")
run_isf -v org connect wrong
assert_exit 4
assert_stderr_lacks "but-wrong" "the wrong secret is not echoed"
run_isf -v --json org connect wrong
assert_exit 4
assert_stdout_lacks "but-wrong"

t "secrets are never taken from the command line"
run_isf org add x --login-url "$FAKE_URL" --client-id "$CLIENT_ID" --client-secret foo
assert_exit 2 "--client-secret VALUE → 2"
run_isf org add x --login-url "$FAKE_URL" --client-id "$CLIENT_ID" --client-secret=foo
assert_exit 2 "--client-secret=VALUE → 2"
run_isf org add x --login-url "$FAKE_URL" --client-id "$CLIENT_ID" --client-secret-stdin=foo
assert_exit 2 "--client-secret-stdin=VALUE → 2"
run_isf org edit acme --client-secret foo
assert_exit 2 "edit --client-secret VALUE → 2"
[[ ! -e $(rec_file x) ]] && pass "no record x" || fail "record x was created"
run_isf --help
assert_stdout_lacks "--client-secret " "help offers no --client-secret VALUE flag"

t "the secret from --client-secret-env / --client-secret-file does not end up on disk"
export E2E_ENV_SECRET="envSecret-$(openssl rand -hex 10)"
SECRETS+=("$E2E_ENV_SECRET")
run_isf org add envorg --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-env E2E_ENV_SECRET
assert_exit 0
FILE_SECRET="fileSecret-$(openssl rand -hex 10)"
SECRETS+=("$FILE_SECRET")
printf '%s\n' "$FILE_SECRET" >"$WORK/secret.txt"
run_isf org add fileorg --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-file "$WORK/secret.txt"
assert_exit 0
secret_nowhere_on_disk "after add by env and file"
run_isf_stdin "$CLIENT_SECRET" org edit envorg --client-secret-stdin
assert_exit 0
run_isf org connect envorg
assert_exit 0 "the edited secret is used"
learn_token envorg
secret_nowhere_on_disk "after edit and connect"

t "disconnect wipes the tokens from the record"
run_isf org disconnect envorg
assert_exit 0
rec_json envorg | jq -e '(.sealed.access_token // null) == null and (.sealed.refresh_token // null) == null' \
    >/dev/null && pass "no sealed token left" || fail "a sealed token is still in the record"
rec_json envorg | jq -e '.sealed.client_secret' >/dev/null &&
    pass "the client secret stays (sealed) for a later connect" ||
    fail "the client secret was lost"

t "remove leaves no trace of the org's sealed values"
sealed=$(rec_json envorg | jq -r '.sealed.client_secret')
run_isf org remove envorg
assert_exit 0
if grep -rqF -- "$sealed" "$ISYNCSF_HOME"; then fail "the sealed secret of a removed org is still on disk"; else
    pass "the sealed secret is gone with the record"; fi

t "the whole ISYNCSF_HOME at the end"
secret_nowhere_on_disk "at the end"
bad=$(find "$ISYNCSF_HOME/orgs" "$ISYNCSF_HOME/master.key" -perm /077 2>/dev/null)
assert_eq "" "$bad" "still nothing open to group or others"

finish

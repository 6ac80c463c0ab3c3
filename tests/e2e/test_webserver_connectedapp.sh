#!/usr/bin/env bash
# Mode webserver-connectedapp (one global Connected App from the plugin's options): the secret
# from an environment variable or an owner-only file, never inline and never in a record;
# connect → connected → token → refresh with rotation → disconnect revokes; --no-browser paste.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/webserver-lib.sh"

make_pki
PORT=$(free_port)
export CA_SECRET_VAR="$CLIENT_SECRET"
# ca_config EXTRA-OPTIONS: a config loading the connected app plugin with client_id, the redirect
# URI on $PORT and EXTRA-OPTIONS (YAML flow pairs); tokens always due (each org token refreshes).
ca_config() {
    write_config "http: {ca_file: $CA}" "refresh: {session_ttl_s: 60, margin_s: 60}" \
        "plugins:" "  load:" "    - name: store-file" "    - name: auth-webserver-connectedapp" \
        "      options: {client_id: $CLIENT_ID, redirect_uri: \"http://localhost:$PORT/OauthRedirect\"$1}"
}
ca_config ", client_secret_env: CA_SECRET_VAR"
start_fake_org --rotate-refresh

t "org add: no client credentials of its own"
run_isf_stdin "$CLIENT_SECRET" org add withsecret --mode webserver-connectedapp \
    --login-url "$FAKE_URL" --client-secret-stdin
assert_exit 2
assert_stderr_contains "client_secret_env"
run_isf org add withid --mode webserver-connectedapp --login-url "$FAKE_URL" --client-id X
assert_exit 2
run_isf org list --json
assert_json 'length == 0' "nothing added"
run_isf org add acme --mode webserver-connectedapp --login-url "$FAKE_URL"
assert_exit 0
run_isf --json org show acme
assert_json '.has_client_secret == false and .client_id == null' "the record holds no client credentials"

t "connect through the browser with the global app"
grants_before=$(counter token_grants)
browser_connect acme
assert_exit 0
assert_eq "200" "$(browser_status)" "the browser got the connected page"
assert_eq $((grants_before + 1)) "$(counter token_grants)" "one code exchange"
run_isf --json org show acme
assert_json '.status == "connected" and .mode == "webserver-connectedapp" and .has_refresh_token'

t "refresh with rotation uses the global app"
learn_token acme
assert_exit 0
first=$TOKEN
sealed1=$(sealed_refresh_of acme)
learn_token acme
assert_exit 0
assert_ne "$first" "$TOKEN" "a new access token"
sealed2=$(sealed_refresh_of acme)
assert_ne "$sealed1" "$sealed2" "the rotated refresh token was stored"

t "disconnect revokes; --no-browser with the pasted redirect URL connects again"
rev_before=$(counter revocations)
run_isf org disconnect acme
assert_exit 0
assert_eq $((rev_before + 1)) "$(counter revocations)" "one revocation"
paste_connect acme ""
assert_exit 0
run_isf --json org show acme
assert_json '.status == "connected"'

t "on a terminal, org connect says it opens the login page"
if command -v script >/dev/null 2>&1; then
    tty_out=$(BROWSER=$FAKE_BROWSER script -qec "'$ISF_BIN' org connect acme" /dev/null 2>&1)
    if grep -q "Opening the Salesforce login page for org acme" <<<"$tty_out"; then
        pass "the terminal is told"
    else
        fail "no 'Opening the Salesforce login page' on the terminal: ${tty_out:0:300}"
    fi
    if grep -qE -- "$TOKEN_RE" <<<"$tty_out"; then fail "a token on the terminal"; fi
else
    fail "script (util-linux) is needed for this check"
fi
browser_connect acme
assert_exit 0
assert_stderr_lacks "Opening" "not a terminal: no progress line"

t "the secret from an owner-only file"
printf '%s\n' "$CLIENT_SECRET" >"$WORK/ca.secret"
chmod 600 "$WORK/ca.secret"
ca_config ", client_secret_file: $WORK/ca.secret"
browser_connect acme
assert_exit 0 "connect with the secret from the file"

t "a secret file others can read is a config error (exit 6) naming the option; record kept"
chmod 644 "$WORK/ca.secret"
before=$(snapshot)
browser_connect acme
assert_exit 6
assert_stderr_contains "client_secret_file"
assert_stderr_contains "chmod 600"
assert_unchanged "$before"

t "the secret's variable unset: exit 6 naming the option"
ca_config ", client_secret_env: CA_SECRET_MISSING"
run_isf org token acme
assert_exit 6
assert_stderr_contains "client_secret_env"
assert_stderr_contains "CA_SECRET_MISSING"
assert_unchanged "$before"

t "an inline client_secret in the config is refused, naming the option"
ca_config ", client_secret: inline-secret-value"
run_isf org connect acme
assert_exit 6
assert_stderr_contains "client_secret_env"
assert_stderr_lacks "inline-secret-value"
assert_unchanged "$before"

t "exactly one of client_secret_env and client_secret_file"
ca_config ", client_secret_env: CA_SECRET_VAR, client_secret_file: $WORK/ca.secret"
run_isf org connect acme
assert_exit 6
assert_stderr_contains "exactly one"
assert_unchanged "$before"

finish

#!/usr/bin/env bash
# test_browser_login.sh: both web server modes end to end in a real headless browser. For each of
# webserver-eca and webserver-connectedapp, `isyncsf org connect` opens the fake org's login page
# through $BROWSER (browse.sh → login.mjs: Debian's chromium driven by playwright-core), which logs
# in, clicks Allow and lands on the CLI's loopback page; then the same with Deny. Checks the exit
# codes, the record (connected, or untouched after a denial), what the loopback page said and the
# fake org's counters. Missing node, chromium or node_modules is a failure that says what to
# install, never a skip: CI installs them (scripts/deps.sh).
BROWSER_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
source "$BROWSER_DIR/../e2e/lib.sh"

CHROMIUM=${ISF_CHROMIUM:-/usr/bin/chromium}
export ISF_CHROMIUM=$CHROMIUM
USER_NAME="browser-user@fake-org.example"
USER_PASSWORD="br-$(openssl rand -hex 8)"
SECRETS+=("$USER_PASSWORD")

t "prerequisites"
missing=""
if ! command -v node >/dev/null 2>&1; then
    missing="node (apt-get install nodejs npm)"
elif (($(node -p 'process.versions.node.split(".")[0]') < 18)); then
    missing="Node.js 18 or later (node $(node --version) is too old)"
elif [[ ! -x $CHROMIUM ]]; then
    missing="$CHROMIUM (apt-get install chromium fonts-liberation, or set ISF_CHROMIUM)"
elif [[ ! -f $BROWSER_DIR/node_modules/playwright-core/package.json ]]; then
    missing="tests/browser/node_modules (npm ci --prefix tests/browser --no-audit --no-fund)"
fi
if [[ -n $missing ]]; then
    fail "missing $missing; bash scripts/deps.sh installs everything this test needs"
    finish
fi
pass "node $(node --version), $("$CHROMIUM" --version 2>/dev/null | head -n1), playwright-core"

# free_port: a loopback port nobody listens on now (the kernel's pick).
free_port() {
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
        console.log(s.address().port); s.close(); });'
}
ECA_PORT=$(free_port)
CA_PORT=$(free_port)
[[ $CA_PORT == "$ECA_PORT" ]] && CA_PORT=$(free_port)
if [[ ! $ECA_PORT =~ ^[0-9]+$ || ! $CA_PORT =~ ^[0-9]+$ || $CA_PORT == "$ECA_PORT" ]]; then
    fail "could not pick two free loopback ports with node (got '$ECA_PORT', '$CA_PORT')"
    finish
fi
# The client's callback URLs are registered as in the External Client App / Connected App, so
# the fake org matches redirect_uri exactly, as Salesforce does.
start_fake_org --login-form --user "$USER_NAME:$USER_PASSWORD" \
    --callback "$CLIENT_ID:http://localhost:$ECA_PORT/OauthRedirect" \
    --callback "$CLIENT_ID:http://localhost:$CA_PORT/OauthRedirect"
# Chromium does not know the test CA: it accepts the fake org's key alone (SPKI pin), so the page
# is still verified HTTPS.
ISF_BROWSER_SPKI=$(openssl x509 -in "$PKI/server.pem" -pubkey -noout |
    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A)
export ISF_BROWSER_SPKI ISF_BROWSER_USER=$USER_NAME ISF_BROWSER_PASSWORD=$USER_PASSWORD
export BROWSER=$BROWSER_DIR/browse.sh
export ISF_BROWSER_TIMEOUT_MS=30000

# browse NAME ACTION: org connect NAME with the browser clicking ACTION (allow|deny); waits for
# the browser's result and ends it. Sets RC/OUT/ERR (run_isf) and RESULT (result.json).
browse() {
    local name=$1 action=$2 pid
    export ISF_BROWSER_OUT="$WORK/browser-$name-$action" ISF_BROWSER_ACTION=$action
    mkdir -p "$ISF_BROWSER_OUT"
    fake_ctl /__fake/reset >/dev/null
    run_isf org connect "$name" --timeout 60
    for _ in $(seq 300); do # the page is read before the CLI exits; allow for a slow machine
        [[ -s $ISF_BROWSER_OUT/result.json ]] && break
        sleep 0.1
    done
    pid=$(cat "$ISF_BROWSER_OUT/browser.pid" 2>/dev/null)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    RESULT=$(cat "$ISF_BROWSER_OUT/result.json" 2>/dev/null)
    if ! jq -e '.ok == true' <<<"${RESULT:-null}" >/dev/null 2>&1; then
        # Stop at the first broken browser run: each further connect would wait out its timeout.
        fail "the browser did not get through (org connect exit $RC): $(jq -r '.error // empty' \
            <<<"${RESULT:-null}" 2>/dev/null | head -c 1500); its log: $(head -c 1500 \
            "$ISF_BROWSER_OUT/browser.log" 2>/dev/null)"
        finish
    fi
}

# result_is 'jq-expr' WHAT: the expression holds on the browser's result.
result_is() {
    if jq -e "$1" <<<"$RESULT" >/dev/null 2>&1; then
        pass "$2"
    else
        fail "$2: '$1' does not hold for the browser's result: ${RESULT:0:1500}"
    fi
}

# counters_are 'jq-expr' WHAT: the expression holds on the fake org's counters.
counters_are() {
    local c
    c=$(fake_ctl /__fake/counters)
    if jq -e "$1" <<<"$c" >/dev/null; then
        pass "$2"
    else
        fail "$2: '$1' does not hold for the counters: $c"
    fi
}

# status_of NAME: the record's status from org show --json.
status_of() {
    run_isf org show "$1" --json
    json_of .status
}

# check_mode MODE NAME_PREFIX PORT [org add flags...]: Allow then Deny through the browser.
check_mode() {
    local mode=$1 name=$2 port=$3 before
    shift 3

    t "$mode: add"
    run_isf_stdin "$CLIENT_SECRET" org add "$name" --mode "$mode" --login-url "$FAKE_URL" "$@"
    assert_exit 0 "org add $name"

    t "$mode: connect, the browser mistypes the password once, then clicks Allow"
    ISF_BROWSER_WRONG_FIRST=1 browse "$name" allow
    assert_exit 0 "org connect exits 0"
    result_is '.ok == true and .steps == ["login page", "login error", "consent page",
        "clicked Allow", "loopback page"]' "the browser logged in, saw the consent page and clicked Allow"
    result_is '.login_error | test("check your username and password")' \
        "a wrong password shows the login form again with an error"
    result_is ".landed == \"http://localhost:$port/OauthRedirect\"" \
        "the browser landed on the loopback redirect URI"
    result_is '(.text | test("connected"; "i")) and (.text | test("denied|error|fail"; "i") | not)' \
        "the loopback page says the org is connected"
    assert_eq connected "$(status_of "$name")" "org show: status connected"
    counters_are '.authorize_requests == 1 and .logins == 1 and .login_failures == 1
        and .consents_allowed == 1 and .consents_denied == 0 and .codes_issued == 1
        and .codes_redeemed == 1' "fake org: 1 failed and 1 good login, 1 consent, 1 code issued and redeemed"
    run_isf org test "$name" --json
    assert_exit 0 "org test works with the stored tokens"

    t "$mode: connect, the browser clicks Deny"
    run_isf_stdin "$CLIENT_SECRET" org add "$name-deny" --mode "$mode" --login-url "$FAKE_URL" "$@"
    assert_exit 0 "org add $name-deny"
    before=$(snapshot)
    browse "$name-deny" deny
    assert_exit 4 "org connect exits 4 after Deny"
    assert_stderr_contains "denied"
    result_is '.ok == true and .steps[-2] == "clicked Deny"' "the browser clicked Deny"
    result_is '(.text | test("denied"; "i")) and (.text | test("is connected"; "i") | not)' \
        "the loopback page says access was denied"
    assert_unchanged "$before" "the store is byte for byte unchanged after a denial"
    assert_eq new "$(status_of "$name-deny")" "org show: status still new"
    counters_are '.logins == 1 and .login_failures == 0 and .consents_denied == 1 and .consents_allowed == 0
        and .codes_issued == 0 and .codes_redeemed == 0 and .token_requests == 0' \
        "fake org: 1 login, 1 denial, no code, no token request"
}

check_mode webserver-eca br-eca "$ECA_PORT" --client-id "$CLIENT_ID" --client-secret-stdin \
    --redirect-uri "http://localhost:$ECA_PORT/OauthRedirect"

port=$CA_PORT
export BR_CA_SECRET=$CLIENT_SECRET
write_config "http: {ca_file: $CA}" \
    "plugins:" \
    "  load:" \
    "    - name: auth-webserver-connectedapp" \
    "      options: {client_id: \"$CLIENT_ID\", client_secret_env: BR_CA_SECRET, redirect_uri: \"http://localhost:$port/OauthRedirect\"}" \
    "    - name: auth-webserver-eca" \
    "    - name: store-file"
check_mode webserver-connectedapp br-ca "$port"

finish

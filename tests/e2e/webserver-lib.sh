# webserver-lib.sh — helpers of the web server mode tests (test_webserver_*.sh), on top of lib.sh.
# The browser is tests/e2e/fake-browser.sh (see its knobs); each test listens on its own free
# port (never 1717: tests run in parallel).

export FB_CA=$CA FB_LOG=$WORK/browser.log
FAKE_BROWSER="$E2E_DIR/fake-browser.sh"

# free_port: a TCP port free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# add_eca_org NAME PORT [flags]: a webserver-eca org on the current fake org, secret by stdin.
add_eca_org() {
    local name=$1 port=$2
    shift 2
    run_isf_stdin "$CLIENT_SECRET" org add "$name" --mode webserver-eca --login-url "$FAKE_URL" \
        --client-id "$CLIENT_ID" --client-secret-stdin \
        --redirect-uri "http://localhost:$port/OauthRedirect" "$@"
    [[ $RC == 0 ]] || fail "setup: org add $name (webserver-eca) failed"
}

# browser_connect NAME [connect flags]: org connect with the fake browser; FB_* knobs apply.
browser_connect() {
    : >"$FB_LOG"
    BROWSER=$FAKE_BROWSER run_isf org connect "$@"
    no_code_in_output
}

# no_code_in_output: the authorization code the fake browser saw appears in no output (it is a
# secret: whoever holds it and the verifier gets the tokens).
no_code_in_output() {
    local code
    code=$(grep '^location ' "$FB_LOG" | grep -oE '[?&]code=[^&]+' | head -n 1 | cut -d= -f2)
    [[ -z $code ]] && return 0
    if grep -qF -- "$code" <<<"$OUT$ERR"; then
        fail "the authorization code appears in the output"
    fi
}

# browser_page: the status line the fake browser got for the (last) redirect it opened.
browser_status() { grep '^status ' "$FB_LOG" | tail -n 1 | cut -d' ' -f2; }

# paste_connect NAME SED [connect flags]: org connect --no-browser in the background; reads the
# URL it prints on stderr, follows it at the fake org like a browser on another machine, and
# pastes the redirect URL (through the sed expression SED, "" = as is) on its stdin. Sets RC, OUT,
# ERR and checks them for secrets like run_isf.
paste_connect() {
    local name=$1 sed_expr=$2 fifo="$WORK/paste.fifo" url loc pid
    shift 2
    rm -f "$fifo"
    mkfifo "$fifo"
    E2E_LAST_CMD="isyncsf org connect $name --no-browser $* (pasted)"
    "$ISF_BIN" org connect "$name" --no-browser "$@" <"$fifo" >"$WORK/.pout" 2>"$WORK/.perr" &
    pid=$!
    exec 8>"$fifo" # keeps the pipe open until the paste is written
    url=""
    for _ in $(seq 200); do
        url=$(grep -oE 'https://[^ ]+/services/oauth2/authorize\?[^ ]+' "$WORK/.perr" | head -n 1)
        [[ -n $url ]] && break
        sleep 0.05
    done
    loc=$(curl -sS --cacert "$CA" -o /dev/null -w '%{redirect_url}' "$url")
    [[ -n $sed_expr ]] && loc=$(printf '%s' "$loc" | sed -e "$sed_expr")
    local code
    code=$(printf '%s' "$loc" | grep -oE '[?&]code=[^&]+' | head -n 1 | cut -d= -f2)
    [[ -n $code ]] && SECRETS+=("$code")
    printf '%s\n' "$loc" >&8
    exec 8>&-
    wait "$pid"
    RC=$?
    OUT=$(cat "$WORK/.pout")
    ERR=$(cat "$WORK/.perr")
    PASTED=$loc
    local s
    for s in "${SECRETS[@]}"; do
        if grep -qF -- "$s" "$WORK/.pout" "$WORK/.perr"; then fail "a secret appears in the output"; fi
    done
    if grep -qE -- "$TOKEN_RE" "$WORK/.pout" "$WORK/.perr"; then
        fail "something shaped like an access token appears in the output"
    fi
}

# refresh_token_of NAME: the sealed refresh token as stored in the record (ciphertext: changes
# whenever the token does).
sealed_refresh_of() { rec_json "$1" | jq -c '.sealed.refresh_token // empty'; }

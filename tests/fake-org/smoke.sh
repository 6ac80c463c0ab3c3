#!/usr/bin/env bash
# smoke.sh FAKE_ORG_BINARY: starts the fake org on a free port with a fresh test PKI and checks,
# with curl and jq, the main answers, an injected fault and the counters. Exits non-zero on the
# first failure, saying what was expected and what came back.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 FAKE_ORG_BINARY" >&2
    exit 2
fi
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=

cleanup() {
    if [[ -n $pid ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [[ -s $tmp/log ]] && sed 's/^/  fake-org: /' "$tmp/log" >&2
    exit 1
}

# call [curl args...]: sets $status and $body (and the headers in $tmp/headers).
call() {
    status=$(curl -sS --cacert "$tmp/pki/ca.pem" -D "$tmp/headers" -o "$tmp/body" \
        -w '%{http_code}' "$@") || fail "curl $* failed"
    body=$(cat "$tmp/body")
}

# expect STATUS JQ_FILTER WHAT: the last answer had that status and the filter holds on its body.
expect() {
    [[ $status == "$1" ]] || fail "$3: expected HTTP $1, got $status: $body"
    jq -e "$2" <<<"$body" >/dev/null || fail "$3: '$2' does not hold for: $body"
    echo "ok - $3"
}

# --- the test PKI: the server cert verifies for 127.0.0.1; the two bad ones must not.
bash "$here/make-test-pki.sh" "$tmp/pki"
pki=$tmp/pki
openssl verify -CAfile "$pki/ca.pem" -verify_ip 127.0.0.1 "$pki/server.pem" >/dev/null ||
    fail "server.pem does not verify for 127.0.0.1"
if openssl verify -CAfile "$pki/ca.pem" -verify_ip 127.0.0.1 "$pki/wrong-name.pem" \
    >/dev/null 2>&1; then
    fail "wrong-name.pem verifies for 127.0.0.1"
fi
if openssl verify -CAfile "$pki/ca.pem" "$pki/untrusted.pem" >/dev/null 2>&1; then
    fail "untrusted.pem verifies against the test CA"
fi
[[ $(stat -c %a "$pki/server.key") == 600 ]] || fail "server.key is not 0600"
echo "ok - test PKI"

# --- an RSA key pair for the JWT bearer grant (and a second one that the fake does not know).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/jwt.key" 2>/dev/null
openssl pkey -in "$tmp/jwt.key" -pubout -out "$tmp/jwt.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/other.key" 2>/dev/null

# --- start on a free port.
"$bin" --cert "$pki/server.pem" --key "$pki/server.key" --port 0 --port-file "$tmp/port" \
    --client smoke-id:smoke-secret --jwt-client smoke-jwt:"$tmp/jwt.pub" \
    --client smoke-cb:cb-secret --callback smoke-cb:http://localhost:1717/OauthRedirect \
    --user alice@example.com:alice-pw 2>"$tmp/log" &
pid=$!
for _ in $(seq 200); do
    [[ -s $tmp/port ]] && break
    kill -0 "$pid" 2>/dev/null || fail "fake-org exited before listening"
    sleep 0.05
done
port=$(cat "$tmp/port")
[[ $port =~ ^[0-9]+$ ]] || fail "port file holds '$port'"
base=https://127.0.0.1:$port
token_url=$base/services/oauth2/token
grant=(-d grant_type=client_credentials)

call "$base/services/data/"
expect 200 'map(.version) | index("66.0") != null' "versions list"

# --- client credentials, secret in the body and in a Basic header.
call "${grant[@]}" -d client_id=smoke-id -d client_secret=smoke-secret "$token_url"
expect 200 '(.access_token | length > 20) and .token_type == "Bearer" and .scope == "api"
    and (.issued_at | test("^[0-9]{13}$")) and (has("expires_in") | not)
    and (has("refresh_token") | not) and (.id | test("/id/00D[A-Za-z0-9]{15}/005"))' \
    "client credentials, secret in the body"
jq -e --arg b "$base" '.instance_url == $b' <<<"$body" >/dev/null ||
    fail "instance_url is not $base: $body"
token=$(jq -r .access_token <<<"$body")

call -u smoke-id:smoke-secret "${grant[@]}" "$token_url"
expect 200 '.access_token | length > 20' "client credentials, Basic client auth"

call "${grant[@]}" -d client_id=smoke-id -d client_secret=wrong "$token_url"
expect 400 '.error == "invalid_client" and .error_description == "invalid client credentials"' \
    "wrong secret"

call "${grant[@]}" -d client_id=nobody -d client_secret=x "$token_url"
expect 400 '.error == "invalid_client_id"' "unknown client id"

# --- REST with the token, and the 401 shape for a bad one.
call -H "Authorization: Bearer $token" --get \
    --data-urlencode "q=SELECT Id, Name, IsSandbox, TrialExpirationDate FROM Organization" \
    "$base/services/data/v66.0/query"
expect 200 '.totalSize == 1 and .done and .records[0].IsSandbox == false
    and (.records[0].Id | startswith("00D")) and .records[0].TrialExpirationDate == null' \
    "Organization query"
grep -qi '^Sforce-Limit-Info: api-usage=[0-9]*/100000' "$tmp/headers" ||
    fail "no Sforce-Limit-Info header on a REST answer"

call -H "Authorization: Bearer not-a-token" "$base/services/data/v66.0/"
expect 401 '.[0].errorCode == "INVALID_SESSION_ID" and .[0].message == "Session expired or invalid"' \
    "bad token"

# --- a fault: 503 once on the token endpoint, then normal again.
call -d '{"path_prefix":"/services/oauth2/token","kind":"status","status":503,"count":1}' \
    "$base/__fake/fault"
expect 200 '.kind == "status"' "arm a 503 fault"
call -u smoke-id:smoke-secret "${grant[@]}" "$token_url"
expect 503 '.[0].errorCode == "SERVER_UNAVAILABLE"' "fault answers 503"
call -u smoke-id:smoke-secret "${grant[@]}" "$token_url"
expect 200 '.access_token | length > 20' "normal answer after the fault"

# --- counters: 6 token requests (3 granted), 2 REST calls, 1 fault.
call "$base/__fake/counters"
expect 200 '.token_requests == 6 and .token_grants == 3 and .rest_calls == 2
    and .faults_injected == 1 and .active_tokens == 3 and .requests == 9' "counters"

# --- JWT bearer: an RS256 assertion signed in bash with openssl.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# jwt ISS AUD EXP [KEY]
jwt() {
    local h p
    h=$(printf '{"alg":"RS256"}' | b64url)
    p=$(printf '{"iss":"%s","sub":"smoke@example.com","aud":"%s","exp":%s}' "$1" "$2" "$3" | b64url)
    printf '%s.%s.%s' "$h" "$p" \
        "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "${4:-$tmp/jwt.key}" -binary | b64url)"
}
jwt_grant=(-d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer)
now=$(date +%s)
call "${jwt_grant[@]}" -d "assertion=$(jwt smoke-jwt "$base" $((now + 180)))" "$token_url"
expect 200 '(.access_token | length > 20) and (has("refresh_token") | not)
    and .instance_url != null and .id != null and .token_type == "Bearer"' "JWT bearer grant"
call "${jwt_grant[@]}" -d "assertion=$(jwt smoke-jwt "$base/" $((now + 60)))" "$token_url"
expect 200 '.access_token | length > 20' "JWT bearer, audience with a trailing slash"
call "${jwt_grant[@]}" -d "assertion=$(jwt smoke-jwt "$base" $((now - 10)))" "$token_url"
expect 400 '.error == "invalid_grant" and .error_description == "expired JWT"' "expired JWT"
call "${jwt_grant[@]}" -d "assertion=$(jwt smoke-jwt https://login.salesforce.com $((now + 60)))" \
    "$token_url"
expect 400 '.error_description == "audience is invalid"' "JWT with another audience"
call "${jwt_grant[@]}" -d "assertion=$(jwt nobody "$base" $((now + 60)))" "$token_url"
expect 400 '.error_description == "user hasn'"'"'t approved this consumer"' "JWT of an unknown iss"
call "${jwt_grant[@]}" -d "assertion=$(jwt smoke-jwt "$base" $((now + 60)) "$tmp/other.key")" \
    "$token_url"
expect 400 '.error == "invalid_grant" and .error_description == "invalid assertion"' \
    "JWT signed with another key"

# --- the web server flow's browser side, played with curl.
call -X POST "$base/__fake/reset"
redirect=http://localhost:1717/OauthRedirect
verifier=$(openssl rand -hex 32)
challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | b64url)
authz=(--get --data-urlencode response_type=code --data-urlencode "code_challenge=$challenge"
    --data-urlencode code_challenge_method=S256 --data-urlencode "scope=api refresh_token")
authorize_url=$base/services/oauth2/authorize

# location: the Location header of the last answer (empty when there was none).
location() { sed -n 's/^[Ll]ocation: *//p' "$tmp/headers" | tr -d '\r'; }
# qarg NAME URL: a query parameter of URL, still encoded.
qarg() { sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<<"$2"; }
# expect_page STATUS ERROR WHAT: an HTML error page with that error, and no redirect.
expect_page() {
    [[ $status == "$1" ]] || fail "$3: expected HTTP $1, got $status: $body"
    grep -qi '^content-type: text/html' "$tmp/headers" || fail "$3: not an HTML page"
    grep -qF "<p id=\"error\">error=$2</p>" <<<"$body" || fail "$3: the page lacks error=$2: $body"
    [[ -z $(location) ]] || fail "$3: redirected to $(location)"
    echo "ok - $3"
}
# exchange CODE [VERIFIER]: the authorization_code grant of smoke-id.
exchange() {
    call -d grant_type=authorization_code --data-urlencode "code=$1" \
        --data-urlencode "redirect_uri=$redirect" -d client_id=smoke-id \
        -d client_secret=smoke-secret -d "code_verifier=${2:-$verifier}" "$token_url"
}
# pending_id: the hidden pending field of the last page.
pending_id() { grep -o 'name="pending" value="[A-Za-z0-9]*"' <<<"$body" | sed 's/.*value="//; s/"$//'; }

call "${authz[@]}" --data-urlencode client_id=smoke-id --data-urlencode "redirect_uri=$redirect" \
    --data-urlencode state=st-1 "$authorize_url"
[[ $status == 302 && $(location) == "$redirect?code="*"&state=st-1" ]] ||
    fail "authorize approves at once: $status $(location)"
code=$(qarg code "$(location)")
echo "ok - authorize without the login form: 302 with code and state"
exchange "$code"
expect 200 '(.refresh_token | startswith("5Aep")) and .scope == "api refresh_token"' \
    "code exchange with the PKCE verifier"
exchange "$code"
expect 400 '.error == "invalid_grant" and .error_description == "invalid authorization code"' \
    "a code is single use"

call "${authz[@]}" --data-urlencode client_id=nobody --data-urlencode "redirect_uri=$redirect" \
    "$authorize_url"
expect_page 400 invalid_client_id "unknown client: an error page, no redirect"
call "${authz[@]}" --data-urlencode client_id=smoke-id \
    --data-urlencode redirect_uri=https://evil.example/cb "$authorize_url"
expect_page 400 redirect_uri_mismatch "a non-loopback redirect_uri without registered callbacks"
call "${authz[@]}" --data-urlencode client_id=smoke-id \
    --data-urlencode "redirect_uri=http://localhost@evil.example/cb" "$authorize_url"
expect_page 400 redirect_uri_mismatch "user info in a loopback-looking redirect_uri"
for uri in http://127.0.0.1:1717/cb http://127.9.8.7/cb "http://[::1]:1717/cb?x=1" \
    https://LOCALHOST:8443/cb; do
    call "${authz[@]}" --data-urlencode client_id=smoke-id --data-urlencode "redirect_uri=$uri" \
        "$authorize_url"
    [[ $status == 302 && $(location) == "$uri"[?\&]code=* ]] ||
        fail "the loopback redirect_uri $uri is accepted: $status $(location)"
done
echo "ok - loopback redirect_uris without registered callbacks"
for uri in http://localhost.evil.example/cb http://127.0.0.1.evil.example/cb \
    "http://localhost:1717/cb#frag" ftp://localhost/cb http://localhost:/cb "http://[::2]/cb"; do
    call "${authz[@]}" --data-urlencode client_id=smoke-id --data-urlencode "redirect_uri=$uri" \
        "$authorize_url"
    expect_page 400 redirect_uri_mismatch "not loopback: $uri" >/dev/null
done
echo "ok - look-alike, fragment and other-scheme redirect_uris are refused"
call "${authz[@]}" --data-urlencode client_id=smoke-cb \
    --data-urlencode redirect_uri=http://localhost:1718/OauthRedirect "$authorize_url"
expect_page 400 redirect_uri_mismatch "a loopback redirect_uri other than the registered callback"
call "${authz[@]}" --data-urlencode client_id=smoke-cb --data-urlencode "redirect_uri=$redirect/" \
    "$authorize_url"
expect_page 400 redirect_uri_mismatch "the registered callback plus a slash"
call "${authz[@]}" --data-urlencode client_id=smoke-cb --data-urlencode "redirect_uri=$redirect" \
    "$authorize_url"
[[ $status == 302 && $(location) == "$redirect?code="* ]] ||
    fail "the registered callback is accepted: $status $(location)"
echo "ok - the registered callback, exactly"
call --get --data-urlencode client_id=smoke-id --data-urlencode "redirect_uri=$redirect" \
    --data-urlencode response_type=token --data-urlencode state=st-2 "$authorize_url"
[[ $status == 302 && $(location) == "$redirect?error=unsupported_response_type&"*"&state=st-2" ]] ||
    fail "response_type=token: $status $(location)"
echo "ok - another response_type goes back as an error"

# --- the login form and the consent page.
call -d '{"login_form":true}' "$base/__fake/config"
expect 200 '.login_form == true and .code_ttl == 600' "turn the login form on"
call "${authz[@]}" --data-urlencode client_id=smoke-id --data-urlencode "redirect_uri=$redirect" \
    --data-urlencode state=st-3 "$authorize_url"
[[ $status == 200 ]] || fail "login page: HTTP $status"
for id in username password Login; do
    grep -q "id=\"$id\"" <<<"$body" || fail "the login page has no #$id: $body"
done
p1=$(pending_id)
[[ ${#p1} == 40 ]] || fail "the login page's pending id is '$p1'"
echo "ok - the login page"
call --data-urlencode "pending=$p1" --data-urlencode username=alice@example.com \
    --data-urlencode pw=wrong "$base/login"
[[ $status == 200 ]] && grep -q 'id="error"' <<<"$body" && grep -q 'id="password"' <<<"$body" ||
    fail "a wrong password shows the form again with an error: $status $body"
p2=$(pending_id)
[[ -n $p2 && $p2 != "$p1" ]] || fail "the form shown again has a new pending id"
echo "ok - wrong password: the form again, with an error"
call --data-urlencode "pending=$p1" --data-urlencode username=alice@example.com \
    --data-urlencode pw=alice-pw "$base/login"
expect_page 400 invalid_request "a used login page cannot be posted again"
call --data-urlencode "pending=$p2" --data-urlencode username=alice@example.com \
    --data-urlencode pw=alice-pw "$base/login"
[[ $status == 200 ]] && grep -q '<h1>Allow Access?</h1>' <<<"$body" &&
    grep -q 'id="oaapprove"' <<<"$body" && grep -q 'id="oadeny"' <<<"$body" &&
    grep -q '<li>refresh_token</li>' <<<"$body" || fail "the consent page: $status $body"
c1=$(pending_id)
echo "ok - right password: the consent page"
call --data-urlencode "pending=$c1" -d oaapprove=Allow \
    "$base/setup/secur/RemoteAccessAuthorizationPage.apexp"
[[ $status == 302 && $(location) == "$redirect?code="*"&state=st-3" ]] ||
    fail "Allow redirects with a code: $status $(location)"
code=$(qarg code "$(location)")
echo "ok - Allow: 302 with code and state"
call --data-urlencode "pending=$c1" -d oaapprove=Allow \
    "$base/setup/secur/RemoteAccessAuthorizationPage.apexp"
expect_page 400 invalid_request "a consent page is used once"
exchange "$code" "wrong-verifier-$verifier"
expect 400 '.error == "invalid_request" and .error_description == "invalid code verifier"' \
    "a wrong verifier"
call "${authz[@]}" --data-urlencode client_id=smoke-id --data-urlencode "redirect_uri=$redirect" \
    --data-urlencode state=st-4 "$authorize_url"
call --data-urlencode "pending=$(pending_id)" --data-urlencode username=alice@example.com \
    --data-urlencode pw=alice-pw "$base/login"
call --data-urlencode "pending=$(pending_id)" -d oadeny=Deny \
    "$base/setup/secur/RemoteAccessAuthorizationPage.apexp"
[[ $status == 302 && $(location) == "$redirect?error=access_denied&error_description=end-user+denied+authorization&state=st-4" ]] ||
    fail "Deny redirects with access_denied: $status $(location)"
echo "ok - Deny: 302 with error=access_denied"
call "$base/__fake/counters"
expect 200 '.logins == 2 and .login_failures == 1 and .consents_allowed == 1
    and .consents_denied == 1 and .codes_issued == 7 and .codes_redeemed == 1' \
    "login and consent counters"

# --- code expiry: code_ttl 0 makes every new code expired at once.
call -d '{"code_ttl":-1}' "$base/__fake/config"
expect 400 '.error | test("code_ttl")' "a negative code_ttl is refused"
call -d '{"login_form":false,"code_ttl":0}' "$base/__fake/config"
expect 200 '.login_form == false and .code_ttl == 0' "code_ttl 0"
call "${authz[@]}" --data-urlencode client_id=smoke-id --data-urlencode "redirect_uri=$redirect" \
    "$authorize_url"
exchange "$(qarg code "$(location)")"
expect 400 '.error == "invalid_grant" and .error_description == "expired authorization code"' \
    "an expired code"

# --- SIGTERM ends it cleanly.
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[[ $rc == 0 ]] || fail "fake-org exited $rc after SIGTERM"
echo "ok - exit 0 on SIGTERM"
echo "PASS"

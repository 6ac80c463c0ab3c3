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
    --client smoke-id:smoke-secret --jwt-client smoke-jwt:"$tmp/jwt.pub" 2>"$tmp/log" &
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

# --- SIGTERM ends it cleanly.
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[[ $rc == 0 ]] || fail "fake-org exited $rc after SIGTERM"
echo "ok - exit 0 on SIGTERM"
echo "PASS"

#!/usr/bin/env bash
# load.sh FAKE_ORG_BINARY [REQUESTS] [PARALLEL]: rough throughput of the fake org, measured with
# `curl --parallel` (keep-alive connections, client on the same machine, so the figures are a
# lower bound of what the server can do). Not part of CTest.
set -euo pipefail

bin=$1
n=${2:-4000}
par=${3:-8}
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

bash "$here/make-test-pki.sh" "$tmp/pki"
"$bin" --cert "$tmp/pki/server.pem" --key "$tmp/pki/server.key" --port 0 \
    --port-file "$tmp/port" --client load-id:load-secret 2>"$tmp/log" &
pid=$!
for _ in $(seq 200); do
    [[ -s $tmp/port ]] && break
    sleep 0.05
done
base=https://127.0.0.1:$(cat "$tmp/port")
curl_=(curl -sS --cacert "$tmp/pki/ca.pem")
form="grant_type=client_credentials&client_id=load-id&client_secret=load-secret"
token=$("${curl_[@]}" -d "$form" "$base/services/oauth2/token" | jq -r .access_token)

# config FILE PATH [HEADER_OR_DATA_LINES...]: a curl config with n identical transfers; options
# before the first url apply to all of them.
config() {
    local file=$1 path=$2
    shift 2
    {
        printf '%s\n' "$@"
        for _ in $(seq "$n"); do
            printf 'url = "%s%s"\noutput = /dev/null\n' "$base" "$path"
        done
    } >"$file"
}

# measure LABEL CONFIG [PARALLEL]
measure() {
    local start end
    start=$(date +%s.%N)
    "${curl_[@]}" --no-progress-meter --parallel --parallel-max "${3:-$par}" -K "$2"
    end=$(date +%s.%N)
    printf '%-58s %6.0f req/s\n' "$1" "$(echo "$n / ($end - $start)" | bc -l)"
}

config "$tmp/versions" /services/data/
config "$tmp/token" /services/oauth2/token "data = \"$form\""
config "$tmp/query" "/services/data/v66.0/query?q=SELECT+Id,Name,IsSandbox+FROM+Organization" \
    "header = \"Authorization: Bearer $token\""
config "$tmp/token-close" /services/oauth2/token "data = \"$form\"" 'header = "Connection: close"'

echo "$n requests per line, $par in parallel:"
measure "GET /services/data/ (keep-alive)" "$tmp/versions"
measure "POST /services/oauth2/token client_credentials (keep-alive)" "$tmp/token"
measure "GET query FROM Organization (keep-alive)" "$tmp/query"
measure "POST token, new TLS connection per request" "$tmp/token-close"
measure "GET /services/data/ (keep-alive, sequential)" "$tmp/versions" 1
"${curl_[@]}" "$base/__fake/counters"
echo

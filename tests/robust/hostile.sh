#!/usr/bin/env bash
# Hostile input at the edges: plugin files in unsafe places, an org redirecting elsewhere, a
# 1 GB answer, an answer that never comes, HTTP/2 and HTTP/1.1. Each case checks the clear
# error (exit code and message) and that the store is unchanged. A TLS certificate for another
# name is tests/e2e/test_errors_network.sh ("host name" case).
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

PLUGINS=$(cd "$(dirname "$ISF_BIN")/../lib/isyncsf/plugins" && pwd)
start_fake_org
add_org acme
connect_org acme
SNAP=$(snapshot)

# plugin_config PATH: a config loading the auth plugin from PATH (and the bundled store).
plugin_config() {
    printf 'http: {ca_file: %s}\nplugins:\n  load:\n    - path: %s\n    - name: store-file\n' \
        "$CA" "$1" >"$WORK/plugin.yaml"
}

t "a plugin in a folder writable by others is refused"
mkdir "$WORK/open"
chmod 777 "$WORK/open"
cp "$PLUGINS/auth-client-credentials.so" "$WORK/open/"
chmod 755 "$WORK/open/auth-client-credentials.so"
plugin_config "$WORK/open/auth-client-credentials.so"
run_isf --config "$WORK/plugin.yaml" plugins
assert_exit 6 "exit 6 (config)"
assert_stdout_contains "folder $WORK/open is writable by group or others"
assert_stdout_contains "chmod go-w"
run_isf --config "$WORK/plugin.yaml" org connect acme
[[ $RC != 0 ]] && pass "org connect, which needs the plugin, fails (exit $RC)" ||
    fail "org connect worked with the plugin refused"
assert_stderr_contains "refused, folder $WORK/open is writable"
assert_unchanged "$SNAP"

t "a plugin file writable by others is refused (the file check)"
mkdir -m 755 "$WORK/safe"
cp "$PLUGINS/auth-client-credentials.so" "$WORK/safe/"
chmod 757 "$WORK/safe/auth-client-credentials.so"
plugin_config "$WORK/safe/auth-client-credentials.so"
run_isf --config "$WORK/plugin.yaml" plugins
assert_exit 6
assert_stdout_contains "writable by group or others (mode 0757)"
chmod 755 "$WORK/safe/auth-client-credentials.so"

t "a symlink to a plugin in an unsafe folder is refused (the target's folders are checked)"
ln -s "$WORK/open/auth-client-credentials.so" "$WORK/safe/linked.so"
plugin_config "$WORK/safe/linked.so"
run_isf --config "$WORK/plugin.yaml" plugins
assert_exit 6
assert_stdout_contains "folder $WORK/open is writable by group or others"

t "a symlink to a plugin in a safe folder is followed and loaded"
ln -s "$PLUGINS/auth-client-credentials.so" "$WORK/safe/good-link.so"
plugin_config "$WORK/safe/good-link.so"
run_isf --config "$WORK/plugin.yaml" --json plugins
assert_exit 0
assert_json '[.[] | select(.name == "auth-client-credentials")] | length == 1' "the plugin loaded"
run_isf --config "$WORK/plugin.yaml" org test acme
assert_exit 0 "and works"

t "a symlink placed in a folder writable by others is refused (the link's folders)"
ln -s "$PLUGINS/auth-client-credentials.so" "$WORK/open/link.so"
plugin_config "$WORK/open/link.so"
run_isf --config "$WORK/plugin.yaml" plugins
assert_exit 6
assert_stdout_contains "folder $WORK/open is writable by group or others"
SNAP=$(snapshot)

t "an org answering with a redirect to another host: never followed"
start_fake_org # the place it points to: it must see no request
OTHER_URL=$FAKE_URL
for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    printf 'HTTP/1.1 302 Found\r\nLocation: %s/services/oauth2/token\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$OTHER_URL" |
        openssl s_server -quiet -naccept 1 -accept "127.0.0.1:$port" -cert "$PKI/server.pem" \
            -key "$PKI/server.key" >"$WORK/redirect.log" 2>&1 &
    E2E_FAKE_PIDS+=("$!")
    sleep 0.3
    kill -0 "$!" 2>/dev/null && break
done
run_isf_stdin "$CLIENT_SECRET" org add redir --login-url "https://127.0.0.1:$port" \
    --client-id "$CLIENT_ID" --client-secret-stdin
run_isf org connect redir
assert_exit 5 "exit 5"
assert_stderr_contains "HTTP 302"
assert_eq 0 "$(counter requests)" "the other host saw no request"
run_isf --json org show redir
assert_json '.status != "connected"' "the org is not connected"

t "a 1 GB answer: refused at http.max_response_bytes, memory bounded"
FAKE_URL=$(sed -n 's/^https/https/p' <<<"https://127.0.0.1:$(cat "$WORK/fake1.port")")
fake_ctl /__fake/fault '{"kind":"huge","path_prefix":"/services/data","bytes":1073741824,"count":-1}' >/dev/null
start=$(date +%s%N)
"$ISF_BIN" org test acme </dev/null >"$WORK/huge.out" 2>"$WORK/huge.err" &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [[ -n $hwm ]] && ((hwm > peak)) && peak=$hwm
    sleep 0.005
done
wait "$pid"
RC=$?
ms=$((($(date +%s%N) - start) / 1000000))
ERR=$(cat "$WORK/huge.err")
assert_exit 5 "exit 5"
assert_stderr_contains "more than 8388608 bytes"
((peak < 204800)) && pass "peak memory ${peak} KiB (< 200 MiB; a 1 GB body would need 1 GB)" || fail "peak memory ${peak} KiB"
((ms < 20000)) && pass "refused in ${ms} ms" || fail "took ${ms} ms"
fake_ctl /__fake/reset >/dev/null
run_isf org token acme
assert_exit 0 "the record still reads and its secrets open"

t "an answer that never comes: http.timeout_s"
printf 'http: {ca_file: %s, timeout_s: 2, retries: 0}\n' "$CA" >"$WORK/slow.yaml"
fake_ctl /__fake/fault '{"kind":"delay","path_prefix":"/services/data","delay_ms":600000,"count":-1}' >/dev/null
start=$(date +%s%N)
run_isf --config "$WORK/slow.yaml" org test acme
ms=$((($(date +%s%N) - start) / 1000000))
assert_exit 5 "exit 5"
assert_stderr_contains "did not answer in time"
((ms < 8000)) && pass "gave up after ${ms} ms" || fail "took ${ms} ms"
fake_ctl /__fake/reset >/dev/null

t "HTTP/2 (nghttpx in front of the fake org) and HTTP/1.1"
if ! command -v nghttpx >/dev/null; then
    fail "nghttpx is missing (apt-get install nghttp2-proxy; scripts/deps.sh)"
else
    fport=$(cat "$WORK/fake1.port")
    for _ in 1 2 3 4 5; do
        h2port=$((20000 + RANDOM % 20000))
        nghttpx --conf=/dev/null --no-ocsp --frontend="127.0.0.1,$h2port" --backend="127.0.0.1,$fport;;tls;sni=localhost" \
            --cacert="$CA" --workers=1 --accesslog-file="$WORK/h2-access.log" \
            --accesslog-format='$alpn $method $path $status' --errorlog-file="$WORK/h2-error.log" \
            "$PKI/server.key" "$PKI/server.pem" &
        E2E_FAKE_PIDS+=("$!")
        for _ in $(seq 50); do
            curl -s --cacert "$CA" -o /dev/null "https://127.0.0.1:$h2port/services/data/" && break
            sleep 0.05
        done
        kill -0 "$!" 2>/dev/null && break
    done
    run_isf_stdin "$CLIENT_SECRET" org add h2 --login-url "https://127.0.0.1:$h2port" \
        --client-id "$CLIENT_ID" --client-secret-stdin
    run_isf org connect h2
    assert_exit 0 "org connect through an HTTP/2-only front"
    if grep -q '^h2 POST /services/oauth2/token 200' "$WORK/h2-access.log"; then
        pass "the token request went over HTTP/2 (ALPN h2)"
    else
        fail "no HTTP/2 token request in the proxy log: $(head -c 300 "$WORK/h2-access.log")"
    fi
    learn_token h2
    assert_exit 0 "org token h2"
    run_isf org test acme
    assert_exit 0 "and HTTP/1.1 straight to the fake org still works"
fi
finish

#!/usr/bin/env bash
# Secret hygiene with canaries: a recognisable client secret, master key (file, env and command
# sources) and the access tokens the fake org issues are searched for everywhere they must never
# be: stdout/stderr of every run (also -v; run_isf), the argv of the CLI while it runs
# (/proc/PID/cmdline, read during a slowed-down connect and by the helpers from their parent),
# the environment of spawned helpers (named-credential and key-command helpers dump their own
# /proc/self/environ), temp files ($TMPDIR, the store's .tmp, /dev/shm), the store and home.
# Also: core dumps are off while the CLI runs (RLIMIT_CORE 0/0 in /proc/PID/limits; the
# PR_SET_DUMPABLE half cannot be observed as root — see docs/security.md).
# Issue 3 (web server modes) adds the authorization code, PKCE verifier and refresh token:
# connect a web-server org here and add its code/verifier (from the fake org's log of
# /authorize) and refresh token (`org token --json` does not print it: read it from the fake
# org's counters or log) to SECRETS before the greps below.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"
H="$WORK/helpers"
mkdir -p "$H"
touch "$WORK/.marker"
CANARY_KEY=$(head -c 32 /dev/urandom | base64) # the master key of the env and command sources
SECRETS+=("$CANARY_KEY")

start_fake_org

# spy NAME BODY: a helper that first records what it can see of itself and of its parent (the
# CLI): its environment, the CLI's argv and the CLI's core-dump limit.
spy() {
    printf '#!/usr/bin/env bash\n%s\n%s\n' \
        "tr '\\0' '\\n' </proc/self/environ >'$H/$1.env'
tr '\\0' ' ' </proc/\$PPID/cmdline >'$H/$1.parent-cmdline'
grep 'Max core file size' /proc/\$PPID/limits >'$H/$1.parent-core'" "$2" >"$H/$1"
    chmod 700 "$H/$1"
}
GRANT="curl -s --cacert '$CA' -d grant_type=client_credentials -d client_id='$CLIENT_ID' \
-d client_secret='$CLIENT_SECRET' '$FAKE_URL/services/oauth2/token' | jq -r .access_token"
spy nc "tok=\$($GRANT)
echo \"\$tok\" >'$H/nc.token'
printf '{\"version\":1,\"access_token\":\"%s\",\"instance_url\":\"%s\"}\n' \"\$tok\" '$FAKE_URL'"
spy key "echo '$CANARY_KEY'"

t "client credentials, key file: every command, also -v"
add_org acme --description canary
KEY_TEXT=$(cat "$ISYNCSF_HOME/master.key")
SECRETS+=("$KEY_TEXT")
run_isf -v org connect acme
assert_exit 0 "connect -v"
learn_token acme
[[ -n $TOKEN ]] && pass "a token was issued (now a canary)" || fail "no token"
for cmd in "org show acme" "org show acme --json" "org list --json" "org test acme" \
    "org token acme --json" "plugins"; do
    # shellcheck disable=SC2086
    run_isf -v $cmd
    [[ $RC == 0 ]] || fail "$cmd failed"
done
printf '%s' "$CLIENT_SECRET" >"$WORK/secret.txt"
chmod 600 "$WORK/secret.txt"
run_isf -v org edit acme --client-secret-file "$WORK/secret.txt"
assert_exit 0 "edit with the secret from a file"
NEWKEY_ENV_OK=1
run_isf -v key rotate
assert_exit 0 "key rotate -v"
KEY_TEXT2=$(cat "$ISYNCSF_HOME/master.key")
SECRETS+=("$KEY_TEXT2")
run_isf -v org disconnect acme
assert_exit 0 "disconnect -v (revocation)"
run_isf -v org connect acme
learn_token acme
pass "every command ran (run_isf checked each output for the canaries)"

t "the CLI's argv and core limit while it runs (a connect slowed down by the org)"
fake_ctl /__fake/fault '{"kind":"delay","path_prefix":"/services/oauth2/token","delay_ms":1500,"count":1}' >/dev/null
"$ISF_BIN" org connect acme </dev/null >"$WORK/slow.out" 2>"$WORK/slow.err" &
pid=$!
seen=""
for _ in $(seq 100); do
    if [[ -r /proc/$pid/cmdline ]] && grep -q 'Max core file size *0 *0' /proc/$pid/limits 2>/dev/null; then
        seen=$(tr '\0' ' ' </proc/$pid/cmdline)
        core=$(grep 'Max core file size' /proc/$pid/limits)
        break
    fi
    sleep 0.02
done
wait "$pid"
assert_eq 0 "$?" "the slow connect succeeded"
[[ -n $seen ]] && pass "seen running: $seen" || fail "never saw the CLI with RLIMIT_CORE 0"
[[ ${core:-} =~ Max\ core\ file\ size\ +0\ +0 ]] && pass "core dumps off while it runs (${core:-})" ||
    fail "core limit: ${core:-unknown}"
cat "$WORK/slow.out" "$WORK/slow.err" >"$WORK/slow.all"

t "named-credential helper and key command: their environment and the CLI's argv"
write_config \
    "http: {ca_file: $CA}" \
    "key: {command: [\"$H/key\"]}" \
    "plugins:" \
    "  load:" \
    "    - name: auth-client-credentials" \
    "    - name: store-file" \
    "      options: {dir: \"$WORK/store2\"}" \
    "    - name: auth-named-credential" \
    "      options:" \
    "        credentials:" \
    "          spy: {url: \"$FAKE_URL\", command: [\"$H/nc\"]}"
export ISF_CANARY_IN_ENV="$CLIENT_SECRET" # something secret in the CLI's own environment
run_isf_stdin "$CLIENT_SECRET" org add cc --login-url "$FAKE_URL" --client-id "$CLIENT_ID" \
    --client-secret-stdin
assert_exit 0 "org add with the key from a command"
run_isf org connect cc
assert_exit 0 "connect with the key from a command"
run_isf org add nc --mode named-credential --named-credential spy
assert_exit 0 "org add named-credential"
run_isf org connect nc
assert_exit 0 "org connect through the helper"
run_isf org test nc
assert_exit 0 "org test through the helper"
[[ -s $H/nc.token ]] && SECRETS+=("$(cat "$H/nc.token")")
for f in nc.env key.env; do
    if [[ -f $H/$f ]]; then
        pass "${f%.env} helper ran with $(grep -c . "$H/$f") environment variable(s): $(cut -d= -f1 "$H/$f" | tr '\n' ' ')"
    else
        fail "the helper did not record $f"
    fi
done
unset ISF_CANARY_IN_ENV
grep -q "Max core file size *0 *0" "$H/nc.parent-core" && pass "core dumps off when the helper runs" ||
    fail "core limit of the CLI seen by the helper: $(cat "$H/nc.parent-core")"

t "the key from the environment never reaches a helper"
write_config \
    "http: {ca_file: $CA}" \
    "key: {env: ISF_CANARY_KEY}" \
    "plugins:" \
    "  load:" \
    "    - name: store-file" \
    "      options: {dir: \"$WORK/store3\"}" \
    "    - name: auth-named-credential" \
    "      options:" \
    "        credentials:" \
    "          spy: {url: \"$FAKE_URL\", command: [\"$H/nc\"]}"
rm -f "$H/nc.env"
export ISF_CANARY_KEY="$CANARY_KEY"
run_isf org add nc --mode named-credential --named-credential spy
assert_exit 0 "org add with the key from the environment"
run_isf org connect nc
assert_exit 0 "org connect through the helper"
run_isf org test nc
assert_exit 0 "org test through the helper"
unset ISF_CANARY_KEY
[[ -f $H/nc.env ]] && pass "the helper ran" || fail "the helper did not run"
[[ -s $H/nc.token ]] && SECRETS+=("$(cat "$H/nc.token")")

t "no canary anywhere: helpers' environments and argv views, temp files, store, home, /dev/shm"
places=("$H" "$TMPDIR" "$ISYNCSF_HOME" "$WORK/store2" "$WORK/store3" "$HOME" "$WORK/slow.all")
mapfile -t shm < <(find /dev/shm -maxdepth 2 -type f -newer "$WORK/.marker" 2>/dev/null)
leaks=0
for s in "${SECRETS[@]}"; do
    [[ -z $s ]] && continue
    # Where a canary lives on purpose: the key file, the spy's token file, the helpers' code.
    hits=$(grep -rlF -- "$s" "${places[@]}" "${shm[@]}" 2>/dev/null |
        grep -v "/master\.key$\|/master\.key\.next$\|/helpers/nc\.token$\|/helpers/nc$\|/helpers/key$" || true)
    if [[ -n $hits ]]; then
        fail "a canary (${s:0:6}…) found in: $(echo "$hits" | head -3 | tr '\n' ' ')"
        leaks=$((leaks + 1))
    fi
done
if grep -rqE -- "$TOKEN_RE" "$H"/*.env "$H"/*.parent-cmdline "$TMPDIR" "$ISYNCSF_HOME" 2>/dev/null; then
    fail "something shaped like a token in a helper environment, argv, temp file or the store"
    leaks=$((leaks + 1))
fi
[[ $leaks == 0 ]] && pass "${#SECRETS[@]} canaries, none found in ${#places[@]} places and ${#shm[@]} new /dev/shm files"
assert_eq "" "$(find "$TMPDIR" -type f)" "the CLI left no file in TMPDIR"
echo "helpers saw the CLI's argv as: $(cat "$H"/*.parent-cmdline | tr '\n' '|')" >&3
finish

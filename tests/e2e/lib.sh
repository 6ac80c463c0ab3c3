# lib.sh — shared helpers of the end-to-end CLI tests (sourced by every tests/e2e/test_*.sh).
#
# Each script gets its own temporary folder ($WORK), its own fake org(s) on port 0, its own
# ISYNCSF_HOME, and a trap that always kills the fake orgs and removes $WORK. The script calls
# `finish` at the end: it prints the summary line `N passed, N failed` and exits non-zero when an
# assertion failed (or the script died before reaching it).
#
# Environment (set by CTest, see CMakeLists.txt; defaults let a script run by hand from a build):
#   ISF_BIN       the isyncsf CLI
#   ISF_FAKE_ORG  the fake Salesforce org
#   ISF_SRC       the project's source folder
#   E2E_KEEP=1    keep $WORK after the run (for debugging)
#   E2E_VERBOSE=1 print every command run and its output
#   ISF_WRAP      a command line run_isf puts in front of the CLI, e.g. valgrind (scripts/test.sh
#                 --valgrind): "valgrind --error-exitcode=99 --leak-check=full -q ..."

set -u
set -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${ISF_SRC:=$(cd "$E2E_DIR/../.." && pwd)}"
: "${ISF_BIN:=$ISF_SRC/build/bin/isyncsf}"
: "${ISF_FAKE_ORG:=$ISF_SRC/build/bin/fake-org}"
export ISF_BIN ISF_FAKE_ORG ISF_SRC

for _tool in jq curl openssl sha256sum; do
    if ! command -v "$_tool" >/dev/null 2>&1; then
        echo "e2e: '$_tool' is required (apt-get install $_tool)" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done
for _bin in "$ISF_BIN" "$ISF_FAKE_ORG"; do
    if [[ ! -x $_bin ]]; then
        echo "e2e: $_bin is not built (set ISF_BIN / ISF_FAKE_ORG)" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done

# No colour, no surprises from the caller's environment.
unset NO_COLOR ISYNCSF_CONFIG ISYNCSF_PLUGIN_PATH XDG_CONFIG_HOME XDG_DATA_HOME
export LC_ALL=C

WORK=$(mktemp -d "${TMPDIR:-/tmp}/isyncsf-e2e.XXXXXX")
chmod 700 "$WORK"
export HOME="$WORK/userhome" # nothing may ever touch the real ~/.config or ~/.local
mkdir -p "$HOME"
export ISYNCSF_HOME="$WORK/home"
PKI="$WORK/pki"
CA="$PKI/ca.pem"

# Reports go to fd 3, the script's original stdout, so they are seen even from inside a
# redirected or captured call.
exec 3>&1

E2E_PASSED=0
E2E_FAILED=0
E2E_FINISHED=0
E2E_TEST="(setup)"
E2E_FAKE_PIDS=()
E2E_HELD_PIDS=()
E2E_SEQ=0

# The client of the default fake org. The secret is long and unique so a leak is easy to grep.
CLIENT_ID="3MVG9e2e.client.id"
CLIENT_SECRET="e2eS3cr3t-$(openssl rand -hex 12)"
# Strings that must never appear in any output except `org token`'s stdout (see run_isf).
SECRETS=("$CLIENT_SECRET")
# Every access token the fake org (like Salesforce) issues starts with the 15-character org id and
# '!'; the org id alone is printed legitimately, the '!' form is a token (extended regex).
TOKEN_RE='00D[A-Za-z0-9]{12}![A-Za-z0-9._]'

e2e_cleanup() {
    local pid
    for pid in "${E2E_HELD_PIDS[@]}" "${E2E_FAKE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${E2E_HELD_PIDS[@]}" "${E2E_FAKE_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    if [[ ${E2E_KEEP:-0} == 1 ]]; then
        echo "e2e: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    if [[ $E2E_FINISHED == 0 ]]; then
        echo "FAIL - the script ended before finish (last test: $E2E_TEST)" >&3
        echo "$E2E_PASSED passed, $((E2E_FAILED + 1)) failed" >&3
    fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# ---- reporting ------------------------------------------------------------------------------

# t NAME: starts a named test case (used in the messages of the assertions that follow).
t() {
    E2E_TEST=$1
    echo "--- $E2E_TEST" >&3
}

pass() {
    E2E_PASSED=$((E2E_PASSED + 1))
    echo "ok   - $E2E_TEST: $1" >&3
}

fail() {
    E2E_FAILED=$((E2E_FAILED + 1))
    {
        echo "FAIL - $E2E_TEST: $1"
        if [[ -n ${E2E_LAST_CMD:-} ]]; then
            echo "       last command: $E2E_LAST_CMD (exit $RC)"
            echo "       stdout: $(printf '%s' "$OUT" | head -c 1500 | sed 's/^/  /')"
            echo "       stderr: $(printf '%s' "$ERR" | head -c 1500 | sed 's/^/  /')"
        fi
    } >&3
}

# finish: the summary line CI reads, then the exit status.
finish() {
    E2E_FINISHED=1
    echo "$E2E_PASSED passed, $E2E_FAILED failed" >&3
    [[ $E2E_FAILED == 0 ]]
    exit $?
}

# ---- the fake org ---------------------------------------------------------------------------

make_pki() {
    [[ -s $CA ]] && return 0
    bash "$ISF_SRC/tests/fake-org/make-test-pki.sh" "$PKI" >/dev/null ||
        { echo "e2e: make-test-pki.sh failed" >&2; exit 1; }
}

# write_config [LINE...]: writes $ISYNCSF_HOME/config.yaml. Without arguments: only
# `http: {ca_file: <test CA>}`. With arguments, each is one line of YAML (include the http line
# yourself; $CA is the test CA).
write_config() {
    mkdir -p "$ISYNCSF_HOME"
    if [[ $# == 0 ]]; then
        printf 'http: {ca_file: %s}\n' "$CA" >"$ISYNCSF_HOME/config.yaml"
    else
        printf '%s\n' "$@" >"$ISYNCSF_HOME/config.yaml"
    fi
}

# start_fake_org [fake-org flags...]: starts a fake org on port 0 with the client
# $CLIENT_ID:$CLIENT_SECRET (plus the flags given); exports FAKE_URL and FAKE_PID. The first call
# also makes the PKI and, unless one exists, a config that trusts the test CA.
# FAKE_CERT=untrusted|wrong-name picks another server certificate.
start_fake_org() {
    local cert=${FAKE_CERT:-server} n port=""
    make_pki
    [[ -f $ISYNCSF_HOME/config.yaml ]] || write_config
    E2E_SEQ=$((E2E_SEQ + 1))
    n=$E2E_SEQ
    "$ISF_FAKE_ORG" --cert "$PKI/$cert.pem" --key "$PKI/$cert.key" --port 0 \
        --port-file "$WORK/fake$n.port" --client "$CLIENT_ID:$CLIENT_SECRET" "$@" \
        >"$WORK/fake$n.log" 2>&1 &
    FAKE_PID=$!
    E2E_FAKE_PIDS+=("$FAKE_PID")
    for _ in $(seq 200); do
        [[ -s $WORK/fake$n.port ]] && break
        if ! kill -0 "$FAKE_PID" 2>/dev/null; then
            echo "e2e: fake-org died at start:" >&2
            cat "$WORK/fake$n.log" >&2
            exit 1
        fi
        sleep 0.025
    done
    port=$(cat "$WORK/fake$n.port" 2>/dev/null)
    [[ -n $port ]] || { echo "e2e: fake-org did not write its port" >&2; exit 1; }
    export FAKE_URL="https://127.0.0.1:$port"
    export FAKE_PID
}

# fake_ctl PATH [JSON]: a control call to $FAKE_URL (GET for counters and for config without a
# body, else POST); prints the answer. Exits the script when the control call is refused (a
# broken test, not a product bug).
fake_ctl() {
    local path=$1 body=${2-} out
    if [[ -z $body && ($path == /__fake/counters || $path == /__fake/config) ]]; then
        out=$(curl -sS --fail-with-body --cacert "$CA" "$FAKE_URL$path") ||
            { echo "e2e: control call $path failed: $out" >&2; exit 1; }
    else
        out=$(curl -sS --fail-with-body --cacert "$CA" -H 'Content-Type: application/json' \
            -d "${body:-{\}}" "$FAKE_URL$path") ||
            { echo "e2e: control call $path $body failed: $out" >&2; exit 1; }
    fi
    printf '%s\n' "$out"
}

# counter NAME: one of the fake org's counters (token_requests, revocations, rest_calls...).
counter() {
    fake_ctl /__fake/counters | jq -r --arg n "$1" '.[$n]'
}

# ---- running the CLI ------------------------------------------------------------------------

# run_isf ARGS...: runs the CLI with stdin from /dev/null (or $STDIN_DATA when set, or the file
# $STDIN_FILE); sets OUT, ERR and RC. Every run is also checked for what may never happen:
# a crash (signal), ANSI escapes (the output is never a terminal here), and a secret (the client
# secret, any access token seen so far, or anything shaped like a token) in stdout or stderr —
# except `org token`'s stdout, which is where the token belongs.
run_isf() {
    local f_out="$WORK/.out" f_err="$WORK/.err" wrap=()
    read -r -a wrap <<<"${ISF_WRAP:-}"
    E2E_LAST_CMD="isyncsf $*"
    [[ ${E2E_VERBOSE:-0} == 1 ]] && echo "\$ $E2E_LAST_CMD" >&2
    if [[ -n ${STDIN_DATA+x} ]]; then
        printf '%s' "$STDIN_DATA" | "${wrap[@]}" "$ISF_BIN" "$@" >"$f_out" 2>"$f_err"
        RC=${PIPESTATUS[1]}
    elif [[ -n ${STDIN_FILE:-} ]]; then
        "${wrap[@]}" "$ISF_BIN" "$@" <"$STDIN_FILE" >"$f_out" 2>"$f_err"
        RC=$?
    else
        "${wrap[@]}" "$ISF_BIN" "$@" </dev/null >"$f_out" 2>"$f_err"
        RC=$?
    fi
    OUT=$(cat "$f_out")
    ERR=$(cat "$f_err")
    if [[ ${E2E_VERBOSE:-0} == 1 ]]; then
        echo "  -> exit $RC" >&2
        [[ -n $OUT ]] && printf '%s\n' "$OUT" | sed 's/^/  out| /' >&2
        [[ -n $ERR ]] && printf '%s\n' "$ERR" | sed 's/^/  err| /' >&2
    fi
    if ((RC >= 128)); then
        fail "the CLI died of signal $((RC - 128)) (crash)"
    fi
    if [[ ${#wrap[@]} -gt 0 ]] && grep -q '^==[0-9]*==' "$f_err"; then
        fail "the wrapper (${wrap[0]}) reports an error: $(grep -m3 '^==[0-9]*==' "$f_err" | tr '\n' ' ')"
    fi
    if grep -q $'\033' "$f_out" "$f_err"; then
        fail "ANSI escape codes in the output of a non-terminal run"
    fi
    local is_token=0 s
    [[ " $* " == *" org token "* ]] && is_token=1
    for s in "${SECRETS[@]}"; do
        [[ -z $s ]] && continue
        if [[ $is_token == 0 ]] && grep -qF -- "$s" "$f_out"; then
            fail "a secret (${s:0:6}…) appears on stdout"
        fi
        if grep -qF -- "$s" "$f_err"; then
            fail "a secret (${s:0:6}…) appears on stderr"
        fi
    done
    if [[ $is_token == 0 ]] && grep -qE -- "$TOKEN_RE" "$f_out"; then
        fail "something shaped like an access token appears on stdout"
    fi
    if grep -qE -- "$TOKEN_RE" "$f_err"; then
        fail "something shaped like an access token appears on stderr"
    fi
    return 0
}

# run_isf_stdin DATA ARGS...: run_isf with DATA on stdin.
run_isf_stdin() {
    local data=$1
    shift
    STDIN_DATA=$data run_isf "$@"
}

# add_org NAME [more org add flags]: adds a client-credentials org for the current fake org
# (secret by stdin) and asserts it worked.
add_org() {
    local name=$1
    shift
    run_isf_stdin "$CLIENT_SECRET" org add "$name" --login-url "$FAKE_URL" \
        --client-id "$CLIENT_ID" --client-secret-stdin "$@"
    [[ $RC == 0 ]] || fail "setup: org add $name failed"
}

# connect_org NAME: org connect, asserting success.
connect_org() {
    run_isf org connect "$1"
    [[ $RC == 0 ]] || fail "setup: org connect $1 failed"
}

# learn_token NAME: reads the org's token with `org token`, sets TOKEN and adds it to SECRETS
# (RC/OUT/ERR are those of the `org token` run).
learn_token() {
    TOKEN=""
    run_isf org token "$1"
    if [[ $RC == 0 && -n $OUT ]]; then
        TOKEN=$OUT
        SECRETS+=("$TOKEN")
    fi
}

# ---- assertions -----------------------------------------------------------------------------

# assert_exit N [WHAT]
assert_exit() {
    if [[ $RC == "$1" ]]; then
        pass "${2:-exit $1}"
    else
        fail "${2:-exit code}: expected exit $1, got $RC"
    fi
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
    if [[ $1 == "$2" ]]; then
        pass "${3:-equal}"
    else
        fail "${3:-values differ}: expected '$1', got '$2'"
    fi
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne() {
    if [[ $1 != "$2" ]]; then
        pass "${3:-differ}"
    else
        fail "${3:-values should differ}: both are '$1'"
    fi
}

# assert_json 'jq-expr' [WHAT]: the expression, run on stdout, is true (jq -e).
assert_json() {
    local r
    if r=$(printf '%s' "$OUT" | jq -e "$1" 2>&1) && [[ $r != false && $r != null ]]; then
        pass "${2:-json $1}"
    else
        fail "${2:-json}: jq '$1' is not true on stdout (got: ${r:0:200})"
    fi
}

# json_of 'jq-expr': prints the expression's value on stdout (raw), for assert_eq.
json_of() {
    printf '%s' "$OUT" | jq -r "$1" 2>/dev/null
}

# assert_stdout_contains TEXT / assert_stderr_contains TEXT (case-insensitive)
assert_stdout_contains() {
    if grep -qiF -- "$1" <<<"$OUT"; then
        pass "${2:-stdout contains '$1'}"
    else
        fail "${2:-stdout}: stdout lacks '$1'"
    fi
}
assert_stderr_contains() {
    if grep -qiF -- "$1" <<<"$ERR"; then
        pass "${2:-stderr contains '$1'}"
    else
        fail "${2:-stderr}: stderr lacks '$1'"
    fi
}
assert_stdout_lacks() {
    if grep -qiF -- "$1" <<<"$OUT"; then
        fail "${2:-stdout}: stdout contains '$1'"
    else
        pass "${2:-stdout lacks '$1'}"
    fi
}
assert_stderr_lacks() {
    if grep -qiF -- "$1" <<<"$ERR"; then
        fail "${2:-stderr}: stderr contains '$1'"
    else
        pass "${2:-stderr lacks '$1'}"
    fi
}
assert_stdout_empty() {
    if [[ -z $OUT ]]; then pass "${1:-stdout empty}"; else fail "${1:-stdout}: not empty"; fi
}
assert_stderr_nonempty() {
    if [[ -n $ERR ]]; then pass "${1:-a message on stderr}"; else fail "${1:-stderr}: empty"; fi
}

# assert_error_json CODE_EXIT [ORG]: a --json failure: exit CODE_EXIT, stdout is exactly one
# JSON object {"error":{"code","message","org"}} (org = ORG, or null when ORG is "null").
assert_error_json() {
    local want_exit=$1 org=${2-}
    assert_exit "$want_exit" "json error exit $want_exit"
    if printf '%s' "$OUT" | jq -e -s 'length == 1 and (.[0] | type == "object")
            and (.[0] | keys == ["error"])
            and (.[0].error.code | type == "string" and test("^[a-z][a-z0-9_]*$"))
            and (.[0].error.message | type == "string" and length > 0)
            and (.[0].error | has("org"))' >/dev/null 2>&1; then
        pass "stdout is only the JSON error object"
    else
        fail "stdout is not exactly one {\"error\":{code,message,org}} object"
    fi
    if [[ -n $org ]]; then
        if [[ $org == null ]]; then
            assert_json '.error.org == null' "error.org is null"
        else
            assert_json ".error.org == \"$org\"" "error.org is $org"
        fi
    fi
}

# ---- the store ------------------------------------------------------------------------------

# snapshot: sha256 of every record file under $ISYNCSF_HOME/orgs (lock files excepted: they
# are empty and come and go) and of the master key.
snapshot() {
    (
        cd "$ISYNCSF_HOME" 2>/dev/null || exit 0
        find orgs master.key -type f ! -path 'orgs/.locks/*' 2>/dev/null | LC_ALL=C sort |
            while read -r f; do sha256sum "$f"; done
    )
}

# assert_unchanged BEFORE [WHAT]: the store's snapshot still equals BEFORE.
assert_unchanged() {
    local now
    now=$(snapshot)
    if [[ -n $1 && $1 == "$now" ]]; then
        pass "${2:-store unchanged}"
    else
        fail "${2:-store changed}: snapshot differs (or is empty)"
        diff <(printf '%s\n' "$1") <(printf '%s\n' "$now") | sed 's/^/       /' >&3
    fi
}

rec_file() { printf '%s/orgs/%s.rec' "$ISYNCSF_HOME" "$1"; }

# rec_json NAME: the JSON payload of a record file.
rec_json() { tail -n +2 "$(rec_file "$1")"; }

# crc32c_hex: CRC-32C (Castagnoli, reflected 0x82F63B78) of stdin as 8 lowercase hex digits.
# Check value: printf 123456789 | crc32c_hex → e3069283.
crc32c_hex() {
    local crc=$((0xFFFFFFFF)) b k
    for b in $(od -An -v -tu1); do
        crc=$((crc ^ b))
        for ((k = 0; k < 8; k++)); do
            crc=$(((crc >> 1) ^ ((crc & 1) ? 0x82F63B78 : 0)))
        done
    done
    printf '%08x' $((crc ^ 0xFFFFFFFF))
}

# rec_checksum MAGIC: the checksum a record header of that format holds, of the payload on stdin
# (ISFREC1: SHA-256, 64 hex; ISFREC2: CRC-32C, 8 hex — see plugins/store-file/sf_record.h).
rec_checksum() {
    case $1 in
    ISFREC1) sha256sum | awk '{print $1}' ;;
    ISFREC2) crc32c_hex ;;
    *)
        echo "e2e: unknown record format '$1': teach rec_checksum in lib.sh about it" >&2
        exit 1
        ;;
    esac
}

# rec_rewrite NAME JQ-FILTER: rewrites the record's JSON through the filter and writes the file
# again with a correct header (same format and revision, new length and checksum), so the store's
# own damage check still passes and only what the filter changed is different.
rec_rewrite() {
    local f magic rev payload len sum
    f=$(rec_file "$1")
    read -r magic rev _ <"$f"
    payload=$(tail -n +2 "$f" | jq -c "$2") || { echo "e2e: rec_rewrite: jq failed" >&2; exit 1; }
    len=$(printf '%s' "$payload" | wc -c)
    sum=$(printf '%s' "$payload" | rec_checksum "$magic") || exit 1
    printf '%s %s %s %s\n%s' "$magic" "$rev" "$len" "$sum" "$payload" >"$f.tmp"
    chmod 600 "$f.tmp"
    mv "$f.tmp" "$f"
}

# file_mode PATH: octal permission bits (e.g. 600).
file_mode() { stat -c '%a' "$1"; }

# hold_lock FILE: takes an flock(2) lock on FILE in a background process (one process: the
# subshell takes the lock, then becomes `sleep`) until release_locks or the cleanup.
hold_lock() {
    ( exec 9>>"$1" && flock -x 9 && exec sleep 60 ) &
    E2E_HELD_PIDS+=("$!")
    for _ in $(seq 100); do # wait until the lock is really held
        flock -n -x "$1" true 2>/dev/null || return 0
        sleep 0.02
    done
    echo "e2e: could not take the lock on $1" >&2
    exit 1
}
release_locks() {
    local pid
    for pid in "${E2E_HELD_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    E2E_HELD_PIDS=()
}

# ts_ok 'jq-path': prints a jq expression, true when the value is null or YYYY-MM-DDTHH:MM:SSZ.
ts_ok() {
    printf '(%s == null or (%s | type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")))' "$1" "$1"
}

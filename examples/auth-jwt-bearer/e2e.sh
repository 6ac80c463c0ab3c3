#!/usr/bin/env bash
# e2e.sh PREFIX FAKE_ORG_BIN — the JWT bearer plugin end to end, against an installed isyncsf.
#
# PREFIX holds an installed isyncsf (PREFIX/bin/isyncsf) with auth-jwt-bearer.so installed into
# its plugins folder (`pkg-config --variable=pluginsdir isyncsf-plugin` with PKG_CONFIG_PATH =
# PREFIX/lib*/pkgconfig, or PREFIX/lib*/isyncsf/plugins). FAKE_ORG_BIN is tests/fake-org's binary.
#
# It makes an RSA key pair and the test PKI, starts the fake org with --jwt-client, writes an
# ISYNCSF_HOME/config.yaml loading auth-jwt-bearer (and store-file), then checks: org add --mode
# jwt-bearer; org connect; org token; a refresh after the org revoked every token; a key file
# open to others (refused: "chmod 600"); a key the org does not know (exit 4, the org's
# error_description). Prints `N passed, N failed`; exits non-zero when a check failed. The fake
# org is always stopped (trap). JWT_E2E_KEEP=1 keeps the work folder.
set -u
set -o pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 PREFIX FAKE_ORG_BIN" >&2
    exit 2
fi
PREFIX=$(cd "$1" 2>/dev/null && pwd) || { echo "e2e: no folder $1" >&2; exit 2; }
FAKE_ORG=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MAKE_PKI=$HERE/../../tests/fake-org/make-test-pki.sh
ISF=$PREFIX/bin/isyncsf

PASSED=0
FAILED=0
FAKE_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/isyncsf-jwt-e2e.XXXXXX")

cleanup() {
    if [[ -n $FAKE_PID ]]; then
        kill "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
    fi
    if [[ ${JWT_E2E_KEEP:-0} == 1 ]]; then
        echo "e2e: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() {
    PASSED=$((PASSED + 1))
    echo "ok   - $1"
}
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL - $1"
    if [[ -n ${LAST:-} ]]; then
        echo "       last command: $LAST (exit $RC)"
        echo "       stdout: $(printf '%s' "$OUT" | head -c 1000)"
        echo "       stderr: $(printf '%s' "$ERR" | head -c 1000)"
    fi
}
# die WHAT: a set-up step failed; nothing after it can run.
die() {
    fail "$1"
    echo "$PASSED passed, $FAILED failed"
    exit 1
}
finish() {
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED == 0 ]]
    exit $?
}

# isf ARGS...: runs the installed CLI; sets RC, OUT, ERR.
isf() {
    LAST="isyncsf $*"
    "$ISF" "$@" </dev/null >"$WORK/.out" 2>"$WORK/.err"
    RC=$?
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
    if ((RC >= 128)); then
        fail "$LAST died of signal $((RC - 128))"
    fi
}
check() { # check WHAT COMMAND...: passes when the command succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
json() { printf '%s' "$OUT" | jq -e "$1" >/dev/null 2>&1; }
has_text() { grep -qiF -- "$2" <<<"$1"; }

# ---- prerequisites --------------------------------------------------------------------------
for tool in openssl jq curl; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required"
done
[[ -x $ISF ]] || die "$ISF is not installed"
[[ -x $FAKE_ORG ]] || die "$FAKE_ORG is not an executable"
[[ -f $MAKE_PKI ]] || die "$MAKE_PKI not found"

PLUGINS_DIR=
for pc in "$PREFIX"/lib*/pkgconfig; do
    [[ -d $pc ]] || continue
    PLUGINS_DIR=$(PKG_CONFIG_PATH=$pc pkg-config --variable=pluginsdir isyncsf-plugin 2>/dev/null)
    [[ -n $PLUGINS_DIR ]] && break
done
if [[ -z $PLUGINS_DIR || ! -f $PLUGINS_DIR/auth-jwt-bearer.so ]]; then
    for d in "$PREFIX"/lib*/isyncsf/plugins; do
        [[ -f $d/auth-jwt-bearer.so ]] && PLUGINS_DIR=$d
    done
fi
[[ -f $PLUGINS_DIR/auth-jwt-bearer.so ]] ||
    die "auth-jwt-bearer.so is not installed in $PREFIX's plugins folder"
PLUGINS_DIR=$(cd "$PLUGINS_DIR" && pwd)
pass "installed: $ISF and $PLUGINS_DIR/auth-jwt-bearer.so"

# ---- keys, PKI, fake org ---------------------------------------------------------------------
unset ISYNCSF_CONFIG ISYNCSF_PLUGIN_PATH XDG_CONFIG_HOME XDG_DATA_HOME NO_COLOR
export LC_ALL=C
chmod 700 "$WORK"
export HOME=$WORK/userhome ISYNCSF_HOME=$WORK/isf
mkdir -p "$HOME" "$ISYNCSF_HOME"

umask 077
if ! openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/jwt.key" 2>/dev/null ||
    ! openssl pkey -in "$WORK/jwt.key" -pubout -out "$WORK/jwt.pub" ||
    ! openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/other.key" \
        2>/dev/null; then
    die "openssl genpkey failed"
fi
chmod 600 "$WORK/jwt.key" "$WORK/other.key"
umask 022
bash "$MAKE_PKI" "$WORK/pki" >/dev/null || die "make-test-pki.sh failed"
CA=$WORK/pki/ca.pem

CLIENT_ID=3MVG9jwt.e2e.consumer.key
USERNAME=jwt-user@fake-org.example
"$FAKE_ORG" --cert "$WORK/pki/server.pem" --key "$WORK/pki/server.key" --port 0 \
    --port-file "$WORK/port" --jwt-client "$CLIENT_ID:$WORK/jwt.pub" --org-name "JWT Org" \
    --username "$USERNAME" >"$WORK/fake.log" 2>&1 &
FAKE_PID=$!
for _ in $(seq 200); do
    [[ -s $WORK/port ]] && break
    kill -0 "$FAKE_PID" 2>/dev/null || { cat "$WORK/fake.log" >&2; die "fake-org died at start"; }
    sleep 0.025
done
[[ -s $WORK/port ]] || die "fake-org did not write its port"
URL=https://127.0.0.1:$(cat "$WORK/port")

# The default master key file: a jwt-bearer org (no client secret) seals nothing until its first
# connect, when the store already holds its record — the core must create the key then.
# write_config KEY_FILE
write_config() {
    cat >"$ISYNCSF_HOME/config.yaml" <<EOF
plugins:
  path: [$PLUGINS_DIR]
  load:
    - name: store-file
    - name: auth-jwt-bearer
      options:
        private_key_file: $1
        username: $USERNAME
http: {ca_file: $CA}
EOF
}
write_config "$WORK/jwt.key"

# ---- the checks ------------------------------------------------------------------------------
isf --json plugins
check "plugins: auth-jwt-bearer loaded, kind auth" \
    json '.[] | select(.name == "auth-jwt-bearer") | .kind == "auth" and .status == "loaded"'
check "plugins: its options are declared" \
    json '.[] | select(.name == "auth-jwt-bearer") | .options | map(.name) | index("private_key_file") != null and index("username") != null'

isf --json org add nocid --mode jwt-bearer --login-url "$URL"
check "org add without --client-id: usage error (exit 2)" test "$RC" = 2
check "  ... naming --client-id" has_text "$ERR$OUT" "--client-id"

isf --json org add acme --mode jwt-bearer --login-url "$URL" --client-id "$CLIENT_ID"
check "org add --mode jwt-bearer: exit 0" test "$RC" = 0
check "  ... mode jwt-bearer, status new" json '.mode == "jwt-bearer" and .status == "new"'

isf --json org connect acme
check "org connect: exit 0" test "$RC" = 0
check "  ... status connected" json '.status == "connected"'
check "  ... org details (org id, name, username, instance)" \
    json ".org_id != null and (.org_id | startswith(\"00D\")) and .org_name == \"JWT Org\"
          and .username == \"$USERNAME\" and .instance_url == \"$URL\""
check "  ... no refresh token" json '.has_refresh_token == false'

isf org token acme
TOKEN=$OUT
check "org token: exit 0 and a token" test "$RC" = 0 -a -n "$TOKEN"
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" \
    -H "Authorization: Bearer $TOKEN" "$URL/services/data/v66.0/")
check "  ... the token works at the org (HTTP $STATUS)" test "$STATUS" = 200

curl -sS -o /dev/null --cacert "$CA" -X POST "$URL/__fake/revoke-all" || die "revoke-all failed"
isf --json org test acme
check "refresh: after the org revoked every token, org test signs a new assertion (exit 0)" \
    test "$RC" = 0
isf org token acme
check "  ... and a new token" test "$RC" = 0 -a -n "$OUT" -a "$OUT" != "$TOKEN"

chmod 644 "$WORK/jwt.key"
isf org connect acme
check "key file mode 644: org connect fails (exit 6, plugin configuration)" test "$RC" = 6
check "  ... saying chmod 600" has_text "$ERR" "chmod 600 $WORK/jwt.key"
chmod 600 "$WORK/jwt.key"

write_config "$WORK/other.key"
isf org connect acme
check "a key the org does not know: exit 4" test "$RC" = 4
check "  ... with the org's error_description" has_text "$ERR" "invalid_grant (invalid assertion)"

write_config "$WORK/jwt.key"
isf --json org connect acme
check "the right key again: connected" json '.status == "connected"'

for f in "$WORK/.out" "$WORK/.err"; do
    if grep -qF -- "$TOKEN" "$f"; then fail "a token appears in $(basename "$f")"; fi
done

finish

#!/usr/bin/env bash
# The config file (where it is found, --config, $ISYNCSF_CONFIG; errors name file, line and key:
# exit 6) and the plugins command (the bundled plugins; a missing plugin → FAILED line, exit 6).
source "$(dirname "$0")/lib.sh"

start_fake_org
add_org acme
connect_org acme
SNAP=$(snapshot)

t "plugins: the bundled set, text"
run_isf plugins
assert_exit 0
assert_stdout_contains "auth-client-credentials"
assert_stdout_contains "store-file"
assert_stdout_contains "1.2" "ABI shown"
assert_stdout_lacks "FAILED"

t "plugins --json"
run_isf --json plugins
assert_exit 0
assert_json 'type == "array"' "an array"
assert_json '[.[].name] | contains(["auth-client-credentials","store-file"])' "both bundled plugins"
assert_json 'all(.[]; has("name") and has("kind") and has("version") and has("abi") and has("path"))' \
    "name, kind, version, abi, path"
assert_json '.[] | select(.name == "auth-client-credentials") | .kind == "auth"' "auth kind"
assert_json '.[] | select(.name == "store-file") | .kind == "store"' "store kind"
assert_json 'all(.[]; .abi == "1.2")' 'abi "1.2"'
assert_json 'all(.[]; .version | type == "string" and test("^[0-9]+\\.[0-9]+"))' "versions"
assert_json '.[] | select(.name == "store-file") | .options | map(.name) == ["dir", "fsync"]' \
    "store-file declares its options"
assert_json '.[] | select(.name == "store-file") | .options[] | select(.name == "fsync")
             | .type == "bool" and .default == "true" and .required == false' "an option's schema"

t "plugins -v lists each plugin's options"
run_isf plugins -v
assert_exit 0
assert_stdout_contains "option fsync (bool, default true)"

for p in $(json_of '.[].path'); do
    [[ -f $p && $p == /* ]] && pass "path $p exists" || fail "plugin path '$p' is not a file"
done

t "malformed YAML → 6, naming file and line"
cat >"$WORK/bad-syntax.yaml" <<EOF
http: {ca_file: $CA}
refresh:
  margin_s: 10: 20
EOF
run_isf --config "$WORK/bad-syntax.yaml" org list
assert_exit 6
assert_stderr_contains "bad-syntax.yaml:3" "file:line"
assert_stdout_empty
run_isf --config "$WORK/bad-syntax.yaml" --json org show acme
assert_error_json 6
assert_json '.error.code == "config_error"'
assert_json '.error.message | contains("bad-syntax.yaml:3")'
assert_unchanged "$SNAP"

t "unclosed flow sequence → 6, naming file and a line"
printf 'http:\n  ca_file: %s\n  timeout_s: [1\n' "$CA" >"$WORK/unclosed.yaml"
run_isf --config "$WORK/unclosed.yaml" org token acme
assert_exit 6
if grep -qE 'unclosed\.yaml:[0-9]+' <<<"$ERR"; then pass "file:line"; else fail "no file:line"; fi
assert_stdout_empty "no token printed"

t "unknown config key → 6, naming file, line and key"
cat >"$WORK/unknown-key.yaml" <<EOF
http:
  ca_file: $CA
  timeout_s: 5
  bogus_knob: 1
EOF
run_isf --config "$WORK/unknown-key.yaml" org list
assert_exit 6
assert_stderr_contains "unknown-key.yaml:4" "file:line"
assert_stderr_contains "bogus_knob" "key"
run_isf --config "$WORK/unknown-key.yaml" --json org list
assert_error_json 6
assert_json '.error.message | contains("bogus_knob") and contains("unknown-key.yaml:4")'

t "unknown top-level key → 6"
printf 'http: {ca_file: %s}\n\nfrobnicate: true\n' "$CA" >"$WORK/top.yaml"
run_isf --config "$WORK/top.yaml" org show acme
assert_exit 6
assert_stderr_contains "top.yaml:3"
assert_stderr_contains "frobnicate"

t "wrong type → 6, naming file, line and key"
printf 'http:\n  ca_file: %s\n  timeout_s: soon\n' "$CA" >"$WORK/type.yaml"
run_isf --config "$WORK/type.yaml" org show acme
assert_exit 6
assert_stderr_contains "type.yaml:3"
assert_stderr_contains "timeout_s"
assert_unchanged "$SNAP"

t "--config to a missing file → 6"
run_isf --config "$WORK/missing.yaml" org list
assert_exit 6
assert_stderr_contains "missing.yaml"

t "\$ISYNCSF_CONFIG is read (before \$ISYNCSF_HOME/config.yaml)"
ISYNCSF_CONFIG="$WORK/unknown-key.yaml" run_isf org list
assert_exit 6
assert_stderr_contains "unknown-key.yaml"

t "--config wins over \$ISYNCSF_CONFIG"
printf 'http: {ca_file: %s}\n' "$CA" >"$WORK/good.yaml"
ISYNCSF_CONFIG="$WORK/unknown-key.yaml" run_isf --config "$WORK/good.yaml" org list
assert_exit 0
assert_stdout_contains "acme"
ISYNCSF_CONFIG="$WORK/unknown-key.yaml" run_isf --config="$WORK/good.yaml" org list
assert_exit 0 "--config=PATH form"

t "the config given is really applied (ca_file only in --config's file)"
mv "$ISYNCSF_HOME/config.yaml" "$WORK/home-config.yaml"
printf 'http: {timeout_s: 10}\n' >"$ISYNCSF_HOME/config.yaml"
run_isf org test acme
assert_exit 5 "the home config lacks the CA: certificate refused"
run_isf --config "$WORK/good.yaml" org test acme
assert_exit 0 "--config's CA is used"
ISYNCSF_CONFIG="$WORK/good.yaml" run_isf org test acme
assert_exit 0 "\$ISYNCSF_CONFIG's CA is used"
mv "$WORK/home-config.yaml" "$ISYNCSF_HOME/config.yaml"

t "no config file at all is valid (built-in defaults)"
mv "$ISYNCSF_HOME/config.yaml" "$WORK/home-config.yaml"
run_isf plugins
assert_exit 0
assert_stdout_contains "auth-client-credentials"
assert_stdout_contains "store-file"
run_isf --json org show acme
assert_exit 0 "the store is found without a config"
assert_json '.name == "acme"'
mv "$WORK/home-config.yaml" "$ISYNCSF_HOME/config.yaml"
SNAP=$(snapshot)

t "a plugin missing → plugins exits 6 with a FAILED line"
cat >"$WORK/noplugin.yaml" <<EOF
http: {ca_file: $CA}
plugins: {load: [{name: auth-nope}, {name: store-file}]}
EOF
run_isf --config "$WORK/noplugin.yaml" plugins
assert_exit 6
assert_stdout_contains "FAILED"
assert_stdout_contains "auth-nope"
assert_stdout_contains "store-file" "the others still listed"
run_isf --config "$WORK/noplugin.yaml" --json plugins
assert_exit 6
assert_json '.[] | select(.name == "auth-nope") | .error | type == "string" and length > 0' \
    "the failed plugin has an error"
assert_json '.[] | select(.name == "store-file") | .error == null' "store-file loaded"
assert_unchanged "$SNAP"

t "the org whose mode's plugin is not loaded → 3, others readable"
cat >"$WORK/nocc.yaml" <<EOF
http: {ca_file: $CA}
plugins: {load: [{name: store-file}]}
EOF
run_isf --config "$WORK/nocc.yaml" org connect acme
assert_exit 3 "org connect needs the mode's plugin"
assert_stderr_contains "client-credentials"
assert_stdout_empty
run_isf --config "$WORK/nocc.yaml" --json org show acme
assert_exit 0 "show still works from the store"
assert_unchanged "$SNAP"

t "no store plugin → 6"
cat >"$WORK/nostore.yaml" <<EOF
http: {ca_file: $CA}
plugins: {load: [{name: auth-client-credentials}]}
EOF
run_isf --config "$WORK/nostore.yaml" org list
assert_exit 6
assert_stderr_contains "store"

t "plugin entry by a path that does not exist → 6"
cat >"$WORK/badpath.yaml" <<EOF
http: {ca_file: $CA}
plugins: {load: [{name: auth-client-credentials}, {name: store-file}, {path: $WORK/nope/auth-x.so}]}
EOF
run_isf --config "$WORK/badpath.yaml" plugins
assert_exit 6
assert_stdout_contains "FAILED"

finish

#!/usr/bin/env bash
# Output and global flags: --json on every command (valid JSON, nothing else on stdout), -q,
# --no-color / NO_COLOR, colour only on a terminal, --version, --help, global flags anywhere.
source "$(dirname "$0")/lib.sh"

start_fake_org
add_org acme --description "Output tests"
add_org beta

# json_only WHAT: stdout is exactly one JSON value.
json_only() {
    if printf '%s' "$OUT" | jq -e -s 'length == 1' >/dev/null 2>&1; then
        pass "$1: stdout is one JSON value"
    else
        fail "$1: stdout is not exactly one JSON value"
    fi
}

t "--json on every command"
run_isf_stdin "$CLIENT_SECRET" --json org add gamma --login-url "$FAKE_URL" \
    --client-id "$CLIENT_ID" --client-secret-stdin
assert_exit 0
json_only "org add"
assert_json '.name == "gamma"'
run_isf --json org edit gamma --description "g"
assert_exit 0
json_only "org edit"
assert_json '.description == "g"'
run_isf --json org connect acme
assert_exit 0
json_only "org connect"
run_isf --json org show acme
json_only "org show"
run_isf --json org list
json_only "org list"
assert_json 'type == "array"'
run_isf --json org test acme
assert_exit 0
json_only "org test"
run_isf --json org token acme
assert_exit 0
json_only "org token"
SECRETS+=("$(json_of .access_token)")
run_isf --json org disconnect acme
assert_exit 0
json_only "org disconnect"
assert_json '.status == "disconnected"'
run_isf --json org remove gamma
assert_exit 0
json_only "org remove"
run_isf --json plugins
assert_exit 0
json_only "plugins"

t "global flags may stand before or after the command"
run_isf org show --json beta
assert_exit 0
assert_json '.name == "beta"' "--json after the command"
run_isf org show beta --json
assert_json '.name == "beta"' "--json at the end"
run_isf org list --config "$ISYNCSF_HOME/config.yaml" --json
assert_exit 0
assert_json 'length == 2' "--config after the command"

t "-q / --quiet: no output on success, errors still reported"
run_isf -q org connect acme
assert_exit 0
assert_stdout_empty "org connect -q prints nothing"
run_isf --quiet org show beta
assert_exit 0
assert_stdout_empty "org show --quiet prints nothing"
run_isf -q org test acme
assert_exit 0
assert_stdout_empty "org test -q prints nothing"
run_isf -q org show nope
assert_exit 3
assert_stderr_contains "nope" "errors still on stderr"
run_isf -q org token acme
assert_exit 0
assert_ne "" "$OUT" "org token -q still prints the token (it is the result)"
SECRETS+=("$OUT")

t "--version"
run_isf --version
assert_exit 0
if grep -qE '^isyncsf [0-9]+\.[0-9]+\.[0-9]+' <<<"$OUT"; then pass "isyncsf X.Y.Z"; else
    fail "--version printed '$OUT'"; fi
assert_eq "" "$ERR" "nothing on stderr"

t "--help"
run_isf --help
assert_exit 0
assert_stdout_contains "org add"
assert_stdout_contains "plugins"
run_isf org --help
assert_exit 0
assert_stdout_contains "connect"

t "human output is plain text when piped (no ANSI), with NO_COLOR and --no-color too"
run_isf org list
assert_exit 0
assert_stdout_contains "acme"
NO_COLOR=1 run_isf org show acme
assert_exit 0
run_isf --no-color org test acme
assert_exit 0
# (run_isf fails any run whose output holds an escape code.)

t "colour on a terminal; none with NO_COLOR=1 or --no-color"
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
    # in_pty ARGS...: runs the CLI on a pseudo-terminal; prints what it wrote there.
    in_pty() { script -qec "$(printf '%q ' "$ISF_BIN" "$@")" /dev/null </dev/null 2>&1; }
    out=$(in_pty org list)
    if grep -q $'\033\[' <<<"$out"; then pass "org list on a terminal has colour"; else
        fail "no colour on a terminal: $(head -c 200 <<<"$out")"; fi
    grep -q "acme" <<<"$out" && pass "the listing is there" || fail "no listing on the terminal"
    out=$(in_pty org show acme)
    grep -q $'\033\[' <<<"$out" && pass "org show on a terminal has colour" ||
        fail "org show on a terminal has no colour"
    out=$(NO_COLOR=1 in_pty org list)
    if grep -q $'\033' <<<"$out"; then fail "NO_COLOR=1 still has escape codes"; else
        pass "NO_COLOR=1: no colour"; fi
    grep -q "acme" <<<"$out" && pass "the listing is there" || fail "no listing with NO_COLOR"
    out=$(in_pty --no-color org list)
    if grep -q $'\033' <<<"$out"; then fail "--no-color still has escape codes"; else
        pass "--no-color: no colour"; fi
    out=$(in_pty org show acme --no-color)
    if grep -q $'\033' <<<"$out"; then fail "--no-color after the command still has colour"; else
        pass "--no-color after the command: no colour"; fi
    out=$(in_pty --json org list)
    if grep -q $'\033' <<<"$out"; then fail "--json on a terminal has escape codes"; else
        pass "--json on a terminal: no colour"; fi
else
    echo "skip - no working script(1): colour on a terminal not tested"
fi

t "text output of org show has the key facts"
run_isf org show acme
assert_exit 0
for w in acme connected client-credentials "Output tests" "$FAKE_URL" PRODUCTION; do
    assert_stdout_contains "$w"
done

t "errors in text mode go to stderr, stdout stays empty"
run_isf org connect nope
assert_exit 3
assert_stdout_empty
assert_stderr_contains "isyncsf"

finish

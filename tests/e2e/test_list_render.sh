#!/usr/bin/env bash
# org list as a table: columns sized to the width (--width N, COLUMNS), cells truncated with "…"
# and never wrapped, columns dropped at narrow widths, one line per org; status dots coloured
# only on request (ISYNCSF_COLOR=always, since a test's stdout is never a terminal), never with
# NO_COLOR or --no-color; --json unchanged. The tables are compared with golden files
# (tests/golden/list-{60,100,200}{,-color}.txt); UPDATE_GOLDEN=1 rewrites them.
#
# Determinism: every org comes from one fake org with a fixed --org-id; the orgs connected here
# were checked "just now"; the other relative times are set in the records (rec_rewrite) to the
# middle of their unit ("7m ago" is 7.5 minutes back), so a slow run still prints the same text.
source "$(dirname "$0")/lib.sh"

GOLDEN="$ISF_SRC/tests/golden"
LONG=an-org-name-far-too-long-for-any-narrow-table-so-it-is-cut

start_fake_org --org-id 00D5e000000Lst1 --org-name "Acme Corp" --env production \
    --package installed --package-version 1.4.0.2

# minutes_ago N: a record timestamp (ms) N minutes before now.
minutes_ago() { echo $((($(date +%s) - $1 * 60) * 1000)); }

t "setup: one org per status, environment and package state"
add_org acme
connect_org acme
fake_ctl /__fake/config '{"env":"sandbox","org_name":"Beta Sandbox","package":"absent"}' >/dev/null
add_org beta
connect_org beta
rec_rewrite beta ".status = \"failing\" | .status_detail = \"HTTP 503\" |
    .last_tested_at = $(minutes_ago 7)"
fake_ctl /__fake/config '{"env":"scratch","org_name":"Gamma Scratch","package":"forbidden-all"}' \
    >/dev/null
add_org gamma --mode client-credentials
connect_org gamma
rec_rewrite gamma ".status = \"expired\" | .last_tested_at = $(minutes_ago 210)"
add_org delta
fake_ctl /__fake/config '{"env":"production","org_name":"Epsilon Ltd","package":"installed"}' \
    >/dev/null
add_org epsilon
connect_org epsilon
run_isf org disconnect epsilon --local-only
[[ $RC == 0 ]] || fail "setup: org disconnect epsilon"
rec_rewrite epsilon ".last_tested_at = $(minutes_ago 3600) | .last_refreshed_at = null"
fake_ctl /__fake/config '{"env":"sandbox","org_name":"A Company With A Very Long Legal Name Indeed"}' \
    >/dev/null
add_org "$LONG"
connect_org "$LONG"
run_isf org test acme "$LONG"
assert_exit 0 "setup done"

# render WIDTH [args...]: the table, straight from the CLI (run_isf refuses escape codes, which
# the colour runs want); sets OUT and RC.
render() {
    local width=$1
    shift
    OUT=$("$ISF_BIN" org list --width "$width" "$@" 2>"$WORK/.render.err" </dev/null)
    RC=$?
}

# golden NAME: OUT equals tests/golden/NAME.txt (or rewrites it with UPDATE_GOLDEN=1).
golden() {
    local file="$GOLDEN/$1.txt"
    if [[ ${UPDATE_GOLDEN:-0} == 1 ]]; then
        mkdir -p "$GOLDEN"
        printf '%s\n' "$OUT" >"$file"
        pass "$1 rewritten"
    elif diff -u "$file" <(printf '%s\n' "$OUT") >"$WORK/.diff" 2>&1; then
        pass "$1 matches the golden file"
    else
        fail "$1 differs from the golden file:"
        sed 's/^/       /' "$WORK/.diff" >&3
    fi
}

# fits WIDTH: every line of OUT is at most WIDTH columns (escape codes aside), one per org.
fits() {
    local width=$1 longest lines
    longest=$(printf '%s\n' "$OUT" | sed $'s/\033\\[[0-9;]*m//g' | LC_ALL=C.UTF-8 wc -L)
    lines=$(printf '%s\n' "$OUT" | wc -l)
    if ((longest <= width)); then
        pass "width $width: longest line $longest"
    else
        fail "width $width: a line is $longest columns"
    fi
    assert_eq 7 "$lines" "width $width: a heading and one line per org"
}

for w in 60 100 200; do
    t "table at $w columns"
    render "$w" --no-color
    assert_exit 0
    fits "$w"
    golden "list-$w"
    t "table at $w columns, coloured (ISYNCSF_COLOR=always)"
    OUT_PLAIN=$OUT
    ISYNCSF_COLOR=always render "$w"
    fits "$w"
    golden "list-$w-color"
    assert_eq "$OUT_PLAIN" "$(printf '%s\n' "$OUT" | sed $'s/\033\\[[0-9;]*m//g')" \
        "the coloured table is the plain one plus escape codes"
done

t "what the table says"
render 200
assert_stdout_contains "LAST CHECKED"
assert_stdout_contains "● connected"
assert_stdout_contains "● failing"
assert_stdout_contains "● expired"
assert_stdout_contains "● new"
assert_stdout_contains "● disconnected"
assert_stdout_contains "PRODUCTION"
assert_stdout_contains "SANDBOX"
assert_stdout_contains "SCRATCH"
assert_stdout_contains "Acme Corp (00D5e000000Lst1"
assert_stdout_contains "1.4.0.2"
assert_stdout_contains "missing"
assert_stdout_contains "unknown"
assert_stdout_contains "just now"
assert_stdout_contains "7m ago"
assert_stdout_contains "3h ago"
assert_stdout_contains "2d ago"
assert_stdout_contains "never"
render 60
assert_stdout_lacks "$LONG" "the long name is truncated at 60 columns"
assert_stdout_contains "${LONG:0:10}" "its start still shows"
assert_stdout_contains "…" "with an ellipsis"

t "colours: green connected, yellow failing, red expired, grey new and disconnected"
ISYNCSF_COLOR=always render 100
grep -q $'\033\\[32m●\033\\[0m connected' <<<"$OUT" && pass "green" || fail "connected not green"
grep -q $'\033\\[33m●\033\\[0m failing' <<<"$OUT" && pass "yellow" || fail "failing not yellow"
grep -q $'\033\\[31m●\033\\[0m expired' <<<"$OUT" && pass "red" || fail "expired not red"
grep -q $'\033\\[90m●\033\\[0m new' <<<"$OUT" && pass "grey new" || fail "new not grey"
grep -q $'\033\\[90m●\033\\[0m disconnected' <<<"$OUT" && pass "grey disconnected" ||
    fail "disconnected not grey"

t "no escape codes with NO_COLOR, --no-color, ISYNCSF_COLOR=never or a pipe"
NO_COLOR=1 ISYNCSF_COLOR=always render 100
[[ $OUT != *$'\033'* ]] && pass "NO_COLOR wins over ISYNCSF_COLOR" || fail "escapes with NO_COLOR"
ISYNCSF_COLOR=never render 100
[[ $OUT != *$'\033'* ]] && pass "ISYNCSF_COLOR=never" || fail "escapes with ISYNCSF_COLOR=never"
ISYNCSF_COLOR=always render 100 --no-color
[[ $OUT != *$'\033'* ]] && pass "--no-color wins over ISYNCSF_COLOR" ||
    fail "escapes with --no-color and ISYNCSF_COLOR=always"
run_isf org list --no-color
assert_exit 0 "--no-color (run_isf fails on any escape code)"
run_isf org list
assert_exit 0 "piped: no colour (run_isf fails on any escape code)"

t "width: COLUMNS when not a terminal, else 100; --width wins"
COLUMNS=60 run_isf org list
fits 60
COLUMNS=200 run_isf org list
OUT_200=$OUT
render 200
assert_eq "$OUT" "$OUT_200" "COLUMNS=200 renders like --width 200"
env -u COLUMNS "$ISF_BIN" org list >"$WORK/.default" 2>/dev/null </dev/null
render 100
assert_eq "$OUT" "$(cat "$WORK/.default")" "no COLUMNS: 100 columns"
COLUMNS=60 render 200
fits 200
assert_eq "$OUT_200" "$OUT" "--width wins over COLUMNS"
run_isf org list --width 5
assert_exit 2 "--width below 20 is a usage error"
run_isf org list --width abc
assert_exit 2 "--width must be a number"

t "filters still combine; the table shows only what matches"
run_isf org list --env sandbox --status failing --width 100
assert_exit 0
assert_eq 2 "$(printf '%s\n' "$OUT" | wc -l)" "heading and beta"
assert_stdout_contains "beta"
run_isf org list --filter "acme corp" --width 100
assert_stdout_contains "acme"
assert_stdout_lacks "beta"
run_isf org list --status connected --width 200
assert_eq "NAME acme $LONG" "$(printf '%s\n' "$OUT" | awk '{ print $1 }' | xargs)" \
    "sorted by name"
run_isf org list --status new --env scratch
assert_exit 0 "nothing matches: still exit 0"
assert_stdout_empty "nothing matches: no table"

t "--json unchanged: the library's array"
run_isf --json org list
assert_exit 0
assert_json 'type == "array" and length == 6' "six orgs"
assert_json "[.[].name] == ([\"acme\",\"beta\",\"delta\",\"epsilon\",\"gamma\",\"$LONG\"] | sort)" \
    "sorted by name"
assert_json 'map(select(.name == "beta"))[0] | .status == "failing" and .environment == "sandbox"
    and .package.installed == false' "fields as stored"
assert_json 'all(.[]; has("last_tested_at") and has("package") and has("org_id"))' "contract keys"

t "the store is only read"
BEFORE=$(snapshot)
run_isf org list --width 100
run_isf --json org list
assert_unchanged "$BEFORE" "org list writes nothing"

finish

#!/usr/bin/env bash
# org select: without a terminal (the one match, none, several, --any, --json, usage errors) and
# the inline picker in a real terminal (tmux): typing narrows the rows, arrows / Ctrl-N / Ctrl-P
# move, Enter puts the name in $(...), Esc and Ctrl-C cancel with exit 1 and nothing captured,
# SIGTERM restores the terminal, and the terminal is back in canonical mode with echo afterwards.
source "$(dirname "$0")/lib.sh"

start_fake_org --org-name "Prod Company" --env production
URL_PROD=$FAKE_URL
start_fake_org --org-name "Beta Sandbox" --env sandbox
URL_SBX=$FAKE_URL
FAKE_URL=$URL_PROD
add_org acme --description "the Acme production org"
FAKE_URL=$URL_SBX
add_org beta
add_org betamax --description "second sandbox"
add_org gamma # never connected: status new
connect_org acme
connect_org beta
connect_org betamax

export ISYNCSF_NO_TTY=1

t "without a terminal: the one match"
run_isf org select --filter acme
assert_exit 0
assert_eq "acme" "$OUT" "stdout is only the name"
run_isf org select --filter "ACME PRODUCTION" # description, case-insensitive
assert_exit 0
assert_eq "acme" "$OUT" "matched on the description"
run_isf org select --env production
assert_eq "acme" "$OUT" "--env narrows"
run_isf --json org select --filter acme
assert_exit 0
assert_json '.name == "acme" and .status == "connected"' "--json prints the org object"

t "without a terminal: nothing matches → exit 3"
run_isf org select --filter no-such-org
assert_exit 3
assert_stdout_empty
assert_stderr_contains "no org matches"
run_isf --json org select --filter no-such-org
assert_error_json 3 null

t "without a terminal: several match → exit 1 naming them"
run_isf org select --filter bet
assert_exit 1
assert_stdout_empty
assert_stderr_contains "2 orgs match"
assert_stderr_contains "beta "
assert_stderr_contains "betamax"
assert_stderr_contains "connected"
assert_stderr_lacks "acme"
run_isf --json org select --filter bet
assert_error_json 1 null
assert_json '.error.code == "ambiguous" and ([.error.candidates[].name] == ["beta","betamax"])' \
    "the JSON error lists the candidates"

t "without a terminal: only connected orgs unless --any"
run_isf org select --filter gamma
assert_exit 3
assert_stderr_contains "gamma (new)"
assert_stderr_contains "--any"
run_isf org select --filter gamma --any
assert_exit 0
assert_eq "gamma" "$OUT" "--any offers a new org"
run_isf org select --status new --any
assert_eq "gamma" "$OUT" "--status new --any"
run_isf org select --status new
assert_exit 3

t "without a terminal, found by itself (stdin and stderr are not terminals)"
ISYNCSF_NO_TTY=0 run_isf org select --filter betamax
assert_exit 0
assert_eq "betamax" "$OUT"

t "usage errors"
run_isf org select acme
assert_exit 2
run_isf org select --env moon
assert_exit 2
run_isf org select --status sleepy
assert_exit 2
run_isf org select --bogus
assert_exit 2

unset ISYNCSF_NO_TTY

# ---- the picker, in a real terminal ------------------------------------------------------------

if ! command -v tmux >/dev/null 2>&1; then
    t "the picker"
    echo "SKIP - tmux is not installed: the terminal picker is not tested" >&3
    finish
fi

TMUX_SOCK="isf-select-$$-$RANDOM"
tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
trap 'tm kill-server >/dev/null 2>&1; e2e_cleanup' EXIT
# A session that lives for the whole run, so killing the picker's session never ends the server.
tm new-session -d -s keep "sleep 300"

# The command run in the pane: the picker inside $(...), then what it left behind.
cat >"$WORK/pick.sh" <<EOF
#!/usr/bin/env bash
export HOME='$HOME' ISYNCSF_HOME='$ISYNCSF_HOME' LC_ALL=C
unset ISYNCSF_NO_TTY
TARGET=\$('$ISF_BIN' org select "\$@")
rc=\$?
stty -a >'$WORK/stty' 2>&1
printf 'rc=%s chosen=[%s]\n' "\$rc" "\$TARGET" >'$WORK/result.tmp'
mv '$WORK/result.tmp' '$WORK/result'
exec sleep 60
EOF
chmod +x "$WORK/pick.sh"

# wait_for CMD...: polls CMD for up to 5 s.
wait_for() {
    local _
    for _ in $(seq 100); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}
pane() { tm capture-pane -p -t sel 2>/dev/null; }
pane_has() { pane | grep -qF -- "$1"; }
pane_lacks() { ! pane_has "$1"; }
sel_is() { pane | grep -qE "^> .* $1( |\$)"; } # the highlighted row is NAME
have_result() { [[ -s $WORK/result ]]; }

# start_picker [ENV=V...] -- [select args...]: a fresh 100x20 pane running the picker.
start_picker() {
    local envs=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        envs+=("$1")
        shift
    done
    [[ ${1-} == -- ]] && shift
    tm kill-session -t sel >/dev/null 2>&1
    rm -f "$WORK/result" "$WORK/stty"
    local cmd
    cmd=$(printf '%q ' env "${envs[@]}" "$WORK/pick.sh" "$@")
    tm new-session -d -s sel -x 100 -y 20 "$cmd"
    if ! wait_for pane_has "org>"; then
        fail "the picker did not appear"
        pane | sed 's/^/       | /' >&3
        return 1
    fi
}

# check_result EXPECTED: the line pick.sh wrote, once the picker ended.
check_result() {
    if wait_for have_result; then
        assert_eq "$1" "$(cat "$WORK/result")" "${2:-result}"
    else
        fail "${2:-result}: the picker did not end"
        pane | sed 's/^/       | /' >&3
    fi
}

# check_restored: the terminal is back in canonical mode with echo, and the picker is gone.
check_restored() {
    if grep -qE '(^|[ ;])icanon( |;|$)' "$WORK/stty" && grep -qE '(^|[ ;])echo( |;|$)' "$WORK/stty"; then
        pass "terminal restored (icanon echo)"
    else
        fail "terminal not restored: $(tr '\n' ' ' <"$WORK/stty" | head -c 400)"
    fi
    if pane_lacks "org>"; then
        pass "the picker's lines are cleared"
    else
        fail "the picker is still on screen"
        pane | sed 's/^/       | /' >&3
    fi
}

t "picker: rows, typing narrows, Down + Enter chooses"
if start_picker; then
    wait_for pane_has "betamax"
    if pane_has "acme" && pane_has "beta " && pane_has "betamax" && pane_lacks "gamma"; then
        pass "connected orgs listed, the new one left out"
    else
        fail "rows: $(pane | tr '\n' '|')"
    fi
    if pane_has "1 not connected hidden"; then pass "the footer says one is hidden"; else fail "footer"; fi
    if pane_has "PRODUCTION" && pane_has "SANDBOX"; then pass "ENV badges"; else fail "no ENV badge"; fi
    if tm capture-pane -e -p -t sel | grep -qF $'\033[32m'; then
        pass "coloured status dot"
    else
        fail "no colour in the picker"
    fi
    tm send-keys -t sel -l bet
    if wait_for pane_has "org> bet" && wait_for pane_lacks "acme"; then
        pass "typing 'bet' narrows the rows (acme gone)"
    else
        fail "filter: $(pane | tr '\n' '|')"
    fi
    if pane_has "2/3"; then pass "footer counts 2/3"; else fail "footer count: $(pane | tr '\n' '|')"; fi
    tm send-keys -t sel Down
    if wait_for sel_is betamax; then pass "Down highlights betamax"; else fail "Down: $(pane | tr '\n' '|')"; fi
    tm send-keys -t sel Enter
    check_result "rc=0 chosen=[betamax]" "Down + Enter chose betamax"
    check_restored
fi

t "picker: --filter is the first query; Ctrl-N / Ctrl-P move; Backspace widens"
if start_picker -- --filter betam; then
    wait_for pane_has "org> betam"
    if pane_lacks "acme" && pane_has "betamax"; then pass "--filter preloads the query"; else fail "preload"; fi
    tm send-keys -t sel BSpace BSpace
    if wait_for pane_has "org> bet" && wait_for pane_has "2/3"; then pass "Backspace widens"; else fail "backspace"; fi
    tm send-keys -t sel C-n C-n C-p Enter
    check_result "rc=0 chosen=[beta]" "Ctrl-N Ctrl-N Ctrl-P Enter chose beta"
fi

t "picker: a short terminal shows fewer rows and scrolls; resizing redraws"
if start_picker; then
    wait_for pane_has "betamax"
    tm resize-window -t sel -x 100 -y 4 # 4 lines: the prompt, 2 rows, the footer
    if wait_for pane_lacks "betamax" && pane_has "acme" && pane_has "3/3"; then
        pass "resized: 2 of the 3 rows shown"
    else
        fail "resize: $(pane | tr '\n' '|')"
    fi
    tm send-keys -t sel Down Down
    if wait_for sel_is betamax; then
        pass "Down scrolls to the third row"
    else
        fail "scroll: $(pane | tr '\n' '|')"
    fi
    if pane_lacks "acme"; then pass "the first row scrolled away"; else fail "no scrolling"; fi
    tm send-keys -t sel Enter
    check_result "rc=0 chosen=[betamax]" "chose the scrolled-to row"
fi

t "picker: Esc cancels (exit 1, nothing captured)"
if start_picker; then
    tm send-keys -t sel -l zzz
    if wait_for pane_has "no match"; then pass "no match shown"; else fail "no match line"; fi
    tm send-keys -t sel Enter # nothing to choose: ignored
    sleep 0.2
    if [[ -e $WORK/result ]]; then fail "Enter on no match ended the picker"; else pass "Enter on no match ignored"; fi
    tm send-keys -t sel Escape
    check_result "rc=1 chosen=[]" "Esc: exit 1, nothing on stdout"
    check_restored
fi

t "picker: Ctrl-C cancels and restores the terminal"
if start_picker; then
    tm send-keys -t sel Down
    tm send-keys -t sel C-c
    check_result "rc=1 chosen=[]" "Ctrl-C: exit 1, nothing on stdout"
    check_restored
fi

t "picker: SIGTERM restores the terminal"
if start_picker; then
    pid=$(pgrep -P "$(tm display -p -t sel '#{pane_pid}')" 2>/dev/null | head -n1)
    if [[ -n $pid ]]; then
        kill -TERM "$pid"
        check_result "rc=143 chosen=[]" "killed by SIGTERM"
        check_restored
    else
        fail "could not find the picker's process"
    fi
fi

t "picker: Ctrl-Z suspends it in a job-control shell (picker cleared); fg brings it back"
# An interactive shell, so the picker runs as a job in its own process group (Ctrl-Z in an
# orphaned process group is ignored by the kernel, as it should be).
tm kill-session -t sel >/dev/null 2>&1
rm -f "$WORK/result" "$WORK/stty"
tm new-session -d -s sel -x 100 -y 20 "env PS1='sh\$ ' bash --norc --noprofile -i"
if wait_for pane_has 'sh$'; then
    tm send-keys -t sel -l "$WORK/pick.sh"
    tm send-keys -t sel Enter
    if wait_for pane_has "betamax"; then pass "the picker runs as a job"; else fail "no picker in the shell"; fi
    tm send-keys -t sel C-z
    if wait_for pane_has "Stopped" && wait_for pane_lacks "org>"; then
        pass "Ctrl-Z: stopped, the picker cleared"
    else
        fail "Ctrl-Z: $(pane | tr '\n' '|')"
    fi
    tm send-keys -t sel -l fg
    tm send-keys -t sel Enter
    if wait_for pane_has "org>" && wait_for pane_has "betamax"; then
        pass "fg: the picker is back"
    else
        fail "fg: $(pane | tr '\n' '|')"
    fi
    tm send-keys -t sel -l acme
    wait_for pane_lacks "betamax"
    tm send-keys -t sel Enter
    check_result "rc=0 chosen=[acme]" "chose acme after the suspension"
    check_restored
else
    fail "the interactive shell did not start"
fi

t "picker: --any offers the new org; NO_COLOR"
if start_picker NO_COLOR=1 -- --any; then
    wait_for pane_has "gamma"
    if pane_has "gamma" && pane_has "new"; then pass "gamma listed with its status"; else fail "--any rows"; fi
    if tm capture-pane -e -p -t sel | grep -qF $'\033[3'; then
        fail "colour despite NO_COLOR"
    else
        pass "no colour with NO_COLOR"
    fi
    tm send-keys -t sel -l gam
    wait_for pane_lacks "acme"
    tm send-keys -t sel Enter
    check_result "rc=0 chosen=[gamma]" "chose gamma"
fi

t "picker: --json prints the chosen org's object"
if start_picker -- --json --filter acme; then
    tm send-keys -t sel Enter
    if wait_for have_result && grep -q '"name": *"acme"' "$WORK/result"; then
        pass "--json: the org object"
    else
        fail "--json: $(head -c 300 "$WORK/result" 2>/dev/null)"
    fi
fi

finish

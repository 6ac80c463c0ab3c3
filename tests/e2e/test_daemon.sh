#!/usr/bin/env bash
# isyncsf daemon: refreshes on time (sessions due 3 s after issue: session_ttl_s 60, margin_s 57),
# picks up orgs added and removed by other processes while it runs, reloads on SIGHUP, stops on
# SIGTERM within 3 s with exit 0 (also with a refresh in flight) leaving every record readable;
# --once does one pass and exits with the refresh's code; every log line is logfmt with a level
# and never holds a secret.
source "$(dirname "$0")/lib.sh"

start_fake_org
write_config "http: {ca_file: $CA}" "refresh: {session_ttl_s: 60, margin_s: 57}"
LOG="$WORK/daemon.log"
DAEMON_PID=""

# start_daemon: the daemon in the background, stderr to $LOG.
start_daemon() {
    : >"$LOG"
    "$ISF_BIN" daemon </dev/null >"$WORK/daemon.out" 2>"$LOG" &
    DAEMON_PID=$!
    E2E_HELD_PIDS+=("$DAEMON_PID")
}

# wait_log REGEX SECONDS: true once a line of the log matches (extended regex).
wait_log() {
    local deadline=$((SECONDS + $2))
    while ((SECONDS <= deadline)); do
        grep -qE -- "$1" "$LOG" && return 0
        sleep 0.1
    done
    return 1
}

assert_log() {
    if wait_log "$1" "${3:-6}"; then pass "$2"; else fail "$2: no log line matches '$1'"; sed 's/^/       log| /' "$LOG" >&3; fi
}

# stop_daemon SIGNAL: sends it and waits; sets STOP_MS (time to exit) and DAEMON_RC.
stop_daemon() {
    local t0 t1
    t0=$(date +%s%N)
    kill -"$1" "$DAEMON_PID"
    wait "$DAEMON_PID"
    DAEMON_RC=$?
    t1=$(date +%s%N)
    STOP_MS=$(((t1 - t0) / 1000000))
}

# run_once: daemon --once in the foreground, stderr to $LOG; sets RC (read by assert_exit).
run_once() {
    "$ISF_BIN" daemon --once </dev/null 2>"$LOG"
    RC=$?
    export RC
}

check_log_lines() {
    local bad
    bad=$(grep -vcE '^level=(error|warn|info|debug) ([a-z_]+=("([^"\\]|\\.)*"|[^ "]*))( [a-z_]+=("([^"\\]|\\.)*"|[^ "]*))*$' "$LOG")
    assert_eq 0 "$bad" "every log line is level=... followed by key=value pairs"
    local s leaked=0
    for s in "${SECRETS[@]}"; do
        [[ -n $s ]] && grep -qF -- "$s" "$LOG" && leaked=1
    done
    grep -qE -- "$TOKEN_RE" "$LOG" && leaked=1
    assert_eq 0 "$leaked" "no secret or token in the log"
}

add_org acme
# The session is issued between these two instants (the CLI may run slowly, e.g. under valgrind).
before_connect=$(date +%s%N)
connect_org acme
learn_token acme
connected_at=$(date +%s%N)

t "usage"
run_isf daemon acme
assert_exit 2 "org names are refused"
run_isf daemon --help
assert_exit 0
assert_stdout_contains "--once"

t "refreshes on time"
grants0=$(counter token_grants)
start_daemon
assert_log '^level=info event=start watch=store orgs=1 ' "start line names the watch and the org count"
assert_log '^level=info org=acme event=refresh outcome=done expires_at=[0-9T:-]+Z ' "acme refreshed" 8
now_ns=$(date +%s%N)
took=$(((now_ns - connected_at) / 1000000))
since_issue_at_most=$(((now_ns - before_connect) / 1000000))
if ((since_issue_at_most >= 2500 && took <= 6000)); then
    pass "refreshed when due (${took} ms after connect, due at 3000)"
else
    fail "refreshed ${took} ms after connect; it was due 3000 ms after"
fi
assert_eq $((grants0 + 1)) "$(counter token_grants)" "one grant"
old_token=$TOKEN
learn_token acme
assert_ne "$old_token" "$TOKEN" "org token hands out the refreshed token"

t "picks up an org added by another process"
add_org beta
connect_org beta
learn_token beta
assert_log '^level=info org=beta event=schedule outcome=added next_due=' "beta scheduled without a restart" 3
assert_log '^level=info org=beta event=refresh outcome=done ' "beta refreshed" 8

t "drops an org removed by another process"
run_isf org remove acme
assert_exit 0
assert_log '^level=info org=acme event=schedule outcome=removed' "acme left the schedule" 3

t "SIGHUP reloads the config"
kill -HUP "$DAEMON_PID"
assert_log '^level=info event=reload outcome=done' "reload logged" 3
assert_log '^level=info event=start .*orgs=1 ' "running again after the reload" 3
if kill -0 "$DAEMON_PID" 2>/dev/null; then pass "still running"; else fail "the daemon exited on SIGHUP"; fi

t "SIGTERM stops within 3 s, exit 0"
stop_daemon TERM
assert_eq 0 "$DAEMON_RC" "exit 0"
if ((STOP_MS < 3000)); then pass "stopped in ${STOP_MS} ms"; else fail "took ${STOP_MS} ms to stop"; fi
assert_log '^level=info event=stop reason=signal' "stop line" 1
run_isf --json org list
assert_exit 0 "every record readable"
assert_json 'length == 1 and .[0].name == "beta" and .[0].status == "connected"' "beta connected"
check_log_lines

t "SIGTERM with a refresh in flight"
fake_ctl /__fake/fault '{"kind":"delay","delay_ms":20000,"count":1,"path_prefix":"/services/oauth2/token"}' >/dev/null
sleep 3 # beta is due again
start_daemon
assert_log '^level=info event=start ' "started" 3
sleep 1 # the token request is hanging at the org now
stop_daemon INT
assert_eq 0 "$DAEMON_RC" "exit 0 on SIGINT"
if ((STOP_MS < 3000)); then pass "stopped in ${STOP_MS} ms with a request in flight"; else fail "took ${STOP_MS} ms to stop"; fi
run_isf --json org show beta
assert_exit 0 "the record is readable"
assert_json '.status == "connected"' "still connected"
fake_ctl /__fake/reset >/dev/null

t "--once: one pass, exit 0"
sleep 0.2
grants0=$(counter token_grants)
: >"$LOG"
run_once
assert_exit 0
assert_log '^level=info org=beta event=refresh outcome=done ' "beta refreshed" 1
assert_log '^level=info event=stop reason=once' "stop line" 1
assert_eq $((grants0 + 1)) "$(counter token_grants)" "one grant"
run_once
assert_exit 0 "nothing due: exit 0"
if grep -q 'event=refresh' "$LOG"; then fail "refreshed a fresh token"; else pass "nothing refreshed"; fi
check_log_lines

t "journald: a priority prefix only when stderr is the journal's stream"
: >"$LOG"
log_id=$(stat -c '%d:%i' "$LOG")
JOURNAL_STREAM=$log_id "$ISF_BIN" daemon --once </dev/null 2>>"$LOG"
assert_log '^<6>level=info event=start ' "<6> (info) before the line" 1
JOURNAL_STREAM=1:2 "$ISF_BIN" daemon --once </dev/null 2>"$LOG"
assert_log '^level=info event=start ' "no prefix when stderr is elsewhere" 1

t "--once: a passing failure exits 5"
fake_ctl /__fake/fault '{"kind":"status","status":503,"count":-1,"path_prefix":"/services/oauth2/token"}' >/dev/null
sleep 3
run_once
assert_exit 5
assert_log '^level=warn org=beta event=refresh outcome=failed status=org_unreachable ' "the failure is logged" 1
fake_ctl /__fake/reset >/dev/null
run_isf --json org show beta
assert_json '.status == "failing"' "beta is failing (retried later)"
check_log_lines

finish

#!/usr/bin/env bash
# Crash consistency: SIGKILLs writer processes at random moments and checks the store after each
# kill. Writers: `org edit` (the description), `org connect`, `org token` with an always-due
# session (a refresh: new sealed token written), `key rotate` (every record re-sealed, then the
# key file replaced). After every kill:
#   - `org list --json` succeeds with no bad record and exactly the expected names (a temp file
#     is never taken for a record), and leaves no temp file behind (.tmp cleaned by the next run);
#   - the record the writer touched holds its old or its new state (description old/new, times
#     old or later, store revision old or later) and its header and payload check out;
#   - the master key file is intact (44 base64 characters = 32 bytes, mode 600) and, after a
#     rotation was killed and every 25 kills, every record's secrets still open (`org token`).
# Environment: CRASH_ITERATIONS (kills to reach, default 1000), CRASH_SEED (RANDOM seed).
# `isyncsf refresh --all --force` (the engine: three records renewed at once by its writer
# threads) is a writer too: each record holds its old token and refresh time, or both new.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

KILLS_WANTED=${CRASH_ITERATIONS:-1000}
RANDOM=${CRASH_SEED:-$$}
echo "seed $RANDOM kills $KILLS_WANTED" >&3

start_fake_org
for n in alpha beta gamma; do
    add_org "$n" --description "start"
    connect_org "$n"
done
DUE="$WORK/due.yaml"
printf 'http: {ca_file: %s}\nrefresh: {session_ttl_s: 60, margin_s: 60}\n' "$CA" >"$DUE"
ORGS='["alpha","beta","gamma"]'

# The stored records, one JSON line each {"n", "rev", "p": payload}, straight from the files:
# the header's magic, revision and length are checked here (the CRC by the store itself).
raw_records() {
    local n f magic rev len payload
    for n in alpha beta gamma; do
        f=$(rec_file "$n")
        read -r magic rev len _ <"$f" || return 1
        payload=$(tail -n +2 "$f")
        [[ $magic == ISFREC2 && ${#payload} == "$len" ]] || return 1
        printf '{"n":"%s","rev":%s,"p":%s}\n' "$n" "$rev" "$payload"
    done
}

# check_state WRITER NEWDESC: one jq over `org list --json`'s output ($OUT) and the records.
# Prints the new state {name: {rev, description, connected_at, last_refreshed_at, at (the
# sealed access token)}} on the first line, then one line per violation: a stray or missing
# name, a revision that went back, a record neither in its old nor in its new state.
check_state() {
    { printf '%s\n' "$OUT"; raw_records || echo '"a record fails its header check"'; } |
        jq -rsc --argjson o "$OLD" --arg w "$1" --arg d "$2" --argjson want "$ORGS" '
        (.[1:] | map(objects | {key: .n, value: {rev, description: .p.description,
            connected_at: .p.connected_at, last_refreshed_at: .p.last_refreshed_at,
            at: .p.sealed.access_token}}) | from_entries) as $s |
        ($s | tojson),
        (.[1:][] | strings),
        (if (.[0] | type) == "array" and ([.[0][].name] | sort) == $want then empty
         else "org list does not list exactly \($want)" end),
        (($o | keys[]) as $n | $o[$n] as $a | ($s[$n] // {}) as $b |
        (if ($b.rev // 0) < $a.rev then "\($n): revision went back \($a.rev) → \($b.rev)" else empty end),
        (if $w == "edit" and $n == "alpha" then
            (if ($b.description == $a.description or $b.description == $d)
                and $b.connected_at == $a.connected_at then empty
             else "alpha: description \($b.description) is neither \($a.description) nor \($d)" end)
         elif $w == "connect" and $n == "beta" then
            (if $b.description == $a.description and $b.connected_at >= $a.connected_at then empty
             else "beta: not the old or a newer connection" end)
         elif $w == "token" and $n == "gamma" then
            (if $b.description == $a.description and $b.last_refreshed_at >= $a.last_refreshed_at
                and (($b.at == $a.at) == ($b.last_refreshed_at == $a.last_refreshed_at)) then empty
             else "gamma: token and refresh time disagree (half a refresh)" end)
         elif $w == "refresh" then
            (if $b.description == $a.description and $b.connected_at == $a.connected_at
                and $b.last_refreshed_at >= $a.last_refreshed_at
                and (($b.at == $a.at) == ($b.last_refreshed_at == $a.last_refreshed_at)) then empty
             else "\($n): token and refresh time disagree (half a refresh of the engine)" end)
         elif $w == "rotate" then
            (if $b.description == $a.description and $b.connected_at == $a.connected_at
                and $b.last_refreshed_at == $a.last_refreshed_at then empty
             else "\($n): key rotate changed more than the sealing" end)
         elif ($b | del(.rev)) == ($a | del(.rev)) then empty
         else "\($n): changed by a writer of another record" end))'
}

key_ok() {
    local k=$ISYNCSF_HOME/master.key
    [[ -f $k && $(file_mode "$k") == 600 ]] || return 1
    [[ $(base64 -d <"$k" 2>/dev/null | wc -c) == 32 ]]
}

# (The tokens printed are not added to SECRETS: run_isf greps every output for each of them,
# and over a thousand kills the list would grow into the thousands.)
secrets_open() {
    local n
    for n in alpha beta gamma; do
        run_isf org token "$n"
        [[ $RC == 0 ]] || return 1
    done
}

# Writers: the command line and the expected new value of what they change.
writer_cmd() {
    case $1 in
    edit) echo "org edit alpha --description d$2" ;;
    connect) echo "org connect beta" ;;
    token) echo "--config $DUE org token gamma" ;;
    rotate) echo "key rotate" ;;
    refresh) echo "refresh --all --force" ;;
    esac
}
WRITERS=(edit connect token rotate refresh)

# Calibration: how long each writer runs when left alone (µs), so kills land inside its run.
declare -A DUR
for w in "${WRITERS[@]}"; do
    s=$(date +%s%N)
    for k in 1 2 3; do
        # shellcheck disable=SC2046
        "$ISF_BIN" $(writer_cmd "$w" "cal$k") </dev/null >/dev/null 2>&1 ||
            { fail "calibration: $w failed"; finish; }
    done
    DUR[$w]=$((($(date +%s%N) - s) / 3000))
    echo "calibration: $w takes ~${DUR[$w]} µs" >&3
done
run_isf org list --json
OLD={}
OLD=$(check_state none "" | head -1)
# A read with a timeout on a FIFO nobody writes: a sub-millisecond sleep without a fork.
mkfifo "$WORK/never"
exec 9<>"$WORK/never"

t "SIGKILL writers at random moments, check the store after each"
kills=0 iters=0 leftovers=0 bad=0
declare -A KILLED_BY
max_iters=$((KILLS_WANTED * 3))
while ((kills < KILLS_WANTED && iters < max_iters)); do
    iters=$((iters + 1))
    w=${WRITERS[RANDOM % ${#WRITERS[@]}]}
    # A delay uniform over 0..the writer's run time, in µs.
    d=$(((RANDOM * 32768 + RANDOM) % (DUR[$w] + 1)))
    # shellcheck disable=SC2046
    "$ISF_BIN" $(writer_cmd "$w" "$iters") </dev/null >/dev/null 2>"$WORK/writer.err" &
    wpid=$!
    read -r -t "$(printf '0.%06d' "$d")" -u 9 _
    kill -KILL "$wpid" 2>/dev/null
    wait "$wpid" 2>/dev/null
    wrc=$?
    if [[ $wrc == 137 ]]; then
        kills=$((kills + 1))
        KILLED_BY[$w]=$((${KILLED_BY[$w]:-0} + 1))
        ((kills % 100 == 0)) && echo "$kills kills in $iters runs ($SECONDS s)" >&3
    elif [[ $wrc != 0 ]]; then
        fail "iteration $iters: $w exited $wrc without being killed: $(head -c 300 "$WORK/writer.err")"
        bad=$((bad + 1))
    fi
    left=$(find "$ISYNCSF_HOME/orgs/.tmp" -type f 2>/dev/null | wc -l)
    leftovers=$((leftovers + left))

    # Every record parses (the store checks each header and CRC), no bad record, no stray name,
    # the run cleans the leftovers, the key file is whole, and every record is in its old or
    # new state.
    run_isf org list --json
    if [[ $RC != 0 || -n $ERR ]]; then
        fail "iteration $iters ($w, killed after ${d} µs): org list failed"
        bad=$((bad + 1))
        break
    fi
    if [[ -n $(find "$ISYNCSF_HOME/orgs/.tmp" -type f 2>/dev/null) ]]; then
        fail "iteration $iters: temp files left after the next run"
        bad=$((bad + 1))
    fi
    key_ok || { fail "iteration $iters ($w): master key file damaged"; bad=$((bad + 1)); break; }
    mapfile -t lines < <(check_state "$w" "d$iters")
    if ((${#lines[@]} != 1)); then
        fail "iteration $iters ($w killed after ${d} µs): ${lines[*]:1}"
        bad=$((bad + 1))
        [[ ${lines[0]:0:1} == "{" ]] || break
    fi
    OLD=${lines[0]}
    # The secrets still open under the key on disk (the writes above are then remembered).
    if [[ $w == rotate ]] || ((iters % 25 == 0)); then
        secrets_open || { fail "iteration $iters ($w): a record's secrets do not open: $ERR"; bad=$((bad + 1)); break; }
    fi
    # A due `org token` refreshes: what it wrote is the state the next check starts from.
    if [[ $w == rotate ]] || ((iters % 25 == 0)); then
        run_isf org list --json
        OLD=$(check_state none "" | head -1)
    fi
done
per_writer=""
for w in "${WRITERS[@]}"; do per_writer+="${per_writer:+, }$w ${KILLED_BY[$w]:-0}"; done
summary="$kills kills in $iters runs ($per_writer); $leftovers leftover temp files seen and cleaned"
echo "$summary" >&3
if ((kills >= KILLS_WANTED && bad == 0)); then
    pass "$summary"
else
    fail "$summary; $bad bad states"
fi

t "afterwards every org still works against the org"
secrets_open && pass "every record's secrets open" || fail "secrets do not open: $ERR"
run_isf org test alpha beta gamma
assert_exit 0 "org test of every org"
finish

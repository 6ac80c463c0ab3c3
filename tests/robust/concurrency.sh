#!/usr/bin/env bash
# Concurrency: N processes × M updates on the same record, mixing `org edit --description`,
# `org test` and `org token` with a session that is always due (so both refresh: a token request
# and a write). Each command, run alone, makes a fixed number of record writes (store revision
# +k), token requests and REST calls; run concurrently, the totals must be the sums: a lost
# update shows as a missing revision, a double refresh as an extra token request. Afterwards the
# record parses, its description is one that was written, and every process succeeded.
# Environment: CONC_PROCS (N, default 4), CONC_UPDATES (M, default 15).
# Web server modes (issue 3) add refresh-token chains: add an org connected with
# `--mode web-server` (fake org `--rotate-refresh`), and an op `org token` on it; then check that
# the fake org's active refresh-token family was never revoked for reuse (token_grants equals the
# refreshes made and the last refresh token still works).
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

N=${CONC_PROCS:-4}
M=${CONC_UPDATES:-15}
start_fake_org
add_org alpha --description start
DUE="$WORK/due.yaml"
printf 'http: {ca_file: %s}\nrefresh: {session_ttl_s: 60, margin_s: 60}\n' "$CA" >"$DUE"
run_isf --config "$DUE" org connect alpha # its session lives session_ttl_s = margin_s: always due
[[ $RC == 0 ]] || fail "setup: org connect alpha failed"

rev() { read -r _ r _ <"$(rec_file alpha)" && echo "$r"; }
op_cmd() { # OP TAG
    case $1 in
    edit) echo "--config $DUE org edit alpha --description $2" ;;
    test) echo "--config $DUE org test alpha" ;;
    token) echo "--config $DUE org token alpha" ;;
    esac
}
OPS=(edit test token)

t "each command alone: its writes, token requests and REST calls"
declare -A D_REV D_TOK D_REST
for op in "${OPS[@]}"; do
    for k in 1 2; do # twice: the second run must cost the same as the first
        r0=$(rev) t0=$(counter token_requests) c0=$(counter rest_calls)
        # shellcheck disable=SC2046
        run_isf $(op_cmd "$op" "cal$k")
        [[ $RC == 0 ]] || fail "$op alone failed"
        dr=$(($(rev) - r0)) dt=$(($(counter token_requests) - t0)) dc=$(($(counter rest_calls) - c0))
        if [[ $k == 2 && "$dr $dt $dc" != "${D_REV[$op]} ${D_TOK[$op]} ${D_REST[$op]}" ]]; then
            fail "$op costs differ between two runs: $dr/$dt/$dc"
        fi
        D_REV[$op]=$dr D_TOK[$op]=$dt D_REST[$op]=$dc
    done
    pass "$op: +${D_REV[$op]} revision(s), ${D_TOK[$op]} token request(s), ${D_REST[$op]} REST call(s)"
done

t "$N processes × $M updates at once"
r0=$(rev) t0=$(counter token_requests) c0=$(counter rest_calls)
want_rev=0 want_tok=0 want_rest=0
pids=()
for p in $(seq "$N"); do
    plan=()
    for j in $(seq "$M"); do
        op=${OPS[(p + j) % ${#OPS[@]}]}
        plan+=("$op")
        want_rev=$((want_rev + D_REV[$op])) want_tok=$((want_tok + D_TOK[$op]))
        want_rest=$((want_rest + D_REST[$op]))
    done
    (
        fails=0
        for j in "${!plan[@]}"; do
            # shellcheck disable=SC2046
            "$ISF_BIN" $(op_cmd "${plan[j]}" "p$p.u$j") </dev/null >/dev/null \
                2>>"$WORK/proc$p.err" || fails=$((fails + 1))
        done
        exit "$fails"
    ) &
    pids+=("$!")
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
assert_eq 0 "$failed" "every process succeeded at every update"
[[ $failed == 0 ]] || cat "$WORK"/proc*.err | head -5 >&3
assert_eq "$want_rev" "$(($(rev) - r0))" "no lost update: the revisions add up ($want_rev writes)"
assert_eq "$want_tok" "$(($(counter token_requests) - t0))" \
    "the fake org saw exactly the token requests made ($want_tok)"
assert_eq "$want_rest" "$(($(counter rest_calls) - c0))" \
    "the fake org saw exactly the REST calls made ($want_rest)"
run_isf org show alpha --json
assert_exit 0 "the record parses"
assert_json '.description | test("^(start|cal[12]|p[0-9]+\\.u[0-9]+)$")' "its description is one that was written"
run_isf org list --json
assert_exit 0 "org list: no bad record"
[[ -z $ERR ]] && pass "org list: nothing on stderr" || fail "org list warns: $ERR"
learn_token alpha
assert_exit 0 "the stored token opens"
run_isf org test alpha
assert_exit 0 "and works at the org"
finish

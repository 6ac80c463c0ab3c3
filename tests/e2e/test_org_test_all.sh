#!/usr/bin/env bash
# org test --all / NAME...: the orgs are tested concurrently (one library context per worker
# thread). Six orgs behind a fake org that delays every REST call by 1.5 s: done in well under
# 6 × 1.5 s; the results are right; one org with a wrong client secret makes the exit code 4
# while the others stay connected.
source "$(dirname "$0")/lib.sh"

start_fake_org
ORGS=(o1 o2 o3 o4 o5 o6)
for o in "${ORGS[@]}"; do
    add_org "$o"
    connect_org "$o"
done

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

t "org test --all: six orgs, each REST call delayed 1.5 s, run concurrently"
fake_ctl /__fake/fault '{"kind":"delay","delay_ms":1500,"path_prefix":"/services/data","count":-1}' >/dev/null
before=$(counter rest_calls)
start=$(now_ms)
run_isf --json org test --all
elapsed=$(($(now_ms) - start))
assert_exit 0 "all connected"
assert_json 'type == "array" and length == 6' "one result per org"
assert_json '[.[].name] == ["o1","o2","o3","o4","o5","o6"]' "in the store's order"
assert_json 'all(.[]; .status == "connected" and .last_tested_at != null)' "all connected, tested"
if ((elapsed < 5000)); then pass "took ${elapsed} ms (sequential: 9000+)"; else
    fail "took ${elapsed} ms: not concurrent"; fi
if (($(counter rest_calls) >= before + 6)); then pass "one REST call per org at least"; else
    fail "fewer than 6 REST calls"; fi

t "org test --all text: a summary table, no progress bar when stderr is not a terminal"
run_isf org test --all
assert_exit 0
assert_stdout_contains "NAME"
assert_stdout_contains "STATUS"
for o in "${ORGS[@]}"; do
    if grep -Eq "^$o +● connected" <<<"$OUT"; then pass "$o connected in the table"; else
        fail "$o not connected in the table"; fi
done
assert_stderr_lacks "tested"

t "a progress bar on stderr when it is a terminal"
if command -v script >/dev/null 2>&1; then
    tty_out=$(script -qec "$(printf '%q ' "$ISF_BIN" org test --all) 2>&1 >/dev/null" /dev/null)
    if grep -q '6/6 tested' <<<"$tty_out"; then pass "progress drawn up to 6/6"; else
        fail "no progress bar on a terminal: $(head -c 300 <<<"$tty_out" | cat -v)"; fi
else
    pass "no script(1): progress bar not checked"
fi

t "org test --jobs 1 is sequential"
start=$(now_ms)
run_isf org test o1 o2 o3 --jobs 1
elapsed=$(($(now_ms) - start))
assert_exit 0
if ((elapsed >= 4400)); then pass "took ${elapsed} ms with one job"; else
    fail "took ${elapsed} ms with --jobs 1: expected 3 × 1.5 s"; fi

t "org test NAME...: the named ones, concurrently"
start=$(now_ms)
run_isf --json org test o2 o4 o6
elapsed=$(($(now_ms) - start))
assert_exit 0
assert_json '[.[].name] == ["o2","o4","o6"]' "the named orgs, in the order named"
if ((elapsed < 4000)); then pass "took ${elapsed} ms"; else fail "took ${elapsed} ms"; fi

t "org test one NAME: the org object"
run_isf --json org test o3
assert_exit 0
assert_json 'type == "object" and .name == "o3" and .status == "connected"'

t "--jobs out of range → 2"
run_isf org test --all --jobs 0
assert_exit 2
run_isf org test --all --jobs many
assert_exit 2

t "one org with a wrong secret: exit 4, the others connected"
export WRONG_SECRET="not-the-secret"
run_isf org edit o4 --client-secret-env WRONG_SECRET
assert_exit 0 "edit the secret"
# Every token revoked: each org must get a new one with its own secret.
fake_ctl /__fake/revoke-all >/dev/null
start=$(now_ms)
run_isf --json org test --all
elapsed=$(($(now_ms) - start))
assert_exit 4 "the wrong secret decides the exit code"
assert_json 'length == 6' "every org reported"
assert_json '[.[] | select(.name != "o4") | .status] | all(. == "connected")' \
    "the five others connected again"
assert_json '.[] | select(.name == "o4") | .status == "expired" or .status == "failing"' \
    "o4 is not connected"
if ((elapsed < 8000)); then pass "took ${elapsed} ms (sequential: 15000+)"; else
    fail "took ${elapsed} ms: not concurrent"; fi
run_isf org test --all
assert_exit 4 "text output too"
assert_stderr_contains "o4"
if grep -Eq "^o4 +● (expired|failing)" <<<"$OUT"; then pass "o4 not connected in the table"; else
    fail "o4's row"; fi

finish

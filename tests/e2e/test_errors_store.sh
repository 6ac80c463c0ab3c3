#!/usr/bin/env bash
# Store and key errors (exit 7) — tampered ciphertext, damaged record files, wrong or unsafe
# master key, a record lock held by another process — each naming what is wrong, never losing
# data, and never stopping the other orgs of the same store from working.
source "$(dirname "$0")/lib.sh"

start_fake_org
write_config "http: {ca_file: $CA}" "store: {lock_timeout_ms: 300}"
add_org acme
add_org beta
connect_org acme
connect_org beta
learn_token acme
TOK_A=$TOKEN
learn_token beta
TOK_B=$TOKEN
cp "$(rec_file acme)" "$WORK/acme.rec.orig"
cp "$ISYNCSF_HOME/master.key" "$WORK/master.key.orig"

# flip_b64 JQ-PATH: a jq filter that changes one base64 character in the middle of a string.
flip_b64() {
    printf '%s |= (.[0:24] + (if .[24:25] == "A" then "B" else "A" end) + .[25:])' "$1"
}

# beta_still_works: the other org of the same store is not affected.
beta_still_works() {
    run_isf org token beta
    assert_exit 0 "the other org still works"
    assert_eq "$TOK_B" "$OUT" "and still has its token"
}

restore_acme() { cp "$WORK/acme.rec.orig" "$(rec_file acme)"; }

t "the record file format is what the tests expect"
head -n 1 "$(rec_file acme)" |
    grep -qE '^(ISFREC1 [1-9][0-9]* [0-9]+ [0-9a-f]{64}|ISFREC2 [1-9][0-9]* [0-9]+ [0-9a-f]{8})$' &&
    pass "ISFREC header" || fail "unexpected record header: $(head -n 1 "$(rec_file acme)")"
assert_eq e3069283 "$(printf 123456789 | crc32c_hex)" "the test's CRC-32C is right"
rec_json acme | jq -e '.sealed.access_token | type == "string"' >/dev/null &&
    pass "sealed.access_token present" || fail "no sealed.access_token in the record"
rec_rewrite acme '.'
run_isf org token acme
assert_exit 0 "a record rewritten by the helper (same JSON) still reads"
assert_eq "$TOK_A" "$OUT"

t "tampered access token ciphertext → 7 naming record and field"
rec_rewrite acme "$(flip_b64 .sealed.access_token)"
SNAP=$(snapshot)
run_isf org token acme
assert_exit 7
assert_stdout_empty "no token printed"
assert_stderr_contains "acme" "names the record"
assert_stderr_contains "access_token" "names the field"
run_isf --json org token acme
assert_error_json 7 acme
assert_json '.error.message | contains("access_token")'
assert_unchanged "$SNAP" "the damaged record is left as it is"
beta_still_works
run_isf org test beta
assert_exit 0
restore_acme
run_isf org token acme
assert_exit 0 "restored record works again"
assert_eq "$TOK_A" "$OUT" "same token as before: nothing lost"

t "tampered client secret ciphertext → 7 at connect naming the field"
rec_rewrite acme "$(flip_b64 .sealed.client_secret)"
SNAP=$(snapshot)
run_isf org connect acme
assert_exit 7
assert_stderr_contains "client_secret"
assert_stderr_contains "acme"
assert_unchanged "$SNAP"
beta_still_works
restore_acme

t "payload altered without fixing the header (checksum) → 7"
sed -i '2s/"Fake Org"/"Fake Orx"/' "$(rec_file acme)"
SNAP=$(snapshot)
run_isf org show acme
assert_exit 7
assert_stderr_contains "acme"
run_isf org token acme
assert_exit 7
assert_unchanged "$SNAP"
beta_still_works
restore_acme

t "truncated record file → 7 naming the org; others work; list lists them"
head -c 200 "$WORK/acme.rec.orig" >"$(rec_file acme)"
SNAP=$(snapshot)
SUM_A=$(sha256sum <"$(rec_file acme)")
run_isf org token acme
assert_exit 7
assert_stderr_contains "acme"
assert_stdout_empty
run_isf --json org show acme
assert_error_json 7 acme
beta_still_works
assert_unchanged "$SNAP" "nothing changed by token/show/list"
run_isf org list
assert_exit 7 "org list exits 7"
assert_stdout_contains "beta" "lists the readable org"
assert_stderr_contains "acme" "names the bad record on stderr"
run_isf --json org list
assert_exit 7
assert_json 'type == "array" and [.[].name] == ["beta"]' "JSON list of the readable orgs"
assert_stderr_contains "acme"
run_isf org test --all
assert_exit 7 "org test --all: the damaged record decides the exit code"
assert_stdout_contains "beta"
assert_eq "$SUM_A" "$(sha256sum <"$(rec_file acme)")" "the damaged file is not rewritten or deleted"
restore_acme
run_isf org list
assert_exit 0 "all fine after restoring the file"

t "record file with trailing bytes → 7"
{ cat "$WORK/acme.rec.orig"; printf 'junk'; } >"$(rec_file acme)"
run_isf org show acme
assert_exit 7
assert_stderr_contains "acme"
beta_still_works
restore_acme

t "record file that is not a record at all → 7"
printf 'hello\n' >"$(rec_file acme)"
run_isf --json org token acme
assert_error_json 7 acme
beta_still_works
restore_acme

t "wrong master key (another valid key, mode 0600) → 7 'wrong master key'"
openssl rand -base64 32 >"$ISYNCSF_HOME/master.key"
chmod 600 "$ISYNCSF_HOME/master.key"
SNAP=$(snapshot)
run_isf org token acme
assert_exit 7
assert_stderr_contains "wrong master key"
assert_stdout_empty
run_isf --json org token beta
assert_error_json 7 beta
run_isf org connect acme
assert_exit 7 "connect cannot unseal the client secret either"
run_isf org test acme
assert_exit 7 "test cannot unseal the token"
assert_unchanged "$SNAP" "nothing re-sealed under the wrong key"
cp "$WORK/master.key.orig" "$ISYNCSF_HOME/master.key"
chmod 600 "$ISYNCSF_HOME/master.key"
run_isf org token acme
assert_exit 0 "the right key works again"
assert_eq "$TOK_A" "$OUT" "nothing lost"

t "master key file mode 0644 → 7 'chmod 600'"
chmod 644 "$ISYNCSF_HOME/master.key"
run_isf org token acme
assert_exit 7
assert_stderr_contains "chmod 600"
assert_stdout_empty
run_isf --json org token acme
assert_error_json 7 acme
assert_json '.error.message | contains("chmod 600")'
chmod 600 "$ISYNCSF_HOME/master.key"

t "master key file that is not a key → 7"
printf 'not a key\n' >"$ISYNCSF_HOME/master.key"
run_isf org token acme
assert_exit 7
assert_stderr_contains "master key"
cp "$WORK/master.key.orig" "$ISYNCSF_HOME/master.key"
chmod 600 "$ISYNCSF_HOME/master.key"

t "master key as a symlink → 7"
rm "$ISYNCSF_HOME/master.key"
ln -s "$WORK/master.key.orig" "$ISYNCSF_HOME/master.key"
chmod 600 "$WORK/master.key.orig"
run_isf org token acme
assert_exit 7
assert_stderr_contains "link"
rm "$ISYNCSF_HOME/master.key"
cp "$WORK/master.key.orig" "$ISYNCSF_HOME/master.key"
chmod 600 "$ISYNCSF_HOME/master.key"

t "master key file gone while records exist → 7, and no new key silently replaces it"
rm "$ISYNCSF_HOME/master.key"
run_isf org token acme
assert_exit 7
assert_stderr_contains "key"
if [[ -e $ISYNCSF_HOME/master.key ]]; then
    fail "a new master key was created although the store holds records sealed with another"
    rm -f "$ISYNCSF_HOME/master.key"
else
    pass "no new master key created"
fi
cp "$WORK/master.key.orig" "$ISYNCSF_HOME/master.key"
chmod 600 "$ISYNCSF_HOME/master.key"
run_isf org token acme
assert_exit 0 "the original key still opens everything"
assert_eq "$TOK_A" "$OUT"

t "store folder open to others → 7 'chmod 700'"
chmod 755 "$ISYNCSF_HOME/orgs"
run_isf org token acme
assert_exit 7
assert_stderr_contains "chmod 700"
chmod 700 "$ISYNCSF_HOME/orgs"

t "record lock held by another process → 7 within the lock timeout"
SNAP=$(snapshot)
hold_lock "$ISYNCSF_HOME/orgs/.locks/acme.lock"
start=$(date +%s%N)
run_isf org connect acme
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_exit 7
assert_stderr_contains "lock"
assert_stderr_contains "acme"
if ((elapsed_ms < 5000)); then pass "gave up after ${elapsed_ms} ms"; else
    fail "waited ${elapsed_ms} ms for a 300 ms lock timeout"; fi
run_isf --json org disconnect acme
assert_error_json 7 acme
assert_unchanged "$SNAP"
run_isf org connect beta
assert_exit 0 "another org's lock is independent"
release_locks
run_isf org connect acme
assert_exit 0 "works once the lock is released"

finish

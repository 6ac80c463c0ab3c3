#!/usr/bin/env bash
# The refresh benchmark (issue 5): N client-credentials orgs in a store, all pointing at one
# fake org, and in the same run, at the same concurrency:
#   (a) ceiling: the fake org's token endpoint driven by wrk (keep-alive, no storing);
#   (b) isyncsf refresh --all --force: refreshes per second, sealing and storing included;
#   (c) peer: the same N token requests made with jsforce (bench/peer, npm ci first).
# Prints the absolute figures and the ratios isyncsf/ceiling (target >= 0.70) and
# isyncsf/jsforce (target >= 2).
#
# usage: bench/refresh.sh [BUILD_DIR=build] [N=10000] [CONCURRENCY=32] [WRK_SECONDS=10]
#   BENCH_FSYNC=false   store without fsync (default: the store's default, fsync on)
#   BENCH_TMP=/dev/shm   put the store (and everything else) on another filesystem (default /tmp)
#   PERF=1              record `perf record -g` of the isyncsf run into $BENCH_KEEP/perf.data
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
n=${2:-10000}
conc=${3:-32}
wrk_s=${4:-10}
bin=$build/bin
for tool in wrk node jq openssl; do
    command -v "$tool" >/dev/null || { echo "refresh.sh: $tool is required" >&2; exit 1; }
done
[[ -d $src/bench/peer/node_modules/jsforce ]] ||
    { echo "refresh.sh: run 'npm ci' in $src/bench/peer first" >&2; exit 1; }

tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/isyncsf-bench-refresh.XXXXXX")
pid=
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [[ -n ${BENCH_KEEP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT

export BENCH_CLIENT_ID=3MVG9bench.refresh
BENCH_SECRET=bench-$(openssl rand -hex 16)
export BENCH_SECRET
bash "$src/tests/fake-org/make-test-pki.sh" "$tmp/pki" >/dev/null
"$bin/fake-org" --cert "$tmp/pki/server.pem" --key "$tmp/pki/server.key" --port 0 \
    --port-file "$tmp/port" --client "$BENCH_CLIENT_ID:$BENCH_SECRET" 2>"$tmp/fake.log" &
pid=$!
for _ in $(seq 200); do [[ -s $tmp/port ]] && break; sleep 0.05; done
url=https://127.0.0.1:$(cat "$tmp/port")

export ISYNCSF_HOME=$tmp/home
unset ISYNCSF_CONFIG
mkdir -p "$ISYNCSF_HOME"
# config FSYNC: the benchmark's config (the setup writes without fsync: it is not measured).
config() {
    cat >"$ISYNCSF_HOME/config.yaml" <<YAML
http: {ca_file: $tmp/pki/ca.pem}
refresh: {concurrency: $conc}
plugins:
  load:
    - name: auth-client-credentials
    - name: store-file
      options: {dir: $ISYNCSF_HOME/orgs, fsync: $1}
YAML
}
config false
echo "setup: $n orgs, concurrency $conc, store fsync ${BENCH_FSYNC:-true}, $(nproc) cores"
ISF_BENCH_SECRET=$BENCH_SECRET "$bin/isyncsf-bench-refresh-setup" "$n" "$url" "$BENCH_CLIENT_ID"
config "${BENCH_FSYNC:-true}"
sync

# (a) ceiling
threads=$((conc < 2 ? 1 : 2))
wrk -t"$threads" -c"$conc" -d"${wrk_s}s" -s "$src/bench/refresh_token.lua" \
    "$url/services/oauth2/token" >"$tmp/wrk.txt"
ceiling=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/wrk.txt")
[[ -z $non2xx ]] || { echo "wrk got non-2xx answers: $non2xx" >&2; cat "$tmp/wrk.txt" >&2; exit 1; }

# (b) isyncsf (after the requests wrk left in the server's queue are answered)
sleep 1
# CPU ticks (utime + stime) of the fake org, to see how much of the machine it takes meanwhile.
fake_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
fake0=$(fake_ticks)
grants0=$(curl -sS --cacert "$tmp/pki/ca.pem" "$url/__fake/counters" | jq .token_grants)
perf_cmd=()
[[ ${PERF:-0} == 1 ]] && perf_cmd=(perf record --call-graph dwarf,16384 -F 2000 -o "$tmp/perf.data" --)
t0=$(date +%s.%N)
/usr/bin/time -f '%U %S' -o "$tmp/isf.cpu" "${perf_cmd[@]}" "$bin/isyncsf" -v refresh --all --force --jobs "$conc" >"$tmp/isf.txt" 2>"$tmp/isf.err"
t1=$(date +%s.%N)
fake1=$(fake_ticks)
grants1=$(curl -sS --cacert "$tmp/pki/ca.pem" "$url/__fake/counters" | jq .token_grants)
grep -q "^refreshed $n, not due 0, by another process 0, skipped 0, failed 0$" "$tmp/isf.txt" ||
    { echo "isyncsf did not refresh every org:" >&2; cat "$tmp/isf.txt" "$tmp/isf.err" >&2; exit 1; }
((grants1 - grants0 == n)) || { echo "expected $n grants, the org saw $((grants1 - grants0))" >&2; exit 1; }
isf_s=$(echo "$t1 - $t0" | bc -l)
isf_rate=$(echo "$n / $isf_s" | bc -l)

# (c) jsforce
peer=$(NODE_EXTRA_CA_CERTS=$tmp/pki/ca.pem node "$src/bench/peer/refresh_peer.js" "$url" \
    "$BENCH_CLIENT_ID" "$n" "$conc")
peer_rate=$(jq -r .per_second <<<"$peer")
peer_fail=$(jq -r .failures <<<"$peer")
((peer_fail == 0)) || { echo "jsforce had $peer_fail failures" >&2; exit 1; }

grep -o 'refresh: [0-9]* transfers on [0-9]* connections' "$tmp/isf.err" || true
printf '(a) ceiling, wrk -c%s on the token endpoint : %8.0f req/s\n' "$conc" "$ceiling"
printf '(b) isyncsf refresh --all --force --jobs %s : %8.0f refreshes/s (%d orgs in %.2f s, sealed and stored)\n' \
    "$conc" "$isf_rate" "$n" "$isf_s"
printf '    isyncsf CPU: %.2f s user + %.2f s sys; the fake org meanwhile: %.2f s CPU\n' \
    $(cat "$tmp/isf.cpu") "$(echo "($fake1 - $fake0) / $(getconf CLK_TCK)" | bc -l)"
printf '(c) jsforce, %s in flight                    : %8.0f req/s (%s)\n' "$conc" "$peer_rate" \
    "$(jq -r '"\(.requests) in \(.seconds * 100 | round / 100) s"' <<<"$peer")"
printf 'ratio isyncsf/ceiling = %.2f (target >= 0.70)\n' "$(echo "$isf_rate / $ceiling" | bc -l)"
printf 'ratio isyncsf/jsforce = %.2f (target >= 2)\n' "$(echo "$isf_rate / $peer_rate" | bc -l)"
[[ ${PERF:-0} == 1 ]] && echo "perf data: $tmp/perf.data (BENCH_KEEP=1 keeps it)"
exit 0

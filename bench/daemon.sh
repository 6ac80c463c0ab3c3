#!/usr/bin/env bash
# Daemon benchmark (issue 5): `isyncsf daemon` managing N client-credentials orgs (default
# 10,000) that all point at one fake org. Prints:
#   - the first pass: every org due at start, refreshed by the daemon (time, refreshes/s);
#   - peak RSS of the daemon process (VmHWM from /proc/PID/status) after that pass, i.e.
#     including the engine's work (target <= 50 MiB);
#   - CPU time used (utime+stime from /proc/PID/stat) and wake-ups (context switches) over
#     IDLE_S seconds of idle between refreshes (target ~0);
#   - with FAULT_S > 0, a fault phase: the config is switched (SIGHUP) to sessions due 15 s after
#     issue, so every org is refreshed every ~15 s, while the fake org's token endpoint keeps
#     answering some requests with 503, dropped connections and 3 s stalls; afterwards every
#     record must read back (no lost or corrupt one), and none may be `expired` (every fault
#     was a passing one);
#   - how long SIGTERM takes to stop it, and its exit code.
# usage: bench/daemon.sh [BUILD_BIN_DIR] [ORGS] [IDLE_S] [FAULT_S]   (default build/bin 10000 20 0)
# Stores with fsync: false (see bench.c: this measures the daemon, not the disk); FSYNC=true
# measures with the default, every write flushed.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$src/build/bin}" && pwd)
orgs=${2:-10000}
idle_s=${3:-20}
fault_s=${4:-0}
for b in isyncsf fake-org isyncsf-bench-refresh-setup; do
    [[ -x $bin/$b ]] || { echo "bench/daemon.sh: $bin/$b is not built" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/isyncsf-bench-daemon.XXXXXX")
chmod 700 "$work"
fake_pid="" daemon_pid=""
cleanup() {
    [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null
    [[ -n $fake_pid ]] && kill "$fake_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

export ISYNCSF_HOME="$work/home" HOME="$work"
unset ISYNCSF_CONFIG ISYNCSF_PLUGIN_PATH
mkdir -p "$ISYNCSF_HOME"
bash "$src/tests/fake-org/make-test-pki.sh" "$work/pki" >/dev/null
secret="bench-$(openssl rand -hex 12)"
"$bin/fake-org" --cert "$work/pki/server.pem" --key "$work/pki/server.key" --port 0 \
    --port-file "$work/port" --client "cid:$secret" >"$work/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 200); do [[ -s $work/port ]] && break; sleep 0.025; done
url="https://127.0.0.1:$(cat "$work/port")"
cat >"$ISYNCSF_HOME/config.yaml" <<YAML
http: {ca_file: $work/pki/ca.pem}
plugins:
  load:
    - name: auth-client-credentials
    - name: store-file
      options: {dir: $ISYNCSF_HOME/orgs, fsync: ${FSYNC:-false}}
YAML

t0=$(date +%s%N)
ISF_BENCH_SECRET=$secret "$bin/isyncsf-bench-refresh-setup" "$orgs" "$url" cid
echo "seeded $orgs orgs in $((($(date +%s%N) - t0) / 1000000)) ms"

stat_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

"$bin/isyncsf" daemon </dev/null 2>"$work/daemon.log" &
daemon_pid=$!
t0=$(date +%s%N)
deadline=$((SECONDS + 600))
until grep -q 'event=pass' "$work/daemon.log"; do
    ((SECONDS < deadline)) || { echo "no pass within 600 s" >&2; tail -5 "$work/daemon.log" >&2; exit 1; }
    kill -0 "$daemon_pid" || { echo "the daemon died" >&2; tail -5 "$work/daemon.log" >&2; exit 1; }
    sleep 0.05
done
pass_ms=$((($(date +%s%N) - t0) / 1000000))
pass_line=$(grep -m1 'event=pass' "$work/daemon.log")
done_n=$(sed -E 's/.* done=([0-9]+).*/\1/' <<<"$pass_line")
echo "first pass: $pass_line"
echo "first pass: $done_n of $orgs orgs refreshed, ${pass_ms} ms from start (incl. reading the store), $((done_n * 1000 / (pass_ms > 0 ? pass_ms : 1))) refreshes/s"

# Let the writes' own change events be read back, then measure idle.
sleep 2
hwm_kb=$(status_field "$daemon_pid" VmHWM)
rss_kb=$(status_field "$daemon_pid" VmRSS)
hz=$(getconf CLK_TCK)
c0=$(stat_cpu_ticks "$daemon_pid")
echo "first pass: the daemon used $((c0 * 1000 / hz)) ms CPU for it (reading $orgs records, $done_n token requests over TLS, sealing and writing, reading back the change events)"
v0=$(status_field "$daemon_pid" voluntary_ctxt_switches)
n0=$(status_field "$daemon_pid" nonvoluntary_ctxt_switches)
sleep "$idle_s"
c1=$(stat_cpu_ticks "$daemon_pid")
v1=$(status_field "$daemon_pid" voluntary_ctxt_switches)
n1=$(status_field "$daemon_pid" nonvoluntary_ctxt_switches)
hwm_kb=$(status_field "$daemon_pid" VmHWM)
idle_cpu_ms=$(((c1 - c0) * 1000 / hz))
wakeups=$(((v1 - v0) + (n1 - n0)))

t0=$(date +%s%N)
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
stop_ms=$((($(date +%s%N) - t0) / 1000000))
daemon_pid=""

awk -v h="$hwm_kb" -v r="$rss_kb" -v n="$orgs" 'BEGIN {
    printf "peak RSS (VmHWM): %.1f MiB for %d orgs (target <= 50 MiB: %.0f%% of it); RSS after the pass %.1f MiB\n",
        h / 1024, n, h / 1024 / 50 * 100, r / 1024 }'
echo "idle: ${idle_cpu_ms} ms CPU over ${idle_s} s (clock tick $((1000 / hz)) ms), ${wakeups} wake-ups (context switches)"
echo "stop: SIGTERM -> exit $rc in ${stop_ms} ms"
echo "log: $(wc -l <"$work/daemon.log") lines, $(grep -c 'outcome=failed' "$work/daemon.log" || true) failures"
ctl() { # ctl PATH [JSON]: a control call to the fake org
    if [[ $# == 2 ]]; then
        curl -sS --fail-with-body --cacert "$work/pki/ca.pem" -H 'Content-Type: application/json' \
            -d "$2" "$url/__fake/$1"
    else
        curl -sS --fail-with-body --cacert "$work/pki/ca.pem" "$url/__fake/$1"
    fi
}
fault() { ctl fault "$1" >/dev/null; }
injected=0
# The org keeps a few faults armed at most: count what fired, clear, arm again.
rearm() {
    injected=$((injected + $(ctl counters | jq -r .faults_injected)))
    ctl reset '{}' >/dev/null
}

if ((fault_s > 0)); then
    # Sessions due 15 s after issue; `refresh --all --force` gives every org such a session.
    cat >>"$ISYNCSF_HOME/config.yaml" <<YAML
refresh: {session_ttl_s: 60, margin_s: 45}
YAML
    t0=$(date +%s%N)
    "$bin/isyncsf" -q refresh --all --force >/dev/null
    echo "faults: refresh --all --force (short sessions) took $((($(date +%s%N) - t0) / 1000000)) ms"
    "$bin/isyncsf" daemon </dev/null 2>"$work/daemon.log" &
    daemon_pid=$!
    end=$((SECONDS + fault_s))
    while ((SECONDS < end)); do
        rearm
        fault '{"kind":"status","status":503,"count":400,"path_prefix":"/services/oauth2/token"}'
        fault '{"kind":"close","count":100,"path_prefix":"/services/oauth2/token"}'
        fault '{"kind":"delay","delay_ms":3000,"count":50,"path_prefix":"/services/oauth2/token"}'
        sleep 5
    done
    rearm
    sleep 40 # every org in backoff gets its retry (30 s x jitter 0.8-1.2 after one failure)
    hwm_end_kb=$(status_field "$daemon_pid" VmHWM)
    kill -TERM "$daemon_pid"
    rc=0
    wait "$daemon_pid" || rc=$?
    daemon_pid=""
    passes=$(grep -c 'event=pass' "$work/daemon.log" || true)
    done_n=$(grep -c 'event=refresh outcome=done' "$work/daemon.log" || true)
    failed_n=$(grep -c 'event=refresh outcome=failed' "$work/daemon.log" || true)
    list_rc=0
    "$bin/isyncsf" --json org list >"$work/list.json" 2>"$work/list.err" || list_rc=$?
    echo "faults: ${fault_s} s of faults + 40 s, ${injected} faults injected (503, dropped connections, 3 s stalls); $passes passes, $done_n refreshes done, $failed_n failed (retried with backoff); daemon exit $rc"
    echo "faults: peak RSS (VmHWM) of this daemon: $((hwm_end_kb / 1024)) MiB"
    echo "faults: afterwards org list exits $list_rc: $(jq length "$work/list.json") records readable of $orgs, $(jq -r 'group_by(.status) | map("\(.[0].status) \(length)") | join(", ")' "$work/list.json")"
fi

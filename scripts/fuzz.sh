#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) and runs each for a bounded time.
# Fails when a target crashes, leaks, trips a sanitizer or times out on one input; the input that
# did it is kept in $FUZZ_OUT (default build-fuzz/fuzz-out/<target>/) — reproduce with
# `build-fuzz/bin/<target> <file>`.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default 60 s for every fuzz/fuzz_*.c target
# Runs one target at a time on one core (-jobs is not used: the CI machine is shared). The
# committed seed corpora (fuzz/corpus/<target>/) are read, never written: new inputs go to the
# run's own corpus folder.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
build=${FUZZ_BUILD:-build-fuzz}
out=${FUZZ_OUT:-$build/fuzz-out}

cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DISF_FUZZ=ON -DBUILD_TESTING=OFF \
    -DISF_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_all -j "${FUZZ_BUILD_JOBS:-2}" >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

failed=()
printf '%-24s %10s %12s %8s %s\n' target seconds executions corpus result
for t in "${targets[@]}"; do
    bin="$build/bin/$t"
    [ -x "$bin" ] || { echo "fuzz: no target $t (fuzz/$t.c)" >&2; exit 2; }
    work="$out/$t"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    dict=()
    case $t in
    fuzz_config) dict=(-dict=fuzz/yaml.dict) ;;
    fuzz_callback_request) ;;
    *) dict=(-dict=fuzz/json.dict) ;;
    esac
    seeds=()
    [ -d "fuzz/corpus/$t" ] && seeds=("fuzz/corpus/$t")
    rc=0
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${dict[@]}" \
        "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    ncorp=$(find "$work/corpus" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $rc; $work/log, $(ls "$work/artifacts" | head -1))"
        failed+=("$t")
    fi
    printf '%-24s %10s %12s %8s %s\n' "$t" "$secs" "${execs:-?}" "$ncorp" "$result"
done
if [ ${#failed[@]} -ne 0 ]; then
    for t in "${failed[@]}"; do
        echo "== $t: $out/$t/log" >&2
        grep -m1 -A20 -E '==ERROR|runtime error|deadly signal|Timeout|leak' "$out/$t/log" >&2 || true
    done
    exit 1
fi

#!/usr/bin/env bash
# Runs the whole test suite: installs the packages, builds with -Werror and runs every test,
# checks the SDK as installed (scripts/sdk-check.sh: out-of-tree plugin builds, installed CLI),
# runs the static checks (clang-format, cppcheck, clang-tidy), then rebuilds with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test again.
#   scripts/test.sh            both passes
#   scripts/test.sh --quick    the -Werror build and tests only
# After the ASan pass (issue 8): the e2e suite under valgrind memcheck (zero errors, zero definite
# leaks; tests/e2e/lib.sh ISF_WRAP) and the libFuzzer targets for FUZZ_SECONDS each
# (scripts/fuzz.sh, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)

# ctest, and once more for the tests that failed: a test that fails twice fails the run; one that
# passes on the rerun is named loudly (a flake to chase, not to hide) — on a shared 2-core CI
# machine the heaviest robustness tests (robust.alloc_fail) have failed once under load.
run_ctest() {
  local dir=$1
  shift
  if ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@"; then return 0; fi
  echo "== rerunning the tests that failed in $dir"
  ctest --test-dir "$dir" --output-on-failure --rerun-failed "$@" || return 1
  echo "FLAKY: the tests above failed once in $dir and passed on the rerun"
}

echo "== build (-Werror) and test"
cmake -S . -B build -G Ninja -DISF_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
run_ctest build

echo "== SDK as installed (scripts/sdk-check.sh)"
bash scripts/sdk-check.sh build

[ "${1:-}" = "--quick" ] && exit 0

echo "== static checks"
bash scripts/lint.sh build

echo "== build with ASan + UBSan and test"
cmake -S . -B build-asan -G Ninja -DISF_WERROR=ON -DISF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$jobs"
# The crash-consistency kills are counted in the first pass (1000); here a few hundred suffice.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  CRASH_ITERATIONS=${ASAN_CRASH_ITERATIONS:-200} \
  run_ctest build-asan

echo "== e2e under valgrind memcheck (zero errors, zero definite leaks)"
# Every CLI run of every e2e script goes through valgrind (lib.sh run_isf); a report fails the
# run. Outside CTest, since the scripts run ~20x slower than their CTest timeouts allow.
mkdir -p build/valgrind
export ISF_WRAP="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no -q"
vg_failed=0
for script in tests/e2e/test_*.sh; do
  echo "$script"
done | xargs -P "$jobs" -I{} bash -c 'log=build/valgrind/$(basename {} .sh).log
  if ISF_BIN=build/bin/isyncsf ISF_FAKE_ORG=build/bin/fake-org bash {} >"$log" 2>&1; then
    echo "ok   {} ($(tail -1 "$log"))"
  else
    echo "FAIL {} ($(tail -1 "$log")):"; grep -A6 "^FAIL" "$log" | head -40; exit 1
  fi' || vg_failed=1
unset ISF_WRAP
[ $vg_failed -eq 0 ] || { echo "valgrind stage failed (logs in build/valgrind/)"; exit 1; }

echo "== fuzzing (scripts/fuzz.sh, ${FUZZ_SECONDS:-60} s per target)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"

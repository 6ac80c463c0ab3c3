#!/usr/bin/env bash
# Runs the whole test suite: installs the packages, builds with -Werror and runs every test,
# checks the SDK as installed (scripts/sdk-check.sh: out-of-tree plugin builds, installed CLI),
# runs the static checks (clang-format, cppcheck, clang-tidy), then rebuilds with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test again.
#   scripts/test.sh            both passes
#   scripts/test.sh --quick    the -Werror build and tests only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)

echo "== build (-Werror) and test"
cmake -S . -B build -G Ninja -DISF_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== SDK as installed (scripts/sdk-check.sh)"
bash scripts/sdk-check.sh build

[ "${1:-}" = "--quick" ] && exit 0

echo "== static checks"
bash scripts/lint.sh build

echo "== build with ASan + UBSan and test"
cmake -S . -B build-asan -G Ninja -DISF_WERROR=ON -DISF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

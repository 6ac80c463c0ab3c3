#!/usr/bin/env bash
# Static checks: clang-format (no diff), cppcheck and clang-tidy (.clang-tidy) with no findings.
# Needs a configured build folder for clang-tidy's compile_commands.json (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
mapfile -t sources < <(git ls-files '*.c' '*.h')
mapfile -t product < <(git ls-files 'core/*.c' 'cli/*.c' 'plugins/*.c')

echo "== clang-format"
clang-format --dry-run --Werror "${sources[@]}"

echo "== cppcheck"
cppcheck -q --enable=warning,performance,portability --std=c11 --inline-suppr \
  --error-exitcode=1 -D__GNUC__ -DISF_VERSION='"0"' -Icore/include -Icore/src \
  core cli plugins tests/fake-org bench

echo "== clang-tidy"
printf '%s\n' "${product[@]}" | xargs -P "$(nproc)" -n 4 \
  clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option 2>/dev/null
echo "lint: clean"

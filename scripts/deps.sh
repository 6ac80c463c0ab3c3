#!/usr/bin/env bash
# Installs the Debian packages isyncsf needs to build, test and run its demo, and the browser
# test's npm packages (tests/browser: playwright-core, which drives Debian's chromium; no browser
# is downloaded). Idempotent: does nothing when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(build-essential cmake ninja-build pkg-config
      libcurl4-openssl-dev libssl-dev libyaml-dev libjansson-dev libmicrohttpd-dev libcmocka-dev
      openssl curl jq clang-format clang-tidy cppcheck
      zsh man-db groff-base tmux procps
      chromium fonts-liberation  # the real-browser test (tests/browser)
      wrk bc                     # the refresh benchmark (bench/refresh.sh)
      clang libclang-rt-14-dev valgrind nghttp2-proxy)  # fuzzing, memcheck, the HTTP/2 test
# Node.js (18 or later; Debian 12 has 18) only when the machine has no node of its own, e.g. a
# Node 20 from elsewhere, which the browser test uses as it is (the benchmark's jsforce peer
# needs Node >= 20.18).
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The browser test's packages, exactly as locked, into tests/browser/node_modules (git-ignored).
want=$(node -p 'require("./tests/browser/package.json").dependencies["playwright-core"]')
have=$(node -p 'try { require("./tests/browser/node_modules/playwright-core/package.json").version }
                catch (e) { "" }')
if [ "$want" != "$have" ]; then
  echo "installing tests/browser's npm packages (playwright-core $want)" >&2
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

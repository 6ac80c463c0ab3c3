#!/usr/bin/env bash
# Installs the Debian packages isyncsf needs to build, test and run its demo.
# Idempotent: does nothing when every package is already there.
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config
      libcurl4-openssl-dev libssl-dev libyaml-dev libjansson-dev libmicrohttpd-dev libcmocka-dev
      openssl curl jq clang-format clang-tidy cppcheck
      zsh man-db groff-base tmux procps
      clang libclang-rt-14-dev valgrind nghttp2-proxy)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null

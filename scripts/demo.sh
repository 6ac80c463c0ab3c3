#!/usr/bin/env bash
# The main job end to end, against the bundled fake Salesforce org (a newcomer has no External
# Client App at hand): installs the packages, builds, then
#   org add → org connect → org show → org list → org token → refresh → org test → org disconnect
# with the default mode (client credentials) and the default store, key and plugins. The only
# setting is http.ca_file, so isyncsf trusts the fake org's test CA — real orgs need none.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

work=$(mktemp -d /tmp/isyncsf-demo.XXXXXX)
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

bash tests/fake-org/make-test-pki.sh "$work/pki" >/dev/null
build/bin/fake-org --cert "$work/pki/server.pem" --key "$work/pki/server.key" --port 0 \
  --port-file "$work/port" --client "3MVG9demo.client:demo-secret" --org-name "Acme Demo" \
  --package installed --package-version 1.4.0.2 &
fake_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")

export ISYNCSF_HOME="$work/home"
mkdir -p "$ISYNCSF_HOME"
printf 'http: {ca_file: %s}\n' "$work/pki/ca.pem" > "$ISYNCSF_HOME/config.yaml"
isf() { echo "\$ isyncsf $*" >&2; build/bin/isyncsf "$@"; }

echo "fake org listening on https://127.0.0.1:$port" >&2
printf 'demo-secret' | isf org add acme --login-url "https://127.0.0.1:$port" \
  --client-id 3MVG9demo.client --client-secret-stdin --description "demo target org"
isf org connect acme
isf org show acme
isf org list
echo "\$ isyncsf org token acme --json" >&2
build/bin/isyncsf org token acme --json | jq '.access_token |= (.[0:6] + "…(redacted by the demo)")'
isf refresh acme --force
isf org test acme
isf org disconnect acme
echo "demo finished: every step above ran against the fake org on loopback" >&2

#!/usr/bin/env bash
# browse.sh URL: the $BROWSER of the browser test. Like a desktop browser it returns at once and
# the page goes on in the background: login.mjs (headless Chromium) logs in, clicks Allow or Deny
# and writes what it saw to $ISF_BROWSER_OUT/result.json. Its pid goes to
# $ISF_BROWSER_OUT/browser.pid so the test can end it; its output to browser.log.
set -euo pipefail
out=${ISF_BROWSER_OUT:?browse.sh: set ISF_BROWSER_OUT to a folder for the result}
here=$(cd "$(dirname "$0")" && pwd)
[[ $# == 1 ]] || { echo "usage: browse.sh URL" >&2; exit 2; }
node "$here/login.mjs" "$1" </dev/null >>"$out/browser.log" 2>&1 &
echo $! >"$out/browser.pid"

#!/usr/bin/env bash
# fake-browser.sh URL — stands in for a browser as $BROWSER in the web server mode tests: it
# follows the authorization URL at the fake org (which approves at once with a 302 to the
# redirect URI, or denies with its `deny` knob), then GETs that redirect on isyncsf's loopback
# listener, as a browser would. Runs in the background of `isyncsf org connect`; exits 0.
#
# Knobs (environment):
#   FB_CA        CA file of the fake org (required)
#   FB_LOG       file to append what happened to: "location <url>", "status <code>", the page
#   FB_SED       sed expression applied to the redirect URL before it is opened (wrong state...)
#   FB_BEFORE    extra loopback paths to GET first (space-separated, e.g. "/wrong /favicon.ico")
#   FB_STALL     non-empty: first open a connection to the loopback that never finishes its request
#   FB_AFTER     seconds: GET the redirect URL a second time that long after the first was sent,
#                while isyncsf still works on the first (a replay)
#   FB_EXIT      exit with this status at once, without doing anything (a browser that fails)
#   FB_SLEEP     seconds to wait before doing anything
#   FB_DELAY     seconds to wait between the login page and the redirect (an expiring code)
set -u
url=$1
log=${FB_LOG:-/dev/null}
[[ -n ${FB_EXIT:-} ]] && exit "$FB_EXIT"
[[ -n ${FB_SLEEP:-} ]] && sleep "$FB_SLEEP"
location=$(curl -sS --cacert "$FB_CA" -o /dev/null -w '%{redirect_url}' "$url") || {
    echo "authorize-failed" >>"$log"
    exit 0
}
if [[ -n ${FB_SED:-} ]]; then
    location=$(printf '%s' "$location" | sed -e "$FB_SED")
fi
echo "location $location" >>"$log"
origin=$(printf '%s' "$location" | sed -E 's#^(http://[^/]+).*#\1#')
if [[ -n ${FB_STALL:-} ]]; then
    # A client that sends half a request line and then nothing: the listener must not wait on it.
    host=${origin#http://}
    exec 7<>"/dev/tcp/${host%:*}/${host##*:}" && printf 'GET /OauthRe' >&7
fi
for p in ${FB_BEFORE:-}; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$origin$p")
    echo "before $p $code" >>"$log"
done
[[ -n ${FB_DELAY:-} ]] && sleep "$FB_DELAY"
get() {
    local page
    page=$(curl -s -w '\nstatus %{http_code}' "$location")
    printf '%s\n' "$page" >>"$log"
}
if [[ -n ${FB_AFTER:-} ]]; then
    get &
    sleep "$FB_AFTER"
    get
    wait
else
    get
fi
exit 0

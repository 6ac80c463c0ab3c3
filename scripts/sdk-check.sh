#!/usr/bin/env bash
# The SDK as installed, used the way a third party would (issue #7):
#   1. cmake --install the build into a temporary prefix;
#   2. build examples/store-memory out of tree against that prefix with CMake
#      (find_package(isyncsf) + isyncsf_add_plugin) and install it into the prefix's plugin folder;
#   3. build it once more with plain pkg-config flags (isyncsf-plugin.pc), and check pluginsdir;
#   4. with the INSTALLED CLI and a config loading it, `isyncsf plugins --json` shows it loaded,
#      kind store;
#   5. a small program built against isyncsf::isyncsf (the library API) adds, edits, lists and
#      removes an org in store-memory, in one process;
#   6. when examples/auth-jwt-bearer/CMakeLists.txt exists, build and install it the same way
#      and run its examples/auth-jwt-bearer/e2e.sh PREFIX FAKE_ORG_BINARY when it has one.
#   scripts/sdk-check.sh [BUILD]     BUILD: a configured and built tree (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${1:-build}" && pwd)
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

tmp=$(mktemp -d /tmp/isyncsf-sdk-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
results=()
pass() { results+=("ok    $1"); echo "sdk-check: ok: $1"; }
die() {
    results+=("FAIL  $1")
    echo "sdk-check: FAIL: $1" >&2
    printf '%s\n' "== sdk-check summary" "${results[@]}"
    exit 1
}
# step NAME LOGFILE CMD...: runs CMD with its output in LOGFILE; on failure shows it and stops.
step() {
    local name=$1 log=$2
    shift 2
    if "$@" >"$log" 2>&1; then
        pass "$name"
    else
        cat "$log" >&2
        die "$name (log above)"
    fi
}

prefix=$tmp/prefix
step "install isyncsf into $prefix" "$tmp/install.log" cmake --install "$build" --prefix "$prefix"
for f in include/isyncsf/plugin.h include/isyncsf/isyncsf.h bin/isyncsf; do
    [[ -e $prefix/$f ]] || die "installed $f is missing"
done
pcdir=$(dirname "$(find "$prefix" -name isyncsf-plugin.pc -print -quit)")
cfgdir=$(dirname "$(find "$prefix" -name isyncsfConfig.cmake -print -quit)")
[[ -f $pcdir/isyncsf-plugin.pc && -f $pcdir/isyncsf.pc ]] || die "pkg-config files not installed"
[[ -f $cfgdir/isyncsfConfigVersion.cmake ]] || die "CMake package not installed"
pass "installed headers, CLI, CMake package ($cfgdir) and pkg-config files ($pcdir)"

# --- store-memory with CMake, only against the installed prefix -----------------------------
step "store-memory: configure with find_package(isyncsf)" "$tmp/mem-configure.log" \
    cmake -S examples/store-memory -B "$tmp/b-mem" "${gen[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="-Werror"
step "store-memory: build" "$tmp/mem-build.log" cmake --build "$tmp/b-mem"
step "store-memory: install into the prefix" "$tmp/mem-install.log" \
    cmake --install "$tmp/b-mem" --prefix "$prefix"

pc() { PKG_CONFIG_PATH=$pcdir pkg-config "$@"; }
pluginsdir=$(cd "$(pc --variable=pluginsdir isyncsf-plugin)" 2>/dev/null && pwd) ||
    die "pkg-config --variable=pluginsdir isyncsf-plugin: no such folder"
[[ -f $pluginsdir/store-memory.so ]] || die "store-memory.so is not in pluginsdir ($pluginsdir)"
[[ -f $pluginsdir/store-file.so ]] || die "pluginsdir ($pluginsdir) is not where isyncsf's own plugins are"
pass "store-memory.so installed into pluginsdir $pluginsdir"
exports=$(nm -D --defined-only "$pluginsdir/store-memory.so" | awk '{print $3}' | sort | tr '\n' ' ')
[[ $exports == "isyncsf_plugin_abi isyncsf_plugin_init " ]] ||
    die "store-memory.so exports more than the two plugin symbols: $exports"
pass "store-memory.so exports exactly isyncsf_plugin_abi and isyncsf_plugin_init"

# --- store-memory with plain pkg-config flags --------------------------------------------------
cflags=$(pc --cflags isyncsf-plugin) || die "pkg-config --cflags isyncsf-plugin failed"
# shellcheck disable=SC2086 # the flags are words
step "store-memory: build with pkg-config flags ($cflags)" "$tmp/mem-pc.log" \
    cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags -Wl,-z,defs \
    -o "$tmp/store-memory.so" examples/store-memory/store_memory.c
[[ $(pc --variable=abi_major isyncsf-plugin) == 1 ]] || die "isyncsf-plugin.pc: abi_major is not 1"

# --- the installed CLI loads it --------------------------------------------------------------
home=$tmp/home
mkdir -p "$home"
cat >"$tmp/config.yaml" <<'YAML'
plugins:
  load:
    - name: auth-client-credentials
    - name: store-memory
      options: {max_records: 10}
YAML
cli() { env -u ISYNCSF_PLUGIN_PATH HOME="$home" ISYNCSF_HOME="$home" ISYNCSF_CONFIG="$tmp/config.yaml" \
    "$prefix/bin/isyncsf" "$@"; }
out=$(cli plugins --json 2>"$tmp/cli.err") || { cat "$tmp/cli.err" >&2; die "installed isyncsf plugins --json failed"; }
printf '%s' "$out" | jq -e --arg p "$pluginsdir/store-memory.so" \
    '[.[] | select(.name == "store-memory" and .kind == "store" and .status == "loaded")]
     | length == 1 and (.[0].path == $p)' >/dev/null ||
    die "installed isyncsf plugins --json does not show store-memory loaded as a store: $out"
pass "installed CLI: isyncsf plugins --json shows store-memory loaded, kind store"
out=$(cli org list 2>&1) || die "installed isyncsf org list with store-memory failed: $out"
pass "installed CLI: org list with store-memory"

# --- a program using the library API through isyncsf::isyncsf ---------------------------------
mkdir -p "$tmp/app"
cat >"$tmp/app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.22)
project(isyncsf-sdk-app LANGUAGES C)
find_package(isyncsf REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE isyncsf::isyncsf)
CMAKE
cat >"$tmp/app/app.c" <<'C'
/* One process: add, edit, list, remove an org in store-memory through libisyncsf. */
#include <isyncsf/isyncsf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int check(int rc, const struct isf_error *err, const char *what)
{
    if (rc != ISF_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, err->message, isf_status_name(rc));
        exit(1);
    }
    return rc;
}
int main(void)
{
    struct isf_error err = {sizeof(err), 0, ""};
    struct isf_open_options o = {sizeof(o), NULL, ISF_LOG_WARN, NULL, NULL};
    isf_ctx *ctx = NULL;
    check(isf_open(&o, &ctx, &err), &err, "isf_open");
    struct isf_org_settings s = {.struct_size = sizeof(s), .login_url = "https://acme.example.com",
                                 .client_id = "id", .client_secret = "not-a-real-secret"};
    check(isf_org_add(ctx, "acme", &s, &err), &err, "isf_org_add");
    if (isf_org_add(ctx, "acme", &s, &err) == ISF_OK) {
        fprintf(stderr, "second add of acme succeeded\n");
        return 1;
    }
    struct isf_org_settings d = {.struct_size = sizeof(d), .description = "edited"};
    check(isf_org_edit(ctx, "acme", &d, &err), &err, "isf_org_edit");
    char *json = NULL, *bad = NULL;
    check(isf_org_list_json(ctx, NULL, &json, &bad, &err), &err, "isf_org_list_json");
    int ok = strstr(json, "\"acme\"") && strstr(json, "edited") && !strstr(json, "not-a-real");
    free(json);
    free(bad);
    check(isf_org_remove(ctx, "acme", 1, &err), &err, "isf_org_remove");
    isf_close(ctx);
    if (!ok) {
        fprintf(stderr, "list did not show the edited org\n");
        return 1;
    }
    puts("app: ok");
    return 0;
}
C
step "library API program: configure with isyncsf::isyncsf" "$tmp/app-configure.log" \
    cmake -S "$tmp/app" -B "$tmp/b-app" "${gen[@]}" -DCMAKE_PREFIX_PATH="$prefix"
step "library API program: build" "$tmp/app-build.log" cmake --build "$tmp/b-app"
step "library API program: org add/edit/list/remove in store-memory" "$tmp/app-run.log" \
    env -u ISYNCSF_PLUGIN_PATH HOME="$home" ISYNCSF_HOME="$home" ISYNCSF_CONFIG="$tmp/config.yaml" \
    "$tmp/b-app/app"

# --- the JWT Bearer example, when present -----------------------------------------------------
jwt=examples/auth-jwt-bearer
if [[ -f $jwt/CMakeLists.txt ]]; then
    step "auth-jwt-bearer: configure with find_package(isyncsf)" "$tmp/jwt-configure.log" \
        cmake -S "$jwt" -B "$tmp/b-jwt" "${gen[@]}" -DCMAKE_PREFIX_PATH="$prefix"
    step "auth-jwt-bearer: build" "$tmp/jwt-build.log" cmake --build "$tmp/b-jwt"
    step "auth-jwt-bearer: install into the prefix" "$tmp/jwt-install.log" \
        cmake --install "$tmp/b-jwt" --prefix "$prefix"
    [[ -f $pluginsdir/auth-jwt-bearer.so ]] || die "auth-jwt-bearer.so is not in pluginsdir"
    if [[ -f $jwt/e2e.sh ]]; then
        fake=$build/bin/fake-org
        [[ -x $fake ]] || die "fake-org binary not built ($fake)"
        step "auth-jwt-bearer: $jwt/e2e.sh" "$tmp/jwt-e2e.log" bash "$jwt/e2e.sh" "$prefix" "$fake"
    else
        results+=("skip  auth-jwt-bearer end-to-end ($jwt/e2e.sh not present)")
    fi
else
    results+=("skip  auth-jwt-bearer ($jwt/CMakeLists.txt not present)")
fi

printf '%s\n' "== sdk-check summary" "${results[@]}"
echo "sdk-check: all passed"

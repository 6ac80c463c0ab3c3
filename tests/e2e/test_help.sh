#!/usr/bin/env bash
# isyncsf help [COMMAND] and COMMAND --help (the same text, with a synopsis, flags and an
# example), unknown commands → 2; the man page renders without warnings; the bash and zsh
# completion scripts parse, and completing `isyncsf org ` offers subcommands and org names;
# cmake --install puts the completion scripts and the man page in place.
source "$(dirname "$0")/lib.sh"

COMMANDS=("" help org "org add" "org edit" "org connect" "org test" "org show" "org list"
    "org select" "org token" "org disconnect" "org remove" "org names" plugins key "key rotate")

t "help COMMAND and COMMAND --help print the same text"
for c in "${COMMANDS[@]}"; do
    # shellcheck disable=SC2086 # the command words are split on purpose
    run_isf help $c
    [[ $RC == 0 ]] || fail "help $c: exit $RC"
    help_out=$OUT
    if grep -q '^usage: isyncsf' <<<"$help_out" && grep -q '^example' <<<"$help_out"; then
        pass "help ${c:-(top)}: synopsis and example"
    else
        fail "help ${c:-(top)}: no synopsis or no example"
    fi
    # shellcheck disable=SC2086
    run_isf $c --help
    assert_exit 0 "${c:-(top)} --help"
    assert_eq "$help_out" "$OUT" "${c:-(top)} --help = help ${c:-(top)}"
    # shellcheck disable=SC2086
    run_isf $c -h
    assert_eq "$help_out" "$OUT" "${c:-(top)} -h = help ${c:-(top)}"
done

t "commands with flags list them"
for c in "org add" "org edit" "org connect" "org test" "org list" "org select" \
    "org disconnect" "org remove" plugins key; do
    # shellcheck disable=SC2086
    run_isf help $c
    if grep -q '^flags:' <<<"$OUT"; then pass "help $c: flags"; else fail "help $c: no flags"; fi
done
run_isf help org add
assert_stdout_contains "--client-secret-stdin"
run_isf help org test
assert_stdout_contains "--all"
assert_stdout_contains "--jobs"

t "--help after arguments and global flags"
run_isf org add acme --login-url https://x.example --help
assert_exit 0
assert_stdout_contains "usage: isyncsf org add"
run_isf --json org connect --help
assert_exit 0
assert_stdout_contains "usage: isyncsf org connect"
run_isf --help
assert_exit 0
assert_stdout_contains "usage: isyncsf"

t "unknown command → 2"
for c in "nope" "org nope" "org add extra" "key nope"; do
    # shellcheck disable=SC2086
    run_isf help $c
    assert_exit 2 "help $c"
    assert_stderr_contains "unknown command"
done
run_isf nope --help
assert_exit 2 "nope --help"
run_isf --json help nope
assert_error_json 2 null

t "the man page renders without warnings"
MAN=$ISF_SRC/docs/isyncsf.1
if command -v man >/dev/null 2>&1; then
    warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MAN" 2>&1 >/dev/null)
    assert_eq "" "$warn" "man -l: no warnings"
    text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$MAN" 2>/dev/null)
elif command -v groff >/dev/null 2>&1; then
    warn=$(groff -man -Tutf8 -ww "$MAN" 2>&1 >/dev/null)
    assert_eq "" "$warn" "groff -ww: no warnings"
    text=$(groff -man -Tutf8 "$MAN" 2>/dev/null)
else
    text=""
    fail "neither man nor groff is installed (scripts/deps.sh installs man-db): not rendered"
fi
if [[ -n $text ]]; then
    for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS FILES ENVIRONMENT "EXIT STATUS" \
        EXAMPLES "SEE ALSO"; do
        if grep -q "^$s" <<<"$text"; then pass "section $s"; else fail "no section $s"; fi
    done
fi

t "the completion scripts parse"
BASH_COMP=$ISF_SRC/contrib/completion/isyncsf.bash
ZSH_COMP=$ISF_SRC/contrib/completion/_isyncsf
if bash -n "$BASH_COMP"; then pass "bash -n"; else fail "bash -n $BASH_COMP"; fi
if command -v zsh >/dev/null 2>&1; then
    if zsh -n "$ZSH_COMP"; then pass "zsh -n"; else fail "zsh -n $ZSH_COMP"; fi
else
    fail "zsh is not installed (scripts/deps.sh installs it): the zsh completion was not checked"
fi

t "org names (hidden): one name a line"
start_fake_org
add_org acme
add_org beta-uat
run_isf org names
assert_exit 0
assert_eq "acme
beta-uat" "$OUT" "the names"

# complete WORD...: runs the bash completion function with COMP_WORDS = the words (the last
# one is the word being completed) and prints COMPREPLY, one a line.
complete() { :; } # the script's `complete -F` line needs no readline here
# shellcheck disable=SC1090
source "$BASH_COMP"
unset -f complete
comp() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _ISYNCSF_BIN=$ISF_BIN _isyncsf
    printf '%s\n' "${COMPREPLY[@]}"
}
# has LIST WORD...: every WORD is a line of LIST.
has() {
    local list=$1 w
    shift
    for w in "$@"; do
        if grep -qx -- "$w" <<<"$list"; then pass "offers $w"; else fail "does not offer $w"; fi
    done
}

t "bash completion: isyncsf <TAB>"
has "$(comp isyncsf "")" org plugins key help

t "bash completion: isyncsf org <TAB> offers subcommands and org names"
got=$(comp isyncsf org "")
has "$got" add edit connect test show list select token disconnect remove acme beta-uat

t "bash completion: org names, flags, modes, values"
has "$(comp isyncsf org connect "")" acme beta-uat
has "$(comp isyncsf org test acme b)" beta-uat
has "$(comp isyncsf org connect --)" --no-browser --timeout
has "$(comp isyncsf org test --)" --all
has "$(comp isyncsf org add x --)" --mode --login-url --client-secret-stdin --description
has "$(comp isyncsf org add x --mode "")" client-credentials named-credential
has "$(comp isyncsf org list --status "")" connected expired
has "$(comp isyncsf org list --env s)" sandbox scratch
has "$(comp isyncsf help org "")" add test
has "$(comp isyncsf key "")" rotate

t "cmake --install puts the completion scripts and the man page in place"
BUILD=$(cd "$(dirname "$ISF_BIN")/.." && pwd)
if [[ -f $BUILD/CMakeCache.txt ]] && command -v cmake >/dev/null 2>&1; then
    if cmake --install "$BUILD" --prefix "$WORK/inst" >"$WORK/install.log" 2>&1; then
        pass "cmake --install"
        for f in share/bash-completion/completions/isyncsf share/zsh/site-functions/_isyncsf \
            share/man/man1/isyncsf.1; do
            if [[ -s $WORK/inst/$f ]]; then pass "installed $f"; else fail "missing $f"; fi
        done
    else
        fail "cmake --install: $(tail -5 "$WORK/install.log")"
    fi
else
    pass "no build folder or cmake: install not checked"
fi

finish

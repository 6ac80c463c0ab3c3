# bash completion for isyncsf                                   -*- shell-script -*-
# Installed to <datadir>/bash-completion/completions/isyncsf. Completes commands, subcommands,
# each subcommand's flags, org names (`isyncsf org names`, which reads only the store) and modes
# (the auth-* plugins of `isyncsf plugins --json`, with jq when it is there).

_isyncsf_cmd() {
    # The isyncsf being completed, with the --config given on the line, if any.
    local bin=${_ISYNCSF_BIN:-${COMP_WORDS[0]}}
    local i cfg=()
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        [[ ${COMP_WORDS[i]} == --config ]] && cfg=(--config "${COMP_WORDS[i + 1]}")
    done
    "$bin" "${cfg[@]}" "$@" 2>/dev/null
}

_isyncsf_orgs() {
    _isyncsf_cmd org names
}

_isyncsf_modes() {
    local json
    json=$(_isyncsf_cmd --json plugins)
    if command -v jq >/dev/null 2>&1; then
        printf '%s' "$json" | jq -r '.[].name | select(startswith("auth-")) | sub("^auth-"; "")' \
            2>/dev/null
    else
        printf '%s' "$json" | grep -o '"name": *"auth-[^"]*"' | sed 's/.*"auth-//; s/"$//'
    fi
}

_isyncsf() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    local globals="--config --json --quiet --verbose --no-color --version --help"
    local settings="--mode --login-url --client-id --client-secret-stdin --client-secret-env
        --client-secret-file --redirect-uri --scope --named-credential --description --session-ttl"
    local filters="--filter --status --mode --env"

    # The command words typed so far (flags and their values skipped).
    local words=() i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --config | --mode | --login-url | --client-id | --client-secret-env | \
                --client-secret-file | --redirect-uri | --scope | --named-credential | \
                --description | --timeout | --filter | --status | --env | --jobs | --width | \
                --new-key-env | --session-ttl)
                ((i++)) ;;
            -*) ;;
            *) words+=("$w") ;;
        esac
    done

    case $prev in
        --config | --client-secret-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --mode)
            COMPREPLY=($(compgen -W "$(_isyncsf_modes)" -- "$cur"))
            return ;;
        --status)
            COMPREPLY=($(compgen -W "new connected failing expired disconnected" -- "$cur"))
            return ;;
        --env)
            COMPREPLY=($(compgen -W "production sandbox scratch" -- "$cur"))
            return ;;
        --client-secret-env | --new-key-env)
            COMPREPLY=($(compgen -v -- "$cur"))
            return ;;
        --login-url | --client-id | --redirect-uri | --scope | --named-credential | \
            --description | --timeout | --filter | --jobs | --width | --session-ttl)
            return ;;
    esac

    local cmd=${words[0]:-} sub=${words[1]:-} n=${#words[@]}
    local opts=""
    if ((n == 0)); then
        opts="org refresh daemon plugins key help"
        [[ $cur == -* ]] && opts=$globals
    elif [[ $cmd == org ]]; then
        if ((n == 1)); then
            opts="add edit connect test show list select token disconnect remove"
            # Org names too: `isyncsf org <TAB>` shows what there is to work on.
            [[ $cur == -* ]] && opts="--help" || opts+=" $(_isyncsf_orgs)"
        else
            case $sub in
                add) opts="--help $settings" ;;
                edit) opts="--help $settings" ;;
                connect) opts="--help --no-browser --timeout" ;;
                test) opts="--help --all --jobs" ;;
                list) opts="--help $filters --width" ;;
                select) opts="--help $filters --any" ;;
                disconnect | remove) opts="--help --local-only" ;;
                show | token | names) opts="--help" ;;
            esac
            if [[ $cur != -* ]]; then
                case $sub in
                    test) opts=$(_isyncsf_orgs) ;;
                    edit | connect | show | token | disconnect | remove)
                        ((n == 2)) && opts=$(_isyncsf_orgs) || opts="" ;;
                    *) opts="" ;;
                esac
            fi
        fi
    elif [[ $cmd == key ]]; then
        ((n == 1)) && opts="rotate" || opts="--help --new-key-env"
        [[ $cur == -* ]] && opts="--help --new-key-env"
    elif [[ $cmd == refresh ]]; then
        opts="--help --all --force --jobs --timeout"
        [[ $cur == -* ]] || opts=$(_isyncsf_orgs)
    elif [[ $cmd == daemon ]]; then
        opts="--help --once"
    elif [[ $cmd == plugins ]]; then
        opts="--help --verbose"
    elif [[ $cmd == help ]]; then
        if ((n == 1)); then
            opts="org refresh daemon plugins key help"
        elif ((n == 2)) && [[ $sub == org ]]; then
            opts="add edit connect test show list select token disconnect remove"
        elif ((n == 2)) && [[ $sub == key ]]; then
            opts="rotate"
        fi
    fi
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}

complete -F _isyncsf isyncsf

/* isyncsf help: the help texts of every command, in one table. `isyncsf help X` and
 * `isyncsf X --help` (main.c) both print help_text("X"). Each text: synopsis, flags, example. */
#include "help.h"

#include <string.h>

#define GLOBALS                                                                                    \
    "global flags: --config PATH, --json, -q|--quiet, -v|--verbose, --no-color, --version,\n"      \
    "              --help (anywhere on the line)\n"

#define SECRET_FLAGS                                                                               \
    "  --client-secret-stdin      read the client secret from stdin\n"                             \
    "  --client-secret-env VAR    read the client secret from the environment variable VAR\n"      \
    "  --client-secret-file F     read the client secret from the file F\n"                        \
    "                             (secrets are never taken as arguments: they show in ps)\n"

#define SETTINGS_FLAGS                                                                             \
    "  --mode M                   how the org authenticates: client-credentials (default),\n"      \
    "                             webserver-eca, webserver-connectedapp, named-credential, or\n"   \
    "                             any loaded auth-<mode> plugin (see isyncsf plugins)\n"           \
    "  --login-url URL            the org's My Domain or login URL (https)\n"                      \
    "  --client-id ID             the OAuth client id (consumer key)\n" SECRET_FLAGS               \
    "  --redirect-uri URI         the loopback redirect URI of the web server modes\n"             \
    "  --scope S                  OAuth scopes to ask for\n"                                       \
    "  --named-credential NC      the credential's name (mode named-credential)\n"                 \
    "  --description T            free text shown by show and list, matched by --filter\n"         \
    "  --session-ttl SEC          the org's session lifetime (its Session Timeout policy), for\n"  \
    "                             when to refresh; 0 = refresh.session_ttl_s (default 7200)\n"

#define FILTER_FLAGS                                                                               \
    "  --filter TEXT              case-insensitive substring of name, org name, org id,\n"         \
    "                             instance URL or description\n"                                   \
    "  --status S                 new, connected, failing, expired or disconnected\n"              \
    "  --mode M                   the orgs of one mode\n"                                          \
    "  --env E                    production, sandbox or scratch\n"

struct help_entry {
    const char *path;
    const char *text;
};

static const struct help_entry entries[] = {
    {"", "usage: isyncsf [GLOBAL FLAGS] COMMAND [ARGS]\n"
         "\n"
         "Keeps authenticated connections to many Salesforce orgs.\n"
         "\n"
         "commands:\n"
         "  org add NAME [flags]         create an org record (status new)\n"
         "  org edit NAME [flags]        change an org's settings\n"
         "  org connect NAME             authenticate and store the tokens\n"
         "  org test NAME... | --all     one authenticated call per org, concurrently\n"
         "  org show NAME                an org's details\n"
         "  org list [filters]           every org, filtered\n"
         "  org select [filters]         pick one org interactively; prints its NAME\n"
         "  org token NAME               print a valid access token\n"
         "  org disconnect NAME          revoke and clear the tokens\n"
         "  org remove NAME              disconnect, then delete the record\n"
         "  refresh NAME... | --all      refresh the sessions that are due, concurrently\n"
         "  daemon [--once]              keep every org's session fresh in the background\n"
         "  plugins                      the loaded plugins\n"
         "  key rotate                   re-encrypt every secret under a new master key\n"
         "  help [COMMAND]               this text, or a command's\n"
         "\n" GLOBALS "\n"
         "exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 authentication needs a person,\n"
         "            5 org unreachable or passing error, 6 config or plugin, 7 store or key\n"
         "\n"
         "example:\n"
         "  isyncsf help org add\n"
         "  isyncsf --json org list --status connected\n"},
    {"help", "usage: isyncsf help [COMMAND [SUBCOMMAND]]\n"
             "  prints the help of a command; the same text as `isyncsf COMMAND --help`.\n"
             "  An unknown command is a usage error (exit 2).\n"
             "\n"
             "example:\n"
             "  isyncsf help org test\n"},
    {"org", "usage: isyncsf org SUBCOMMAND ...\n"
            "  add NAME [--mode M] [--login-url URL] [--client-id ID]\n"
            "      [--client-secret-stdin | --client-secret-env VAR | --client-secret-file F]\n"
            "      [--redirect-uri URI] [--scope S] [--named-credential NC] [--description T]\n"
            "  edit NAME [same flags]\n"
            "  connect NAME [--no-browser] [--timeout SEC]\n"
            "  test NAME... | --all [--jobs N]\n"
            "  show NAME\n"
            "  list [--filter TEXT] [--status S] [--mode M] [--env production|sandbox|scratch]\n"
            "       [--width N]\n"
            "  select [--filter TEXT] [--status S] [--mode M] [--env E] [--any]\n"
            "  token NAME\n"
            "  disconnect NAME [--local-only]\n"
            "  remove NAME [--local-only]\n"
            "\n"
            "`isyncsf help org SUBCOMMAND` tells more about each.\n"
            "\n"
            "example:\n"
            "  printf '%s' \"$SECRET\" | isyncsf org add acme --login-url "
            "https://acme.my.salesforce.com \\\n"
            "      --client-id 3MVG9... --client-secret-stdin\n"
            "  isyncsf org connect acme && isyncsf org token acme\n"},
    {"org add",
     "usage: isyncsf org add NAME [flags]\n"
     "  creates the org record NAME (status new); the mode's plugin checks what it needs.\n"
     "  NAME: a letter or digit, then up to 63 of letters, digits, '.', '_', '-'.\n"
     "\n"
     "flags:\n" SETTINGS_FLAGS "\n"
     "example:\n"
     "  printf '%s' \"$SECRET\" | isyncsf org add acme --login-url https://acme.my.salesforce.com "
     "\\\n"
     "      --client-id 3MVG9... --client-secret-stdin --description \"ACME production\"\n"},
    {"org edit",
     "usage: isyncsf org edit NAME [flags]\n"
     "  changes the settings of org NAME; changing the mode, login URL or client id drops the\n"
     "  old tokens (status new).\n"
     "\n"
     "flags:\n" SETTINGS_FLAGS "\n"
     "example:\n"
     "  isyncsf org edit acme --description \"ACME, moved to the new My Domain\"\n"
     "  isyncsf org edit acme --client-secret-env ACME_SECRET\n"},
    {"org connect",
     "usage: isyncsf org connect NAME [--no-browser] [--timeout SEC]\n"
     "  authenticates org NAME, stores the tokens encrypted, reads the org's details and checks\n"
     "  the package; status connected. The web server modes open the login page ($BROWSER, else\n"
     "  xdg-open) and wait on the loopback redirect URI; a denial or a wrong state exits 4, no\n"
     "  login in time exits 5, a busy port exits 2, each leaving the record unchanged.\n"
     "\n"
     "flags:\n"
     "  --no-browser               print the login URL on stderr instead; the redirect may also\n"
     "                             be pasted on stdin (the whole address the browser shows)\n"
     "  --timeout SEC              how long to wait for the login (1..86400, default 300)\n"
     "\n"
     "example:\n"
     "  isyncsf org connect acme\n"
     "  isyncsf org connect uat --no-browser --timeout 600\n"},
    {"refresh",
     "usage: isyncsf refresh NAME... | --all [--force] [--jobs N] [--timeout SEC]\n"
     "  renews the sessions that are due (expires_at - refresh.margin_s), all on one connection\n"
     "  pool, each org under its lock (an org refreshed meanwhile by another process is left\n"
     "  alone). A passing failure makes the org failing and retried later with backoff; a\n"
     "  refused grant makes it expired until isyncsf org connect. Prints one line per failure\n"
     "  and a summary; --json prints an array of {org, outcome, status, message, expires_at,\n"
     "  next_due_at, elapsed_ms, finished_ms}. Exit code: the worst outcome's.\n"
     "\n"
     "flags:\n"
     "  --all                      every org in the store\n"
     "  --force                    refresh even when not due, or in backoff\n"
     "  --jobs N                   requests in flight at once (default refresh.concurrency)\n"
     "  --timeout SEC              time limit per org (default http.timeout_s)\n"
     "\n"
     "example:\n"
     "  isyncsf refresh --all\n"
     "  isyncsf --json refresh acme --force | jq -r '.[].outcome'\n"},
    {"daemon",
     "usage: isyncsf daemon [--once]\n"
     "  keeps every connected org's session fresh: sleeps until the next org is due\n"
     "  (expires_at - refresh.margin_s, or its retry time after a passing failure), refreshes\n"
     "  the due orgs together with the engine of isyncsf refresh, and sleeps again. Orgs added,\n"
     "  changed or removed by other isyncsf processes are picked up at once (the store is\n"
     "  watched). One line per event on stderr, e.g.\n"
     "    level=info org=acme event=refresh outcome=done expires_at=2026-12-04T22:00:00Z ...\n"
     "  (never a token). SIGTERM or SIGINT: stops within 3 s, exit 0. SIGHUP: reads the\n"
     "  config again (a config that fails to load is logged, the old one stays in use).\n"
     "  A systemd unit is in contrib/systemd/.\n"
     "\n"
     "flags:\n"
     "  --once                     one pass over what is due, then exit with the refresh's\n"
     "                             exit code (for cron)\n"
     "\n"
     "example:\n"
     "  isyncsf daemon\n"
     "  */10 * * * * isyncsf daemon --once    (crontab)\n"},
    {"org test",
     "usage: isyncsf org test NAME... | --all [--jobs N]\n"
     "  one authenticated call per org (refreshing once if the session expired); updates the\n"
     "  status and last_tested_at. Orgs are tested concurrently, each worker with its own\n"
     "  library context; each org's time is bounded by the HTTP time limit (http.timeout_s).\n"
     "  A progress bar goes to stderr when it is a terminal; a NAME STATUS DETAIL table ends the\n"
     "  text output. --json prints the org object for one NAME, else an array.\n"
     "  Exit 0 only if every org is connected, else the worst outcome's exit code.\n"
     "\n"
     "flags:\n"
     "  --all                      every org in the store\n"
     "  --jobs N                   at most N orgs at a time (1..64; default min(8, orgs))\n"
     "\n"
     "example:\n"
     "  isyncsf org test acme uat\n"
     "  isyncsf --json org test --all | jq -r '.[] | select(.status != \"connected\") | .name'\n"},
    {"org show", "usage: isyncsf org show NAME\n"
                 "  the record's details (--json: the org object).\n"
                 "\n"
                 "example:\n"
                 "  isyncsf org show acme\n"
                 "  isyncsf --json org show acme | jq -r .instance_url\n"},
    {"org list",
     "usage: isyncsf org list [--filter TEXT] [--status S] [--mode M] [--env E] [--width N]\n"
     "  every record, sorted by name; reads only the store (no network).\n"
     "\n"
     "flags:\n" FILTER_FLAGS
     "  --width N                  the table's width (else the terminal's, else $COLUMNS,\n"
     "                             else 100); ISYNCSF_COLOR=always|never forces colour\n"
     "\n"
     "example:\n"
     "  isyncsf org list --status expired\n"
     "  isyncsf --json org list --env sandbox | jq -r '.[].name'\n"},
    {"org select",
     "usage: isyncsf org select [--filter TEXT] [--status S] [--mode M] [--env E] [--any]\n"
     "  an interactive picker on a terminal (type to filter, arrows, enter); prints the chosen\n"
     "  NAME on stdout; only connected orgs unless --any. Without a terminal it prints the one\n"
     "  match, or fails when zero (exit 3) or several (exit 1) orgs match.\n"
     "\n"
     "flags:\n" FILTER_FLAGS
     "  --any                      offer every org, not only the connected ones\n"
     "\n"
     "example:\n"
     "  isyncsf org token \"$(isyncsf org select --env sandbox)\"\n"},
    {"org token", "usage: isyncsf org token NAME\n"
                  "  prints a valid access token (refreshing first if due); with --json:\n"
                  "  {\"access_token\", \"instance_url\", \"expires_at\"}.\n"
                  "\n"
                  "example:\n"
                  "  curl -H \"Authorization: Bearer $(isyncsf org token acme)\" \\\n"
                  "      https://acme.my.salesforce.com/services/data/v66.0/limits\n"},
    {"org disconnect",
     "usage: isyncsf org disconnect NAME [--local-only]\n"
     "  revokes the tokens at the org and clears them from the store; status disconnected.\n"
     "\n"
     "flags:\n"
     "  --local-only               clear the tokens without asking the org to revoke them\n"
     "\n"
     "example:\n"
     "  isyncsf org disconnect acme\n"},
    {"org remove", "usage: isyncsf org remove NAME [--local-only]\n"
                   "  disconnects org NAME, then deletes its record.\n"
                   "\n"
                   "flags:\n"
                   "  --local-only               do not ask the org to revoke the tokens\n"
                   "\n"
                   "example:\n"
                   "  isyncsf org remove old-sandbox --local-only\n"},
    {"org names",
     "usage: isyncsf org names\n"
     "  prints every org name, one a line (for shell completion; reads only the store).\n"
     "\n"
     "example:\n"
     "  isyncsf org names | xargs isyncsf org test\n"},
    {"plugins",
     "usage: isyncsf plugins [-v]\n"
     "  lists the loaded plugins: name, kind, version, ABI, path (and why one failed);\n"
     "  exit 6 when one failed to load.\n"
     "\n"
     "flags:\n"
     "  -v, --verbose              also each plugin's options, as they go under options: in\n"
     "                             the config\n"
     "\n"
     "example:\n"
     "  isyncsf plugins -v\n"
     "  isyncsf --json plugins | jq -r '.[] | select(.kind == \"auth\") | .name'\n"},
    {"key",
     "usage: isyncsf key rotate [--new-key-env VAR]\n"
     "  re-encrypts every stored secret under a new master key; safe to interrupt and re-run.\n"
     "  With key: {env:...} or {command:...} the new key comes from VAR (base64 of 32 bytes);\n"
     "  once it succeeds, make the configured variable or command give that new key.\n"
     "\n"
     "flags:\n"
     "  --new-key-env VAR          the new key, base64 of 32 bytes, from the variable VAR\n"
     "\n"
     "example:\n"
     "  isyncsf key rotate\n"},
    {"key rotate", NULL}, /* same text as "key" */
    {NULL, NULL}};

const char *help_text(const char *path)
{
    for (const struct help_entry *e = entries; e->path; e++)
        if (strcmp(e->path, path) == 0)
            return e->text ? e->text : e[-1].text;
    return NULL;
}

/* The words joined by spaces into buf; -1 when they do not fit. */
static int join_words(char *buf, size_t cap, int n, char **words)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        int k = snprintf(buf + len, cap - len, "%s%s", i ? " " : "", words[i]);
        if (k < 0 || (size_t)k >= cap - len)
            return -1;
        len += (size_t)k;
    }
    return 0;
}

const char *help_for_words(int argc, char **argv)
{
    char path[128];
    const char *best = NULL;
    for (int i = 0; i < argc && i < 2 && argv[i][0] != '-'; i++) {
        const char *t = join_words(path, sizeof(path), i + 1, argv) == 0 ? help_text(path) : NULL;
        if (!t)
            break;
        best = t;
    }
    return best;
}

int cmd_help(struct cli *cli, int argc, char **argv)
{
    char path[256];
    int fits = join_words(path, sizeof(path), argc, argv) == 0;
    const char *t = fits ? help_text(path) : NULL;
    if (!t)
        return cli_usage_error(cli, help_text(""), "unknown command '%s'", fits ? path : argv[0]);
    printf("%s", t);
    return 0;
}

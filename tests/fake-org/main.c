/* fake-org: command line, TLS set-up and the daemon's lifetime (runs until SIGTERM/SIGINT). */
#include "fake_org.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_ORG_ID15 "00D8d000000Fake"
#define DEFAULT_USER_ID15 "0058d000000Fake"
#define DEFAULT_API_VERSIONS "64.0,65.0,66.0"

struct options {
    const char *cert;
    const char *key;
    const char *port_file;
    long port;
};

static void usage(FILE *out)
{
    fputs("usage: fake-org --cert FILE --key FILE [--port N] [--port-file FILE]\n"
          "                [--client ID:SECRET]... [--jwt-client ID:PUBLIC_KEY_PEM]...\n"
          "                [--token-ttl SECONDS]\n"
          "                [--env production|sandbox|scratch]\n"
          "                [--package installed|absent|forbidden|forbidden-all]\n"
          "                [--package-version A.B.C.D] [--namespace NS] [--org-name NAME]\n"
          "                [--org-id 00D...] [--username USER] [--api-versions 64.0,65.0,...]\n"
          "                [--issued-at-seconds] [--rotate-refresh] [--deny] [--require-secret]\n"
          "                [--login-form] [--user NAME:PASSWORD]... [--callback ID:URL]...\n"
          "                [--code-ttl SECONDS] [--verbose]\n"
          "A fake Salesforce org over HTTPS on 127.0.0.1; control API under /__fake/.\n",
          out);
}

static int usage_error(const char *what, const char *value)
{
    if (value && *value)
        fprintf(stderr, "fake-org: %s: '%s'\n", what, value);
    else
        fprintf(stderr, "fake-org: %s\n", what);
    usage(stderr);
    return -1;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int add_client(struct fo_server *srv, const char *arg)
{
    const char *colon = strchr(arg, ':');

    if (!colon || colon == arg || !colon[1])
        return usage_error("--client wants ID:SECRET (at most 32 clients)", arg);
    for (int i = 0; i < srv->nclients; i++) { /* already registered by --jwt-client */
        struct fo_client *c = &srv->clients[i];
        if (strlen(c->id) == (size_t)(colon - arg) &&
            strncmp(c->id, arg, (size_t)(colon - arg)) == 0 && !*c->secret) {
            free(c->secret);
            c->secret = strdup(colon + 1);
            return c->secret ? 0 : -1;
        }
    }
    if (srv->nclients >= FO_MAX_CLIENTS)
        return usage_error("--client wants ID:SECRET (at most 32 clients)", arg);
    srv->clients[srv->nclients].id = strndup(arg, (size_t)(colon - arg));
    srv->clients[srv->nclients].secret = strdup(colon + 1);
    if (!srv->clients[srv->nclients].id || !srv->clients[srv->nclients].secret)
        return -1;
    srv->nclients++;
    return 0;
}

/* --jwt-client ID:PEM: the client (a new one, or one given by --client) verifies JWT bearer
 * assertions with the RSA public key (or certificate) in PEM. */
static int add_jwt_client(struct fo_server *srv, const char *arg)
{
    const char *colon = strchr(arg, ':');
    struct fo_client *c = NULL;
    EVP_PKEY *key;

    if (!colon || colon == arg || !colon[1])
        return usage_error("--jwt-client wants ID:PUBLIC_KEY_PEM_FILE", arg);
    key = fo_jwt_load_key(colon + 1);
    if (!key)
        return usage_error("--jwt-client: cannot read an RSA public key or certificate (PEM) from",
                           colon + 1);
    for (int i = 0; i < srv->nclients; i++) {
        if (strlen(srv->clients[i].id) == (size_t)(colon - arg) &&
            strncmp(srv->clients[i].id, arg, (size_t)(colon - arg)) == 0)
            c = &srv->clients[i];
    }
    if (!c) {
        if (srv->nclients >= FO_MAX_CLIENTS) {
            EVP_PKEY_free(key);
            return usage_error("at most 32 clients", arg);
        }
        c = &srv->clients[srv->nclients];
        c->id = strndup(arg, (size_t)(colon - arg));
        c->secret = strdup("");
        if (!c->id || !c->secret) {
            free(c->id);
            free(c->secret);
            c->id = c->secret = NULL;
            EVP_PKEY_free(key);
            return -1;
        }
        srv->nclients++;
    }
    EVP_PKEY_free(c->jwt_key);
    c->jwt_key = key;
    return 0;
}

static bool api_version_valid(const char *v)
{
    unsigned major, minor;
    char tail;

    return strlen(v) < sizeof(((struct fo_server *)0)->api_versions[0]) &&
           sscanf(v, "%u.%u%c", &major, &minor, &tail) == 2;
}

static int set_api_versions(struct fo_server *srv, const char *list)
{
    char buf[512];

    snprintf(buf, sizeof(buf), "%s", list);
    srv->napi_versions = 0;
    for (char *save = NULL, *v = strtok_r(buf, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        if (!api_version_valid(v) || srv->napi_versions >= FO_MAX_API_VERSIONS)
            return usage_error("--api-versions wants a list like 64.0,65.0,66.0", list);
        snprintf(srv->api_versions[srv->napi_versions++], sizeof(srv->api_versions[0]), "%s", v);
    }
    return srv->napi_versions ? 0 : usage_error("--api-versions is empty", list);
}

/* Accepts a 15- or 18-character org ID; the 18-character form is what the fake reports. */
static int set_org_id(struct fo_server *srv, const char *id)
{
    size_t n = strlen(id);

    if ((n != 15 && n != 18) || strncmp(id, "00D", 3) != 0)
        return usage_error("--org-id wants a 15- or 18-character ID starting with 00D", id);
    for (size_t i = 0; i < n; i++) {
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z') ||
              (id[i] >= 'a' && id[i] <= 'z')))
            return usage_error("--org-id has a character that is not a letter or digit", id);
    }
    if (n == 15)
        fo_salesforce_id(id, srv->org_id);
    else
        memcpy(srv->org_id, id, 19);
    return 0;
}

static int set_knob_string(char *dst, size_t size, const char *what, const char *v)
{
    if (!*v || strlen(v) >= size)
        return usage_error(what, v);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

enum {
    OPT_CERT = 256,
    OPT_KEY,
    OPT_PORT,
    OPT_PORT_FILE,
    OPT_CLIENT,
    OPT_JWT_CLIENT,
    OPT_TOKEN_TTL,
    OPT_ENV,
    OPT_PACKAGE,
    OPT_PACKAGE_VERSION,
    OPT_NAMESPACE,
    OPT_ORG_NAME,
    OPT_ORG_ID,
    OPT_USERNAME,
    OPT_API_VERSIONS,
    OPT_ISSUED_AT_SECONDS,
    OPT_ROTATE_REFRESH,
    OPT_DENY,
    OPT_REQUIRE_SECRET,
    OPT_LOGIN_FORM,
    OPT_USER,
    OPT_CALLBACK,
    OPT_CODE_TTL,
    OPT_VERBOSE,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"port", required_argument, NULL, OPT_PORT},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"client", required_argument, NULL, OPT_CLIENT},
    {"jwt-client", required_argument, NULL, OPT_JWT_CLIENT},
    {"token-ttl", required_argument, NULL, OPT_TOKEN_TTL},
    {"env", required_argument, NULL, OPT_ENV},
    {"package", required_argument, NULL, OPT_PACKAGE},
    {"package-version", required_argument, NULL, OPT_PACKAGE_VERSION},
    {"namespace", required_argument, NULL, OPT_NAMESPACE},
    {"org-name", required_argument, NULL, OPT_ORG_NAME},
    {"org-id", required_argument, NULL, OPT_ORG_ID},
    {"username", required_argument, NULL, OPT_USERNAME},
    {"api-versions", required_argument, NULL, OPT_API_VERSIONS},
    {"issued-at-seconds", no_argument, NULL, OPT_ISSUED_AT_SECONDS},
    {"rotate-refresh", no_argument, NULL, OPT_ROTATE_REFRESH},
    {"deny", no_argument, NULL, OPT_DENY},
    {"require-secret", no_argument, NULL, OPT_REQUIRE_SECRET},
    {"login-form", no_argument, NULL, OPT_LOGIN_FORM},
    {"user", required_argument, NULL, OPT_USER},
    {"callback", required_argument, NULL, OPT_CALLBACK},
    {"code-ttl", required_argument, NULL, OPT_CODE_TTL},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int parse_knob_option(struct fo_server *srv, int opt, const char *arg)
{
    struct fo_knobs *k = &srv->knobs;

    switch (opt) {
    case OPT_TOKEN_TTL:
        return parse_long(arg, 0, 365L * 24 * 3600, &k->token_ttl) == 0
                   ? 0
                   : usage_error("--token-ttl wants seconds", arg);
    case OPT_CODE_TTL:
        return parse_long(arg, 0, 24L * 3600, &k->code_ttl) == 0
                   ? 0
                   : usage_error("--code-ttl wants seconds (0-86400)", arg);
    case OPT_ENV:
        return fo_parse_env(arg, &k->env) == 0
                   ? 0
                   : usage_error("--env wants production, sandbox or scratch", arg);
    case OPT_PACKAGE:
        return fo_parse_package(arg, &k->package) == 0
                   ? 0
                   : usage_error("--package wants installed, absent, forbidden or forbidden-all",
                                 arg);
    case OPT_PACKAGE_VERSION:
        return fo_package_version_valid(arg)
                   ? set_knob_string(k->package_version, sizeof(k->package_version), "", arg)
                   : usage_error("--package-version wants A.B.C.D", arg);
    case OPT_NAMESPACE:
        return set_knob_string(k->namespace_prefix, sizeof(k->namespace_prefix),
                               "--namespace is empty or too long", arg);
    case OPT_ORG_NAME:
        return set_knob_string(k->org_name, sizeof(k->org_name), "--org-name is empty or too long",
                               arg);
    case OPT_USERNAME:
        return set_knob_string(k->username, sizeof(k->username), "--username is empty or too long",
                               arg);
    }
    return usage_error("unknown option", arg);
}

static int parse_option(struct fo_server *srv, struct options *o, int opt, const char *arg)
{
    switch (opt) {
    case OPT_CERT:
        o->cert = arg;
        return 0;
    case OPT_KEY:
        o->key = arg;
        return 0;
    case OPT_PORT:
        return parse_long(arg, 0, 65535, &o->port) == 0 ? 0
                                                        : usage_error("--port wants 0-65535", arg);
    case OPT_PORT_FILE:
        o->port_file = arg;
        return 0;
    case OPT_CLIENT:
        return add_client(srv, arg);
    case OPT_JWT_CLIENT:
        return add_jwt_client(srv, arg);
    case OPT_ORG_ID:
        return set_org_id(srv, arg);
    case OPT_API_VERSIONS:
        return set_api_versions(srv, arg);
    case OPT_ISSUED_AT_SECONDS:
        srv->knobs.issued_at_seconds = true;
        return 0;
    case OPT_ROTATE_REFRESH:
        srv->knobs.rotate_refresh = true;
        return 0;
    case OPT_DENY:
        srv->knobs.deny = true;
        return 0;
    case OPT_REQUIRE_SECRET:
        srv->knobs.require_secret = true;
        return 0;
    case OPT_LOGIN_FORM:
        srv->knobs.login_form = true;
        return 0;
    case OPT_USER:
        return fo_add_user(srv, arg) == 0 ? 0 : usage_error("bad --user (value not shown)", "");
    case OPT_CALLBACK:
        return fo_add_callback(srv, arg) == 0 ? 0 : usage_error("bad --callback", "");
    case OPT_VERBOSE:
        srv->verbose = true;
        return 0;
    }
    return parse_knob_option(srv, opt, arg);
}

static void set_defaults(struct fo_server *srv)
{
    struct fo_knobs *k = &srv->knobs;

    k->env = FO_ENV_PRODUCTION;
    k->package = FO_PKG_INSTALLED;
    snprintf(k->package_version, sizeof(k->package_version), "1.4.0.2");
    snprintf(k->namespace_prefix, sizeof(k->namespace_prefix), "isyncsf");
    snprintf(k->org_name, sizeof(k->org_name), "Fake Org");
    snprintf(k->username, sizeof(k->username), "integration@fake-org.example");
    k->token_ttl = 7200;
    k->code_ttl = FO_DEFAULT_CODE_TTL;
    fo_salesforce_id(DEFAULT_ORG_ID15, srv->org_id);
    fo_salesforce_id(DEFAULT_USER_ID15, srv->user_id);
    set_api_versions(srv, DEFAULT_API_VERSIONS);
}

/* Returns 0 to run, 1 after --help, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct fo_server *srv, struct options *o)
{
    int opt;

    set_defaults(srv);
    while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (opt == OPT_HELP) {
            usage(stdout);
            return 1;
        }
        if (opt == '?') {
            usage(stderr);
            return -1;
        }
        if (parse_option(srv, o, opt, optarg) != 0)
            return -1;
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (!o->cert || !o->key)
        return usage_error("--cert and --key are required", "");
    if (fo_accounts_finish(srv) != 0) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Reads a whole PEM file as a NUL-terminated string (what MHD wants for HTTPS_MEM_*). */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (!f)
        goto fail;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
        goto fail;
    buf[size] = '\0';
    fclose(f);
    return buf;
fail:
    fprintf(stderr, "fake-org: cannot read %s: %s\n", path, strerror(errno ? errno : EIO));
    free(buf);
    if (f)
        fclose(f);
    return NULL;
}

/* Written to a temporary name and renamed, so a reader never sees a partial port number. */
static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0) {
        fprintf(stderr, "fake-org: cannot write the port file %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "fake-org: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The listening socket is made here rather than by MHD so the port (and so the base URL every
 * handler reads) is known before any request thread exists. */
static int open_listener(long port, unsigned *bound)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        goto fail;
    *bound = ntohs(addr.sin_port);
    return fd;
fail:
    fprintf(stderr, "fake-org: cannot listen on 127.0.0.1:%ld: %s (pick another --port, or 0)\n",
            port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* One thread per connection: a delay fault then stalls only its own connection, and keep-alive
 * connections are served without any hand-off between threads. MHD owns (and closes) fd. */
static struct MHD_Daemon *start_daemon(struct fo_server *srv, int fd, const char *cert,
                                       const char *key)
{
    unsigned flags = MHD_USE_TLS | MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC;

    if (srv->verbose)
        flags |= MHD_USE_ERROR_LOG;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, fo_access_handler, srv, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_NOTIFY_COMPLETED,
        fo_request_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK, fo_unescape, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024), MHD_OPTION_END);
}

static void free_clients(struct fo_server *srv)
{
    for (int i = 0; i < srv->nclients; i++) {
        free(srv->clients[i].id);
        fo_wipe_free(srv->clients[i].secret);
        EVP_PKEY_free(srv->clients[i].jwt_key);
    }
    srv->nclients = 0;
    fo_accounts_free(srv);
}

/* Blocks the stop signals in every thread (MHD's threads inherit the mask) and waits for one. */
static void wait_for_stop_signal(const sigset_t *set)
{
    int sig = 0;

    while (sigwait(set, &sig) != 0)
        ;
}

static int run(struct fo_server *srv, const struct options *o, const sigset_t *stop)
{
    struct MHD_Daemon *daemon = NULL;
    char *cert = read_file(o->cert), *key = read_file(o->key);
    unsigned port = 0;
    int fd = -1;
    int rc = 1;

    if (!cert || !key)
        goto out;
    fd = open_listener(o->port, &port);
    if (fd < 0)
        goto out;
    snprintf(srv->base_url, sizeof(srv->base_url), "https://127.0.0.1:%u", port);
    daemon = start_daemon(srv, fd, cert, key);
    if (!daemon) {
        fprintf(stderr,
                "fake-org: cannot start the HTTPS server; are %s and %s a matching PEM "
                "certificate and key?\n",
                o->cert, o->key);
        close(fd);
        goto out;
    }
    if (o->port_file && write_port_file(o->port_file, port) != 0)
        goto out;
    fprintf(stderr, "fake-org: listening on %s\n", srv->base_url);
    wait_for_stop_signal(stop);
    rc = 0;
out:
    fo_state_stop(srv);
    if (daemon)
        MHD_stop_daemon(daemon);
    free(cert);
    fo_wipe_free(key);
    return rc;
}

int main(int argc, char **argv)
{
    static struct fo_server srv;
    struct options o = {0};
    sigset_t stop;
    int rc;

    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = parse_args(argc, argv, &srv, &o);
    if (rc != 0) {
        free_clients(&srv);
        return rc > 0 ? 0 : 2;
    }
    if (srv.nclients == 0)
        fprintf(stderr, "fake-org: warning: no --client ID:SECRET (or --jwt-client) given; every "
                        "grant will fail\n");
    if (fo_state_init(&srv) != 0) {
        fprintf(stderr, "fake-org: cannot initialise the server state (out of memory?)\n");
        free_clients(&srv);
        return 1;
    }
    rc = run(&srv, &o, &stop);
    fo_state_free(&srv);
    free_clients(&srv);
    return rc;
}

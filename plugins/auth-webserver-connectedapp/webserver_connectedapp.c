/*
 * auth-webserver-connectedapp: the OAuth 2.0 web server flow (authorization code + PKCE) with
 * one global, legacy Connected App for every org of this mode. Its consumer key and redirect URI
 * are plugin options; its secret comes from an environment variable or an owner-only file named
 * by the options — never inline in the YAML, and never in an org record. Everything else is
 * shared with auth-webserver-eca (plugins/webserver-common).
 */
#define _GNU_SOURCE /* O_NOFOLLOW, O_CLOEXEC */
#include "webserver_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX 4096

static const struct isf_option_spec ca_options[] = {
    {"client_id", ISF_OPT_STRING, NULL, 0, "the Connected App's consumer key"},
    {"client_secret_env", ISF_OPT_STRING, NULL, 0,
     "environment variable holding the consumer secret (exactly one of _env and _file)"},
    {"client_secret_file", ISF_OPT_PATH, NULL, 0,
     "file holding the consumer secret, readable by its owner only (chmod 600)"},
    {"client_secret", ISF_OPT_STRING, NULL, 0,
     "not allowed: a secret never goes into the config; use client_secret_env or _file"},
    {"redirect_uri", ISF_OPT_STRING, "http://localhost:1717/OauthRedirect", 0,
     "the Connected App's callback URL (a loopback http URL with a port)"},
    {"scope", ISF_OPT_STRING, NULL, 0, "scope asked for (default: api refresh_token)"},
    WS_COMMON_OPTIONS,
    {NULL, 0, NULL, 0, NULL},
};

/* The global app as loaded at create. A configuration that cannot serve (no client_id, the
 * secret's variable unset...) is kept as `problem` and reported, with ISF_E_CONFIG, when an org
 * of this mode is used: the plugin is bundled and loads without options, and other modes must
 * keep working. */
struct ca_app {
    char *secret; /* host->alloc'd; wiped on destroy */
    char problem[ISF_ERROR_MESSAGE_MAX];
};

static int ca_problem(const struct isf_host *h, struct ca_app *app, const char *fmt,
                      const char *arg)
{
    struct isf_error e = {sizeof(e), 0, ""};
    h->error_set(h, &e, ISF_E_CONFIG, fmt, arg, arg);
    memcpy(app->problem, e.message, sizeof(app->problem));
    return ISF_E_CONFIG;
}

/* Trailing newlines and spaces are how files and shells end a value, never part of a secret. */
static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

static int secret_from_env(const struct isf_host *h, struct ca_app *app, const char *var)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return ca_problem(h, app,
                          "the Connected App's secret is missing: the variable %s (option "
                          "client_secret_env of auth-webserver-connectedapp) is not set; export "
                          "%s before running isyncsf",
                          var);
    app->secret = h->strdup(h, v);
    if (!app->secret)
        return ISF_E_NOMEM;
    trim_end(app->secret);
    return ISF_OK;
}

static int secret_from_file(const struct isf_host *h, struct ca_app *app, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0)
        return ca_problem(h, app,
                          "cannot read the Connected App's secret from %s (option "
                          "client_secret_file of auth-webserver-connectedapp): check the path "
                          "%s",
                          path);
    int rc = ISF_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        rc = ca_problem(h, app,
                        "%s (option client_secret_file) must be a regular file owned by the user "
                        "running isyncsf; fix the owner of %s",
                        path);
    } else if (st.st_mode & 077) {
        rc = ca_problem(h, app,
                        "%s (option client_secret_file) can be read by other users; run chmod "
                        "600 %s",
                        path);
    } else {
        app->secret = h->alloc(h, SECRET_MAX + 1);
        ssize_t n = app->secret ? read(fd, app->secret, SECRET_MAX) : -1;
        if (n <= 0) {
            rc = ca_problem(h, app,
                            "the Connected App's secret file %s (option client_secret_file) is "
                            "empty or unreadable; put the consumer secret in %s",
                            path);
        } else {
            app->secret[n] = '\0';
            trim_end(app->secret);
        }
    }
    close(fd);
    return rc;
}

static void ca_load(const struct isf_host *h, const struct isf_opts *opts, struct ca_app *app)
{
    const char *id = h->opt_string(h, opts, "client_id");
    const char *env = h->opt_string(h, opts, "client_secret_env");
    const char *file = h->opt_string(h, opts, "client_secret_file");
    if (!id || !*id)
        ca_problem(h, app,
                   "mode webserver-connectedapp is not configured: set the option client_id "
                   "(the Connected App's consumer key) and client_secret_env or "
                   "client_secret_file of the plugin auth-webserver-connectedapp in "
                   "config.yaml%s",
                   "");
    else if ((env && *env) == (file && *file))
        ca_problem(h, app,
                   "auth-webserver-connectedapp needs exactly one of the options "
                   "client_secret_env and client_secret_file (the Connected App's secret)%s",
                   "");
    else if (env && *env)
        secret_from_env(h, app, env);
    else
        secret_from_file(h, app, file);
}

static int ca_client(const struct ws_instance *ws, const struct isf_org_view *org,
                     struct ws_client *c, struct isf_error *err)
{
    const struct isf_host *h = ws->host;
    const struct ca_app *app = ws->mode_data;
    if (app->problem[0])
        return h->error_set(h, err, ISF_E_CONFIG, "org %s: %s", org->name, app->problem);
    c->client_id = h->opt_string(h, ws->opts, "client_id");
    c->client_secret = app->secret;
    c->redirect_uri =
        org->redirect_uri ? org->redirect_uri : h->opt_string(h, ws->opts, "redirect_uri");
    c->scope = org->scope ? org->scope : h->opt_string(h, ws->opts, "scope");
    c->prompt = h->opt_string(h, ws->opts, "prompt");
    return ISF_OK;
}

static const struct ws_mode ca_mode = {"webserver-connectedapp", ca_client};

static void ca_destroy(void *instance)
{
    struct ws_instance *ws = instance;
    if (!ws)
        return;
    struct ca_app *app = ws->mode_data;
    if (app) {
        ws->host->free_secret(ws->host, app->secret, 0);
        ws->host->free(ws->host, app);
    }
    ws_destroy(ws);
}

static int ca_create(const struct isf_host *host, const struct isf_opts *opts, void **instance,
                     struct isf_error *err)
{
    const char *inline_secret = host->opt_string(host, opts, "client_secret");
    if (inline_secret)
        return host->error_set(host, err, ISF_E_CONFIG,
                               "the option client_secret is not allowed (a secret never goes into "
                               "the config file); remove it "
                               "and use client_secret_env: VAR or client_secret_file: PATH");
    struct ws_instance *ws = NULL;
    int rc = ws_create(host, opts, &ca_mode, &ws, err);
    if (rc != ISF_OK)
        return rc;
    struct ca_app *app = host->alloc(host, sizeof(*app));
    if (!app) {
        ws_destroy(ws);
        return host->error_set(host, err, ISF_E_NOMEM, "out of memory");
    }
    memset(app, 0, sizeof(*app));
    ws->mode_data = app;
    ca_load(host, opts, app);
    *instance = ws;
    return ISF_OK;
}

static int ca_check_settings(void *instance, const struct isf_org_settings_check *check,
                             struct isf_error *err)
{
    struct ws_instance *ws = instance;
    const struct isf_host *h = ws->host;
    const struct isf_org_view *org = check->org;
    const struct ca_app *app = ws->mode_data;
    if (check->has_client_secret || org->client_id)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: mode webserver-connectedapp uses the one Connected App "
                            "configured in the options of auth-webserver-connectedapp; drop "
                            "--client-id and --client-secret-* (an org of this mode keeps no "
                            "client credentials of its own; the app's secret comes from the "
                            "option client_secret_env or client_secret_file)",
                            org->name);
    int rc = ws_check_common(ws, org, err);
    if (rc == ISF_OK && app->problem[0])
        rc = h->error_set(h, err, ISF_E_CONFIG, "org %s: %s", org->name, app->problem);
    return rc;
}

static const struct isf_auth_ops ca_ops = WS_AUTH_OPS(ca_create, ca_destroy, ca_check_settings);

WS_PLUGIN("auth-webserver-connectedapp",
          "OAuth 2.0 web server flow (browser login, PKCE) with one global Connected App", 0,
          ca_options, ca_ops)

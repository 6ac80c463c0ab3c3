/*
 * What the two web server mode plugins (auth-webserver-eca, auth-webserver-connectedapp) share:
 * connect through host->oauth_authorize, refresh with the refresh token (and its 1.2 batched
 * form, refresh_request), revoke the refresh token, and the settings checks. Each plugin only
 * says where the client credentials come from (struct ws_mode), so this file is compiled into
 * both rather than copied.
 */
#ifndef ISF_WEBSERVER_COMMON_H
#define ISF_WEBSERVER_COMMON_H

#include <isyncsf/plugin.h>

/* The client credentials and request settings one org uses in a mode. Strings are borrowed
 * from the org view or the instance. */
struct ws_client {
    const char *client_id;
    const char *client_secret; /* or NULL: a PKCE-only app without "Require secret" */
    const char *redirect_uri;  /* or NULL: the core's default */
    const char *scope;         /* or NULL: the core's default */
    const char *prompt;        /* or NULL: not sent */
};

struct ws_instance;

/* One mode: its name for messages and where its credentials come from. */
struct ws_mode {
    const char *mode; /* "webserver-eca" */
    /* Fill *client for the org; ISF_E_AUTH/ISF_E_CONFIG/ISF_E_USAGE with err set when the mode
     * cannot serve it (missing id, secret not loaded...). */
    int (*client)(const struct ws_instance *ws, const struct isf_org_view *org,
                  struct ws_client *client, struct isf_error *err);
};

struct ws_instance {
    const struct isf_host *host;
    const struct isf_opts *opts;
    const struct ws_mode *mode;
    void *mode_data; /* the plugin's own state (e.g. a loaded global secret) */
};

/* The options both modes take (append to a plugin's table with WS_COMMON_OPTIONS). */
#define WS_COMMON_OPTIONS                                                                          \
    {"prompt", ISF_OPT_STRING, NULL, 0,                                                            \
     "OAuth prompt sent to the login page, e.g. login or consent (default: none)"},                \
    {                                                                                              \
        "login_hint", ISF_OPT_STRING, NULL, 0,                                                     \
            "a username to pre-fill on the login page (default: none)"                             \
    }

/* create/destroy helpers: an instance with the host, options and mode; mode_data left NULL. */
int ws_create(const struct isf_host *host, const struct isf_opts *opts, const struct ws_mode *mode,
              struct ws_instance **out, struct isf_error *err);
void ws_destroy(struct ws_instance *ws);

/* Checks shared by both modes at org add/edit: an https login URL and, when set on the record,
 * a loopback redirect URI. */
int ws_check_common(const struct ws_instance *ws, const struct isf_org_view *org,
                    struct isf_error *err);

/* The auth ops (instance is a struct ws_instance). */
int ws_connect(void *instance, const struct isf_org_view *org, struct isf_session *out,
               struct isf_error *err);
int ws_refresh(void *instance, const struct isf_org_view *org, struct isf_session *out,
               struct isf_error *err);
int ws_refresh_request(void *instance, const struct isf_org_view *org,
                       struct isf_token_request *req, struct isf_error *err);
int ws_revoke(void *instance, const struct isf_org_view *org, struct isf_error *err);

/* The ops table of a web server plugin: its own create, destroy and check_settings, the rest
 * shared. */
#define WS_AUTH_OPS(create_fn, destroy_fn, check_fn)                                               \
    {                                                                                              \
        .struct_size = sizeof(struct isf_auth_ops), .create = (create_fn),                         \
        .destroy = (destroy_fn), .check_settings = (check_fn), .connect = ws_connect,              \
        .refresh = ws_refresh, .revoke = ws_revoke, .refresh_request = ws_refresh_request,         \
    }

/* A web server plugin's descriptor and its two exported symbols (ISF_DEFINE_PLUGIN_ABI and
 * isyncsf_plugin_init through ws_init): the name, description, extra capabilities, option table
 * and ops differ. */
#define WS_PLUGIN(name_str, desc_str, extra_caps, options_table, ops_table)                        \
    static const struct isf_plugin_descriptor ws_descriptor = {                                    \
        .struct_size = sizeof(struct isf_plugin_descriptor),                                       \
        .kind = ISF_PLUGIN_AUTH,                                                                   \
        .name = (name_str),                                                                        \
        .version = "0.1.0",                                                                        \
        .description = (desc_str),                                                                 \
        .capabilities =                                                                            \
            ISF_CAP_INTERACTIVE | ISF_CAP_REFRESHABLE | ISF_CAP_REVOCABLE | (extra_caps),          \
        .options = (options_table),                                                                \
        .ops = &(ops_table),                                                                       \
    };                                                                                             \
    ISF_DEFINE_PLUGIN_ABI();                                                                       \
    ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,                         \
                                              const struct isf_plugin_descriptor **out,            \
                                              struct isf_error *err)                               \
    {                                                                                              \
        return ws_init(host, &ws_descriptor, out, err);                                            \
    }

/* isyncsf_plugin_init of both: hands out `desc` when the host is at least ABI 1.0 (connect
 * checks for 1.2's oauth_authorize itself, so refresh and revoke keep working in an older core). */
int ws_init(const struct isf_host *host, const struct isf_plugin_descriptor *desc,
            const struct isf_plugin_descriptor **out, struct isf_error *err);

#endif

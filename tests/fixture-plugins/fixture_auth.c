/*
 * Fixture auth plugins for the loader tests. One source, compiled once per fixture with -D macros
 * (see CMakeLists.txt), so every broken fixture differs from the good one in exactly the one way
 * its name says, and the loader test can tell which check refused it.
 *
 *   FIX_NAME              descriptor name (default "auth-good")
 *   FIX_ABI_MAJOR/MINOR   exported ABI version (default ISF_ABI_MAJOR / ISF_ABI_MINOR)
 *   FIX_OPS_SIZE          ops struct_size (default sizeof(struct isf_auth_ops))
 *   FIX_NO_CONNECT        the mandatory connect op is NULL
 *   FIX_NO_ABI_SYMBOL     isyncsf_plugin_abi is not exported
 *   FIX_NO_INIT           isyncsf_plugin_init is not exported
 *   FIX_INIT_FAILS        init returns ISF_E_CONFIG with a message
 *   FIX_UNDEFINED_SYMBOL  an op calls a function no library defines (dlopen RTLD_NOW fails)
 *   FIX_DESC_SIZE         descriptor struct_size (default sizeof(struct isf_plugin_descriptor))
 *   FIX_CLASH             also exports `json_loads` (jansson's, which the core uses) and
 *                         `isf_org_parse` (a core-internal name), both broken on purpose, and
 *                         connect records FIX_NAME "-token": two such plugins loaded side by side
 *                         must each keep their own, and the core must keep the real ones
 *                         (dlopen RTLD_LOCAL; the core's references are bound before they load)
 *   FIX_REFRESH_GRANT     offers refresh_request (ABI 1.2) with the refresh-token grant, as the
 *                         web server modes renew, for the refresh engine's rotation test
 */
#include <isyncsf/plugin.h>

#include <stddef.h>

#ifndef FIX_NAME
#define FIX_NAME "auth-good"
#endif
#ifndef FIX_ABI_MAJOR
#define FIX_ABI_MAJOR ISF_ABI_MAJOR
#endif
#ifndef FIX_ABI_MINOR
#define FIX_ABI_MINOR ISF_ABI_MINOR
#endif
#ifndef FIX_OPS_SIZE
#define FIX_OPS_SIZE sizeof(struct isf_auth_ops)
#endif
#ifndef FIX_DESC_SIZE
#define FIX_DESC_SIZE sizeof(struct isf_plugin_descriptor)
#endif

/* The fixed session auth-good's connect and refresh record, so a test can recognise it. */
#ifdef FIX_CLASH
#define FIX_ACCESS_TOKEN FIX_NAME "-token"
#else
#define FIX_ACCESS_TOKEN "fixture-access-token"
#endif
#define FIX_INSTANCE_URL "https://fixture.my.salesforce.com"
#define FIX_REFRESH_TOKEN "fixture-refresh-token"
#define FIX_ISSUED_AT_MS 1700000000000LL
#define FIX_EXPIRES_AT_MS 1700003600000LL

#ifdef FIX_UNDEFINED_SYMBOL
/* Defined nowhere. Default visibility, or the static link itself would refuse a hidden
 * undefined symbol; this must get as far as dlopen. */
__attribute__((visibility("default"))) extern void isf_fixture_missing(void);
#endif

#ifdef FIX_CLASH
/* Same names as a libc-style library symbol and a core-internal function, exported with default
 * visibility. Both answer "nothing": were the core ever bound to them, its JSON parsing and its
 * record parsing would break, which the loader test would notice. */
ISF_PLUGIN_EXPORT void *json_loads(const char *input, size_t flags, void *error);
ISF_PLUGIN_EXPORT void *json_loads(const char *input, size_t flags, void *error)
{
    (void)input;
    (void)flags;
    (void)error;
    return NULL;
}
ISF_PLUGIN_EXPORT const char *isf_org_parse(void);
ISF_PLUGIN_EXPORT const char *isf_org_parse(void)
{
    return FIX_NAME;
}
#endif

struct fix_instance {
    const struct isf_host *host;
};

static const struct isf_option_spec fix_options[] = {
    {"endpoint", ISF_OPT_STRING, NULL, 1, "where the fixture pretends to connect"},
    {"retries", ISF_OPT_INT, "3", 0, "how often the fixture pretends to retry"},
    {"verbose", ISF_OPT_BOOL, "false", 0, "whether the fixture pretends to talk more"},
    {NULL, 0, NULL, 0, NULL},
};

static int fix_create(const struct isf_host *host, const struct isf_opts *opts, void **instance,
                      struct isf_error *err)
{
    (void)opts;
#ifdef FIX_UNDEFINED_SYMBOL
    isf_fixture_missing();
#endif
    struct fix_instance *fi = host->alloc(host, sizeof(*fi));
    if (!fi)
        return host->error_set(host, err, ISF_E_NOMEM, "out of memory");
    fi->host = host;
    *instance = fi;
    return ISF_OK;
}

static void fix_destroy(void *instance)
{
    struct fix_instance *fi = instance;
    if (fi)
        fi->host->free(fi->host, fi);
}

static int fix_check_settings(void *instance, const struct isf_org_settings_check *check,
                              struct isf_error *err)
{
    (void)instance;
    (void)check;
    (void)err;
    return ISF_OK;
}

/* Fixed values: the test checks that they arrive unchanged through the core's session_set. */
static int fix_connect(void *instance, const struct isf_org_view *org, struct isf_session *out,
                       struct isf_error *err)
{
    struct fix_instance *fi = instance;
    (void)org;
    return fi->host->session_set(fi->host, out, FIX_ACCESS_TOKEN, FIX_INSTANCE_URL,
                                 FIX_REFRESH_TOKEN, FIX_ISSUED_AT_MS, FIX_EXPIRES_AT_MS, err);
}

#ifdef FIX_REFRESH_GRANT
static int fix_refresh_request(void *instance, const struct isf_org_view *org,
                               struct isf_token_request *req, struct isf_error *err)
{
    struct fix_instance *fi = instance;
    if (!org->refresh_token)
        return fi->host->error_set(fi->host, err, ISF_E_AUTH, "org %s has no refresh token",
                                   org->name);
    req->form[0] = "grant_type";
    req->form[1] = "refresh_token";
    req->form[2] = "refresh_token";
    req->form[3] = org->refresh_token;
    req->form[4] = NULL;
    req->client_id = org->client_id;
    req->client_secret = org->client_secret;
    return ISF_OK;
}
#endif

static const struct isf_auth_ops fix_ops = {
    .struct_size = FIX_OPS_SIZE,
    .create = fix_create,
    .destroy = fix_destroy,
    .check_settings = fix_check_settings,
#ifndef FIX_NO_CONNECT
    .connect = fix_connect,
#endif
    .refresh = fix_connect,
    .revoke = NULL, /* optional: nothing to revoke */
#ifdef FIX_REFRESH_GRANT
    .refresh_request = fix_refresh_request,
#endif
};

static const struct isf_plugin_descriptor fix_descriptor = {
    .struct_size = FIX_DESC_SIZE,
    .kind = ISF_PLUGIN_AUTH,
    .name = FIX_NAME,
    .version = "9.8.7",
    .description = "loader test fixture",
    .capabilities = ISF_CAP_REFRESHABLE,
    .options = fix_options,
    .ops = &fix_ops,
};

#ifndef FIX_NO_ABI_SYMBOL
ISF_PLUGIN_EXPORT const struct isf_abi_version isyncsf_plugin_abi = {FIX_ABI_MAJOR, FIX_ABI_MINOR};
#endif

#ifndef FIX_NO_INIT
ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,
                                          const struct isf_plugin_descriptor **out,
                                          struct isf_error *err)
{
#ifdef FIX_INIT_FAILS
    (void)out;
    return host->error_set(host, err, ISF_E_CONFIG, "fixture refuses to start on purpose");
#else
    (void)host;
    (void)err;
    *out = &fix_descriptor;
    return ISF_OK;
#endif
}
#endif

#if defined(FIX_NO_INIT) || defined(FIX_INIT_FAILS)
/* Without an init that hands it out, the descriptor would be unused; keep -Werror quiet. */
__attribute__((used)) static const void *fix_keep = &fix_descriptor;
#endif

/* Plugin discovery and loading: dlopen, ABI check, size-gated copy of the descriptor and ops,
 * option validation, instance creation. A plugin that fails is marked, never fatal. */
#define _GNU_SOURCE /* dladdr */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The smallest descriptor/ops a plugin may declare: everything of ABI 1.0. */
#define DESC_MIN_SIZE (offsetof(struct isf_plugin_descriptor, ops) + sizeof(void *))
#define AUTH_MIN_SIZE (offsetof(struct isf_auth_ops, revoke) + sizeof(void *))
#define STORE_MIN_SIZE (offsetof(struct isf_store_ops, unlock) + sizeof(void *))

static int valid_plugin_name(const char *name)
{
    if (!name || !*name || strlen(name) > 64 || name[0] == '-')
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

/* Folder of libisyncsf itself (or of the program it is linked into): plugins of a build tree
 * and of an installation sit at a fixed place relative to it. */
static char *self_relative_dir(const char *rel)
{
    Dl_info info;
    char buf[PATH_MAX];
    if (dladdr((void *)self_relative_dir, &info) && info.dli_fname &&
        realpath(info.dli_fname, buf)) {
        return isf_aprintf("%s/%s", dirname(buf), rel);
    }
    return NULL;
}

static char *exe_relative_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return isf_aprintf("%s/%s", dirname(buf), ISF_PLUGIN_DIR_FROM_BIN);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Search order: $ISYNCSF_PLUGIN_PATH, plugins.path, next to libisyncsf, next to the program,
 * the installed folder. */
static char *find_plugin(struct isf_ctx *ctx, const char *name, char *searched, size_t slen)
{
    char *dirs[64];
    size_t n = 0;
    char *envcopy = isf_strdup(getenv("ISYNCSF_PLUGIN_PATH"));
    char *save = NULL;
    for (char *d = envcopy ? strtok_r(envcopy, ":", &save) : NULL; d && n < 40;
         d = strtok_r(NULL, ":", &save))
        dirs[n++] = strdup(d);
    for (size_t i = 0; i < ctx->cfg->n_plugin_path && n < 56; i++)
        dirs[n++] = strdup(ctx->cfg->plugin_path[i]);
    dirs[n++] = self_relative_dir("isyncsf/plugins");
    dirs[n++] = exe_relative_dir();
    dirs[n++] = strdup(ISF_PLUGIN_INSTALL_FULL_DIR);
    free(envcopy);
    char *found = NULL;
    size_t used = 0;
    searched[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!dirs[i])
            continue;
        if (!found) {
            char *cand = isf_aprintf("%s/%s.so", dirs[i], name);
            if (cand && file_exists(cand))
                found = cand;
            else
                free(cand);
            if (used < slen)
                used += (size_t)snprintf(searched + used, slen - used, "%s%s", used ? ":" : "",
                                         dirs[i]);
        }
        free(dirs[i]);
    }
    return found;
}

static int fail(struct isf_plugin *p, int code, const char *fmt, ...) ISF_PRINTF(3, 4);
static int fail(struct isf_plugin *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof(p->error), fmt, ap);
    va_end(ap);
    p->failed = 1;
    p->error_code = code;
    return code;
}

/* Every folder from the file's up to / must be safe too, or whoever may write one could swap
 * the file (or the symlink) for their own code: owned by root or by us, and not writable by
 * group or others — unless it is a root-owned sticky folder like /tmp, where no one else can
 * rename or delete what is ours. The checks OpenSSH's StrictModes makes of authorized_keys. */
static int check_folders_safety(struct isf_plugin *p, const char *file)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", file);
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            return ISF_OK; /* a relative name: its folders were checked through the full path */
        *(slash == dir ? slash + 1 : slash) = '\0';
        struct stat st;
        if (stat(dir, &st) != 0)
            return fail(p, ISF_E_CONFIG, "plugin %s: cannot stat folder %s: %s", p->path, dir,
                        strerror(errno));
        int sticky_root = (st.st_mode & S_ISVTX) && st.st_uid == 0;
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_root)
            return fail(p, ISF_E_CONFIG,
                        "plugin %s: refused, folder %s is writable by group or others (mode "
                        "%04o); run: chmod go-w %s",
                        p->path, dir, (unsigned)(st.st_mode & 07777), dir);
        if (st.st_uid != 0 && st.st_uid != geteuid())
            return fail(p, ISF_E_CONFIG,
                        "plugin %s: refused, folder %s is owned by another user (uid %u)", p->path,
                        dir, (unsigned)st.st_uid);
        if (strcmp(dir, "/") == 0)
            return ISF_OK;
    }
}

/* Refuse a plugin file anyone but its owner (or root) could have replaced. A symlink is
 * followed: the file it names is checked, and the folders of both the link and the file. */
static int check_file_safety(struct isf_plugin *p)
{
    struct stat st;
    if (stat(p->path, &st) != 0)
        return fail(p, ISF_E_CONFIG, "plugin %s: cannot stat: %s", p->path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(p, ISF_E_CONFIG, "plugin %s: not a regular file", p->path);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return fail(p, ISF_E_CONFIG,
                    "plugin %s: refused, it is writable by group or others (mode %04o); "
                    "run: chmod go-w %s",
                    p->path, (unsigned)(st.st_mode & 07777), p->path);
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return fail(p, ISF_E_CONFIG, "plugin %s: refused, owned by another user (uid %u)", p->path,
                    (unsigned)st.st_uid);
    char real[PATH_MAX];
    if (!realpath(p->path, real))
        return fail(p, ISF_E_CONFIG, "plugin %s: cannot resolve: %s", p->path, strerror(errno));
    int rc = check_folders_safety(p, p->path);
    return rc == ISF_OK ? check_folders_safety(p, real) : rc;
}

static int check_ops(struct isf_plugin *p)
{
    const void *ops = p->desc.ops;
    if (!ops)
        return fail(p, ISF_E_CONFIG, "plugin %s: descriptor has no ops table", p->path);
    uint32_t size = *(const uint32_t *)ops;
    if (p->desc.kind == ISF_PLUGIN_AUTH) {
        if (size < AUTH_MIN_SIZE)
            return fail(p, ISF_E_CONFIG,
                        "plugin %s: incomplete auth ops table (%u bytes, ABI 1.0 needs %zu)",
                        p->path, size, AUTH_MIN_SIZE);
        memcpy(&p->auth, ops, size < sizeof(p->auth) ? size : sizeof(p->auth));
        const struct isf_auth_ops *a = &p->auth;
        const char *missing = !a->create           ? "create"
                              : !a->destroy        ? "destroy"
                              : !a->check_settings ? "check_settings"
                              : !a->connect        ? "connect"
                              : !a->refresh        ? "refresh"
                                                   : NULL;
        if (missing)
            return fail(p, ISF_E_CONFIG, "plugin %s: mandatory auth op '%s' is missing", p->path,
                        missing);
    } else if (p->desc.kind == ISF_PLUGIN_STORE) {
        if (size < STORE_MIN_SIZE)
            return fail(p, ISF_E_CONFIG,
                        "plugin %s: incomplete store ops table (%u bytes, ABI 1.0 needs %zu)",
                        p->path, size, STORE_MIN_SIZE);
        memcpy(&p->store, ops, size < sizeof(p->store) ? size : sizeof(p->store));
        const struct isf_store_ops *s = &p->store;
        const char *missing = !s->open     ? "open"
                              : !s->close  ? "close"
                              : !s->get    ? "get"
                              : !s->put    ? "put"
                              : !s->remove ? "remove"
                              : !s->list   ? "list"
                              : !s->lock   ? "lock"
                              : !s->unlock ? "unlock"
                                           : NULL;
        if (missing)
            return fail(p, ISF_E_CONFIG, "plugin %s: mandatory store op '%s' is missing", p->path,
                        missing);
        /* The optional 1.2 change watching is one feature: a descriptor nobody can drain, or a
         * drain without a descriptor, would leave the daemon spinning or deaf. */
        if (!s->watch != !s->changes)
            return fail(p, ISF_E_CONFIG,
                        "plugin %s: store op '%s' is set without '%s'; a store offers both "
                        "watch and changes or neither (fix the plugin's ops table)",
                        p->path, s->watch ? "watch" : "changes", s->watch ? "changes" : "watch");
    } else {
        return fail(p, ISF_E_CONFIG, "plugin %s: unknown plugin kind %d", p->path,
                    (int)p->desc.kind);
    }
    return ISF_OK;
}

/* Option defaults may say "${data_dir}/..." so a plugin needs no knowledge of the layout. */
static void expand_data_dir(struct isf_ctx *ctx, json_t *opts)
{
    const char *k;
    json_t *v;
    static const char var[] = "${data_dir}";
    json_object_foreach(opts, k, v)
    {
        const char *s = json_string_value(v);
        if (s && strncmp(s, var, sizeof(var) - 1) == 0) {
            char *full = isf_aprintf("%s%s", ctx->cfg->data_dir, s + sizeof(var) - 1);
            if (full)
                json_string_set(v, full);
            free(full);
        }
    }
}

static int open_dl(struct isf_plugin *p)
{
    p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl)
        return fail(p, ISF_E_CONFIG, "plugin %s: cannot load: %s", p->path, dlerror());
    const struct isf_abi_version *abi = dlsym(p->dl, ISF_PLUGIN_ABI_SYMBOL);
    if (!abi)
        return fail(p, ISF_E_CONFIG,
                    "plugin %s: not an isyncsf plugin (no '%s' symbol); rebuild it against "
                    "isyncsf/plugin.h",
                    p->path, ISF_PLUGIN_ABI_SYMBOL);
    if (abi->major != ISF_ABI_MAJOR || abi->minor > ISF_ABI_MINOR)
        return fail(p, ISF_E_CONFIG,
                    "plugin %s: built for plugin ABI %u.%u, but this isyncsf offers %d.%d; "
                    "rebuild the plugin against this version",
                    p->path, abi->major, abi->minor, ISF_ABI_MAJOR, ISF_ABI_MINOR);
    p->abi_minor = abi->minor;
    return ISF_OK;
}

static int init_plugin(struct isf_plugin *p, const char *requested_name)
{
    isf_plugin_init_fn init;
    *(void **)&init = dlsym(p->dl, ISF_PLUGIN_INIT_SYMBOL);
    if (!init)
        return fail(p, ISF_E_CONFIG, "plugin %s: no '%s' function", p->path,
                    ISF_PLUGIN_INIT_SYMBOL);
    isf_host_init(p);
    const struct isf_plugin_descriptor *desc = NULL;
    struct isf_error err;
    isf_err_init(&err);
    int rc = init(&p->host, &desc, &err);
    if (rc != ISF_OK || !desc)
        return fail(p, ISF_E_CONFIG, "plugin %s: initialisation failed: %s", p->path,
                    err.message[0] ? err.message : "no descriptor returned");
    if (desc->struct_size < DESC_MIN_SIZE)
        return fail(p, ISF_E_CONFIG, "plugin %s: descriptor too small (%u bytes)", p->path,
                    desc->struct_size);
    memcpy(&p->desc, desc,
           desc->struct_size < sizeof(p->desc) ? desc->struct_size : sizeof(p->desc));
    if (!valid_plugin_name(p->desc.name))
        return fail(p, ISF_E_CONFIG,
                    "plugin %s: invalid plugin name '%s' (lower-case letters, digits, '-')",
                    p->path, p->desc.name ? p->desc.name : "(null)");
    const char *prefix = p->desc.kind == ISF_PLUGIN_AUTH ? "auth-" : "store-";
    size_t plen = strlen(prefix);
    if ((p->desc.kind == ISF_PLUGIN_AUTH || p->desc.kind == ISF_PLUGIN_STORE) &&
        (strncmp(p->desc.name, prefix, plen) != 0 || !p->desc.name[plen]))
        return fail(p, ISF_E_CONFIG,
                    "plugin %s: a %s plugin's name must be %s<something>, not '%s'", p->path,
                    p->desc.kind == ISF_PLUGIN_AUTH ? "auth" : "store", prefix, p->desc.name);
    if (requested_name && strcmp(requested_name, p->desc.name) != 0)
        return fail(p, ISF_E_CONFIG, "plugin %s: calls itself '%s', expected '%s'", p->path,
                    p->desc.name, requested_name);
    free(p->name);
    p->name = strdup(p->desc.name);
    return check_ops(p);
}

static int create_instance(struct isf_ctx *ctx, struct isf_plugin *p, size_t index)
{
    struct isf_error err;
    isf_err_init(&err);
    int rc =
        isf_config_plugin_options(ctx->cfg, index, p->desc.options, p->name, &p->options, &err);
    if (rc != ISF_OK)
        return fail(p, ISF_E_CONFIG, "%s", err.message);
    expand_data_dir(ctx, p->options);
    const struct isf_opts *opts = (const struct isf_opts *)p->options;
    if (p->desc.kind == ISF_PLUGIN_AUTH)
        rc = p->auth.create(&p->host, opts, &p->instance, &err);
    else
        rc = p->store.open(&p->host, opts, &p->instance, &err);
    if (rc != ISF_OK)
        return fail(p, rc, "plugin %s: %s", p->name,
                    err.message[0] ? err.message : "could not start");
    return ISF_OK;
}

static void load_one(struct isf_ctx *ctx, struct isf_plugin *p, size_t index)
{
    const struct isf_plugin_conf *pc = &ctx->cfg->plugins[index];
    p->ctx = ctx;
    char where[256] = "";
    if (pc->line > 0)
        snprintf(where, sizeof(where), "%s:%d: ", ctx->cfg->file, pc->line);
    if (pc->name) {
        p->name = strdup(pc->name);
        if (!valid_plugin_name(pc->name)) {
            fail(p, ISF_E_CONFIG, "%splugin name '%s' is invalid (letters, digits, '-')", where,
                 pc->name);
            return;
        }
        char searched[1024];
        p->path = find_plugin(ctx, pc->name, searched, sizeof(searched));
        if (!p->path) {
            fail(p, ISF_E_NOT_FOUND,
                 "%splugin %s not found (searched %s); set plugins.path or "
                 "ISYNCSF_PLUGIN_PATH",
                 where, pc->name, searched);
            return;
        }
    } else {
        p->path = strdup(pc->path);
        char *base = strrchr(pc->path, '/');
        p->name = strdup(base ? base + 1 : pc->path);
    }
    for (size_t i = 0; i < ctx->n_plugins; i++) {
        struct isf_plugin *other = &ctx->plugins[i];
        if (other != p && !other->failed && other->desc.name && p->name &&
            strcmp(other->desc.name, p->name) == 0) {
            fail(p, ISF_E_CONFIG, "%splugin %s is loaded twice; remove one entry", where, p->name);
            return;
        }
    }
    if (check_file_safety(p) || open_dl(p) || init_plugin(p, pc->name))
        return;
    for (size_t i = 0; i < ctx->n_plugins; i++) {
        struct isf_plugin *other = &ctx->plugins[i];
        if (other != p && other->instance && strcmp(other->desc.name, p->desc.name) == 0) {
            fail(p, ISF_E_CONFIG, "%splugin %s is loaded twice; remove one entry", where, p->name);
            return;
        }
    }
    if (create_instance(ctx, p, index) == ISF_OK)
        isf_log(ctx, ISF_LOG_DEBUG, "loaded plugin %s %s from %s", p->name, p->desc.version,
                p->path);
}

int isf_plugins_load_all(struct isf_ctx *ctx, struct isf_error *err)
{
    ctx->plugins = calloc(ctx->cfg->n_plugins ? ctx->cfg->n_plugins : 1, sizeof(*ctx->plugins));
    if (!ctx->plugins)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    ctx->n_plugins = ctx->cfg->n_plugins;
    for (size_t i = 0; i < ctx->n_plugins; i++) {
        struct isf_plugin *p = &ctx->plugins[i];
        load_one(ctx, p, i);
        if (p->failed) {
            isf_log(ctx, ISF_LOG_WARN, "%s", p->error);
            continue;
        }
        if (p->desc.kind == ISF_PLUGIN_STORE && !ctx->store)
            ctx->store = p;
    }
    return ISF_OK;
}

void isf_plugins_unload_all(struct isf_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_plugins; i++) {
        struct isf_plugin *p = &ctx->plugins[i];
        if (p->instance) {
            if (p->desc.kind == ISF_PLUGIN_AUTH)
                p->auth.destroy(p->instance);
            else
                p->store.close(p->instance);
        }
        json_decref(p->options);
        /* Sanitizer builds keep plugins mapped so leak reports can name their frames. */
#ifndef ISF_KEEP_PLUGINS_MAPPED
        if (p->dl)
            dlclose(p->dl);
#endif
        free(p->name);
        free(p->path);
    }
    free(ctx->plugins);
    ctx->plugins = NULL;
    ctx->n_plugins = 0;
    ctx->store = NULL;
}

int isf_auth_plugin_for_mode(struct isf_ctx *ctx, const char *mode, struct isf_plugin **out,
                             struct isf_error *err)
{
    char want[80];
    snprintf(want, sizeof(want), "auth-%s", mode ? mode : "");
    for (size_t i = 0; i < ctx->n_plugins; i++) {
        struct isf_plugin *p = &ctx->plugins[i];
        if (p->name && strcmp(p->name, want) == 0) {
            if (p->failed)
                return isf_err_set(err, ISF_E_CONFIG, "mode %s is unavailable: %s", mode, p->error);
            if (p->desc.kind != ISF_PLUGIN_AUTH)
                continue;
            *out = p;
            return ISF_OK;
        }
    }
    return isf_err_set(err, ISF_E_NOT_FOUND,
                       "unknown mode '%s': no plugin %s is loaded (see isyncsf plugins; add it "
                       "under plugins.load in the config)",
                       mode ? mode : "", want);
}

int isf_store_ready(struct isf_ctx *ctx, struct isf_error *err)
{
    if (ctx->store)
        return ISF_OK;
    for (size_t i = 0; i < ctx->n_plugins; i++) {
        struct isf_plugin *p = &ctx->plugins[i];
        if (p->failed && p->name && strncmp(p->name, "store-", 6) == 0)
            return isf_err_set(err, p->error_code == ISF_E_STORE ? ISF_E_STORE : ISF_E_CONFIG,
                               "the store is unavailable: %s", p->error);
    }
    return isf_err_set(err, ISF_E_CONFIG,
                       "no store plugin is loaded; add one (e.g. store-file) under plugins.load");
}

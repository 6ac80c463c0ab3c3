/* The plugins: section, {path: [folders], load: [{name|path, options}]}, and the bundled set that
 * applies without it. A load entry's options are only located here (options_node); they are
 * checked against the plugin's schema once it is loaded (config_options.c). */
#include "config_internal.h"

#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* core/CMakeLists.txt defines the real list; this keeps a direct compile working. */
#ifndef ISF_BUNDLED_PLUGINS
#define ISF_BUNDLED_PLUGINS                                                                        \
    "auth-client-credentials,auth-named-credential,auth-webserver-eca,auth-webserver-"             \
    "connectedapp,"                                                                                \
    "store-file"
#endif

void cfg_free_plugins(struct isf_config *cfg)
{
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        free(cfg->plugins[i].name);
        free(cfg->plugins[i].path);
    }
    free(cfg->plugins);
    cfg->plugins = NULL;
    cfg->n_plugins = 0;
}

/* The comma-separated ISF_BUNDLED_PLUGINS as load entries without options (line 0). */
int cfg_bundled_plugins(struct isf_config *cfg)
{
    char *list = strdup(ISF_BUNDLED_PLUGINS);
    size_t cap = 1;
    for (const char *p = ISF_BUNDLED_PLUGINS; *p; p++)
        cap += *p == ',';
    cfg->plugins = calloc(cap, sizeof(*cfg->plugins));
    if (!list || !cfg->plugins) {
        free(list);
        return ISF_E_NOMEM;
    }
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        cfg->plugins[cfg->n_plugins].name = strdup(tok);
        if (!cfg->plugins[cfg->n_plugins].name) {
            free(list);
            return ISF_E_NOMEM;
        }
        cfg->n_plugins++;
    }
    free(list);
    return ISF_OK;
}

/* ^[a-z0-9][a-z0-9-]*$: a name is looked up in plugin folders, so it must not be a path. */
static int valid_plugin_name(const char *s)
{
    if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
        return 0;
    for (const char *p = s; *p; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return 0;
    }
    return 1;
}

static int load_plugin_name(struct isf_plugin_conf *pc, const struct cfg_doc *d,
                            const yaml_node_t *v, const char *path, struct isf_error *err)
{
    const char *s = cfg_scalar(v);
    if (s && !valid_plugin_name(s))
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: %s: '%.40s' is not a plugin name (lowercase letters, digits "
                           "and '-', no '/' or '..'); to load a file by its location, write "
                           "'path:' instead of 'name:'",
                           d->file, cfg_line(v), path, s);
    return cfg_get_string(d, v, path, 1, &pc->name, err);
}

static int load_plugin_options(struct isf_plugin_conf *pc, const struct cfg_doc *d,
                               const yaml_node_t *v, const char *path, struct isf_error *err)
{
    if (!v || cfg_is_null(v))
        return ISF_OK;
    if (v->type != YAML_MAPPING_NODE)
        return cfg_wrong_type(d, v, path, "a mapping of the plugin's options", err);
    pc->options_node = cfg_index(d, v);
    return ISF_OK;
}

static int load_plugin_entry(struct isf_plugin_conf *pc, const struct cfg_doc *d,
                             const yaml_node_t *item, size_t idx, struct isf_error *err)
{
    static const char *const names[] = {"name", "path", "options"};
    struct cfg_keyset keys = {names, ARRAY_LEN(names), "key", "in a 'plugins.load' entry"};
    char path[64], sub[80];
    snprintf(path, sizeof(path), "plugins.load[%zu]", idx);
    if (!item || item->type != YAML_MAPPING_NODE)
        return cfg_wrong_type(d, item, path, "a mapping such as {name: store-file}", err);
    int rc = cfg_check_map(d, item, path, &keys, err);
    if (rc)
        return rc;
    pc->line = cfg_line(item);
    const yaml_node_t *name = cfg_map_get(d, item, "name");
    const yaml_node_t *file = cfg_map_get(d, item, "path");
    if (!name == !file)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: %s: give exactly one of 'name' (a plugin looked up in the "
                           "plugin folders) or 'path' (a plugin file)%s",
                           d->file, pc->line, path, name ? ", not both" : "");
    snprintf(sub, sizeof(sub), "%s.%s", path, name ? "name" : "path");
    rc =
        name ? load_plugin_name(pc, d, name, sub, err) : cfg_get_path(d, file, sub, &pc->path, err);
    if (rc)
        return rc;
    snprintf(sub, sizeof(sub), "%s.options", path);
    return load_plugin_options(pc, d, cfg_map_get(d, item, "options"), sub, err);
}

/* The same plugin twice would register the same mode twice. */
static int check_plugin_twice(const struct isf_config *cfg, const struct cfg_doc *d,
                              struct isf_error *err)
{
    for (size_t i = 1; i < cfg->n_plugins; i++) {
        const struct isf_plugin_conf *b = &cfg->plugins[i];
        for (size_t j = 0; j < i; j++) {
            const struct isf_plugin_conf *a = &cfg->plugins[j];
            const char *sa = a->name ? a->name : a->path, *sb = b->name ? b->name : b->path;
            if (sa && sb && !a->name == !b->name && strcmp(sa, sb) == 0)
                return isf_err_set(err, ISF_E_CONFIG,
                                   "%s:%d: plugin '%s' is listed twice in plugins.load (first on "
                                   "line %d); keep one entry",
                                   d->file, b->line, sb, a->line);
        }
    }
    return ISF_OK;
}

static int load_plugin_list(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                            struct isf_error *err)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_wrong_type(d, n, "plugins.load",
                              "a list of entries such as '- name: store-file'", err);
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    cfg_free_plugins(cfg);
    cfg->plugins = calloc(count ? count : 1, sizeof(*cfg->plugins));
    if (!cfg->plugins)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory reading plugins.load");
    for (size_t i = 0; i < count; i++) {
        cfg->n_plugins++; /* counted first so a half-filled entry is freed too */
        const yaml_node_t *item = cfg_node(d, n->data.sequence.items.start[i]);
        int rc = load_plugin_entry(&cfg->plugins[i], d, item, i, err);
        if (rc)
            return rc;
    }
    return check_plugin_twice(cfg, d, err);
}

static int load_plugin_path(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                            struct isf_error *err)
{
    int rc = cfg_get_string_list(d, n, "plugins.path", &cfg->plugin_path, &cfg->n_plugin_path, err);
    for (size_t i = 0; rc == ISF_OK && i < cfg->n_plugin_path; i++) {
        const yaml_node_t *item = cfg_node(d, n->data.sequence.items.start[i]);
        char *expanded = isf_expand_home(cfg->plugin_path[i]);
        if (!expanded)
            return isf_err_set(err, ISF_E_NOMEM, "out of memory reading plugins.path");
        free(cfg->plugin_path[i]);
        cfg->plugin_path[i] = expanded;
        if (expanded[0] == '\0')
            rc = cfg_wrong_type(d, item, "plugins.path", "a list of folders", err);
    }
    return rc;
}

int cfg_load_plugins(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                     struct isf_error *err)
{
    static const char *const names[] = {"path", "load"};
    struct cfg_keyset keys = {names, ARRAY_LEN(names), "key", "in 'plugins'"};
    int rc = cfg_check_map(d, n, "plugins", &keys, err);
    const yaml_node_t *v = cfg_map_get(d, n, "path");
    if (rc == ISF_OK && v && !cfg_is_null(v))
        rc = load_plugin_path(cfg, d, v, err);
    v = cfg_map_get(d, n, "load");
    /* "load:" with nothing means the same as no load: the bundled set. */
    if (rc == ISF_OK && v && !cfg_is_null(v))
        rc = load_plugin_list(cfg, d, v, err);
    return rc;
}

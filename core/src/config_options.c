/* A plugin's `options:` checked against the schema it declares (struct isf_option_spec), with
 * defaults applied, handed on as one JSON object. Runs after the plugin is loaded, on the YAML
 * document that isf_config_load kept in cfg->priv. */
#include "config.h"

#include "config_node.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ISF_OPT_MAP values are copied whole; an alias loop (&a [*a]) or an alias bomb would otherwise
 * recurse forever or expand exponentially. */
#define MAP_MAX_DEPTH 32
#define MAP_MAX_NODES 10000

/* What is being read, for messages. */
struct opt_ctx {
    const struct cfg_doc *d;
    const char *plugin;
    int budget; /* nodes still allowed in ISF_OPT_MAP copies */
};

static int nomem(struct isf_error *err)
{
    return isf_err_set(err, ISF_E_NOMEM, "out of memory reading plugin options");
}

/* ---------------------------------------------------------------------------------------------
 * ISF_OPT_MAP: YAML to JSON. Scalars stay text (the plugin decides what they mean); a YAML null
 * becomes JSON null so that "token_file: ~" is not mistaken for the home folder.
 */

static int to_json(struct opt_ctx *c, const yaml_node_t *n, const char *path, int depth,
                   json_t **out, struct isf_error *err);

static int too_big(struct opt_ctx *c, const yaml_node_t *n, const char *path, struct isf_error *err)
{
    return isf_err_set(err, ISF_E_CONFIG,
                       "%s:%d: %s: nested too deeply or too large (more than %d levels or %d "
                       "values; an alias loop?); simplify it",
                       c->d->file, cfg_line(n), path, MAP_MAX_DEPTH, MAP_MAX_NODES);
}

static int seq_to_json(struct opt_ctx *c, const yaml_node_t *n, const char *path, int depth,
                       json_t *arr, struct isf_error *err)
{
    for (const yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        json_t *v = NULL;
        int rc = to_json(c, cfg_node(c->d, *it), path, depth + 1, &v, err);
        if (rc)
            return rc;
        if (json_array_append_new(arr, v))
            return nomem(err);
    }
    return ISF_OK;
}

static int map_to_json(struct opt_ctx *c, const yaml_node_t *n, const char *path, int depth,
                       json_t *obj, struct isf_error *err)
{
    for (const yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = cfg_node(c->d, p->key);
        const char *key = cfg_scalar(k);
        if (!key)
            return isf_err_set(err, ISF_E_CONFIG,
                               "%s:%d: %s: a key must be a plain name, not a list or mapping",
                               c->d->file, cfg_line(k), path);
        if (json_object_get(obj, key))
            return isf_err_set(err, ISF_E_CONFIG, "%s:%d: %s: duplicate key '%.40s'; keep one",
                               c->d->file, cfg_line(k), path, key);
        json_t *v = NULL;
        int rc = to_json(c, cfg_node(c->d, p->value), path, depth + 1, &v, err);
        if (rc)
            return rc;
        if (json_object_set_new(obj, key, v))
            return nomem(err);
    }
    return ISF_OK;
}

static int to_json(struct opt_ctx *c, const yaml_node_t *n, const char *path, int depth,
                   json_t **out, struct isf_error *err)
{
    if (!n)
        return isf_err_set(err, ISF_E_FAILED, "%s: internal error: dangling YAML node", path);
    if (depth > MAP_MAX_DEPTH || --c->budget < 0)
        return too_big(c, n, path, err);
    if (n->type == YAML_SCALAR_NODE) {
        *out = cfg_is_null(n) ? json_null() : json_string(cfg_scalar(n));
        return *out ? ISF_OK : nomem(err);
    }
    int is_seq = n->type == YAML_SEQUENCE_NODE;
    json_t *v = is_seq ? json_array() : json_object();
    if (!v)
        return nomem(err);
    int rc =
        is_seq ? seq_to_json(c, n, path, depth, v, err) : map_to_json(c, n, path, depth, v, err);
    if (rc) {
        json_decref(v);
        return rc;
    }
    *out = v;
    return ISF_OK;
}

/* ---------------------------------------------------------------------------------------------
 * One option given in the file.
 */

static json_t *string_list_json(char **list)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && list[i]; i++) {
        if (json_array_append_new(arr, json_string(list[i]))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static int text_json(struct opt_ctx *c, const yaml_node_t *n, const char *path, int is_path,
                     json_t **out, struct isf_error *err)
{
    char *s = NULL;
    int rc = cfg_get_string(c->d, n, path, is_path, &s, err);
    if (rc)
        return rc;
    char *expanded = is_path ? isf_expand_home(s) : s;
    *out = expanded ? json_string(expanded) : NULL;
    if (expanded != s)
        free(expanded);
    free(s);
    return *out ? ISF_OK : nomem(err);
}

static int list_json(struct opt_ctx *c, const yaml_node_t *n, const char *path, json_t **out,
                     struct isf_error *err)
{
    char **list = NULL;
    int rc = cfg_get_string_list(c->d, n, path, &list, NULL, err);
    if (rc)
        return rc;
    *out = string_list_json(list);
    cfg_free_string_list(list);
    return *out ? ISF_OK : nomem(err);
}

static int option_json(struct opt_ctx *c, const struct isf_option_spec *s, const yaml_node_t *n,
                       const char *path, json_t **out, struct isf_error *err)
{
    long long v;
    int b, rc;
    switch (s->type) {
    case ISF_OPT_STRING:
    case ISF_OPT_PATH:
        return text_json(c, n, path, s->type == ISF_OPT_PATH, out, err);
    case ISF_OPT_INT:
        rc = cfg_get_llong(c->d, n, path, LLONG_MIN, LLONG_MAX, &v, err);
        *out = rc ? NULL : json_integer((json_int_t)v);
        return rc ? rc : (*out ? ISF_OK : nomem(err));
    case ISF_OPT_BOOL:
        rc = cfg_get_bool(c->d, n, path, &b, err);
        *out = rc ? NULL : json_boolean(b);
        return rc;
    case ISF_OPT_STRING_LIST:
        return list_json(c, n, path, out, err);
    case ISF_OPT_MAP:
        if (n->type != YAML_MAPPING_NODE)
            return cfg_wrong_type(c->d, n, path, "a mapping (key: value)", err);
        return to_json(c, n, path, 0, out, err);
    }
    return isf_err_set(err, ISF_E_CONFIG,
                       "plugin '%s' declares option '%s' with an unknown type (%d); the plugin "
                       "is broken: report it to its author",
                       c->plugin, s->name, (int)s->type);
}

/* ---------------------------------------------------------------------------------------------
 * Defaults: the spec's text, read the way the same text in the file would be.
 */

/* STRING_LIST and MAP defaults are YAML flow text ("[a, b]", "{}"), parsed on the spot. */
static int structured_default(struct opt_ctx *c, const struct isf_option_spec *s, json_t **out,
                              struct isf_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return nomem(err);
    yaml_parser_set_input_string(&parser, (const unsigned char *)s->default_value,
                                 strlen(s->default_value));
    int rc = ISF_E_CONFIG;
    if (yaml_parser_load(&parser, &doc)) {
        struct cfg_doc d = {&doc, "default"};
        struct opt_ctx dc = {&d, c->plugin, MAP_MAX_NODES};
        const yaml_node_t *root = yaml_document_get_root_node(&doc);
        rc = root ? option_json(&dc, s, root, s->name, out, err) : ISF_E_CONFIG;
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return rc;
}

static int default_json(struct opt_ctx *c, const struct isf_option_spec *s, json_t **out,
                        struct isf_error *err)
{
    const char *t = s->default_value;
    long long v;
    int b, rc = ISF_OK;
    char *expanded;
    *out = NULL;
    switch (s->type) {
    case ISF_OPT_STRING:
        *out = json_string(t);
        break;
    case ISF_OPT_PATH:
        expanded = isf_expand_home(t);
        *out = expanded ? json_string(expanded) : NULL;
        free(expanded);
        break;
    case ISF_OPT_INT:
        rc = cfg_parse_llong(t, &v) ? ISF_E_CONFIG : ISF_OK;
        *out = rc ? NULL : json_integer((json_int_t)v);
        break;
    case ISF_OPT_BOOL:
        rc = cfg_parse_bool(t, &b) ? ISF_E_CONFIG : ISF_OK;
        *out = rc ? NULL : json_boolean(b);
        break;
    case ISF_OPT_STRING_LIST:
    case ISF_OPT_MAP:
        rc = structured_default(c, s, out, err);
        break;
    }
    if (rc == ISF_E_NOMEM || (rc == ISF_OK && *out))
        return rc;
    if (rc == ISF_OK)
        return nomem(err);
    return isf_err_set(err, ISF_E_CONFIG,
                       "plugin '%s' declares an invalid default \"%.40s\" for option '%s'; the "
                       "plugin is broken: report it to its author",
                       c->plugin, t, s->name);
}

static int missing_required(const struct isf_config *cfg, const struct isf_plugin_conf *pc,
                            const struct opt_ctx *c, const struct isf_option_spec *s,
                            struct isf_error *err)
{
    const char *about = s->description ? s->description : "required";
    if (pc->line > 0)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: plugin '%s' needs option '%s' (%s); add it under this "
                           "entry's options:",
                           cfg->file, pc->line, c->plugin, s->name, about);
    return isf_err_set(err, ISF_E_CONFIG,
                       "%s: plugin '%s' is loaded by default and needs option '%s' (%s); list it "
                       "under plugins.load with options: {%s: ...}",
                       cfg->file ? cfg->file : "no config file", c->plugin, s->name, about,
                       s->name);
}

/* ---------------------------------------------------------------------------------------------
 * The whole table.
 */

static const struct isf_option_spec *find_spec(const struct isf_option_spec *specs,
                                               const char *name)
{
    for (const struct isf_option_spec *s = specs; s && s->name; s++) {
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

static int check_known(struct opt_ctx *c, const yaml_node_t *opts,
                       const struct isf_option_spec *specs, struct isf_error *err)
{
    size_t n = 0;
    while (specs && specs[n].name)
        n++;
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return nomem(err);
    for (size_t i = 0; i < n; i++)
        names[i] = specs[i].name;
    char where[96];
    snprintf(where, sizeof(where), "for plugin '%s'", c->plugin);
    struct cfg_keyset keys = {names, n, "option", where};
    char path[96];
    snprintf(path, sizeof(path), "options of plugin '%s'", c->plugin);
    int rc = cfg_check_map(c->d, opts, path, &keys, err);
    free(names);
    return rc;
}

/* Every option written in the file, checked and converted into obj. */
static int given_options(struct opt_ctx *c, const yaml_node_t *opts,
                         const struct isf_option_spec *specs, json_t *obj, struct isf_error *err)
{
    int rc = check_known(c, opts, specs, err);
    for (const yaml_node_pair_t *p = opts->data.mapping.pairs.start;
         rc == ISF_OK && p < opts->data.mapping.pairs.top; p++) {
        const char *name = cfg_scalar(cfg_node(c->d, p->key));
        const yaml_node_t *v = cfg_node(c->d, p->value);
        if (cfg_is_null(v))
            continue; /* "port:" with nothing: as if not given, so the default applies */
        char path[128];
        snprintf(path, sizeof(path), "option '%s' of plugin '%s'", name, c->plugin);
        json_t *j = NULL;
        rc = option_json(c, find_spec(specs, name), v, path, &j, err);
        if (rc == ISF_OK && json_object_set_new(obj, name, j))
            rc = nomem(err);
    }
    return rc;
}

static int fill_defaults(const struct isf_config *cfg, const struct isf_plugin_conf *pc,
                         struct opt_ctx *c, const struct isf_option_spec *specs, json_t *obj,
                         struct isf_error *err)
{
    for (const struct isf_option_spec *s = specs; s && s->name; s++) {
        if (json_object_get(obj, s->name))
            continue;
        if (s->required)
            return missing_required(cfg, pc, c, s, err);
        if (!s->default_value)
            continue;
        json_t *j = NULL;
        int rc = default_json(c, s, &j, err);
        if (rc)
            return rc;
        if (json_object_set_new(obj, s->name, j))
            return nomem(err);
    }
    return ISF_OK;
}

int isf_config_plugin_options(const struct isf_config *cfg, size_t i,
                              const struct isf_option_spec *specs, const char *plugin_name,
                              json_t **out, struct isf_error *err)
{
    *out = NULL;
    if (!cfg || i >= cfg->n_plugins)
        return isf_err_set(err, ISF_E_FAILED, "internal error: no plugins.load entry %zu", i);
    const struct isf_plugin_conf *pc = &cfg->plugins[i];
    const char *name = plugin_name ? plugin_name : pc->name ? pc->name : pc->path;
    struct cfg_doc d = {cfg->priv, cfg->file};
    struct opt_ctx c = {&d, name, MAP_MAX_NODES};
    json_t *obj = json_object();
    if (!obj)
        return nomem(err);
    int rc = ISF_OK;
    const yaml_node_t *opts = pc->options_node ? cfg_node(&d, pc->options_node) : NULL;
    if (opts && opts->type == YAML_MAPPING_NODE)
        rc = given_options(&c, opts, specs, obj, err);
    if (rc == ISF_OK)
        rc = fill_defaults(cfg, pc, &c, specs, obj, err);
    if (rc) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return ISF_OK;
}

/* Typed reading of libyaml document nodes for the config loader (see config_node.h). */
#include "config_node.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How much of a bad value is quoted back in a message: enough to recognise it, not a whole
 * pasted secret. */
#define CFG_QUOTE_MAX 40

yaml_node_t *cfg_node(const struct cfg_doc *d, int index)
{
    if (!d || !d->doc || index <= 0)
        return NULL;
    return yaml_document_get_node(d->doc, index);
}

int cfg_index(const struct cfg_doc *d, const yaml_node_t *n)
{
    if (!n)
        return 0;
    return (int)(n - d->doc->nodes.start) + 1;
}

int cfg_line(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 0;
}

const char *cfg_scalar(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)n->data.scalar.value;
}

int cfg_is_null(const yaml_node_t *n)
{
    const char *s = cfg_scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0;
}

/* "a mapping", "a list", "nothing" or the quoted scalar (cut short). */
static void describe(const yaml_node_t *n, char *buf, size_t len)
{
    if (!n || (n->type == YAML_SCALAR_NODE && cfg_is_null(n))) {
        snprintf(buf, len, "nothing");
    } else if (n->type == YAML_MAPPING_NODE) {
        snprintf(buf, len, "a mapping");
    } else if (n->type == YAML_SEQUENCE_NODE) {
        snprintf(buf, len, "a list");
    } else {
        const char *s = cfg_scalar(n);
        int cut = strlen(s) > CFG_QUOTE_MAX;
        snprintf(buf, len, "'%.*s%s'", CFG_QUOTE_MAX, s, cut ? "..." : "");
    }
}

int cfg_wrong_type(const struct cfg_doc *d, const yaml_node_t *n, const char *path,
                   const char *expected, struct isf_error *err)
{
    char got[CFG_QUOTE_MAX + 8];
    describe(n, got, sizeof(got));
    return isf_err_set(err, ISF_E_CONFIG, "%s:%d: %s: expected %s, got %s", d->file, cfg_line(n),
                       path, expected, got);
}

static int known(const struct cfg_keyset *keys, const char *name)
{
    for (size_t i = 0; i < keys->n; i++) {
        if (strcmp(keys->names[i], name) == 0)
            return 1;
    }
    return 0;
}

/* "a, b, c" into buf, or "none" for an empty set. */
static void join_names(const struct cfg_keyset *keys, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < keys->n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys->names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (keys->n == 0)
        snprintf(buf, len, "none");
}

static int unknown_key(const struct cfg_doc *d, const yaml_node_t *k, const struct cfg_keyset *keys,
                       struct isf_error *err)
{
    char list[256];
    join_names(keys, list, sizeof(list));
    return isf_err_set(err, ISF_E_CONFIG, "%s:%d: unknown %s '%.*s' %s (known %ss: %s)", d->file,
                       cfg_line(k), keys->noun, CFG_QUOTE_MAX, cfg_scalar(k), keys->where,
                       keys->noun, list);
}

/* A key already used by an earlier pair of the same mapping, or NULL. */
static const yaml_node_t *earlier_key(const struct cfg_doc *d, const yaml_node_t *map,
                                      const yaml_node_pair_t *pair)
{
    const char *name = cfg_scalar(cfg_node(d, pair->key));
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
        const yaml_node_t *k = cfg_node(d, p->key);
        const char *s = cfg_scalar(k);
        if (s && strcmp(s, name) == 0)
            return k;
    }
    return NULL;
}

static int check_pair(const struct cfg_doc *d, const yaml_node_t *map, const yaml_node_pair_t *pair,
                      const char *path, const struct cfg_keyset *keys, struct isf_error *err)
{
    const yaml_node_t *k = cfg_node(d, pair->key);
    if (!cfg_scalar(k))
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: %s: a key must be a plain name, not a list or mapping", d->file,
                           cfg_line(k), path);
    const yaml_node_t *first = earlier_key(d, map, pair);
    if (first)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: duplicate %s '%.*s' %s (first given on line %d); keep only one",
                           d->file, cfg_line(k), keys->noun, CFG_QUOTE_MAX, cfg_scalar(k),
                           keys->where, cfg_line(first));
    if (!known(keys, cfg_scalar(k)))
        return unknown_key(d, k, keys, err);
    return ISF_OK;
}

int cfg_check_map(const struct cfg_doc *d, const yaml_node_t *map, const char *path,
                  const struct cfg_keyset *keys, struct isf_error *err)
{
    if (cfg_is_null(map))
        return ISF_OK;
    if (!map || map->type != YAML_MAPPING_NODE)
        return cfg_wrong_type(d, map, path, "a mapping (key: value)", err);
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        int rc = check_pair(d, map, p, path, keys, err);
        if (rc)
            return rc;
    }
    return ISF_OK;
}

yaml_node_t *cfg_map_get(const struct cfg_doc *d, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *s = cfg_scalar(cfg_node(d, p->key));
        if (s && strcmp(s, key) == 0)
            return cfg_node(d, p->value);
    }
    return NULL;
}

int cfg_parse_llong(const char *s, long long *out)
{
    const char *digits = s[0] == '-' ? s + 1 : s;
    if (!isdigit((unsigned char)digits[0]))
        return -1;
    /* A leading zero is octal in YAML 1.1 and decimal in 1.2: refuse rather than guess. */
    if (digits[0] == '0' && digits[1] != '\0')
        return -1;
    for (const char *p = digits; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int cfg_parse_bool(const char *s, int *out)
{
    if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0) {
        *out = 1;
        return 0;
    }
    if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

int cfg_get_llong(const struct cfg_doc *d, const yaml_node_t *n, const char *path, long long min,
                  long long max, long long *out, struct isf_error *err)
{
    char expected[96];
    snprintf(expected, sizeof(expected), "a whole number from %lld to %lld, without quotes", min,
             max);
    const char *s = cfg_scalar(n);
    long long v;
    /* A quoted "30" is a string in YAML; accepting it would hide a type mistake elsewhere. */
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || cfg_parse_llong(s, &v) ||
        v < min || v > max)
        return cfg_wrong_type(d, n, path, expected, err);
    *out = v;
    return ISF_OK;
}

int cfg_get_bool(const struct cfg_doc *d, const yaml_node_t *n, const char *path, int *out,
                 struct isf_error *err)
{
    const char *s = cfg_scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || cfg_parse_bool(s, out))
        return cfg_wrong_type(d, n, path, "true or false", err);
    return ISF_OK;
}

int cfg_get_string(const struct cfg_doc *d, const yaml_node_t *n, const char *path, int nonempty,
                   char **out, struct isf_error *err)
{
    const char *s = cfg_scalar(n);
    if (!s || (nonempty && s[0] == '\0'))
        return cfg_wrong_type(d, n, path, nonempty ? "a non-empty text" : "a text", err);
    char *copy = strdup(s);
    if (!copy)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory reading %s", path);
    free(*out);
    *out = copy;
    return ISF_OK;
}

void cfg_free_string_list(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

int cfg_get_string_list(const struct cfg_doc *d, const yaml_node_t *n, const char *path,
                        char ***out, size_t *n_out, struct isf_error *err)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return cfg_wrong_type(d, n, path, "a list of texts ([a, b] or '- a' lines)", err);
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char **list = calloc(count + 1, sizeof(*list));
    if (!list)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory reading %s", path);
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = cfg_node(d, n->data.sequence.items.start[i]);
        char item_path[160];
        snprintf(item_path, sizeof(item_path), "%s[%zu]", path, i);
        int rc = cfg_get_string(d, item, item_path, 0, &list[i], err);
        if (rc) {
            cfg_free_string_list(list);
            return rc;
        }
    }
    cfg_free_string_list(*out);
    *out = list;
    if (n_out)
        *n_out = count;
    return ISF_OK;
}

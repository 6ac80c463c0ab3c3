/* Private to config*.c: typed reading of libyaml document nodes, with errors that name the
 * file, the line and the key path. Every function that fails fills err with ISF_E_CONFIG (or
 * ISF_E_NOMEM) and returns that code. */
#ifndef ISF_CONFIG_NODE_H
#define ISF_CONFIG_NODE_H

#include <isyncsf/plugin.h>
#include <stddef.h>
#include <yaml.h>

/* The document being read and the name used in messages. */
struct cfg_doc {
    yaml_document_t *doc;
    const char *file;
};

/* What a mapping's keys are called in messages: "unknown key 'x' in 'http' (known keys: ...)"
 * or "unknown option 'x' for plugin 'auth-foo' (known options: ...)". */
struct cfg_keyset {
    const char *const *names; /* the accepted keys */
    size_t n;
    const char *noun;  /* "key" or "option" */
    const char *where; /* "in 'http'", "at the top level", "for plugin 'auth-foo'" */
};

yaml_node_t *cfg_node(const struct cfg_doc *d, int index);
/* The 1-based index of a node of the document (what yaml_node_pair_t holds), 0 for NULL. */
int cfg_index(const struct cfg_doc *d, const yaml_node_t *n);
/* 1-based line where the node starts. */
int cfg_line(const yaml_node_t *n);
/* A plain empty, "~" or "null" scalar: the key was written with no value. */
int cfg_is_null(const yaml_node_t *n);
/* The scalar's text, or NULL when the node is not a scalar. */
const char *cfg_scalar(const yaml_node_t *n);

/* ISF_E_CONFIG "FILE:LINE: PATH: expected WHAT, got <what the node is>". */
int cfg_wrong_type(const struct cfg_doc *d, const yaml_node_t *n, const char *path,
                   const char *expected, struct isf_error *err);

/* Check that `map` is a mapping (a null value counts as an empty one) whose keys are scalars,
 * each known and none repeated. */
int cfg_check_map(const struct cfg_doc *d, const yaml_node_t *map, const char *path,
                  const struct cfg_keyset *keys, struct isf_error *err);
/* The value under `key`, or NULL when absent (or when `map` is not a mapping). */
yaml_node_t *cfg_map_get(const struct cfg_doc *d, const yaml_node_t *map, const char *key);

/* Typed values. A plain decimal integer in [min, max]; quotes are refused. */
int cfg_get_llong(const struct cfg_doc *d, const yaml_node_t *n, const char *path, long long min,
                  long long max, long long *out, struct isf_error *err);
/* true/false/yes/no, any case, unquoted. */
int cfg_get_bool(const struct cfg_doc *d, const yaml_node_t *n, const char *path, int *out,
                 struct isf_error *err);
/* Any scalar's text, copied. With nonempty != 0 an empty text is refused. */
int cfg_get_string(const struct cfg_doc *d, const yaml_node_t *n, const char *path, int nonempty,
                   char **out, struct isf_error *err);
/* A sequence of scalars, copied into a NULL-terminated array of *n_out strings. */
int cfg_get_string_list(const struct cfg_doc *d, const yaml_node_t *n, const char *path,
                        char ***out, size_t *n_out, struct isf_error *err);
void cfg_free_string_list(char **list);

/* Text-level parsers shared with default values: 0 ok, -1 bad. */
int cfg_parse_llong(const char *s, long long *out);
int cfg_parse_bool(const char *s, int *out);

#endif

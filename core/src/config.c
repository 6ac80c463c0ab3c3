/* The YAML configuration: built-in defaults, reading the file and its top level, and freeing it
 * (see cli-contract.md "Files and environment" and "Config"). Path resolution, the fixed sections
 * and the plugins: section have files of their own (see config_internal.h). Plugin options are
 * validated later, once the plugin's schema is known (config_options.c); the parsed document
 * therefore stays alive in cfg->priv until isf_config_free. */
#include "config.h"

#include "config_internal.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* ---------------------------------------------------------------------------------------------
 * Built-in defaults.
 */

static int set_defaults(struct isf_config *cfg)
{
    cfg->key_source = ISF_KEY_FILE;
    cfg->key_file = isf_aprintf("%s/master.key", cfg->data_dir);
    cfg->timeout_s = 30;
    cfg->connect_timeout_s = 10;
    cfg->max_response_bytes = 8L * 1024 * 1024;
    cfg->retries = 2;
    cfg->client_auth = strdup("post");
    cfg->package_namespace = strdup("isyncsf");
    cfg->refresh_margin_s = 600;
    cfg->refresh_session_ttl_s = 7200;
    cfg->refresh_concurrency = 32;
    cfg->refresh_max_backoff_s = 3600;
    cfg->refresh_introspect = 0;
    cfg->lock_timeout_ms = 10000;
    if (!cfg->key_file || !cfg->client_auth || !cfg->package_namespace)
        return ISF_E_NOMEM;
    return cfg_bundled_plugins(cfg);
}

int isf_config_defaults(struct isf_config **out, struct isf_error *err)
{
    *out = NULL;
    struct isf_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory loading the configuration");
    cfg->data_dir = cfg_data_dir_path();
    if (!cfg->data_dir) {
        isf_config_free(cfg);
        return isf_err_set(err, ISF_E_CONFIG,
                           "cannot tell where to keep data: HOME is not set and the user has no "
                           "home folder; set ISYNCSF_HOME to a folder");
    }
    if (set_defaults(cfg) != ISF_OK) {
        isf_config_free(cfg);
        return isf_err_set(err, ISF_E_NOMEM, "out of memory loading the configuration");
    }
    *out = cfg;
    return ISF_OK;
}

void isf_config_free(struct isf_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->file);
    free(cfg->data_dir);
    cfg_free_string_list(cfg->plugin_path);
    cfg_free_plugins(cfg);
    free(cfg->key_file);
    free(cfg->key_env);
    cfg_free_string_list(cfg->key_command);
    free(cfg->ca_file);
    free(cfg->proxy);
    free(cfg->client_auth);
    free(cfg->api_version);
    free(cfg->package_namespace);
    if (cfg->priv) {
        yaml_document_delete(cfg->priv);
        free(cfg->priv);
    }
    free(cfg);
}

/* ---------------------------------------------------------------------------------------------
 * The document.
 */

static int load_section(struct isf_config *cfg, const struct cfg_doc *d, const char *name,
                        const yaml_node_t *n, struct isf_error *err)
{
    if (strcmp(name, "plugins") == 0)
        return cfg_load_plugins(cfg, d, n, err);
    if (strcmp(name, "key") == 0)
        return cfg_load_key(cfg, d, n, err);
    return cfg_load_simple_section(cfg, d, name, n, err);
}

static int load_root(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *root,
                     struct isf_error *err)
{
    static const char *const names[] = {"plugins", "key", "http", "salesforce", "refresh", "store"};
    struct cfg_keyset keys = {names, ARRAY_LEN(names), "key", "at the top level"};
    if (!root || cfg_is_null(root))
        return ISF_OK; /* an empty file (or only comments): built-in defaults */
    int rc = cfg_check_map(d, root, "the top level", &keys, err);
    for (size_t i = 0; rc == ISF_OK && i < ARRAY_LEN(names); i++) {
        const yaml_node_t *n = cfg_map_get(d, root, names[i]);
        if (n)
            rc = load_section(cfg, d, names[i], n, err);
    }
    return rc;
}

static int yaml_error(const yaml_parser_t *p, const char *file, struct isf_error *err)
{
    if (p->error == YAML_MEMORY_ERROR)
        return isf_err_set(err, ISF_E_NOMEM, "%s: out of memory parsing YAML", file);
    if (p->error == YAML_READER_ERROR)
        return isf_err_set(err, ISF_E_CONFIG, "%s: cannot read as UTF-8 text: %s (at byte %zu)",
                           file, p->problem ? p->problem : "input error", p->problem_offset);
    if (p->context)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%zu: invalid YAML: %s %s that starts on line %zu; fix the syntax",
                           file, p->problem_mark.line + 1, p->problem ? p->problem : "error",
                           p->context, p->context_mark.line + 1);
    return isf_err_set(err, ISF_E_CONFIG, "%s:%zu: invalid YAML: %s; fix the syntax", file,
                       p->problem_mark.line + 1, p->problem ? p->problem : "error");
}

/* A second document after "---" would be silently ignored: refuse it instead. */
static int check_single_document(yaml_parser_t *parser, const char *file, struct isf_error *err)
{
    yaml_document_t extra;
    if (!yaml_parser_load(parser, &extra))
        return yaml_error(parser, file, err);
    const yaml_node_t *root = yaml_document_get_root_node(&extra);
    /* Only the line (>= 1) is kept: root points into `extra`, which is deleted here. */
    int line = root ? (int)root->start_mark.line + 1 : 0;
    yaml_document_delete(&extra);
    if (line)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: a second YAML document ('---'); keep the whole configuration "
                           "in one",
                           file, line);
    return ISF_OK;
}

static int parse_file(struct isf_config *cfg, FILE *fp, struct isf_error *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return isf_err_set(err, ISF_E_NOMEM, "out of memory parsing %s", cfg->file);
    yaml_parser_set_input_file(&parser, fp);
    int rc = ISF_OK;
    yaml_document_t *doc = calloc(1, sizeof(*doc));
    if (!doc) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory parsing %s", cfg->file);
        goto cleanup;
    }
    if (!yaml_parser_load(&parser, doc)) {
        free(doc);
        rc = yaml_error(&parser, cfg->file, err);
        goto cleanup;
    }
    cfg->priv = doc; /* from here on isf_config_free deletes it */
    rc = check_single_document(&parser, cfg->file, err);
    if (rc)
        goto cleanup;
    struct cfg_doc d = {doc, cfg->file};
    rc = load_root(cfg, &d, yaml_document_get_root_node(doc), err);
cleanup:
    yaml_parser_delete(&parser);
    return rc;
}

/* Open the config file. A missing file is fine (*fp NULL) unless it was named explicitly. */
static int open_file(const char *path, int explicit, FILE **fp, struct isf_error *err)
{
    struct stat st;
    *fp = NULL;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && !explicit)
            return ISF_OK;
        if (errno == ENOENT)
            return isf_err_set(err, ISF_E_CONFIG,
                               "config file %s: not found; check --config / ISYNCSF_CONFIG", path);
        return isf_err_set(err, ISF_E_CONFIG, "config file %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return isf_err_set(err, ISF_E_CONFIG, "config file %s: not a regular file", path);
    *fp = fopen(path, "r");
    if (!*fp)
        return isf_err_set(err, ISF_E_CONFIG, "config file %s: cannot open: %s", path,
                           strerror(errno));
    return ISF_OK;
}

int isf_config_load(const char *explicit_path, struct isf_config **out, struct isf_error *err)
{
    struct isf_config *cfg = NULL;
    FILE *fp = NULL;
    *out = NULL;
    int explicit = cfg_config_path_is_explicit(explicit_path);
    errno = 0;
    char *path = isf_config_default_path(explicit_path);
    int rc;
    if (!path && errno == ENOMEM) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!path) {
        rc = isf_err_set(err, ISF_E_CONFIG,
                         "cannot find the config file: HOME is not set; set ISYNCSF_HOME or "
                         "ISYNCSF_CONFIG, or pass --config");
        goto cleanup;
    }
    rc = isf_config_defaults(&cfg, err);
    if (rc == ISF_OK)
        rc = open_file(path, explicit, &fp, err);
    if (rc || !fp || !cfg)
        goto cleanup;
    cfg->file = path;
    path = NULL;
    rc = parse_file(cfg, fp, err);
cleanup:
    if (fp)
        fclose(fp);
    free(path);
    if (rc) {
        isf_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return ISF_OK;
}

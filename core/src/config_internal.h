/* Private to config*.c: what the parts of the config loader share with each other.
 *   config.c          built-in defaults, isf_config_free, reading the file, the top level
 *   config_paths.c    environment and path resolution (ISYNCSF_*, XDG, ~, the data folder)
 *   config_sections.c the fixed sections: http, salesforce, refresh, store, key
 *   config_plugins.c  the plugins: section and the bundled default set
 *   config_options.c  a plugin's options against its schema (after the plugin is loaded)
 *   config_node.c     typed reading of YAML nodes (config_node.h)
 * Functions that fail fill err and return its code, as in config_node.h. */
#ifndef ISF_CONFIG_INTERNAL_H
#define ISF_CONFIG_INTERNAL_H

#include "config.h"
#include "config_node.h"

#include <yaml.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* config_paths.c */

/* $ISYNCSF_HOME, else $XDG_DATA_HOME/isyncsf, else ~/.local/share/isyncsf; malloc'd, NULL when
 * there is no home folder to be found. */
char *cfg_data_dir_path(void);
/* Whether the config file is named explicitly (by explicit_path or $ISYNCSF_CONFIG), so that a
 * missing file is an error rather than built-in defaults. */
int cfg_config_path_is_explicit(const char *explicit_path);
/* A non-empty text with a leading ~ expanded; replaces *out. */
int cfg_get_path(const struct cfg_doc *d, const yaml_node_t *n, const char *path, char **out,
                 struct isf_error *err);

/* config_sections.c */

/* key: exactly one of file, env, command. */
int cfg_load_key(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                 struct isf_error *err);
/* http, salesforce, refresh or store (by name); any other name is left alone. */
int cfg_load_simple_section(struct isf_config *cfg, const struct cfg_doc *d, const char *name,
                            const yaml_node_t *n, struct isf_error *err);

/* config_plugins.c */

/* Fill cfg->plugins with the bundled set (ISF_BUNDLED_PLUGINS); ISF_E_NOMEM without err. */
int cfg_bundled_plugins(struct isf_config *cfg);
void cfg_free_plugins(struct isf_config *cfg);
/* plugins: {path: [folders], load: [{name|path, options}]}. */
int cfg_load_plugins(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                     struct isf_error *err);

#endif

/* Where things are: the config file and the data folder, from ISYNCSF_CONFIG, ISYNCSF_HOME, the
 * XDG variables and the home folder (see cli-contract.md "Files and environment"), and ~
 * expansion, also of the paths written in the config file. */
#include "config_internal.h"

#include "util.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An environment variable that is set and not empty (an empty one counts as unset, as in XDG). */
static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

/* XDG says relative values are invalid and must be ignored. */
static const char *env_absolute(const char *name)
{
    const char *v = env_nonempty(name);
    return v && v[0] == '/' ? v : NULL;
}

/* $HOME, else the password database (HOME is unset under some service managers). */
static char *home_dup(void)
{
    const char *h = env_nonempty("HOME");
    if (h)
        return strdup(h);
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 || !res || !res->pw_dir ||
        !res->pw_dir[0])
        return NULL;
    return strdup(res->pw_dir);
}

char *isf_expand_home(const char *path)
{
    if (!path)
        return NULL;
    if (path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
        return strdup(path); /* "~user/..." is left alone: no lookups of other users */
    char *home = home_dup();
    if (!home)
        return strdup(path); /* the later open fails naming the path as written */
    char *out = isf_aprintf("%s%s", home, path + 1);
    free(home);
    return out;
}

/* A path under the home folder; NULL when there is no home folder to be found. */
static char *under_home(const char *rest)
{
    char *home = home_dup();
    if (!home)
        return NULL;
    char *out = isf_aprintf("%s/%s", home, rest);
    free(home);
    return out;
}

char *isf_config_default_path(const char *explicit_path)
{
    if (explicit_path)
        return isf_expand_home(explicit_path); /* --config=~/x reaches us unexpanded */
    const char *v = env_nonempty("ISYNCSF_CONFIG");
    if (v)
        return isf_expand_home(v);
    v = env_nonempty("ISYNCSF_HOME");
    if (v) {
        char *home = isf_expand_home(v);
        char *out = home ? isf_aprintf("%s/config.yaml", home) : NULL;
        free(home);
        return out;
    }
    v = env_absolute("XDG_CONFIG_HOME");
    if (v)
        return isf_aprintf("%s/isyncsf/config.yaml", v);
    return under_home(".config/isyncsf/config.yaml");
}

int cfg_config_path_is_explicit(const char *explicit_path)
{
    return explicit_path != NULL || env_nonempty("ISYNCSF_CONFIG") != NULL;
}

char *cfg_data_dir_path(void)
{
    const char *v = env_nonempty("ISYNCSF_HOME");
    if (v)
        return isf_expand_home(v);
    v = env_absolute("XDG_DATA_HOME");
    if (v)
        return isf_aprintf("%s/isyncsf", v);
    return under_home(".local/share/isyncsf");
}

int cfg_get_path(const struct cfg_doc *d, const yaml_node_t *n, const char *path, char **out,
                 struct isf_error *err)
{
    char *raw = NULL;
    int rc = cfg_get_string(d, n, path, 1, &raw, err);
    if (rc)
        return rc;
    char *expanded = isf_expand_home(raw);
    free(raw);
    if (!expanded)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory reading %s", path);
    free(*out);
    *out = expanded;
    return ISF_OK;
}

/* auth-named-credential: what its files share. A credential is defined in the plugin's options
 * (nc_credentials.c); its token comes from one source, a helper command, an environment variable
 * or a file (nc_sources.c); a helper's output is read by nc_output.c. */
#ifndef NC_H
#define NC_H

#include <isyncsf/plugin.h>
#include <stddef.h>
#include <stdint.h>

enum nc_source_kind { NC_SRC_COMMAND = 1, NC_SRC_ENV = 2, NC_SRC_FILE = 3 };

struct nc_credential {
    char *name;
    char *url; /* https://host, no trailing slash: the org's instance or My Domain URL */
    enum nc_source_kind kind;
    char **argv;     /* command: NULL-terminated */
    char *var;       /* token_env */
    char *path;      /* token_file, with a leading ~/ expanded */
    long timeout_ms; /* command: the time limit */
};

struct nc_table {
    struct nc_credential *items;
    size_t n;
};

/* Read and check the `credentials` option (and `timeout_s`, the default time limit). Errors are
 * ISF_E_CONFIG naming the credential and the key. */
int nc_table_load(const struct isf_host *h, const struct isf_opts *opts, struct nc_table *t,
                  struct isf_error *err);
void nc_table_free(const struct isf_host *h, struct nc_table *t);
const struct nc_credential *nc_table_find(const struct nc_table *t, const char *name);
/* The defined names, "a, b" (or "none"), truncated to fit buf. */
void nc_table_names(const struct nc_table *t, char *buf, size_t len);

/* What a source produced. Strings are host allocations; access_token is a secret. */
struct nc_token {
    char *access_token;
    char *instance_url;    /* NULL: the credential's url */
    int64_t expires_at_ms; /* 0: unknown */
};
void nc_token_clear(const struct isf_host *h, struct nc_token *t);

/* Get the credential's token from its source. */
int nc_fetch(const struct isf_host *h, const struct nc_credential *c, struct nc_token *out,
             struct isf_error *err);

/* Read a helper's stdout: {"version":1,"access_token","instance_url","expires_at"} or the
 * `sf org display --json` shape {"result":{"accessToken","instanceUrl"}}. Errors are
 * ISF_E_FAILED saying what was wrong, never quoting the output. */
int nc_parse_output(const struct isf_host *h, const struct nc_credential *c, const char *text,
                    size_t len, struct nc_token *out, struct isf_error *err);
/* "2026-01-02T03:04:05Z", fractions and ±hh:mm offsets allowed. 0 ok, -1 not RFC 3339. */
int nc_parse_rfc3339(const char *s, int64_t *ms);
/* A token usable in an Authorization header: non-empty, printable, no spaces. */
int nc_token_is_sane(const char *token);

/* nc_redact.c: at most NC_SUMMARY_MAX characters (plus "...") of a helper's stderr, on one line,
 * with anything that looks like a token replaced by "[redacted]"; "" when it printed nothing.
 * out_size must be at least 8. */
#define NC_SUMMARY_MAX 200
void nc_summarize_stderr(const char *in, size_t len, char *out, size_t out_size);

#endif

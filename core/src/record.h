/* The OrgMaster record: its fields, its stored form, its public JSON form. */
#ifndef ISF_RECORD_H
#define ISF_RECORD_H

#include "internal.h"

#define ISF_RECORD_SCHEMA 1

struct isf_org {
    char *name, *description, *mode, *status, *status_detail;
    char *login_url, *instance_url, *client_id, *redirect_uri, *scope, *named_credential;
    char *org_id, *org_name, *org_type, *instance_name, *environment, *username, *user_id;
    char *api_version;
    char *pkg_namespace, *pkg_version, *pkg_reason;
    int pkg_installed; /* 1 yes, 0 no, -1 unknown */
    int64_t token_issued_at, token_expires_at, connected_at, last_tested_at, last_refreshed_at;
    int64_t created_at, updated_at, pkg_checked_at;
    /* Refresh schedule: a per-org session lifetime (0 = refresh.session_ttl_s), and the backoff
     * after passing failures (count since the last success, and when to try again; 0 = now). */
    int64_t session_ttl_s;
    int64_t refresh_failures;
    int64_t next_attempt_at;
    /* Sealed secrets, as stored (base64 of AES-256-GCM blobs), or NULL. */
    char *sealed_client_secret, *sealed_access_token, *sealed_refresh_token;
    uint64_t revision; /* store revision this was read at; 0 = not stored yet */
};

void isf_org_free_fields(struct isf_org *o);
/* Replace a string field (copying value; NULL clears). 0 ok, -1 out of memory. */
int isf_org_set(char **field, const char *value);

/* Stored form: JSON text with sealed secrets. */
char *isf_org_serialize(const struct isf_org *o);
/* Parse a stored record; ISF_E_STORE naming the record when it is not a valid record. */
int isf_org_parse(const char *name, const char *data, size_t len, struct isf_org *o,
                  struct isf_error *err);
/* The contract's org object (no secrets). */
json_t *isf_org_public_json(const struct isf_org *o);

#endif

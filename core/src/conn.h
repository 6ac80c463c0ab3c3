/* An authenticated connection to one org: the single path every authenticated call takes, which
 * refreshes the session once on 401 INVALID_SESSION_ID and retries once. */
#ifndef ISF_CONN_H
#define ISF_CONN_H

#include "heldtoken.h"
#include "orgstore.h"

struct isf_conn {
    struct isf_ctx *ctx;
    struct isf_org *org;     /* the record; updated (and persisted) when refreshed */
    struct isf_plugin *auth; /* the org's mode */
    char *access_token;      /* plaintext, wiped on close */
    int64_t expires_at_ms;   /* when access_token is due, once a session was applied; else 0 */
    int refreshed;           /* a refresh already happened in this connection */
    /* The mode declares ISF_CAP_NO_TOKEN_STORE: its tokens never reach the record; each
     * connection asks the plugin for one (refresh op) before its first call. */
    int no_token_store;
};

/* Build the plugin's view of an org: unseals the client secret and tokens. Free with
 * isf_org_view_clear (wipes). */
struct isf_view_buf {
    struct isf_org_view view;
    char *client_secret, *access_token, *refresh_token;
};
int isf_org_view_load(struct isf_ctx *ctx, const struct isf_org *o, int with_tokens,
                      struct isf_view_buf *vb, struct isf_error *err);
void isf_org_view_clear(struct isf_view_buf *vb);

/* Take a new session into the connection (its access token and expiry) and into the record:
 * the instance URL, and unless the mode keeps no token, the sealed tokens (a refresh response
 * without a refresh token keeps the old one) and token times; a mode that keeps no token has
 * its token held in memory instead (heldtoken.h). Does not write the record. */
int isf_conn_apply_session(struct isf_conn *c, const struct isf_session *s, struct isf_error *err);

int isf_conn_open(struct isf_ctx *ctx, struct isf_org *o, struct isf_conn *c,
                  struct isf_error *err);
void isf_conn_close(struct isf_conn *c);
/* Renew the session through the mode's plugin and persist the record at once (a rotated refresh
 * token is on disk before the new access token is used; a mode that keeps no token writes the
 * record only when its instance URL changed). The caller holds the record lock. */
int isf_conn_refresh(struct isf_conn *c, struct isf_error *err);

/* GET <instance_url><path> with the bearer token. On success *out is the parsed JSON body. On an
 * API error the status is ISF_E_FAILED (or ISF_E_AUTH / ISF_E_TRANSIENT per the table in
 * salesforce-api.md §9) and *error_code gets Salesforce's errorCode when there is one. */
int isf_conn_get(struct isf_conn *c, const char *path, json_t **out, char *error_code,
                 size_t error_code_len, struct isf_error *err);

/* Org checks shared by every mode (org.c). */
int isf_org_resolve_api_version(struct isf_conn *c, struct isf_error *err);
int isf_org_read_details(struct isf_conn *c, struct isf_error *err);
int isf_org_check_package(struct isf_conn *c, struct isf_error *err);
int isf_org_ping(struct isf_conn *c, struct isf_error *err);

#endif

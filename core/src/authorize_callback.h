/* The redirect that ends the browser step (RFC 6749 4.1.2): its parameters, collected from the
 * loopback request or from a redirect URL pasted by the user, and the verdict on them. */
#ifndef ISF_AUTHORIZE_CALLBACK_H
#define ISF_AUTHORIZE_CALLBACK_H

#include <isyncsf/plugin.h>
#include <stddef.h>

/* Parameter values longer than this are refused (a Salesforce code is ~100 characters). */
#define ISF_CALLBACK_VALUE_MAX 2048

struct isf_callback {
    char *code; /* secret */
    char *state;
    char *error;             /* RFC 6749 4.1.2.1 error code, e.g. access_denied */
    char *error_description; /* may be NULL */
    int duplicate;           /* a parameter above came more than once (RFC 6749 3.1 forbids) */
    int too_long;            /* a value above was longer than ISF_CALLBACK_VALUE_MAX */
};

/* Record one decoded parameter; unknown names are ignored. 0 ok, -1 out of memory. */
int isf_callback_add(struct isf_callback *cb, const char *name, const char *value);

/* Collect the parameters of a query string "a=b&c=d" (application/x-www-form-urlencoded:
 * '+' is a space, %XX a byte). A leading "...?" (a whole URL) is skipped and a "#fragment"
 * dropped, so the user may paste the full redirect URL. 0 ok, -1 out of memory. */
int isf_callback_parse_query(struct isf_callback *cb, const char *text);

/* True when the text looks like a redirect at all (has a code, error or state). */
int isf_callback_present(const struct isf_callback *cb);

/* The verdict, checking the state in constant time (CRYPTO_memcmp):
 *   ISF_OK          a code with the expected state
 *   ISF_E_AUTH      the user or the org refused (error=access_denied and the other 4.1.2.1
 *                   codes; the description is quoted), the state is missing or wrong, a
 *                   parameter repeats, or the code is missing
 *   ISF_E_TRANSIENT error=server_error or temporarily_unavailable
 * err names the org and says what to do. */
int isf_callback_check(const struct isf_callback *cb, const char *org, const char *expected_state,
                       struct isf_error *err);

void isf_callback_clear(struct isf_callback *cb);

#endif

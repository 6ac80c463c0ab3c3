/* Pure parsers of the org's REST answers (salesforce-api.md §6-§9): no I/O, so the fuzzers
 * (fuzz/) and unit tests can drive them with any bytes. The I/O callers are orgcheck.c and
 * conn.c. */
#ifndef ISF_RESTPARSE_H
#define ISF_RESTPARSE_H

#include "record.h"

/* GET /services/data/ answers [{"version":"66.0",...},...]: the newest version string (owned
 * by `root`), or NULL when there is none. */
const char *isf_rest_newest_api_version(const json_t *root);

/* Take the first record of an Organization query into the record's org fields.
 * ISF_OK; 1 when the answer holds no record with an Id; ISF_E_NOMEM. */
int isf_rest_take_organization(struct isf_org *o, const json_t *res);

/* An InstalledSubscriberPackage tooling query answer: 1 and "A.B.C.D" in `version` when it
 * holds a record, else 0 and "". */
int isf_rest_tooling_package_version(const json_t *res, char *version, size_t len);

/* A PackageLicense query answer: 1 when it counts or lists a license. */
int isf_rest_license_installed(const json_t *res);

/* A REST error body (a JSON array of {message, errorCode}, or one such object): Salesforce's
 * errorCode and message, each "" when absent. `body` is NUL-terminated (or NULL). */
void isf_rest_error_parse(const char *body, char *code, size_t code_len, char *msg, size_t msg_len);

#endif

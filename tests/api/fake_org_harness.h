/* Starting and driving the fake Salesforce org from C tests: a temp home with a test CA, the
 * fake org on a free loopback port, and its control API. */
#ifndef ISF_FAKE_ORG_HARNESS_H
#define ISF_FAKE_ORG_HARNESS_H

#include <sys/types.h>

struct fake_org {
    char dir[256];     /* temp folder: pki/, home/ (ISYNCSF_HOME), port */
    char home[300];    /* ISYNCSF_HOME */
    char url[64];      /* https://127.0.0.1:PORT */
    char ca_file[300]; /* the test CA */
    pid_t pid;
};

/* Make the PKI, start the fake org with client id "cid" / secret "secret" plus extra_args
 * (NULL-terminated, may be NULL), write $ISYNCSF_HOME/config.yaml with http.ca_file and
 * `extra_config` (YAML text appended, may be NULL), and export ISYNCSF_HOME. 0 ok. */
int fake_org_start(struct fake_org *f, const char *const *extra_args, const char *extra_config);
void fake_org_stop(struct fake_org *f); /* kills the server and deletes the temp folder */

/* POST (body non-NULL) or GET a control path ("/__fake/counters"); returns the HTTP status and,
 * when out is non-NULL, a malloc'd body. */
long fake_org_ctl(const struct fake_org *f, const char *path, const char *body, char **out);
/* One counter from /__fake/counters, or -1. */
long fake_org_counter(const struct fake_org *f, const char *name);

#endif

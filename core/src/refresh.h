/* Core-internal pieces of refreshing shared by the engine (isf_refresh), the daemon and
 * isf_org_token: when a session is due, and what a failure does to an org's schedule. */
#ifndef ISF_REFRESH_H
#define ISF_REFRESH_H

#include "record.h"

/* When the org next needs work, in ms since the epoch: its token's expires_at minus
 * refresh.margin_s, or its backoff retry time after a passing failure; INT64_MAX when it needs
 * none (new, disconnected, expired, or a mode that keeps no token). */
int64_t isf_refresh_due_ms(const struct isf_config *cfg, const struct isf_org *o);

#endif

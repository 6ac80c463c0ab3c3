/* The daemon's schedule: every org that needs work, with its next due time (ms since the epoch),
 * ordered by due time. Compact on purpose — one fixed-size entry per org (~96 bytes with the
 * index and heap slots), so 10,000 orgs cost about 1 MiB: the name lookups are a chained hash,
 * the order a binary heap of entry numbers. Not thread-safe (the daemon is one thread). */
#ifndef ISF_DAEMON_SCHED_H
#define ISF_DAEMON_SCHED_H

#include <stddef.h>
#include <stdint.h>

#define ISF_SCHED_NAME_MAX 64 /* org names are at most 64 bytes */

struct isf_sched;

struct isf_sched *isf_sched_new(void); /* NULL when out of memory */
void isf_sched_free(struct isf_sched *s);

/* Schedule `name` (a valid org name) at due_ms, replacing its previous time; INT64_MAX removes
 * it (it needs no work). 0 ok, -1 out of memory (the schedule is unchanged). */
int isf_sched_set(struct isf_sched *s, const char *name, int64_t due_ms);
void isf_sched_remove(struct isf_sched *s, const char *name);
/* Drop every org (before a full re-list). */
void isf_sched_clear(struct isf_sched *s);

size_t isf_sched_count(const struct isf_sched *s);
/* The due time of `name`, or INT64_MAX when it is not scheduled. */
int64_t isf_sched_due(const struct isf_sched *s, const char *name);
/* The earliest due time, INT64_MAX when empty. */
int64_t isf_sched_next(const struct isf_sched *s);

/* Take up to `max` orgs due at or before now_ms, earliest first: their names go to names[i]
 * (each a buffer of ISF_SCHED_NAME_MAX + 1 bytes) and each is moved to `later_ms`, so an org the
 * caller never reports on is still retried then. Returns how many were taken. */
size_t isf_sched_take_due(struct isf_sched *s, int64_t now_ms, int64_t later_ms,
                          char (*names)[ISF_SCHED_NAME_MAX + 1], size_t max);

#endif

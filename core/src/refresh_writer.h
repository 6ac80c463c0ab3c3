/* Record writes of the refresh engine, off its thread: with the store's fsync on, each write
 * waits several milliseconds for the disk, and one thread writing 10,000 records one after the
 * other would spend a minute waiting. Writer threads, each with its own library context (so its
 * own store plugin instance, as the plugin ABI requires), write concurrently and the disk
 * commits them together; the engine's thread keeps sending requests meanwhile. */
#ifndef ISF_REFRESH_WRITER_H
#define ISF_REFRESH_WRITER_H

#include "internal.h"

/* One write: the stored form of a record, at its expected revision. */
struct rf_write {
    struct rf_write *next; /* queue link (the writer's) */
    const char *name;
    char *data; /* serialised record (sealed secrets only); freed by the submitter */
    size_t len;
    uint64_t expected_revision;
    /* Filled by the writer. */
    uint64_t new_revision;
    int status;
    struct isf_error err;
    void *cookie; /* the submitter's */
};

struct rf_writer;

/* Start up to `threads` writers on contexts opened like ctx. NULL (and a debug log) when none
 * could start: the caller then writes itself. */
struct rf_writer *rf_writer_start(struct isf_ctx *ctx, int threads);
/* Queue a write; it completes on a writer thread. */
void rf_writer_submit(struct rf_writer *w, struct rf_write *req);
/* A descriptor that becomes readable when writes have completed (for poll). */
int rf_writer_fd(const struct rf_writer *w);
/* The completed writes (a list linked by next, in no order), clearing the descriptor. */
struct rf_write *rf_writer_take_done(struct rf_writer *w);
/* Wait for the queued writes, then stop and free the writers. Completed writes not taken are
 * dropped (their data belongs to the submitter). */
void rf_writer_stop(struct rf_writer *w);

#endif

/*
 * app.h — toyapp's process-wide state.
 *
 * Threads (docs/architecture.md, "Threads"): the lws service thread reads
 * requests and writes answers and never blocks on Postgres, the mock API or
 * signing; the reader and io threads run the handlers of read endpoints and
 * of the one outbound call; the writer group-commits every change of state;
 * the monitor checks the databases for /health; the sequencer puts
 * committed entries into the log; the poster (chain on) sends the deletion
 * outbox to the chain.  Finished jobs come back on done_q, and
 * lws_cancel_service() wakes the service thread to send them.
 */
#ifndef TOYAPP_APP_H
#define TOYAPP_APP_H

#include <pthread.h>
#include <stdatomic.h>

#include "chain.h"
#include "config.h"
#include "job.h"
#include "keys.h"
#include "meta.h"

/* TOY_VERSION comes from the file VERSION, through the GNUmakefile. */
#ifndef TOY_VERSION
#error "TOY_VERSION is not defined: build with make, which reads the file VERSION"
#endif

typedef struct app {
    config cfg;                  /* read-only after start */
    meta meta;                   /* the TEE provider, the signing key, the instance (read-only after start) */
    keys k;                      /* the other keys (read-only after start) */
    chain chain;                 /* the chain (cfg.on 0 with CHAIN=off) */
    struct lws_context *lws;
    queue writer_q, reader_q, io_q, done_q;
    atomic_int stopping;         /* set by a signal: every thread winds down */
    pthread_t writer, reader, io, monitor, sequencer, poster;
} app;

extern app g_app;

#endif

/*
 * worker.c — the reader and io threads: each takes jobs from its queue and
 * runs the endpoint's handler (serve), then hands the job back to the
 * service thread, or on to the writer when the handler asks.
 *
 * Reads go to the primary; when it is unreachable they fall back to the
 * replica (which may lag by the replication delay).  The io thread makes
 * the service's calls out (the mock API, the TEE provider's quotes).
 */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "handler.h"
#include "route.h"

PGconn *worker_primary(worker *w)
{
    return db_get(&w->primary);
}

PGconn *worker_any(worker *w, int *from_replica)
{
    PGconn *c = db_get(&w->primary);
    int r = !c;
    if (!c)
        c = db_get(&w->replica);
    if (from_replica)
        *from_replica = r;
    return c;
}

void worker_check(worker *w)
{
    db_check(&w->primary);
    db_check(&w->replica);
}

static void run(queue *q)
{
    worker w = { .primary = { .url = g_app.cfg.database_url }, .replica = { .url = g_app.cfg.replica_url } };
    for (;;) {
        int n;
        job *j = queue_take(q, 1, &n);
        if (!j)
            break;
        toy_routes[j->route].handler->serve(j, &w);
        if (j->to_writer) {
            j->to_writer = 0;
            queue_push(&g_app.writer_q, j);
        } else {
            job_done(j);
        }
    }
    db_close(&w.primary);
    db_close(&w.replica);
}

void *reader_main(void *arg)
{
    (void)arg;
    run(&g_app.reader_q);
    return NULL;
}

void *io_main(void *arg)
{
    (void)arg;
    run(&g_app.io_q);
    return NULL;
}

/*
 * worker.c — the reader and io threads: each takes jobs from its queue and
 * runs the endpoint's handler (serve), then hands the job back to the
 * service thread, or on to the writer when the handler asks.
 *
 * Reads go to the primary; when it is unreachable they fall back to the
 * replica, and the answer says so, with how far behind the replica was.  The io thread makes
 * the service's calls out (the mock API, the TEE provider's quotes).
 */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "handler.h"
#include "monitor.h"
#include "route.h"

PGconn *worker_primary(worker *w)
{
    monitor_fresh(&w->primary, &w->primary_seen);
    return db_get(&w->primary);
}

/* How far behind the replica is, measured before the read it serves: WAL it
 * has received (with a synchronous replica: every acknowledged commit) but
 * not yet replayed, so not yet visible, and the age of the last commit it
 * replayed while such WAL waits (0 when none does). */
static void measure_lag(worker *w, PGconn *c)
{
    PGresult *r = sql_query(c, "reader", "SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(),"
                                         " pg_last_wal_replay_lsn()), 0)::bigint, CASE WHEN"
                                         " pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn()"
                                         " THEN (extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
                                         " * 1000)::bigint ELSE 0 END", NULL, SQL_TEXT);
    w->on_replica = 1;
    w->lag_bytes = r ? sql_int_at(r, 0, 0) : -1;
    w->lag_ms = r ? sql_int_at(r, 0, 1) : -1;
    PQclear(r);
}

PGconn *worker_any(worker *w, int *from_replica)
{
    monitor_fresh(&w->primary, &w->primary_seen);
    PGconn *c = db_get(&w->primary);
    int r = !c;
    if (!c) {
        c = db_get(&w->replica);
        if (c && !w->on_replica)
            measure_lag(w, c);
    }
    if (from_replica)
        *from_replica = r;
    return c;
}

void worker_check(worker *w)
{
    db_check(&w->primary);
    db_check(&w->replica);
}

PGconn *worker_read(job *j, worker *w)
{
    PGconn *c = worker_any(w, NULL);
    if (!c) {
        job_error(j, 503, "database_unavailable", "neither the primary nor the replica answered");
        j->retry_after = 1;
    }
    return c;
}

void worker_unavailable(job *j, worker *w, const char *msg)
{
    worker_check(w);
    job_error(j, 503, "database_unavailable", msg);
    j->retry_after = 1;
}

static void run(queue *q, const char *name)
{
    worker w = { .primary = { .url = g_app.cfg.database_url, .name = name },
                 .replica = { .url = g_app.cfg.replica_url, .name = name } };
    for (;;) {
        int n;
        job *j = queue_take(q, 1, &n);
        if (!j)
            break;
        w.on_replica = 0;
        toy_routes[j->route].handler->serve(j, &w);
        j->from_replica = w.on_replica;
        j->lag_ms = w.lag_ms;
        j->lag_bytes = w.lag_bytes;
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
    run(&g_app.reader_q, "toyapp-reader");
    return NULL;
}

void *io_main(void *arg)
{
    (void)arg;
    run(&g_app.io_q, "toyapp-io");
    return NULL;
}

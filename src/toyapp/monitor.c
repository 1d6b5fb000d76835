/*
 * monitor.c — checks the primary and the replica once a second, so that
 * GET /health answers at once, on the service thread, from the last check.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "monitor.h"
#include "sql.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char primary_state[16] = "unknown", replica_state[16] = "unknown";
static int checked;

int monitor_ready(void)
{
    pthread_mutex_lock(&lock);
    int r = checked;
    pthread_mutex_unlock(&lock);
    return r;
}

/* "up" if s answers, "down" if not, "none" if there is no such server. */
static const char *probe(db_server *s)
{
    if (!s->url || !*s->url)
        return "none";
    PGconn *c = db_get(s);
    PGresult *r = c ? sql_query(c, "monitor", "SELECT 1", NULL, SQL_TEXT) : NULL;
    PQclear(r);
    if (c && !r)
        db_check(s);
    return r ? "up" : "down";
}

void *monitor_main(void *arg)
{
    (void)arg;
    db_server p = { .url = g_app.cfg.database_url }, r = { .url = g_app.cfg.replica_url };
    while (!atomic_load(&g_app.stopping)) {
        const char *ps = probe(&p), *rs = probe(&r);
        pthread_mutex_lock(&lock);
        checked = 1;
        snprintf(primary_state, sizeof primary_state, "%s", ps);
        snprintf(replica_state, sizeof replica_state, "%s", rs);
        pthread_mutex_unlock(&lock);
        for (int i = 0; i < 10 && !atomic_load(&g_app.stopping); i++) {
            struct timespec t = { 0, 100 * 1000 * 1000 };
            nanosleep(&t, NULL);
        }
    }
    db_close(&p);
    db_close(&r);
    return NULL;
}

void monitor_health(job *j)
{
    char ps[16], rs[16], ts[32];
    pthread_mutex_lock(&lock);
    memcpy(ps, primary_state, sizeof ps);
    memcpy(rs, replica_state, sizeof rs);
    pthread_mutex_unlock(&lock);
    size_t tsn = rt_ser_now(ts);
    int up = !strcmp(ps, "up"), rup = !strcmp(rs, "up");
    const char *status = up ? "ok" : rup ? "degraded" : "down";
    toy_resp_health h = {
        .status = { status, strlen(status) }, .primary = { ps, strlen(ps) },
        .replica = { rs, strlen(rs) }, .timestamp = { ts, tsn },
    };
    /* Degraded still serves reads: 200.  No database at all: 503. */
    job_answer(j, up || rup ? 200 : 503, &toy_resp_health_rec, &h);
}

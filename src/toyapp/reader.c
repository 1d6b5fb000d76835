/*
 * reader.c — reads: the signed signup count and the health check.
 *
 * Reads go to the primary; when it is unreachable they fall back to the
 * replica (which may lag by the replication delay, and says so: the
 * response names the source).  Reconnects are attempted at most every
 * RECONNECT_MS per server, so a dead server costs little.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "logread.h"

#define RECONNECT_MS 500

typedef struct server {
    const char *name, *url;
    PGconn *c;
    uint64_t last_fail;
} server;

static server primary = { "primary", NULL, NULL, 0 }, replica = { "replica", NULL, NULL, 0 };

static PGconn *get(server *s)
{
    if (!s->url || !*s->url)
        return NULL;
    if (s->c && PQstatus(s->c) == CONNECTION_OK)
        return s->c;
    if (s->c) {
        PQfinish(s->c);
        s->c = NULL;
    }
    if (s->last_fail && now_ms() - s->last_fail < RECONNECT_MS)
        return NULL;
    char err[256];
    s->c = db_connect(s->url, err, sizeof err);
    s->last_fail = s->c ? 0 : now_ms();
    return s->c;
}

/* Runs a one-value query on s; returns a malloc'd value or NULL. */
static char *query1(server *s, const char *sql)
{
    PGconn *c = get(s);
    if (!c)
        return NULL;
    PGresult *r = PQexec(c, sql);
    char *v = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!v && PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        s->c = NULL;
        s->last_fail = now_ms();
    }
    return v;
}

static void do_count(job *j)
{
    static const char *q = "SELECT value FROM counters WHERE name = 'signups'";
    char *v = query1(&primary, q);
    if (!v)
        v = query1(&replica, q);
    if (!v) {
        job_error(j, 503, "database_unavailable", "neither the primary nor the replica answered");
        j->retry_after = 1;
        return;
    }
    char ts[32];
    size_t tsn = rt_ser_now(ts);
    toy_resp_signup_count r = {
        .count = strtoull(v, NULL, 10),
        .cvmId = { g_app.cfg.cvm_id, strlen(g_app.cfg.cvm_id) },
        .timestamp = { ts, tsn }, .publicKey = { g_app.k.sign_pub, 32 },
    };
    free(v);
    uint8_t sig[64];
    if (sign_record(&toy_resp_signup_count_rec, &r, sig)) {
        job_error(j, 500, "internal_error", "could not sign the count");
        return;
    }
    r.signature = (rt_bytes){ sig, 64 };
    j->body = ser_alloc(&toy_resp_signup_count_rec, &r, 0, &j->body_len);
    j->status = j->body ? 200 : 500;
}

/* ---- health: checked once a second, answered from the last check ---- */

static pthread_mutex_t health_lock = PTHREAD_MUTEX_INITIALIZER;
static char health_primary[16] = "unknown", health_replica[16] = "unknown";
static int health_checked;

int health_ready(void)
{
    pthread_mutex_lock(&health_lock);
    int r = health_checked;
    pthread_mutex_unlock(&health_lock);
    return r;
}
static server mon_primary = { "primary", NULL, NULL, 0 }, mon_replica = { "replica", NULL, NULL, 0 };

void *monitor_main(void *arg)
{
    (void)arg;
    mon_primary.url = g_app.cfg.database_url;
    mon_replica.url = g_app.cfg.replica_url;
    while (!g_app.stopping) {
        char *p = query1(&mon_primary, "SELECT 1");
        char *r = query1(&mon_replica, "SELECT 1");
        pthread_mutex_lock(&health_lock);
        health_checked = 1;
        snprintf(health_primary, sizeof health_primary, "%s", p ? "up" : "down");
        snprintf(health_replica, sizeof health_replica, "%s",
                 !mon_replica.url || !*mon_replica.url ? "none" : r ? "up" : "down");
        pthread_mutex_unlock(&health_lock);
        free(p);
        free(r);
        for (int i = 0; i < 10 && !g_app.stopping; i++) {
            struct timespec t = { 0, 100 * 1000 * 1000 };
            nanosleep(&t, NULL);
        }
    }
    PQfinish(mon_primary.c);
    PQfinish(mon_replica.c);
    return NULL;
}

int health_build(job *j)
{
    char ps[16], rs[16], ts[32];
    pthread_mutex_lock(&health_lock);
    memcpy(ps, health_primary, sizeof ps);
    memcpy(rs, health_replica, sizeof rs);
    pthread_mutex_unlock(&health_lock);
    size_t tsn = rt_ser_now(ts);
    int up = !strcmp(ps, "up"), rup = !strcmp(rs, "up");
    const char *status = up ? "ok" : rup ? "degraded" : "down";
    toy_resp_health h = {
        .status = { status, strlen(status) }, .primary = { ps, strlen(ps) },
        .replica = { rs, strlen(rs) }, .timestamp = { ts, tsn },
    };
    j->body = ser_alloc(&toy_resp_health_rec, &h, 0, &j->body_len);
    /* Degraded still serves reads: 200.  No database at all: 503. */
    j->status = !j->body ? 500 : up || rup ? 200 : 503;
    return 0;
}

void *reader_main(void *arg)
{
    (void)arg;
    primary.url = g_app.cfg.database_url;
    replica.url = g_app.cfg.replica_url;
    for (;;) {
        int n;
        job *j = queue_take(&g_app.reader_q, 1, &n);
        if (!j)
            break;
        if (j->kind == JOB_COUNT) {
            do_count(j);
        } else if (j->kind == JOB_REPORT) {
            report_get(get(&primary), get(&replica), j);
        } else {
            PGconn *c = get(&primary);
            if (!c)
                c = get(&replica);
            if (!c) {
                job_error(j, 503, "database_unavailable", "neither the primary nor the replica answered");
                j->retry_after = 1;
            } else if (j->kind == JOB_HEAD) {
                log_head(c, j);
            } else if (j->kind == JOB_PROOF) {
                log_proof(c, j);
            } else if (j->kind == JOB_CONSISTENCY) {
                log_consistency(c, j);
            } else {
                reports_list(c, j);
            }
        }
        job_done(j);
    }
    PQfinish(primary.c);
    PQfinish(replica.c);
    return NULL;
}

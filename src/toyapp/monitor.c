/*
 * monitor.c — checks the primary and the replica once a second, so that
 * GET /health and GET /ready answer at once, on the service thread, from
 * the last check.
 *
 * Whether the primary answers is not whether it takes writes: a full disk,
 * a read-only or a recovering server answers every SELECT.  So the check
 * of the primary is a write probe: in one transaction, always rolled back,
 * it empties the ready_probe table (which gives the table a new, empty
 * file) and writes a row into it (which must extend that file: new space).
 * Its error says why writes are refused; a lost connection says the primary
 * is unreachable.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "monitor.h"
#include "sql.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char primary_state[16] = "unknown", replica_state[16] = "unknown", writes_state[16] = "unknown";
static int checked;
static atomic_int repl_state = REPL_UNKNOWN;
static atomic_uint primary_gen;

unsigned monitor_primary_gen(void)
{
    return atomic_load(&primary_gen);
}

void monitor_fresh(db_server *s, unsigned *seen)
{
    unsigned g = atomic_load(&primary_gen);
    if (g == *seen)
        return;
    if (*seen)
        db_close(s);
    *seen = g;
}

int monitor_replication(void)
{
    return atomic_load(&repl_state);
}

static const char *repl_name(int r)
{
    return r == REPL_SYNC ? "sync" : r == REPL_MISSING ? "missing" : r == REPL_ASYNC ? "async" : "unknown";
}

int monitor_ready(void)
{
    pthread_mutex_lock(&lock);
    int r = checked;
    pthread_mutex_unlock(&lock);
    return r;
}

/* "up" if s answers, "down" if not, "none" if there is no such server. */
static const char *probe_read(db_server *s)
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

/* What a refused write's SQLSTATE says. */
static const char *refusal(const char *state, int in_recovery)
{
    if (in_recovery)
        return "in_recovery";
    if (state && !strcmp(state, "25006"))
        return "read_only";
    if (state && (!strncmp(state, "53", 2)))   /* insufficient resources: 53100 disk_full, ... */
        return !strcmp(state, "53100") ? "disk_full" : "refused";
    return "refused";
}

/* Sets *primary ("up"/"down") and *repl (REPL_*), and returns whether the
 * primary takes writes ("accepted", or why not). */
static const char *probe_write(db_server *s, const char **primary, int *repl)
{
    PGconn *c = db_get(s);
    *primary = "down";
    *repl = REPL_UNKNOWN;
    if (!c)
        return "unreachable";
    if (!s->prepared) {
        /* A probe waits for no one: another instance's probe holds the
         * table's lock for a moment at most. */
        if (sql_exec(c, "monitor", "SET lock_timeout = '500ms'", NULL)) {
            db_check(s);
            return s->c ? "refused" : "unreachable";
        }
        s->prepared = 1;
    }
    /* Is it a primary, and does a synchronous standby confirm its commits? */
    PGresult *r = sql_query(c, "monitor", "SELECT pg_is_in_recovery(), current_setting('synchronous_standby_names')"
                                          " <> '', (SELECT count(*) FROM pg_stat_replication"
                                          " WHERE sync_state IN ('sync', 'quorum'))", NULL, SQL_TEXT);
    if (!r) {
        db_check(s);
        return s->c ? "refused" : "unreachable";
    }
    *primary = "up";
    int in_recovery = !strcmp(PQgetvalue(r, 0, 0), "t");
    int configured = !strcmp(PQgetvalue(r, 0, 1), "t"), attached = sql_int_at(r, 0, 2) > 0;
    *repl = !configured ? REPL_ASYNC : attached ? REPL_SYNC : REPL_MISSING;
    PQclear(r);
    /* One round trip: the simple query protocol runs the statements in turn
     * and stops at the first error. */
    r = PQexec(c, "BEGIN; TRUNCATE ready_probe; INSERT INTO ready_probe (id) VALUES (1); ROLLBACK");
    const char *w = "accepted";
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        w = refusal(PQresultErrorField(r, PG_DIAG_SQLSTATE), in_recovery);
        PQclear(PQexec(c, "ROLLBACK"));
    }
    PQclear(r);
    if (PQstatus(c) != CONNECTION_OK) {
        db_check(s);
        *primary = "down";
        *repl = REPL_UNKNOWN;
        return "unreachable";
    }
    return w;
}

void *monitor_main(void *arg)
{
    (void)arg;
    db_server p = { .url = g_app.cfg.database_url, .name = "toyapp-monitor" },
              r = { .url = g_app.cfg.replica_url, .name = "toyapp-monitor" };
    while (!atomic_load(&g_app.stopping)) {
        const char *ps;
        int repl;
        const char *ws = probe_write(&p, &ps, &repl), *rs = probe_read(&r);
        atomic_store(&repl_state, repl);
        atomic_store(&primary_gen, p.gen);
        pthread_mutex_lock(&lock);
        checked = 1;
        snprintf(primary_state, sizeof primary_state, "%s", ps);
        snprintf(replica_state, sizeof replica_state, "%s", rs);
        snprintf(writes_state, sizeof writes_state, "%s", ws);
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

typedef struct state { char primary[16], replica[16], writes[16]; } state;

/* Where a write is acknowledged now, by SYNC_REPLICA and the replication
 * state: "two_nodes", "one_node" (degraded, or no replica by choice),
 * "refused" (require, and no synchronous standby attached). */
static const char *ack_name(void)
{
    int r = monitor_replication();
    switch (g_app.cfg.sync_replica) {
    case SYNC_REQUIRE: return r == REPL_SYNC ? "two_nodes" : "refused";
    case SYNC_DEGRADE: return r == REPL_SYNC ? "two_nodes" : "one_node";
    default: return r == REPL_SYNC ? "two_nodes" : "one_node";
    }
}

static state last(void)
{
    state s;
    pthread_mutex_lock(&lock);
    memcpy(s.primary, primary_state, sizeof s.primary);
    memcpy(s.replica, replica_state, sizeof s.replica);
    memcpy(s.writes, writes_state, sizeof s.writes);
    pthread_mutex_unlock(&lock);
    return s;
}

void monitor_health(job *j)
{
    char ts[32];
    size_t tsn = rt_ser_now(ts);
    state s = last();
    int up = !strcmp(s.primary, "up"), rup = !strcmp(s.replica, "up"), writes = !strcmp(s.writes, "accepted");
    int acked_as_asked = !strcmp(ack_name(), "two_nodes") || g_app.cfg.sync_replica == SYNC_OFF;
    const char *status = up && writes && acked_as_asked && (rup || !strcmp(s.replica, "none"))
                         ? "ok" : up || rup ? "degraded" : "down";
    toy_resp_health h = {
        .status = rt_cstr(status), .primary = rt_cstr(s.primary), .replica = rt_cstr(s.replica),
        .writes = rt_cstr(s.writes), .replication = rt_cstr(repl_name(monitor_replication())),
        .acknowledged = rt_cstr(ack_name()), .timestamp = { ts, tsn },
    };
    /* Liveness: answering at all is the answer. */
    job_answer(j, 200, &toy_resp_health_rec, &h);
}

void monitor_ready_answer(job *j)
{
    char ts[32];
    size_t tsn = rt_ser_now(ts);
    state s = last();
    int ok = !strcmp(s.writes, "accepted") && strcmp(ack_name(), "refused");
    toy_resp_ready r = { .status = rt_cstr(ok ? "ready" : "not_ready"), .writes = rt_cstr(s.writes),
                         .replication = rt_cstr(repl_name(monitor_replication())),
                         .acknowledged = rt_cstr(ack_name()), .timestamp = { ts, tsn } };
    job_answer(j, ok ? 200 : 503, &toy_resp_ready_rec, &r);
    if (!ok)
        j->retry_after = 1;
}

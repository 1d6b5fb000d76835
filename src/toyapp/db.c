/*
 * db.c — Postgres connections, the versioned migrations, and the statement
 * helpers (sql.h).
 *
 * Migrations are numbered, each applied once in its own transaction and
 * recorded in schema_migrations, under an advisory lock so that instances
 * starting together do not race.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "pgwait.h"
#include "sql.h"
#include "toy_service.h"

extern const char toy_schema_sql[];

static const struct { int version; const char *sql; } migrations[] = {
    { 1, toy_schema_sql },
    { 2, "INSERT INTO counters (name, value) VALUES ('signups', 0), ('users_processed', 0),"
         " ('safe_api_calls', 0), ('deletions', 0) ON CONFLICT (name) DO NOTHING" },
    /* The writer takes batch ids 64 at a time (writer.c, BATCH_ID_BLOCK). */
    { 3, "ALTER SEQUENCE batches_batch_id_seq INCREMENT BY 64" },
    /* Migration 1 is the generated schema of the day, all CREATE ... IF NOT
     * EXISTS; later changes to it reach older databases as: the ALTERs that
     * CREATE IF NOT EXISTS cannot do (4), then the schema applied again (5),
     * which adds the tables they lack (the tree heads and nodes). */
    { 4, "ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS receipt_id text;"
         " ALTER TABLE reports ADD COLUMN IF NOT EXISTS users_processed bigint NOT NULL DEFAULT 0,"
         " ADD COLUMN IF NOT EXISTS safe_api_calls bigint NOT NULL DEFAULT 0,"
         " ADD COLUMN IF NOT EXISTS signups bigint NOT NULL DEFAULT 0,"
         " ADD COLUMN IF NOT EXISTS deletions bigint NOT NULL DEFAULT 0,"
         " DROP COLUMN IF EXISTS signature" },
    { 5, NULL },
    { 6, "INSERT INTO tree_state (id, tree_size, frontier) VALUES (1, 0, ''::bytea)"
         " ON CONFLICT (id) DO NOTHING" },
    /* The schema again: the index on reports.time_window_end. */
    { 7, NULL },
    /* Nothing reads audit entries by batch: one index less per entry. */
    { 8, "DROP INDEX IF EXISTS audit_log_batch_id_idx" },
    /* Nothing reads receipts by user yet: one index less per submission.
     * Subtrees under 16 leaves are recomputed now, no longer stored. */
    { 9, "DROP INDEX IF EXISTS user_data_receipts_user_id_hash_idx;"
         " DELETE FROM tree_nodes WHERE id < (4::bigint << 56)" },
    /* The log moved out of audit_log (no more UPDATE of every entry): the
     * schema again makes the log tables and log_leaves (10); a database that
     * still has audit_log.leaf_index moves its leaves over (11). */
    { 10, NULL },
    { 11, "DO $$ BEGIN IF EXISTS (SELECT 1 FROM information_schema.columns"
          " WHERE table_name = 'audit_log' AND column_name = 'leaf_index') THEN"
          " CREATE TABLE IF NOT EXISTS log_leaves (leaf_index bigint PRIMARY KEY,"
          "  audit_id bigint UNIQUE NOT NULL, leaf_hash bytea NOT NULL);"
          " INSERT INTO log_leaves (leaf_index, audit_id, leaf_hash)"
          "  SELECT leaf_index, id, leaf_hash FROM audit_log WHERE leaf_index IS NOT NULL;"
          " INSERT INTO log_queue (audit_ids, leaf_hashes)"
          "  SELECT string_agg(int8send(id), ''::bytea ORDER BY id),"
          "  string_agg(leaf_hash, ''::bytea ORDER BY id)"
          "  FROM audit_log WHERE leaf_index IS NULL HAVING count(*) > 0;"
          " ALTER TABLE audit_log DROP COLUMN leaf_index;"
          " END IF; END $$" },
    /* Entries wait for the sequencer one row per batch, not one per entry
     * (log_queue, made by the schema again: 12); a database that still has
     * log_pending moves its rows over (13). */
    { 12, NULL },
    { 13, "DO $$ BEGIN IF EXISTS (SELECT 1 FROM information_schema.tables"
          " WHERE table_name = 'log_pending') THEN"
          " INSERT INTO log_queue (audit_ids, leaf_hashes)"
          "  SELECT string_agg(int8send(audit_id), ''::bytea ORDER BY audit_id),"
          "  string_agg(leaf_hash, ''::bytea ORDER BY audit_id) FROM log_pending HAVING count(*) > 0;"
          " DROP TABLE log_pending;"
          " END IF; END $$" },
    /* Counters are named after the audit entry kind they count (the writer
     * bumps them generically, from the spec's kinds). */
    { 14, "UPDATE counters SET name = CASE name WHEN 'signups' THEN 'signup'"
          " WHEN 'users_processed' THEN 'data_received' WHEN 'safe_api_calls' THEN 'safe_api_call'"
          " WHEN 'deletions' THEN 'data_deleted' END"
          " WHERE name IN ('signups', 'users_processed', 'safe_api_calls', 'deletions')" },
    /* Deletion purges columns: they may be NULL now. */
    { 15, "ALTER TABLE audit_log ALTER COLUMN entry DROP NOT NULL;"
          " ALTER TABLE user_data_receipts ALTER COLUMN payload_commitment DROP NOT NULL,"
          " ALTER COLUMN safe_derivative DROP NOT NULL" },
    /* The schema again: the readiness probe's table. */
    { 16, NULL },
    /* The chain poster (poster.c): the outbox's new columns (17), then the
     * schema again for chain_txs and the outbox's indexes (18). */
    { 17, "ALTER TABLE deletion_outbox ADD COLUMN IF NOT EXISTS block_number bigint,"
          " ADD COLUMN IF NOT EXISTS chain_tx bigint, ADD COLUMN IF NOT EXISTS last_error text,"
          " ADD COLUMN IF NOT EXISTS rejected boolean NOT NULL DEFAULT false,"
          " ADD COLUMN IF NOT EXISTS posted_audit_id bigint" },
    { 18, NULL },
    /* Every new signed tree head is announced on channel toy_log at its
     * commit, whichever instance sequenced it: each instance's live feed
     * listens (feed.c). */
    { 19, "CREATE OR REPLACE FUNCTION toy_notify_log() RETURNS trigger LANGUAGE plpgsql AS"
          " $$ BEGIN PERFORM pg_notify('toy_log', NEW.tree_size::text); RETURN NULL; END $$;"
          " DROP TRIGGER IF EXISTS tree_heads_notify ON tree_heads;"
          " CREATE TRIGGER tree_heads_notify AFTER INSERT ON tree_heads"
          " FOR EACH ROW EXECUTE FUNCTION toy_notify_log()" },
    /* The log in segments, one per batch, not a row per entry (the schema
     * again makes log_segments: 20).  Then (21): the queue names each row's
     * batch (a row queued before, without one, is sequenced as one segment
     * per entry, found under minus its audit id); the leaves of log_leaves
     * become such one-entry segments; and log_leaf_range(lo, hi) lists
     * leaves as rows, for people and tests (toyapp reads segments itself:
     * log_read_leaves). */
    { 20, NULL },
    { 21, "ALTER TABLE log_queue ADD COLUMN IF NOT EXISTS batch_id bigint;"
          " DO $$ BEGIN IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'log_leaves') THEN"
          "  INSERT INTO log_segments (first_leaf, batch_id, size, audit_ids, leaf_hashes)"
          "   SELECT leaf_index, -audit_id, 1, int8send(audit_id), leaf_hash FROM log_leaves;"
          "  DROP TABLE log_leaves;"
          " END IF; END $$;"
          " CREATE OR REPLACE FUNCTION log_leaf_range(lo bigint, hi bigint)"
          "  RETURNS TABLE (leaf_index bigint, audit_id bigint, leaf_hash bytea) LANGUAGE sql STABLE AS $$"
          "  SELECT s.first_leaf + i,"
          "   ('x' || encode(substring(s.audit_ids FROM 8 * i + 1 FOR 8), 'hex'))::bit(64)::bigint,"
          "   substring(s.leaf_hashes FROM 32 * i + 1 FOR 32)"
          "  FROM log_segments s CROSS JOIN LATERAL"
          "   generate_series(greatest(lo - s.first_leaf, 0)::int, (least(hi - s.first_leaf, s.size) - 1)::int) AS i"
          "  WHERE s.first_leaf >= coalesce((SELECT max(first_leaf) FROM log_segments WHERE first_leaf <= lo), 0)"
          "   AND s.first_leaf < hi"
          "  ORDER BY 1 $$" },
    /* The poster's two searches of the outbox, each over the few rows it
     * wants rather than every row ever posted: the next unsent rows in id
     * order (each round; without it the primary key's order walked past
     * every recorded row, 18 ms a round at 30,000 rows), and rows recorded
     * on chain but not yet logged (poster_unlogged, at start and after a
     * failed write). */
    { 22, "CREATE INDEX IF NOT EXISTS deletion_outbox_unsent_idx ON deletion_outbox (id)"
          " WHERE block_number IS NULL AND chain_tx IS NULL AND NOT rejected;"
          " CREATE INDEX IF NOT EXISTS deletion_outbox_unlogged_idx ON deletion_outbox (id)"
          " WHERE block_number IS NOT NULL AND posted_audit_id IS NULL" },
    /* Idempotency keys expire by a BRIN index on created_at, not a btree
     * (one index entry less per keyed write): the old index goes (23), the
     * schema again makes the new one (24). */
    { 23, "DROP INDEX IF EXISTS idempotency_keys_created_at_idx" },
    { 24, NULL },
};

#define MIGRATION_LOCK 0x746f7961  /* "toya" */

PGconn *db_connect(const char *url, const char *app, char *err, size_t errlen)
{
    const char *keys[] = { "dbname", "connect_timeout", "application_name", "keepalives_idle",
                           "keepalives_interval", "keepalives_count", "tcp_user_timeout", NULL };
    const char *vals[] = { url, "2", app ? app : "toyapp", "5", "2", "2", "3000", NULL };
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", c ? PQerrorMessage(c) : "out of memory");
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = 0;
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* A statement during migration: its error goes to err. */
static int mexec(PGconn *c, const char *sql, const sql_args *a, char *err, size_t errlen)
{
    /* Without parameters, a migration may hold several statements. */
    PGresult *r = a ? PQexecParams(c, sql, a->n, NULL, a->v, a->len, a->fmt, 0) : PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int db_migrate(const char *url, char *err, size_t errlen)
{
    PGconn *c = db_connect(url, "toyapp-migrate", err, errlen);
    if (!c)
        return -1;
    int rc = -1;
    sql_args lock = { 0 };
    sql_int(&lock, MIGRATION_LOCK);
    if (mexec(c, "SET client_min_messages = warning", NULL, err, errlen)
        || mexec(c, "SELECT pg_advisory_lock($1)", &lock, err, errlen))
        goto out;
    if (mexec(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
                 " applied_at timestamptz NOT NULL DEFAULT now())", NULL, err, errlen))
        goto unlock;
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
        sql_args v = { 0 };
        sql_int(&v, migrations[i].version);
        PGresult *r = PQexecParams(c, "SELECT 1 FROM schema_migrations WHERE version = $1",
                                   v.n, NULL, v.v, v.len, v.fmt, 0);
        int failed = PQresultStatus(r) != PGRES_TUPLES_OK, done = !failed && PQntuples(r) == 1;
        if (failed)
            snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        PQclear(r);
        if (failed)
            goto unlock;
        if (done)
            continue;
        if (mexec(c, "BEGIN", NULL, err, errlen))
            goto unlock;
        if (mexec(c, migrations[i].sql ? migrations[i].sql : toy_schema_sql, NULL, err, errlen)
            || mexec(c, "INSERT INTO schema_migrations (version) VALUES ($1)", &v, err, errlen)) {
            char e2[256];
            mexec(c, "ROLLBACK", NULL, e2, sizeof e2);
            goto unlock;
        }
        if (mexec(c, "COMMIT", NULL, err, errlen))
            goto unlock;
        fprintf(stderr, "toyapp: applied migration %d\n", migrations[i].version);
    }
    /* A counter for every kind of entry the spec declares (the writer only
     * updates them). */
    {
        rt_pgarr kinds = { 0 };
        rt_pgarr_begin(&kinds, RT_PG_OID_TEXT);
        for (int k = 0; k < TOY_K__COUNT; k++)
            rt_pgarr_add(&kinds, toy_kinds[k].name, strlen(toy_kinds[k].name));
        rt_pgarr_end(&kinds);
        sql_args a = { 0 };
        sql_array(&a, &kinds);
        int bad = mexec(c, "INSERT INTO counters (name, value) SELECT unnest($1::text[]), 0"
                           " ON CONFLICT (name) DO NOTHING", &a, err, errlen);
        rt_pgarr_free(&kinds);
        if (bad)
            goto unlock;
    }
    rc = 0;
unlock:
    {
        char e2[256];
        mexec(c, "SELECT pg_advisory_unlock($1)", &lock, e2, sizeof e2);
    }
out:
    PQfinish(c);
    return rc;
}

/* ---- servers ------------------------------------------------------------- */

static _Thread_local int unconfirmed;

/* Notices and warnings are logged; the one Postgres gives a commit whose
 * wait for the synchronous standby was cancelled marks it unconfirmed.  It
 * runs in the thread reading the result. */
static void on_notice(void *arg, const PGresult *r)
{
    (void)arg;
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (m && strstr(m, "wait for synchronous replication"))
        unconfirmed = 1;
    fprintf(stderr, "toyapp: database: %s", PQresultErrorMessage(r));
}

PGconn *db_get(db_server *s)
{
    if (!s->url || !*s->url)
        return NULL;
    if (s->c && PQstatus(s->c) == CONNECTION_OK)
        return s->c;
    if (s->c) {
        PQfinish(s->c);
        s->c = NULL;
        s->prepared = 0;
        s->last_fail = now_ms();
    }
    if (s->last_fail && now_ms() - s->last_fail < DB_RECONNECT_MS)
        return NULL;
    char err[256];
    s->c = db_connect(s->url, s->name, err, sizeof err);
    s->last_fail = s->c ? 0 : now_ms();
    s->gen += s->c != NULL;
    s->prepared = 0;
    s->sync_local = -1;
    if (s->c)
        PQsetNoticeReceiver(s->c, on_notice, NULL);
    return s->c;
}

int db_sync_commit(db_server *s, int local)
{
    if (!s->c)
        return -1;
    if (s->sync_local == local)
        return 0;
    if (sql_exec(s->c, "database", local ? "SET synchronous_commit = local" : "SET synchronous_commit = on", NULL))
        return -1;
    s->sync_local = local;
    return 0;
}

void db_check(db_server *s)
{
    if (s->c && PQstatus(s->c) != CONNECTION_OK) {
        PQfinish(s->c);
        s->c = NULL;
        s->prepared = 0;
        s->last_fail = now_ms();
    }
}

void db_close(db_server *s)
{
    PQfinish(s->c);
    s->c = NULL;
    s->prepared = 0;
}

/* ---- statements ---------------------------------------------------------- */

static int slot(sql_args *a)
{
    if (a->n >= SQL_MAX_ARGS) {
        fprintf(stderr, "toyapp: a statement has more than %d parameters\n", SQL_MAX_ARGS);
        abort();
    }
    return a->n++;
}

void sql_text(sql_args *a, const char *s)
{
    int i = slot(a);
    a->v[i] = s;
    a->len[i] = 0;
    a->fmt[i] = 0;
}

void sql_str(sql_args *a, const char *p, size_t n)
{
    int i = slot(a);
    a->v[i] = p ? p : "";   /* text's binary form is its bytes */
    a->len[i] = (int)n;
    a->fmt[i] = 1;
}

void sql_int(sql_args *a, int64_t v)
{
    int i = slot(a);
    snprintf(a->num[i], sizeof a->num[i], "%lld", (long long)v);
    a->v[i] = a->num[i];
    a->len[i] = 0;
    a->fmt[i] = 0;
}

void sql_bytes(sql_args *a, const void *p, size_t n)
{
    int i = slot(a);
    a->v[i] = p;
    a->len[i] = (int)n;
    a->fmt[i] = 1;
}

void sql_array(sql_args *a, const rt_pgarr *arr)
{
    sql_bytes(a, arr->b, arr->n);
}

/* The SQLSTATE of this thread's last failed statement. */
static _Thread_local char last_state[6];

const char *sql_last_state(void)
{
    return last_state;
}

static _Thread_local const char *quiet_unique;

void sql_quiet_unique(const char *constraint)
{
    quiet_unique = constraint;
}

static PGresult *checked(PGresult *r, const char *tag)
{
    const char *quiet = quiet_unique;
    quiet_unique = NULL;
    int st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *constraint = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    snprintf(last_state, sizeof last_state, "%s", state ? state : "");
    if (!(quiet && state && constraint && !strcmp(state, "23505") && !strcmp(constraint, quiet)))
        fprintf(stderr, "toyapp: %s: %s", tag,
                r ? PQresultErrorMessage(r) : "no result (out of memory, or abandoned)\n");
    PQclear(r);
    return NULL;
}

static _Thread_local int bound_ms;
static _Thread_local const atomic_int *bound_stop;

void sql_wait_bound(int ms, const atomic_int *stop)
{
    bound_ms = ms;
    bound_stop = stop;
}

int sql_unconfirmed(void)
{
    return unconfirmed;
}

/* The result of the statement just sent on c, waiting as sql_wait_bound
 * says; NULL (SQLSTATE "") when abandoned. */
static PGresult *await(PGconn *c, int sent)
{
    return pg_await(c, sent, bound_ms, bound_stop);
}

PGresult *sql_query(PGconn *c, const char *tag, const char *sql, const sql_args *a, int format)
{
    unconfirmed = 0;
    last_state[0] = 0;
    if (!bound_ms && !bound_stop)
        return checked(PQexecParams(c, sql, a ? a->n : 0, NULL, a ? a->v : NULL, a ? a->len : NULL,
                                    a ? a->fmt : NULL, format), tag);
    return checked(await(c, PQsendQueryParams(c, sql, a ? a->n : 0, NULL, a ? a->v : NULL, a ? a->len : NULL,
                                              a ? a->fmt : NULL, format)), tag);
}

int sql_exec(PGconn *c, const char *tag, const char *sql, const sql_args *a)
{
    PGresult *r = sql_query(c, tag, sql, a, SQL_TEXT);
    PQclear(r);
    return r ? 0 : -1;
}

int sql_prepare(PGconn *c, const char *tag, const char *name, const char *sql, int nparams)
{
    PGresult *r = checked(PQprepare(c, name, sql, nparams, NULL), tag);
    PQclear(r);
    return r ? 0 : -1;
}

PGresult *sql_run_prepared(PGconn *c, const char *tag, const char *name, const sql_args *a, int format)
{
    unconfirmed = 0;
    last_state[0] = 0;
    if (!bound_ms && !bound_stop)
        return checked(PQexecPrepared(c, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                                      a ? a->fmt : NULL, format), tag);
    return checked(await(c, PQsendQueryPrepared(c, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                                                a ? a->fmt : NULL, format)), tag);
}

int64_t sql_int_at(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

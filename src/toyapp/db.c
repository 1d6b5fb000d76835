/*
 * db.c — Postgres connections and the versioned migrations.
 *
 * Every connection gets a short connect timeout and TCP keepalives, so a
 * primary that is down or unreachable turns into an error in about a
 * second instead of a hung request.  Migrations are numbered, each applied
 * once in its own transaction and recorded in schema_migrations, under an
 * advisory lock so that instances starting together do not race.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

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
    /* The chain poster (poster.c): the outbox's new columns (14), then the
     * schema again for chain_txs and the outbox's indexes (15). */
    { 14, "ALTER TABLE deletion_outbox ADD COLUMN IF NOT EXISTS block_number bigint,"
          " ADD COLUMN IF NOT EXISTS chain_tx bigint, ADD COLUMN IF NOT EXISTS last_error text,"
          " ADD COLUMN IF NOT EXISTS rejected boolean NOT NULL DEFAULT false,"
          " ADD COLUMN IF NOT EXISTS posted_audit_id bigint" },
    { 15, NULL },
};

#define MIGRATION_LOCK 0x746f7961  /* "toya" */

PGconn *db_connect(const char *url, char *err, size_t errlen)
{
    const char *keys[] = { "dbname", "connect_timeout", "application_name", "keepalives_idle",
                           "keepalives_interval", "keepalives_count", "tcp_user_timeout", NULL };
    const char *vals[] = { url, "2", "toyapp", "5", "2", "2", "3000", NULL };
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

int db_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok && err)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    else if (!ok)
        fprintf(stderr, "toyapp: database: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int db_migrate(const char *url, char *err, size_t errlen)
{
    PGconn *c = db_connect(url, err, errlen);
    if (!c)
        return -1;
    int rc = -1;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d)", MIGRATION_LOCK);
    if (db_exec(c, "SET client_min_messages = warning", err, errlen) || db_exec(c, sql, err, errlen))
        goto out;
    if (db_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
                   " applied_at timestamptz NOT NULL DEFAULT now())", err, errlen))
        goto unlock;
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", migrations[i].version);
        const char *p[] = { v };
        PGresult *r = PQexecParams(c, "SELECT 1 FROM schema_migrations WHERE version = $1",
                                   1, NULL, p, NULL, NULL, 0);
        int done = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        int failed = PQresultStatus(r) != PGRES_TUPLES_OK;
        if (failed)
            snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        PQclear(r);
        if (failed)
            goto unlock;
        if (done)
            continue;
        if (db_exec(c, "BEGIN", err, errlen))
            goto unlock;
        if (db_exec(c, migrations[i].sql ? migrations[i].sql : toy_schema_sql, err, errlen)) {
            char e2[256];
            db_exec(c, "ROLLBACK", e2, sizeof e2);
            goto unlock;
        }
        r = PQexecParams(c, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, NULL, p, NULL, NULL, 0);
        failed = PQresultStatus(r) != PGRES_COMMAND_OK;
        PQclear(r);
        if (failed || db_exec(c, "COMMIT", err, errlen))
            goto unlock;
        fprintf(stderr, "toyapp: applied migration %d\n", migrations[i].version);
    }
    rc = 0;
unlock:
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%d)", MIGRATION_LOCK);
    {
        char e2[256];
        db_exec(c, sql, e2, sizeof e2);
    }
out:
    PQfinish(c);
    return rc;
}

/* ---- arrays in Postgres' binary format (array_recv) ---------------------- */

static void arr_put(pg_array *a, const void *p, size_t n)
{
    if (a->n + n > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap < a->n + n)
            cap *= 2;
        uint8_t *nb = realloc(a->b, cap);
        if (!nb) {
            fprintf(stderr, "toyapp: out of memory\n");
            abort();
        }
        a->b = nb;
        a->cap = cap;
    }
    memcpy(a->b + a->n, p, n);
    a->n += n;
}

static void arr_put32(pg_array *a, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    arr_put(a, b, 4);
}

static void arr_set32(pg_array *a, size_t at, uint32_t v)
{
    a->b[at] = (uint8_t)(v >> 24);
    a->b[at + 1] = (uint8_t)(v >> 16);
    a->b[at + 2] = (uint8_t)(v >> 8);
    a->b[at + 3] = (uint8_t)v;
}

/* Header: ndim, has-nulls, element type, then (for ndim 1) length and lower
 * bound, patched by arr_end.  An empty array is sent with ndim 0. */
void pg_array_begin(pg_array *a, uint32_t oid)
{
    a->n = 0;
    a->count = a->hasnull = 0;
    arr_put32(a, 1);
    arr_put32(a, 0);
    arr_put32(a, oid);
    arr_put32(a, 0);
    arr_put32(a, 1);
}

/* Appends one element; p == NULL is SQL NULL. */
void pg_array_add(pg_array *a, const void *p, size_t n)
{
    if (!p) {
        arr_put32(a, 0xffffffffu);
        a->hasnull = 1;
    } else {
        arr_put32(a, (uint32_t)n);
        arr_put(a, p, n);
    }
    a->count++;
}

void pg_array_end(pg_array *a)
{
    if (!a->count) {
        arr_set32(a, 0, 0);
        a->n = 12;
    } else {
        arr_set32(a, 4, (uint32_t)a->hasnull);
        arr_set32(a, 12, (uint32_t)a->count);
    }
}

/*
 * writer.c — the group-commit writer: every change of state goes through it.
 *
 * It takes every job waiting (up to GROUP_COMMIT_MAX) and, for each, asks
 * the endpoint's handler (handler.h) for its audit entry and the handler's
 * columns of the entry's rows; the rest of each entry and row is filled from
 * what spec/ says it comes `from` (the request's sinks, the entry), by the
 * generated tables.  It hashes the entries into one RFC 6962 tree, signs the
 * batch head once, and builds the answers.  Then it writes the batch — head,
 * entries, the sequencer's queue row, the idempotency keys with their sealed
 * answers, the rows of every table written per entry kind, the counters —
 * with one execution of the generated batch statement: one round trip, one
 * commit.  Only then are the answers handed back: nothing is acknowledged
 * that is not durable (synchronous_commit is on).
 *
 * A request with an Idempotency-Key leaves its key, its fingerprint and its
 * sealed answer (without what the database keeps anyway: idem.c) in the
 * same statement.  A key seen before makes the
 * statement fail (unique), writing nothing; only then does the writer look
 * the batch's keys up, answer each retry with its stored answer (422 when
 * the key came with another request), and write the rest again.  So keys
 * cost no round trip unless a request is actually retried.
 *
 * A batch holding a job whose handler must first read or lock what it
 * changes (a deletion, a report) runs in one explicit transaction: the
 * lookups, the handlers' own statements and the batch statement commit or
 * fail together.  If the primary is down, the batch fails at once with 503
 * and Retry-After; the next one tries to reconnect, at most every
 * DB_RECONNECT_MS, so a dead primary costs a request no more than a connect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handler.h"
#include "idem.h"
#include "monitor.h"
#include "route.h"
#include "rt_merkle.h"
#include "rt_sink.h"
#include "sequencer.h"

#define BATCH_STMT "toy_batch"

static db_server db;
static unsigned db_seen;         /* monitor_primary_gen() when db was last checked */

/* One job of the batch. */
typedef struct slot {
    job *j;
    const toy_handler *h;
    int outcome;                 /* W_* of its lookup (W_WRITE without one) */
    wentry e;
} slot;

/* ---- what handlers call while the writer prepares a batch ---------------- */

static job *cur;                 /* the job being prepared */
static char now_ts[32];
static size_t now_len;
/* The batch's claims: an open-addressing set of their strings, kept in an
 * arena, at most half full (a job claims at most twice: its key and what
 * its route claims). */
#define MAX_CLAIMS (2 * RT_MERKLE_BATCH_MAX)
#define CLAIM_SLOTS (2 * MAX_CLAIMS)
static struct { uint64_t h; size_t off; } claim_slot[CLAIM_SLOTS];   /* off + 1; 0 when empty */
static char *claim_arena;
static size_t claim_used, claim_cap;
static int nclaims;

/* Every generated entry struct starts with the envelope's two strings. */
typedef struct envelope { rt_str cvmId, timestamp; } envelope;

void *w_entry(wentry *e, int k)
{
    const rt_kind *kd = &toy_kinds[k];
    e->kind = k;
    e->entry = calloc(1, kd->size);
    if (!e->entry) {
        fprintf(stderr, "toyapp: out of memory\n");
        abort();
    }
    envelope *env = e->entry;
    env->cvmId = (rt_str){ g_app.cfg.meta.cvm_id, strlen(g_app.cfg.meta.cvm_id) };
    env->timestamp = (rt_str){ now_ts, now_len };
    rt_copies_apply(&kd->copies, e->entry, cur->route, cur->req);
    for (int t = 0; t < TOY_BATCH_NTABLES; t++)
        if (toy_batch_tables[t]->kind == k) {
            e->rows[t] = calloc(1, toy_batch_tables[t]->row_size);
            if (!e->rows[t]) {
                fprintf(stderr, "toyapp: out of memory\n");
                abort();
            }
        }
    return e->entry;
}

void *w_row(wentry *e, const rt_table *t)
{
    for (int i = 0; i < TOY_BATCH_NTABLES; i++)
        if (toy_batch_tables[i] == t && e->rows[i])
            return e->rows[i];
    fprintf(stderr, "toyapp: a %s job asked for a %s row its entry does not have\n",
            toy_routes[cur->route].name, t->name);
    abort();
}

int w_claim(const char *key)
{
    size_t n = strlen(key) + 1;
    uint64_t h = 0xcbf29ce484222325u;   /* FNV-1a */
    for (size_t i = 0; i + 1 < n; i++)
        h = (h ^ (uint8_t)key[i]) * 0x100000001b3u;
    size_t i = h & (CLAIM_SLOTS - 1);
    for (; claim_slot[i].off; i = (i + 1) & (CLAIM_SLOTS - 1))
        if (claim_slot[i].h == h && !strcmp(claim_arena + claim_slot[i].off - 1, key))
            return -1;
    if (nclaims == MAX_CLAIMS)   /* cannot happen (see MAX_CLAIMS); the job waits for the next batch */
        return -1;
    if (claim_used + n > claim_cap) {
        size_t cap = claim_cap ? 2 * claim_cap : 16384;
        while (cap < claim_used + n)
            cap *= 2;
        if (!(claim_arena = realloc(claim_arena, cap))) {
            fprintf(stderr, "toyapp: out of memory\n");
            abort();
        }
        claim_cap = cap;
    }
    memcpy(claim_arena + claim_used, key, n);
    claim_slot[i].h = h;
    claim_slot[i].off = claim_used + 1;
    claim_used += n;
    nclaims++;
    return 0;
}

rt_str w_now(void)
{
    return (rt_str){ now_ts, now_len };
}

/* ---- the batch ------------------------------------------------------------- */

/* Batch ids come from the database in blocks of BATCH_ID_BLOCK (the
 * sequence's increment, set by migration 3), so a batch costs no extra
 * round trip and instances never share an id. */
#define BATCH_ID_BLOCK 64
static uint64_t next_id, ids_left;

static int batch_id(PGconn *c, uint64_t *out)
{
    if (!ids_left) {
        PGresult *r = sql_query(c, "writer", "SELECT nextval('batches_batch_id_seq')", NULL, SQL_TEXT);
        if (!r)
            return -1;
        next_id = (uint64_t)sql_int_at(r, 0, 0);
        ids_left = BATCH_ID_BLOCK;
        PQclear(r);
    }
    *out = next_id++;
    ids_left--;
    return 0;
}

static void fail(slot *s, const char *code, const char *why)
{
    job_error(s->j, 503, code, why);
    s->j->retry_after = 1;
}

static void free_entry(wentry *e)
{
    free(e->entry);
    for (int t = 0; t < TOY_BATCH_NTABLES; t++)
        free(e->rows[t]);
    free(e->json);
    memset(e, 0, sizeof *e);
    e->kind = -1;
}

/* Begins n parameter arrays from a[0], of the element types types[]. */
static void arrays_begin(rt_pgarr *a, const uint32_t *types, int n)
{
    for (int i = 0; i < n; i++)
        rt_pgarr_begin(&a[i], types[i]);
}

/* Writes the batch with one execution of the batch statement.  Returns 0,
 * or -1 (sql_last_state() says why). */
static int write_batch(PGconn *c, slot **w, int n, const toy_rec_batch_head *bh, const char *head,
                       size_t head_len, const uint8_t sig[64])
{
    static rt_pgarr arr[TOY_BATCH_NPARAMS + 1];
    sql_args a = { 0 };
    sql_int(&a, (int64_t)bh->batchId);
    sql_int(&a, n);
    sql_bytes(&a, bh->root, 32);
    sql_bytes(&a, head, head_len);
    sql_bytes(&a, sig, 64);
    sql_text(&a, g_app.cfg.meta.cvm_id);
    /* $7-$11: the entries. */
    int q0 = TOY_BATCH_P_ENTRIES;
    static const uint32_t entry_types[] = { RT_PG_OID_TEXT, RT_PG_OID_TEXT, RT_PG_OID_BYTEA, RT_PG_OID_BYTEA,
                                            RT_PG_OID_INT8 };
    arrays_begin(&arr[q0], entry_types, 5);
    int per_kind[TOY_K__COUNT] = { 0 };
    for (int i = 0; i < n; i++) {
        const wentry *e = &w[i]->e;
        const rt_kind *kd = &toy_kinds[e->kind];
        rt_pgarr_add(&arr[q0], kd->name, strlen(kd->name));
        const rt_str *rid = kd->receipt_off >= 0 ? (const rt_str *)((const uint8_t *)e->entry + kd->receipt_off) : NULL;
        rt_pgarr_add(&arr[q0 + 1], rid ? rid->p : NULL, rid ? rid->n : 0);
        rt_pgarr_add(&arr[q0 + 2], e->json, e->len);
        rt_pgarr_add(&arr[q0 + 3], e->leaf, 32);
        rt_pgarr_add_i64(&arr[q0 + 4], e->id);
        per_kind[e->kind]++;
    }
    /* $12-$16: the idempotency keys, with the answers sealed. */
    int p = TOY_BATCH_P_IDEM;
    static const uint32_t idem_types[] = { RT_PG_OID_TEXT, RT_PG_OID_TEXT, RT_PG_OID_BYTEA, RT_PG_OID_INT8,
                                           RT_PG_OID_BYTEA };
    arrays_begin(&arr[p], idem_types, 5);
    for (int i = 0; i < n; i++) {
        const job *j = w[i]->j;
        if (!j->idem_key[0])
            continue;
        uint8_t *sealed;
        size_t sn = idem_seal(j, &w[i]->e, bh->batchId, head, head_len, &sealed);
        if (!sn)
            return -1;
        const char *route = toy_routes[j->route].name;
        rt_pgarr_add(&arr[p], j->idem_key, strlen(j->idem_key));
        rt_pgarr_add(&arr[p + 1], route, strlen(route));
        rt_pgarr_add(&arr[p + 2], j->idem_fp, 32);
        rt_pgarr_add_i64(&arr[p + 3], j->status);
        rt_pgarr_add(&arr[p + 4], sealed, sn);
        free(sealed);
    }
    /* The rows, one array per column. */
    for (int t = 0; t < TOY_BATCH_NTABLES; t++) {
        const rt_table *tb = toy_batch_tables[t];
        for (unsigned k = 0; k < tb->ncols; k++)
            rt_pgarr_begin(&arr[tb->first_param + k], rt_col_oid(&tb->cols[k]));
        for (int i = 0; i < n; i++)
            if (w[i]->e.rows[t])
                for (unsigned k = 0; k < tb->ncols; k++)
                    rt_col_encode(&tb->cols[k], w[i]->e.rows[t], &arr[tb->first_param + k]);
    }
    /* The counters of the kinds in this batch. */
    rt_pgarr_begin(&arr[TOY_BATCH_P_COUNTERS], RT_PG_OID_TEXT);
    rt_pgarr_begin(&arr[TOY_BATCH_P_COUNTERS + 1], RT_PG_OID_INT8);
    for (int k = 0; k < TOY_K__COUNT; k++)
        if (per_kind[k]) {
            rt_pgarr_add(&arr[TOY_BATCH_P_COUNTERS], toy_kinds[k].name, strlen(toy_kinds[k].name));
            rt_pgarr_add_i64(&arr[TOY_BATCH_P_COUNTERS + 1], per_kind[k]);
        }
    for (int q = TOY_BATCH_P_ENTRIES; q <= TOY_BATCH_NPARAMS; q++) {
        rt_pgarr_end(&arr[q]);
        sql_array(&a, &arr[q]);
    }
    /* A retried key fails the statement on the key's primary key: the
     * expected way a retry is found, not an error to log. */
    sql_quiet_unique("idempotency_keys_pkey");
    PGresult *r = sql_run_prepared(c, "writer", BATCH_STMT, &a, SQL_TEXT);
    PQclear(r);
    return r ? 0 : -1;
}

/* Looks the batch's keys up.  A retry of the same request gets its stored
 * answer, a key reused for another request 422, a key expired but not yet
 * deleted is deleted and its job retried.  After the batch statement failed
 * on a key (conflict), every other job is written again in the next batch;
 * before it (a batch whose lookups answer some jobs without writing, which
 * would otherwise never meet their key), the others go on.  Returns 0, or
 * -1 when the lookup itself failed (every job then fails with 503). */
static int resolve_keys(PGconn *c, slot *slots, int n, int conflict)
{
    rt_pgarr keys = { 0 };
    rt_pgarr_begin(&keys, RT_PG_OID_TEXT);
    for (int i = 0; i < n; i++)
        if (slots[i].outcome == W_WRITE && slots[i].j->idem_key[0])
            rt_pgarr_add(&keys, slots[i].j->idem_key, strlen(slots[i].j->idem_key));
    rt_pgarr_end(&keys);
    sql_args a = { 0 };
    sql_array(&a, &keys);
    sql_int(&a, g_app.cfg.idempotency_ttl);
    PGresult *r = sql_query(c, "writer", "SELECT idem_key, route, fingerprint, status, answer,"
                                         " created_at < now() - make_interval(secs => $2)"
                                         " FROM idempotency_keys WHERE idem_key = ANY($1::text[])",
                            &a, SQL_BINARY);
    rt_pgarr_free(&keys);
    if (!r)
        return -1;
    for (int i = 0; i < n; i++) {
        slot *s = &slots[i];
        if (s->outcome != W_WRITE)
            continue;
        if (conflict)
            s->outcome = W_RETRY;
        for (int k = 0; s->j->idem_key[0] && k < PQntuples(r); k++) {
            if (strcmp(PQgetvalue(r, k, 0), s->j->idem_key))
                continue;
            const char *route = toy_routes[s->j->route].name;
            int same = !strcmp(PQgetvalue(r, k, 1), route) && PQgetlength(r, k, 2) == 32
                       && !memcmp(PQgetvalue(r, k, 2), s->j->idem_fp, 32);
            uint32_t st = 0;
            for (int b = 0; b < 4 && PQgetlength(r, k, 3) == 4; b++)
                st = st << 8 | (uint8_t)PQgetvalue(r, k, 3)[b];
            if (PQgetvalue(r, k, 5)[0]) {
                /* Written again: in the next batch after a conflict, in this
                 * one (whose transaction deletes the old row) before. */
                s->outcome = conflict ? W_RETRY : W_WRITE;
                sql_args d = { 0 };
                sql_text(&d, s->j->idem_key);
                sql_int(&d, g_app.cfg.idempotency_ttl);
                if (sql_exec(c, "writer", "DELETE FROM idempotency_keys WHERE idem_key = $1"
                                          " AND created_at < now() - make_interval(secs => $2)", &d)) {
                    PQclear(r);
                    return -1;
                }
            } else if (!same) {
                job_error(s->j, 422, "idempotency_key_reused",
                          "this Idempotency-Key came with another request; use a new key for a new request");
                s->outcome = W_ANSWERED;
            } else if (idem_answer(c, s->j, (int)st, (const uint8_t *)PQgetvalue(r, k, 4),
                                   (size_t)PQgetlength(r, k, 4))) {
                PQclear(r);
                return -1;
            } else {
                s->outcome = W_ANSWERED;
            }
        }
    }
    PQclear(r);
    return 0;
}

/* Idempotency keys live IDEMPOTENCY_TTL_SECONDS: the expired ones are
 * deleted at most once a minute, before a batch. */
#define EXPIRE_EVERY_MS 60000
static uint64_t last_expiry;

static void expire_keys(PGconn *c)
{
    if (last_expiry && now_ms() - last_expiry < EXPIRE_EVERY_MS)
        return;
    last_expiry = now_ms();
    sql_args a = { 0 };
    sql_int(&a, g_app.cfg.idempotency_ttl);
    sql_exec(c, "writer", "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)", &a);
}

/* A job that goes back to the queue: what its handler made is thrown away
 * (its lookup and prepare run again in the next batch). */
static void reset(job *j)
{
    free(j->body);
    j->body = NULL;
    j->body_len = 0;
    j->status = 0;
    j->content_type = NULL;
    if (j->state_free)
        j->state_free(j->state);
    j->state = NULL;
    j->state_free = NULL;
}

static void process(job **jobs, int n)
{
    static slot slots[RT_MERKLE_BATCH_MAX];
    static slot *w[RT_MERKLE_BATCH_MAX];
    static uint8_t leaves[RT_MERKLE_BATCH_MAX][32], paths[RT_MERKLE_BATCH_MAX][RT_MERKLE_BATCH_LEVELS][32];
    static rt_merkle_batch tree;
    now_len = rt_ser_now(now_ts);
    if (nclaims)
        memset(claim_slot, 0, sizeof claim_slot);
    nclaims = 0;
    claim_used = 0;

    int tx = 0, unconfirmed = 0;
    for (int i = 0; i < n; i++) {
        slots[i] = (slot){ .j = jobs[i], .h = toy_routes[jobs[i]->route].handler, .outcome = W_WRITE };
        slots[i].e.kind = -1;
        tx |= slots[i].h->lookup != NULL;
    }
    const char *code = "database_unavailable", *why = "the database did not accept the write; nothing was stored; retry";
    int ok = 0, nw = 0;
    monitor_fresh(&db, &db_seen);
    PGconn *c = db_get(&db);
    if (!c) {
        why = "the primary database is unreachable; retry shortly";
        goto done;
    }
    /* Acknowledged on two nodes (SYNC_REPLICA=require), or on the primary
     * alone while the replica is away (degrade). */
    int repl = monitor_replication(), alone = repl == REPL_MISSING || repl == REPL_ASYNC;
    if (g_app.cfg.sync_replica == SYNC_REQUIRE && alone) {
        code = "replica_unavailable";
        why = "no synchronous replica is attached to confirm a write (SYNC_REPLICA=require); nothing was stored;"
              " retry shortly";
        goto done;
    }
    if (db_sync_commit(&db, g_app.cfg.sync_replica == SYNC_DEGRADE && alone))
        goto done;
    if (!db.prepared) {
        if (sql_prepare(c, "writer", BATCH_STMT, toy_batch_sql, TOY_BATCH_NPARAMS))
            goto done;
        db.prepared = 1;
    }
    expire_keys(c);
    /* One job per Idempotency-Key in a batch: a second one (a retry sent
     * before the first was answered) is seen by the next batch. */
    for (int i = 0; i < n; i++) {
        char key[300];
        snprintf(key, sizeof key, "idem:%s", slots[i].j->idem_key);
        if (slots[i].j->idem_key[0] && w_claim(key))
            slots[i].outcome = W_RETRY;
    }
    if (tx && sql_exec(c, "writer", "BEGIN", NULL))
        goto done;
    /* A lookup may answer a job without writing (a deletion already done):
     * its key must be met first, or a retry would not get its answer. */
    int keyed = 0;
    for (int i = 0; i < n; i++)
        keyed |= slots[i].outcome == W_WRITE && slots[i].j->idem_key[0] && slots[i].h->lookup;
    if (keyed && resolve_keys(c, slots, n, 0))
        goto done;
    for (int i = 0; i < n; i++)
        if (slots[i].h->lookup && slots[i].outcome == W_WRITE) {
            cur = slots[i].j;
            slots[i].outcome = slots[i].h->lookup(slots[i].j, c);
            if (slots[i].outcome == W_FAILED)
                goto done;
        }
    for (int i = 0; i < n; i++) {
        slot *s = &slots[i];
        if (s->outcome != W_WRITE)
            continue;
        cur = s->j;
        if (s->h->prepare(s->j, &s->e, tx ? c : NULL))
            goto done;
        unsigned emits = toy_routes[s->j->route].emits;
        if (s->e.kind < 0 || !(emits >> s->e.kind & 1)) {
            fprintf(stderr, "toyapp: writer: %s made an entry of a kind its spec does not emit\n",
                    toy_routes[s->j->route].name);
            goto done;
        }
        for (int t = 0; t < TOY_BATCH_NTABLES; t++)
            if (s->e.rows[t])
                rt_table_fill(toy_batch_tables[t], s->e.rows[t], s->j->route, s->j->req, s->e.entry);
        s->e.json = ser_alloc(toy_kinds[s->e.kind].rec, s->e.entry, 0, &s->e.len);
        if (!s->e.json)
            goto done;
        rt_merkle_leaf((const uint8_t *)s->e.json, s->e.len, s->e.leaf);
        w[nw++] = s;
    }
    /* The batch's order is its entries' id order, which the log keeps
     * (log_queue packs them by id, each batch in one segment): entries
     * whose ids their handler reserved in its lookup (smaller than any the
     * batch statement takes after, in lookup order) go first. */
    for (int i = 0, k = 0; i < nw; i++)
        if (w[i]->e.id) {
            slot *r = w[i];
            memmove(&w[k + 1], &w[k], (size_t)(i - k) * sizeof w[0]);
            w[k++] = r;
        }
    for (int i = 0; i < nw; i++)
        memcpy(leaves[i], w[i]->e.leaf, 32);
    toy_rec_batch_head bh = {
        .size = (uint64_t)nw, .cvmId = { g_app.cfg.meta.cvm_id, strlen(g_app.cfg.meta.cvm_id) },
        .timestamp = { now_ts, now_len }, .publicKey = { g_app.meta.pub, 32 },
    };
    uint8_t sig[64];   /* bh.signature points here until the answers are built */
    if (nw) {
        size_t head_len = 0;
        rt_merkle_batch_build(&tree, (const uint8_t (*)[32])leaves, (size_t)nw, bh.root);
        if (batch_id(c, &bh.batchId) || sign_record(&toy_rec_batch_head_rec, &bh, sig))
            goto done;
        bh.signature = (rt_bytes){ sig, 64 };
        /* The answers, before the write: what a retry with the same key
         * gets back is then exactly what was sent. */
        wbatch b = { &bh, now_ts, now_len };
        for (int i = 0; i < nw; i++) {
            wentry *e = &w[i]->e;
            e->index = (uint64_t)i;
            e->path = paths[i];
            e->npath = rt_merkle_batch_path(&tree, (size_t)i, paths[i]);
            cur = w[i]->j;
            w[i]->h->respond(w[i]->j, e, &b);
            if (!w[i]->j->body && toy_routes[w[i]->j->route].resp)
                goto done;   /* a job has no answer to build */
        }
        char *head = ser_alloc(&toy_rec_batch_head_rec, &bh, 0, &head_len);
        int rc = head ? write_batch(c, w, nw, &bh, head, head_len, sig) : -1;
        unconfirmed = !tx && sql_unconfirmed();
        free(head);
        if (rc) {
            if (!strcmp(sql_last_state(), "23505")) {
                /* A key seen before: nothing was written.  Answer the
                 * retries, write the rest again. */
                if (tx)
                    sql_exec(c, "writer", "ROLLBACK", NULL);
                tx = 0;
                if (resolve_keys(c, slots, n, 1) == 0)
                    ok = 1;
            }
            goto done;
        }
    }
    if (tx && sql_exec(c, "writer", nw ? "COMMIT" : "ROLLBACK", NULL))
        goto done;
    unconfirmed |= tx && sql_unconfirmed();
    tx = 0;
    /* The replica did not confirm the commit within SYNC_WAIT_MS: stored,
     * but not acknowledged as SYNC_REPLICA=require asks.  A retry with the
     * same Idempotency-Key gets the stored answer. */
    if (unconfirmed && g_app.cfg.sync_replica == SYNC_REQUIRE) {
        code = "replication_unconfirmed";
        why = "the write is stored on the primary, but the synchronous replica did not confirm it in time,"
              " so it could be lost with the primary; retry with the same Idempotency-Key";
        goto done;
    }
    ok = 1;
    if (nw)
        sequencer_poke();
done:
    if (tx)
        sql_exec(c, "writer", "ROLLBACK", NULL);
    if (!ok)
        db_check(&db);
    for (int i = 0; i < n; i++) {
        slot *s = &slots[i];
        if (s->outcome == W_RETRY) {
            reset(s->j);
            s->j->next = NULL;
            queue_push(&g_app.writer_q, s->j);
        } else {
            if (!ok && (s->outcome == W_WRITE || s->outcome == W_FAILED))
                fail(s, code, why);
            job_done(s->j);
        }
        free_entry(&s->e);
    }
}

void *writer_main(void *arg)
{
    (void)arg;
    static job *batch[RT_MERKLE_BATCH_MAX];
    db.url = g_app.cfg.database_url;
    db.name = "toyapp-writer";
    /* A commit waits for the synchronous replica SYNC_WAIT_MS at most. */
    sql_wait_bound(g_app.cfg.sync_replica == SYNC_OFF ? 0 : g_app.cfg.sync_wait_ms, NULL);
    int max = g_app.cfg.batch_max < RT_MERKLE_BATCH_MAX ? g_app.cfg.batch_max : RT_MERKLE_BATCH_MAX;
    for (;;) {
        int n;
        job *j = queue_take(&g_app.writer_q, max, &n);
        if (!j)
            break;
        for (int i = 0; i < n; i++, j = j->next)
            batch[i] = j;
        process(batch, n);
    }
    db_close(&db);
    return NULL;
}

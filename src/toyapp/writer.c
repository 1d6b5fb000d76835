/*
 * writer.c — the group-commit writer: every change of state goes through it.
 *
 * It takes every job waiting (up to GROUP_COMMIT_MAX) and, for each, asks
 * the endpoint's handler (handler.h) for its audit entry and the handler's
 * columns of the entry's rows; the rest of each entry and row is filled from
 * what spec/ says it comes `from` (the request's sinks, the entry), by the
 * generated tables.  It hashes the entries into one RFC 6962 tree, signs the
 * batch head once, and writes the batch — head, entries, the sequencer's
 * queue row, the rows of every table written per entry kind, the counters —
 * with one execution of the generated batch statement: one round trip, one
 * commit.  Only then are the answers built and handed back: nothing is
 * acknowledged that is not durable (synchronous_commit is on).
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
#include "route.h"
#include "rt_merkle.h"
#include "sequencer.h"

#define BATCH_STMT "toy_batch"

static db_server db;

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
#define MAX_CLAIMS 1024
static char *claims[MAX_CLAIMS];
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
    env->cvmId = (rt_str){ g_app.cfg.cvm_id, strlen(g_app.cfg.cvm_id) };
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
    for (int i = 0; i < nclaims; i++)
        if (!strcmp(claims[i], key))
            return -1;
    if (nclaims < MAX_CLAIMS)
        claims[nclaims++] = strdup(key);
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

static void fail(slot *s, const char *why)
{
    job_error(s->j, 503, "database_unavailable", why);
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

/* Writes the batch with one execution of the batch statement; sets each
 * entry's count from the counters it returns.  Returns 0, or -1. */
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
    sql_text(&a, g_app.cfg.cvm_id);
    /* $7-$10: the entries. */
    rt_pgarr_begin(&arr[7], RT_PG_OID_TEXT);
    rt_pgarr_begin(&arr[8], RT_PG_OID_TEXT);
    rt_pgarr_begin(&arr[9], RT_PG_OID_BYTEA);
    rt_pgarr_begin(&arr[10], RT_PG_OID_BYTEA);
    int per_kind[TOY_K__COUNT] = { 0 };
    for (int i = 0; i < n; i++) {
        const wentry *e = &w[i]->e;
        const rt_kind *kd = &toy_kinds[e->kind];
        rt_pgarr_add(&arr[7], kd->name, strlen(kd->name));
        const rt_str *rid = kd->receipt_off >= 0 ? (const rt_str *)((const uint8_t *)e->entry + kd->receipt_off) : NULL;
        rt_pgarr_add(&arr[8], rid ? rid->p : NULL, rid ? rid->n : 0);
        rt_pgarr_add(&arr[9], e->json, e->len);
        rt_pgarr_add(&arr[10], e->leaf, 32);
        per_kind[e->kind]++;
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
    for (int p = 7; p <= TOY_BATCH_NPARAMS; p++) {
        rt_pgarr_end(&arr[p]);
        sql_array(&a, &arr[p]);
    }
    PGresult *r = sql_run_prepared(c, "writer", BATCH_STMT, &a, SQL_TEXT);
    if (!r)
        return -1;
    /* Each entry's place in its kind's count, in batch order. */
    uint64_t after[TOY_K__COUNT] = { 0 };
    for (int i = 0; i < PQntuples(r); i++)
        for (int k = 0; k < TOY_K__COUNT; k++)
            if (!strcmp(PQgetvalue(r, i, 0), toy_kinds[k].name))
                after[k] = (uint64_t)sql_int_at(r, i, 1);
    PQclear(r);
    int seen[TOY_K__COUNT] = { 0 };
    for (int i = 0; i < n; i++) {
        int k = w[i]->e.kind;
        w[i]->e.count = after[k] - (uint64_t)per_kind[k] + (uint64_t)++seen[k];
    }
    return 0;
}

static void process(job **jobs, int n)
{
    static slot slots[RT_MERKLE_BATCH_MAX];
    static slot *w[RT_MERKLE_BATCH_MAX];
    static uint8_t leaves[RT_MERKLE_BATCH_MAX][32], paths[RT_MERKLE_BATCH_MAX][RT_MERKLE_BATCH_LEVELS][32];
    static rt_merkle_batch tree;
    now_len = rt_ser_now(now_ts);
    for (int i = 0; i < nclaims; i++)
        free(claims[i]);
    nclaims = 0;

    int tx = 0;
    for (int i = 0; i < n; i++) {
        slots[i] = (slot){ .j = jobs[i], .h = toy_routes[jobs[i]->route].handler, .outcome = W_WRITE };
        slots[i].e.kind = -1;
        tx |= slots[i].h->lookup != NULL;
    }
    const char *why = "the database did not accept the write; nothing was stored; retry";
    int ok = 0, nw = 0;
    PGconn *c = db_get(&db);
    if (!c) {
        why = "the primary database is unreachable; retry shortly";
        goto done;
    }
    if (!db.prepared) {
        if (sql_prepare(c, "writer", BATCH_STMT, toy_batch_sql, TOY_BATCH_NPARAMS))
            goto done;
        db.prepared = 1;
    }
    if (tx && sql_exec(c, "writer", "BEGIN", NULL))
        goto done;
    for (int i = 0; i < n; i++)
        if (slots[i].h->lookup) {
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
        rt_merkle_leaf((const uint8_t *)s->e.json, s->e.len, leaves[nw]);
        memcpy(s->e.leaf, leaves[nw], 32);
        w[nw++] = s;
    }
    toy_rec_batch_head bh = {
        .size = (uint64_t)nw, .cvmId = { g_app.cfg.cvm_id, strlen(g_app.cfg.cvm_id) },
        .timestamp = { now_ts, now_len }, .publicKey = { g_app.k.sign_pub, 32 },
    };
    char *head = NULL;
    uint8_t sig[64];   /* bh.signature points here until the answers are built */
    if (nw) {
        size_t head_len = 0;
        rt_merkle_batch_build(&tree, (const uint8_t (*)[32])leaves, (size_t)nw, bh.root);
        if (batch_id(c, &bh.batchId) || sign_record(&toy_rec_batch_head_rec, &bh, sig))
            goto done;
        bh.signature = (rt_bytes){ sig, 64 };
        head = ser_alloc(&toy_rec_batch_head_rec, &bh, 0, &head_len);
        if (!head || write_batch(c, w, nw, &bh, head, head_len, sig)) {
            free(head);
            goto done;
        }
    }
    if (tx && sql_exec(c, "writer", nw ? "COMMIT" : "ROLLBACK", NULL)) {
        free(head);
        goto done;
    }
    tx = 0;
    ok = 1;
    if (nw)
        sequencer_poke();
    wbatch b = { &bh, now_ts, now_len };
    for (int i = 0; i < nw; i++) {
        wentry *e = &w[i]->e;
        e->index = (uint64_t)i;
        e->path = paths[i];
        e->npath = rt_merkle_batch_path(&tree, (size_t)i, paths[i]);
        cur = w[i]->j;
        w[i]->h->respond(w[i]->j, e, &b);
        if (!w[i]->j->body)
            job_error(w[i]->j, 500, "internal_error", "could not build the answer");
    }
    free(head);
done:
    if (tx)
        sql_exec(c, "writer", "ROLLBACK", NULL);
    if (!ok)
        db_check(&db);
    for (int i = 0; i < n; i++) {
        slot *s = &slots[i];
        if (s->outcome == W_RETRY) {
            s->j->next = NULL;
            queue_push(&g_app.writer_q, s->j);
        } else {
            if (!ok && (s->outcome == W_WRITE || s->outcome == W_FAILED))
                fail(s, why);
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

/*
 * writer.c — the group-commit writer: everything that changes state.
 *
 * It takes every job waiting (up to GROUP_COMMIT_MAX), turns each into its
 * audit entry (canonical JSON), hashes the entries into one RFC 6962 tree,
 * signs the batch head once, and commits the batch's rows in one
 * transaction.  Only then are the responses built and handed back: nothing
 * is acknowledged that is not durable (synchronous_commit is on).  If the
 * primary is down, the batch fails at once with 503 and Retry-After; the
 * next batch tries to reconnect, at most every RECONNECT_MS, so a dead
 * primary costs a request no more than a connect attempt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>
#include <openssl/rand.h>

#include "app.h"
#include "rt_hex.h"
#include "rt_merkle.h"
#include "rt_tee.h"

#define RECONNECT_MS 500

static PGconn *conn;
static uint64_t last_fail_ms;

/* Per job, what the batch produced for it. */
typedef struct entry {
    char *json;            /* canonical audit entry */
    size_t len;
    uint8_t leaf[32];
    const char *action;
    char receipt_id[40];
    uint8_t token[32], token_hash[32];
    uint64_t total;        /* signup: the count after this signup */
} entry;

/* ---- the batch statement ------------------------------------------------- */

/* Every batch is one execution of one prepared statement: the rows travel
 * as arrays (binary format) and unnest() turns them back into rows, so the
 * text never changes with the batch and is parsed and planned once per
 * connection, not once per batch.  $6 is the instance's CVM id. */
static const char batch_sql[] =
    "WITH b AS (INSERT INTO batches (batch_id, size, root, head, signature, source_cvm)"
    " VALUES ($1, $2, $3, $4, $5, $6)),"
    " a AS (INSERT INTO audit_log (action, receipt_id, entry, leaf_hash, batch_id)"
    " SELECT t.action, t.rid, t.entry, t.leaf, $1"
    " FROM unnest($7::text[], $8::text[], $9::bytea[], $10::bytea[]) WITH ORDINALITY"
    " AS t(action, rid, entry, leaf, ord) ORDER BY t.ord RETURNING id, leaf_hash),"
    " q AS (" TOY_LOG_QUEUE_INSERT "),"
    " r AS (INSERT INTO user_data_receipts (receipt_id, user_id_hash, payload_commitment,"
    " safe_derivative, deletion_token_hash, source_cvm)"
    " SELECT t.rid, t.uid, t.pc, t.sd, t.dth, $6"
    " FROM unnest($11::text[], $12::bytea[], $13::bytea[], $14::text[], $15::bytea[]) AS t(rid, uid, pc, sd, dth)),"
    " s AS (INSERT INTO signups (user_id_hash, source_cvm) SELECT u, $6 FROM unnest($16::bytea[]) AS u)"
    /* The counters that make the figures O(1) to read. */
    " UPDATE counters SET value = value + CASE name WHEN 'signups' THEN $17::bigint"
    " WHEN 'users_processed' THEN $18::bigint ELSE $19::bigint END"
    " WHERE name IN ('signups', 'users_processed', 'safe_api_calls') RETURNING name, value";
#define BATCH_NPARAMS 19

static int prepared;   /* batch_sql is prepared on conn */

/* ---- building a batch --------------------------------------------------- */

static int make_entry(job *j, entry *e, const char *ts, size_t tsn)
{
    rt_str cvm = { g_app.cfg.cvm_id, strlen(g_app.cfg.cvm_id) }, t = { ts, tsn };
    switch (j->kind) {
    case JOB_SUBMIT: {
        uint8_t rid[16];
        if (RAND_bytes(rid, sizeof rid) != 1 || RAND_bytes(e->token, sizeof e->token) != 1)
            return -1;
        memcpy(e->receipt_id, "r_", 2);
        rt_hex_encode(rid, sizeof rid, e->receipt_id + 2);
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, sizeof e->token, e->token);
        sha256_digest(&h, 32, e->token_hash);
        toy_audit_data_received a = {
            .cvmId = cvm, .timestamp = t,
            .receiptId = { e->receipt_id, strlen(e->receipt_id) },
            .safeDerivative = j->req.submit.sensitivePayload_classify,
        };
        memcpy(a.userIdHash, j->req.submit.userId_pseudonym, 32);
        memcpy(a.payloadCommitment, j->req.submit.sensitivePayload_commit, 32);
        memcpy(a.deletionTokenHash, e->token_hash, 32);
        e->json = ser_alloc(&toy_audit_data_received_rec, &a, 0, &e->len);
        e->action = "data_received";
        break;
    }
    case JOB_SIGNUP: {
        toy_audit_signup a = { .cvmId = cvm, .timestamp = t };
        memcpy(a.userIdHash, j->req.signup.userId_pseudonym, 32);
        e->json = ser_alloc(&toy_audit_signup_rec, &a, 0, &e->len);
        e->action = "signup";
        break;
    }
    case JOB_WATCH: {
        toy_audit_safe_api_call a = {
            .cvmId = cvm, .timestamp = t, .endpoint = RT_STR("/api/watch_history"),
            .status = (uint64_t)j->api_status, .items = (uint64_t)j->nitems,
        };
        e->json = ser_alloc(&toy_audit_safe_api_call_rec, &a, 0, &e->len);
        e->action = "safe_api_call";
        break;
    }
    default:
        return -1;
    }
    if (!e->json)
        return -1;
    rt_merkle_leaf((const uint8_t *)e->json, e->len, e->leaf);
    return 0;
}

/* Inserts the batch's rows and bumps the counters in ONE statement (data-
 * modifying CTEs): one round trip and one commit per batch. */
static int commit_batch(job **jobs, entry *es, int n, const toy_rec_batch_head *bh,
                        const char *head, size_t head_len, const uint8_t sig[64])
{
    enum { A_ACTION, A_RID, A_ENTRY, A_LEAF, R_RID, R_UID, R_PC, R_SD, R_DTH, S_UID, NARR };
    static const uint32_t oids[NARR] = { PG_OID_TEXT, PG_OID_TEXT, PG_OID_BYTEA, PG_OID_BYTEA, PG_OID_TEXT,
                                         PG_OID_BYTEA, PG_OID_BYTEA, PG_OID_TEXT, PG_OID_BYTEA, PG_OID_BYTEA };
    static pg_array arrs[NARR];
    static char deriv[1024][64];
    if (!prepared) {
        PGresult *r = PQprepare(conn, "toy_batch", batch_sql, BATCH_NPARAMS, NULL);
        prepared = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!prepared)
            fprintf(stderr, "toyapp: writer: %s", PQresultErrorMessage(r));
        PQclear(r);
        if (!prepared)
            return -1;
    }
    for (int k = 0; k < NARR; k++)
        pg_array_begin(&arrs[k], oids[k]);
    int nsub = 0, nsign = 0, nwatch = 0;
    for (int i = 0; i < n; i++) {
        pg_array_add(&arrs[A_ACTION], es[i].action, strlen(es[i].action));
        pg_array_add(&arrs[A_RID], es[i].receipt_id[0] ? es[i].receipt_id : NULL, strlen(es[i].receipt_id));
        pg_array_add(&arrs[A_ENTRY], es[i].json, es[i].len);
        pg_array_add(&arrs[A_LEAF], es[i].leaf, 32);
        if (jobs[i]->kind == JOB_SUBMIT) {
            toy_req_submit_data *r = &jobs[i]->req.submit;
            toy_classify_format(&r->sensitivePayload_classify, deriv[i], sizeof deriv[0]);
            pg_array_add(&arrs[R_RID], es[i].receipt_id, strlen(es[i].receipt_id));
            pg_array_add(&arrs[R_UID], r->userId_pseudonym, 32);
            pg_array_add(&arrs[R_PC], r->sensitivePayload_commit, 32);
            pg_array_add(&arrs[R_SD], deriv[i], strlen(deriv[i]));
            pg_array_add(&arrs[R_DTH], es[i].token_hash, 32);
            nsub++;
        } else if (jobs[i]->kind == JOB_SIGNUP) {
            pg_array_add(&arrs[S_UID], jobs[i]->req.signup.userId_pseudonym, 32);
            nsign++;
        } else {
            nwatch++;
        }
    }
    for (int k = 0; k < NARR; k++)
        pg_array_end(&arrs[k]);
    char bid[24], size[16], a[16], s2[16], w[16];
    snprintf(bid, sizeof bid, "%llu", (unsigned long long)bh->batchId);
    snprintf(size, sizeof size, "%d", n);
    snprintf(a, sizeof a, "%d", nsign);
    snprintf(s2, sizeof s2, "%d", nsub);
    snprintf(w, sizeof w, "%d", nwatch);
    const char *v[BATCH_NPARAMS] = { bid, size, (const char *)bh->root, head, (const char *)sig,
                                     g_app.cfg.cvm_id };
    int len[BATCH_NPARAMS] = { 0, 0, 32, (int)head_len, 64, 0 };
    int fmt[BATCH_NPARAMS] = { 0, 0, 1, 1, 1, 0 };
    for (int k = 0; k < NARR; k++) {
        v[6 + k] = (const char *)arrs[k].b;
        len[6 + k] = (int)arrs[k].n;
        fmt[6 + k] = 1;
    }
    v[16] = a;
    v[17] = s2;
    v[18] = w;
    PGresult *r = PQexecPrepared(conn, "toy_batch", BATCH_NPARAMS, v, len, fmt, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "toyapp: writer: %s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    uint64_t signups = 0;
    for (int i = 0; i < PQntuples(r); i++)
        if (!strcmp(PQgetvalue(r, i, 0), "signups"))
            signups = strtoull(PQgetvalue(r, i, 1), NULL, 10);
    PQclear(r);
    /* Each signup's own position in the count, in batch order. */
    uint64_t first = signups - (uint64_t)nsign + 1;
    for (int i = 0; i < n; i++)
        if (jobs[i]->kind == JOB_SIGNUP)
            es[i].total = first++;
    return 0;
}

/* Batch ids come from the database in blocks of BATCH_ID_BLOCK (the
 * sequence's increment, set by migration 3), so a batch costs no extra
 * round trip and instances never share an id. */
#define BATCH_ID_BLOCK 64
static uint64_t next_id, ids_left;

static int batch_id(uint64_t *out)
{
    if (!ids_left) {
        PGresult *r = PQexec(conn, "SELECT nextval('batches_batch_id_seq')");
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (ok) {
            next_id = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
            ids_left = BATCH_ID_BLOCK;
        }
        PQclear(r);
        if (!ok)
            return -1;
    }
    *out = next_id++;
    ids_left--;
    return 0;
}

static void respond(job *j, entry *e, const toy_rec_batch_head *bh, int index,
                    uint8_t (*path)[32], int npath)
{
    rt_str entry_json = { e->json, e->len };
    switch (j->kind) {
    case JOB_SUBMIT: {
        toy_resp_submit_data r = {
            .receiptId = { e->receipt_id, strlen(e->receipt_id) },
            .safeDerivative = j->req.submit.sensitivePayload_classify,
            .salt = { j->salt, 32 }, .deletionToken = { e->token, 32 },
            .auditEntry = entry_json, .batchHead = *bh, .batchIndex = (uint64_t)index,
            .inclusionPath = { path, (size_t)npath },
        };
        memcpy(r.userIdHash, j->req.submit.userId_pseudonym, 32);
        memcpy(r.payloadCommitment, j->req.submit.sensitivePayload_commit, 32);
        j->body = ser_alloc(&toy_resp_submit_data_rec, &r, 0, &j->body_len);
        j->status = 200;
        break;
    }
    case JOB_SIGNUP: {
        toy_resp_signup r = { .totalSignups = e->total, .auditEntry = entry_json };
        memcpy(r.userIdHash, j->req.signup.userId_pseudonym, 32);
        j->body = ser_alloc(&toy_resp_signup_rec, &r, 0, &j->body_len);
        j->status = 201;
        break;
    }
    case JOB_WATCH: {
        toy_rec_watch_item items[16];
        for (int i = 0; i < j->nitems; i++) {
            watch_item *w = &j->items[i];
            items[i] = (toy_rec_watch_item){
                { w->video_id, strlen(w->video_id) }, { w->title, strlen(w->title) },
                { w->category, strlen(w->category) }, { w->watched_at, strlen(w->watched_at) } };
        }
        toy_resp_watch_history r = { .items = { items, (size_t)j->nitems }, .auditEntry = entry_json };
        j->body = ser_alloc(&toy_resp_watch_history_rec, &r, 0, &j->body_len);
        j->status = 200;
        break;
    }
    }
    if (!j->body)
        job_error(j, 500, "internal_error", "could not serialize the response");
}

/* The batch's RFC 6962 tree, built level by level: a node with no right
 * sibling moves up unchanged, which gives the same tree as the recursive
 * definition.  Every leaf's audit path then costs O(log n). */
static uint8_t levels[11][1024][32];   /* 1024 leaves: 11 levels */
static size_t level_n[11];
static int nlevels;

static void build_tree(const uint8_t (*leaves)[32], size_t n, uint8_t root[32])
{
    memcpy(levels[0], leaves, n * 32);
    level_n[0] = n;
    nlevels = 1;
    while (level_n[nlevels - 1] > 1) {
        size_t m = level_n[nlevels - 1], k = 0;
        for (size_t i = 0; i < m; i += 2, k++) {
            if (i + 1 < m)
                rt_merkle_node(levels[nlevels - 1][i], levels[nlevels - 1][i + 1], levels[nlevels][k]);
            else
                memcpy(levels[nlevels][k], levels[nlevels - 1][i], 32);
        }
        level_n[nlevels++] = k;
    }
    memcpy(root, levels[nlevels - 1][0], 32);
}

static size_t audit_path(size_t index, uint8_t (*path)[32])
{
    size_t np = 0;
    for (int l = 0; l < nlevels - 1; l++, index /= 2) {
        size_t sib = index ^ 1;
        if (sib < level_n[l])
            memcpy(path[np++], levels[l][sib], 32);
    }
    return np;
}

static void fail_all(job **jobs, int n, const char *why)
{
    for (int i = 0; i < n; i++) {
        job_error(jobs[i], 503, "database_unavailable", why);
        jobs[i]->retry_after = 1;
        job_done(jobs[i]);
    }
}

static void process(job **jobs, int n)
{
    static entry es[1024];
    static uint8_t leaves[1024][32], paths[1024][16][32];
    char ts[32];
    size_t tsn = rt_ser_now(ts);
    memset(es, 0, sizeof es[0] * (size_t)n);

    if (!conn) {
        char err[256];
        if (last_fail_ms && now_ms() - last_fail_ms < RECONNECT_MS) {
            fail_all(jobs, n, "the primary database is unreachable; retry shortly");
            return;
        }
        conn = db_connect(g_app.cfg.database_url, err, sizeof err);
        if (!conn) {
            last_fail_ms = now_ms();
            fprintf(stderr, "toyapp: writer: primary unreachable: %s\n", err);
            fail_all(jobs, n, "the primary database is unreachable; retry shortly");
            return;
        }
        last_fail_ms = 0;
    }
    for (int i = 0; i < n; i++) {
        if (make_entry(jobs[i], &es[i], ts, tsn)) {
            for (int k = 0; k <= i; k++)
                free(es[k].json);
            for (int k = 0; k < n; k++) {
                job_error(jobs[k], 500, "internal_error", "could not build the audit entry");
                job_done(jobs[k]);
            }
            return;
        }
        memcpy(leaves[i], es[i].leaf, 32);
    }
    /* One signed head for the whole batch. */
    toy_rec_batch_head bh = {
        .size = (uint64_t)n, .cvmId = { g_app.cfg.cvm_id, strlen(g_app.cfg.cvm_id) },
        .timestamp = { ts, tsn }, .publicKey = { g_app.k.sign_pub, 32 },
    };
    build_tree((const uint8_t (*)[32])leaves, (size_t)n, bh.root);
    int ok = batch_id(&bh.batchId) == 0;
    uint8_t sig[64];
    size_t head_len = 0;
    char *head = NULL;
    if (ok && sign_record(&toy_rec_batch_head_rec, &bh, sig) == 0) {
        bh.signature = (rt_bytes){ sig, 64 };
        head = ser_alloc(&toy_rec_batch_head_rec, &bh, 0, &head_len);
        ok = head && commit_batch(jobs, es, n, &bh, head, head_len, sig) == 0;
    } else {
        ok = 0;
    }
    if (!ok) {
        if (PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn);
            conn = NULL;
            prepared = 0;
            last_fail_ms = now_ms();
        }
        fail_all(jobs, n, "the database did not accept the write; nothing was stored; retry");
    } else {
        for (int i = 0; i < n; i++) {
            size_t np = audit_path((size_t)i, paths[i]);
            respond(jobs[i], &es[i], &bh, i, paths[i], (int)np);
            job_done(jobs[i]);
        }
    }
    free(head);
    for (int i = 0; i < n; i++)
        free(es[i].json);
}

void *writer_main(void *arg)
{
    (void)arg;
    static job *batch[1024];
    int max = g_app.cfg.batch_max < 1024 ? g_app.cfg.batch_max : 1024;
    for (;;) {
        int n;
        job *j = queue_take(&g_app.writer_q, max, &n);
        if (!j)
            break;
        for (int i = 0; i < n; i++, j = j->next)
            batch[i] = j;
        process(batch, n);
    }
    PQfinish(conn);
    return NULL;
}

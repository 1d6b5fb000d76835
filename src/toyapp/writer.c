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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>
#include <openssl/rand.h>

#include "app.h"
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

/* ---- a growing list of query parameters ---------------------------------- */

typedef struct params {
    const char *v[8192];
    int len[8192], fmt[8192];
    int n;
    char sql[65536];
    size_t sl;
} params;

static int param(params *p, const void *v, int len, int binary)
{
    p->v[p->n] = v;
    p->len[p->n] = len;
    p->fmt[p->n] = binary;
    return ++p->n;
}

static void sql(params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql(params *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->sql + p->sl, sizeof p->sql - p->sl, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->sl += (size_t)n;
}

static int run(params *p, PGresult **out)
{
    PGresult *r = PQexecParams(conn, p->sql, p->n, NULL, p->v, p->len, p->fmt, 0);
    int st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "toyapp: writer: %s", PQresultErrorMessage(r));
    if (out && ok)
        *out = r;
    else
        PQclear(r);
    p->n = 0;
    p->sl = 0;
    return ok ? 0 : -1;
}

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
        hex_encode(rid, sizeof rid, e->receipt_id + 2);
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
    static params p;
    static char deriv[1024][64];
    char bid[24], size[16], a[16], s2[16], w[16];
    const char *cvm = g_app.cfg.cvm_id;
    int nsub = 0, nsign = 0, nwatch = 0;
    for (int i = 0; i < n; i++) {
        nsub += jobs[i]->kind == JOB_SUBMIT;
        nsign += jobs[i]->kind == JOB_SIGNUP;
        nwatch += jobs[i]->kind == JOB_WATCH;
    }
    snprintf(bid, sizeof bid, "%llu", (unsigned long long)bh->batchId);
    snprintf(size, sizeof size, "%d", n);
    int b = param(&p, bid, 0, 0), c = param(&p, cvm, 0, 0);

    sql(&p, "WITH b AS (INSERT INTO batches (batch_id, size, root, head, signature, source_cvm) "
            "VALUES ($%d, $%d, $%d, $%d, $%d, $%d))",
        b, param(&p, size, 0, 0), param(&p, bh->root, 32, 1),
        param(&p, head, (int)head_len, 1), param(&p, sig, 64, 1), c);
    sql(&p, ", a AS (INSERT INTO audit_log (action, receipt_id, entry, leaf_hash, batch_id) VALUES ");
    for (int i = 0; i < n; i++) {
        sql(&p, "%s($%d, ", i ? "," : "", param(&p, es[i].action, 0, 0));
        if (es[i].receipt_id[0])
            sql(&p, "$%d, ", param(&p, es[i].receipt_id, 0, 0));
        else
            sql(&p, "NULL, ");
        sql(&p, "$%d, $%d, $%d)", param(&p, es[i].json, (int)es[i].len, 1),
            param(&p, es[i].leaf, 32, 1), b);
    }
    /* ...and the batch waits for the sequencer in log_queue: one row. */
    sql(&p, " RETURNING id, leaf_hash), q AS (" TOY_LOG_QUEUE_INSERT ")");
    if (nsub) {
        int k = 0;
        sql(&p, ", r AS (INSERT INTO user_data_receipts (receipt_id, user_id_hash, payload_commitment,"
                " safe_derivative, deletion_token_hash, source_cvm) VALUES ");
        for (int i = 0; i < n; i++) {
            if (jobs[i]->kind != JOB_SUBMIT)
                continue;
            toy_req_submit_data *r = &jobs[i]->req.submit;
            toy_classify_format(&r->sensitivePayload_classify, deriv[i], sizeof deriv[0]);
            sql(&p, "%s($%d, $%d, $%d, $%d, $%d, $%d)", k++ ? "," : "",
                param(&p, es[i].receipt_id, 0, 0), param(&p, r->userId_pseudonym, 32, 1),
                param(&p, r->sensitivePayload_commit, 32, 1), param(&p, deriv[i], 0, 0),
                param(&p, es[i].token_hash, 32, 1), c);
        }
        sql(&p, ")");
    }
    if (nsign) {
        int k = 0;
        sql(&p, ", s AS (INSERT INTO signups (user_id_hash, source_cvm) VALUES ");
        for (int i = 0; i < n; i++)
            if (jobs[i]->kind == JOB_SIGNUP)
                sql(&p, "%s($%d, $%d)", k++ ? "," : "",
                    param(&p, jobs[i]->req.signup.userId_pseudonym, 32, 1), c);
        sql(&p, ")");
    }
    /* The counters that make the figures O(1) to read. */
    snprintf(a, sizeof a, "%d", nsign);
    snprintf(s2, sizeof s2, "%d", nsub);
    snprintf(w, sizeof w, "%d", nwatch);
    sql(&p, " UPDATE counters SET value = value + CASE name WHEN 'signups' THEN $%d::bigint "
            "WHEN 'users_processed' THEN $%d::bigint ELSE $%d::bigint END "
            "WHERE name IN ('signups', 'users_processed', 'safe_api_calls') RETURNING name, value",
        param(&p, a, 0, 0), param(&p, s2, 0, 0), param(&p, w, 0, 0));
    PGresult *r = NULL;
    if (run(&p, &r))
        return -1;
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
static uint8_t levels[10][1024][32];
static size_t level_n[10];
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
    size_t tsn = now_iso(ts);
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

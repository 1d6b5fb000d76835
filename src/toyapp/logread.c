/*
 * logread.c — the audit log and the reports, as the reader thread serves
 * them: the latest signed tree head, inclusion and consistency proofs
 * (from stored subtree hashes: O(log n) lookups), and the retrospective
 * report, generated at most once per period and then served as stored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "app.h"
#include "logread.h"
#include "rt_hex.h"
#include "rt_merkle.h"

#define REPORT_LOCK 0x7265706f  /* "repo" */
#define NODE_ID(level, start) (((uint64_t)(level) << 56) | (start))

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
           ? json_object_get_string(v) : NULL;
}

/* A tree head parsed back from its stored canonical JSON. */
typedef struct head {
    toy_rec_tree_head th;
    char ts[40];
    uint8_t pub[32], sig[64];
} head;

static int parse_head(const char *json, size_t len, head *h)
{
    json_object *o = json_tokener_parse(json), *v;
    (void)len;
    int ok = o && json_object_object_get_ex(o, "treeSize", &v)
             && !rt_hex_decode_str(jstr(o, "root"), h->th.root, 32) && !rt_hex_decode_str(jstr(o, "publicKey"), h->pub, 32)
             && !rt_hex_decode_str(jstr(o, "signature"), h->sig, 64) && jstr(o, "timestamp");
    if (ok) {
        h->th.treeSize = (uint64_t)json_object_get_int64(v);
        snprintf(h->ts, sizeof h->ts, "%s", jstr(o, "timestamp"));
        h->th.timestamp = (rt_str){ h->ts, strlen(h->ts) };
        h->th.publicKey = (rt_bytes){ h->pub, 32 };
        h->th.signature = (rt_bytes){ h->sig, 64 };
    }
    json_object_put(o);
    return ok ? 0 : -1;
}

/* The latest tree head (size 0: latest; else exactly that size). */
static int load_head(PGconn *c, uint64_t size, head *h, int *found)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)size);
    const char *v[] = { s };
    PGresult *r = size ? PQexecParams(c, "SELECT head FROM tree_heads WHERE tree_size = $1", 1, NULL, v, NULL, NULL, 1)
                       : PQexecParams(c, "SELECT head FROM tree_heads ORDER BY tree_size DESC LIMIT 1", 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return -1;
    }
    *found = PQntuples(r) == 1;
    int rc = 0;
    if (*found) {
        char *json = strndup(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
        rc = parse_head(json, strlen(json), h);
        free(json);
    }
    PQclear(r);
    return rc;
}

/* Proof node source over the database: a leaf's hash by its index, a
 * perfect subtree of 16 leaves or more from tree_nodes, a smaller one
 * recomputed from its (at most 8) leaves: the sequencer stores no nodes
 * below NODE_MIN_LEVEL. */
#define NODE_MIN_LEVEL 4

static int db_subtree(void *ctx, uint64_t start, unsigned level, uint8_t out[32])
{
    PGconn *c = ctx;
    char s[24], e[24];
    int stored = level >= NODE_MIN_LEVEL;
    snprintf(s, sizeof s, "%llu", (unsigned long long)(stored ? NODE_ID(level, start) : start));
    snprintf(e, sizeof e, "%llu", (unsigned long long)(start + (1ull << level)));
    const char *v[] = { s, e };
    PGresult *r = stored
        ? PQexecParams(c, "SELECT hash FROM tree_nodes WHERE id = $1", 1, NULL, v, NULL, NULL, 1)
        : PQexecParams(c, "SELECT leaf_hash FROM log_leaves WHERE leaf_index >= $1 AND leaf_index < $2"
                          " ORDER BY leaf_index", 2, NULL, v, NULL, NULL, 1);
    int want = stored ? 1 : 1 << level;
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == want;
    uint8_t leaves[8][32];
    for (int i = 0; ok && i < want; i++) {
        ok = PQgetlength(r, i, 0) == 32;
        if (ok)
            memcpy(stored ? out : leaves[i], PQgetvalue(r, i, 0), 32);
    }
    PQclear(r);
    if (ok && !stored)
        rt_merkle_root((const uint8_t (*)[32])leaves, (size_t)want, out);
    return ok ? 0 : -1;
}

void log_head(PGconn *c, job *j)
{
    head h;
    int found = 0;
    if (load_head(c, 0, &h, &found)) {
        job_error(j, 503, "database_unavailable", "could not read the log");
        return;
    }
    if (!found) {
        job_error(j, 404, "empty_log", "nothing has been sequenced into the log yet");
        j->retry_after = 1;
        return;
    }
    j->body = ser_alloc(&toy_rec_tree_head_rec, &h.th, 0, &j->body_len);
    j->status = 200;
}

void log_proof(PGconn *c, job *j)
{
    const char *v[] = { j->receipt_id };
    PGresult *r = PQexecParams(c, "SELECT l.leaf_index, a.leaf_hash FROM audit_log a"
                                  " LEFT JOIN log_leaves l ON l.audit_id = a.id"
                                  " WHERE a.receipt_id = $1 AND a.action = 'data_received'",
                               1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        job_error(j, 503, "database_unavailable", "could not read the log");
        return;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        job_error(j, 404, "unknown_receipt", "no receipt with that id");
        return;
    }
    int pending = PQgetisnull(r, 0, 0);
    uint64_t index = pending ? 0 : strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    uint8_t leaf[32];
    int leaf_ok = !rt_hex_decode_str(PQgetvalue(r, 0, 1) + 2, leaf, 32);   /* bytea text: \x... */
    PQclear(r);
    head h;
    int found = 0;
    if (!leaf_ok || load_head(c, 0, &h, &found)) {
        job_error(j, 503, "database_unavailable", "could not read the log");
        return;
    }
    if (pending || !found || index >= h.th.treeSize) {
        job_error(j, 404, "not_in_log_yet", "the receipt is committed but not yet sequenced; retry shortly");
        j->retry_after = 1;
        return;
    }
    uint8_t path[RT_MERKLE_MAX_PROOF][32];
    rt_merkle_source src = { db_subtree, NULL, c };
    int np = rt_merkle_inclusion_proof(&src, index, h.th.treeSize, path, RT_MERKLE_MAX_PROOF);
    if (np < 0) {
        job_error(j, 503, "database_unavailable", "could not read the tree");
        return;
    }
    toy_resp_receipt_proof p = {
        .receiptId = { j->receipt_id, strlen(j->receipt_id) }, .leafIndex = index,
        .treeSize = h.th.treeSize, .path = { path, (size_t)np }, .treeHead = h.th,
    };
    memcpy(p.leafHash, leaf, 32);
    j->body = ser_alloc(&toy_resp_receipt_proof_rec, &p, 0, &j->body_len);
    j->status = 200;
}

void log_consistency(PGconn *c, job *j)
{
    head h;
    int found = 0;
    if (j->from < 1 || j->from > j->to) {
        job_error(j, 400, "bad_range", "need 1 <= from <= to");
        return;
    }
    if (load_head(c, j->to, &h, &found)) {
        job_error(j, 503, "database_unavailable", "could not read the log");
        return;
    }
    if (!found) {
        job_error(j, 404, "unknown_tree_size", "no signed tree head has that size");
        return;
    }
    uint8_t path[RT_MERKLE_MAX_PROOF][32];
    rt_merkle_source src = { db_subtree, NULL, c };
    int np = rt_merkle_consistency_proof(&src, j->from, j->to, path, RT_MERKLE_MAX_PROOF);
    if (np < 0) {
        job_error(j, 503, "database_unavailable", "could not read the tree");
        return;
    }
    toy_resp_log_consistency p = { .from = j->from, .to = j->to, .path = { path, (size_t)np },
                                   .treeHead = h.th };
    j->body = ser_alloc(&toy_resp_log_consistency_rec, &p, 0, &j->body_len);
    j->status = 200;
}

/* ---- reports -------------------------------------------------------------- */

static void period_id(int period, char *id, size_t n, time_t *start)
{
    time_t now = time(NULL);
    *start = now - now % period;
    struct tm tm;
    gmtime_r(start, &tm);
    strftime(id, n, period % 86400 == 0 ? "report_%Y%m%d" : "report_%Y%m%dT%H%M%SZ", &tm);
}

static void md_row(char **o, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void md_row(char **o, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*o + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap *= 2;
        *o = realloc(*o, *cap);
    }
}

static const char *js(json_object *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_object *cur = o;
    for (char *k = strtok(buf, "."); k; k = strtok(NULL, "."))
        if (!json_object_object_get_ex(cur, k, &cur))
            return "?";
    return json_object_is_type(cur, json_type_null) ? "none" : json_object_get_string(cur);
}

/* The same report, for people: a Markdown rendering of the signed JSON. */
static char *report_markdown(const char *json, size_t *len)
{
    json_object *o = json_tokener_parse(json);
    if (!o)
        return NULL;
    size_t cap = 4096;
    char *m = malloc(cap);
    *len = 0;
    md_row(&m, len, &cap, "# toyapp retrospective report `%s`\n\n", js(o, "reportId"));
    md_row(&m, len, &cap, "Generated %s by toyapp %s (TEE provider: %s), covering %s to %s.\n\n",
           js(o, "generatedAt"), js(o, "enclaveVersion"), js(o, "teeProvider"),
           js(o, "timeWindow.start"), js(o, "timeWindow.end"));
    md_row(&m, len, &cap, "| figure | in this window | in total |\n|---|--:|--:|\n");
    md_row(&m, len, &cap, "| users' data processed (submissions) | %s | %s |\n",
           js(o, "summary.window.usersProcessed"), js(o, "summary.totalUsersProcessed"));
    md_row(&m, len, &cap, "| safe API calls | %s | %s |\n", js(o, "summary.window.safeApiCalls"),
           js(o, "summary.totalSafeApiCalls"));
    md_row(&m, len, &cap, "| signups | %s | %s |\n", js(o, "summary.window.signups"), js(o, "summary.totalSignups"));
    md_row(&m, len, &cap, "| deletions | %s | %s |\n\n", js(o, "summary.window.deletions"),
           js(o, "summary.totalDeletions"));
    md_row(&m, len, &cap, "What any one submission can reveal: at most %s (the spec's bound).\n\n",
           js(o, "leakageBound"));
    md_row(&m, len, &cap, "## Evidence\n\n");
    md_row(&m, len, &cap, "- Audit log: %s entries, digest `%s` (RFC 6962 Merkle root), tree head signed at %s.\n",
           js(o, "treeHead.treeSize"), js(o, "summary.auditLogDigest"), js(o, "treeHead.timestamp"));
    md_row(&m, len, &cap, "- Previous report: `%s` (log size %s then).\n", js(o, "previousReportId"),
           js(o, "previousTreeSize"));
    md_row(&m, len, &cap, "- Compose hash: `%s`\n- Signer (Ed25519): `%s`\n- Signature: `%s`\n\n",
           js(o, "composeHash"), js(o, "publicKey"), js(o, "signature"));
    md_row(&m, len, &cap, "Verify the JSON form of this report offline with "
           "`toyctl verify-report REPORT.json --pubkey %s` (see docs/auditing.md).\n", js(o, "publicKey"));
    json_object_put(o);
    return m;
}

static void serve_report(job *j, const char *json, size_t len)
{
    if (j->markdown) {
        char *s = strndup(json, len);
        j->body = report_markdown(s, &j->body_len);
        free(s);
        j->content_type = "text/markdown; charset=utf-8";
    } else {
        j->body = malloc(len);
        memcpy(j->body, json, len);
        j->body_len = len;
    }
    j->status = j->body ? 200 : 500;
}

static int find_report(PGconn *c, const char *id, job *j)
{
    const char *v[] = { id };
    PGresult *r = PQexecParams(c, "SELECT report_json FROM reports WHERE report_id = $1", 1, NULL, v, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) == 1;
    if (found)
        serve_report(j, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return found;
}

static uint64_t counter(PGresult *r, const char *name)
{
    for (int i = 0; i < PQntuples(r); i++)
        if (!strcmp(PQgetvalue(r, i, 0), name))
            return strtoull(PQgetvalue(r, i, 1), NULL, 10);
    return 0;
}

/* Generates this period's report in one transaction, under a lock so that
 * instances asking at once make one report.  Returns 0, or -1. */
static int make_report(PGconn *c, const char *id, job *j)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d)", REPORT_LOCK);
    if (db_exec(c, "BEGIN", NULL, 0) || db_exec(c, sql, NULL, 0))
        goto fail;
    int f = find_report(c, id, j);
    if (f < 0)
        goto fail;
    if (f == 1)
        return db_exec(c, "COMMIT", NULL, 0);

    PGresult *prev = PQexec(c, "SELECT report_id, to_char(time_window_end AT TIME ZONE 'UTC',"
                               " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), tree_size, users_processed, safe_api_calls,"
                               " signups, deletions FROM reports ORDER BY time_window_end DESC LIMIT 1");
    PGresult *cnt = PQexec(c, "SELECT name, value FROM counters");
    PGresult *first = PQexec(c, "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
                                " FROM audit_log ORDER BY id LIMIT 1");
    int ok = PQresultStatus(prev) == PGRES_TUPLES_OK && PQresultStatus(cnt) == PGRES_TUPLES_OK
             && PQresultStatus(first) == PGRES_TUPLES_OK;
    head h;
    int have_head = 0;
    if (ok && load_head(c, 0, &h, &have_head))
        ok = 0;
    if (!ok) {
        PQclear(prev);
        PQclear(cnt);
        PQclear(first);
        goto fail;
    }
    char now[32], digest[80];
    size_t nown = rt_ser_now(now);
    if (!have_head) {
        /* Nothing sequenced yet: the empty tree, signed now. */
        memset(&h, 0, sizeof h);
        rt_merkle_empty_root(h.th.root);
        snprintf(h.ts, sizeof h.ts, "%s", now);
        h.th.timestamp = (rt_str){ h.ts, nown };
        h.th.publicKey = (rt_bytes){ g_app.k.sign_pub, 32 };
        if (sign_record(&toy_rec_tree_head_rec, &h.th, h.sig))
            goto fail;
        h.th.signature = (rt_bytes){ h.sig, 64 };
    }
    memcpy(digest, "sha256:", 7);
    rt_hex_encode(h.th.root, 32, digest + 7);
    int has_prev = PQntuples(prev) == 1;
    const char *start = has_prev ? PQgetvalue(prev, 0, 1) : PQntuples(first) ? PQgetvalue(first, 0, 0) : now;
    uint64_t tu = counter(cnt, "users_processed"), ts_ = counter(cnt, "safe_api_calls"),
             tsg = counter(cnt, "signups"), td = counter(cnt, "deletions");
    uint64_t pu = has_prev ? strtoull(PQgetvalue(prev, 0, 3), NULL, 10) : 0,
             ps = has_prev ? strtoull(PQgetvalue(prev, 0, 4), NULL, 10) : 0,
             psg = has_prev ? strtoull(PQgetvalue(prev, 0, 5), NULL, 10) : 0,
             pd = has_prev ? strtoull(PQgetvalue(prev, 0, 6), NULL, 10) : 0;
    toy_rec_report rep = {
        .reportId = { id, strlen(id) }, .generatedAt = { now, nown },
        .timeWindow = { { start, strlen(start) }, { now, nown } },
        .enclaveVersion = RT_STR(TOY_VERSION),
        .composeHash = { g_app.k.compose_hash, strlen(g_app.k.compose_hash) },
        .teeProvider = { g_app.k.provider, strlen(g_app.k.provider) },
        .summary = { tu, ts_, tsg, td, { digest, strlen(digest) },
                     { tu - pu, ts_ - ps, tsg - psg, td - pd } },
        .treeHead = h.th, .leakageBound = RT_STR(TOY_LEAKAGE_SUBMIT_DATA),
        .previousReportId = { has_prev ? PQgetvalue(prev, 0, 0) : "", has_prev ? strlen(PQgetvalue(prev, 0, 0)) : 0 },
        .previousReportId_null = !has_prev,
        .previousTreeSize = has_prev ? strtoull(PQgetvalue(prev, 0, 2), NULL, 10) : 0,
        .publicKey = { g_app.k.sign_pub, 32 },
    };
    uint8_t sig[64];
    size_t rl = 0;
    char *rj = NULL;
    if (!sign_record(&toy_rec_report_rec, &rep, sig)) {
        rep.signature = (rt_bytes){ sig, 64 };
        rj = ser_alloc(&toy_rec_report_rec, &rep, 0, &rl);
    }
    /* The report_generated audit entry goes into the log like any other. */
    toy_audit_report_generated ae = {
        .cvmId = { g_app.cfg.cvm_id, strlen(g_app.cfg.cvm_id) }, .timestamp = { now, nown },
        .reportId = { id, strlen(id) }, .treeSize = h.th.treeSize,
    };
    size_t el = 0;
    char *ej = ser_alloc(&toy_audit_report_generated_rec, &ae, 0, &el);
    uint8_t leaf[32];
    if (ej)
        rt_merkle_leaf((const uint8_t *)ej, el, leaf);
    char size[24], a[24], b[24], c2[24], d[24];
    snprintf(size, sizeof size, "%llu", (unsigned long long)h.th.treeSize);
    snprintf(a, sizeof a, "%llu", (unsigned long long)tu);
    snprintf(b, sizeof b, "%llu", (unsigned long long)ts_);
    snprintf(c2, sizeof c2, "%llu", (unsigned long long)tsg);
    snprintf(d, sizeof d, "%llu", (unsigned long long)td);
    const char *v[] = { id, start, now, size, a, b, c2, d, rj, ej, (const char *)leaf };
    int len[] = { 0, 0, 0, 0, 0, 0, 0, 0, (int)rl, (int)el, 32 };
    int fmt[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1 };
    PGresult *r = rj && ej ? PQexecParams(c,
        "WITH a AS (INSERT INTO audit_log (action, entry, leaf_hash) VALUES ('report_generated', $10, $11)"
        " RETURNING id, leaf_hash), q AS (" TOY_LOG_QUEUE_INSERT ")"
        " INSERT INTO reports (report_id, time_window_start, time_window_end, tree_size, users_processed,"
        " safe_api_calls, signups, deletions, report_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        11, NULL, v, len, fmt, 0) : NULL;
    int ins = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (r && !ins)
        fprintf(stderr, "toyapp: report: %s", PQresultErrorMessage(r));
    PQclear(r);
    PQclear(prev);
    PQclear(cnt);
    PQclear(first);
    if (!ins || db_exec(c, "COMMIT", NULL, 0)) {
        free(rj);
        free(ej);
        goto fail;
    }
    serve_report(j, rj, rl);
    free(rj);
    free(ej);
    return 0;
fail:
    db_exec(c, "ROLLBACK", NULL, 0);
    return -1;
}

void report_get(PGconn *primary, PGconn *replica, job *j)
{
    char id[64];
    time_t start;
    period_id(g_app.cfg.report_period, id, sizeof id, &start);
    if (primary) {
        int f = find_report(primary, id, j);
        if (f == 1)
            return;
        if (f == 0 && make_report(primary, id, j) == 0)
            return;
    }
    /* No primary: this period's report can still be served if it exists. */
    if (replica && find_report(replica, id, j) == 1)
        return;
    free(j->body);
    j->body = NULL;
    job_error(j, 503, "database_unavailable", "the report cannot be generated while the primary is down");
    j->retry_after = 1;
}

void reports_list(PGconn *c, job *j)
{
    uint64_t limit = j->limit ? j->limit : 20, page = j->page ? j->page : 1;
    char l[24], o[24];
    snprintf(l, sizeof l, "%llu", (unsigned long long)limit);
    snprintf(o, sizeof o, "%llu", (unsigned long long)((page - 1) * limit));
    const char *v[] = { l, o };
    PGresult *r = PQexecParams(c, "SELECT report_id, convert_from(report_json, 'UTF8'), tree_size"
                                  " FROM reports ORDER BY time_window_end DESC LIMIT $1 OFFSET $2",
                               2, NULL, v, NULL, NULL, 0);
    /* The total on its own: a page past the end still says how many exist. */
    PGresult *t = PQexec(c, "SELECT count(*) FROM reports");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQresultStatus(t) != PGRES_TUPLES_OK) {
        PQclear(r);
        PQclear(t);
        job_error(j, 503, "database_unavailable", "could not read the reports");
        return;
    }
    int n = PQntuples(r);
    toy_rec_report_ref *refs = calloc((size_t)n + 1, sizeof *refs);
    json_object **objs = calloc((size_t)n + 1, sizeof *objs);
    uint8_t (*sigs)[64] = calloc((size_t)n + 1, 64);
    uint64_t total = strtoull(PQgetvalue(t, 0, 0), NULL, 10);
    PQclear(t);
    for (int i = 0; i < n; i++) {
        objs[i] = json_tokener_parse(PQgetvalue(r, i, 1));
        const char *g = jstr(objs[i], "generatedAt"), *s = jstr(objs[i], "signature");
        refs[i].reportId = (rt_str){ PQgetvalue(r, i, 0), strlen(PQgetvalue(r, i, 0)) };
        refs[i].generatedAt = (rt_str){ g ? g : "", g ? strlen(g) : 0 };
        refs[i].treeSize = strtoull(PQgetvalue(r, i, 2), NULL, 10);
        if (s && !rt_hex_decode_str(s, sigs[i], 64))
            refs[i].signature = (rt_bytes){ sigs[i], 64 };
    }
    toy_resp_reports out = { .reports = { refs, (size_t)n }, .page = page, .total = total };
    j->body = ser_alloc(&toy_resp_reports_rec, &out, 0, &j->body_len);
    j->status = 200;
    for (int i = 0; i < n; i++)
        json_object_put(objs[i]);
    free(objs);
    free(refs);
    free(sigs);
    PQclear(r);
}

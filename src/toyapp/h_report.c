/*
 * h_report.c — the retrospective report (spec/report/report.spec,
 * spec/endpoints/report.spec): GET /report (and /report.md, ?format=md) and
 * GET /reports.
 *
 * One report per period (REPORT_PERIOD_SECONDS, a UTC day by default).  The
 * reader serves it if it exists.  Otherwise the writer makes it, in the
 * batch's transaction and under an advisory lock, so that instances asking
 * at once make one: the window runs from the previous report's end (or the
 * first entry) to now; the figures are the counters (totals) and their
 * difference from the previous report's (the window); the tree head is the
 * latest signed one (the empty tree, signed now, before anything is
 * sequenced).  Its report_generated entry and its reports row are written
 * with the batch like every other entry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "app.h"
#include "handler.h"
#include "logdb.h"
#include "rt_hex.h"

#define REPORT_LOCK 0x7265706f  /* "repo" */

/* The figures, in the counters' names (the entry kinds they count). */
enum { F_USERS, F_SAFE_CALLS, F_SIGNUPS, F_DELETIONS, F__COUNT };
static const char *const figure_kind[F__COUNT] = { "data_received", "safe_api_call", "signup", "data_deleted" };

typedef struct report_job {
    char id[64];
    int markdown;
    char *json;                  /* the signed report, made or found */
    size_t len;
    char start[40], now[32];
    int64_t totals[F__COUNT];
    uint64_t tree_size;
} report_job;

static void report_job_free(void *p)
{
    report_job *r = p;
    if (r)
        free(r->json);
    free(r);
}

static void period_id(int period, char *id, size_t n)
{
    time_t now = time(NULL), start = now - now % period;
    struct tm tm;
    gmtime_r(&start, &tm);
    strftime(id, n, period % 86400 == 0 ? "report_%Y%m%d" : "report_%Y%m%dT%H%M%SZ", &tm);
}

/* ---- the Markdown rendering ------------------------------------------------ */

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
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(cur, k, &cur))
            return "?";
    return json_object_is_type(cur, json_type_null) ? "none" : json_object_get_string(cur);
}

/* The same report, for people: a Markdown rendering of the signed JSON. */
static char *report_markdown(const char *json, size_t n, size_t *len)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)n) : NULL;
    json_tokener_free(tok);
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
    md_row(&m, len, &cap, "| deletions (submissions purged on request) | %s | %s |\n\n",
           js(o, "summary.window.deletions"), js(o, "summary.totalDeletions"));
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

/* Answers j with the report json[0..n), as JSON or Markdown. */
static void answer_report(job *j, int markdown, const char *json, size_t n)
{
    free(j->body);
    if (markdown) {
        j->body = report_markdown(json, n, &j->body_len);
        j->content_type = "text/markdown; charset=utf-8";
    } else {
        j->body = malloc(n ? n : 1);
        if (j->body)
            memcpy(j->body, json, n);
        j->body_len = n;
    }
    j->status = 200;
    if (!j->body)
        job_error(j, 500, "internal_error", "could not render the report");
}

/* Looks for report id on c: 1 (answered), 0 (none), -1 (failed). */
static int find_report(PGconn *c, const report_job *rj, job *j)
{
    sql_args a = { 0 };
    sql_text(&a, rj->id);
    PGresult *r = sql_query(c, "report", "SELECT report_json FROM reports WHERE report_id = $1", &a, SQL_BINARY);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        answer_report(j, rj->markdown, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return found;
}

/* ---- GET /report: the reader ------------------------------------------------ */

static void report_serve(job *j, worker *w)
{
    report_job *rj = calloc(1, sizeof *rj);
    if (!rj) {
        job_error(j, 500, "internal_error", "out of memory");
        return;
    }
    j->state = rj;
    j->state_free = report_job_free;
    period_id(g_app.cfg.report_period, rj->id, sizeof rj->id);
    if (j->route == TOY_R_report_md)
        rj->markdown = 1;
    else {
        const toy_params_report *p = JOB_PARAMS(j, report);
        rj->markdown = p->has_format && !strcmp(toy_params_report_tab.params[0].labels[p->format], "md");
    }
    PGconn *c = worker_primary(w);
    int f = c ? find_report(c, rj, j) : -1;
    if (f == 1)
        return;
    if (f == 0) {
        j->to_writer = 1;   /* this period's report does not exist yet: make it */
        return;
    }
    worker_check(w);
    /* No primary: this period's report can still be served if it exists. */
    int from_replica = 0;
    c = worker_any(w, &from_replica);
    if (c && from_replica && find_report(c, rj, j) == 1)
        return;
    job_error(j, 503, "database_unavailable", "the report cannot be generated while the primary is down");
    j->retry_after = 1;
}

/* ---- the writer: make it ------------------------------------------------------ */

static int report_lookup(job *j, PGconn *c)
{
    report_job *rj = j->state;
    char key[80];
    snprintf(key, sizeof key, "report:%s", rj->id);
    if (w_claim(key))
        return W_RETRY;   /* a job earlier in this batch makes it */
    sql_args lk = { 0 };
    sql_int(&lk, REPORT_LOCK);
    if (sql_exec(c, "report", "SELECT pg_advisory_xact_lock($1)", &lk))
        return W_FAILED;
    int f = find_report(c, rj, j);
    if (f)
        return f < 0 ? W_FAILED : W_ANSWERED;

    PGresult *prev = sql_query(c, "report", "SELECT report_id, to_char(time_window_end AT TIME ZONE 'UTC',"
                               " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), tree_size, users_processed, safe_api_calls,"
                               " signups, deletions FROM reports ORDER BY time_window_end DESC LIMIT 1", NULL, SQL_TEXT);
    PGresult *cnt = sql_query(c, "report", "SELECT name, value FROM counters", NULL, SQL_TEXT);
    PGresult *first = sql_query(c, "report", "SELECT to_char(created_at AT TIME ZONE 'UTC',"
                                " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM audit_log ORDER BY id LIMIT 1",
                                NULL, SQL_TEXT);
    log_head h;
    int have_head = 0, rc = W_FAILED;
    if (!prev || !cnt || !first || log_load_head(c, 0, &h, &have_head))
        goto out;
    size_t nown = rt_ser_now(rj->now);
    if (!have_head) {
        /* Nothing sequenced yet: the empty tree, signed now. */
        memset(&h, 0, sizeof h);
        rt_merkle_empty_root(h.th.root);
        snprintf(h.ts, sizeof h.ts, "%s", rj->now);
        h.th.timestamp = (rt_str){ h.ts, nown };
        h.th.publicKey = (rt_bytes){ g_app.meta.pub, 32 };
        if (sign_record(&toy_rec_tree_head_rec, &h.th, h.sig))
            goto out;
        h.th.signature = (rt_bytes){ h.sig, 64 };
    }
    int has_prev = PQntuples(prev) == 1;
    snprintf(rj->start, sizeof rj->start, "%s", has_prev ? PQgetvalue(prev, 0, 1)
             : PQntuples(first) ? PQgetvalue(first, 0, 0) : rj->now);
    int64_t before[F__COUNT] = { 0 };
    for (int f2 = 0; f2 < F__COUNT; f2++) {
        for (int i = 0; i < PQntuples(cnt); i++)
            if (!strcmp(PQgetvalue(cnt, i, 0), figure_kind[f2]))
                rj->totals[f2] = sql_int_at(cnt, i, 1);
        before[f2] = has_prev ? sql_int_at(prev, 0, 3 + f2) : 0;
    }
    char digest[80];
    memcpy(digest, "sha256:", 7);
    rt_hex_encode(h.th.root, 32, digest + 7);
    rj->tree_size = h.th.treeSize;
    toy_rec_report rep = {
        .reportId = { rj->id, strlen(rj->id) }, .generatedAt = { rj->now, nown },
        .timeWindow = { { rj->start, strlen(rj->start) }, { rj->now, nown } },
        .enclaveVersion = RT_STR(TOY_VERSION),
        .composeHash = { g_app.meta.compose_hash, strlen(g_app.meta.compose_hash) },
        .teeProvider = { g_app.meta.provider, strlen(g_app.meta.provider) },
        .summary = { (uint64_t)rj->totals[F_USERS], (uint64_t)rj->totals[F_SAFE_CALLS],
                     (uint64_t)rj->totals[F_SIGNUPS], (uint64_t)rj->totals[F_DELETIONS],
                     { digest, strlen(digest) },
                     { (uint64_t)(rj->totals[F_USERS] - before[F_USERS]),
                       (uint64_t)(rj->totals[F_SAFE_CALLS] - before[F_SAFE_CALLS]),
                       (uint64_t)(rj->totals[F_SIGNUPS] - before[F_SIGNUPS]),
                       (uint64_t)(rj->totals[F_DELETIONS] - before[F_DELETIONS]) } },
        .treeHead = h.th, .leakageBound = RT_STR(TOY_LEAKAGE_SUBMIT_DATA),
        .previousReportId = { has_prev ? PQgetvalue(prev, 0, 0) : "", has_prev ? strlen(PQgetvalue(prev, 0, 0)) : 0 },
        .previousReportId_null = !has_prev,
        .previousTreeSize = has_prev ? (uint64_t)sql_int_at(prev, 0, 2) : 0,
        .publicKey = { g_app.meta.pub, 32 },
    };
    uint8_t sig[64];
    if (sign_record(&toy_rec_report_rec, &rep, sig))
        goto out;
    rep.signature = (rt_bytes){ sig, 64 };
    rj->json = ser_alloc(&toy_rec_report_rec, &rep, 0, &rj->len);
    rc = rj->json ? W_WRITE : W_FAILED;
out:
    PQclear(prev);
    PQclear(cnt);
    PQclear(first);
    return rc;
}

static int report_prepare(job *j, wentry *e, PGconn *c)
{
    (void)c;
    const report_job *rj = j->state;
    toy_audit_report_generated *a = w_entry(e, TOY_K_report_generated);
    a->reportId = (rt_str){ rj->id, strlen(rj->id) };
    a->treeSize = rj->tree_size;
    toy_row_reports *row = w_row(e, &toy_table_reports);
    row->time_window_start = (rt_str){ rj->start, strlen(rj->start) };
    row->time_window_end = (rt_str){ rj->now, strlen(rj->now) };
    row->users_processed = rj->totals[F_USERS];
    row->safe_api_calls = rj->totals[F_SAFE_CALLS];
    row->signups = rj->totals[F_SIGNUPS];
    row->deletions = rj->totals[F_DELETIONS];
    row->report_json = (rt_bytes){ (const uint8_t *)rj->json, rj->len };
    return 0;
}

static void report_respond(job *j, const wentry *e, const wbatch *b)
{
    (void)e;
    (void)b;
    const report_job *rj = j->state;
    answer_report(j, rj->markdown, rj->json, rj->len);
}
const toy_handler h_report = { .serve = report_serve, .lookup = report_lookup,
                               .prepare = report_prepare, .respond = report_respond };

/* ---- GET /reports ------------------------------------------------------------- */

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
           ? json_object_get_string(v) : NULL;
}

static void reports_list(job *j, worker *w)
{
    const toy_params_reports *p = JOB_PARAMS(j, reports);
    int64_t limit = p->has_limit ? p->limit : 20, page = p->has_page ? p->page : 1;
    PGconn *c = worker_any(w, NULL);
    sql_args a = { 0 };
    sql_int(&a, limit);
    sql_int(&a, (page - 1) * limit);
    PGresult *r = c ? sql_query(c, "reports", "SELECT report_id, convert_from(report_json, 'UTF8'), tree_size"
                                " FROM reports ORDER BY time_window_end DESC LIMIT $1 OFFSET $2", &a, SQL_TEXT) : NULL;
    /* The total on its own: a page past the end still says how many exist. */
    PGresult *t = r ? sql_query(c, "reports", "SELECT count(*) FROM reports", NULL, SQL_TEXT) : NULL;
    if (!r || !t) {
        PQclear(r);
        PQclear(t);
        worker_check(w);
        job_error(j, 503, "database_unavailable", "could not read the reports");
        j->retry_after = 1;
        return;
    }
    int n = PQntuples(r);
    toy_rec_report_ref *refs = calloc((size_t)n + 1, sizeof *refs);
    json_object **objs = calloc((size_t)n + 1, sizeof *objs);
    uint8_t (*sigs)[64] = calloc((size_t)n + 1, 64);
    uint64_t total = (uint64_t)sql_int_at(t, 0, 0);
    PQclear(t);
    for (int i = 0; refs && objs && sigs && i < n; i++) {
        objs[i] = json_tokener_parse(PQgetvalue(r, i, 1));
        const char *g = jstr(objs[i], "generatedAt"), *s = jstr(objs[i], "signature");
        refs[i].reportId = (rt_str){ PQgetvalue(r, i, 0), strlen(PQgetvalue(r, i, 0)) };
        refs[i].generatedAt = (rt_str){ g ? g : "", g ? strlen(g) : 0 };
        refs[i].treeSize = (uint64_t)sql_int_at(r, i, 2);
        if (s && !rt_hex_decode_str(s, sigs[i], 64))
            refs[i].signature = (rt_bytes){ sigs[i], 64 };
    }
    if (refs && objs && sigs) {
        toy_resp_reports out = { .reports = { refs, (size_t)n }, .page = (uint64_t)page, .total = total };
        job_answer(j, 200, &toy_resp_reports_rec, &out);
    } else {
        job_error(j, 500, "internal_error", "out of memory");
    }
    for (int i = 0; objs && i < n; i++)
        json_object_put(objs[i]);
    free(objs);
    free(refs);
    free(sigs);
    PQclear(r);
}
const toy_handler h_reports = { .serve = reports_list };

/*
 * http.c — the libwebsockets side: routing, body streaming, responses.
 *
 * Runs on the lws service thread only.  A request's body goes chunk by
 * chunk into the generated parser (no whole-body buffer); what the parser
 * keeps goes to a worker as a job; the response is written when the job
 * comes back (LWS_CALLBACK_EVENT_WAIT_CANCELLED -> writable), with its
 * header and body in one lws_write.  Every error is JSON:
 * {"error": code, "message": text[, "field": name, "offset": n]}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <nettle/sha2.h>
#include <openssl/rand.h>

#include "app.h"
#include "http.h"
#include "rt_parse.h"
#include "rt_tee.h"

#ifndef TOY_GIT_SHA
#define TOY_GIT_SHA "unknown"
#endif
#ifndef TOY_BUILD_TIME
#define TOY_BUILD_TIME "unknown"
#endif

/* ---- the route table, from spec/ ----------------------------------------- */

enum {
#define XX(name, m, p, port, st, sch, par, resp, em) R_##name,
    TOY_ROUTES(XX)
#undef XX
    R__COUNT
};

typedef struct route {
    const char *name, *method, *path;
    int port, status;
    const rt_schema *schema;
} route;

static const route routes[] = {
#define XX(name, m, p, port, st, sch, par, resp, em) { #name, m, p, port, st, sch },
    TOY_ROUTES(XX)
#undef XX
};

/* Does path match pattern ("/a/:x/b": ":x" is one non-empty segment)? */
static int path_match(const char *pat, const char *path)
{
    while (*pat && *path) {
        if (*pat == ':') {
            size_t n = strcspn(path, "/");
            if (!n)
                return 0;
            path += n;
            pat += strcspn(pat, "/");
        } else if (*pat++ != *path++) {
            return 0;
        }
    }
    return !*pat && !*path;
}

/* ---- per-connection state ------------------------------------------------ */

typedef struct pss {
    struct lws *wsi;
    int route;
    job *job;                /* the request being parsed, then in flight */
    int in_flight;           /* job is with a worker */
    int body_started;
    rt_parser parser;
    rt_parse_ctx ctx;
    lws_sorted_usec_list_t sul;  /* body deadline */
    /* the response to write */
    int have_response, status, retry_after, close_after;
    const char *content_type;   /* NULL: application/json */
    char *body;
    size_t body_len;
    char allow[64];
} pss;

static void set_response(pss *s, int status, char *body, size_t len)
{
    free(s->body);
    s->body = body;
    s->body_len = len;
    s->status = status;
    s->have_response = 1;
    lws_callback_on_writable(s->wsi);
}

static void error_response(pss *s, int status, const char *code, const char *msg,
                           const char *field, long long offset)
{
    char buf[1024];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, "error", 5);
    rt_jw_str(&w, code, strlen(code));
    if (field) {
        rt_jw_key(&w, "field", 5);
        rt_jw_str(&w, field, strlen(field));
    }
    rt_jw_key(&w, "message", 7);
    rt_jw_str(&w, msg, strlen(msg));
    if (offset >= 0) {
        rt_jw_key(&w, "offset", 6);
        rt_jw_int(&w, offset);
    }
    rt_jw_obj_end(&w);
    rt_jw_finish(&w);
    char *b = malloc(w.len);
    memcpy(b, buf, w.len);
    set_response(s, status, b, w.len);
}

static void ser_response(pss *s, int status, const rt_record *rec, const void *obj)
{
    size_t n;
    char *b = ser_alloc(rec, obj, 0, &n);
    if (!b)
        error_response(s, 500, "internal_error", "could not serialize the response", NULL, -1);
    else
        set_response(s, status, b, n);
}

/* Parse errors: syntax-level ones are 400, schema-level ones 422. */
static void parse_error(pss *s)
{
    int e = rt_parse_error(&s->parser);
    int status = e == RT_E_TOO_LARGE ? 413
               : (e == RT_E_SYNTAX || e == RT_E_UTF8 || e == RT_E_TRAILING || e == RT_E_TRUNCATED) ? 400
               : 422;
    const char *reason = rt_parse_reason(&s->parser);
    error_response(s, status, rt_perr_name(e), reason ? reason : rt_perr_name(e),
                   rt_parse_error_field(&s->parser), (long long)rt_parse_error_pos(&s->parser));
    s->close_after = 1;   /* the rest of the body is not read */
}

static void discard_job(pss *s)
{
    if (!s->job)
        return;
    if (s->in_flight) {
        s->job->pss = NULL;   /* the worker's answer will be dropped */
    } else {
        rt_parse_abort(&s->parser);
        job_free(s->job);
    }
    s->job = NULL;
}

/* ---- immediate answers -------------------------------------------------- */

static void answer_index(pss *s)
{
    rt_str eps[R__COUNT];
    static char lines[R__COUNT][96];
    int n = 0;
    for (int i = 0; i < R__COUNT; i++) {
        if (routes[i].port != TOY_PORT_API)
            continue;
        int k = snprintf(lines[n], sizeof lines[n], "%s %s", routes[i].method, routes[i].path);
        eps[n] = (rt_str){ lines[n], (size_t)k };
        n++;
    }
    toy_resp_index r = {
        .service = RT_STR("toyapp"), .version = RT_STR(TOY_VERSION),
        .cvmId = { g_app.cfg.cvm_id, strlen(g_app.cfg.cvm_id) },
        .endpoints = { eps, (size_t)n },
    };
    ser_response(s, 200, &toy_resp_index_rec, &r);
}

static rt_str str(const char *p)
{
    return (rt_str){ p, strlen(p) };
}

static void answer_version(pss *s)
{
    toy_resp_version r = {
        .version = RT_STR(TOY_VERSION), .gitSha = RT_STR(TOY_GIT_SHA),
        .buildTime = RT_STR(TOY_BUILD_TIME), .environment = str(g_app.cfg.environment),
        .composeHash = str(g_app.k.compose_hash), .teeProvider = str(g_app.k.provider),
    };
    ser_response(s, 200, &toy_resp_version_rec, &r);
}

static void answer_info(pss *s)
{
    toy_resp_info r = {
        .appId = str(g_app.cfg.app_id), .instanceId = str(g_app.k.instance_id),
        .cvmId = str(g_app.cfg.cvm_id), .role = str(g_app.cfg.role),
        .composeHash = str(g_app.k.compose_hash), .teeProvider = str(g_app.k.provider),
        .publicKey = { g_app.k.sign_pub, 32 },
    };
    ser_response(s, 200, &toy_resp_info_rec, &r);
}

static void answer_compose_hash(pss *s)
{
    toy_resp_compose_hash r = { .composeHash = str(g_app.k.compose_hash) };
    ser_response(s, 200, &toy_resp_compose_hash_rec, &r);
}

static void answer_health(pss *s)
{
    job j;
    memset(&j, 0, sizeof j);
    health_build(&j);
    set_response(s, j.status, j.body, j.body_len);
}

/* ---- dispatch ------------------------------------------------------------ */

static const char *method_of(struct lws *wsi)
{
    static const struct { enum lws_token_indexes t; const char *m; } ms[] = {
        { WSI_TOKEN_GET_URI, "GET" }, { WSI_TOKEN_POST_URI, "POST" },
        { WSI_TOKEN_PUT_URI, "PUT" }, { WSI_TOKEN_PATCH_URI, "PATCH" },
        { WSI_TOKEN_DELETE_URI, "DELETE" }, { WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
        { WSI_TOKEN_HEAD_URI, "HEAD" },
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (lws_hdr_total_length(wsi, ms[i].t) > 0)
            return ms[i].m;
    return "?";
}

static job *new_job(pss *s, int kind)
{
    job *j = calloc(1, sizeof *j);
    j->kind = kind;
    j->pss = s;
    return j;
}

static void send_job(pss *s, job *j, queue *q)
{
    s->job = j;
    s->in_flight = 1;
    queue_push(q, j);
}

static void start_job(pss *s, int kind, queue *q)
{
    send_job(s, new_job(s, kind), q);
}

/* A query parameter as an integer in [lo, hi].  Returns 1 if present and
 * valid, 0 if absent, -1 (after answering 400) if malformed. */
static int int_arg(pss *s, const char *name, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char key[32], buf[48];
    snprintf(key, sizeof key, "%s=", name);
    /* lws copies "name=value" into buf and points at the value. */
    const char *a = lws_get_urlarg_by_name(s->wsi, key, buf, sizeof buf);
    if (!a)
        return 0;
    char *end;
    unsigned long long v = strtoull(a, &end, 10);
    if (!*a || *end || a[0] == '-' || a[0] == '+' || a[0] == ' ' || v < lo || v > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s must be a whole number from %llu to %llu", name,
                 (unsigned long long)lo, (unsigned long long)hi);
        error_response(s, 400, "bad_parameter", msg, NULL, -1);
        return -1;
    }
    *out = v;
    return 1;
}

/* /receipts/:receiptId/proof -> the id, if it is one we could have issued. */
static int receipt_arg(pss *s, const char *path, char *out, size_t cap)
{
    const char *id = path + strlen("/receipts/");
    size_t n = strcspn(id, "/");
    int ok = n >= 1 && n < cap && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') || id[i] == '_';
    if (!ok) {
        error_response(s, 400, "bad_parameter", "receiptId is 1 to 64 of [a-z0-9_]", NULL, -1);
        return -1;
    }
    memcpy(out, id, n);
    out[n] = 0;
    return 0;
}

static void body_deadline(lws_sorted_usec_list_t *sul)
{
    pss *s = lws_container_of(sul, pss, sul);
    if (s->have_response || s->in_flight)
        return;
    discard_job(s);
    error_response(s, 408, "request_timeout", "the request body did not arrive in time", NULL, -1);
    s->close_after = 1;
}

static int on_request(pss *s, struct lws *wsi, const char *path, int port)
{
    const char *m = method_of(wsi);
    int path_found = 0;
    s->route = -1;
    s->allow[0] = 0;
    for (int i = 0; i < R__COUNT; i++) {
        if (routes[i].port != port || !path_match(routes[i].path, path))
            continue;
        path_found = 1;
        if (!strcmp(routes[i].method, m)) {
            s->route = i;
            break;
        }
        size_t al = strlen(s->allow);
        snprintf(s->allow + al, sizeof s->allow - al, "%s%s", al ? ", " : "", routes[i].method);
    }
    if (s->route < 0) {
        if (path_found) {
            error_response(s, 405, "method_not_allowed", "this path does not take that method", NULL, -1);
        } else {
            s->allow[0] = 0;
            error_response(s, 404, "not_found", "no such endpoint", NULL, -1);
        }
        return 0;
    }
    const route *r = &routes[s->route];
    if (r->schema) {
        char cl[32] = "", ct[128] = "";
        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0
            || lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
            error_response(s, 411, "length_required", "a body needs a Content-Length header", NULL, -1);
            s->close_after = 1;
            return 0;
        }
        lws_hdr_copy(wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE);
        size_t ctn = strcspn(ct, ";");
        while (ctn && ct[ctn - 1] == ' ')
            ctn--;
        if (ctn != 16 || strncasecmp(ct, "application/json", 16)) {
            error_response(s, 415, "unsupported_media_type", "the body must be application/json", NULL, -1);
            s->close_after = 1;
            return 0;
        }
        char *end;
        unsigned long long len = strtoull(cl, &end, 10);
        if (*end || end == cl) {
            error_response(s, 400, "bad_content_length", "Content-Length is not a number", NULL, -1);
            s->close_after = 1;
            return 0;
        }
        if (len > r->schema->max_body) {
            char msg[96];
            snprintf(msg, sizeof msg, "the body is larger than %u bytes", r->schema->max_body);
            error_response(s, 413, "body_too_large", msg, NULL, (long long)r->schema->max_body);
            s->close_after = 1;
            return 0;
        }
        job *j = calloc(1, sizeof *j);
        j->kind = s->route == R_submit_data ? JOB_SUBMIT : JOB_SIGNUP;
        j->pss = s;
        s->job = j;
        if (j->kind == JOB_SUBMIT && RAND_bytes(j->salt, sizeof j->salt) != 1) {
            discard_job(s);
            error_response(s, 500, "internal_error", "no randomness", NULL, -1);
            return 0;
        }
        s->ctx = (rt_parse_ctx){ g_app.k.pseudonym, 32, j->salt, 32 };
        rt_parse_init(&s->parser, r->schema, &j->req, &s->ctx);
        lws_sul_schedule(lws_get_context(wsi), 0, &s->sul, body_deadline,
                         (lws_usec_t)g_app.cfg.body_timeout_ms * 1000);
        if (len == 0) {
            rt_parse_finish(&s->parser);
            parse_error(s);
            discard_job(s);
        }
        return 0;
    }
    switch (s->route) {
    case R_index: answer_index(s); break;
    case R_health: answer_health(s); break;
    case R_version: answer_version(s); break;
    case R_info: answer_info(s); break;
    case R_compose_hash: answer_compose_hash(s); break;
    case R_signup_count: start_job(s, JOB_COUNT, &g_app.reader_q); break;
    case R_watch_history: start_job(s, JOB_WATCH, &g_app.io_q); break;
    case R_log_head: start_job(s, JOB_HEAD, &g_app.reader_q); break;
    case R_receipt_proof: {
        job *j = new_job(s, JOB_PROOF);
        if (receipt_arg(s, path, j->receipt_id, sizeof j->receipt_id)) {
            free(j);
            break;
        }
        send_job(s, j, &g_app.reader_q);
        break;
    }
    case R_log_consistency: {
        job *j = new_job(s, JOB_CONSISTENCY);
        int a = int_arg(s, "from", 1, 9007199254740991ull, &j->from);
        int b = a < 0 ? -1 : int_arg(s, "to", 1, 9007199254740991ull, &j->to);
        if (a < 0 || b < 0) {
            free(j);
            break;
        }
        if (!a || !b) {
            free(j);
            error_response(s, 400, "missing_parameter", "both from and to are required", NULL, -1);
            break;
        }
        send_job(s, j, &g_app.reader_q);
        break;
    }
    case R_report:
    case R_report_md: {
        job *j = new_job(s, JOB_REPORT);
        char buf[32];
        const char *fmt = lws_get_urlarg_by_name(s->wsi, "format=", buf, sizeof buf);
        j->markdown = s->route == R_report_md;
        if (fmt) {
            if (strcmp(fmt, "md") && strcmp(fmt, "json")) {
                free(j);
                error_response(s, 400, "bad_parameter", "format is json or md", NULL, -1);
                break;
            }
            j->markdown |= !strcmp(fmt, "md");
        }
        send_job(s, j, &g_app.reader_q);
        break;
    }
    case R_reports: {
        job *j = new_job(s, JOB_REPORTS);
        if (int_arg(s, "page", 1, 1000000, &j->page) < 0 || int_arg(s, "limit", 1, 100, &j->limit) < 0) {
            free(j);
            break;
        }
        send_job(s, j, &g_app.reader_q);
        break;
    }
    case R_attestation: {
        job *j = new_job(s, JOB_ATTEST);
        char buf[96];
        const char *nonce = lws_get_urlarg_by_name(s->wsi, "nonce=", buf, sizeof buf);
        if (nonce && strlen(nonce) > 64) {
            free(j);
            error_response(s, 400, "bad_parameter", "nonce is at most 64 characters", NULL, -1);
            break;
        }
        snprintf(j->receipt_id, sizeof j->receipt_id, "%s", nonce ? nonce : "");
        send_job(s, j, &g_app.io_q);
        break;
    }
    default:
        error_response(s, 501, "not_implemented", "this endpoint is declared but not served yet", NULL, -1);
    }
    return 0;
}

static void on_body_done(pss *s)
{
    lws_sul_cancel(&s->sul);
    if (!s->job || s->have_response)
        return;
    if (rt_parse_finish(&s->parser)) {
        parse_error(s);
        discard_job(s);
        return;
    }
    s->in_flight = 1;
    queue_push(&g_app.writer_q, s->job);
}

/* Jobs the workers finished: attach each to its connection, if still open. */
static void collect_done(void)
{
    for (job *j = queue_drain(&g_app.done_q), *next; j; j = next) {
        next = j->next;
        pss *s = j->pss;
        if (!s) {
            job_free(j);
            continue;
        }
        s->job = NULL;
        s->in_flight = 0;
        s->retry_after = j->retry_after;
        s->content_type = j->content_type;
        set_response(s, j->status, j->body, j->body_len);
        j->body = NULL;
        job_free(j);
    }
}

static int write_response(pss *s, struct lws *wsi)
{
    size_t cap = LWS_PRE + 512 + s->body_len;
    unsigned char *buf = malloc(cap), *start = buf + LWS_PRE, *p = start, *end = buf + cap - s->body_len;
    char num[24];
    int rc = 0;
    if (lws_add_http_header_status(wsi, (unsigned int)s->status, &p, end)
        || lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                        (const unsigned char *)(s->content_type ? s->content_type : "application/json"),
                                        (int)strlen(s->content_type ? s->content_type : "application/json"), &p, end)
        || lws_add_http_header_content_length(wsi, s->body_len, &p, end))
        rc = -1;
    if (!rc && s->retry_after) {
        int n = snprintf(num, sizeof num, "%d", s->retry_after);
        rc = lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
                                         (const unsigned char *)num, n, &p, end);
    }
    if (!rc && s->status == 405)
        rc = lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                         (const unsigned char *)s->allow, (int)strlen(s->allow), &p, end);
    if (!rc && s->close_after)
        rc = lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                          (const unsigned char *)"close", 5, &p, end);
    if (!rc)
        rc = lws_finalize_http_header(wsi, &p, end);
    if (!rc) {
        memcpy(p, s->body, s->body_len);
        p += s->body_len;
        if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) < (int)(p - start))
            rc = -1;
    }
    free(buf);
    free(s->body);
    s->body = NULL;
    s->have_response = 0;
    if (rc || s->close_after)
        return -1;
    s->status = s->retry_after = 0;
    s->content_type = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int toy_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len)
{
    pss *s = user;
    /* Connections that failed before their request was read have no pss. */
    if (!s && reason != LWS_CALLBACK_EVENT_WAIT_CANCELLED)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        memset(s, 0, offsetof(pss, parser));
        s->wsi = wsi;
        int port = lws_get_vhost_user(lws_get_vhost(wsi)) ? TOY_PORT_METADATA : TOY_PORT_API;
        return on_request(s, wsi, (const char *)in, port);
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (!s->job || s->have_response || s->in_flight)
            return 0;
        if (rt_parse_feed(&s->parser, in, len)) {
            lws_sul_cancel(&s->sul);
            parse_error(s);
            discard_job(s);
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        on_body_done(s);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!s->have_response)
            return 0;
        return write_response(s, wsi);
    case LWS_CALLBACK_CLOSED_HTTP:
        lws_sul_cancel(&s->sul);
        discard_job(s);
        free(s->body);
        s->body = NULL;
        s->have_response = 0;
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        collect_done();
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

size_t toy_http_pss_size(void)
{
    return sizeof(pss);
}

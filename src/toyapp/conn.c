/*
 * conn.c — the connection: HTTP/1.1 on libwebsockets raw sockets, request
 * heads, body streaming, answers.  Routing is route.c's, answering is the
 * handlers'.
 *
 * lws accepts the connections, runs the event loop and the timers, and
 * writes (buffering partial writes); the request head is read by our own
 * state machine (runtime/rt_http.rl), so every malformed or oversized head
 * gets a JSON error instead of lws's HTML page or a silent close
 * (docs/architecture.md, "HTTP").  Runs on the lws service thread only.  A
 * request's body goes chunk by chunk into the generated parser (no whole-body
 * buffer); what the parser keeps goes to the handler as a job; the response
 * is written when the job comes back (LWS_CALLBACK_EVENT_WAIT_CANCELLED ->
 * writable), header and body in one lws_write.  Every error is JSON:
 * {"error": code, "message": text[, "field": name, "offset": n]}.
 *
 * A connection goes HEAD (reading a request head) -> BODY (feeding its body to
 * the parser) -> WAIT (the answer is being made) -> back to HEAD once the
 * answer is written, or to LINGER when the connection is to close: our side
 * is shut down, and what the client still sends is read and dropped for up
 * to LINGER_S seconds, so that it receives the answer instead of a reset.
 * Pipelined requests wait in the input buffer; past STASH_MAX bytes reading
 * pauses (rx flow control) until the answer in progress is written.
 *
 * A WebSocket handshake (GET /ws) answered 101 moves the connection to
 * P_WS: from then on its bytes and writable callbacks belong to the session
 * the handler made (ws.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libwebsockets.h>
#include <nettle/hmac.h>

#include "app.h"
#include "conn.h"
#include "route.h"
#include "rt_http.h"
#include "rt_parse.h"
#include "rt_rand.h"
#include "rt_sink.h"
#include "ws.h"

enum {
    HEAD_MAX = 8192,         /* request line + header fields, bytes */
    STASH_MAX = 65536,       /* pipelined bytes buffered before reading pauses */
    LINGER_S = 2,
};

enum { P_HEAD, P_BODY, P_WAIT, P_LINGER, P_WS };

/* ---- per-connection state ------------------------------------------------ */

typedef struct conn {
    struct lws *wsi;
    int port;                /* TOY_PORT_API or TOY_PORT_METADATA */
    int phase;               /* P_* */
    /* bytes received and not yet consumed: ib[ioff..ilen) */
    char *ib;
    size_t ioff, ilen, icap;
    int paused;              /* rx flow control is off */
    rt_http_head head;       /* the request head, parsed from ib + ioff */
    int started;             /* a byte of this request has arrived */
    uint64_t body_left;      /* body bytes still to come */
    job *job;                /* the request being parsed, then in flight */
    int in_flight;           /* job is with a worker */
    int parsing;             /* parser runs over job's request struct */
    int idem;                /* the request has an Idempotency-Key: idem_mac runs */
    struct hmac_sha256_ctx idem_mac;   /* its fingerprint, over route, target, body */
    rt_parser parser;
    rt_parse_ctx ctx;
    lws_sorted_usec_list_t sul;  /* the request deadline, or the idle timeout */
    /* the response to write */
    int have_response, status, retry_after, close_after, keep_alive;
    int from_replica;           /* the answer was read from the replica, lagging: */
    long long lag_ms, lag_bytes;
    const char *content_type;   /* NULL: application/json */
    char *body;
    size_t body_len;
    char allow[64];
    char *headers;                /* more header lines of the response */
    struct ws_client *upgrade;    /* a 101 to write: the session it starts */
    struct ws_client *ws;         /* P_WS: the session */
} conn;
typedef conn pss;

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
    size_t n;
    char *b = error_json(code, msg, field, offset, &n);
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
        s->job->conn = NULL;   /* the worker's answer will be dropped */
    } else {
        if (s->parsing)
            rt_parse_abort(&s->parser);
        job_free(s->job);
    }
    s->parsing = 0;
    if (s->idem) {
        rt_wipe(&s->idem_mac, sizeof s->idem_mac);
        s->idem = 0;
    }
    s->job = NULL;
}

static void arm(pss *s, lws_usec_t us);

/* The request did not arrive in time (or the connection sat idle). */
static void deadline(lws_sorted_usec_list_t *sul)
{
    pss *s = lws_container_of(sul, pss, sul);
    if (s->phase == P_HEAD && !s->started) {
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    if (s->have_response || s->in_flight || (s->phase != P_HEAD && s->phase != P_BODY))
        return;
    discard_job(s);
    error_response(s, 408, "request_timeout", "the request did not arrive in time", NULL, -1);
    s->close_after = 1;
    s->phase = P_WAIT;
}

static void arm(pss *s, lws_usec_t us)
{
    lws_sul_schedule(lws_get_context(s->wsi), 0, &s->sul, deadline, us);
}

/* The current request's head. */
static const char *head_buf(const pss *s)
{
    return s->ib + s->ioff;
}

/* A request body on a route that takes one: checks its framing and type,
 * then starts the parser.  Returns 1 if the body is to be read. */
static int start_body(pss *s)
{
    job *j = s->job;
    const rt_schema *schema = toy_routes[j->route].schema;
    const rt_http_head *h = &s->head;
    const char *b = head_buf(s);
    if (h->transfer_encoding) {
        error_response(s, 411, "length_required",
                       "send the body with a Content-Length, not a Transfer-Encoding", NULL, -1);
        return 0;
    }
    if (h->content_length < 0) {
        error_response(s, 411, "length_required", "a body needs a Content-Length header", NULL, -1);
        return 0;
    }
    size_t ctn = h->content_type.len;
    const char *ct = b + h->content_type.off;
    for (size_t i = 0; i < ctn; i++)
        if (ct[i] == ';') {
            ctn = i;
            break;
        }
    while (ctn && (ct[ctn - 1] == ' ' || ct[ctn - 1] == '\t'))
        ctn--;
    if (ctn != 16 || strncasecmp(ct, "application/json", 16)) {
        error_response(s, 415, "unsupported_media_type", "the body must be application/json", NULL, -1);
        return 0;
    }
    if ((uint64_t)h->content_length > schema->max_body) {
        char msg[96];
        snprintf(msg, sizeof msg, "the body is larger than %u bytes", schema->max_body);
        error_response(s, 413, "body_too_large", msg, NULL, (long long)schema->max_body);
        return 0;
    }
    if (route_needs_salt(j->route) && rt_rand(j->salt, sizeof j->salt)) {
        error_response(s, 500, "internal_error", "no randomness", NULL, -1);
        return 0;
    }
    s->ctx = (rt_parse_ctx){ g_app.k.pseudonym, 32, j->salt, 32 };
    rt_parse_init(&s->parser, schema, j->req, &s->ctx);
    s->parsing = 1;
    if (h->content_length == 0) {
        rt_parse_finish(&s->parser);
        parse_error(s);
        discard_job(s);
        return 0;
    }
    s->body_left = (uint64_t)h->content_length;
    return 1;
}

/* Takes the answer of a job that has one. */
static void take_answer(pss *s, job *j)
{
    s->retry_after = j->retry_after;
    s->content_type = j->content_type;
    s->from_replica = j->from_replica;
    s->lag_ms = j->lag_ms;
    s->lag_bytes = j->lag_bytes;
    free(s->headers);
    s->headers = j->headers;
    s->upgrade = j->upgrade;
    j->headers = NULL;
    j->upgrade = NULL;
    set_response(s, j->status, j->body, j->body_len);
    j->body = NULL;
    job_free(j);
}

/* Hands the request's job to its handler; answers at once if the handler
 * ran here. */
static void dispatch(pss *s)
{
    job *j = s->job;
    j->conn = s;
    s->in_flight = 1;
    if (toy_routes[j->route].thread == TOY_T_SERVICE) {
        j->http = &s->head;
        j->http_buf = head_buf(s);
    }
    if (route_dispatch(j)) {
        s->job = NULL;
        s->in_flight = 0;
        take_answer(s, j);
    }
}

/* A write with an Idempotency-Key: keeps the key, and starts the request's
 * fingerprint, HMAC-SHA256 with a TEE-derived key of the route's name, the
 * path, the query and (as it arrives) the body, each NUL-separated. */
static void idem_begin(pss *s)
{
    const rt_http_head *h = &s->head;
    const char *b = head_buf(s);
    job *j = s->job;
    memcpy(j->idem_key, b + h->idempotency_key.off, h->idempotency_key.len);
    j->idem_key[h->idempotency_key.len] = 0;
    const char *name = toy_routes[j->route].name;
    hmac_sha256_set_key(&s->idem_mac, sizeof g_app.k.idem_mac, g_app.k.idem_mac);
    hmac_sha256_update(&s->idem_mac, strlen(name) + 1, (const uint8_t *)name);
    hmac_sha256_update(&s->idem_mac, h->path.len, (const uint8_t *)b + h->path.off);
    hmac_sha256_update(&s->idem_mac, 1, (const uint8_t *)"");
    hmac_sha256_update(&s->idem_mac, h->query.len, (const uint8_t *)b + h->query.off);
    hmac_sha256_update(&s->idem_mac, 1, (const uint8_t *)"");
    s->idem = 1;
}

/* A complete head: route it.  Returns 1 if a body is to be read. */
static int on_request(pss *s)
{
    const rt_http_head *h = &s->head;
    s->keep_alive = h->minor >= 1 ? !h->conn_close : h->conn_keep_alive;
    route_result r;
    route_open(s->port, h, s->ib + s->ioff, &r);
    snprintf(s->allow, sizeof s->allow, "%s", r.allow);
    if (!r.job) {
        set_response(s, r.status, r.body, r.body_len);
    } else if (toy_routes[r.job->route].schema) {
        s->job = r.job;
        if (h->idempotency_key.len && toy_routes[r.job->route].thread == TOY_T_WRITER)
            idem_begin(s);
        if (start_body(s))
            return 1;
        discard_job(s);
        s->close_after = 1;   /* the body, if any, is not read */
        return 0;
    } else {
        s->job = r.job;
        dispatch(s);
    }
    /* A body nobody reads leaves the connection's framing unknown. */
    if (h->content_length > 0 || h->transfer_encoding)
        s->close_after = 1;
    return 0;
}

static void on_body_done(pss *s)
{
    if (!s->job || s->have_response)
        return;
    if (rt_parse_finish(&s->parser)) {
        parse_error(s);
        discard_job(s);
        return;
    }
    s->parsing = 0;
    if (s->idem) {
        hmac_sha256_digest(&s->idem_mac, sizeof s->job->idem_fp, s->job->idem_fp);
        rt_wipe(&s->idem_mac, sizeof s->idem_mac);   /* it absorbed the body */
        s->idem = 0;
    }
    dispatch(s);
}

/* Jobs the workers finished: attach each to its connection, if still open. */
static void collect_done(void)
{
    for (job *j = queue_drain(&g_app.done_q), *next; j; j = next) {
        next = j->next;
        pss *s = j->conn;
        if (!s) {
            job_free(j);
            continue;
        }
        s->job = NULL;
        s->in_flight = 0;
        take_answer(s, j);
    }
}

/* ---- the connection ------------------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "toyapp: out of memory\n");
        abort();
    }
    return q;
}

/* Appends received bytes to the input buffer.  The buffer may hold body
 * bytes (user data): it is never given back to the allocator unwiped. */
static void stash(pss *s, const char *in, size_t len)
{
    if (s->ioff && s->ioff == s->ilen)
        s->ioff = s->ilen = 0;
    if (s->ilen + len > s->icap && s->ioff) {
        size_t keep = s->ilen - s->ioff;
        memmove(s->ib, s->ib + s->ioff, keep);
        rt_wipe(s->ib + keep, s->ilen - keep);
        s->ilen = keep;
        s->ioff = 0;
    }
    if (s->ilen + len > s->icap) {
        size_t cap = s->icap ? s->icap : 2048;
        while (cap < s->ilen + len)
            cap *= 2;
        char *nb = xrealloc(NULL, cap);
        if (s->ib) {
            memcpy(nb, s->ib, s->ilen);
            rt_wipe(s->ib, s->icap);
            free(s->ib);
        }
        s->ib = nb;
        s->icap = cap;
    }
    memcpy(s->ib + s->ilen, in, len);
    s->ilen += len;
}

/* Drops the unread input (the connection is closing) and wipes it. */
static void drop_input(pss *s)
{
    if (s->ib)
        rt_wipe(s->ib, s->ilen);
    s->ioff = s->ilen = 0;
}

/* The request has begun and is not all here: it has body_timeout_ms to
 * arrive, head and body together. */
static void start_deadline(pss *s)
{
    if (!s->started) {
        s->started = 1;
        arm(s, (lws_usec_t)g_app.cfg.body_timeout_ms * 1000);
    }
}

/* Feeds up to avail bytes of body to the parser; returns how many it took. */
static size_t feed_body(pss *s, const char *p, size_t avail)
{
    size_t n = avail < s->body_left ? avail : (size_t)s->body_left;
    if (s->idem)
        hmac_sha256_update(&s->idem_mac, n, (const uint8_t *)p);
    if (rt_parse_feed(&s->parser, (const uint8_t *)p, n)) {
        parse_error(s);
        discard_job(s);
        s->phase = P_WAIT;
        return n;
    }
    s->body_left -= n;
    if (!s->body_left) {
        s->phase = P_WAIT;
        on_body_done(s);
    } else {
        start_deadline(s);
    }
    return n;
}

/* Consumes what it can of the input buffer: heads, then bodies.
 *
 * Fairness: this takes at most one request of the connection, and stops at
 * P_WAIT until its answer is written; the next pipelined request is taken
 * only from the WRITEABLE callback that wrote that answer, that is on the
 * connection's next turn of the event loop, after every other connection
 * ready in the same poll has had its own.  A read hands over at most one
 * lws buffer of bytes.  So one connection's flood, however deep its
 * pipeline, costs the others at most one request's work per turn
 * (bench/bench_fairness.sh measures it). */
static void process(pss *s)
{
    while (s->ioff < s->ilen) {
        size_t avail = s->ilen - s->ioff;
        if (s->phase == P_HEAD) {
            int rc = rt_http_feed(&s->head, s->ib + s->ioff, avail);
            if (rc == RT_HTTP_MORE) {
                start_deadline(s);
                break;
            }
            s->phase = P_WAIT;
            if (rc == RT_HTTP_ERROR) {
                error_response(s, s->head.status, s->head.code, s->head.message, NULL,
                               (long long)s->head.err_off);
                s->close_after = 1;
                break;
            }
            if (on_request(s)) {
                s->phase = P_BODY;
                /* "Expect: 100-continue" waits for a go-ahead before the body. */
                if (s->head.expect_continue && s->ioff + s->head.end == s->ilen) {
                    static const char go[] = "HTTP/1.1 100 Continue\r\n\r\n";
                    unsigned char buf[LWS_PRE + sizeof go];
                    memcpy(buf + LWS_PRE, go, sizeof go - 1);
                    lws_write(s->wsi, buf + LWS_PRE, sizeof go - 1, LWS_WRITE_RAW);
                }
            }
            s->ioff += s->head.end;
        } else if (s->phase == P_BODY) {
            size_t n = feed_body(s, s->ib + s->ioff, avail);
            rt_wipe(s->ib + s->ioff, n);
            s->ioff += n;
        } else {
            break;
        }
    }
    if (s->phase == P_WAIT || s->phase == P_LINGER)
        lws_sul_cancel(&s->sul);
    if (s->close_after)
        drop_input(s);   /* nothing more is read on this connection */
    if (!s->paused && s->phase == P_WAIT && s->ilen - s->ioff >= STASH_MAX) {
        s->paused = 1;
        lws_rx_flow_control(s->wsi, 0);
    }
}

/* Ready for the next request on this connection. */
static void next_request(pss *s)
{
    s->phase = P_HEAD;
    s->started = 0;
    s->body_left = 0;
    rt_http_init(&s->head, HEAD_MAX);
    arm(s, (lws_usec_t)g_app.cfg.idle_timeout_ms * 1000);
    if (s->paused) {
        s->paused = 0;
        lws_rx_flow_control(s->wsi, 1);
    }
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* The Date field, formatted once a second. */
static const char *http_date(void)
{
    static char buf[40];
    static time_t at;
    time_t now = time(NULL);
    if (now != at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        at = now;
    }
    return buf;
}

/* Writes the 101 that ends a WebSocket handshake, and hands the connection
 * (with what the client sent after its handshake) to its session. */
static int write_upgrade(pss *s)
{
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE;
    int n = snprintf((char *)start, 512, "HTTP/1.1 101 Switching Protocols\r\n%s\r\n", s->headers ? s->headers : "");
    free(s->headers);
    s->headers = NULL;
    free(s->body);
    s->body = NULL;
    s->have_response = 0;
    if (n < 0 || n >= 512 || lws_write(s->wsi, start, (size_t)n, LWS_WRITE_RAW) < n)
        return -1;
    lws_sul_cancel(&s->sul);
    if (s->paused) {
        s->paused = 0;
        lws_rx_flow_control(s->wsi, 1);
    }
    s->phase = P_WS;
    s->ws = s->upgrade;
    s->upgrade = NULL;
    size_t left = s->ilen - s->ioff;
    int rc = ws_attach(s->ws, s->wsi, (uint8_t *)s->ib + s->ioff, left);
    drop_input(s);
    return rc;
}

static int write_response(pss *s)
{
    if (s->status == 101 && s->upgrade)
        return write_upgrade(s);
    if (!s->keep_alive)
        s->close_after = 1;
    /* Room for the head: the fixed fields, and the handler's own. */
    size_t room = 512 + (s->headers ? strlen(s->headers) : 0);
    size_t cap = LWS_PRE + room + s->body_len;
    unsigned char *buf = xrealloc(NULL, cap), *start = buf + LWS_PRE;
    int n = snprintf((char *)start, room,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nDate: %s\r\n",
                     s->status, reason_phrase(s->status),
                     s->content_type ? s->content_type : "application/json", s->body_len, http_date());
    if (s->retry_after)
        n += snprintf((char *)start + n, room - (size_t)n, "Retry-After: %d\r\n", s->retry_after);
    if (s->from_replica)
        n += snprintf((char *)start + n, room - (size_t)n,
                      "Data-Source: replica\r\nReplica-Lag-Ms: %lld\r\nReplica-Lag-Bytes: %lld\r\n",
                      s->lag_ms, s->lag_bytes);
    if (s->status == 405)
        n += snprintf((char *)start + n, room - (size_t)n, "Allow: %s\r\n", s->allow);
    if (s->headers)
        n += snprintf((char *)start + n, room - (size_t)n, "%s", s->headers);
    if (s->close_after)
        n += snprintf((char *)start + n, room - (size_t)n, "Connection: close\r\n");
    else if (s->head.minor == 0)
        n += snprintf((char *)start + n, room - (size_t)n, "Connection: keep-alive\r\n");
    n += snprintf((char *)start + n, room - (size_t)n, "\r\n");
    memcpy(start + n, s->body, s->body_len);
    size_t total = (size_t)n + s->body_len;
    int rc = lws_write(s->wsi, start, total, LWS_WRITE_RAW) < (int)total ? -1 : 0;
    free(buf);
    free(s->body);
    s->body = NULL;
    free(s->headers);
    s->headers = NULL;
    s->have_response = 0;
    s->status = s->retry_after = s->from_replica = 0;
    s->content_type = NULL;
    if (rc)
        return -1;
    if (s->close_after) {
        /* Our side ends once lws has sent everything (see WRITEABLE). */
        s->phase = P_LINGER;
        lws_sul_cancel(&s->sul);
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LINGER_S);
        if (lws_partial_buffered(s->wsi))
            lws_callback_on_writable(s->wsi);
        else
            shutdown(lws_get_socket_fd(s->wsi), SHUT_WR);
        return 0;
    }
    next_request(s);
    process(s);
    return 0;
}

int toy_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len)
{
    pss *s = user;
    if (s && s->phase == P_WS) {
        if (reason == LWS_CALLBACK_RAW_RX)
            return ws_rx(s->ws, in, len);
        if (reason == LWS_CALLBACK_RAW_WRITEABLE)
            return ws_writable(s->ws);
        if (reason == LWS_CALLBACK_RAW_CLOSE) {
            ws_closed(s->ws);
            s->ws = NULL;
            s->phase = P_LINGER;
        }
    }
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        s->wsi = wsi;
        s->port = lws_get_vhost_user(lws_get_vhost(wsi)) ? TOY_PORT_METADATA : TOY_PORT_API;
        next_request(s);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        if (s->phase == P_LINGER || s->close_after)
            return 0;
        /* Body bytes with nothing queued before them go straight to the
         * parser, without a copy. */
        if (s->phase == P_BODY && s->ioff == s->ilen) {
            size_t n = feed_body(s, in, len);
            in = (char *)in + n;
            len -= n;
        }
        if (len)
            stash(s, in, len);
        process(s);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (s->phase == P_LINGER) {
            if (lws_partial_buffered(wsi))
                lws_callback_on_writable(wsi);
            else
                shutdown(lws_get_socket_fd(wsi), SHUT_WR);
            return 0;
        }
        if (!s->have_response)
            return 0;
        return write_response(s);
    case LWS_CALLBACK_RAW_CLOSE:
        lws_sul_cancel(&s->sul);
        discard_job(s);
        if (s->upgrade)
            ws_closed(s->upgrade);   /* its 101 was never written */
        s->upgrade = NULL;
        free(s->headers);
        s->headers = NULL;
        free(s->body);
        s->body = NULL;
        s->have_response = 0;
        if (s->ib)
            rt_wipe(s->ib, s->icap);
        free(s->ib);
        s->ib = NULL;
        s->ilen = s->ioff = s->icap = 0;
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        collect_done();
        ws_service();
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

size_t toy_conn_pss_size(void)
{
    return sizeof(pss);
}

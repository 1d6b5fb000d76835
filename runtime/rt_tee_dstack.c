/*
 * rt_tee_dstack.c - the "dstack" TEE provider: a client of the dstack guest
 * agent, which serves JSON over HTTP/1.1 on a Unix socket
 * (/var/run/dstack.sock) inside a dstack confidential VM.
 *
 * Protocol, as followed here (Dstack-TEE/dstack):
 *   sdk/python/src/dstack_sdk/dstack_client.py, DstackClient._send_rpc_request
 *     and get_key / get_quote / info: every call is "POST /<Method>" with
 *     Content-Type: application/json and a JSON object body;
 *   guest-agent/rpc/proto/agent_rpc.proto (service DstackGuest): the field
 *     names; protobuf `bytes` fields travel as lowercase hex strings;
 *   guest-agent/src/rpc_service.rs: GetKey's key is the 32-byte secp256k1
 *     private key derived from the app key and `path` (`purpose` only goes
 *     into the signature chain); GetQuote pads report_data to 64 bytes.
 *
 *   POST /GetKey   {"path": "...", "purpose": "..."}
 *                  -> {"key": hex(32 bytes), "signature_chain": [hex, ...]}
 *   POST /GetQuote {"report_data": hex(<= 64 bytes)}
 *                  -> {"quote": hex, "event_log": "<JSON text>",
 *                      "report_data": hex(64 bytes), "vm_config": "..."}
 *   POST /Info     {}
 *                  -> {"app_id": hex, "instance_id": hex, "compose_hash": hex,
 *                      "app_cert", "tcb_info" (JSON text), "app_name",
 *                      "device_id", "os_image_hash", "key_provider_info", ...}
 *   Errors: a non-200 status, usually with a body {"error": "..."}.
 *
 * The HTTP client is deliberately minimal: one request per connection
 * (Connection: close), a response framed by Content-Length, chunked
 * transfer-encoding or end of stream, and one deadline for the whole
 * exchange so that a hung or trickling agent cannot hang the service.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define RT_TEE_PROVIDER
#include "rt_hex.h"
#include "rt_tee.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

/* Purpose sent with GetKey.  It does not change the derived key, only the
 * message the agent signs into the key's signature chain. */
#define DSTACK_PURPOSE "toyapp"
/* Bounds on what the agent may send: a quote is ~5 KB and the event log
 * tens of KB, Info with its tcb_info somewhat more; anything near these
 * limits is not a healthy agent. */
#define MAX_HEADER_BYTES (64 * 1024)
#define MAX_RESPONSE_BYTES (16 * 1024 * 1024)
#define MAX_CHUNK_LINE 1024

typedef struct dstack {
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
} dstack;

/* ---- growable buffer ---------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int buf_reserve(buf *b, size_t extra)
{
    if (b->n + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_add(buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

/* ---- connection with a deadline ---------------------------------------- */

typedef struct conn {
    rt_tee *t;
    const char *method; /* for messages: "GetQuote" */
    int fd;
    struct timespec deadline;
} conn;

static long ms_left(const conn *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (c->deadline.tv_sec - now.tv_sec) * 1000L + (c->deadline.tv_nsec - now.tv_nsec) / 1000000L;
}

static int conn_open(conn *c, const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1); /* length checked at init */

    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return rt_tee_fail(c->t, "dstack %s: socket: %s", c->method, strerror(errno));
    /* Per-call socket timeouts back up the overall deadline; SO_SNDTIMEO also
     * bounds connect() on a Unix socket whose listen backlog is full. */
    struct timeval tv = {.tv_sec = c->t->timeout_ms / 1000,
                         .tv_usec = (c->t->timeout_ms % 1000) * 1000};
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return rt_tee_fail(c->t, "dstack %s: setsockopt: %s", c->method, strerror(errno));
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return rt_tee_fail(c->t, "dstack %s: cannot connect to %s: %s", c->method, path,
                           errno == EAGAIN ? "timed out" : strerror(errno));
    return 0;
}

static int conn_send(conn *c, const char *p, size_t n)
{
    while (n) {
        if (ms_left(c) <= 0)
            return rt_tee_fail(c->t, "dstack %s: timed out sending the request", c->method);
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return rt_tee_fail(c->t, "dstack %s: send: %s", c->method,
                               errno == EAGAIN ? "timed out" : strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Appends what arrives next to b.  Returns the byte count, 0 at end of
 * stream, -1 on error or when the deadline passes. */
static ssize_t conn_recv(conn *c, buf *b)
{
    if (b->n >= MAX_RESPONSE_BYTES)
        return rt_tee_fail(c->t, "dstack %s: response larger than %d bytes", c->method,
                           MAX_RESPONSE_BYTES);
    if (buf_reserve(b, 65536) != 0)
        return rt_tee_fail(c->t, "dstack %s: out of memory", c->method);
    for (;;) {
        long left = ms_left(c);
        if (left <= 0)
            return rt_tee_fail(c->t, "dstack %s: no complete response within %d ms", c->method,
                               c->t->timeout_ms);
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return rt_tee_fail(c->t, "dstack %s: poll: %s", c->method, strerror(errno));
        if (pr == 0)
            continue; /* the deadline check above reports it */
        ssize_t r = recv(c->fd, b->p + b->n, 65536, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return rt_tee_fail(c->t, "dstack %s: recv: %s", c->method,
                               errno == EAGAIN ? "timed out" : strerror(errno));
        b->n += (size_t)r;
        b->p[b->n] = 0;
        return r;
    }
}

/* ---- HTTP response framing ---------------------------------------------- */

static const char *find_crlf(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n')
            return p + i;
    return NULL;
}

static int strieq_n(const char *a, size_t na, const char *b)
{
    return na == strlen(b) && strncasecmp(a, b, na) == 0;
}

typedef struct head {
    int status;
    int chunked;
    int has_length;
    size_t length;
} head;

/* Parses the status line and headers in p[0..n) (without the final empty
 * line).  Only Content-Length and Transfer-Encoding matter here. */
static int parse_head(conn *c, const char *p, size_t n, head *h)
{
    memset(h, 0, sizeof *h);
    const char *end = p + n;
    const char *eol = find_crlf(p, n);
    if (!eol)
        eol = end;
    /* "HTTP/1.x SSS reason" */
    if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[7]) ||
        p[8] != ' ' || !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
        !isdigit((unsigned char)p[11]) || (eol - p > 12 && p[12] != ' '))
        return rt_tee_fail(c->t, "dstack %s: not an HTTP/1.x response", c->method);
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');

    for (const char *line = eol + 2; line < end; line = eol + 2) {
        eol = find_crlf(line, (size_t)(end - line));
        if (!eol)
            eol = end;
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line)
            return rt_tee_fail(c->t, "dstack %s: malformed HTTP header line", c->method);
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t nl = (size_t)(colon - line), vl = (size_t)(ve - v);
        if (strieq_n(line, nl, "Content-Length")) {
            size_t len = 0;
            if (vl == 0)
                return rt_tee_fail(c->t, "dstack %s: empty Content-Length", c->method);
            for (size_t i = 0; i < vl; i++) {
                if (!isdigit((unsigned char)v[i]) || len > MAX_RESPONSE_BYTES)
                    return rt_tee_fail(c->t, "dstack %s: bad or huge Content-Length", c->method);
                len = len * 10 + (size_t)(v[i] - '0');
            }
            if (len > MAX_RESPONSE_BYTES)
                return rt_tee_fail(c->t, "dstack %s: Content-Length %zu too large", c->method,
                                   len);
            if (h->has_length && h->length != len)
                return rt_tee_fail(c->t, "dstack %s: conflicting Content-Length headers",
                                   c->method);
            h->has_length = 1;
            h->length = len;
        } else if (strieq_n(line, nl, "Transfer-Encoding")) {
            /* The only coding an agent uses is chunked; it must come last. */
            if (vl < 7 || strncasecmp(ve - 7, "chunked", 7) != 0 ||
                (vl > 7 && ve[-8] != ' ' && ve[-8] != ','))
                return rt_tee_fail(c->t, "dstack %s: unsupported Transfer-Encoding", c->method);
            h->chunked = 1;
        }
    }
    return 0;
}

/* Incremental decoder of a chunked body: consumes raw bytes from *pos as
 * they arrive and appends chunk data to out. */
enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };
typedef struct chunker {
    int state;
    size_t left; /* bytes of the current chunk still to copy */
} chunker;

/* Returns 1 when the body is complete, 0 if more input is needed, -1 on a
 * framing error. */
static int chunk_step(conn *c, chunker *k, const buf *raw, size_t *pos, buf *out)
{
    while (k->state != CH_DONE) {
        const char *p = raw->p + *pos;
        size_t avail = raw->n - *pos;
        if (k->state == CH_DATA) {
            size_t take = avail < k->left ? avail : k->left;
            if (take == 0)
                return 0;
            if (out->n + take > MAX_RESPONSE_BYTES || buf_add(out, p, take) != 0)
                return rt_tee_fail(c->t, "dstack %s: chunked body too large", c->method);
            *pos += take;
            k->left -= take;
            if (k->left == 0)
                k->state = CH_DATA_END;
            continue;
        }
        if (k->state == CH_DATA_END) {
            if (avail < 2)
                return 0;
            if (p[0] != '\r' || p[1] != '\n')
                return rt_tee_fail(c->t, "dstack %s: malformed chunk (no CRLF after data)",
                                   c->method);
            *pos += 2;
            k->state = CH_SIZE;
            continue;
        }
        /* CH_SIZE and CH_TRAILER work on whole lines. */
        const char *eol = find_crlf(p, avail);
        if (!eol) {
            if (avail > MAX_CHUNK_LINE)
                return rt_tee_fail(c->t, "dstack %s: malformed chunk (line too long)", c->method);
            return 0;
        }
        size_t ll = (size_t)(eol - p);
        *pos += ll + 2;
        if (k->state == CH_TRAILER) {
            if (ll == 0)
                k->state = CH_DONE; /* trailer fields, if any, are ignored */
            continue;
        }
        size_t size = 0, i = 0;
        for (; i < ll && isxdigit((unsigned char)p[i]); i++) {
            if (size > MAX_RESPONSE_BYTES)
                return rt_tee_fail(c->t, "dstack %s: chunk too large", c->method);
            size = size * 16 + (size_t)(isdigit((unsigned char)p[i]) ? p[i] - '0'
                                                                     : (tolower((unsigned char)p[i]) - 'a' + 10));
        }
        /* After the digits only whitespace or a ";extension" may follow. */
        size_t j = i;
        while (j < ll && (p[j] == ' ' || p[j] == '\t'))
            j++;
        if (i == 0 || (j < ll && p[j] != ';'))
            return rt_tee_fail(c->t, "dstack %s: malformed chunk size line", c->method);
        if (size == 0) {
            k->state = CH_TRAILER;
        } else {
            k->state = CH_DATA;
            k->left = size;
        }
    }
    return 1;
}

/* Reads one whole response.  On success *status is the HTTP status and body
 * holds the (de-chunked) body, NUL-terminated. */
static int read_response(conn *c, int *status, buf *body)
{
    buf raw = {0};
    size_t hdr_end = 0, scanned = 0;
    head h;
    int rc = -1;

    /* Status line and headers, skipping interim 1xx responses. */
    for (;;) {
        const char *sep = NULL;
        while (!sep) {
            size_t from = scanned > hdr_end + 3 ? scanned - 3 : hdr_end;
            sep = raw.n > hdr_end ? memmem(raw.p + from, raw.n - from, "\r\n\r\n", 4) : NULL;
            if (sep)
                break;
            scanned = raw.n;
            if (raw.n - hdr_end > MAX_HEADER_BYTES) {
                rt_tee_fail(c->t, "dstack %s: response headers too long", c->method);
                goto out;
            }
            ssize_t r = conn_recv(c, &raw);
            if (r < 0)
                goto out;
            if (r == 0) {
                rt_tee_fail(c->t, "dstack %s: %s", c->method,
                            raw.n == 0 ? "agent closed the connection without a response"
                                       : "response ended inside the HTTP headers");
                goto out;
            }
        }
        size_t start = hdr_end;
        hdr_end = (size_t)(sep - raw.p) + 4;
        scanned = hdr_end;
        if (parse_head(c, raw.p + start, hdr_end - 4 - start, &h) != 0)
            goto out;
        if (h.status >= 200 || h.status < 100)
            break;
    }

    size_t pos = hdr_end;
    if (h.chunked) {
        chunker k = {CH_SIZE, 0};
        for (;;) {
            int s = chunk_step(c, &k, &raw, &pos, body);
            if (s < 0)
                goto out;
            if (s == 1)
                break;
            ssize_t r = conn_recv(c, &raw);
            if (r < 0)
                goto out;
            if (r == 0) {
                rt_tee_fail(c->t, "dstack %s: truncated chunked response", c->method);
                goto out;
            }
        }
    } else if (h.has_length) {
        while (raw.n - hdr_end < h.length) {
            ssize_t r = conn_recv(c, &raw);
            if (r < 0)
                goto out;
            if (r == 0) {
                rt_tee_fail(c->t, "dstack %s: truncated response (%zu of %zu body bytes)",
                            c->method, raw.n - hdr_end, h.length);
                goto out;
            }
        }
        if (buf_add(body, raw.p + hdr_end, h.length) != 0) {
            rt_tee_fail(c->t, "dstack %s: out of memory", c->method);
            goto out;
        }
    } else {
        /* No framing: the body runs to the end of the stream. */
        for (;;) {
            ssize_t r = conn_recv(c, &raw);
            if (r < 0)
                goto out;
            if (r == 0)
                break;
        }
        if (buf_add(body, raw.p + hdr_end, raw.n - hdr_end) != 0) {
            rt_tee_fail(c->t, "dstack %s: out of memory", c->method);
            goto out;
        }
    }
    if (!body->p && buf_add(body, "", 0) != 0) {
        rt_tee_fail(c->t, "dstack %s: out of memory", c->method);
        goto out;
    }
    *status = h.status;
    rc = 0;
out:
    /* GetKey responses carry key material: leave none of it in freed memory. */
    if (raw.p)
        OPENSSL_cleanse(raw.p, raw.cap);
    free(raw.p);
    return rc;
}

/* ---- JSON helpers ------------------------------------------------------- */

static json_object *parse_json_object(conn *c, const char *p, size_t n)
{
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        rt_tee_fail(c->t, "dstack %s: out of memory", c->method);
        return NULL;
    }
    json_object *o = json_tokener_parse_ex(tok, p, (int)n);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o || e != json_tokener_success) {
        json_object_put(o);
        rt_tee_fail(c->t, "dstack %s: response is not valid JSON (%s)", c->method,
                    e == json_tokener_continue ? "incomplete" : json_tokener_error_desc(e));
        return NULL;
    }
    for (; end < n; end++)
        if (!isspace((unsigned char)p[end])) {
            json_object_put(o);
            rt_tee_fail(c->t, "dstack %s: trailing bytes after the JSON response", c->method);
            return NULL;
        }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        rt_tee_fail(c->t, "dstack %s: response is JSON but not an object", c->method);
        return NULL;
    }
    return o;
}

/* The string member `key` of o: *s and *n, or -1 with a message. */
static int get_str(conn *c, json_object *o, const char *key, const char **s, size_t *n)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return rt_tee_fail(c->t, "dstack %s: response has no \"%s\"", c->method, key);
    if (!json_object_is_type(v, json_type_string))
        return rt_tee_fail(c->t, "dstack %s: \"%s\" is not a string", c->method, key);
    *s = json_object_get_string(v);
    *n = (size_t)json_object_get_string_len(v);
    return 0;
}

/* Checks that s[0..n) is hex of an even length; returns the byte count or
 * -1 with a message. */
static long hex_check(conn *c, const char *key, const char *s, size_t n)
{
    if (n % 2)
        return rt_tee_fail(c->t, "dstack %s: \"%s\" has an odd number of hex digits", c->method,
                           key);
    for (size_t i = 0; i < n; i++)
        if (rt_hex_digit((unsigned char)s[i]) < 0)
            return rt_tee_fail(c->t, "dstack %s: \"%s\" is not hex", c->method, key);
    return (long)(n / 2);
}

/* ---- one RPC ------------------------------------------------------------ */

/* Sends POST /<method> with the JSON text req and returns the response
 * object (caller puts it), or NULL with t->err set. */
static json_object *dstack_call(rt_tee *t, const char *method, const char *req)
{
    dstack *d = t->impl;
    conn c = {.t = t, .method = method, .fd = -1};
    buf body = {0};
    char hdr[512];
    json_object *o = NULL;
    int status = 0;

    clock_gettime(CLOCK_MONOTONIC, &c.deadline);
    c.deadline.tv_sec += t->timeout_ms / 1000;
    c.deadline.tv_nsec += (long)(t->timeout_ms % 1000) * 1000000L;
    if (c.deadline.tv_nsec >= 1000000000L) {
        c.deadline.tv_sec++;
        c.deadline.tv_nsec -= 1000000000L;
    }

    size_t req_len = strlen(req);
    int hl = snprintf(hdr, sizeof hdr,
                      "POST /%s HTTP/1.1\r\n"
                      "Host: localhost\r\n"
                      "User-Agent: toyapp-rt-tee\r\n"
                      "Content-Type: application/json\r\n"
                      "Accept: application/json\r\n"
                      "Content-Length: %zu\r\n"
                      "Connection: close\r\n"
                      "\r\n",
                      method, req_len);
    if (conn_open(&c, d->sock) != 0 || conn_send(&c, hdr, (size_t)hl) != 0 ||
        conn_send(&c, req, req_len) != 0 || read_response(&c, &status, &body) != 0)
        goto out;

    if (status != 200) {
        /* Show the agent's own explanation: {"error": "..."} or the text. */
        char excerpt[160];
        const char *src = body.p;
        size_t n = body.n;
        json_tokener *tok = json_tokener_new();
        json_object *e = tok ? json_tokener_parse_ex(tok, body.p, (int)body.n) : NULL, *ev;
        json_tokener_free(tok);
        if (e && json_object_is_type(e, json_type_object) &&
            json_object_object_get_ex(e, "error", &ev) && json_object_is_type(ev, json_type_string)) {
            src = json_object_get_string(ev);
            n = strlen(src);
        }
        size_t k = 0;
        for (; k < n && k < sizeof excerpt - 1; k++)
            excerpt[k] = isprint((unsigned char)src[k]) ? src[k] : '.';
        excerpt[k] = 0;
        json_object_put(e);
        rt_tee_fail(t, "dstack %s: HTTP status %d%s%s", method, status, k ? ": " : "", excerpt);
        goto out;
    }
    o = parse_json_object(&c, body.p, body.n);
out:
    if (c.fd >= 0)
        close(c.fd);
    if (body.p)
        OPENSSL_cleanse(body.p, body.cap);
    free(body.p);
    return o;
}

/* ---- provider operations ------------------------------------------------ */

static int dstack_derive(rt_tee *t, const char *path, uint8_t out[32])
{
    conn c = {.t = t, .method = "GetKey"};
    json_object *req = json_object_new_object(), *resp = NULL, *chain;
    const char *key;
    size_t n;
    int rc = -1;

    if (!req || json_object_object_add(req, "path", json_object_new_string(path)) != 0 ||
        json_object_object_add(req, "purpose", json_object_new_string(DSTACK_PURPOSE)) != 0) {
        rt_tee_fail(t, "dstack GetKey: out of memory");
        goto out;
    }
    resp = dstack_call(t, "GetKey",
                       json_object_to_json_string_ext(
                           req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    if (!resp || get_str(&c, resp, "key", &key, &n) != 0)
        goto out;
    long nb = hex_check(&c, "key", key, n);
    if (nb < 0)
        goto out;
    if (nb != 32) {
        rt_tee_fail(t, "dstack GetKey: \"key\" is %ld bytes, expected 32", nb);
        goto out;
    }
    if (json_object_object_get_ex(resp, "signature_chain", &chain) &&
        !json_object_is_type(chain, json_type_array)) {
        rt_tee_fail(t, "dstack GetKey: \"signature_chain\" is not an array");
        goto out;
    }
    rt_hex_decode(key, 64, out, 32);   /* hex_check has vetted it */
    rc = 0;
out:
    /* json-c keeps the key's hex in the response object: wipe it. */
    if (resp && json_object_object_get_ex(resp, "key", &chain) &&
        json_object_is_type(chain, json_type_string))
        OPENSSL_cleanse((void *)json_object_get_string(chain),
                        (size_t)json_object_get_string_len(chain));
    json_object_put(resp);
    json_object_put(req);
    return rc;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int dstack_quote(rt_tee *t, const uint8_t report_data[64], uint8_t **quote, size_t *quote_len,
                        char **event_log)
{
    conn c = {.t = t, .method = "GetQuote"};
    char rd_hex[129], req[160];
    const char *qhex, *log, *rd;
    size_t qn, logn, rdn;
    uint8_t *q = NULL;
    char *log_copy = NULL;
    int rc = -1;

    rt_hex_encode(report_data, 64, rd_hex);
    snprintf(req, sizeof req, "{\"report_data\":\"%s\"}", rd_hex);
    json_object *resp = dstack_call(t, "GetQuote", req);
    if (!resp || get_str(&c, resp, "quote", &qhex, &qn) != 0 ||
        get_str(&c, resp, "event_log", &log, &logn) != 0)
        goto out;
    long nb = hex_check(&c, "quote", qhex, qn);
    if (nb < 0)
        goto out;
    if (nb < RT_TEE_QUOTE_SIGNED_LEN) {
        rt_tee_fail(t, "dstack GetQuote: quote is %ld bytes, too short for a TDX quote", nb);
        goto out;
    }
    if (memchr(log, 0, logn)) {
        rt_tee_fail(t, "dstack GetQuote: \"event_log\" contains a NUL character");
        goto out;
    }
    /* The agent echoes the padded report_data; a mismatch means the reply
     * is not for this request. */
    json_object *v;
    if (json_object_object_get_ex(resp, "report_data", &v)) {
        if (get_str(&c, resp, "report_data", &rd, &rdn) != 0)
            goto out;
        long rb = hex_check(&c, "report_data", rd, rdn);
        if (rb < 0)
            goto out;
        uint8_t echo[64];
        if (rb != 64) {
            rt_tee_fail(t, "dstack GetQuote: \"report_data\" is %ld bytes, expected 64", rb);
            goto out;
        }
        rt_hex_decode(rd, 128, echo, 64);
        if (memcmp(echo, report_data, 64) != 0) {
            rt_tee_fail(t, "dstack GetQuote: the agent's report_data differs from the request");
            goto out;
        }
    }
    q = malloc((size_t)nb);
    log_copy = event_log ? malloc(logn + 1) : NULL;
    if (!q || (event_log && !log_copy)) {
        rt_tee_fail(t, "dstack GetQuote: out of memory");
        goto out;
    }
    rt_hex_decode(qhex, 2 * (size_t)nb, q, (size_t)nb);
    /* report_data sits at byte 520 of the TD report body, which starts at 48
     * in a v4 quote and at 54 in a v5 one (after a 6-byte body descriptor). */
    uint16_t ver = le16(q);
    size_t off = ver == 4 ? RT_TEE_QUOTE_REPORT_DATA_OFF : ver == 5 ? RT_TEE_QUOTE_REPORT_DATA_OFF + 6 : 0;
    if (off == 0) {
        rt_tee_fail(t, "dstack GetQuote: quote version %u, expected 4 or 5", ver);
        goto out;
    }
    if ((size_t)nb < off + 64 || memcmp(q + off, report_data, 64) != 0) {
        rt_tee_fail(t, "dstack GetQuote: the quote does not carry the requested report_data");
        goto out;
    }
    if (event_log) {
        memcpy(log_copy, log, logn);
        log_copy[logn] = 0;
        *event_log = log_copy;
        log_copy = NULL;
    }
    *quote = q;
    *quote_len = (size_t)nb;
    q = NULL;
    rc = 0;
out:
    free(q);
    free(log_copy);
    json_object_put(resp);
    return rc;
}

/* Copies a hex member of o, lowercased, into out (cap bytes with the NUL).
 * exact_bytes > 0 demands that many bytes; allow_empty admits "". */
static int get_hex_field(conn *c, json_object *o, const char *key, char *out, size_t cap,
                         long exact_bytes, int allow_empty)
{
    const char *s;
    size_t n;
    if (get_str(c, o, key, &s, &n) != 0)
        return -1;
    long nb = hex_check(c, key, s, n);
    if (nb < 0)
        return -1;
    if (nb == 0 && !allow_empty)
        return rt_tee_fail(c->t, "dstack %s: \"%s\" is empty", c->method, key);
    if (exact_bytes > 0 && nb != exact_bytes)
        return rt_tee_fail(c->t, "dstack %s: \"%s\" is %ld bytes, expected %ld", c->method, key,
                           nb, exact_bytes);
    if (n + 1 > cap)
        return rt_tee_fail(c->t, "dstack %s: \"%s\" is too long (%zu hex digits)", c->method, key,
                           n);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = 0;
    return 0;
}

static int dstack_info(rt_tee *t, rt_tee_info_t *info)
{
    conn c = {.t = t, .method = "Info"};
    json_object *resp = dstack_call(t, "Info", "{}");
    int rc = -1;
    if (resp &&
        get_hex_field(&c, resp, "app_id", info->app_id, sizeof info->app_id, 0, 0) == 0 &&
        get_hex_field(&c, resp, "instance_id", info->instance_id, sizeof info->instance_id, 0, 1) ==
            0 &&
        get_hex_field(&c, resp, "compose_hash", info->compose_hash, sizeof info->compose_hash, 32,
                      0) == 0)
        rc = 0;
    json_object_put(resp);
    return rc;
}

static void dstack_close(rt_tee *t)
{
    free(t->impl);
    t->impl = NULL;
}

static const rt_tee_ops dstack_ops = {
    .kind = "dstack",
    .derive = dstack_derive,
    .quote = dstack_quote,
    .info = dstack_info,
    .close = dstack_close,
};

int rt_tee_dstack_init(rt_tee *t, const char *socket_path)
{
    dstack *d;
    struct stat st;
    if (!*socket_path || strlen(socket_path) >= sizeof d->sock)
        return rt_tee_fail(t, "dstack: socket path empty or longer than %zu bytes",
                           sizeof d->sock - 1);
    /* Fail at startup, not at the first request, if there is no agent. */
    if (stat(socket_path, &st) != 0)
        return rt_tee_fail(t, "dstack: agent socket %s: %s", socket_path, strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return rt_tee_fail(t, "dstack: %s is not a socket", socket_path);
    d = calloc(1, sizeof *d);
    if (!d)
        return rt_tee_fail(t, "dstack: out of memory");
    memcpy(d->sock, socket_path, strlen(socket_path) + 1);
    t->impl = d;
    t->ops = &dstack_ops;
    return 0;
}

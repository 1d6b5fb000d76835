/*
 * rt_http.rl — the grammar of HTTP/1.1 request heads (see rt_http.h).
 *
 * rt_http.c is generated from this file, from the repository root:
 *     ragel -G2 -L -o runtime/rt_http.c runtime/rt_http.rl
 *
 * Spans are offsets into the caller's buffer, so the machine may stop at the
 * end of any chunk and resume on the next call.  The fields the server acts
 * on are interpreted (field()) when their line ends; every other field is
 * checked against the grammar and skipped.
 */
#include "rt_http.h"
#include "rt_hex.h"

#include <string.h>
#include <strings.h>

static int fail(rt_http_head *h, int status, const char *code, const char *message,
                uint32_t off)
{
    h->status = status;
    h->code = code;
    h->message = message;
    h->err_off = off;
    return RT_HTTP_ERROR;
}

static int name_is(const rt_http_head *h, const char *b, const char *name)
{
    size_t n = strlen(name);
    return h->name_len == n && !strncasecmp(b + h->name_off, name, n);
}

/* Does the comma-separated list v[0..n) hold token tok (any case)? */
static int list_has(const char *v, size_t n, const char *tok)
{
    size_t t = strlen(tok), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == t && !strncasecmp(v + s, tok, t))
            return 1;
    }
    return 0;
}

/* A field that may appear once: its value's span, or an error. */
static int once(rt_http_head *h, rt_http_span *s, const char *twice)
{
    if (s->off)
        return fail(h, 400, "bad_header", twice, h->name_off);
    uint32_t vn = h->val_end > h->val_off ? h->val_end - h->val_off : 0;
    /* An empty value is still present: its span starts after the colon. */
    *s = (rt_http_span){ vn ? h->val_off : h->name_off + h->name_len + 1, vn };
    return RT_HTTP_MORE;
}

/* A field line has ended: act on it if it is one of ours. */
static int field(rt_http_head *h, const char *b)
{
    const char *v = b + h->val_off;
    uint32_t vn = h->val_end > h->val_off ? h->val_end - h->val_off : 0;
    if (name_is(h, b, "content-length")) {
        int64_t x = 0;
        if (vn == 0 || vn > 18)
            return fail(h, 400, "bad_content_length", "Content-Length is not a number", h->name_off);
        for (uint32_t i = 0; i < vn; i++) {
            if (v[i] < '0' || v[i] > '9')
                return fail(h, 400, "bad_content_length", "Content-Length is not a number", h->name_off);
            x = x * 10 + (v[i] - '0');
        }
        if (h->content_length >= 0 && h->content_length != x)
            return fail(h, 400, "bad_content_length", "two Content-Length fields disagree", h->name_off);
        h->content_length = x;
    } else if (name_is(h, b, "transfer-encoding")) {
        h->transfer_encoding = 1;
    } else if (name_is(h, b, "connection")) {
        h->conn_close |= list_has(v, vn, "close");
        h->conn_keep_alive |= list_has(v, vn, "keep-alive");
        h->conn_upgrade |= list_has(v, vn, "upgrade");
    } else if (name_is(h, b, "content-type")) {
        if (h->content_type.len)
            return fail(h, 400, "bad_header", "more than one Content-Type field", h->name_off);
        h->content_type = (rt_http_span){ h->val_off, vn };
    } else if (name_is(h, b, "host")) {
        if (++h->hosts > 1)
            return fail(h, 400, "bad_header", "more than one Host field", h->name_off);
        h->host = (rt_http_span){ h->val_off, vn };
    } else if (name_is(h, b, "expect")) {
        h->expect_continue |= vn == 12 && !strncasecmp(v, "100-continue", 12);
    } else if (name_is(h, b, "upgrade")) {
        h->upgrade_websocket |= list_has(v, vn, "websocket");
    } else if (name_is(h, b, "origin")) {
        return once(h, &h->origin, "more than one Origin field");
    } else if (name_is(h, b, "sec-websocket-key")) {
        return once(h, &h->ws_key, "more than one Sec-WebSocket-Key field");
    } else if (name_is(h, b, "sec-websocket-version")) {
        return once(h, &h->ws_version, "more than one Sec-WebSocket-Version field");
    } else if (name_is(h, b, "idempotency-key")) {
        if (h->idempotency_key.len)
            return fail(h, 400, "bad_header", "more than one Idempotency-Key field", h->name_off);
        uint32_t o = h->val_off, k = vn;
        if (k >= 2 && v[0] == '"' && v[k - 1] == '"') {
            o++;
            k -= 2;
        }
        if (k < 1 || k > 255)
            return fail(h, 400, "bad_header", "an Idempotency-Key is 1 to 255 characters", h->name_off);
        for (uint32_t i = 0; i < k; i++) {
            char c = b[o + i];
            if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
                return fail(h, 400, "bad_header",
                            "an Idempotency-Key is visible ASCII, without '\"' or '\\' inside", o + i);
        }
        h->idempotency_key = (rt_http_span){ o, k };
    }
    return RT_HTTP_MORE;
}

/* The head is complete: the checks that need all of it. */
static int head_done(rt_http_head *h, const char *b)
{
    if (h->minor >= 1 && h->hosts == 0)
        return fail(h, 400, "bad_header", "an HTTP/1.1 request needs a Host field", h->end - 2);
    const char *t = b + h->target.off;
    const char *q = memchr(t, '?', h->target.len);
    uint32_t plen = q ? (uint32_t)(q - t) : h->target.len;
    h->path = (rt_http_span){ h->target.off, plen };
    h->query = q ? (rt_http_span){ h->target.off + plen + 1, h->target.len - plen - 1 }
                 : (rt_http_span){ h->target.off + h->target.len, 0 };
    return RT_HTTP_DONE;
}

%%{
    machine rt_http;
    alphtype unsigned char;
    access h->;

    action m_begin { h->method.off = (uint32_t)(p - ub); }
    action m_end   { h->method.len = (uint32_t)(p - ub) - h->method.off; }
    action t_begin { h->target.off = (uint32_t)(p - ub); }
    action t_end   { h->target.len = (uint32_t)(p - ub) - h->target.off; }
    action major {
        if (fc != '1') {
            rc = fail(h, 505, "http_version_not_supported", "only HTTP/1.x is served",
                      (uint32_t)(p - ub));
            fbreak;
        }
    }
    action minor   { h->minor = fc - '0'; }
    action line_done { h->in_fields = 1; }
    action n_begin { h->name_off = (uint32_t)(p - ub); h->val_off = h->val_end = 0; }
    action n_end   { h->name_len = (uint32_t)(p - ub) - h->name_off; }
    action v_begin { h->val_off = (uint32_t)(p - ub); }
    action v_char  { h->val_end = (uint32_t)(p - ub) + 1; }
    action field_done {
        if ((rc = field(h, b)) != RT_HTTP_MORE)
            fbreak;
    }
    action head_done {
        h->end = (uint32_t)(p - ub) + 1;
        rc = head_done(h, b);
        fbreak;
    }

    crlf = "\r\n";
    tchar = alnum | [!#$%&'*+\-.^_`|~];
    token = tchar+;
    vchar = 0x21..0x7e;
    field_vchar = vchar | 0x80..0xff;

    request_line = token >m_begin %m_end " "
                   ( "/" vchar* ) >t_begin %t_end " "
                   "HTTP/" digit @major "." digit @minor crlf @line_done;
    field_value = field_vchar >v_begin @v_char ( field_vchar @v_char | [ \t] )*;
    field_line = token >n_begin %n_end ":" [ \t]* field_value? crlf @field_done;

    main := crlf* request_line field_line* crlf @head_done;
}%%

%% write data nofinal noentry;

void rt_http_init(rt_http_head *h, uint32_t limit)
{
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    h->limit = limit;
    %% write init;
}

int rt_http_feed(rt_http_head *h, const char *b, size_t n)
{
    if (h->status)
        return RT_HTTP_ERROR;
    if (h->end)
        return RT_HTTP_DONE;
    const unsigned char *ub = (const unsigned char *)b;
    size_t stop = n < h->limit ? n : h->limit;
    const unsigned char *p = ub + h->pos, *pe = ub + stop;
    int rc = RT_HTTP_MORE;
    if (p < pe) {
        %% write exec;
    }
    h->pos = (uint32_t)(p - ub);
    if (rc != RT_HTTP_MORE)
        return rc;
    if (h->cs == rt_http_error)
        return h->in_fields
            ? fail(h, 400, "bad_header", "malformed header field", h->pos)
            : fail(h, 400, "bad_request_line", "malformed request line", h->pos);
    if (n >= h->limit)
        return fail(h, 431, "headers_too_large",
                    "the request line and headers are over the size limit", h->limit);
    return RT_HTTP_MORE;
}

int rt_http_query_arg(const rt_http_head *h, const char *buf, const char *name,
                      char *out, size_t cap)
{
    const char *q = buf + h->query.off, *end = q + h->query.len;
    size_t nl = strlen(name);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *e = amp ? amp : end;
        if ((size_t)(e - q) > nl && !memcmp(q, name, nl) && q[nl] == '=') {
            size_t o = 0;
            for (const char *s = q + nl + 1; s < e; s++) {
                int c = (unsigned char)*s;
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    int hi = s + 2 < e ? rt_hex_digit((unsigned char)s[1]) : -1,
                        lo = hi >= 0 ? rt_hex_digit((unsigned char)s[2]) : -1;
                    if (lo < 0)
                        return -2;
                    c = hi * 16 + lo;
                    s += 2;
                    if (!c)
                        return -2;
                }
                if (o + 1 >= cap)
                    return -2;
                out[o++] = (char)c;
            }
            out[o] = 0;
            return (int)o;
        }
        q = amp ? amp + 1 : end;
    }
    return -1;
}

/*
 * rt_http.h — HTTP/1.1 request heads (RFC 9112 §2–§5), streaming.
 *
 * A Ragel machine (rt_http.rl) reads the request line and the header
 * section of one request, byte by byte, as they arrive.  It needs the head
 * contiguous from its first byte: the caller keeps the bytes received so far
 * in one buffer and calls rt_http_feed with the buffer and its new length;
 * the machine resumes where it stopped.  Results are spans of that buffer.
 *
 * Accepted:
 *   *( CRLF ) method SP origin-form SP "HTTP/1." DIGIT CRLF
 *   *( field-name ":" OWS field-value OWS CRLF ) CRLF
 * method and field-name are RFC 9110 tokens; the target starts with "/" and
 * is visible ASCII; a field value is visible ASCII, obs-text, SP and HTAB.
 * Bare LF, obs-fold, whitespace before a colon, a NUL or any other control
 * byte is an error at that byte.
 *
 * Fields the server acts on are recognized (names case-insensitively):
 * Content-Length (digits only; repeats must agree), Transfer-Encoding
 * (present or not), Connection ("close" / "keep-alive" tokens), Content-Type,
 * Host (at most one; required in HTTP/1.1), Expect ("100-continue") and
 * Idempotency-Key (at most one: an sf-string, or a bare key, of 1 to 255
 * visible ASCII characters other than '"' and '\'; the span is the key
 * without its quotes); for a WebSocket handshake (RFC 6455 §4.2.1),
 * Upgrade ("websocket"), Connection ("upgrade"), and Origin,
 * Sec-WebSocket-Key and Sec-WebSocket-Version (each at most once).
 *
 * Errors (status, code): a malformed request line 400 bad_request_line; a
 * malformed header section 400 bad_header; an HTTP major version other than
 * 1 505 http_version_not_supported; a head longer than the limit given to
 * rt_http_init 431 headers_too_large.  err_off is the offset of the byte
 * that decided it.  No state outside the caller's struct; no allocation.
 */
#ifndef RT_HTTP_H
#define RT_HTTP_H

#include <stddef.h>
#include <stdint.h>

enum { RT_HTTP_MORE = 0, RT_HTTP_DONE = 1, RT_HTTP_ERROR = -1 };

typedef struct rt_http_span {
    uint32_t off, len;
} rt_http_span;

typedef struct rt_http_head {
    /* results (valid after RT_HTTP_DONE) */
    rt_http_span method, target, path, query, content_type, idempotency_key;
    int minor;                   /* HTTP/1.minor */
    int64_t content_length;      /* -1: no Content-Length */
    unsigned transfer_encoding : 1, conn_close : 1, conn_keep_alive : 1,
             expect_continue : 1;
    int hosts;                   /* Host fields seen */
    rt_http_span host;           /* the Host field's value */
    /* a WebSocket handshake's fields (a span's off is 0 when absent) */
    rt_http_span origin, ws_key, ws_version;
    unsigned upgrade_websocket : 1, conn_upgrade : 1;
    uint32_t end;                /* length of the head, final CRLF included */
    /* the error (after RT_HTTP_ERROR) */
    int status;
    const char *code, *message;
    uint32_t err_off;
    /* machine state */
    int cs, in_fields;
    uint32_t pos, limit, name_off, name_len, val_off, val_end;
} rt_http_head;

/* limit: the largest head accepted, in bytes. */
void rt_http_init(rt_http_head *h, uint32_t limit);

/* buf[0..n) is the head so far (n only grows between calls).  Returns
 * RT_HTTP_MORE, RT_HTTP_DONE (the head is buf[0..h->end)) or RT_HTTP_ERROR.
 * Bytes past the head's end are not looked at. */
int rt_http_feed(rt_http_head *h, const char *buf, size_t n);

/* The value of query parameter name (percent-decoding and '+' as space) in
 * the head's query, copied NUL-terminated into out.  Returns its length,
 * -1 if absent, -2 if malformed (a bad escape, an escaped NUL) or longer
 * than cap - 1. */
int rt_http_query_arg(const rt_http_head *h, const char *buf, const char *name,
                      char *out, size_t cap);

#endif

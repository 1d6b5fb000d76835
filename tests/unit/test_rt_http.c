/*
 * test_rt_http.c - unit tests for runtime/rt_http (HTTP/1.1 request heads).
 *
 * Every case is fed three ways: whole, in two pieces cut at every offset,
 * and one byte at a time.  The outcome (result, spans, fields, error status,
 * code and offset) must not depend on the cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rt_http.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Feeds buf[0..n) in pieces ending at cuts[], then all of it. */
static int feed_cuts(rt_http_head *h, const char *buf, size_t n, uint32_t limit,
                     const size_t *cuts, size_t ncuts)
{
    int rc = RT_HTTP_MORE;
    rt_http_init(h, limit);
    for (size_t i = 0; i < ncuts && rc == RT_HTTP_MORE; i++)
        rc = rt_http_feed(h, buf, cuts[i]);
    if (rc == RT_HTTP_MORE)
        rc = rt_http_feed(h, buf, n);
    return rc;
}

static void assert_same(const rt_http_head *a, const rt_http_head *b, int ra, int rb)
{
    assert_int_equal(ra, rb);
    if (ra == RT_HTTP_ERROR) {
        assert_int_equal(a->status, b->status);
        assert_string_equal(a->code, b->code);
        assert_int_equal(a->err_off, b->err_off);
        return;
    }
    assert_int_equal(a->end, b->end);
    assert_memory_equal(&a->method, &b->method, sizeof a->method);
    assert_memory_equal(&a->path, &b->path, sizeof a->path);
    assert_memory_equal(&a->query, &b->query, sizeof a->query);
    assert_memory_equal(&a->content_type, &b->content_type, sizeof a->content_type);
    assert_memory_equal(&a->idempotency_key, &b->idempotency_key, sizeof a->idempotency_key);
    assert_int_equal(a->content_length, b->content_length);
    assert_int_equal(a->minor, b->minor);
    assert_int_equal(a->conn_close, b->conn_close);
    assert_int_equal(a->conn_keep_alive, b->conn_keep_alive);
    assert_int_equal(a->transfer_encoding, b->transfer_encoding);
    assert_int_equal(a->expect_continue, b->expect_continue);
    assert_memory_equal(&a->host, &b->host, sizeof a->host);
    assert_memory_equal(&a->origin, &b->origin, sizeof a->origin);
    assert_memory_equal(&a->ws_key, &b->ws_key, sizeof a->ws_key);
    assert_memory_equal(&a->ws_version, &b->ws_version, sizeof a->ws_version);
    assert_int_equal(a->upgrade_websocket, b->upgrade_websocket);
    assert_int_equal(a->conn_upgrade, b->conn_upgrade);
}

/* Parses s (limit: lim) every way; returns the whole-buffer result in *h. */
static int parse_all(rt_http_head *h, const char *s, size_t n, uint32_t lim)
{
    int r = feed_cuts(h, s, n, lim, NULL, 0);
    rt_http_head g;
    for (size_t c = 0; c <= n; c++) {
        size_t cut[1] = { c };
        assert_same(h, &g, r, feed_cuts(&g, s, n, lim, cut, 1));
    }
    size_t bytes[8192];
    assert_true(n <= ARRAY_LEN(bytes));
    for (size_t i = 0; i < n; i++)
        bytes[i] = i;
    assert_same(h, &g, r, feed_cuts(&g, s, n, lim, bytes, n));
    return r;
}

#define PARSE(h, lit) parse_all(h, lit, sizeof(lit) - 1, 8192)

static void assert_span(const char *buf, rt_http_span s, const char *want)
{
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(buf + s.off, want, s.len);
}

static void test_get(void **st)
{
    (void)st;
    static const char r[] = "GET /reports?page=2&limit=10 HTTP/1.1\r\nHost: x\r\n"
                            "Accept: */*\r\nConnection:  Keep-Alive ,\tUpgrade \r\n\r\nNEXT";
    rt_http_head h;
    assert_int_equal(PARSE(&h, r), RT_HTTP_DONE);
    assert_int_equal(h.end, sizeof r - 1 - 4);
    assert_span(r, h.method, "GET");
    assert_span(r, h.target, "/reports?page=2&limit=10");
    assert_span(r, h.path, "/reports");
    assert_span(r, h.query, "page=2&limit=10");
    assert_int_equal(h.minor, 1);
    assert_int_equal(h.content_length, -1);
    assert_true(h.conn_keep_alive);
    assert_false(h.conn_close);
    assert_false(h.transfer_encoding);
    assert_int_equal(h.hosts, 1);
}

static void test_post(void **st)
{
    (void)st;
    static const char r[] = "\r\n\r\nPOST /submit-data HTTP/1.1\r\nhost: a\r\n"
                            "CONTENT-LENGTH: 42\r\ncontent-type: application/json; charset=utf-8  \r\n"
                            "Content-Length: 42\r\nEXPECT: 100-Continue\r\nconnection: close\r\n"
                            "X-Empty:\r\nX-Obs: caf\xc3\xa9\r\n\r\n";
    rt_http_head h;
    assert_int_equal(PARSE(&h, r), RT_HTTP_DONE);
    assert_int_equal(h.end, sizeof r - 1);
    assert_span(r, h.method, "POST");
    assert_span(r, h.path, "/submit-data");
    assert_int_equal(h.query.len, 0);
    assert_int_equal(h.content_length, 42);
    assert_span(r, h.content_type, "application/json; charset=utf-8");
    assert_true(h.expect_continue);
    assert_true(h.conn_close);
    assert_false(h.conn_keep_alive);
    assert_int_equal(h.idempotency_key.len, 0);
    /* An Idempotency-Key, as an sf-string or bare; its span is the key. */
    static const char k1[] = "POST /signup HTTP/1.1\r\nHost: a\r\nIdempotency-Key: \"8e03978e-40d5-43e8\"\r\n\r\n";
    assert_int_equal(PARSE(&h, k1), RT_HTTP_DONE);
    assert_span(k1, h.idempotency_key, "8e03978e-40d5-43e8");
    static const char k2[] = "POST /signup HTTP/1.1\r\nidempotency-key: abc:1/2\r\nHost: a\r\n\r\n";
    assert_int_equal(PARSE(&h, k2), RT_HTTP_DONE);
    assert_span(k2, h.idempotency_key, "abc:1/2");
}

static void test_http10(void **st)
{
    (void)st;
    static const char r[] = "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
    rt_http_head h;
    assert_int_equal(PARSE(&h, r), RT_HTTP_DONE);
    assert_int_equal(h.minor, 0);
    assert_int_equal(h.hosts, 0);
    assert_true(h.transfer_encoding);
}

/* A WebSocket handshake (RFC 6455 §1.3), its fields recorded. */
static void test_websocket(void **st)
{
    (void)st;
    static const char r[] = "GET /ws?from=12 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: WebSocket\r\n"
                            "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n";
    rt_http_head h;
    assert_int_equal(PARSE(&h, r), RT_HTTP_DONE);
    assert_span(r, h.host, "server.example.com");
    assert_span(r, h.origin, "http://example.com");
    assert_span(r, h.ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_span(r, h.ws_version, "13");
    assert_true(h.upgrade_websocket);
    assert_true(h.conn_upgrade);
    assert_true(h.conn_keep_alive);
    /* An ordinary request has none of them; an empty Origin is present. */
    static const char r2[] = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nOrigin:\r\n\r\n";
    assert_int_equal(PARSE(&h, r2), RT_HTTP_DONE);
    assert_false(h.upgrade_websocket);
    assert_false(h.conn_upgrade);
    assert_int_equal(h.ws_key.off, 0);
    assert_int_equal(h.ws_version.off, 0);
    assert_int_not_equal(h.origin.off, 0);
    assert_int_equal(h.origin.len, 0);
}

static const struct bad {
    const char *req;
    int status;
    const char *code;
    uint32_t off;
} bad[] = {
    { "GET  / HTTP/1.1\r\n", 400, "bad_request_line", 4 },
    { "GE\tT / HTTP/1.1\r\n", 400, "bad_request_line", 2 },
    { "GET x HTTP/1.1\r\n", 400, "bad_request_line", 4 },
    { "GET http://a/ HTTP/1.1\r\n", 400, "bad_request_line", 4 },
    { "GET /a b HTTP/1.1\r\n", 400, "bad_request_line", 7 },
    { "GET /\x7f HTTP/1.1\r\n", 400, "bad_request_line", 5 },
    { "GET / http/1.1\r\n", 400, "bad_request_line", 6 },
    { "GET / HTTP/1.1\n", 400, "bad_request_line", 14 },
    { "GET / HTTP/1.1 \r\n", 400, "bad_request_line", 14 },
    { "GET / HTTP/2.0\r\n", 505, "http_version_not_supported", 11 },
    { "GET / HTTP/0.9\r\n", 505, "http_version_not_supported", 11 },
    { "\x16\x03\x01\x02\x00\x01", 400, "bad_request_line", 0 },
    { "GET / HTTP/1.1\r\nHost: x\r\nX : y\r\n", 400, "bad_header", 26 },
    { "GET / HTTP/1.1\r\nHost: x\r\nX: y\r\n z\r\n", 400, "bad_header", 31 },
    { "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01z\r\n", 400, "bad_header", 29 },
    { "GET / HTTP/1.1\r\nHost: x\r\nX: a\nY: b\r\n", 400, "bad_header", 29 },
    { "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n", 400, "bad_header", 32 },
    { "GET / HTTP/1.1\r\nHost: x\r\n\n", 400, "bad_header", 25 },
    { "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n", 400, "bad_content_length", 25 },
    { "GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n", 400, "bad_content_length", 25 },
    { "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n", 400, "bad_content_length", 25 },
    { "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1234567890123456789\r\n", 400, "bad_content_length", 25 },
    { "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n", 400, "bad_content_length", 44 },
    { "GET / HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\nContent-Type: b\r\n", 400, "bad_header", 42 },
    { "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n", 400, "bad_header", 25 },
    { "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, "bad_header", 22 },
    { "GET / HTTP/1.1\r\nHost: x\r\nOrigin: a\r\nOrigin: b\r\n", 400, "bad_header", 36 },
    { "GET / HTTP/1.1\r\nHost: x\r\nOrigin:\r\norigin:\r\n", 400, "bad_header", 34 },
    { "GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: a\r\nSec-WebSocket-Key: a\r\n", 400, "bad_header", 47 },
    { "GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Version: 13\r\nsec-websocket-version: 8\r\n", 400, "bad_header", 52 },
    { "GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n", 400, "bad_header", 45 },
    { "GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \"\"\r\n", 400, "bad_header", 25 },
    { "GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a b\r\n", 400, "bad_header", 43 },
    { "GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \"a\\\\b\"\r\n", 400, "bad_header", 44 },
};

static void test_bad(void **st)
{
    (void)st;
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        size_t n = strlen(bad[i].req);
        rt_http_head h;
        int r = parse_all(&h, bad[i].req, n, 8192);
        if (r != RT_HTTP_ERROR || h.status != bad[i].status || strcmp(h.code, bad[i].code)
            || h.err_off != bad[i].off)
            fail_msg("case %zu %s: got %d %d %s @%u", i, bad[i].req, r, h.status,
                     r == RT_HTTP_ERROR ? h.code : "-", h.err_off);
    }
}

/* A NUL inside a field value (strlen-based cases cannot hold one). */
static void test_nul(void **st)
{
    (void)st;
    static const char r[] = "GET / HTTP/1.1\r\nHost: x\r\nX: a\0z\r\n\r\n";
    rt_http_head h;
    assert_int_equal(PARSE(&h, r), RT_HTTP_ERROR);
    assert_int_equal(h.status, 400);
    assert_int_equal(h.err_off, 29);
}

static void test_limit(void **st)
{
    (void)st;
    char buf[600];
    int n = snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %0400d\r\n\r\n", 7);
    rt_http_head h;
    /* Exactly at the limit: accepted.  One byte under it: 431 at the limit. */
    assert_int_equal(parse_all(&h, buf, (size_t)n, (uint32_t)n), RT_HTTP_DONE);
    assert_int_equal(h.end, (uint32_t)n);
    assert_int_equal(parse_all(&h, buf, (size_t)n, (uint32_t)n - 1), RT_HTTP_ERROR);
    assert_int_equal(h.status, 431);
    assert_string_equal(h.code, "headers_too_large");
    assert_int_equal(h.err_off, (uint32_t)n - 1);
    /* A head that never ends is refused once it reaches the limit. */
    memset(buf, 'a', sizeof buf);
    memcpy(buf, "GET /", 5);
    assert_int_equal(parse_all(&h, buf, sizeof buf, 512), RT_HTTP_ERROR);
    assert_int_equal(h.status, 431);
    /* An error inside the limit wins over the size. */
    assert_int_equal(parse_all(&h, "GET x", 5, 3), RT_HTTP_ERROR);
    assert_int_equal(h.status, 431);
    assert_int_equal(parse_all(&h, "GET x", 5, 5), RT_HTTP_ERROR);
    assert_int_equal(h.status, 400);
}

static void test_query(void **st)
{
    (void)st;
    static const char r[] = "GET /a?nonce=a%20b+c&x&from=12&bad=%zz&nul=%00&long=abcdef&e= HTTP/1.1\r\nHost: h\r\n\r\n";
    rt_http_head h;
    char out[8];
    assert_int_equal(PARSE(&h, r), RT_HTTP_DONE);
    assert_int_equal(rt_http_query_arg(&h, r, "nonce", out, sizeof out), 5);
    assert_string_equal(out, "a b c");
    assert_int_equal(rt_http_query_arg(&h, r, "from", out, sizeof out), 2);
    assert_string_equal(out, "12");
    assert_int_equal(rt_http_query_arg(&h, r, "fro", out, sizeof out), -1);
    assert_int_equal(rt_http_query_arg(&h, r, "x", out, sizeof out), -1);
    assert_int_equal(rt_http_query_arg(&h, r, "bad", out, sizeof out), -2);
    assert_int_equal(rt_http_query_arg(&h, r, "nul", out, sizeof out), -2);
    assert_int_equal(rt_http_query_arg(&h, r, "long", out, 6), -2);
    assert_int_equal(rt_http_query_arg(&h, r, "long", out, 7), 6);
    assert_int_equal(rt_http_query_arg(&h, r, "e", out, sizeof out), 0);
    assert_string_equal(out, "");
    static const char r2[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal(PARSE(&h, r2), RT_HTTP_DONE);
    assert_int_equal(rt_http_query_arg(&h, r2, "nonce", out, sizeof out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_post),
        cmocka_unit_test(test_http10),
        cmocka_unit_test(test_websocket),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_rt_http.c — libFuzzer harness for rt_http (HTTP/1.1 request heads).
 *
 * Input: byte 0 picks a cut, byte 1 the head limit (64 to 8192 bytes), the
 * rest is the head.  It is parsed whole, in two pieces cut there, and one
 * byte at a time; the result, every span and every field must agree.  An
 * accepted head must end with CRLF CRLF inside the limit, its spans must lie
 * inside it, and rt_http_query_arg must stay inside its output buffer.
 *
 * Built by `make fuzz` (libFuzzer) and, replaying tests/fuzz/corpus/fuzz_rt_http,
 * by `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt_http.h"

static int run(rt_http_head *h, const char *b, size_t n, uint32_t limit, size_t cut, int bytewise)
{
    int rc = RT_HTTP_MORE;
    rt_http_init(h, limit);
    if (bytewise) {
        for (size_t i = 1; i < n && rc == RT_HTTP_MORE; i++)
            rc = rt_http_feed(h, b, i);
    } else if (cut < n) {
        rc = rt_http_feed(h, b, cut);
    }
    if (rc == RT_HTTP_MORE)
        rc = rt_http_feed(h, b, n);
    return rc;
}

static void same(const rt_http_head *a, const rt_http_head *b, int ra, int rb)
{
    if (ra != rb)
        abort();
    if (ra == RT_HTTP_ERROR) {
        if (a->status != b->status || strcmp(a->code, b->code) || a->err_off != b->err_off)
            abort();
    } else if (ra == RT_HTTP_DONE) {
        if (a->end != b->end || memcmp(&a->method, &b->method, sizeof a->method)
            || memcmp(&a->target, &b->target, sizeof a->target)
            || memcmp(&a->query, &b->query, sizeof a->query)
            || memcmp(&a->content_type, &b->content_type, sizeof a->content_type)
            || memcmp(&a->idempotency_key, &b->idempotency_key, sizeof a->idempotency_key)
            || a->content_length != b->content_length || a->minor != b->minor
            || a->conn_close != b->conn_close || a->conn_keep_alive != b->conn_keep_alive
            || a->transfer_encoding != b->transfer_encoding || a->expect_continue != b->expect_continue
            || memcmp(&a->host, &b->host, sizeof a->host) || memcmp(&a->origin, &b->origin, sizeof a->origin)
            || memcmp(&a->ws_key, &b->ws_key, sizeof a->ws_key)
            || memcmp(&a->ws_version, &b->ws_version, sizeof a->ws_version)
            || a->upgrade_websocket != b->upgrade_websocket || a->conn_upgrade != b->conn_upgrade)
            abort();
    }
}

static void inside(rt_http_span s, uint32_t end)
{
    if (s.off > end || s.len > end - s.off)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t cut = data[0];
    uint32_t limit = 64 + (uint32_t)data[1] * 32;
    const char *b = (const char *)data + 2;
    size_t n = size - 2;
    rt_http_head h, g;
    int r = run(&h, b, n, limit, n + 1, 0);
    same(&h, &g, r, run(&g, b, n, limit, cut, 0));
    if (n < 4096)
        same(&h, &g, r, run(&g, b, n, limit, 0, 1));
    if (r == RT_HTTP_ERROR) {
        if (!h.code || !h.message || h.err_off > limit || (h.status != 400 && h.status != 431 && h.status != 505))
            abort();
    } else if (r == RT_HTTP_DONE) {
        if (h.end < 16 || h.end > n || h.end > limit || memcmp(b + h.end - 4, "\r\n\r\n", 4))
            abort();
        inside(h.method, h.end);
        inside(h.target, h.end);
        inside(h.path, h.end);
        inside(h.query, h.end);
        inside(h.content_type, h.end);
        inside(h.host, h.end);
        inside(h.origin, h.end);
        inside(h.ws_key, h.end);
        inside(h.ws_version, h.end);
        inside(h.idempotency_key, h.end);
        if (!h.method.len || b[h.target.off] != '/')
            abort();
        char out[16];
        int q = rt_http_query_arg(&h, b, "a", out, sizeof out);
        if (q < -2 || q > 15 || (q >= 0 && out[q]))
            abort();
    } else if (n >= limit) {
        abort();
    }
    return 0;
}

/*
 * test_rt_ws.c - unit tests for runtime/rt_ws (RFC 6455 WebSocket).
 *
 * Every stream is parsed whole, in two pieces cut at every offset, and one
 * byte at a time: the trace (events, payloads, the error with its close
 * code and offset) must not depend on the cuts.  The frames of RFC 6455
 * §5.7 are parsed as the RFC says they read; each receiving rule of §5 has
 * a stream that breaks it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_ws.h"
#include "rt_ws_trace.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TRACE_MAX 300000

/* The trace of in[0..n), checked to be the same for every cut; returned in
 * a static buffer. */
static const char *trace_all(int role, uint64_t max, const uint8_t *in, size_t n)
{
    static char whole[TRACE_MAX], cut[TRACE_MAX];
    ws_trace(role, max, in, n, NULL, 0, whole, sizeof whole);
    for (size_t c = 0; c <= n; c++) {
        size_t cuts[1] = { c };
        ws_trace(role, max, in, n, cuts, 1, cut, sizeof cut);
        if (strcmp(whole, cut))
            fail_msg("cut at %zu:\n  whole %s\n  cut   %s", c, whole, cut);
    }
    size_t *bytes = malloc((n ? n : 1) * sizeof *bytes);
    assert_non_null(bytes);
    for (size_t i = 0; i < n; i++)
        bytes[i] = i;
    ws_trace(role, max, in, n, bytes, n, cut, sizeof cut);
    free(bytes);
    if (strcmp(whole, cut))
        fail_msg("byte by byte:\n  whole %s\n  bytes %s", whole, cut);
    return whole;
}

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1
#define SERVER(lit) trace_all(RT_WS_SERVER, 1 << 20, S(lit))
#define CLIENT(lit) trace_all(RT_WS_CLIENT, 1 << 20, S(lit))

/* ---- the handshake ---------------------------------------------------------- */

static void test_accept(void **st)
{
    (void)st;
    char out[RT_WS_ACCEPT_LEN + 1];
    /* RFC 6455 §1.3. */
    rt_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_true(rt_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==", 24));
    assert_true(rt_ws_key_valid("AAAAAAAAAAAAAAAAAAAAAA==", 24));
    assert_true(rt_ws_key_valid("/+/+/+/+/+/+/+/+/+/+/w==", 24));
}

static void test_bad_keys(void **st)
{
    (void)st;
    static const char *bad[] = {
        "",                            /* empty */
        "dGhlIHNhbXBsZSBub25jZQ=",     /* one pad short */
        "dGhlIHNhbXBsZSBub25jZQ===",   /* too long */
        "dGhlIHNhbXBsZSBub25jZQAA",    /* no padding */
        "dGhlIHNhbXBsZSBub25jZR==",    /* stray bits in the last character */
        "dGhlIHNhbXBsZSBub25j-Q==",    /* base64url, not base64 */
        "dGhlIHNhbXBsZSBub25j Q==",    /* a space */
        "the sample nonce 123456==",   /* not base64 */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        if (rt_ws_key_valid(bad[i], strlen(bad[i])))
            fail_msg("accepted key %zu: '%s'", i, bad[i]);
}

/* ---- frames out --------------------------------------------------------------- */

static void test_headers(void **st)
{
    (void)st;
    static const struct { uint64_t len; size_t hlen; uint8_t b1; } cases[] = {
        { 0, 2, 0 }, { 125, 2, 125 }, { 126, 4, 126 }, { 65535, 4, 126 },
        { 65536, 10, 127 }, { 1ull << 40, 10, 127 },
    };
    static const uint8_t key[4] = { 1, 2, 3, 4 };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t h[RT_WS_HEADER_MAX];
        size_t n = rt_ws_header(h, RT_WS_OP_TEXT, 1, cases[i].len, NULL);
        assert_int_equal(n, cases[i].hlen);
        assert_int_equal(h[0], 0x81);
        assert_int_equal(h[1], cases[i].b1);
        n = rt_ws_header(h, RT_WS_OP_BINARY, 0, cases[i].len, key);
        assert_int_equal(n, cases[i].hlen + 4);
        assert_int_equal(h[0], 0x02);
        assert_int_equal(h[1], 0x80 | cases[i].b1);
        assert_memory_equal(h + n - 4, key, 4);
        /* Each header reads back as the frame it describes. */
        rt_ws_parser p;
        rt_ws_init(&p, RT_WS_SERVER, UINT64_MAX);
        size_t used;
        rt_ws_event ev;
        assert_int_equal(rt_ws_parse(&p, h, n, &used, &ev), RT_WS_EVENT);
        assert_int_equal(used, n);
        assert_int_equal(ev.type, RT_WS_EV_FRAME);
        assert_int_equal(ev.len, cases[i].len);
        assert_int_equal(ev.fin, 0);
    }
}

static void test_mask_pieces(void **st)
{
    (void)st;
    static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    uint8_t a[11] = "Hello world", b[11];
    memcpy(b, a, sizeof a);
    rt_ws_mask(a, sizeof a, key, 0);
    rt_ws_mask(b, 3, key, 0);
    rt_ws_mask(b + 3, 5, key, 3);
    rt_ws_mask(b + 8, 3, key, 8);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_equal(a, "\x7f\x9f\x4d\x51\x58", 5);   /* RFC 6455 §5.7 */
}

static void test_close_payload(void **st)
{
    (void)st;
    uint8_t out[RT_WS_CONTROL_MAX];
    size_t n = rt_ws_close_payload(out, 1013, "too slow");
    assert_int_equal(n, 10);
    assert_memory_equal(out, "\x03\xf5too slow", 10);
    assert_int_equal(rt_ws_close_payload(out, 1000, NULL), 2);
    /* A reason over 123 bytes is cut before the character it would split. */
    char r[200];
    memset(r, 'a', 122);
    strcpy(r + 122, "\xc3\xa9 and more");   /* é straddles byte 123 */
    n = rt_ws_close_payload(out, 1008, r);
    assert_int_equal(n, 2 + 122);
    assert_true(rt_ws_utf8_valid(out + 2, n - 2));
    memset(r, 'b', sizeof r - 1);
    r[sizeof r - 1] = 0;
    assert_int_equal(rt_ws_close_payload(out, 1008, r), RT_WS_CONTROL_MAX);
    assert_true(rt_ws_close_code_valid(1000));
    assert_true(rt_ws_close_code_valid(1013));
    assert_true(rt_ws_close_code_valid(4999));
    assert_false(rt_ws_close_code_valid(1005));
    assert_false(rt_ws_close_code_valid(1006));
    assert_false(rt_ws_close_code_valid(1015));
    assert_false(rt_ws_close_code_valid(999));
    assert_false(rt_ws_close_code_valid(2000));
    assert_false(rt_ws_close_code_valid(5000));
}

/* ---- frames in: RFC 6455 §5.7 ------------------------------------------------ */

static void test_rfc_examples(void **st)
{
    (void)st;
    /* A single-frame unmasked text message, as a client reads it. */
    assert_string_equal(CLIENT("\x81\x05\x48\x65\x6c\x6c\x6f"), "F1,1,1,5;D48656c6c6f;E1;end@7");
    /* The same, masked, as a server reads it. */
    assert_string_equal(SERVER("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
                        "F1,1,1,5;D48656c6c6f;E1;end@11");
    /* A fragmented unmasked text message. */
    assert_string_equal(CLIENT("\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f"),
                        "F1,1,0,3;D48656c;E0;F0,1,1,2;D6c6f;E1;end@9");
    /* An unmasked ping and a masked pong, both carrying "Hello". */
    assert_string_equal(CLIENT("\x89\x05\x48\x65\x6c\x6c\x6f"), "C9,48656c6c6f;end@7");
    assert_string_equal(SERVER("\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), "C10,48656c6c6f;end@11");
}

static void test_long_lengths(void **st)
{
    (void)st;
    /* 256 bytes in one binary frame (16-bit length), and 65536 (64-bit). */
    static uint8_t in[10 + 65536];
    uint8_t h[RT_WS_HEADER_MAX];
    size_t hn = rt_ws_header(h, RT_WS_OP_BINARY, 1, 256, NULL);
    assert_memory_equal(h, "\x82\x7e\x01\x00", 4);
    memcpy(in, h, hn);
    memset(in + hn, 0xab, 256);
    const char *t = trace_all(RT_WS_CLIENT, 1 << 20, in, hn + 256);
    assert_non_null(strstr(t, "F2,2,1,256;D"));
    assert_non_null(strstr(t, ";E1;end@260"));
    hn = rt_ws_header(h, RT_WS_OP_BINARY, 1, 65536, NULL);
    assert_memory_equal(h, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    memcpy(in, h, hn);
    memset(in + hn, 0xcd, 65536);
    char out[TRACE_MAX];
    ws_trace(RT_WS_CLIENT, 1 << 20, in, hn + 65536, NULL, 0, out, sizeof out);
    assert_non_null(strstr(out, "F2,2,1,65536;D"));
    assert_non_null(strstr(out, ";E1;end@65546"));
    /* One byte over the limit is refused at the length's last byte. */
    ws_trace(RT_WS_CLIENT, 65535, in, hn + 65536, NULL, 0, out, sizeof out);
    assert_string_equal(out, "error TOO_BIG close 1009 @9");
}

static void test_control_between_fragments(void **st)
{
    (void)st;
    /* Text "Hel", a ping, "lo", then a close with a reason: all masked. */
    static const uint8_t key[4] = { 9, 8, 7, 6 };
    uint8_t in[128];
    size_t n = 0;
    struct { int op, fin; const char *p; size_t len; } f[] = {
        { RT_WS_OP_TEXT, 0, "Hel", 3 }, { RT_WS_OP_PING, 1, "hi", 2 },
        { RT_WS_OP_CONT, 1, "lo", 2 }, { RT_WS_OP_CLOSE, 1, "\x03\xe8" "bye", 5 },
    };
    for (size_t i = 0; i < ARRAY_LEN(f); i++) {
        n += rt_ws_header(in + n, f[i].op, f[i].fin, f[i].len, key);
        memcpy(in + n, f[i].p, f[i].len);
        rt_ws_mask(in + n, f[i].len, key, 0);
        n += f[i].len;
    }
    assert_string_equal(trace_all(RT_WS_SERVER, 100, in, n),
                        "F1,1,0,3;D48656c;E0;C9,6869;F0,1,1,2;D6c6f;E1;C8,03e8627965,1000,627965;end@36");
}

static void test_empty_frames(void **st)
{
    (void)st;
    /* Empty frames make their events with no payload byte to read. */
    assert_string_equal(CLIENT("\x01\x00\x00\x00\x80\x00"), "F1,1,0,0;E0;F0,1,0,0;E0;F0,1,1,0;E1;end@6");
    assert_string_equal(CLIENT("\x89\x00\x88\x00"), "C9,;C8,,1005,;end@4");
}

static void test_utf8_across_frames(void **st)
{
    (void)st;
    /* "é€" split inside both characters, across three frames. */
    assert_string_equal(CLIENT("\x01\x01\xc3\x00\x02\xa9\xe2\x80\x02\x82\xac"),
                        "F1,1,0,1;Dc3;E0;F0,1,0,2;Da9e2;E0;F0,1,1,2;D82ac;E1;end@11");
    /* Binary payloads are not text: anything goes. */
    assert_string_equal(CLIENT("\x82\x02\xff\xfe"), "F2,2,1,2;Dfffe;E1;end@4");
}

/* ---- frames in: every rule ----------------------------------------------------- */

static const struct bad {
    int role;
    const char *in;
    size_t n;
    const char *want;
} bad[] = {
#define B(role, lit, want) { role, lit, sizeof(lit) - 1, want }
    B(RT_WS_CLIENT, "\xc1\x00", "error RSV close 1002 @0"),
    B(RT_WS_CLIENT, "\x91\x00", "error RSV close 1002 @0"),
    B(RT_WS_CLIENT, "\x83\x00", "error OPCODE close 1002 @0"),
    B(RT_WS_CLIENT, "\x8b\x00", "error OPCODE close 1002 @0"),
    B(RT_WS_SERVER, "\x81\x05Hello", "error MASK close 1002 @1"),
    B(RT_WS_CLIENT, "\x81\x85\x00\x00\x00\x00Hello", "error MASK close 1002 @1"),
    B(RT_WS_CLIENT, "\x09\x00", "error CONTROL close 1002 @0"),
    B(RT_WS_CLIENT, "\x89\x7e\x00\x7e", "error CONTROL close 1002 @1"),
    B(RT_WS_CLIENT, "\x88\x01\x03", "error CLOSE_LEN close 1002 @1"),
    B(RT_WS_CLIENT, "\x81\x7e\x00\x7d", "error LENGTH close 1002 @3"),
    B(RT_WS_CLIENT, "\x81\x7f\x00\x00\x00\x00\x00\x00\xff\xff", "error LENGTH close 1002 @9"),
    B(RT_WS_CLIENT, "\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", "error LENGTH close 1002 @2"),
    B(RT_WS_CLIENT, "\x80\x00", "error CONT close 1002 @0"),
    B(RT_WS_CLIENT, "\x01\x01" "a" "\x81\x01" "b", "F1,1,0,1;D61;E0;error INTERLEAVED close 1002 @3"),
    B(RT_WS_CLIENT, "\x01\x01" "a" "\x02\x01" "b", "F1,1,0,1;D61;E0;error INTERLEAVED close 1002 @3"),
    B(RT_WS_CLIENT, "\x81\x02\xc0\x80", "F1,1,1,2;error UTF8 close 1007 @2"),
    B(RT_WS_CLIENT, "\x81\x03" "a\xe0\x80", "F1,1,1,3;D61e0;error UTF8 close 1007 @4"),
    B(RT_WS_CLIENT, "\x81\x03\xed\xa0\x80", "F1,1,1,3;Ded;error UTF8 close 1007 @3"),
    B(RT_WS_CLIENT, "\x81\x04\xf4\x90\x80\x80", "F1,1,1,4;Df4;error UTF8 close 1007 @3"),
    B(RT_WS_CLIENT, "\x81\x01\xf5", "F1,1,1,1;error UTF8 close 1007 @2"),
    B(RT_WS_CLIENT, "\x81\x02" "a\xc3", "F1,1,1,2;D61c3;error UTF8 close 1007 @4"),
    B(RT_WS_CLIENT, "\x01\x01\xc3\x80\x00", "F1,1,0,1;Dc3;E0;F0,1,1,0;error UTF8 close 1007 @5"),
    B(RT_WS_CLIENT, "\x88\x02\x03\xed", "error CLOSE_CODE close 1002 @3"),
    B(RT_WS_CLIENT, "\x88\x02\x03\xee", "error CLOSE_CODE close 1002 @3"),
    B(RT_WS_CLIENT, "\x88\x02\x00\x00", "error CLOSE_CODE close 1002 @3"),
    B(RT_WS_CLIENT, "\x88\x04\x03\xe8" "a\xff", "error UTF8 close 1007 @5"),
    B(RT_WS_CLIENT, "\x88\x03\x03\xe8\xc3", "error UTF8 close 1007 @5"),
    B(RT_WS_CLIENT, "\x88\x02\x03\xe8\x81\x00", "C8,03e8,1000,;error AFTER_CLOSE close 1002 @4"),
    B(RT_WS_CLIENT, "\x81\x7e\x10\x01", "error TOO_BIG close 1009 @3"),
#undef B
};

static void test_bad(void **st)
{
    (void)st;
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        const char *got = trace_all(bad[i].role, 4096, (const uint8_t *)bad[i].in, bad[i].n);
        if (strcmp(got, bad[i].want))
            fail_msg("case %zu: got %s, want %s", i, got, bad[i].want);
    }
}

/* The limit counts a fragmented message whole: 2048 + 2049 bytes is one
 * over 4096, refused at the second frame's length. */
static void test_too_big_fragmented(void **st)
{
    (void)st;
    static uint8_t in[4 + 2048 + 4];
    size_t n = rt_ws_header(in, RT_WS_OP_TEXT, 0, 2048, NULL);
    memset(in + n, 'a', 2048);
    n += 2048;
    n += rt_ws_header(in + n, RT_WS_OP_CONT, 1, 2049, NULL);
    const char *t = trace_all(RT_WS_CLIENT, 4096, in, n);
    assert_non_null(strstr(t, ";E0;error TOO_BIG close 1009 @2055"));
    in[n - 1] = 0x00;   /* 2048 + 2048: exactly the limit */
    t = trace_all(RT_WS_CLIENT, 4096, in, n);
    assert_non_null(strstr(t, ";E0;F0,1,1,2048;end@2056"));
}

/* An error is sticky: nothing is read after it. */
static void test_sticky(void **st)
{
    (void)st;
    rt_ws_parser p;
    rt_ws_init(&p, RT_WS_CLIENT, 100);
    uint8_t in[] = "\xc1\x00\x81\x00";
    size_t used;
    rt_ws_event ev;
    assert_int_equal(rt_ws_parse(&p, in, 4, &used, &ev), RT_WS_ERROR);
    assert_int_equal(used, 0);
    assert_int_equal(p.error, RT_WS_E_RSV);
    assert_int_equal(p.close, RT_WS_CLOSE_PROTOCOL);
    assert_non_null(p.reason);
    assert_int_equal(rt_ws_parse(&p, in + 2, 2, &used, &ev), RT_WS_ERROR);
    assert_int_equal(p.error_off, 0);
}

static void test_utf8(void **st)
{
    (void)st;
    static const struct { const char *s; int ok; } cases[] = {
        { "", 1 }, { "abc", 1 }, { "\xc3\xa9", 1 }, { "\xe2\x82\xac", 1 }, { "\xf0\x9f\x98\x80", 1 },
        { "\xef\xbf\xbf", 1 }, { "\xf4\x8f\xbf\xbf", 1 }, { "\xed\x9f\xbf", 1 },
        { "\xc0\xaf", 0 }, { "\xc1\xbf", 0 }, { "\xe0\x9f\xbf", 0 }, { "\xf0\x8f\xbf\xbf", 0 },
        { "\xed\xa0\x80", 0 }, { "\xf4\x90\x80\x80", 0 }, { "\xf8\x88\x80\x80\x80", 0 },
        { "\x80", 0 }, { "\xc3", 0 }, { "\xe2\x82", 0 }, { "a\xffz", 0 },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (rt_ws_utf8_valid((const uint8_t *)cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fail_msg("utf8 case %zu", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_mask_pieces),
        cmocka_unit_test(test_close_payload),
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_long_lengths),
        cmocka_unit_test(test_control_between_fragments),
        cmocka_unit_test(test_empty_frames),
        cmocka_unit_test(test_utf8_across_frames),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_too_big_fragmented),
        cmocka_unit_test(test_sticky),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_req.c — the generated request schemas, run through the streaming
 * parser exactly as the service will: outputs equal what an independent
 * computation gives, every split of the body gives the same result, errors
 * carry the right code and byte offset, and no byte of a secret or
 * pseudonymous value is left in the parser or the request struct.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "rt_parse.h"
#include "toy_spec.h"

static const uint8_t key[32] = "k-e-y-k-e-y-k-e-y-k-e-y-k-e-y-!!";
static const uint8_t salt[32] = "s-a-l-t-s-a-l-t-s-a-l-t-s-a-l-t!";

typedef struct result {
    int err;
    uint64_t pos;
    toy_req_submit_data req;
    rt_parser p;
} result;

/* Parses body split into pieces of `step` bytes (0: after `cut` bytes). */
static void parse(result *r, const char *body, size_t n, size_t step, size_t cut)
{
    rt_parse_ctx ctx = { key, sizeof key, salt, sizeof salt };
    memset(r, 0, sizeof *r);
    rt_parse_init(&r->p, &toy_schema_submit_data, &r->req, &ctx);
    if (step) {
        for (size_t i = 0; i < n; i += step)
            rt_parse_feed(&r->p, (const uint8_t *)body + i, n - i < step ? n - i : step);
    } else {
        rt_parse_feed(&r->p, (const uint8_t *)body, cut);
        rt_parse_feed(&r->p, (const uint8_t *)body + cut, n - cut);
    }
    rt_parse_finish(&r->p);
    r->err = rt_parse_error(&r->p);
    r->pos = rt_parse_error_pos(&r->p);
}

/* Parses whole, at every two-piece split and byte by byte; all must agree. */
static void parse_all_ways(result *whole, const char *body, size_t n)
{
    static result r;
    parse(whole, body, n, 0, n);
    for (size_t cut = 0; cut <= n; cut++) {
        parse(&r, body, n, 0, cut);
        assert_int_equal(r.err, whole->err);
        assert_int_equal(r.pos, whole->pos);
        assert_memory_equal(&r.req, &whole->req, sizeof r.req);
    }
    parse(&r, body, n, 1, 0);
    assert_int_equal(r.err, whole->err);
    assert_int_equal(r.pos, whole->pos);
    assert_memory_equal(&r.req, &whole->req, sizeof r.req);
}

static void expect_error(const char *body, int err, uint64_t pos)
{
    static result r;
    parse_all_ways(&r, body, strlen(body));
    if (r.err != err || r.pos != pos)
        fail_msg("body %s: got %s at %llu, want %s at %llu", body, rt_perr_name(r.err),
                 (unsigned long long)r.pos, rt_perr_name(err), (unsigned long long)pos);
}

static void test_valid_outputs(void **state)
{
    (void)state;
    static result r;
    const char *body = "{ \"sensitivePayload\" : \"I watch a movie\\n\\u00e9 age: 19\",\n"
                       "  \"userId\":\"user_abc123\" }";
    const char *payload = "I watch a movie\n\xc3\xa9 age: 19";
    parse_all_ways(&r, body, strlen(body));
    assert_int_equal(r.err, 0);

    uint8_t want[32];
    struct hmac_sha256_ctx h;
    hmac_sha256_set_key(&h, sizeof key, key);
    hmac_sha256_update(&h, strlen("user_abc123"), (const uint8_t *)"user_abc123");
    hmac_sha256_digest(&h, 32, want);
    assert_memory_equal(r.req.userId_pseudonym, want, 32);

    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, sizeof salt, salt);
    sha256_update(&c, strlen(payload), (const uint8_t *)payload);
    sha256_digest(&c, 32, want);
    assert_memory_equal(r.req.sensitivePayload_commit, want, 32);

    assert_int_equal(r.req.sensitivePayload_classify.category, TOY_CLASSIFY_CATEGORY_ENTERTAINMENT);
    assert_int_equal(r.req.sensitivePayload_classify.bracket, TOY_CLASSIFY_BRACKET_L18_25);
    assert_int_equal(r.req.present, 3);
}

static void test_errors(void **state)
{
    (void)state;
    /* offsets are of the byte at which the body went wrong */
    expect_error("", RT_E_TRUNCATED, 0);
    expect_error("[]", RT_E_TYPE, 0);
    expect_error("{\"userId\":\"u\"}", RT_E_MISSING_KEY, 14);
    expect_error("{\"userId\":\"u\",\"sensitivePayload\":\"p\",\"x\":1}", RT_E_UNKNOWN_KEY, 37);
    expect_error("{\"userId\":\"u\",\"userId\":\"v\",\"sensitivePayload\":\"p\"}", RT_E_DUP_KEY, 14);
    expect_error("{\"userId\":\"u\",\"user\\u0049d\":\"v\",\"sensitivePayload\":\"p\"}", RT_E_DUP_KEY, 14);
    expect_error("{\"userId\":1,\"sensitivePayload\":\"p\"}", RT_E_TYPE, 10);
    expect_error("{\"userId\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", RT_E_TYPE, 10);
    expect_error("{\"userId\":\"\",\"sensitivePayload\":\"p\"}", RT_E_LENGTH, 11);
    expect_error("{\"userId\":\"u\",\"sensitivePayload\":\"p\"} x", RT_E_TRAILING, 38);
    expect_error("{\"userId\":\"u\",\"sensitivePayload\":\"p\"", RT_E_TRUNCATED, 36);
    expect_error("{\"userId\":\"\xc0\xaf\",\"sensitivePayload\":\"p\"}", RT_E_UTF8, 11);
    expect_error("{\"userId\":\"\xed\xa0\x80\",\"sensitivePayload\":\"p\"}", RT_E_UTF8, 12);
    expect_error("{\"userId\":\"\\ud800\",\"sensitivePayload\":\"p\"}", RT_E_UTF8, 17);
    expect_error("{\"userId\":\"u\" \"sensitivePayload\":\"p\"}", RT_E_SYNTAX, 14);
    expect_error("{\"userId\":\"a\x01\",\"sensitivePayload\":\"p\"}", RT_E_SYNTAX, 12);
}

static void test_length_bounds(void **state)
{
    (void)state;
    static char body[70000];
    static result r;
    /* userId: 1..256 bytes after decoding */
    for (int n = 255; n <= 257; n++) {
        size_t k = (size_t)sprintf(body, "{\"sensitivePayload\":\"p\",\"userId\":\"");
        memset(body + k, 'a', (size_t)n);
        k += (size_t)n;
        k += (size_t)sprintf(body + k, "\"}");
        parse(&r, body, k, 0, k);
        if (n <= 256)
            assert_int_equal(r.err, 0);
        else {
            assert_int_equal(r.err, RT_E_LENGTH);
            assert_int_equal(r.pos, 34 + 256);
        }
    }
}

static void test_body_limit(void **state)
{
    (void)state;
    size_t max = toy_schema_submit_data.max_body;
    char *body = malloc(max + 2);
    size_t k = (size_t)sprintf(body, "{\"userId\":\"u\",\"sensitivePayload\":\"");
    memset(body + k, 'x', max + 1 - k);
    static result r;
    parse(&r, body, max + 1, 4096, 0);
    assert_int_equal(r.err, RT_E_TOO_LARGE);
    assert_int_equal(r.pos, max);
    free(body);
}

/* Nothing of a secret or pseudonymous value survives the parse. */
static int contains(const void *hay, size_t n, const char *needle, size_t k)
{
    return k <= n && memmem(hay, n, needle, k) != NULL;
}

static void test_no_secret_left(void **state)
{
    (void)state;
    const char *body = "{\"userId\":\"Uid-Zq9\\u00e9-7731-Pseudo\","
                       "\"sensitivePayload\":\"Zq9\\u00e9Secret-Value-\\n-4711 movie age: 30\"}";
    const char *secrets[] = { "Zq9\xc3\xa9Secret-Value-\n-4711 movie age: 30", "Uid-Zq9\xc3\xa9-7731-Pseudo" };
    static result r;
    size_t n = strlen(body);
    for (size_t step = 1; step <= n; step++) {
        parse(&r, body, n, step, 0);
        assert_int_equal(r.err, 0);
        for (int s = 0; s < 2; s++) {
            size_t len = strlen(secrets[s]);
            for (size_t i = 0; i + 6 <= len; i++) {
                assert_false(contains(&r.req, sizeof r.req, secrets[s] + i, 6));
                assert_false(contains(&r.p, sizeof r.p, secrets[s] + i, 6));
            }
        }
    }
    /* The scan can see: a keyword of the payload planted in the struct is found. */
    memcpy((char *)&r.req + 40, "Secret", 6);
    assert_true(contains(&r.req, sizeof r.req, "Secret", 6));
}

/* Parses a delete_data body whole, at every split and byte by byte; all
 * must agree.  Returns the error. */
static int parse_delete(const char *body, toy_req_delete_data *out, uint64_t *pos)
{
    rt_parse_ctx ctx = { key, sizeof key, salt, sizeof salt };
    rt_parser p;
    size_t n = strlen(body);
    int err = -1;
    for (size_t cut = 0; cut <= n + 1; cut++) {
        toy_req_delete_data d;
        rt_parse_init(&p, &toy_schema_delete_data, &d, &ctx);
        if (cut <= n) {
            rt_parse_feed(&p, (const uint8_t *)body, cut);
            rt_parse_feed(&p, (const uint8_t *)body + cut, n - cut);
        } else {
            for (size_t i = 0; i < n; i++)
                rt_parse_feed(&p, (const uint8_t *)body + i, 1);
        }
        int e = rt_parse_finish(&p);
        if (cut == 0) {
            err = e;
            *pos = rt_parse_error_pos(&p);
            *out = d;
        }
        assert_int_equal(e, err);
        if (e)
            assert_int_equal(rt_parse_error_pos(&p), *pos);
        else
            assert_memory_equal(&d, out, sizeof d);
    }
    return err;
}

static void test_other_schemas(void **state)
{
    (void)state;
    rt_parse_ctx ctx = { key, sizeof key, salt, sizeof salt };
    rt_parser p;
    /* The deletion token: 32 bytes as 64 lowercase hex digits, secret, whose
     * one sink is the SHA-256 of the decoded bytes. */
    static const char hex[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    uint8_t raw[32], want[32];
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        raw[i] = (uint8_t)v;
    }
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, 32, raw);
    sha256_digest(&c, 32, want);
    char body[256];
    snprintf(body, sizeof body, "{\"deletionToken\":\"%s\"}", hex);
    toy_req_delete_data d;
    uint64_t pos = 0;
    assert_int_equal(parse_delete(body, &d, &pos), 0);
    assert_memory_equal(d.deletionToken_digest, want, 32);
    assert_int_equal(d.present, 1);
    /* Neither the hex text nor the raw bytes are kept anywhere in the struct. */
    for (size_t i = 0; i + 6 <= 64; i++)
        assert_false(contains(&d, sizeof d, hex + i, 6));
    for (size_t i = 0; i + 6 <= 32; i++)
        assert_false(contains(&d, sizeof d, (const char *)raw + i, 6));
    /* An escaped digit is a digit. */
    snprintf(body, sizeof body, "{\"deletionToken\":\"\\u0030%s\"}", hex + 1);
    assert_int_equal(parse_delete(body, &d, &pos), 0);
    assert_memory_equal(d.deletionToken_digest, want, 32);
    /* Anything but [0-9a-f] fails at that byte: an upper-case digit, a 'g'. */
    snprintf(body, sizeof body, "{\"deletionToken\":\"%.10sA%s\"}", hex, hex + 11);
    assert_int_equal(parse_delete(body, &d, &pos), RT_E_FORMAT);
    assert_int_equal(pos, 18 + 10);
    snprintf(body, sizeof body, "{\"deletionToken\":\"%.63sg\"}", hex);
    assert_int_equal(parse_delete(body, &d, &pos), RT_E_FORMAT);
    assert_int_equal(pos, 18 + 63);
    /* Too short, too long. */
    assert_int_equal(parse_delete("{\"deletionToken\":\"abc\"}", &d, &pos), RT_E_LENGTH);
    snprintf(body, sizeof body, "{\"deletionToken\":\"%s0\"}", hex);
    assert_int_equal(parse_delete(body, &d, &pos), RT_E_LENGTH);

    toy_req_signup s;
    const char *su = "{\"userId\":\"someone@example.com\"}";
    rt_parse_init(&p, &toy_schema_signup, &s, &ctx);
    rt_parse_feed(&p, (const uint8_t *)su, strlen(su));
    assert_int_equal(rt_parse_finish(&p), 0);
    assert_int_equal(s.present, 1);
    assert_false(contains(&s, sizeof s, "someone", 7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_outputs),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_length_bounds),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_no_secret_left),
        cmocka_unit_test(test_other_schemas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

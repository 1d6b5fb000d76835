/*
 * fuzz_rt_parse.c — libFuzzer harness for rt_parse against the fixture schema.
 *
 * Input: byte 0 picks a split offset, the rest is the body.  The body is
 * parsed whole, in two chunks cut at that offset, and (when short) one byte
 * at a time; every run must give the same error, offset, reason, field and
 * request struct.  When the body is accepted, json-c (strict, UTF-8
 * validating) must accept it too and decode the same values.
 *
 * Built by `make fuzz` (libFuzzer) and, replaying tests/fuzz/corpus/fuzz_rt_parse,
 * by `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "rt_parse.h"
#include "rt_parse_fixture.h"

typedef struct result {
    int err;
    uint64_t pos;
    const char *reason, *field;
    fx_req out;
} result;

static void parse(const uint8_t *b, size_t n, const size_t *cuts, size_t ncuts,
                  result *r)
{
    rt_parser p;
    size_t at = 0;
    rt_parse_init(&p, &fx_schema, &r->out, &fx_ctx);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        rt_parse_feed(&p, b + at, to - at);
        at = to;
    }
    r->err = rt_parse_finish(&p);
    r->pos = rt_parse_error_pos(&p);
    r->reason = rt_parse_reason(&p);
    r->field = rt_parse_error_field(&p);
}

static void same(const result *a, const result *b)
{
    if (a->err != b->err || a->pos != b->pos || a->reason != b->reason ||
        a->field != b->field || memcmp(&a->out, &b->out, sizeof a->out))
        abort();
}

static json_object *member(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* Our accepted body, decoded by json-c, must give the same outputs. */
static void cross_check(const uint8_t *b, size_t n, const fx_req *got)
{
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, (const char *)b, (int)n);
    if (!o || json_tokener_get_error(tok) != json_tokener_success)
        abort();
    fx_req want;
    memset(&want, 0, sizeof want);
    json_object *v;
    if ((v = member(o, "userId"))) {
        struct hmac_sha256_ctx h;
        want.present |= 1u << FX_USERID;
        hmac_sha256_set_key(&h, sizeof fx_pseudonym_key, fx_pseudonym_key);
        hmac_sha256_update(&h, (size_t)json_object_get_string_len(v),
                           (const uint8_t *)json_object_get_string(v));
        hmac_sha256_digest(&h, RT_HASH_LEN, want.userId_pseudonym);
    }
    if ((v = member(o, "sensitivePayload"))) {
        struct sha256_ctx h;
        const char *s = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        want.present |= 1u << FX_SENSITIVEPAYLOAD;
        sha256_init(&h);
        sha256_update(&h, sizeof fx_salt, fx_salt);
        sha256_update(&h, len, (const uint8_t *)s);
        sha256_digest(&h, RT_HASH_LEN, want.sensitivePayload_commit);
        for (size_t i = 0; i < len; i++)
            want.sensitivePayload_count_e.count += s[i] == 'e';
    }
    if ((v = member(o, "note"))) {
        want.present |= 1u << FX_NOTE;
        want.note_len = (uint32_t)json_object_get_string_len(v);
        if (want.note_len > 32)
            abort();
        memcpy(want.note, json_object_get_string(v), want.note_len);
    }
    if ((v = member(o, "age"))) {
        want.present |= 1u << FX_AGE;
        want.age = json_object_get_int64(v);
    }
    if ((v = member(o, "consent"))) {
        want.present |= 1u << FX_CONSENT;
        want.consent = (uint8_t)json_object_get_boolean(v);
    }
    if ((v = member(o, "profile"))) {
        json_object *c = member(v, "city");
        want.present |= 1u << FX_PROFILE;
        want.profile_present |= 1u << FX_PROFILE_CITY;
        want.profile_city_len = (uint32_t)json_object_get_string_len(c);
        if (want.profile_city_len > 64)
            abort();
        memcpy(want.profile_city, json_object_get_string(c), want.profile_city_len);
    }
    if (memcmp(&want, got, sizeof want))
        abort();
    json_object_put(o);
    json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    size_t cut = n ? (size_t)data[0] * 2654435761u % (n + 1) : 0;
    static result whole, r;

    parse(b, n, NULL, 0, &whole);
    parse(b, n, &cut, 1, &r);
    same(&whole, &r);
    if (n <= 512) {
        size_t cuts[512];
        for (size_t i = 0; i < n; i++)
            cuts[i] = i;
        parse(b, n, cuts, n, &r);
        same(&whole, &r);
    }
    if (whole.err == 0)
        cross_check(b, n, &whole.out);
    else {
        static const fx_req zero;
        if (memcmp(&whole.out, &zero, sizeof zero) || !whole.reason ||
            whole.pos > n)
            abort();
    }
    return 0;
}

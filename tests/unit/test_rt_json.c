/*
 * test_rt_json.c - unit tests for runtime/rt_json (RFC 8785 canonical JSON
 * writer, UTF-16 key order, strict UTF-8 validation).
 *
 * Expected canonical bytes come from RFC 8785 and published JCS test data
 * (tests/data/rfc8785/, see its README) or from reference functions in this
 * file that are written independently of rt_json.c.  json-c is used as an
 * independent parser to check that the output reads back as the input.
 *
 * Vector files are looked up in $RT_JSON_TESTDATA_DIR, else in
 * RT_JSON_TESTDATA_DIR (default: tests/data/rfc8785, i.e. run from the
 * repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "rt_json.h"

#ifndef RT_JSON_TESTDATA_DIR
#define RT_JSON_TESTDATA_DIR "tests/data/rfc8785"
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LIT(s) (s), (sizeof(s) - 1) /* string literal as (ptr, len) */

/* ---------------------------------------------------- test utilities */

/* Deterministic PRNG (xorshift64*) so failures reproduce. */
static uint64_t rng_state;

static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static uint32_t rng_below(uint32_t n) { return (uint32_t)(rng_next() % n); }

/* Reads a vector file completely; fails the test if it is missing. */
static char *slurp(const char *name, size_t *len)
{
    const char *dir = getenv("RT_JSON_TESTDATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : RT_JSON_TESTDATA_DIR,
             name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open test vector %s (run from the repository root "
                 "or set RT_JSON_TESTDATA_DIR)", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Asserts the writer finished OK and produced exactly exp[0..en). */
static void expect_output(rt_jw *w, const char *exp, size_t en)
{
    int rc = rt_jw_finish(w);
    if (rc != 0)
        fail_msg("rt_jw_finish: %s", rt_jw_strerror(rc));
    if (w->len != en || memcmp(w->buf, exp, en) != 0)
        fail_msg("output mismatch:\n  got: %.*s\n want: %.*s", (int)w->len,
                 w->buf, (int)en, exp);
}

/* Independent UTF-8 encoder (code point -> bytes). */
static size_t ref_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Independent strict UTF-8 check, by decoding then range-checking (the
 * library instead restricts the second byte per lead byte).  Returns the
 * valid prefix length; *cps receives the decoded code points if non-NULL.
 */
static size_t ref_utf8_decode(const uint8_t *s, size_t n, uint32_t *cps,
                              size_t *ncp)
{
    size_t i = 0, k = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80)              { len = 1; cp = c;        min = 0; }
        else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else break;
        if (n - i < len)
            break;
        size_t j;
        for (j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                break;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if (j < len || cp < min || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            break;
        if (cps)
            cps[k] = cp;
        k++;
        i += len;
    }
    if (ncp)
        *ncp = k;
    return i;
}

/* Reference RFC 8785 key order: convert to UTF-16 and compare units. */
static int ref_utf16_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    uint32_t ca[256], cb[256];
    uint16_t ua[512], ub[512];
    size_t na, nb, la = 0, lb = 0;
    assert_true(an <= 256 && bn <= 256);
    assert_int_equal(ref_utf8_decode((const uint8_t *)a, an, ca, &na), an);
    assert_int_equal(ref_utf8_decode((const uint8_t *)b, bn, cb, &nb), bn);
    for (size_t i = 0; i < na; i++) {
        if (ca[i] < 0x10000) {
            ua[la++] = (uint16_t)ca[i];
        } else {
            ua[la++] = (uint16_t)(0xD800 + ((ca[i] - 0x10000) >> 10));
            ua[la++] = (uint16_t)(0xDC00 + ((ca[i] - 0x10000) & 0x3FF));
        }
    }
    for (size_t i = 0; i < nb; i++) {
        if (cb[i] < 0x10000) {
            ub[lb++] = (uint16_t)cb[i];
        } else {
            ub[lb++] = (uint16_t)(0xD800 + ((cb[i] - 0x10000) >> 10));
            ub[lb++] = (uint16_t)(0xDC00 + ((cb[i] - 0x10000) & 0x3FF));
        }
    }
    for (size_t i = 0; i < la && i < lb; i++)
        if (ua[i] != ub[i])
            return ua[i] < ub[i] ? -1 : 1;
    return la < lb ? -1 : la > lb;
}

/* Reference JCS string serialization, straight from RFC 8785 3.2.2.2. */
static size_t ref_jcs_string(const char *s, size_t n, char *out)
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':  out[o++] = '\\'; out[o++] = '"';  break;
        case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
        case 0x08: out[o++] = '\\'; out[o++] = 'b';  break;
        case 0x09: out[o++] = '\\'; out[o++] = 't';  break;
        case 0x0A: out[o++] = '\\'; out[o++] = 'n';  break;
        case 0x0C: out[o++] = '\\'; out[o++] = 'f';  break;
        case 0x0D: out[o++] = '\\'; out[o++] = 'r';  break;
        default:
            if (c < 0x20)
                o += (size_t)sprintf(out + o, "\\u%04x", c);
            else
                out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

/* Parses with json-c in strict mode (also validating UTF-8). */
static struct json_object *parse_strict(const char *s, size_t n)
{
    /* Depth above json-c's default of 32 so RT_JW_MAX_DEPTH fits. */
    struct json_tokener *tok = json_tokener_new_ex(RT_JW_MAX_DEPTH + 8);
    assert_non_null(tok);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                    JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    enum json_tokener_error e = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!o && e != json_tokener_success)
        fail_msg("json-c rejected %.*s: %s", (int)n, s,
                 json_tokener_error_desc(e));
    return o;
}

/* ------------------------------------------------------------------------
 * Test canonicalizer: walks a json-c tree and emits it through the rt_jw
 * API, ordering members with rt_json_key_cmp.  Integral doubles are
 * emitted as integers (56.0 -> 56, as JCS does); other doubles fail.
 */
struct member {
    const char *key;
    struct json_object *val;
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    return rt_json_key_cmp(x->key, strlen(x->key), y->key, strlen(y->key));
}

static void emit_jc(rt_jw *w, struct json_object *o, int sort)
{
    switch (json_object_get_type(o)) {
    case json_type_null:
        rt_jw_null(w);
        break;
    case json_type_boolean:
        rt_jw_bool(w, json_object_get_boolean(o));
        break;
    case json_type_int:
        rt_jw_int(w, json_object_get_int64(o));
        break;
    case json_type_double: {
        double d = json_object_get_double(o);
        if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) ||
            d != (double)(int64_t)d)
            fail_msg("non-integral number %.17g in a vector", d);
        rt_jw_int(w, (int64_t)d);
        break;
    }
    case json_type_string:
        rt_jw_str(w, json_object_get_string(o),
                  (size_t)json_object_get_string_len(o));
        break;
    case json_type_array: {
        size_t n = json_object_array_length(o);
        rt_jw_arr_begin(w);
        for (size_t i = 0; i < n; i++)
            emit_jc(w, json_object_array_get_idx(o, i), sort);
        rt_jw_arr_end(w);
        break;
    }
    case json_type_object: {
        size_t n = (size_t)json_object_object_length(o), k = 0;
        struct member *m = calloc(n ? n : 1, sizeof *m);
        assert_non_null(m);
        struct json_object_iterator it = json_object_iter_begin(o);
        struct json_object_iterator end = json_object_iter_end(o);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            m[k].key = json_object_iter_peek_name(&it);
            m[k].val = json_object_iter_peek_value(&it);
            k++;
        }
        assert_int_equal(k, n);
        if (sort)
            qsort(m, n, sizeof *m, member_cmp);
        rt_jw_obj_begin(w);
        for (size_t i = 0; i < n; i++) {
            rt_jw_key(w, m[i].key, strlen(m[i].key));
            emit_jc(w, m[i].val, sort);
        }
        rt_jw_obj_end(w);
        free(m);
        break;
    }
    }
}

/* ------------------------------------------------------ RFC 8785 vectors */

/* Decodes the RFC's whitespace-separated hex dump. */
static size_t hex_dump_decode(const char *t, char *out)
{
    size_t n = 0;
    unsigned v;
    int used;
    while (sscanf(t, " %2x%n", &v, &used) == 1) {
        out[n++] = (char)v;
        t += used;
    }
    return n;
}

/* RFC 8785 3.2.2 / 3.2.4: the sample document, all but the numbers. */
static void test_rfc8785_sample_document(void **state)
{
    (void)state;
    size_t in_n, out_n, hex_n;
    char *in = slurp("rfc8785-3.2.2.in.json", &in_n);
    char *exp = slurp("rfc8785-3.2.2.out.json", &out_n);
    char *hex = slurp("rfc8785-3.2.4.hex", &hex_n);

    /* The two published forms of the output must agree. */
    char bytes[512];
    size_t bn = hex_dump_decode(hex, bytes);
    assert_int_equal(bn, out_n);
    assert_memory_equal(bytes, exp, bn);

    struct json_object *root = parse_strict(in, in_n);
    struct json_object *lit, *str, *num;
    assert_true(json_object_object_get_ex(root, "literals", &lit));
    assert_true(json_object_object_get_ex(root, "string", &str));
    assert_true(json_object_object_get_ex(root, "numbers", &num));
    assert_int_equal(json_object_array_length(num), 5);

    char buf[512];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("literals"));
    emit_jc(&w, lit, 1);
    rt_jw_key(&w, LIT("numbers"));
    /* Floating point is out of scope for rt_json (see rt_json.h); this
     * member is spliced so the rest of the document can be compared. */
    rt_jw_raw(&w, LIT("[333333333.3333333,1e+30,4.5,0.002,1e-27]"));
    rt_jw_key(&w, LIT("string"));
    emit_jc(&w, str, 1);
    rt_jw_obj_end(&w);
    expect_output(&w, bytes, bn);

    json_object_put(root);
    free(in);
    free(exp);
    free(hex);
}

/* RFC 8785 3.2.3: property sorting by UTF-16 code units. */
static void test_rfc8785_sorting_example(void **state)
{
    (void)state;
    size_t in_n, out_n, ord_n;
    char *in = slurp("rfc8785-3.2.3.in.json", &in_n);
    char *exp = slurp("rfc8785-3.2.3.out.json", &out_n);
    char *ord = slurp("rfc8785-3.2.3.order.txt", &ord_n);
    struct json_object *root = parse_strict(in, in_n);

    char buf[512];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    emit_jc(&w, root, 1);
    expect_output(&w, exp, out_n);

    /* The values appear in exactly the order the RFC lists. */
    struct json_object *back = parse_strict(buf, w.len);
    struct json_object_iterator it = json_object_iter_begin(back);
    struct json_object_iterator end = json_object_iter_end(back);
    char *line = ord;
    size_t count = 0;
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_string_equal(
            json_object_get_string(json_object_iter_peek_value(&it)), line);
        line = nl + 1;
        count++;
    }
    assert_int_equal(count, 7);
    assert_int_equal(*line, '\0');

    /* The emoji (surrogates D83D DE00) sorts before U+FB33 although its
     * code point and UTF-8 bytes are larger. */
    assert_true(rt_json_key_cmp(LIT("\xF0\x9F\x98\x80"),
                                LIT("\xEF\xAC\xB3")) < 0);
    assert_true(memcmp("\xF0\x9F\x98\x80", "\xEF\xAC\xB3", 3) > 0);

    /* Emitting the members in the RFC's input order is a caller bug the
     * writer must catch. */
    rt_jw_init(&w, buf, sizeof buf);
    emit_jc(&w, root, 0);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_ORDER);

    json_object_put(back);
    json_object_put(root);
    free(in);
    free(exp);
    free(ord);
}

/* All input/output pairs: parse input, emit sorted, compare bytes. */
static void test_vector_files(void **state)
{
    (void)state;
    static const char *const names[] = {
        "rfc8785-3.2.3",        "cyberphone-weird",  "cyberphone-structures",
        "cyberphone-french",    "cyberphone-unicode",
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        char fn[256];
        size_t in_n, out_n;
        snprintf(fn, sizeof fn, "%s.in.json", names[i]);
        char *in = slurp(fn, &in_n);
        snprintf(fn, sizeof fn, "%s.out.json", names[i]);
        char *exp = slurp(fn, &out_n);

        struct json_object *root = parse_strict(in, in_n);
        char buf[1024];
        rt_jw w;
        rt_jw_init(&w, buf, sizeof buf);
        emit_jc(&w, root, 1);
        print_message("vector %s\n", names[i]);
        expect_output(&w, exp, out_n);

        json_object_put(root);
        free(in);
        free(exp);
    }
}

/* ------------------------------------------------------ string escaping */

static void test_escape_every_control_char(void **state)
{
    (void)state;
    /* RFC 8785 3.2.2.2, written out by hand. */
    static const char *const want[32] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005",
        "\\u0006", "\\u0007", "\\b",     "\\t",     "\\n",     "\\u000b",
        "\\f",     "\\r",     "\\u000e", "\\u000f", "\\u0010", "\\u0011",
        "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d",
        "\\u001e", "\\u001f",
    };
    for (unsigned c = 0; c < 32; c++) {
        char in[3] = { 'a', (char)c, 'z' };
        char exp[16], buf[32];
        int en = snprintf(exp, sizeof exp, "\"a%sz\"", want[c]);
        rt_jw w;
        rt_jw_init(&w, buf, sizeof buf);
        rt_jw_str(&w, in, sizeof in);
        expect_output(&w, exp, (size_t)en);

        /* Keys use the same escaping. */
        en = snprintf(exp, sizeof exp, "{\"%s\":0}", want[c]);
        rt_jw_init(&w, buf, sizeof buf);
        rt_jw_obj_begin(&w);
        rt_jw_key(&w, in + 1, 1);
        rt_jw_int(&w, 0);
        rt_jw_obj_end(&w);
        expect_output(&w, exp, (size_t)en);
    }

    /* All 32 in one string, back to back. */
    char in[32], buf[256], exp[256];
    size_t en = 0;
    exp[en++] = '"';
    for (unsigned c = 0; c < 32; c++) {
        in[c] = (char)c;
        memcpy(exp + en, want[c], strlen(want[c]));
        en += strlen(want[c]);
    }
    exp[en++] = '"';
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_str(&w, in, sizeof in);
    expect_output(&w, exp, en);
}

static void test_escape_quote_backslash_and_passthrough(void **state)
{
    (void)state;
    char buf[256];
    rt_jw w;

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_str(&w, LIT("\"\\"));
    expect_output(&w, LIT("\"\\\"\\\\\""));

    /* '/', DEL and every other printable ASCII byte are copied as is. */
    char in[96];
    for (unsigned c = 0x20; c <= 0x7F; c++)
        in[c - 0x20] = (char)c;
    char exp[128];
    size_t en = ref_jcs_string(in, sizeof in, exp);
    assert_int_equal(en, 2 + 96 + 2); /* only '"' and '\\' grow */
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_str(&w, in, sizeof in);
    expect_output(&w, exp, en);
    assert_non_null(memchr(buf, '/', w.len));
    assert_non_null(memchr(buf, 0x7F, w.len));

    /* 2-, 3- and 4-byte sequences, including range boundaries. */
    static const char nonascii[] =
        "\xC2\x80" "\xC3\xB6" "\xDF\xBF"                   /* U+0080 ö U+07FF */
        "\xE0\xA0\x80" "\xE2\x82\xAC" "\xED\x9F\xBF"       /* U+0800 € U+D7FF */
        "\xEE\x80\x80" "\xEF\xBF\xBD" "\xEF\xBF\xBF"       /* U+E000 U+FFFD U+FFFF */
        "\xE2\x80\xA8" "\xE2\x80\xA9"                      /* U+2028 U+2029 */
        "\xF0\x90\x80\x80" "\xF0\x9F\x98\x80" "\xF4\x8F\xBF\xBF"; /* U+10000 😀 U+10FFFF */
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_str(&w, LIT(nonascii));
    assert_int_equal(rt_jw_finish(&w), 0);
    assert_int_equal(w.len, sizeof nonascii - 1 + 2);
    assert_memory_equal(buf + 1, nonascii, sizeof nonascii - 1);

    /* Empty string, NULL with length 0. */
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_str(&w, NULL, 0);
    expect_output(&w, LIT("\"\""));
}

/* ----------------------------------------------------------------- UTF-8 */

struct bad_utf8 {
    const char *bytes;
    size_t len;
    size_t valid_prefix; /* of "ab" + bytes + "cd" */
};

static void test_invalid_utf8_rejected(void **state)
{
    (void)state;
    static const struct bad_utf8 cases[] = {
        { LIT("\xC0\xAF"), 2 },             /* overlong '/' */
        { LIT("\xC1\xBF"), 2 },             /* overlong */
        { LIT("\xE0\x80\xAF"), 2 },         /* overlong '/' */
        { LIT("\xE0\x9F\xBF"), 2 },         /* overlong U+07FF */
        { LIT("\xF0\x80\x80\xAF"), 2 },     /* overlong '/' */
        { LIT("\xF0\x8F\xBF\xBF"), 2 },     /* overlong U+FFFF */
        { LIT("\xED\xA0\x80"), 2 },         /* U+D800 */
        { LIT("\xED\xBF\xBF"), 2 },         /* U+DFFF */
        { LIT("\xED\xA0\xBD\xED\xB8\x80"), 2 }, /* CESU-8 surrogate pair */
        { LIT("\xF4\x90\x80\x80"), 2 },     /* U+110000 */
        { LIT("\xF5\x80\x80\x80"), 2 },     /* lead byte F5 */
        { LIT("\xFF"), 2 },
        { LIT("\xFE"), 2 },
        { LIT("\xE2\x82"), 2 },             /* truncated € */
        { LIT("\xF0\x9F\x98"), 2 },         /* truncated 😀 */
        { LIT("\xC3"), 2 },                 /* truncated ö */
        { LIT("\x80"), 2 },                 /* lone continuation */
        { LIT("\xBF"), 2 },
        { LIT("\xC3\xB6\x80"), 4 },         /* ö then stray continuation */
        { LIT("\xE2\x28\xA1"), 2 },         /* bad second byte */
        { LIT("\xE2\x82\x28"), 2 },         /* bad third byte */
        { LIT("\xF0\x9F\x98\x28"), 2 },     /* bad fourth byte */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct bad_utf8 *c = &cases[i];
        char in[32], buf[64];
        memcpy(in, "ab", 2);
        memcpy(in + 2, c->bytes, c->len);
        memcpy(in + 2 + c->len, "cd", 2);
        size_t n = c->len + 4;

        assert_int_equal(rt_utf8_valid_prefix((const uint8_t *)in, n),
                         c->valid_prefix);
        assert_int_equal(ref_utf8_decode((const uint8_t *)in, n, NULL, NULL),
                         c->valid_prefix);

        /* Alone, at the end of input (truncation at the buffer end). */
        assert_int_equal(
            rt_utf8_valid_prefix((const uint8_t *)c->bytes, c->len),
            c->valid_prefix - 2);

        rt_jw w;
        rt_jw_init(&w, buf, sizeof buf);
        rt_jw_str(&w, in, n);
        assert_int_equal(w.err, RT_JW_E_UTF8);
        assert_int_equal(w.len, 0); /* nothing of the string was written */
        assert_int_equal(rt_jw_finish(&w), RT_JW_E_UTF8);

        rt_jw_init(&w, buf, sizeof buf);
        rt_jw_obj_begin(&w);
        rt_jw_key(&w, in, n);
        rt_jw_int(&w, 1);
        rt_jw_obj_end(&w);
        assert_int_equal(rt_jw_finish(&w), RT_JW_E_UTF8);

        /* As a value inside a structure. */
        rt_jw_init(&w, buf, sizeof buf);
        rt_jw_arr_begin(&w);
        rt_jw_str(&w, LIT("ok"));
        rt_jw_str(&w, c->bytes, c->len);
        rt_jw_arr_end(&w);
        assert_int_not_equal(rt_jw_finish(&w), 0);
        assert_int_equal(w.err, RT_JW_E_UTF8);
    }
}

static void test_utf8_valid_prefix_edges(void **state)
{
    (void)state;
    static const uint32_t ok[] = {
        0x0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xD7FF, 0xE000,
        0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x3FFFF, 0x40000, 0xFFFFF,
        0x100000, 0x10FFFF,
    };
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        char s[4];
        size_t n = ref_utf8_encode(ok[i], s);
        assert_int_equal(rt_utf8_valid_prefix((const uint8_t *)s, n), n);
    }
    assert_int_equal(rt_utf8_valid_prefix(NULL, 0), 0);

    /* Truncation is judged by n alone, even when the missing bytes are
     * present in memory just past it. */
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        char s[4];
        size_t n = ref_utf8_encode(ok[i], s);
        for (size_t k = 1; k < n; k++)
            assert_int_equal(rt_utf8_valid_prefix((const uint8_t *)s, k), 0);
    }

    /* The ASCII fast path must hand over correctly at every alignment. */
    char s[64];
    for (size_t pos = 0; pos < 40; pos++) {
        memset(s, 'a', sizeof s);
        memcpy(s + pos, "\xE2\x82\xAC", 3);
        assert_int_equal(rt_utf8_valid_prefix((const uint8_t *)s, sizeof s),
                         sizeof s);
        s[pos + 2] = 'x';
        assert_int_equal(rt_utf8_valid_prefix((const uint8_t *)s, sizeof s),
                         pos);
        s[pos] = (char)0x80;
        assert_int_equal(rt_utf8_valid_prefix((const uint8_t *)s, sizeof s),
                         pos);
    }
}

/*
 * Every 1-, 2- and 3-byte input, and every 4-byte input over a set of
 * interesting trailing bytes, against the decoding reference.
 */
static void test_utf8_exhaustive_vs_reference(void **state)
{
    (void)state;
    uint8_t s[4];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (uint8_t)a;
        assert_int_equal(rt_utf8_valid_prefix(s, 1),
                         ref_utf8_decode(s, 1, NULL, NULL));
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            assert_int_equal(rt_utf8_valid_prefix(s, 2),
                             ref_utf8_decode(s, 2, NULL, NULL));
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (uint8_t)c;
                size_t got = rt_utf8_valid_prefix(s, 3);
                size_t want = ref_utf8_decode(s, 3, NULL, NULL);
                if (got != want)
                    fail_msg("%02x %02x %02x: got %zu want %zu", a, b, c,
                             got, want);
            }
        }
    }
    static const uint8_t tails[] = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                                     0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF };
    for (unsigned a = 0xC0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            for (size_t c = 0; c < ARRAY_LEN(tails); c++)
                for (size_t d = 0; d < ARRAY_LEN(tails); d++) {
                    s[0] = (uint8_t)a;
                    s[1] = (uint8_t)b;
                    s[2] = tails[c];
                    s[3] = tails[d];
                    size_t got = rt_utf8_valid_prefix(s, 4);
                    size_t want = ref_utf8_decode(s, 4, NULL, NULL);
                    if (got != want)
                        fail_msg("%02x %02x %02x %02x: got %zu want %zu", a,
                                 b, tails[c], tails[d], got, want);
                }
}

/* -------------------------------------------------------------- integers */

static void expect_int(int64_t v, const char *exp)
{
    char buf[32];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_int(&w, v);
    expect_output(&w, exp, strlen(exp));
}

static void expect_int_range_error(int64_t v)
{
    char buf[64];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_arr_begin(&w);
    rt_jw_int(&w, 1);
    size_t before = w.len;
    rt_jw_int(&w, v);
    assert_int_equal(w.err, RT_JW_E_RANGE);
    assert_int_equal(w.len, before);
    rt_jw_arr_end(&w);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_RANGE);
}

static void test_integers(void **state)
{
    (void)state;
    expect_int(0, "0");
    expect_int(1, "1");
    expect_int(-1, "-1");
    expect_int(10, "10");
    expect_int(-10, "-10");
    expect_int(1000000, "1000000");
    expect_int(INT64_C(9007199254740991), "9007199254740991");   /* 2^53-1 */
    expect_int(-INT64_C(9007199254740991), "-9007199254740991");
    expect_int(INT64_C(9007199254740990), "9007199254740990");

    expect_int_range_error(INT64_C(9007199254740992));           /* 2^53 */
    expect_int_range_error(-INT64_C(9007199254740992));
    expect_int_range_error(INT64_C(9007199254740993));
    expect_int_range_error(INT64_MAX);
    expect_int_range_error(INT64_MIN);
    expect_int_range_error(INT64_MIN + 1);
}

static void test_unsigned_integers(void **state)
{
    (void)state;
    char buf[64];
    rt_jw w;

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_arr_begin(&w);
    rt_jw_uint(&w, 0);
    rt_jw_uint(&w, 42);
    rt_jw_uint(&w, UINT64_C(9007199254740991));
    rt_jw_arr_end(&w);
    expect_output(&w, LIT("[0,42,9007199254740991]"));

    static const uint64_t bad[] = { UINT64_C(9007199254740992),
                                    UINT64_C(18446744073709551615),
                                    UINT64_C(9223372036854775808) };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        rt_jw_init(&w, buf, sizeof buf);
        rt_jw_uint(&w, bad[i]);
        assert_int_equal(w.len, 0);
        assert_int_equal(rt_jw_finish(&w), RT_JW_E_RANGE);
    }
}

/* ------------------------------------------------------ other value kinds */

static void test_literals_hex_raw_and_containers(void **state)
{
    (void)state;
    char buf[256];
    rt_jw w;

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_arr_begin(&w);
    rt_jw_bool(&w, 1);
    rt_jw_bool(&w, 0);
    rt_jw_bool(&w, 42); /* any non-zero is true */
    rt_jw_null(&w);
    rt_jw_arr_begin(&w);
    rt_jw_arr_end(&w);
    rt_jw_obj_begin(&w);
    rt_jw_obj_end(&w);
    rt_jw_hex(&w, (const uint8_t *)"\x00\x01\x7f\x80\xab\xcd\xef\xff", 8);
    rt_jw_hex(&w, NULL, 0);
    rt_jw_raw(&w, LIT("{\"k\":[1,2]}"));
    rt_jw_arr_end(&w);
    expect_output(&w, LIT("[true,false,true,null,[],{},\"00017f80abcdefff\","
                          "\"\",{\"k\":[1,2]}]"));

    /* Raw and hex as object member values. */
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("a"));
    rt_jw_raw(&w, LIT("true"));
    rt_jw_key(&w, LIT("b"));
    rt_jw_hex(&w, (const uint8_t *)"\xde\xad", 2);
    rt_jw_obj_end(&w);
    expect_output(&w, LIT("{\"a\":true,\"b\":\"dead\"}"));

    /* Long hex goes through the chunking. */
    uint8_t bin[300];
    char exp[2 * sizeof bin + 2], big[1024];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 7 + 3);
    exp[0] = '"';
    for (size_t i = 0; i < sizeof bin; i++)
        sprintf(exp + 1 + 2 * i, "%02x", bin[i]);
    exp[sizeof exp - 1] = '"';
    rt_jw_init(&w, big, sizeof big);
    rt_jw_hex(&w, bin, sizeof bin);
    expect_output(&w, exp, sizeof exp);

    /* Each scalar is a complete document on its own. */
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_null(&w);
    expect_output(&w, LIT("null"));
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_obj_end(&w);
    expect_output(&w, LIT("{}"));
}

static void test_finish_nul_termination(void **state)
{
    (void)state;
    char buf[8];
    rt_jw w;

    memset(buf, 'X', sizeof buf);
    rt_jw_init(&w, buf, 5); /* room for "true" and the NUL */
    rt_jw_bool(&w, 1);
    assert_int_equal(rt_jw_finish(&w), 0);
    assert_string_equal(buf, "true");

    memset(buf, 'X', sizeof buf);
    rt_jw_init(&w, buf, 4); /* exactly the output: no NUL */
    rt_jw_bool(&w, 1);
    assert_int_equal(rt_jw_finish(&w), 0);
    assert_int_equal(w.len, 4);
    assert_int_equal(buf[4], 'X');
    assert_int_equal(rt_jw_finish(&w), 0); /* idempotent */
}

/* ----------------------------------------------------- buffer exhaustion */

/* Uses every kind of write at least once, including escapes. */
static void build_big_document(rt_jw *w)
{
    rt_jw_obj_begin(w);
    rt_jw_key(w, LIT("\n"));
    rt_jw_str(w, LIT("tab\there \"q\" back\\slash \x01 \xE2\x82\xAC"));
    rt_jw_key(w, LIT("arr"));
    rt_jw_arr_begin(w);
    rt_jw_int(w, -9007199254740991);
    rt_jw_uint(w, 12345);
    rt_jw_bool(w, 1);
    rt_jw_bool(w, 0);
    rt_jw_null(w);
    rt_jw_hex(w, (const uint8_t *)"\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
    rt_jw_raw(w, LIT("[1,{}]"));
    rt_jw_obj_begin(w);
    rt_jw_key(w, LIT("\xC3\xB6"));
    rt_jw_arr_begin(w);
    rt_jw_arr_end(w);
    rt_jw_key(w, LIT("\xF0\x9F\x98\x80"));
    rt_jw_obj_begin(w);
    rt_jw_obj_end(w);
    rt_jw_key(w, LIT("\xEF\xAC\xB3"));
    rt_jw_str(w, LIT("\x1f"));
    rt_jw_obj_end(w);
    rt_jw_arr_end(w);
    rt_jw_key(w, LIT("z"));
    rt_jw_int(w, 0);
    rt_jw_obj_end(w);
}

static void test_space_every_capacity(void **state)
{
    (void)state;
    char full[512];
    rt_jw w;
    rt_jw_init(&w, full, sizeof full);
    build_big_document(&w);
    assert_int_equal(rt_jw_finish(&w), 0);
    size_t need = w.len;
    json_object_put(parse_strict(full, need)); /* sanity: it is JSON */

    enum { CANARY = 32 };
    for (size_t cap = 0; cap <= need + 1; cap++) {
        /* Heap block sized exactly cap + canary: ASan also sees overruns. */
        char *buf = malloc(cap + CANARY);
        assert_non_null(buf);
        memset(buf, 0xA5, cap + CANARY);
        rt_jw_init(&w, buf, cap);
        build_big_document(&w);
        int rc = rt_jw_finish(&w);
        assert_true(w.len <= cap);
        for (size_t i = cap; i < cap + CANARY; i++)
            if ((unsigned char)buf[i] != 0xA5)
                fail_msg("cap %zu: byte %zu past cap was written", cap, i);
        if (cap < need) {
            if (rc != RT_JW_E_SPACE)
                fail_msg("cap %zu: expected RT_JW_E_SPACE, got %d", cap, rc);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(w.len, need);
            assert_memory_equal(buf, full, need);
        }
        free(buf);

        /* An exact-size block with no slack at all. */
        buf = cap ? malloc(cap) : NULL;
        rt_jw_init(&w, buf, cap);
        build_big_document(&w);
        rc = rt_jw_finish(&w);
        assert_int_equal(rc, cap < need ? RT_JW_E_SPACE : 0);
        free(buf);
    }

    /* Hex output whose size computation would overflow. */
    char small[8];
    rt_jw_init(&w, small, sizeof small);
    rt_jw_hex(&w, (const uint8_t *)"", SIZE_MAX / 2 + 1);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_SPACE);
}

/* ------------------------------------------------------------- key order */

static int two_keys(const char *a, size_t an, const char *b, size_t bn)
{
    char buf[512];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, a, an);
    rt_jw_null(&w);
    rt_jw_key(&w, b, bn);
    rt_jw_null(&w);
    rt_jw_obj_end(&w);
    return rt_jw_finish(&w);
}

static void test_key_order_enforced(void **state)
{
    (void)state;
    assert_int_equal(two_keys(LIT("a"), LIT("b")), 0);
    assert_int_equal(two_keys(LIT("b"), LIT("a")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("a"), LIT("a")), RT_JW_E_ORDER); /* dup */
    assert_int_equal(two_keys(LIT(""), LIT("")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT(""), LIT("a")), 0);
    assert_int_equal(two_keys(LIT("a"), LIT("ab")), 0);
    assert_int_equal(two_keys(LIT("ab"), LIT("a")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("B"), LIT("a")), 0);
    assert_int_equal(two_keys(LIT("10"), LIT("2")), 0);

    /* Keys that are escaped in the buffer must compare as raw bytes. */
    assert_int_equal(two_keys(LIT("\n"), LIT("1")), 0);          /* 0a<31 */
    assert_int_equal(two_keys(LIT("1"), LIT("\n")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("\n"), LIT("\n")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("\""), LIT("#")), 0);          /* 22<23 */
    assert_int_equal(two_keys(LIT("\""), LIT("!")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("\\"), LIT("]")), 0);          /* 5c<5d */
    assert_int_equal(two_keys(LIT("\\"), LIT("[")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("\x1f"), LIT(" ")), 0);
    assert_int_equal(two_keys(LIT("\x1f"), LIT("\x1e")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("\x1e"), LIT("\x1f")), 0);
    assert_int_equal(two_keys("", 0, "\0", 1), 0);
    assert_int_equal(two_keys("\0", 1, "", 0), RT_JW_E_ORDER);
    assert_int_equal(two_keys("\0", 1, "\0", 1), RT_JW_E_ORDER);
    assert_int_equal(two_keys("a\0b", 3, "a\0c", 3), 0);
    assert_int_equal(two_keys(LIT("a\\b"), LIT("a\\a")), RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("\r"), LIT("\x0e")), 0);

    /* UTF-16 order, not code point order. */
    assert_int_equal(two_keys(LIT("\xF0\x9F\x98\x80"), LIT("\xEF\xAC\xB3")), 0);
    assert_int_equal(two_keys(LIT("\xEF\xAC\xB3"), LIT("\xF0\x9F\x98\x80")),
                     RT_JW_E_ORDER);
    assert_int_equal(two_keys(LIT("\xF0\x9F\x98\x80"), LIT("\xF0\x9F\x98\x80")),
                     RT_JW_E_ORDER);

    /* Each object level has its own previous key. */
    char buf[128];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("m"));
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("a"));   /* smaller than the outer "m": fine */
    rt_jw_int(&w, 1);
    rt_jw_key(&w, LIT("z"));
    rt_jw_int(&w, 2);
    rt_jw_obj_end(&w);
    rt_jw_key(&w, LIT("n"));   /* compared with "m", not with "z" */
    rt_jw_arr_begin(&w);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("b"));
    rt_jw_int(&w, 1);
    rt_jw_obj_end(&w);
    rt_jw_obj_begin(&w);       /* a new object starts with no previous key */
    rt_jw_key(&w, LIT("a"));
    rt_jw_int(&w, 1);
    rt_jw_obj_end(&w);
    rt_jw_arr_end(&w);
    rt_jw_obj_end(&w);
    expect_output(&w, LIT("{\"m\":{\"a\":1,\"z\":2},\"n\":[{\"b\":1},{\"a\":1}]}"));

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("m"));
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("z"));
    rt_jw_int(&w, 1);
    rt_jw_obj_end(&w);
    rt_jw_key(&w, LIT("c"));   /* "c" < "m" */
    assert_int_equal(w.err, RT_JW_E_ORDER);
    rt_jw_int(&w, 1);
    rt_jw_obj_end(&w);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_ORDER);
}

static void test_key_cmp_utf16(void **state)
{
    (void)state;
    /* Supplementary characters sort below U+E000..U+FFFF. */
    assert_true(rt_json_key_cmp(LIT("\xF0\x9F\x98\x80"), LIT("\xEF\xAC\xB3")) < 0);
    assert_true(rt_json_key_cmp(LIT("\xEF\xAC\xB3"), LIT("\xF0\x9F\x98\x80")) > 0);
    assert_true(rt_json_key_cmp(LIT("\xF0\x90\x80\x80"), LIT("\xEE\x80\x80")) < 0);
    assert_true(rt_json_key_cmp(LIT("\xF4\x8F\xBF\xBF"), LIT("\xEE\x80\x80")) < 0);
    assert_true(rt_json_key_cmp(LIT("\xF4\x8F\xBF\xBF"), LIT("\xEF\xBF\xBF")) < 0);
    /* ... but above everything below U+D800. */
    assert_true(rt_json_key_cmp(LIT("\xED\x9F\xBF"), LIT("\xF0\x90\x80\x80")) < 0);
    assert_true(rt_json_key_cmp(LIT("\xE2\x82\xAC"), LIT("\xF0\x9F\x98\x80")) < 0);
    /* Among themselves, code point order. */
    assert_true(rt_json_key_cmp(LIT("\xF0\x9F\x98\x80"), LIT("\xF0\x9F\x98\x82")) < 0);
    assert_true(rt_json_key_cmp(LIT("\xEE\x80\x80"), LIT("\xEF\xBF\xBF")) < 0);
    assert_true(rt_json_key_cmp(LIT("\xC2\x80"), LIT("\xC3\xB6")) < 0);
    /* Decided at the first difference, shorter prefix first. */
    assert_true(rt_json_key_cmp(LIT("a\xF0\x9F\x98\x80z"), LIT("a\xEF\xAC\xB3")) < 0);
    assert_true(rt_json_key_cmp(LIT("ab"), LIT("abc")) < 0);
    assert_true(rt_json_key_cmp(LIT("abc"), LIT("ab")) > 0);
    assert_int_equal(rt_json_key_cmp(LIT("abc"), LIT("abc")), 0);
    assert_int_equal(rt_json_key_cmp(NULL, 0, NULL, 0), 0);
    assert_true(rt_json_key_cmp(NULL, 0, LIT("\0")) < 0);
    /* Locale plays no part. */
    assert_true(rt_json_key_cmp(LIT("Z"), LIT("a")) < 0);
    assert_true(rt_json_key_cmp(LIT("p\xC3\xA9" "ch\xC3\xA9"),
                                LIT("p\xC3\xAA" "che")) < 0);

    /* The RFC 8785 3.2.3 keys, fully ordered. */
    static const char *const sorted[] = {
        "\r", "1", "\xC2\x80", "\xC3\xB6", "\xE2\x82\xAC",
        "\xF0\x9F\x98\x80", "\xEF\xAC\xB3",
    };
    for (size_t i = 0; i < ARRAY_LEN(sorted); i++)
        for (size_t j = 0; j < ARRAY_LEN(sorted); j++) {
            int c = rt_json_key_cmp(sorted[i], strlen(sorted[i]), sorted[j],
                                    strlen(sorted[j]));
            assert_true(i < j ? c < 0 : i > j ? c > 0 : c == 0);
        }
}

/* Random code point from a mix that hits every UTF-8 length and edge. */
static uint32_t random_code_point(void)
{
    static const uint32_t edges[] = {
        0x00, 0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x1F, 0x20, '"', '\\', '/',
        0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFB33, 0xFFFD, 0xFFFF,
        0x10000, 0x1F600, 0x10FFFF, 0x2028, 0x2029, 0xFEFF,
    };
    uint32_t cp;
    switch (rng_below(8)) {
    case 0: return edges[rng_below(ARRAY_LEN(edges))];
    case 1: return rng_below(0x20);                        /* controls */
    case 2: return 0x20 + rng_below(0x60);                 /* ASCII */
    case 3: return 0x20 + rng_below(0x60);
    case 4: return 0x80 + rng_below(0x800 - 0x80);         /* 2 bytes */
    case 5:                                                /* 3 bytes */
        do cp = 0x800 + rng_below(0x10000 - 0x800);
        while (cp >= 0xD800 && cp <= 0xDFFF);
        return cp;
    case 6: return 0xE000 + rng_below(0x2000);             /* near FFFF */
    default: return 0x10000 + rng_below(0x110000 - 0x10000); /* 4 bytes */
    }
}

static size_t random_utf8_string(char *out, size_t max_cps)
{
    size_t n = 0, cps = rng_below((uint32_t)max_cps + 1);
    for (size_t i = 0; i < cps; i++)
        n += ref_utf8_encode(random_code_point(), out + n);
    return n;
}

static void test_key_cmp_random_vs_reference(void **state)
{
    (void)state;
    rng_seed(0x5eed1234u);
    for (int i = 0; i < 20000; i++) {
        char a[64], b[64];
        size_t an = random_utf8_string(a, 6), bn;
        if (rng_below(2)) { /* share a prefix to reach deeper positions */
            size_t k = rt_utf8_valid_prefix((const uint8_t *)a,
                                            rng_below((uint32_t)an + 1));
            memcpy(b, a, k);
            bn = k + random_utf8_string(b + k, 3);
        } else {
            bn = random_utf8_string(b, 6);
        }
        int got = rt_json_key_cmp(a, an, b, bn);
        int want = ref_utf16_cmp(a, an, b, bn);
        if ((got > 0) - (got < 0) != want)
            fail_msg("iteration %d: got %d want %d", i, got, want);
        /* The writer agrees: strictly increasing keys are accepted. */
        if (want != 0) {
            int rc = want < 0 ? two_keys(a, an, b, bn) : two_keys(b, bn, a, an);
            assert_int_equal(rc, 0);
            rc = want < 0 ? two_keys(b, bn, a, an) : two_keys(a, an, b, bn);
            assert_int_equal(rc, RT_JW_E_ORDER);
        } else {
            assert_int_equal(two_keys(a, an, b, bn), RT_JW_E_ORDER);
        }
    }
}

/* ------------------------------------------------------------ structure */

static void test_structure_errors(void **state)
{
    (void)state;
    char buf[64];
    rt_jw w;

    rt_jw_init(&w, buf, sizeof buf);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE); /* nothing written */

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_key(&w, LIT("a"));                            /* top level */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_arr_begin(&w);
    rt_jw_key(&w, LIT("a"));                            /* in array */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_int(&w, 1);                                   /* value w/o key */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("a"));
    rt_jw_key(&w, LIT("b"));                            /* key after key */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("a"));
    rt_jw_obj_end(&w);                                  /* dangling key */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("a"));
    rt_jw_int(&w, 1);
    rt_jw_int(&w, 2);                                   /* second value */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_arr_end(&w);                                  /* mismatched end */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_NESTING);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_arr_begin(&w);
    rt_jw_obj_end(&w);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_NESTING);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_end(&w);                                  /* nothing open */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_NESTING);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_arr_begin(&w);
    rt_jw_arr_end(&w);
    rt_jw_arr_end(&w);                                  /* one too many */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_NESTING);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_int(&w, 1);
    rt_jw_int(&w, 2);                                   /* 2nd top level */
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE);

    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_arr_begin(&w);
    rt_jw_arr_begin(&w);
    rt_jw_arr_end(&w);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_STATE);  /* still open */

    /* Errors are sticky: later valid calls change nothing. */
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_arr_begin(&w);
    rt_jw_int(&w, 1);
    rt_jw_str(&w, "\xFF", 1);
    size_t len = w.len;
    rt_jw_int(&w, 2);
    rt_jw_str(&w, LIT("x"));
    rt_jw_obj_begin(&w);
    rt_jw_arr_end(&w);
    rt_jw_raw(&w, LIT("1"));
    rt_jw_hex(&w, (const uint8_t *)"a", 1);
    rt_jw_null(&w);
    rt_jw_bool(&w, 1);
    rt_jw_uint(&w, 1);
    assert_int_equal(w.len, len);
    assert_int_equal(w.err, RT_JW_E_UTF8);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_UTF8);
    assert_int_equal(rt_jw_finish(&w), RT_JW_E_UTF8);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    char buf[256], exp[256];
    rt_jw w;

    /* RT_JW_MAX_DEPTH levels, alternating kinds, each holding a member. */
    rt_jw_init(&w, buf, sizeof buf);
    size_t en = 0;
    for (int d = 0; d < RT_JW_MAX_DEPTH; d++) {
        if (d % 2 == 0) {
            rt_jw_obj_begin(&w);
            rt_jw_key(&w, LIT("k"));
            memcpy(exp + en, "{\"k\":", 5);
            en += 5;
        } else {
            rt_jw_arr_begin(&w);
            rt_jw_int(&w, d);
            en += (size_t)sprintf(exp + en, "[%d,", d);
        }
    }
    assert_int_equal(w.err, 0);
    assert_int_equal(w.depth, RT_JW_MAX_DEPTH);
    rt_jw_null(&w);
    memcpy(exp + en, "null", 4);
    en += 4;
    for (int d = RT_JW_MAX_DEPTH - 1; d >= 0; d--) {
        if (d % 2 == 0) {
            rt_jw_obj_end(&w);
            exp[en++] = '}';
        } else {
            rt_jw_arr_end(&w);
            exp[en++] = ']';
        }
    }
    expect_output(&w, exp, en);
    json_object_put(parse_strict(buf, w.len));

    /* One more level is refused. */
    for (int kind = 0; kind < 2; kind++) {
        rt_jw_init(&w, buf, sizeof buf);
        for (int d = 0; d < RT_JW_MAX_DEPTH; d++)
            rt_jw_arr_begin(&w);
        assert_int_equal(w.err, 0);
        if (kind)
            rt_jw_obj_begin(&w);
        else
            rt_jw_arr_begin(&w);
        assert_int_equal(w.err, RT_JW_E_NESTING);
        assert_int_equal(w.depth, RT_JW_MAX_DEPTH);
        assert_int_equal(rt_jw_finish(&w), RT_JW_E_NESTING);
    }
}

static void test_strerror(void **state)
{
    (void)state;
    static const int codes[] = { RT_JW_OK, RT_JW_E_SPACE, RT_JW_E_UTF8,
                                 RT_JW_E_RANGE, RT_JW_E_NESTING,
                                 RT_JW_E_ORDER, RT_JW_E_STATE };
    for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
        const char *s = rt_jw_strerror(codes[i]);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, rt_jw_strerror(codes[j]));
    }
    assert_string_equal(rt_jw_strerror(-1), "unknown error");
    assert_string_equal(rt_jw_strerror(999), "unknown error");
}

/* ------------------------------------------------------ json-c round trip */

static void check_string(struct json_object *o, const char *s, size_t n)
{
    assert_int_equal(json_object_get_type(o), json_type_string);
    assert_int_equal((size_t)json_object_get_string_len(o), n);
    assert_memory_equal(json_object_get_string(o), s, n);
}

static struct json_object *get_member(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v))
        fail_msg("member \"%s\" missing", k);
    return v;
}

static void test_roundtrip_jsonc_document(void **state)
{
    (void)state;
    static const char s_esc[] = "line1\nline2\ttab \"quoted\" \\ / \x7f \x01\x1f";
    static const char s_nul[] = "nul\0inside";
    static const char s_intl[] = "gr\xC3\xBC\xC3\x9F" "e \xE6\x97\xA5\xE6\x9C\xAC"
                                 "\xE8\xAA\x9E \xF0\x9F\x98\x80 \xEF\xAC\xB3";
    static const uint8_t bin[] = { 0x00, 0xff, 0x10, 0xab };

    char buf[1024];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("bin"));
    rt_jw_hex(&w, bin, sizeof bin);
    rt_jw_key(&w, LIT("esc"));
    rt_jw_str(&w, s_esc, sizeof s_esc - 1);
    rt_jw_key(&w, LIT("intl"));    /* "intl" < "ints": 'l' < 's' */
    rt_jw_str(&w, s_intl, sizeof s_intl - 1);
    rt_jw_key(&w, LIT("ints"));
    rt_jw_arr_begin(&w);
    rt_jw_int(&w, 0);
    rt_jw_int(&w, -1);
    rt_jw_int(&w, INT64_C(9007199254740991));
    rt_jw_int(&w, -INT64_C(9007199254740991));
    rt_jw_uint(&w, UINT64_C(9007199254740991));
    rt_jw_arr_end(&w);
    rt_jw_key(&w, LIT("nested"));
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("a"));
    rt_jw_arr_begin(&w);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, LIT("\xC3\xB6"));
    rt_jw_bool(&w, 1);
    rt_jw_key(&w, LIT("\xF0\x9F\x98\x80"));
    rt_jw_null(&w);
    rt_jw_key(&w, LIT("\xEF\xAC\xB3"));
    rt_jw_bool(&w, 0);
    rt_jw_obj_end(&w);
    rt_jw_arr_begin(&w);
    rt_jw_arr_end(&w);
    rt_jw_arr_end(&w);
    rt_jw_obj_end(&w);
    rt_jw_key(&w, LIT("nul"));
    rt_jw_str(&w, s_nul, sizeof s_nul - 1);
    rt_jw_obj_end(&w);
    assert_int_equal(rt_jw_finish(&w), 0);

    /* Plain json_tokener_parse needs a C string: output has no NUL bytes. */
    assert_null(memchr(buf, '\0', w.len));
    assert_int_equal(buf[w.len], '\0');
    struct json_object *root = json_tokener_parse(buf);
    assert_non_null(root);
    struct json_object *strict = parse_strict(buf, w.len);

    check_string(get_member(root, "bin"), "00ff10ab", 8);
    check_string(get_member(root, "esc"), s_esc, sizeof s_esc - 1);
    check_string(get_member(root, "intl"), s_intl, sizeof s_intl - 1);
    check_string(get_member(root, "nul"), s_nul, sizeof s_nul - 1);
    struct json_object *ints = get_member(root, "ints");
    static const int64_t want_ints[] = { 0, -1, INT64_C(9007199254740991),
                                         -INT64_C(9007199254740991),
                                         INT64_C(9007199254740991) };
    assert_int_equal(json_object_array_length(ints), ARRAY_LEN(want_ints));
    for (size_t i = 0; i < ARRAY_LEN(want_ints); i++) {
        struct json_object *v = json_object_array_get_idx(ints, i);
        assert_int_equal(json_object_get_type(v), json_type_int);
        assert_true(json_object_get_int64(v) == want_ints[i]);
    }
    struct json_object *a = get_member(get_member(root, "nested"), "a");
    assert_int_equal(json_object_array_length(a), 2);
    struct json_object *o = json_object_array_get_idx(a, 0);
    assert_int_equal(json_object_object_length(o), 3);
    assert_true(json_object_get_boolean(get_member(o, "\xC3\xB6")));
    assert_int_equal(json_object_get_type(get_member(o, "\xF0\x9F\x98\x80")),
                     json_type_null);
    assert_false(json_object_get_boolean(get_member(o, "\xEF\xAC\xB3")));
    assert_int_equal(json_object_array_length(json_object_array_get_idx(a, 1)), 0);

    /* Re-canonicalizing what json-c read gives the same bytes. */
    char again[1024];
    rt_jw w2;
    rt_jw_init(&w2, again, sizeof again);
    emit_jc(&w2, strict, 1);
    expect_output(&w2, buf, w.len);

    json_object_put(strict);
    json_object_put(root);
}

/* 2000 random valid UTF-8 strings: exact bytes, and json-c reads them back. */
static void test_random_strings_roundtrip(void **state)
{
    (void)state;
    rng_seed(20240601u);
    size_t lens_seen[5] = { 0 };
    for (int i = 0; i < 2000; i++) {
        char s[4 * 48 + 1], exp[6 * sizeof s + 2], buf[6 * sizeof s + 16];
        size_t n = random_utf8_string(s, 48);
        s[n] = '\0'; /* for the C-string comparison with json-c's keys */
        assert_int_equal(rt_utf8_valid_prefix((const uint8_t *)s, n), n);
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)s[k];
            lens_seen[c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3
                                   : c >= 0xC0 ? 2 : 0]++;
        }

        /* As a value: bytes equal the reference serialization. */
        rt_jw w;
        rt_jw_init(&w, buf, sizeof buf);
        rt_jw_str(&w, s, n);
        size_t en = ref_jcs_string(s, n, exp);
        expect_output(&w, exp, en);

        struct json_object *o = parse_strict(buf, w.len);
        check_string(o, s, n);
        json_object_put(o);

        /* As a key (json-c keys are C strings, so skip those with NUL). */
        rt_jw_init(&w, buf, sizeof buf);
        rt_jw_obj_begin(&w);
        rt_jw_key(&w, s, n);
        rt_jw_int(&w, i);
        rt_jw_obj_end(&w);
        assert_int_equal(rt_jw_finish(&w), 0);
        /* {"key":i} */
        assert_int_equal(w.len, 1 + en + 1 + (size_t)snprintf(NULL, 0, "%d", i) + 1);
        assert_memory_equal(buf + 1, exp, en);
        if (!memchr(s, '\0', n)) {
            o = parse_strict(buf, w.len);
            struct json_object_iterator it = json_object_iter_begin(o);
            assert_string_equal(json_object_iter_peek_name(&it), s);
            assert_int_equal(strlen(json_object_iter_peek_name(&it)), n);
            json_object_put(o);
        }
    }
    /* The generator really produced every sequence length. */
    for (int k = 1; k <= 4; k++)
        assert_true(lens_seen[k] > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_sample_document),
        cmocka_unit_test(test_rfc8785_sorting_example),
        cmocka_unit_test(test_vector_files),
        cmocka_unit_test(test_escape_every_control_char),
        cmocka_unit_test(test_escape_quote_backslash_and_passthrough),
        cmocka_unit_test(test_invalid_utf8_rejected),
        cmocka_unit_test(test_utf8_valid_prefix_edges),
        cmocka_unit_test(test_utf8_exhaustive_vs_reference),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_unsigned_integers),
        cmocka_unit_test(test_literals_hex_raw_and_containers),
        cmocka_unit_test(test_finish_nul_termination),
        cmocka_unit_test(test_space_every_capacity),
        cmocka_unit_test(test_key_order_enforced),
        cmocka_unit_test(test_key_cmp_utf16),
        cmocka_unit_test(test_key_cmp_random_vs_reference),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_roundtrip_jsonc_document),
        cmocka_unit_test(test_random_strings_roundtrip),
    };
    return cmocka_run_group_tests_name("rt_json", tests, NULL, NULL);
}

/*
 * test_rt_parse.c — cmocka tests for the streaming request parser.
 *
 * Table-driven cases come from cases.txt and jsonts.txt in tests/data/parse (format in
 * tests/data/parse/README).  Every case is parsed whole, split in two at
 * every offset, and fed one byte at a time (with empty chunks in between);
 * all runs must agree on the error code, offset, reason, field and on every
 * byte of the request struct.  Expected outputs of valid cases are computed
 * here from the decoded values the case lists (nettle HMAC / SHA-256, a
 * count of 'e'), not taken from the parser.
 *
 * The data directory is RT_PARSE_TESTDATA in the environment, else
 * tests/data/parse relative to the working directory.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "rt_parse.h"
#include "rt_parse_fixture.h"

/* ---- growable byte buffer ------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

/* ---- cases --------------------------------------------------------------- */

enum { V_USERID, V_SECRET, V_NOTE, V_CITY, V_AGE, V_CONSENT, V_N };
static const char *const v_names[V_N] = {
    "userId", "secret", "note", "city", "age", "consent",
};

typedef struct tcase {
    char name[128];
    char where[160];            /* file:line, for failure messages */
    const rt_schema *schema;
    buf body;
    int err;
    uint64_t pos;
    char field[40];             /* "" = expect no field */
    int has[V_N];
    buf val[V_N];               /* decoded string values */
    int64_t num[V_N];           /* age, consent */
} tcase;

static tcase *cases;
static size_t ncases, capcases;
static char datadir[512];

static int perr_from_name(const char *s)
{
    if (!strcmp(s, "ok"))
        return 0;
    for (int e = 1; e <= 12; e++)
        if (!strcmp(s, rt_perr_name(e)))
            return e;
    return -1;
}

/* Case-file text: "\xHH" is a byte, everything else is literal. */
static void add_text(buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x') {
            char h[3] = { s[i + 2], s[i + 3], 0 };
            char *end;
            unsigned long v = strtoul(h, &end, 16);
            if (*end == 0) {
                uint8_t c = (uint8_t)v;
                buf_add(b, &c, 1);
                i += 3;
                continue;
            }
        }
        buf_add(b, &s[i], 1);
    }
}

static int read_file(const char *path, buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_add(b, tmp, n);
    fclose(f);
    if (!b->p)
        buf_add(b, "", 0);
    return 0;
}

static void die(const char *where, const char *msg)
{
    fprintf(stderr, "%s: %s\n", where, msg);
    exit(2);
}

static int v_index(const char *s, size_t n)
{
    for (int i = 0; i < V_N; i++)
        if (strlen(v_names[i]) == n && !memcmp(v_names[i], s, n))
            return i;
    return -1;
}

static void load_cases(const char *fname)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", datadir, fname);
    buf text = { 0 };
    if (read_file(path, &text))
        die(path, strerror(errno));
    char *s = (char *)text.p, *end = s + text.n;
    int lineno = 0;
    tcase *c = NULL;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *eol = nl ? nl : end;
        lineno++;
        size_t len = (size_t)(eol - s);
        char where[160];
        snprintf(where, sizeof where, "%s:%d", fname, lineno);
        char *sp = memchr(s, ' ', len);
        size_t kw = sp ? (size_t)(sp - s) : len;
        char *arg = sp ? sp + 1 : eol;
        size_t alen = (size_t)(eol - arg);
#define KW(w) (kw == strlen(w) && !memcmp(s, w, kw))
        if (len == 0 || s[0] == '#') {
            /* blank or comment */
        } else if (KW("case")) {
            if (ncases == capcases) {
                capcases = capcases ? 2 * capcases : 256;
                cases = realloc(cases, capcases * sizeof *cases);
                if (!cases)
                    abort();
            }
            c = &cases[ncases++];
            memset(c, 0, sizeof *c);
            snprintf(c->name, sizeof c->name, "%.*s", (int)alen, arg);
            snprintf(c->where, sizeof c->where, "%s", where);
            c->schema = &fx_schema;
            c->err = -1;
        } else if (!c) {
            die(where, "directive before 'case'");
        } else if (KW("schema")) {
            if (alen == 3 && !memcmp(arg, "big", 3))
                c->schema = &fx_schema_big;
            else if (alen == 4 && !memcmp(arg, "flat", 4))
                c->schema = &fx_schema_flat;
            else
                die(where, "unknown schema");
        } else if (KW("body")) {
            add_text(&c->body, arg, alen);
        } else if (KW("rep")) {
            char *sp2 = memchr(arg, ' ', alen);
            if (!sp2)
                die(where, "rep N TEXT");
            long n = strtol(arg, NULL, 10);
            for (long i = 0; i < n; i++)
                add_text(&c->body, sp2 + 1, (size_t)(eol - sp2 - 1));
        } else if (KW("file")) {
            char fp[1024];
            snprintf(fp, sizeof fp, "%s/%.*s", datadir, (int)alen, arg);
            if (read_file(fp, &c->body))
                die(where, "cannot read file");
        } else if (KW("expect")) {
            char a[64] = "", f[40] = "";
            unsigned long long pos = 0;
            char line[256];
            snprintf(line, sizeof line, "%.*s", (int)alen, arg);
            int k = sscanf(line, "%63s %llu %39s", a, &pos, f);
            c->err = perr_from_name(a);
            if (c->err < 0 || (c->err && k < 2))
                die(where, "expect ERROR POS [FIELD] | expect ok");
            c->pos = pos;
            snprintf(c->field, sizeof c->field, "%s", f);
        } else if (KW("val") || KW("valrep")) {
            int rep = KW("valrep");
            char *sp2 = memchr(arg, ' ', alen);
            size_t nlen = sp2 ? (size_t)(sp2 - arg) : alen;
            int v = v_index(arg, nlen);
            if (v < 0)
                die(where, "unknown value name");
            char *txt = sp2 ? sp2 + 1 : eol;
            long n = 1;
            if (rep) {
                n = strtol(txt, &txt, 10);
                txt++;
                if (txt > eol)
                    txt = eol;
            }
            c->has[v] = 1;
            if (v == V_AGE || v == V_CONSENT) {
                c->num[v] = strtoll(txt, NULL, 10);
            } else {
                buf_add(&c->val[v], "", 0);
                for (long i = 0; i < n; i++)
                    add_text(&c->val[v], txt, (size_t)(eol - txt));
            }
        } else {
            die(where, "unknown directive");
        }
#undef KW
        s = nl ? nl + 1 : end;
    }
    free(text.p);
}

/* ---- running the parser ---------------------------------------------------- */

typedef struct result {
    int err;
    uint64_t pos;
    const char *reason;
    const char *field;
    int feed_err;               /* what the last feed returned */
    fx_req out;
} result;

static void run_start(const tcase *c, rt_parser *p, result *r)
{
    memset(r, 0xa5, sizeof *r); /* so that a forgotten zeroing shows */
    rt_parse_init(p, c->schema, &r->out, &fx_ctx);
}

static void run_end(rt_parser *p, result *r, int feed_err)
{
    int fin = rt_parse_finish(p);
    assert_int_equal(fin, rt_parse_error(p));
    if (feed_err)
        assert_int_equal(fin, feed_err);
    r->err = fin;
    r->pos = rt_parse_error_pos(p);
    r->reason = rt_parse_reason(p);
    r->field = rt_parse_error_field(p);
    r->feed_err = feed_err;
}

/* Feeds the body cut at the given offsets (ascending). */
static void run_cuts(const tcase *c, const size_t *cuts, size_t ncuts, result *r)
{
    rt_parser p;
    int fe = 0;
    size_t at = 0;
    run_start(c, &p, r);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : c->body.n;
        fe = rt_parse_feed(&p, c->body.p + at, to - at);
        at = to;
    }
    run_end(&p, r, fe);
}

static void run_bytewise(const tcase *c, result *r)
{
    rt_parser p;
    int fe = 0;
    run_start(c, &p, r);
    for (size_t i = 0; i < c->body.n; i++) {
        fe = rt_parse_feed(&p, c->body.p + i, 1);
        int z = rt_parse_feed(&p, NULL, 0);
        assert_int_equal(z, fe);
    }
    run_end(&p, r, fe);
}

static void assert_same(const tcase *c, const result *a, const result *b,
                        const char *how)
{
    if (a->err != b->err || a->pos != b->pos || a->reason != b->reason ||
        a->field != b->field || a->feed_err != b->feed_err ||
        memcmp(&a->out, &b->out, sizeof a->out) != 0) {
        fail_msg("%s (%s): %s differs from whole parse: %s@%llu vs %s@%llu%s",
                 c->name, c->where, how, rt_perr_name(b->err),
                 (unsigned long long)b->pos, rt_perr_name(a->err),
                 (unsigned long long)a->pos,
                 memcmp(&a->out, &b->out, sizeof a->out) ? " (outputs)" : "");
    }
}

/* ---- expected outputs, computed independently ------------------------------- */

static void hmac_of(const buf *v, uint8_t out[RT_HASH_LEN])
{
    struct hmac_sha256_ctx h;
    hmac_sha256_set_key(&h, sizeof fx_pseudonym_key, fx_pseudonym_key);
    hmac_sha256_update(&h, v->n, v->p);
    hmac_sha256_digest(&h, RT_HASH_LEN, out);
}

static void commit_of(const buf *v, uint8_t out[RT_HASH_LEN])
{
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, sizeof fx_salt, fx_salt);
    sha256_update(&h, v->n, v->p);
    sha256_digest(&h, RT_HASH_LEN, out);
}

static void expected_out(const tcase *c, fx_req *w)
{
    memset(w, 0, sizeof *w);
    if (c->err)
        return; /* an error leaves the request struct zeroed */
    if (c->has[V_USERID]) {
        w->present |= 1u << FX_USERID;
        hmac_of(&c->val[V_USERID], w->userId_pseudonym);
    }
    if (c->has[V_SECRET]) {
        const buf *v = &c->val[V_SECRET];
        w->present |= 1u << FX_SENSITIVEPAYLOAD;
        commit_of(v, w->sensitivePayload_commit);
        for (size_t i = 0; i < v->n; i++)
            w->sensitivePayload_count_e.count += v->p[i] == 'e';
    }
    if (c->has[V_NOTE]) {
        w->present |= 1u << FX_NOTE;
        assert_true(c->val[V_NOTE].n <= 32);
        memcpy(w->note, c->val[V_NOTE].p, c->val[V_NOTE].n);
        w->note_len = (uint32_t)c->val[V_NOTE].n;
    }
    if (c->has[V_AGE]) {
        w->present |= 1u << FX_AGE;
        w->age = c->num[V_AGE];
    }
    if (c->has[V_CONSENT]) {
        w->present |= 1u << FX_CONSENT;
        w->consent = (uint8_t)c->num[V_CONSENT];
    }
    if (c->has[V_CITY]) {
        w->present |= 1u << FX_PROFILE;
        w->profile_present |= 1u << FX_PROFILE_CITY;
        assert_true(c->val[V_CITY].n <= 64);
        memcpy(w->profile_city, c->val[V_CITY].p, c->val[V_CITY].n);
        w->profile_city_len = (uint32_t)c->val[V_CITY].n;
    }
}

static void test_case(void **state)
{
    const tcase *c = *state;
    result *whole = malloc(sizeof *whole), *r = malloc(sizeof *r);
    fx_req want;
    assert_non_null(whole);
    assert_non_null(r);

    run_cuts(c, NULL, 0, whole);
    if (whole->err != c->err || (c->err && whole->pos != c->pos))
        fail_msg("%s (%s): got %s@%llu (%s), want %s@%llu", c->name, c->where,
                 rt_perr_name(whole->err), (unsigned long long)whole->pos,
                 whole->reason ? whole->reason : "-", rt_perr_name(c->err),
                 (unsigned long long)c->pos);
    if (c->err) {
        assert_non_null(whole->reason);
        const char *f = whole->field ? whole->field : "";
        if (strcmp(f, c->field))
            fail_msg("%s (%s): error field '%s', want '%s'", c->name, c->where,
                     f, c->field);
    } else {
        assert_null(whole->reason);
        assert_null(whole->field);
    }
    expected_out(c, &want);
    if (memcmp(&want, &whole->out, sizeof want))
        fail_msg("%s (%s): outputs differ from the expected values", c->name,
                 c->where);

    for (size_t k = 0; k <= c->body.n; k++) {
        run_cuts(c, &k, 1, r);
        assert_same(c, r, whole, "split");
    }
    run_bytewise(c, r);
    assert_same(c, r, whole, "bytewise");
    free(whole);
    free(r);
}

/* Every n_ file of JSONTestSuite must have a case, and be rejected. */
static void test_jsonts_coverage(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/jsonts", datadir);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "n_", 2) && strncmp(e->d_name, "i_", 2))
            continue;
        char want[300];
        snprintf(want, sizeof want, "%.*s", (int)(strlen(e->d_name) - 5),
                 e->d_name);
        size_t i;
        for (i = 0; i < ncases; i++)
            if (!strcmp(cases[i].name, want))
                break;
        if (i == ncases)
            fail_msg("no case for jsonts/%s", e->d_name);
        if (e->d_name[0] == 'n' && cases[i].err == 0)
            fail_msg("%s must be rejected", e->d_name);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 188);
}

/* ---- secrets are never stored ----------------------------------------------- */

static const uint8_t *find(const void *hay, size_t n, const void *needle, size_t m)
{
    const uint8_t *h = hay;
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(h + i, needle, m))
            return h + i;
    return NULL;
}

/* Scans the parser and the request struct for the value and for every
 * 6-byte window of it. */
static int holds(const rt_parser *p, const fx_req *out, const uint8_t *v, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++)
        if (find(p, sizeof *p, v + i, 6) || find(out, sizeof *out, v + i, 6))
            return 1;
    return find(p, sizeof *p, v, n) || find(out, sizeof *out, v, n);
}

static const char scan_body[] =
    "{\"userId\":\"Pz7\\u00fcUser-Ident\\t-0815\","
    "\"note\":\"Public-Note-\\u00e4-Visible\","
    "\"sensitivePayload\":\"Zq9\\u00e9Secret-Value-\\n-4711\","
    "\"profile\":{\"city\":\"Tallinn\"}}";
static const uint8_t scan_secret[] = "Zq9\xc3\xa9Secret-Value-\n-4711";
static const uint8_t scan_user[] = "Pz7\xc3\xbcUser-Ident\t-0815";
static const uint8_t scan_note[] = "Public-Note-\xc3\xa4-Visible";

static void scan_all(const rt_parser *p, const fx_req *out, int expect_ok)
{
    assert_false(holds(p, out, scan_secret, sizeof scan_secret - 1));
    assert_false(holds(p, out, scan_user, sizeof scan_user - 1));
    /* The scan can see a value that is stored. */
    assert_int_equal(holds(p, out, scan_note, sizeof scan_note - 1), expect_ok);
}

static void test_secret_scan(void **state)
{
    (void)state;
    const uint8_t *b = (const uint8_t *)scan_body;
    size_t n = sizeof scan_body - 1;
    for (size_t chunk = 1; chunk <= n; chunk++) {
        rt_parser p;
        fx_req out;
        rt_parse_init(&p, &fx_schema, &out, &fx_ctx);
        for (size_t at = 0; at < n; at += chunk) {
            size_t k = n - at < chunk ? n - at : chunk;
            assert_int_equal(rt_parse_feed(&p, b + at, k), 0);
            /* Mid-parse, too, only hash state holds anything of a secret;
             * the parser itself never does. */
            assert_false(find(&p, sizeof p, "Secret", 6));
        }
        assert_int_equal(rt_parse_finish(&p), 0);
        scan_all(&p, &out, 1);
        assert_string_equal(out.note, (const char *)scan_note);
    }
}

/* An error in the middle of a secret, and an abort: nothing left either. */
static void test_secret_scan_error_and_abort(void **state)
{
    (void)state;
    static const char bad[] =
        "{\"userId\":\"Pz7\\u00fcUser-Ident\\t-0815\","
        "\"sensitivePayload\":\"Zq9\\u00e9Secret-Value-\\n-4711\x01\"}";
    const uint8_t *b = (const uint8_t *)bad;
    size_t n = sizeof bad - 1;
    for (size_t cut = 0; cut <= n; cut++) {
        rt_parser p;
        fx_req out;
        rt_parse_init(&p, &fx_schema, &out, &fx_ctx);
        rt_parse_feed(&p, b, cut);
        rt_parse_feed(&p, b + cut, n - cut);
        assert_int_equal(rt_parse_error(&p), RT_E_SYNTAX);
        scan_all(&p, &out, 0);
        assert_int_equal(rt_parse_finish(&p), RT_E_SYNTAX);

        /* Abort before the body is complete: work state must be wiped. */
        rt_parse_init(&p, &fx_schema, &out, &fx_ctx);
        rt_parse_feed(&p, b, cut < n - 3 ? cut : n - 3);
        rt_parse_abort(&p);
        static const uint8_t zero[sizeof out.work];
        assert_memory_equal(&out.work, zero, sizeof out.work);
        assert_false(holds(&p, &out, scan_secret, sizeof scan_secret - 1));
    }
}

/* ---- API details ------------------------------------------------------------ */

static void test_api(void **state)
{
    (void)state;
    assert_string_equal(rt_perr_name(RT_E_OK), "ok");
    assert_string_equal(rt_perr_name(RT_E_UTF8), "invalid_utf8");
    assert_string_equal(rt_perr_name(RT_E_TRUNCATED), "truncated_body");
    assert_string_equal(rt_perr_name(RT_E_FORMAT), "bad_format");
    assert_string_equal(rt_perr_name(14), "unknown");
    assert_string_equal(rt_perr_name(-1), "unknown");

    rt_parser p;
    fx_req out;
    memset(&out, 0xff, sizeof out);
    rt_parse_init(&p, &fx_schema, &out, &fx_ctx);
    static const fx_req zero;
    assert_memory_equal(&out, &zero, sizeof out); /* init zeroes *out */
    assert_int_equal(rt_parse_feed(&p, NULL, 0), 0);
    assert_int_equal(rt_parse_error(&p), 0);
    assert_null(rt_parse_reason(&p));
    assert_null(rt_parse_error_field(&p));

    /* Sticky: input after an error is not looked at. */
    assert_int_equal(rt_parse_feed(&p, (const uint8_t *)"{\"age\":\"", 8), RT_E_TYPE);
    assert_int_equal(rt_parse_error_pos(&p), 7);
    assert_string_equal(rt_parse_reason(&p), "expected an integer");
    assert_string_equal(rt_parse_error_field(&p), "age");
    assert_int_equal(rt_parse_feed(&p, (const uint8_t *)"\x01\x02", 2), RT_E_TYPE);
    assert_int_equal(rt_parse_finish(&p), RT_E_TYPE);
    assert_int_equal(rt_parse_finish(&p), RT_E_TYPE);
    assert_int_equal(rt_parse_error_pos(&p), 7);

    /* Reuse after finish; finish twice; abort after finish. */
    static const char ok[] = "{\"userId\":\"u\",\"sensitivePayload\":\"s\",\"age\":150}";
    rt_parse_init(&p, &fx_schema, &out, &fx_ctx);
    assert_int_equal(rt_parse_feed(&p, (const uint8_t *)ok, sizeof ok - 1), 0);
    assert_int_equal(rt_parse_finish(&p), 0);
    assert_int_equal(rt_parse_finish(&p), 0);
    rt_parse_abort(&p);
    assert_int_equal(out.age, 150);
    assert_int_equal(out.present, 1u << FX_USERID | 1u << FX_SENSITIVEPAYLOAD | 1u << FX_AGE);

    /* Feeding after finish does nothing. */
    assert_int_equal(rt_parse_feed(&p, (const uint8_t *)"x", 1), 0);
}

/* ---- driver -------------------------------------------------------------- */

int main(void)
{
    const char *dd = getenv("RT_PARSE_TESTDATA");
    snprintf(datadir, sizeof datadir, "%s", dd ? dd : "tests/data/parse");
    load_cases("cases.txt");
    load_cases("jsonts.txt");

    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_secret_scan),
        cmocka_unit_test(test_secret_scan_error_and_abort),
        cmocka_unit_test(test_jsonts_coverage),
    };
    size_t nfixed = sizeof fixed / sizeof fixed[0];
    struct CMUnitTest *t = calloc(nfixed + ncases, sizeof *t);
    if (!t)
        abort();
    memcpy(t, fixed, sizeof fixed);
    for (size_t i = 0; i < ncases; i++) {
        if (cases[i].err < 0)
            die(cases[i].where, "case has no 'expect'");
        t[nfixed + i].name = cases[i].name;
        t[nfixed + i].test_func = test_case;
        t[nfixed + i].initial_state = &cases[i];
    }
    int rc = _cmocka_run_group_tests("rt_parse", t, nfixed + ncases, NULL, NULL);
    for (size_t i = 0; i < ncases; i++) {
        free(cases[i].body.p);
        for (int v = 0; v < V_N; v++)
            free(cases[i].val[v].p);
    }
    free(cases);
    free(t);
    return rc;
}

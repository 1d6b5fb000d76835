/*
 * test_rt_dcap.c - DCAP verification (runtime/rt_dcap.c, rt_quote.c) on the
 * real quotes and collateral of tests/data/attestation, at the times its
 * README.txt gives, and on targeted changes to them: each check that can
 * fail is made to fail, with the class rt_dcap.h names for it.  The
 * differential against @phala/dcap-qvl (tests/dcap) covers random changes
 * in every region; this file covers the named cases and the strictness
 * the reference does not have (docs/attestation.md, "The differential").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest_fixture.h"
#include "rt_dcap.h"
#include "rt_hex.h"

#define Q1 "dcapqvl-tdx-v4.quote.bin"
#define C1 "dcapqvl-tdx-v4.collateral.json"
#define QA "dstack-getquote-a.quote.bin"
#define QB "dstack-getquote-b.quote.bin"
#define Q5 "dcapqvl-tdx-v5-td15.quote.bin"
#define C4 "dcapqvl-tdx-v5-td15.collateral.json"
#define T1 "2025-07-04T00:00:00Z" /* inside collateral 1's windows */
#define T4 "2026-03-05T00:00:00Z" /* inside collateral 4's windows */

/* Verifies quote file q with collateral file c (NULL: none) at time t;
 * returns the class, and leaves the report in *r. */
static rt_dcap_err run_buf(const uint8_t *q, size_t qn, const char *col, size_t cn, const char *t,
                           unsigned flags, rt_dcap_report *r)
{
    int rc = rt_dcap_verify(q, qn, col, cn, af_time(t), flags, r);
    assert_int_equal(rc == 0, r->err == RT_DCAP_OK);
    if (rc != 0) {
        /* The last line is the failed check, with a reason. */
        assert_false(r->lines[r->nlines - 1].ok);
        assert_true(r->lines[r->nlines - 1].why[0] != 0);
    }
    return r->err;
}

static rt_dcap_err run(const char *qf, const char *cf, const char *t, rt_dcap_report *r)
{
    size_t qn, cn = 0;
    uint8_t *q = af_read(qf, &qn), *c = cf ? af_read(cf, &cn) : NULL;
    rt_dcap_err e = run_buf(q, qn, (const char *)c, cn, t, 0, r);
    free(q);
    free(c);
    return e;
}

static void expect(const char *qf, const char *cf, const char *t, rt_dcap_err want)
{
    rt_dcap_report r;
    rt_dcap_err got = run(qf, cf, t, &r);
    if (got != want)
        fail_msg("%s with %s at %s: %s (%s: %s), expected %s", qf, cf ? cf : "no collateral", t,
                 rt_dcap_err_name(got), r.lines[r.nlines - 1].what, r.lines[r.nlines - 1].why,
                 rt_dcap_err_name(want));
}

/* ---- the fixtures, as README.txt says they verify ------------------------- */

static void test_fixture_verdicts(void **state)
{
    (void)state;
    rt_dcap_report r;
    assert_int_equal(run(Q1, C1, T1, &r), RT_DCAP_OK);
    assert_string_equal(r.status, "UpToDate");
    assert_int_equal(r.nadvisories, 0);
    assert_false(r.partial);
    assert_false(r.sim);
    char fm[13];
    rt_hex_encode(r.fmspc, 6, fm);
    assert_string_equal(fm, "b0c06f000000");

    assert_int_equal(run(QA, C4, T4, &r), RT_DCAP_OK); /* README: same FMSPC and CA as quote 4 */
    assert_string_equal(r.status, "UpToDate");
    rt_hex_encode(r.fmspc, 6, fm);
    assert_string_equal(fm, "90c06f000000");

    expect(Q1, C1, "2025-08-01T00:00:00Z", RT_DCAP_COLLATERAL_EXPIRED); /* "TCBInfo expired" */
    expect(Q1, C1, "2025-06-01T00:00:00Z", RT_DCAP_COLLATERAL_EXPIRED); /* issued in the future */
    expect(QB, C4, T4, RT_DCAP_CERT_EXPIRED);    /* PCK leaf valid from 2026-04-15 */
    expect(QA, C1, T1, RT_DCAP_CERT_EXPIRED);    /* PCK leaf valid from 2025-09-16 */
    expect(Q5, C4, T4, RT_DCAP_TCB_NO_MATCH);    /* "No matching TCB level found" */
    expect(Q1, C4, T4, RT_DCAP_COLLATERAL_MISMATCH); /* another FMSPC */
}

/* The v5 quote parses as v5 with a TD report 1.5 and is signed over 702
 * bytes, as expected.json says. */
static void test_v5_layout(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = af_read(Q5, &n);
    rt_quote q;
    assert_int_equal(rt_quote_parse(&q, b, n), 0);
    assert_int_equal(q.version, 5);
    assert_int_equal(q.body_type, 3);
    assert_int_equal(q.signed_len, 702);
    assert_int_equal(q.trailing, 0);
    uint8_t want[48];
    struct json_object *all = af_json("expected.json"), *e;
    assert_true(json_object_object_get_ex(all, Q5, &e));
    af_hex(e, "mr_td", want, 48);
    assert_memory_equal(rt_quote_td(&q, RT_QUOTE_TD_MR_TD), want, 48);
    af_hex(e, "tee_tcb_svn2", want, 16);
    assert_memory_equal(rt_quote_td(&q, RT_QUOTE_TD_TEE_TCB_SVN2), want, 16);
    json_object_put(all);
    free(b);

    b = af_read(Q1, &n);
    assert_int_equal(rt_quote_parse(&q, b, n), 0);
    assert_int_equal(q.signed_len, 632);
    assert_int_equal(q.trailing, 70); /* README: 70 zero bytes of padding */
    free(b);
}

/* Without collateral: everything the quote itself carries. */
static void test_no_collateral(void **state)
{
    (void)state;
    rt_dcap_report r;
    static const char *const quotes[] = { Q1, QA, QB, Q5 };
    for (size_t i = 0; i < 4; i++) {
        if (run(quotes[i], NULL, "2026-06-01T00:00:00Z", &r) != RT_DCAP_OK)
            fail_msg("%s: %s: %s", quotes[i], r.lines[r.nlines - 1].what, r.lines[r.nlines - 1].why);
        assert_true(r.partial);
        assert_string_equal(r.status, "");
    }
}

/* ---- changes to the quote ------------------------------------------------- */

static rt_dcap_err run_changed(const char *qf, const char *cf, const char *t, size_t off, uint8_t x)
{
    size_t qn, cn;
    uint8_t *q = af_read(qf, &qn), *c = af_read(cf, &cn);
    assert_true(off < qn);
    q[off] ^= x;
    rt_dcap_report r;
    rt_dcap_err e = run_buf(q, qn, (const char *)c, cn, t, 0, &r);
    free(q);
    free(c);
    return e;
}

static void test_quote_changes(void **state)
{
    (void)state;
    size_t qn;
    uint8_t *b = af_read(Q1, &qn);
    rt_quote q;
    assert_int_equal(rt_quote_parse(&q, b, qn), 0);
    const size_t sd = q.sig_data_off + 4, qe = (size_t)(q.qe_report - b), auth = (size_t)(q.qe_auth - b);
    const size_t pem = (size_t)(q.inner - b);
    free(b);
    struct {
        size_t off;
        rt_dcap_err want;
    } cases[] = {
        { 0, RT_DCAP_QUOTE_FORMAT },                /* version */
        { 4, RT_DCAP_QUOTE_FORMAT },                /* TEE type */
        { 12, RT_DCAP_QUOTE_SIGNATURE },            /* QE vendor id, signed */
        { 600, RT_DCAP_QUOTE_SIGNATURE },           /* report_data (README) */
        { 48 + RT_QUOTE_TD_MR_TD, RT_DCAP_QUOTE_SIGNATURE },
        { sd + 3, RT_DCAP_QUOTE_SIGNATURE },        /* the signature */
        { sd + 64 + 5, RT_DCAP_QE_REPORT_BINDING }, /* the attestation key */
        { qe + 200, RT_DCAP_QE_REPORT_SIGNATURE },  /* the QE report */
        { qe + 384 + 7, RT_DCAP_QE_REPORT_SIGNATURE },
        { auth + 2, RT_DCAP_QE_REPORT_BINDING },    /* QE authentication data */
        { pem + 100, RT_DCAP_CERT_CHAIN },          /* inside the PCK leaf */
        { q.sig_data_off, RT_DCAP_QUOTE_FORMAT },   /* signature data length */
        { qn - 1, RT_DCAP_QUOTE_FORMAT },           /* zero padding made non-zero */
        { q.sig_data_off + 4 + 128, RT_DCAP_QUOTE_FORMAT }, /* certification data type */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rt_dcap_err got = run_changed(Q1, C1, T1, cases[i].off, 0x01);
        if (got != cases[i].want)
            fail_msg("byte %zu changed: %s, expected %s", cases[i].off, rt_dcap_err_name(got),
                     rt_dcap_err_name(cases[i].want));
    }
}

/* A PEM character changed only in its base64 padding bits decodes to the
 * same DER; rt_dcap refuses it anyway (a lenient decoder would not). */
static void test_base64_padding_bits(void **state)
{
    (void)state;
    size_t qn, cn;
    uint8_t *q = af_read(Q1, &qn), *c = af_read(C1, &cn);
    rt_quote p;
    assert_int_equal(rt_quote_parse(&p, q, qn), 0);
    /* The last "=\n-----END" of the chain: the character before the '='
     * carries 2 unused bits. */
    const char *end = NULL;
    for (const char *s = (const char *)p.inner; s && (s = strstr(s, "=\n-----END")); s++)
        end = s;
    assert_non_null(end);
    uint8_t *ch = (uint8_t *)end - 1;
    /* Base64 letters A..Z are values 0..25: +1 sets the lowest bit. */
    assert_true(*ch >= 'A' && *ch < 'Z');
    rt_dcap_report r;
    assert_int_equal(run_buf(q, qn, (const char *)c, cn, T1, 0, &r), RT_DCAP_OK);
    (*ch)++;
    assert_int_equal(run_buf(q, qn, (const char *)c, cn, T1, 0, &r), RT_DCAP_CERT_CHAIN);
    assert_non_null(strstr(r.lines[r.nlines - 1].why, "canonical base64"));
    free(q);
    free(c);
}

/* ---- changes to the collateral -------------------------------------------- */

/* Runs quote 1 at T1 with collateral 1 whose member k was set to v. */
static rt_dcap_err run_member(const char *k, const char *v, const char *t)
{
    struct json_object *col = af_json(C1);
    json_object_object_add(col, k, json_object_new_string(v));
    const char *text = json_object_to_json_string_ext(col, JSON_C_TO_STRING_PLAIN);
    size_t qn;
    uint8_t *q = af_read(Q1, &qn);
    rt_dcap_report r;
    rt_dcap_err e = run_buf(q, qn, text, strlen(text), t, 0, &r);
    free(q);
    json_object_put(col);
    return e;
}

static char *member_copy(const char *k)
{
    struct json_object *col = af_json(C1), *v;
    assert_true(json_object_object_get_ex(col, k, &v));
    char *s = strdup(json_object_get_string(v));
    json_object_put(col);
    return s;
}

static void test_collateral_changes(void **state)
{
    (void)state;
    char *s = member_copy("tcb_info_signature");
    s[10] = s[10] == '0' ? '1' : '0';
    assert_int_equal(run_member("tcb_info_signature", s, T1), RT_DCAP_COLLATERAL_SIGNATURE);
    free(s);

    s = member_copy("qe_identity_signature");
    s[3] = s[3] == 'a' ? 'b' : 'a';
    assert_int_equal(run_member("qe_identity_signature", s, T1), RT_DCAP_COLLATERAL_SIGNATURE);
    free(s);

    /* The TCB info's FMSPC changed: signed text, so its signature fails. */
    s = member_copy("tcb_info");
    char *f = strstr(s, "B0C06F");
    assert_non_null(f);
    f[0] = 'C';
    assert_int_equal(run_member("tcb_info", s, T1), RT_DCAP_COLLATERAL_SIGNATURE);
    free(s);

    assert_int_equal(run_member("tcb_info", "{", T1), RT_DCAP_COLLATERAL_FORMAT);
    assert_int_equal(run_member("qe_identity", "{\"tcbLevels\": 3}", T1), RT_DCAP_COLLATERAL_FORMAT);

    /* The CRLs: a signature byte of each. */
    s = member_copy("root_ca_crl");
    size_t n = strlen(s);
    s[n - 4] = s[n - 4] == '0' ? '1' : '0';
    assert_int_equal(run_member("root_ca_crl", s, T1), RT_DCAP_CRL);
    free(s);
    s = member_copy("pck_crl");
    n = strlen(s);
    s[n - 4] = s[n - 4] == '0' ? '1' : '0';
    assert_int_equal(run_member("pck_crl", s, T1), RT_DCAP_CRL);
    free(s);
    assert_int_equal(run_member("pck_crl", "00", T1), RT_DCAP_CRL);

    /* The chains: the PCK CRL's issuer chain in place of the TCB signing
     * chain starts with a CA certificate, which cannot be a leaf. */
    s = member_copy("pck_crl_issuer_chain");
    assert_int_equal(run_member("tcb_info_issuer_chain", s, T1), RT_DCAP_CERT_CHAIN);
    free(s);
    s = member_copy("tcb_info_issuer_chain");
    char *second = strstr(s + 1, "-----BEGIN");
    assert_non_null(second);
    second[0] = 0; /* only the leaf: too short */
    assert_int_equal(run_member("tcb_info_issuer_chain", s, T1), RT_DCAP_CERT_CHAIN);
    free(s);
}

/* The PCK CRL expires at 10:00:35 on 2025-07-19, the TCB info at 10:16:03:
 * in between, only a verifier that checks CRL windows refuses. */
static void test_crl_window(void **state)
{
    (void)state;
    expect(Q1, C1, "2025-07-19T10:00:35Z", RT_DCAP_OK);
    expect(Q1, C1, "2025-07-19T10:00:36Z", RT_DCAP_CRL);
    expect(Q1, C1, "2025-07-19T10:16:03Z", RT_DCAP_CRL);
    expect(Q1, C1, "2025-07-19T10:16:04Z", RT_DCAP_COLLATERAL_EXPIRED);
}

/* ---- the root ------------------------------------------------------------------ */

static void test_pinned_root(void **state)
{
    (void)state;
    size_t n;
    uint8_t *pem = af_read("intel-sgx-root-ca.pem", &n);
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    assert_non_null(x);
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    assert_int_equal((size_t)dl, rt_dcap_intel_root_der_len);
    assert_memory_equal(der, rt_dcap_intel_root_der, (size_t)dl);
    uint8_t fp[32];
    char hex[65];
    assert_int_equal(EVP_Digest(der, (size_t)dl, fp, NULL, EVP_sha256(), NULL), 1);
    rt_hex_encode(fp, 32, hex);
    assert_string_equal(hex, RT_DCAP_INTEL_ROOT_SHA256);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    free(pem);

    /* --allow-sim changes nothing for a real quote: its chain ends at
     * Intel's root. */
    size_t qn, cn;
    uint8_t *q = af_read(Q1, &qn), *c = af_read(C1, &cn);
    rt_dcap_report r;
    assert_int_equal(run_buf(q, qn, (const char *)c, cn, T1, RT_DCAP_ALLOW_SIM, &r), RT_DCAP_OK);
    assert_false(r.sim);
    free(q);
    free(c);
}

static void test_names_and_times(void **state)
{
    (void)state;
    for (int a = 0; a < RT_DCAP_NERRORS; a++)
        for (int b = a + 1; b < RT_DCAP_NERRORS; b++)
            assert_string_not_equal(rt_dcap_err_name((rt_dcap_err)a), rt_dcap_err_name((rt_dcap_err)b));
    int64_t t;
    assert_int_equal(rt_dcap_time("2025-07-19T10:16:03Z", 20, &t), 0);
    assert_int_equal(t, 1752920163);
    assert_int_equal(rt_dcap_time("2024-02-29T00:00:00.5Z", 22, &t), 0);
    assert_int_equal(rt_dcap_time("2025-02-29T00:00:00Z", 20, &t), -1);
    assert_int_equal(rt_dcap_time("2025-07-19T24:00:00Z", 20, &t), -1);
    assert_int_equal(rt_dcap_time("2025-07-19 10:16:03Z", 20, &t), -1);
    assert_int_equal(rt_dcap_time("2025-07-19T10:16:03", 19, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_verdicts),
        cmocka_unit_test(test_v5_layout),
        cmocka_unit_test(test_no_collateral),
        cmocka_unit_test(test_quote_changes),
        cmocka_unit_test(test_base64_padding_bits),
        cmocka_unit_test(test_collateral_changes),
        cmocka_unit_test(test_crl_window),
        cmocka_unit_test(test_pinned_root),
        cmocka_unit_test(test_names_and_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * rt_dcap.c - DCAP verification of TDX quotes: certificate chains, CRLs,
 * TCB info, QE identity, TCB level matching (see rt_dcap.h for the steps).
 *
 * Where the reference (@phala/dcap-qvl 0.3.9) is lenient, this file is
 * strict, and docs/attestation.md lists each difference: CRLs must be
 * signed by their issuer and be within their window, PEM chains must be
 * exactly PEM blocks in canonical base64, and every length in the quote
 * must frame its content exactly.  Where the reference reads unsigned
 * collateral before checking its signature (the TCB info's structure and
 * dates), the same is read here in the same order, so that a corrupted
 * document fails with the same class in both; what the signature covers is
 * then checked in full once it is known to be signed.
 */
#include "rt_dcap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "rt_hex.h"
#include "rt_p256.h"

static const struct {
    const char *name, *text;
} err_names[] = {
#define RT_DCAP_NAME(id, name, text) { name, text },
    RT_DCAP_ERRORS(RT_DCAP_NAME)
#undef RT_DCAP_NAME
};

const char *rt_dcap_err_name(rt_dcap_err e)
{
    return (unsigned)e < RT_DCAP_NERRORS ? err_names[e].name : "unknown";
}

const char *rt_dcap_err_text(rt_dcap_err e)
{
    return (unsigned)e < RT_DCAP_NERRORS ? err_names[e].text : "unknown";
}

/* ------------------------------------------------------------ context */

#define MAX_CERTS 8
#define MAX_PEM (64u << 10)

typedef struct chain {
    int n;
    X509 *x[MAX_CERTS];
} chain;

typedef struct ctx {
    rt_dcap_report *r;
    int64_t now;
    unsigned flags;
    X509 *anchor;         /* the root: Intel's, or the sim's */
    EVP_PKEY *anchor_key; /* borrowed from anchor */
    const char *col_text; /* the collateral as given, NULL for none */
    size_t col_len;
    struct json_object *col, *tcb, *qe;
    const char *tcb_text, *qe_text;
    size_t tcb_len, qe_len;
    X509_CRL *root_crl, *pck_crl;
    chain tcb_chain, qe_chain, pck_chain;
    char now_s[24];
} ctx;

static void add_line(ctx *c, int ok, int rooted, const char *what, const char *why)
{
    rt_dcap_report *r = c->r;
    /* Keep room for the failure line: it is the one that matters. */
    if (r->nlines == RT_DCAP_MAX_LINES)
        r->nlines--;
    rt_dcap_line *l = &r->lines[r->nlines++];
    l->ok = ok;
    l->rooted = rooted;
    snprintf(l->what, sizeof l->what, "%s", what);
    snprintf(l->why, sizeof l->why, "%s", why ? why : "");
}

static void pass(ctx *c, int rooted, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pass(ctx *c, int rooted, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    add_line(c, 1, rooted, what, NULL);
}

/* Records the first failure (class e, check what, detail fmt) and returns
 * -1, for `return fail(...)`. */
static int fail(ctx *c, rt_dcap_err e, int rooted, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(ctx *c, rt_dcap_err e, int rooted, const char *what, const char *fmt, ...)
{
    char why[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c->r->err == RT_DCAP_OK) {
        c->r->err = e;
        c->r->name = rt_dcap_err_name(e);
    }
    add_line(c, 0, rooted, what, why);
    return -1;
}

static void fmt_time(int64_t t, char out[24])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 24, "@%lld", (long long)t);
}

static void sha256(const void *a, size_t na, const void *b, size_t nb, uint8_t out[32])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!m || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(m, a, na) != 1 ||
        (nb && EVP_DigestUpdate(m, b, nb) != 1) || EVP_DigestFinal_ex(m, out, NULL) != 1)
        memset(out, 0, 32); /* compares unequal to any real digest below */
    EVP_MD_CTX_free(m);
}

/* ------------------------------------------------------------- times */

static int days_in(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int rt_dcap_time(const char *s, size_t n, int64_t *out)
{
    if (!s || n < 20 || s[n - 1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':')
        return -1;
    if (n > 20) {
        if (s[19] != '.' || n == 21)
            return -1;
        for (size_t i = 20; i < n - 1; i++)
            if (s[i] < '0' || s[i] > '9')
                return -1;
    }
    int Y = num(s, 4), M = num(s + 5, 2), D = num(s + 8, 2), h = num(s + 11, 2),
        m = num(s + 14, 2), sec = num(s + 17, 2);
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > days_in(Y, M) || h < 0 || h > 23 || m < 0 ||
        m > 59 || sec < 0 || sec > 59)
        return -1;
    struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h,
                     .tm_min = m, .tm_sec = sec };
    *out = (int64_t)timegm(&tm);
    return 0;
}

static int asn1_time(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* ------------------------------------------------------ PEM and base64 */

static int b64v(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Canonical base64 only: a multiple of 4 characters, '=' only as the last
 * one or two, the padding's unused bits zero.  So exactly one text encodes
 * each DER, and no character of it can change without changing the DER. */
static int b64_strict(const char *s, size_t n, uint8_t *out, size_t *outlen)
{
    if (n == 0 || n % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int last = i + 4 == n;
        int pad = last ? (s[i + 3] == '=') + (s[i + 2] == '=' && s[i + 3] == '=') : 0;
        int v[4];
        for (int k = 0; k < 4 - pad; k++)
            if ((v[k] = b64v((unsigned char)s[i + k])) < 0)
                return -1;
        if (pad == 2 && (v[1] & 0x0f))
            return -1;
        if (pad == 1 && (v[2] & 0x03))
            return -1;
        out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
        if (pad < 2)
            out[o++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
        if (pad < 1)
            out[o++] = (uint8_t)(v[2] << 6 | v[3]);
    }
    *outlen = o;
    return 0;
}

static size_t eol(const char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '\n')
        return 1;
    if (i + 1 < n && s[i] == '\r' && s[i + 1] == '\n')
        return 2;
    return 0;
}

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

/*
 * Decodes s[0..n): PEM CERTIFICATE blocks, each line ended by "\n" or
 * "\r\n" (the last END line's may be missing), base64 lines of 1..76
 * characters, then, if nul_ok, at most one NUL byte (the quote's chain ends
 * with one).  Nothing else may appear.  der[k] (malloc'd, caller frees) and
 * len[k] receive each certificate.  Returns the count, or -1 with why.
 */
static int pem_chain(const char *s, size_t n, int nul_ok, uint8_t *der[MAX_CERTS],
                     size_t len[MAX_CERTS], char *why, size_t whycap)
{
    size_t i = 0;
    int count = 0;
    char *body = NULL;
    if (n > MAX_PEM) {
        snprintf(why, whycap, "%zu bytes of PEM, more than %u", n, MAX_PEM);
        return -1;
    }
    body = malloc(n + 1);
    if (!body) {
        snprintf(why, whycap, "out of memory");
        return -1;
    }
    while (i < n && !(nul_ok && s[i] == 0 && i + 1 == n)) {
        size_t e, bn = 0;
        if (count == MAX_CERTS) {
            snprintf(why, whycap, "more than %d certificates", MAX_CERTS);
            goto bad;
        }
        if (n - i < sizeof PEM_BEGIN - 1 || memcmp(s + i, PEM_BEGIN, sizeof PEM_BEGIN - 1) != 0) {
            snprintf(why, whycap, "byte %zu: expected \"" PEM_BEGIN "\"", i);
            goto bad;
        }
        i += sizeof PEM_BEGIN - 1;
        if (!(e = eol(s, n, i))) {
            snprintf(why, whycap, "byte %zu: expected a line end after BEGIN", i);
            goto bad;
        }
        i += e;
        while (!(n - i >= sizeof PEM_END - 1 && memcmp(s + i, PEM_END, sizeof PEM_END - 1) == 0)) {
            size_t start = i;
            while (i < n && (b64v((unsigned char)s[i]) >= 0 || s[i] == '='))
                i++;
            if (i == start || i - start > 76 || !(e = eol(s, n, i))) {
                snprintf(why, whycap, "byte %zu: not a base64 line", i);
                goto bad;
            }
            memcpy(body + bn, s + start, i - start);
            bn += i - start;
            i += e;
        }
        i += sizeof PEM_END - 1;
        if (i < n && !(nul_ok && s[i] == 0 && i + 1 == n)) {
            if (!(e = eol(s, n, i))) {
                snprintf(why, whycap, "byte %zu: expected a line end after END", i);
                goto bad;
            }
            i += e;
        }
        der[count] = malloc(bn); /* base64 decodes to at most 3/4 of bn */
        if (!der[count] || b64_strict(body, bn, der[count], &len[count]) != 0) {
            if (der[count])
                snprintf(why, whycap, "certificate %d: not canonical base64", count + 1);
            else
                snprintf(why, whycap, "out of memory");
            free(der[count]);
            goto bad;
        }
        count++;
    }
    free(body);
    if (count == 0) {
        snprintf(why, whycap, "no certificate");
        return -1;
    }
    return count;
bad:
    free(body);
    while (count > 0)
        free(der[--count]);
    return -1;
}

static X509 *parse_cert(const uint8_t *der, size_t n)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)n);
    if (x && p != der + n) { /* trailing bytes after the DER */
        X509_free(x);
        return NULL;
    }
    return x;
}

/* The subject's common name, for messages. */
static void cn_of(X509 *x, char *out, size_t cap)
{
    out[0] = 0;
    if (x && X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)cap) < 0)
        snprintf(out, cap, "(no common name)");
}

static int self_signed(X509 *x)
{
    return X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
           X509_verify(x, X509_get0_pubkey(x)) == 1;
}

static int is_sim_root(X509 *x)
{
    char cn[128];
    cn_of(x, cn, sizeof cn);
    return strcmp(cn, RT_DCAP_SIM_ROOT_CN) == 0 && self_signed(x);
}

/* ------------------------------------------------------ chains and CRLs */

/* The root-derived trust of every line below is marked; so is the time. */
#define ROOTED 1

static int window(ctx *c, rt_dcap_err e, const char *what, int64_t from, int64_t to)
{
    char a[24], b[24];
    fmt_time(from, a);
    fmt_time(to, b);
    if (c->now < from)
        return fail(c, e, ROOTED, what, "not valid before %s (now %s)", a, c->now_s);
    if (c->now > to)
        return fail(c, e, ROOTED, what, "expired at %s (now %s)", b, c->now_s);
    return 0;
}

static int cert_window(ctx *c, const char *what, X509 *x)
{
    int64_t from, to;
    if (asn1_time(X509_get0_notBefore(x), &from) != 0 || asn1_time(X509_get0_notAfter(x), &to) != 0)
        return fail(c, RT_DCAP_CERT_CHAIN, ROOTED, what, "unreadable validity dates");
    return window(c, RT_DCAP_CERT_EXPIRED, what, from, to);
}

static int is_ca(X509 *x)
{
    int crit;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    int ca = bc && bc->ca;
    BASIC_CONSTRAINTS_free(bc);
    return ca;
}

/*
 * Verifies the PEM chain text[0..n) (label: "PCK chain", ...): the leaf is
 * not a CA, each certificate is signed by the next and the last by the
 * root, each is valid at now.  The parsed certificates go to *ch.
 */
static int verify_chain(ctx *c, const char *label, const char *text, size_t n, int nul_ok, chain *ch)
{
    char what[160], why[160], cn[128];
    uint8_t *der[MAX_CERTS];
    size_t len[MAX_CERTS];
    snprintf(what, sizeof what, "%s", label);
    int k = pem_chain(text, n, nul_ok, der, len, why, sizeof why);
    if (k < 0)
        return fail(c, RT_DCAP_CERT_CHAIN, ROOTED, what, "%s", why);
    int rc = -1;
    if (k < 2) {
        fail(c, RT_DCAP_CERT_CHAIN, ROOTED, what, "%d certificate: too short", k);
        goto out;
    }
    if (!(ch->x[0] = parse_cert(der[0], len[0]))) {
        fail(c, RT_DCAP_CERT_CHAIN, ROOTED, what, "certificate 1 is not DER X.509");
        goto out;
    }
    ch->n = 1;
    if (is_ca(ch->x[0])) {
        fail(c, RT_DCAP_CERT_CHAIN, ROOTED, what, "the leaf certificate is a CA certificate");
        goto out;
    }
    for (int i = 0; i < k; i++) {
        X509 *issuer = c->anchor;
        if (i + 1 < k) {
            if (!(ch->x[i + 1] = parse_cert(der[i + 1], len[i + 1]))) {
                fail(c, RT_DCAP_CERT_CHAIN, ROOTED, what, "certificate %d is not DER X.509", i + 2);
                goto out;
            }
            ch->n = i + 2;
            issuer = ch->x[i + 1];
        }
        if (X509_verify(ch->x[i], X509_get0_pubkey(issuer)) != 1) {
            cn_of(ch->x[i], cn, sizeof cn);
            if (i + 1 == k && self_signed(ch->x[i]))
                fail(c, RT_DCAP_CERT_CHAIN, ROOTED, what,
                     "it ends at \"%s\", which is not the %s%s", cn,
                     c->r->sim ? "sim root" : "pinned Intel SGX Root CA",
                     strcmp(cn, RT_DCAP_SIM_ROOT_CN) == 0 && !(c->flags & RT_DCAP_ALLOW_SIM)
                         ? " (a simulated quote: --allow-sim accepts its root)"
                         : "");
            else
                fail(c, RT_DCAP_CERT_CHAIN, ROOTED, what, "certificate %d (\"%s\") is not signed by %s",
                     i + 1, cn, i + 1 < k ? "the next certificate" : "the root");
            goto out;
        }
        cn_of(ch->x[i], cn, sizeof cn);
        snprintf(what, sizeof what, "%s: certificate %d (\"%s\") validity", label, i + 1, cn);
        if (cert_window(c, what, ch->x[i]) != 0)
            goto out;
        snprintf(what, sizeof what, "%s", label);
    }
    rc = 0;
out:
    for (int i = 0; i < k; i++)
        free(der[i]);
    return rc;
}

static int revoked_by(X509_CRL *crl, X509 *x)
{
    X509_REVOKED *rev;
    if (!crl || X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) != 0)
        return 0;
    return X509_CRL_get0_by_serial(crl, &rev, (ASN1_INTEGER *)X509_get0_serialNumber(x)) == 1;
}

/* No certificate of ch, nor the root, is on the CRL of its issuer. */
static int not_revoked(ctx *c, const char *label, const chain *ch)
{
    char cn[128];
    for (int i = 0; i <= ch->n; i++) {
        X509 *x = i < ch->n ? ch->x[i] : c->anchor;
        if (revoked_by(c->root_crl, x) || revoked_by(c->pck_crl, x)) {
            cn_of(x, cn, sizeof cn);
            return fail(c, RT_DCAP_REVOKED, ROOTED, label, "\"%s\" is on its issuer's CRL", cn);
        }
    }
    return 0;
}

/* Decodes a CRL given as hex (both CRLs of the collateral are). */
static X509_CRL *crl_from_hex(const char *hex, size_t n)
{
    if (n == 0 || n % 2 || n / 2 > (4u << 20))
        return NULL;
    uint8_t *der = malloc(n / 2);
    X509_CRL *crl = NULL;
    if (der && rt_hex_decode(hex, n, der, n / 2) == 0) {
        const unsigned char *p = der;
        crl = d2i_X509_CRL(NULL, &p, (long)(n / 2));
        if (crl && p != der + n / 2) {
            X509_CRL_free(crl);
            crl = NULL;
        }
    }
    free(der);
    return crl;
}

/* The CRL is issued and signed by issuer and within its window at now. */
static int crl_valid(ctx *c, const char *what, X509_CRL *crl, X509 *issuer)
{
    char cn[128];
    int64_t from, to;
    cn_of(issuer, cn, sizeof cn);
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
        return fail(c, RT_DCAP_CRL, ROOTED, what, "it is not issued by \"%s\"", cn);
    if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1)
        return fail(c, RT_DCAP_CRL, ROOTED, what, "its signature does not verify with \"%s\"'s key", cn);
    if (asn1_time(X509_CRL_get0_lastUpdate(crl), &from) != 0 ||
        asn1_time(X509_CRL_get0_nextUpdate(crl), &to) != 0)
        return fail(c, RT_DCAP_CRL, ROOTED, what, "no readable thisUpdate/nextUpdate");
    return window(c, RT_DCAP_CRL, what, from, to);
}

/* ------------------------------------------------------------- JSON */

/* RFC 8259 syntax, which json-c's strict mode does not quite enforce (it
 * takes "-01", raw control characters in strings): what JavaScript's
 * JSON.parse refuses must be refused here too. */
typedef struct jscan {
    const char *s;
    size_t n, i;
} jscan;

static void jws(jscan *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r'))
        j->i++;
}

static int jdigits(jscan *j)
{
    size_t start = j->i;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
        j->i++;
    return j->i > start;
}

static int jvalue(jscan *j, int depth);

static int jstring(jscan *j)
{
    j->i++; /* the opening quote */
    while (j->i < j->n) {
        unsigned char ch = (unsigned char)j->s[j->i++];
        if (ch == '"')
            return 1;
        if (ch < 0x20)
            return 0;
        if (ch != '\\')
            continue;
        if (j->i >= j->n)
            return 0;
        ch = (unsigned char)j->s[j->i++];
        if (ch == 'u') {
            for (int k = 0; k < 4; k++)
                if (j->i >= j->n || rt_hex_digit(j->s[j->i++]) < 0)
                    return 0;
        } else if (!strchr("\"\\/bfnrt", ch) || ch == 0) {
            return 0;
        }
    }
    return 0;
}

static int jcontainer(jscan *j, int depth, char close)
{
    j->i++;
    jws(j);
    if (j->i < j->n && j->s[j->i] == close) {
        j->i++;
        return 1;
    }
    for (;;) {
        jws(j);
        if (close == '}') {
            if (j->i >= j->n || j->s[j->i] != '"' || !jstring(j))
                return 0;
            jws(j);
            if (j->i >= j->n || j->s[j->i++] != ':')
                return 0;
        }
        if (!jvalue(j, depth + 1))
            return 0;
        jws(j);
        if (j->i >= j->n)
            return 0;
        char ch = j->s[j->i++];
        if (ch == close)
            return 1;
        if (ch != ',')
            return 0;
    }
}

static int jvalue(jscan *j, int depth)
{
    jws(j);
    if (j->i >= j->n || depth > 64)
        return 0;
    char ch = j->s[j->i];
    if (ch == '{' || ch == '[')
        return jcontainer(j, depth, ch == '{' ? '}' : ']');
    if (ch == '"')
        return jstring(j);
    static const char *const words[] = { "true", "false", "null" };
    for (int k = 0; k < 3; k++) {
        size_t wl = strlen(words[k]);
        if (j->n - j->i >= wl && memcmp(j->s + j->i, words[k], wl) == 0) {
            j->i += wl;
            return 1;
        }
    }
    if (ch == '-')
        j->i++;
    if (j->i < j->n && j->s[j->i] == '0')
        j->i++;
    else if (!jdigits(j))
        return 0;
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        if (!jdigits(j))
            return 0;
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
            j->i++;
        if (!jdigits(j))
            return 0;
    }
    return 1;
}

static struct json_object *json_parse(const char *s, size_t n)
{
    jscan j = { s, n, 0 };
    if (!s || n > (16u << 20) || !jvalue(&j, 0))
        return NULL;
    jws(&j);
    if (j.i != n)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    size_t used = (size_t)json_tokener_get_parse_end(tok);
    if (!o || json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    while (o && used < n && (s[used] == ' ' || s[used] == '\t' || s[used] == '\n' || s[used] == '\r'))
        used++;
    if (o && used != n) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static struct json_object *member(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v))
        return v;
    return NULL;
}

static const char *str_of(struct json_object *o, const char *k, size_t *n)
{
    struct json_object *v = member(o, k);
    if (!json_object_is_type(v, json_type_string))
        return NULL;
    *n = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

/* An integer member in [lo, hi]; -1 if absent or of another type. */
static int int_of(struct json_object *o, const char *k, int64_t lo, int64_t hi, int64_t *out)
{
    struct json_object *v = member(o, k);
    if (!json_object_is_type(v, json_type_int))
        return -1;
    int64_t x = json_object_get_int64(v);
    if (x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

/* A hex string member of exactly n bytes. */
static int hex_of(struct json_object *o, const char *k, uint8_t *out, size_t n)
{
    size_t len;
    const char *s = str_of(o, k, &len);
    return s ? rt_hex_decode(s, len, out, n) : -1;
}

/* A JSON value JavaScript would find a property on without a TypeError
 * (anything but null). */
static int not_null(struct json_object *v)
{
    return v != NULL;
}

/* The checks the reference's TcbInfo.fromJSON / QeIdentity.fromJSON make
 * before any signature: the levels must be an array of objects whose "tcb"
 * can be read (for the TCB info: with an array of SGX components, and TDX
 * components absent, falsy or an array, none of their entries null). */
static int levels_readable(struct json_object *doc, int tcb_info)
{
    struct json_object *lv = member(doc, "tcbLevels");
    if (!json_object_is_type(lv, json_type_array))
        return 0;
    size_t n = json_object_array_length(lv);
    for (size_t i = 0; i < n; i++) {
        struct json_object *l = json_object_array_get_idx(lv, i);
        if (!json_object_is_type(l, json_type_object))
            return 0;
        struct json_object *t = member(l, "tcb");
        if (!tcb_info) {
            if (!not_null(t))
                return 0;
            continue;
        }
        if (!json_object_is_type(t, json_type_object))
            return 0;
        struct json_object *sgx = member(t, "sgxtcbcomponents"), *tdx = member(t, "tdxtcbcomponents");
        if (!json_object_is_type(sgx, json_type_array))
            return 0;
        int tdx_falsy = !tdx || (json_object_is_type(tdx, json_type_boolean) && !json_object_get_boolean(tdx)) ||
                        (json_object_is_type(tdx, json_type_int) && json_object_get_int64(tdx) == 0) ||
                        (json_object_is_type(tdx, json_type_string) && json_object_get_string_len(tdx) == 0);
        if (!tdx_falsy && !json_object_is_type(tdx, json_type_array))
            return 0;
        for (int pass = 0; pass < 2; pass++) {
            struct json_object *a = pass ? (tdx_falsy ? NULL : tdx) : sgx;
            size_t m = a ? json_object_array_length(a) : 0;
            for (size_t j = 0; j < m; j++)
                if (!not_null(json_object_array_get_idx(a, j)))
                    return 0;
        }
    }
    return 1;
}

/* issueDate..nextUpdate at now, as far as the dates can be read: before
 * the signature is checked, an unreadable date constrains nothing (the
 * reference compares with NaN); after it, rt_dcap requires both. */
static int doc_window(ctx *c, struct json_object *doc, const char *what, int strict)
{
    size_t na, nb;
    const char *a = str_of(doc, "issueDate", &na), *b = str_of(doc, "nextUpdate", &nb);
    int64_t from, to;
    int fa = rt_dcap_time(a, a ? na : 0, &from) == 0, fb = rt_dcap_time(b, b ? nb : 0, &to) == 0;
    if (strict && (!fa || !fb))
        return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what,
                    "issueDate and nextUpdate must be RFC 3339 UTC times");
    if (fa && c->now < from)
        return fail(c, RT_DCAP_COLLATERAL_EXPIRED, ROOTED, what, "issued %.*s, in the future (now %s)",
                    (int)na, a, c->now_s);
    if (fb && c->now > to)
        return fail(c, RT_DCAP_COLLATERAL_EXPIRED, ROOTED, what, "expired at %.*s (now %s)", (int)nb, b,
                    c->now_s);
    return 0;
}

/* A signature of the collateral: sig_field (64 bytes, hex) over text by the
 * leaf of ch. */
static int doc_signature(ctx *c, const char *what, const char *sig_field, const char *text, size_t n,
                         const chain *ch)
{
    uint8_t sig[64];
    if (hex_of(c->col, sig_field, sig, 64) != 0)
        return fail(c, RT_DCAP_COLLATERAL_SIGNATURE, ROOTED, what, "%s is not 64 bytes of hex", sig_field);
    if (!rt_p256_verify(X509_get0_pubkey(ch->x[0]), (const uint8_t *)text, n, sig))
        return fail(c, RT_DCAP_COLLATERAL_SIGNATURE, ROOTED, what,
                    "%s does not verify with the signing certificate's key", sig_field);
    return 0;
}

/* ---------------------------------------------------------- TCB status */

static int severity(const char *s)
{
    static const char *const order[] = { "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                                         "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                                         "OutOfDateConfigurationNeeded", "Revoked" };
    for (int i = 0; i < 7; i++)
        if (strcmp(s, order[i]) == 0)
            return i;
    return 100;
}

static void add_advisories(rt_dcap_report *r, struct json_object *level)
{
    struct json_object *a = member(level, "advisoryIDs");
    size_t n = json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
    for (size_t i = 0; i < n && r->nadvisories < RT_DCAP_MAX_ADVISORIES; i++) {
        struct json_object *e = json_object_array_get_idx(a, i);
        if (!json_object_is_type(e, json_type_string))
            continue;
        const char *id = json_object_get_string(e);
        int dup = 0;
        for (int k = 0; k < r->nadvisories && !dup; k++)
            dup = strcmp(r->advisories[k], id) == 0;
        if (!dup)
            snprintf(r->advisories[r->nadvisories++], sizeof r->advisories[0], "%s", id);
    }
}

/* Reads a components array into svn[16]; returns its length (-1 if an
 * entry's svn is not an integer 0..255). */
static int components(struct json_object *a, uint8_t svn[16])
{
    size_t n = json_object_array_length(a);
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        if (int_of(json_object_array_get_idx(a, i), "svn", 0, 255, &v) != 0)
            return -1;
        if (i < 16)
            svn[i] = (uint8_t)v;
    }
    return (int)n;
}

/* ------------------------------------------------ PCK certificate extension */

/* Reads one DER TLV at *p (< end); returns 0 and advances *p, or -1. */
static int der_tlv(const uint8_t **p, const uint8_t *end, unsigned *tag, const uint8_t **val, size_t *len)
{
    const uint8_t *q = *p;
    if (end - q < 2)
        return -1;
    *tag = *q++;
    size_t l = *q++;
    if (l & 0x80) {
        int nb = (int)(l & 0x7f);
        if (nb < 1 || nb > 3 || end - q < nb)
            return -1;
        l = 0;
        while (nb--)
            l = l << 8 | *q++;
    }
    if ((size_t)(end - q) < l)
        return -1;
    *val = q;
    *len = l;
    *p = q + l;
    return 0;
}

/* In a SEQUENCE OF SEQUENCE { OID, value } (the content seq[0..n)), the
 * value whose OID is the SGX extension arc 1.2.840.113741.1.13.1 followed
 * by sub[0..ns).  Returns 0 with the value's TLV, -1 if absent or
 * malformed. */
static int sgx_find(const uint8_t *seq, size_t n, const uint8_t *sub, size_t ns, unsigned *tag,
                    const uint8_t **val, size_t *len)
{
    static const uint8_t arc[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };
    const uint8_t *p = seq, *end = seq + n;
    while (p < end) {
        unsigned t, ot;
        const uint8_t *item, *oid, *v;
        size_t il, ol, vl;
        if (der_tlv(&p, end, &t, &item, &il) != 0 || t != 0x30)
            return -1;
        const uint8_t *q = item, *qe = item + il;
        if (der_tlv(&q, qe, &ot, &oid, &ol) != 0 || ot != 0x06)
            return -1;
        const uint8_t *vstart = q;
        if (der_tlv(&q, qe, tag, &v, &vl) != 0)
            return -1;
        (void)vstart;
        if (ol == sizeof arc + ns && memcmp(oid, arc, sizeof arc) == 0 && memcmp(oid + sizeof arc, sub, ns) == 0) {
            *val = v;
            *len = vl;
            return 0;
        }
    }
    return -1;
}

/* FMSPC, CPUSVN, PCESVN and PPID from the PCK leaf's Intel SGX extension. */
static int pck_extension(ctx *c, X509 *leaf)
{
    static const char what[] = "PCK certificate: Intel SGX extension (FMSPC, CPUSVN, PCESVN)";
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    int at = obj ? X509_get_ext_by_OBJ(leaf, obj, -1) : -1;
    int again = at >= 0 ? X509_get_ext_by_OBJ(leaf, obj, at) : -1;
    ASN1_OBJECT_free(obj);
    if (at < 0)
        return fail(c, RT_DCAP_PCK_CERT, ROOTED, what, "the extension is missing");
    if (again >= 0)
        return fail(c, RT_DCAP_PCK_CERT, ROOTED, what, "the extension appears twice");
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(leaf, at));
    const uint8_t *p = ASN1_STRING_get0_data(os), *seq, *v, *tcb;
    size_t n, vl, tl;
    unsigned tag;
    if (der_tlv(&p, p + ASN1_STRING_length(os), &tag, &seq, &n) != 0 || tag != 0x30)
        return fail(c, RT_DCAP_PCK_CERT, ROOTED, what, "not a DER SEQUENCE");
    static const uint8_t o_fmspc[] = { 0x04 }, o_tcb[] = { 0x02 }, o_ppid[] = { 0x01 },
                         o_pcesvn[] = { 0x11 }, o_cpusvn[] = { 0x12 };
    if (sgx_find(seq, n, o_fmspc, 1, &tag, &v, &vl) != 0 || tag != 0x04 || vl != 6)
        return fail(c, RT_DCAP_PCK_CERT, ROOTED, what, "no 6-byte FMSPC");
    memcpy(c->r->fmspc, v, 6);
    if (sgx_find(seq, n, o_tcb, 1, &tag, &tcb, &tl) != 0 || tag != 0x30)
        return fail(c, RT_DCAP_PCK_CERT, ROOTED, what, "no TCB sequence");
    uint8_t sub[2] = { 0x02, 0 };
    sub[1] = o_cpusvn[0];
    if (sgx_find(tcb, tl, sub, 2, &tag, &v, &vl) != 0 || tag != 0x04 || vl != 16)
        return fail(c, RT_DCAP_PCK_CERT, ROOTED, what, "no 16-byte CPUSVN");
    memcpy(c->r->cpusvn, v, 16);
    sub[1] = o_pcesvn[0];
    if (sgx_find(tcb, tl, sub, 2, &tag, &v, &vl) != 0 || tag != 0x02 || vl < 1 || vl > 2)
        return fail(c, RT_DCAP_PCK_CERT, ROOTED, what, "no PCESVN of one or two bytes");
    c->r->pcesvn = vl == 1 ? v[0] : (unsigned)(v[0] << 8 | v[1]);
    if (sgx_find(seq, n, o_ppid, 1, &tag, &v, &vl) == 0 && tag == 0x04 && vl == 16)
        memcpy(c->r->ppid, v, 16);
    c->r->have_pck = 1;
    return 0;
}

/* ------------------------------------------------------------ the steps */

static int step_collateral(ctx *c)
{
    static const char what[] = "collateral: a JSON object with the fields of @phala/dcap-qvl's collateral";
    static const char *const fields[] = { "tcb_info", "tcb_info_signature", "tcb_info_issuer_chain",
                                          "qe_identity", "qe_identity_signature",
                                          "qe_identity_issuer_chain", "root_ca_crl", "pck_crl" };
    c->col = json_parse(c->col_text, c->col_len);
    if (!json_object_is_type(c->col, json_type_object))
        return fail(c, RT_DCAP_COLLATERAL_FORMAT, 0, what, "not a JSON object");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        size_t n;
        if (!str_of(c->col, fields[i], &n))
            return fail(c, RT_DCAP_COLLATERAL_FORMAT, 0, what, "no string member \"%s\"", fields[i]);
    }
    struct json_object *pcc = member(c->col, "pck_certificate_chain");
    if (pcc && !json_object_is_type(pcc, json_type_string))
        return fail(c, RT_DCAP_COLLATERAL_FORMAT, 0, what, "pck_certificate_chain is not a string");
    pass(c, 0, "%s", what);
    return 0;
}

static int step_crls(ctx *c)
{
    size_t n;
    const char *h = str_of(c->col, "root_ca_crl", &n);
    if (!(c->root_crl = crl_from_hex(h, n)))
        return fail(c, RT_DCAP_CRL, ROOTED, "root CA CRL", "root_ca_crl is not the hex of a DER CRL");
    if (crl_valid(c, "root CA CRL: signed by the root, thisUpdate <= now <= nextUpdate", c->root_crl,
                  c->anchor) != 0)
        return -1;
    pass(c, ROOTED, "root CA CRL: signed by the root, valid at %s", c->now_s);
    h = str_of(c->col, "pck_crl", &n);
    if (!(c->pck_crl = crl_from_hex(h, n)))
        return fail(c, RT_DCAP_CRL, ROOTED, "PCK CRL", "pck_crl is not the hex of a DER CRL");
    return 0;
}

/* Reads the collateral document field (name: "TCB info" or "QE
 * identity"): the structure the reference reads before its signature, and
 * its window as far as its dates can be read. */
static int doc_read(ctx *c, const char *name, const char *field, int tcb_info, struct json_object **doc,
                    const char **text, size_t *len)
{
    char what[120];
    snprintf(what, sizeof what, "%s: parses (tcbLevels%s)", name,
             tcb_info ? " with their SGX and TDX components" : "");
    *text = str_of(c->col, field, len);
    *doc = json_parse(*text, *len);
    if (!*doc || !levels_readable(*doc, tcb_info))
        return fail(c, RT_DCAP_COLLATERAL_FORMAT, 0, what, "%s",
                    *doc ? "tcbLevels or a level's tcb is not what it should be" : "not JSON");
    pass(c, 0, "%s", what);
    snprintf(what, sizeof what, "%s: issueDate <= now <= nextUpdate", name);
    if (doc_window(c, *doc, what, 0) != 0)
        return -1;
    size_t na, nb;
    const char *a = str_of(*doc, "issueDate", &na), *b = str_of(*doc, "nextUpdate", &nb);
    pass(c, 0, "%s: issued %.*s, next update %.*s, now %s", name, a ? (int)na : 1, a ? a : "?",
         b ? (int)nb : 1, b ? b : "?", c->now_s);
    return 0;
}

/* Its signing chain to the root (then, for the first document, the CRLs,
 * which are signed by the root that chain leads to), no certificate of it
 * revoked, its signature, and, now that it is known to be signed, its
 * dates in full. */
static int doc_signed(ctx *c, const char *name, const char *chain_field, const char *sig_field,
                      struct json_object *doc, const char *text, size_t len, chain *ch, int crls)
{
    char what[120];
    size_t n;
    const char *pem = str_of(c->col, chain_field, &n);
    snprintf(what, sizeof what, "%s signing chain to the root", name);
    if (verify_chain(c, what, pem, n, 0, ch) != 0 || (crls && step_crls(c) != 0))
        return -1;
    snprintf(what, sizeof what, "%s signing chain: no certificate revoked", name);
    if (not_revoked(c, what, ch) != 0)
        return -1;
    pass(c, ROOTED, "%s signing chain to the root (%d certificates), none revoked", name, ch->n);
    snprintf(what, sizeof what, "%s: signature by the TCB signing key", name);
    if (doc_signature(c, what, sig_field, text, len, ch) != 0)
        return -1;
    pass(c, ROOTED, "%s", what);
    snprintf(what, sizeof what, "%s: issueDate and nextUpdate", name);
    return doc_window(c, doc, what, 1);
}

static int step_tcb_info(ctx *c)
{
    return doc_read(c, "TCB info", "tcb_info", 1, &c->tcb, &c->tcb_text, &c->tcb_len) != 0 ||
                   doc_signed(c, "TCB info", "tcb_info_issuer_chain", "tcb_info_signature", c->tcb, c->tcb_text,
                              c->tcb_len, &c->tcb_chain, 1) != 0
               ? -1
               : 0;
}

static int step_qe_identity(ctx *c)
{
    if (doc_read(c, "QE identity", "qe_identity", 0, &c->qe, &c->qe_text, &c->qe_len) != 0 ||
        doc_signed(c, "QE identity", "qe_identity_issuer_chain", "qe_identity_signature", c->qe, c->qe_text,
                   c->qe_len, &c->qe_chain, 0) != 0)
        return -1;
    size_t idn;
    const char *id = str_of(c->qe, "id", &idn);
    int64_t ver;
    if (!id || idn != 5 || memcmp(id, "TD_QE", 5) != 0 || int_of(c->qe, "version", 2, 3, &ver) != 0)
        return fail(c, RT_DCAP_COLLATERAL_MISMATCH, ROOTED, "QE identity: the TDX quoting enclave's (TD_QE, version 2 or 3)",
                    "it is \"%s\"", id ? id : "?");
    return 0;
}

static int step_pck_chain(ctx *c)
{
    const rt_quote *q = &c->r->quote;
    size_t n = 0;
    const char *pem = c->col ? str_of(c->col, "pck_certificate_chain", &n) : NULL;
    const char *src = "the quote's";
    if (pem) {
        src = "the collateral's";
    } else if (q->inner_type != RT_QUOTE_CERT_PCK_CHAIN) {
        return fail(c, RT_DCAP_CERT_CHAIN, ROOTED, "PCK chain",
                    "the quote's certification data is type %u, not 5 (a PEM chain), and the "
                    "collateral has no pck_certificate_chain", q->inner_type);
    } else {
        pem = (const char *)q->inner;
        n = q->inner_len;
    }
    /* The quote's chain ends with a NUL byte; the collateral's does not. */
    if (verify_chain(c, "PCK chain to the root", pem, n, pem == (const char *)q->inner, &c->pck_chain) != 0)
        return -1;
    if (c->pck_crl &&
        crl_valid(c, "PCK CRL: signed by the PCK certificate's issuer, thisUpdate <= now <= nextUpdate",
                  c->pck_crl, c->pck_chain.x[1]) != 0)
        return -1;
    if (c->pck_crl)
        pass(c, ROOTED, "PCK CRL: signed by the PCK certificate's issuer, valid at %s", c->now_s);
    if (not_revoked(c, "PCK chain: no certificate revoked", &c->pck_chain) != 0)
        return -1;
    char cn[128];
    cn_of(c->pck_chain.x[c->pck_chain.n - 1], cn, sizeof cn);
    pass(c, ROOTED, "PCK chain (%s, %d certificates) to the root \"%s\" at %s%s", src, c->pck_chain.n, cn,
         c->now_s, c->col ? ", none revoked" : "");
    return 0;
}

static int step_qe_report(ctx *c)
{
    const rt_quote *q = &c->r->quote;
    if (!rt_p256_verify(X509_get0_pubkey(c->pck_chain.x[0]), q->qe_report, RT_QUOTE_QE_REPORT_LEN,
                        q->qe_report_sig))
        return fail(c, RT_DCAP_QE_REPORT_SIGNATURE, ROOTED, "QE report: signature by the PCK key",
                    "does not verify");
    pass(c, ROOTED, "QE report: signature by the PCK key");
    uint8_t h[32], zero[32] = { 0 };
    sha256(q->att_key, 64, q->qe_auth, q->qe_auth_len, h);
    const uint8_t *rd = q->qe_report + RT_QUOTE_QE_REPORT_DATA;
    static const char what[] = "QE report data: SHA-256(attestation key || QE authentication data) || 32 zero bytes";
    if (memcmp(rd, h, 32) != 0)
        return fail(c, RT_DCAP_QE_REPORT_BINDING, ROOTED, what, "the hash differs");
    if (memcmp(rd + 32, zero, 32) != 0)
        return fail(c, RT_DCAP_QE_REPORT_BINDING, ROOTED, what, "the second half is not zero");
    pass(c, ROOTED, "%s", what);
    return 0;
}

static int step_qe_identity_policy(ctx *c)
{
    const uint8_t *qr = c->r->quote.qe_report;
    static const char what[] = "QE report: matches the QE identity (MRSIGNER, ISVPRODID, not debug, "
                               "MISCSELECT, ATTRIBUTES, ISVSVN)";
    uint8_t mrsigner[32], misc[4], misc_mask[4], attr[16], attr_mask[16];
    int64_t prodid;
    if (hex_of(c->qe, "mrsigner", mrsigner, 32) || hex_of(c->qe, "miscselect", misc, 4) ||
        hex_of(c->qe, "miscselectMask", misc_mask, 4) || hex_of(c->qe, "attributes", attr, 16) ||
        hex_of(c->qe, "attributesMask", attr_mask, 16) || int_of(c->qe, "isvprodid", 0, 65535, &prodid))
        return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what,
                    "the QE identity lacks a well-formed mrsigner, miscselect(Mask), attributes(Mask) or isvprodid");
    if (memcmp(qr + RT_QUOTE_QE_MRSIGNER, mrsigner, 32) != 0)
        return fail(c, RT_DCAP_QE_IDENTITY, ROOTED, what, "MRSIGNER differs");
    if (rt_le16(qr + RT_QUOTE_QE_ISVPRODID) != prodid)
        return fail(c, RT_DCAP_QE_IDENTITY, ROOTED, what, "ISVPRODID %u, expected %lld",
                    rt_le16(qr + RT_QUOTE_QE_ISVPRODID), (long long)prodid);
    if (qr[RT_QUOTE_QE_ATTRIBUTES] & 0x02)
        return fail(c, RT_DCAP_QE_IDENTITY, ROOTED, what, "the quoting enclave is a debug enclave");
    if ((rt_le32(qr + RT_QUOTE_QE_MISCSELECT) & rt_le32(misc_mask)) != (rt_le32(misc) & rt_le32(misc_mask)))
        return fail(c, RT_DCAP_QE_IDENTITY, ROOTED, what, "MISCSELECT differs under its mask");
    for (int i = 0; i < 16; i++)
        if ((qr[RT_QUOTE_QE_ATTRIBUTES + i] & attr_mask[i]) != (attr[i] & attr_mask[i]))
            return fail(c, RT_DCAP_QE_IDENTITY, ROOTED, what, "ATTRIBUTES byte %d differs under its mask", i);
    unsigned isvsvn = rt_le16(qr + RT_QUOTE_QE_ISVSVN);
    struct json_object *lv = member(c->qe, "tcbLevels");
    size_t n = json_object_array_length(lv);
    int64_t need = -1;
    for (size_t i = 0; i < n; i++) {
        struct json_object *l = json_object_array_get_idx(lv, i);
        size_t sn;
        const char *st = str_of(l, "tcbStatus", &sn);
        if (int_of(member(l, "tcb"), "isvsvn", 0, 65535, &need) != 0 || !st)
            return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what,
                        "QE identity TCB level %zu lacks an integer isvsvn or a tcbStatus", i + 1);
        if (isvsvn >= need) {
            snprintf(c->r->qe_status, sizeof c->r->qe_status, "%s", st);
            add_advisories(c->r, l);
            pass(c, ROOTED, "QE report: matches the QE identity; ISVSVN %u: %s", isvsvn, st);
            return 0;
        }
    }
    if (n == 0)
        return fail(c, RT_DCAP_QE_IDENTITY, ROOTED, what, "the QE identity has no TCB level");
    return fail(c, RT_DCAP_QE_IDENTITY, ROOTED, what, "ISVSVN %u is below every TCB level (lowest %lld)",
                isvsvn, (long long)need);
}

static int step_quote_signature(ctx *c)
{
    const rt_quote *q = &c->r->quote;
    char what[120];
    snprintf(what, sizeof what, "quote: signature by the attestation key over bytes [0,%zu)", q->signed_len);
    if (!rt_p256_verify_xy(q->att_key, q->raw, q->signed_len, q->sig))
        return fail(c, RT_DCAP_QUOTE_SIGNATURE, ROOTED, what, "does not verify");
    pass(c, ROOTED, "%s", what);
    if (q->version == 5 && q->body_size != q->body_len)
        return fail(c, RT_DCAP_QUOTE_FORMAT, ROOTED, "quote: the v5 body size is its type's",
                    "%u bytes for a TD report of %zu", q->body_size, q->body_len);
    return 0;
}

static int step_tcb_level(ctx *c)
{
    rt_dcap_report *r = c->r;
    char fm[13], tf[13];
    uint8_t tcb_fmspc[6];
    int64_t ver;
    size_t idn;
    if (pck_extension(c, c->pck_chain.x[0]) != 0)
        return -1;
    rt_hex_encode(r->fmspc, 6, fm);
    if (hex_of(c->tcb, "fmspc", tcb_fmspc, 6) != 0)
        return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, "TCB info: fmspc", "not 6 bytes of hex");
    rt_hex_encode(tcb_fmspc, 6, tf);
    if (memcmp(tcb_fmspc, r->fmspc, 6) != 0)
        return fail(c, RT_DCAP_COLLATERAL_MISMATCH, ROOTED, "TCB info: for the PCK certificate's FMSPC",
                    "the PCK certificate's FMSPC is %s, the TCB info's %s", fm, tf);
    const char *id = str_of(c->tcb, "id", &idn);
    if (!id || idn != 3 || memcmp(id, "TDX", 3) != 0 || int_of(c->tcb, "version", 3, INT32_MAX, &ver) != 0)
        return fail(c, RT_DCAP_COLLATERAL_MISMATCH, ROOTED, "TCB info: a TDX TCB info (id TDX, version 3 or later)",
                    "id \"%s\"", id ? id : "?");
    int64_t eval = -1;
    (void)int_of(c->tcb, "tcbEvaluationDataNumber", 0, INT64_MAX, &eval);
    r->tcb_eval_number = eval;
    pass(c, ROOTED, "TCB info: TDX, FMSPC %s (the PCK certificate's), evaluation data number %lld", fm,
         (long long)eval);

    const uint8_t *tee = rt_quote_td(&r->quote, RT_QUOTE_TD_TEE_TCB_SVN);
    static const char what[] = "TCB level: the first whose PCESVN, SGX and TDX components the platform's are at or above";
    struct json_object *lv = member(c->tcb, "tcbLevels");
    size_t n = json_object_array_length(lv);
    for (size_t i = 0; i < n; i++) {
        struct json_object *l = json_object_array_get_idx(lv, i), *t = member(l, "tcb");
        struct json_object *sgx = member(t, "sgxtcbcomponents"), *tdx = member(t, "tdxtcbcomponents");
        int64_t pcesvn;
        uint8_t s[16], d[16];
        size_t sn;
        const char *st = str_of(l, "tcbStatus", &sn);
        if (int_of(t, "pcesvn", 0, 65535, &pcesvn) != 0)
            return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what, "level %zu: pcesvn is not an integer", i + 1);
        if (r->pcesvn < pcesvn)
            continue;
        int ns = components(sgx, s);
        if (ns == 0)
            return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what, "level %zu has no SGX components", i + 1);
        if (ns < 0)
            return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what, "level %zu: an SGX svn is not 0..255", i + 1);
        int below = ns != 16;
        for (int k = 0; k < 16 && !below; k++)
            below = r->cpusvn[k] < s[k];
        if (below)
            continue;
        int nd = json_object_is_type(tdx, json_type_array) ? components(tdx, d) : 0;
        if (nd == 0)
            return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what, "level %zu has no TDX components", i + 1);
        if (nd < 0)
            return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what, "level %zu: a TDX svn is not 0..255", i + 1);
        below = nd != 16;
        for (int k = 0; k < 16 && !below; k++)
            below = tee[k] < d[k];
        if (below)
            continue;
        if (!st)
            return fail(c, RT_DCAP_COLLATERAL_FORMAT, ROOTED, what, "level %zu has no tcbStatus", i + 1);
        snprintf(r->platform_status, sizeof r->platform_status, "%.*s", (int)sn, st);
        size_t dn;
        const char *date = str_of(l, "tcbDate", &dn);
        snprintf(r->tcb_date, sizeof r->tcb_date, "%.*s", date ? (int)dn : 0, date ? date : "");
        /* The platform's advisories first, then the QE's not already listed. */
        rt_dcap_report save = { .nadvisories = r->nadvisories };
        memcpy(save.advisories, r->advisories, sizeof r->advisories);
        r->nadvisories = 0;
        add_advisories(r, l);
        for (int k = 0; k < save.nadvisories && r->nadvisories < RT_DCAP_MAX_ADVISORIES; k++) {
            int dup = 0;
            for (int j = 0; j < r->nadvisories && !dup; j++)
                dup = strcmp(r->advisories[j], save.advisories[k]) == 0;
            if (!dup)
                memcpy(r->advisories[r->nadvisories++], save.advisories[k], sizeof r->advisories[0]);
        }
        pass(c, ROOTED, "TCB level %zu (PCESVN %u, tcbDate %s): %s", i + 1, r->pcesvn, r->tcb_date,
             r->platform_status);
        return 0;
    }
    char cs[33], ts[33];
    rt_hex_encode(r->cpusvn, 16, cs);
    rt_hex_encode(tee, 16, ts);
    return fail(c, RT_DCAP_TCB_NO_MATCH, ROOTED, what, "none of %zu levels matches PCESVN %u, CPUSVN %s, TEE TCB SVN %s",
                n, r->pcesvn, cs, ts);
}

static int step_status(ctx *c)
{
    rt_dcap_report *r = c->r;
    const char *st = severity(r->qe_status) > severity(r->platform_status) ? r->qe_status : r->platform_status;
    snprintf(r->status, sizeof r->status, "%s", st);
    if (severity(st) > 5)
        return fail(c, RT_DCAP_TCB_INVALID, ROOTED, "TCB status: not Revoked or unknown",
                    "platform %s, quoting enclave %s", r->platform_status, r->qe_status);
    pass(c, ROOTED, "TCB status %s (platform %s, quoting enclave %s), %d advisories", st, r->platform_status,
         r->qe_status, r->nadvisories);
    return 0;
}

static int step_td_attributes(ctx *c)
{
    const rt_quote *q = &c->r->quote;
    static const char what[] = "TD attributes: not debug, no reserved bit, SEPT_VE_DISABLE set";
    if (q->body_type == 3) {
        static const uint8_t zero[48];
        if (memcmp(rt_quote_td(q, RT_QUOTE_TD_MR_SERVICE_TD), zero, 48) != 0)
            return fail(c, RT_DCAP_TD_ATTRIBUTES, ROOTED, what, "MRSERVICETD is not zero");
    }
    const uint8_t *a = rt_quote_td(q, RT_QUOTE_TD_ATTRIBUTES);
    if (a[0] != 0)
        return fail(c, RT_DCAP_TD_ATTRIBUTES, ROOTED, what, "TUD (debug) byte is 0x%02x", a[0]);
    if (a[1] || a[2] || (a[3] & 0x0f) || (a[3] & 0x20) || a[4] || a[5] || a[6] || (a[7] & 0x7f))
        return fail(c, RT_DCAP_TD_ATTRIBUTES, ROOTED, what, "a reserved bit is set");
    if (!(a[3] & 0x10))
        return fail(c, RT_DCAP_TD_ATTRIBUTES, ROOTED, what, "SEPT_VE_DISABLE is not set");
    pass(c, ROOTED, "%s", what);
    return 0;
}

static int step_vendor(ctx *c)
{
    const uint8_t *want = c->r->sim ? rt_dcap_sim_qe_vendor : rt_dcap_intel_qe_vendor;
    char what[96];
    snprintf(what, sizeof what, "quote: QE vendor id is %s", c->r->sim ? "the sim's" : "Intel's");
    if (memcmp(c->r->quote.qe_vendor_id, want, 16) != 0)
        return fail(c, RT_DCAP_QE_IDENTITY, ROOTED, what, "it is not");
    pass(c, ROOTED, "%s", what);
    return 0;
}

/* Picks the root: the pinned Intel root, or with RT_DCAP_ALLOW_SIM the sim
 * root that ends the quote's PCK chain. */
static int choose_root(ctx *c)
{
    uint8_t fp[32];
    char hex[65];
    sha256(rt_dcap_intel_root_der, rt_dcap_intel_root_der_len, NULL, 0, fp);
    rt_hex_encode(fp, 32, hex);
    if (strcmp(hex, RT_DCAP_INTEL_ROOT_SHA256) != 0)
        return fail(c, RT_DCAP_INTERNAL, 0, "root: the compiled-in Intel SGX Root CA has its pinned fingerprint",
                    "it has %s", hex);
    const rt_quote *q = &c->r->quote;
    if ((c->flags & RT_DCAP_ALLOW_SIM) && q->inner_type == RT_QUOTE_CERT_PCK_CHAIN) {
        uint8_t *der[MAX_CERTS];
        size_t len[MAX_CERTS];
        char why[160];
        int k = pem_chain((const char *)q->inner, q->inner_len, 1, der, len, why, sizeof why);
        X509 *last = k > 0 ? parse_cert(der[k - 1], len[k - 1]) : NULL;
        for (int i = 0; i < k; i++)
            free(der[i]);
        if (last && is_sim_root(last)) {
            c->anchor = last;
            c->r->sim = 1;
        } else {
            X509_free(last);
        }
    }
    if (!c->anchor)
        c->anchor = parse_cert(rt_dcap_intel_root_der, rt_dcap_intel_root_der_len);
    if (!c->anchor)
        return fail(c, RT_DCAP_INTERNAL, 0, "root", "cannot parse the root certificate");
    c->anchor_key = X509_get0_pubkey(c->anchor);
    if (c->r->sim) {
        sha256(NULL, 0, NULL, 0, fp);
        unsigned char *d = NULL;
        int dl = i2d_X509(c->anchor, &d);
        if (dl > 0)
            sha256(d, (size_t)dl, NULL, 0, fp);
        OPENSSL_free(d);
        rt_hex_encode(fp, 32, hex);
        pass(c, ROOTED, "root: the SIM root \"%s\" (SHA-256 %.16s...), accepted because of --allow-sim",
             RT_DCAP_SIM_ROOT_CN, hex);
    } else {
        pass(c, 0, "root: Intel SGX Root CA, pinned by SHA-256 %s", RT_DCAP_INTEL_ROOT_SHA256);
    }
    return 0;
}

static void chain_free(chain *ch)
{
    for (int i = 0; i < ch->n; i++)
        X509_free(ch->x[i]);
    ch->n = 0;
}

int rt_dcap_verify(const uint8_t *quote, size_t qlen, const char *col, size_t clen, int64_t now,
                   unsigned flags, rt_dcap_report *r)
{
    memset(r, 0, sizeof *r);
    r->err = RT_DCAP_OK;
    r->name = rt_dcap_err_name(RT_DCAP_OK);
    r->tcb_eval_number = -1;
    ctx c = { .r = r, .now = now, .flags = flags };
    fmt_time(now, c.now_s);

    if (rt_quote_parse(&r->quote, quote, qlen) != 0) {
        fail(&c, RT_DCAP_QUOTE_FORMAT, 0, "quote: a TDX quote v4 or v5 with an ECDSA-P256 attestation key",
             "byte %zu: %s", r->quote.err_off, r->quote.reason);
        return -1;
    }
    pass(&c, 0, "quote: TDX quote v%u, TD report %s, ECDSA-P256 attestation key (%zu bytes)", r->quote.version,
         r->quote.body_type == 3 ? "1.5" : "1.0", qlen);
    r->partial = col == NULL;
    c.col_text = col;
    c.col_len = clen;
    /* The steps of rt_dcap.h, in order; those that need the collateral are
     * skipped without it. */
    static const struct {
        int (*run)(ctx *c);
        int needs_collateral;
    } steps[] = {
        { choose_root, 0 },
        { step_collateral, 1 },
        { step_tcb_info, 1 },
        { step_qe_identity, 1 },
        { step_pck_chain, 0 },
        { step_qe_report, 0 },
        { step_qe_identity_policy, 1 },
        { step_quote_signature, 0 },
        { step_tcb_level, 1 },
        { step_status, 1 },
        { step_td_attributes, 0 },
        { step_vendor, 0 },
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && rc == 0; i++)
        if (col || !steps[i].needs_collateral)
            rc = steps[i].run(&c);

    chain_free(&c.tcb_chain);
    chain_free(&c.qe_chain);
    chain_free(&c.pck_chain);
    X509_CRL_free(c.root_crl);
    X509_CRL_free(c.pck_crl);
    X509_free(c.anchor);
    json_object_put(c.col);
    json_object_put(c.tcb);
    json_object_put(c.qe);
    return rc == 0 && r->err == RT_DCAP_OK ? 0 : -1;
}

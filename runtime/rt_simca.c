/*
 * rt_simca.c - the sim platform: certificates, quoting enclave and
 * collateral derived from the sim seed (see rt_simca.h).
 */
#include "rt_simca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "rt_dcap.h"
#include "rt_hex.h"
#include "rt_p256.h"
#include "rt_quote.h"

#define SIM_SALT "toyapp-sim-v1"
#define NOT_BEFORE "20250101000000Z"
#define NOT_AFTER "20491231235959Z"

/* The sim platform's TCB: CPUSVN (= its SGX TCB components), TEE TCB SVN
 * (= its TDX TCB components), and its quoting enclave. */
static const uint8_t sim_cpusvn[16] = { 3, 3, 2, 2, 4, 1, 0, 3 };
static const uint8_t sim_tee_tcb_svn[16] = { 3, 1, 2 };
static const uint8_t sim_xfam[8] = { 0xe7, 0x02, 0x06 };
#define SIM_QE_ISVSVN 8
#define SIM_QE_ISVPRODID 2

struct rt_simca {
    EVP_PKEY *root_key, *ca_key, *pck_key, *tcb_key, *att_key;
    uint8_t att_pub[64];
    uint8_t qe_mrsigner[32], qe_mrenclave[32];
    X509 *root, *ca, *pck, *tcb;
    char *pck_chain; /* PCK certificate, platform CA, root: PEM */
    size_t pck_chain_len;
    char *tcb_chain; /* TCB signing certificate, root */
    char *crl_chain; /* platform CA, root */
};

int rt_simca_hkdf(const uint8_t seed[32], const uint8_t *info, size_t info_len, uint8_t out[32])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)seed, 32);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)SIM_SALT, sizeof SIM_SALT - 1);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[4] = OSSL_PARAM_construct_end();
    int ok = kctx && EVP_KDF_derive(kctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

/* A P-256 key from HKDF(seed, 0x00 || label || counter), with the next
 * counter in the (~2^-32) case that the scalar is 0 or not below the
 * order.  The leading 0x00 keeps these apart from every app key, whose
 * info starts with a non-empty app id. */
static EVP_PKEY *derive_key(const uint8_t seed[32], const char *label, uint8_t xy[64])
{
    uint8_t info[80], d[32];
    size_t ln = strlen(label);
    if (ln + 2 > sizeof info)
        return NULL;
    info[0] = 0;
    memcpy(info + 1, label, ln);
    EVP_PKEY *k = NULL;
    for (unsigned ctr = 0; ctr < 256 && !k; ctr++) {
        info[1 + ln] = (uint8_t)ctr;
        if (rt_simca_hkdf(seed, info, ln + 2, d) != 0)
            break;
        k = rt_p256_from_scalar(d, xy);
    }
    OPENSSL_cleanse(d, sizeof d);
    return k;
}

static void digest(const EVP_MD *md, const void *m, size_t n, uint8_t *out)
{
    if (EVP_Digest(m, n, out, NULL, md, NULL) != 1)
        memset(out, 0, (size_t)EVP_MD_get_size(md));
}

/* ---- DER, for the Intel SGX extension ------------------------------------- */

typedef struct der {
    uint8_t b[1024];
    size_t n;
} der;

static void der_put(der *d, uint8_t tag, const uint8_t *c, size_t n)
{
    if (d->n + n + 4 > sizeof d->b)
        return; /* cannot happen: the extension is well under 1 KiB */
    d->b[d->n++] = tag;
    if (n >= 256) {
        d->b[d->n++] = 0x82;
        d->b[d->n++] = (uint8_t)(n >> 8);
    } else if (n >= 128) {
        d->b[d->n++] = 0x81;
    }
    d->b[d->n++] = (uint8_t)n;
    memcpy(d->b + d->n, c, n);
    d->n += n;
}

/* SEQUENCE { OID 1.2.840.113741.1.13.1.<sub...>, value } */
static void sgx_item(der *out, const uint8_t *sub, size_t ns, uint8_t tag, const uint8_t *v, size_t vn)
{
    static const uint8_t arc[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };
    uint8_t oid[16];
    memcpy(oid, arc, sizeof arc);
    memcpy(oid + sizeof arc, sub, ns);
    der item = { .n = 0 };
    der_put(&item, 0x06, oid, sizeof arc + ns);
    der_put(&item, tag, v, vn);
    der_put(out, 0x30, item.b, item.n);
}

/* An INTEGER item, for values below 0x8000 (one or two bytes, as DER wants
 * a positive value's top bit clear). */
static void sgx_int(der *out, const uint8_t *sub, size_t ns, unsigned v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    if (v < 0x80)
        sgx_item(out, sub, ns, 0x02, b + 1, 1);
    else
        sgx_item(out, sub, ns, 0x02, b, 2);
}

/* The extension Intel's PCK certificates carry: PPID, TCB (16 components,
 * PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type. */
static void sgx_extension(const uint8_t seed[32], der *out)
{
    der seq = { .n = 0 }, tcb = { .n = 0 };
    uint8_t ppid[32], fmspc[6];
    digest(EVP_sha256(), seed, 32, ppid);
    sgx_item(&seq, (const uint8_t[]){ 0x01 }, 1, 0x04, ppid, 16);
    for (uint8_t i = 0; i < 16; i++)
        sgx_int(&tcb, (const uint8_t[]){ 0x02, (uint8_t)(i + 1) }, 2, sim_cpusvn[i]);
    sgx_int(&tcb, (const uint8_t[]){ 0x02, 0x11 }, 2, RT_SIMCA_PCESVN);
    sgx_item(&tcb, (const uint8_t[]){ 0x02, 0x12 }, 2, 0x04, sim_cpusvn, 16);
    der tcb_item = { .n = 0 };
    der_put(&tcb_item, 0x30, tcb.b, tcb.n);
    /* The TCB item's value is the SEQUENCE itself. */
    static const uint8_t arc[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x02 };
    der item = { .n = 0 };
    der_put(&item, 0x06, arc, sizeof arc);
    memcpy(item.b + item.n, tcb_item.b, tcb_item.n);
    item.n += tcb_item.n;
    der_put(&seq, 0x30, item.b, item.n);
    sgx_item(&seq, (const uint8_t[]){ 0x03 }, 1, 0x04, (const uint8_t[]){ 0, 0 }, 2);
    rt_hex_decode(RT_SIMCA_FMSPC, 12, fmspc, 6);
    sgx_item(&seq, (const uint8_t[]){ 0x04 }, 1, 0x04, fmspc, 6);
    sgx_item(&seq, (const uint8_t[]){ 0x05 }, 1, 0x0a, (const uint8_t[]){ 0 }, 1);
    out->n = 0;
    der_put(out, 0x30, seq.b, seq.n);
}

/* ---- certificates ------------------------------------------------------------ */

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    int ok = e && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

/* A certificate for key named cn, issued by issuer (NULL: self-signed) with
 * issuer_key.  ca: a CA certificate (with pathlen); sgx: the Intel SGX
 * extension's DER, or NULL. */
static X509 *make_cert(const uint8_t seed[32], const char *cn, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, int ca, int pathlen, const der *sgx)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *serial = NULL;
    uint8_t h[32];
    char bc[48];
    int ok = x && name && X509_set_version(x, 2) == 1;
    /* Serial: 16 bytes of SHA-256(seed || cn), positive and non-zero. */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    ok = ok && m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(m, seed, 32) == 1 &&
         EVP_DigestUpdate(m, cn, strlen(cn)) == 1 && EVP_DigestFinal_ex(m, h, NULL) == 1;
    EVP_MD_CTX_free(m);
    h[0] = (uint8_t)((h[0] & 0x7f) | 0x40);
    ok = ok && (serial = BN_bin2bn(h, 16, NULL)) && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x));
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"toyapp sim", -1, -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1 &&
         X509_set_subject_name(x, name) == 1 &&
         X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
         ASN1_TIME_set_string(X509_getm_notBefore(x), NOT_BEFORE) == 1 &&
         ASN1_TIME_set_string(X509_getm_notAfter(x), NOT_AFTER) == 1 && X509_set_pubkey(x, key) == 1;
    if (ca)
        snprintf(bc, sizeof bc, "critical,CA:TRUE,pathlen:%d", pathlen);
    else
        snprintf(bc, sizeof bc, "critical,CA:FALSE");
    X509 *iss = issuer ? issuer : x;
    ok = ok && add_ext(x, iss, NID_basic_constraints, bc) == 0 &&
         add_ext(x, iss, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation") == 0 &&
         add_ext(x, iss, NID_subject_key_identifier, "hash") == 0 &&
         add_ext(x, iss, NID_authority_key_identifier, "keyid:always") == 0;
    if (ok && sgx) {
        ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        X509_EXTENSION *e = NULL;
        ok = obj && os && ASN1_OCTET_STRING_set(os, sgx->b, (int)sgx->n) == 1 &&
             (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(obj);
    }
    ok = ok && X509_sign(x, issuer_key, EVP_sha256()) > 0;
    BN_free(serial);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Appends the PEM of x to *s (malloc'd, NUL-terminated). */
static int pem_append(char **s, size_t *len, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;
    int ok = b && PEM_write_bio_X509(b, x) == 1 && (n = BIO_get_mem_data(b, &p)) > 0;
    if (ok) {
        char *ns = realloc(*s, *len + (size_t)n + 1);
        ok = ns != NULL;
        if (ok) {
            memcpy(ns + *len, p, (size_t)n);
            *len += (size_t)n;
            ns[*len] = 0;
            *s = ns;
        }
    }
    BIO_free(b);
    return ok ? 0 : -1;
}

static char *pem_of(X509 *a, X509 *b, X509 *c, size_t *len)
{
    char *s = NULL;
    size_t n = 0;
    if (pem_append(&s, &n, a) != 0 || pem_append(&s, &n, b) != 0 || (c && pem_append(&s, &n, c) != 0)) {
        free(s);
        return NULL;
    }
    if (len)
        *len = n;
    return s;
}

void rt_simca_free(rt_simca *ca)
{
    if (!ca)
        return;
    EVP_PKEY_free(ca->root_key);
    EVP_PKEY_free(ca->ca_key);
    EVP_PKEY_free(ca->pck_key);
    EVP_PKEY_free(ca->tcb_key);
    EVP_PKEY_free(ca->att_key);
    X509_free(ca->root);
    X509_free(ca->ca);
    X509_free(ca->pck);
    X509_free(ca->tcb);
    free(ca->pck_chain);
    free(ca->tcb_chain);
    free(ca->crl_chain);
    OPENSSL_cleanse(ca, sizeof *ca);
    free(ca);
}

rt_simca *rt_simca_new(const uint8_t seed[32], const char **err)
{
    rt_simca *ca = calloc(1, sizeof *ca);
    uint8_t xy[64];
    der sgx;
    if (!ca) {
        *err = "out of memory";
        return NULL;
    }
    sgx_extension(seed, &sgx);
    /* The attestation key keeps the label it had before the sim had a
     * chain: a seed's attestation key does not change. */
    ca->att_key = derive_key(seed, "attestation-key/p256", ca->att_pub);
    ca->root_key = derive_key(seed, "sim-ca/root/p256", xy);
    ca->ca_key = derive_key(seed, "sim-ca/platform-ca/p256", xy);
    ca->pck_key = derive_key(seed, "sim-ca/pck/p256", xy);
    ca->tcb_key = derive_key(seed, "sim-ca/tcb-signing/p256", xy);
    if (!ca->att_key || !ca->root_key || !ca->ca_key || !ca->pck_key || !ca->tcb_key ||
        !(ca->root = make_cert(seed, RT_DCAP_SIM_ROOT_CN, ca->root_key, NULL, ca->root_key, 1, 1, NULL)) ||
        !(ca->ca = make_cert(seed, "toyapp SIM PCK Platform CA", ca->ca_key, ca->root, ca->root_key, 1, 0, NULL)) ||
        !(ca->pck = make_cert(seed, "toyapp SIM PCK Certificate", ca->pck_key, ca->ca, ca->ca_key, 0, 0, &sgx)) ||
        !(ca->tcb = make_cert(seed, "toyapp SIM TCB Signing", ca->tcb_key, ca->root, ca->root_key, 0, 0, NULL)) ||
        !(ca->pck_chain = pem_of(ca->pck, ca->ca, ca->root, &ca->pck_chain_len)) ||
        !(ca->tcb_chain = pem_of(ca->tcb, ca->root, NULL, NULL)) ||
        !(ca->crl_chain = pem_of(ca->ca, ca->root, NULL, NULL))) {
        rt_simca_free(ca);
        *err = "sim CA: cannot derive its keys and certificates (OpenSSL)";
        return NULL;
    }
    static const char qe_signer[] = "toyapp-sim:qe-signer", qe_enclave[] = "toyapp-sim:qe";
    digest(EVP_sha256(), qe_signer, sizeof qe_signer - 1, ca->qe_mrsigner);
    digest(EVP_sha256(), qe_enclave, sizeof qe_enclave - 1, ca->qe_mrenclave);
    return ca;
}

const uint8_t *rt_simca_att_pub(const rt_simca *ca)
{
    return ca->att_pub;
}

int rt_simca_root_der(rt_simca *ca, uint8_t **out, size_t *len)
{
    unsigned char *d = NULL;
    int n = i2d_X509(ca->root, &d);
    if (n <= 0)
        return -1;
    *out = malloc((size_t)n);
    if (*out)
        memcpy(*out, d, (size_t)n);
    OPENSSL_free(d);
    *len = (size_t)n;
    return *out ? 0 : -1;
}

/* ---- the quote ------------------------------------------------------------------ */

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int rt_simca_quote(rt_simca *ca, const rt_simca_td *td, uint8_t **quote, size_t *len)
{
    const size_t pem = ca->pck_chain_len + 1; /* with its NUL, as Intel's */
    const size_t cert = RT_QUOTE_QE_REPORT_LEN + 64 + 2 + 32 + 6 + pem;
    const size_t sd = 64 + 64 + 6 + cert;
    const size_t n = RT_QUOTE_HEADER_LEN + RT_QUOTE_TD10_LEN + 4 + sd;
    uint8_t *q = calloc(1, n);
    if (!q)
        return -1;
    /* header */
    put16(q, 4);
    put16(q + 2, RT_QUOTE_KEY_P256);
    put32(q + 4, RT_QUOTE_TEE_TDX);
    put16(q + 8, SIM_QE_ISVSVN);
    put16(q + 10, RT_SIMCA_PCESVN);
    memcpy(q + 12, rt_dcap_sim_qe_vendor, 16);
    /* TD report 1.0 */
    uint8_t *b = q + RT_QUOTE_HEADER_LEN;
    static const char mrseam[] = "toyapp-sim:mrseam", mrtd[] = "toyapp-sim";
    memcpy(b + RT_QUOTE_TD_TEE_TCB_SVN, sim_tee_tcb_svn, 16);
    digest(EVP_sha384(), mrseam, sizeof mrseam - 1, b + RT_QUOTE_TD_MR_SEAM);
    memcpy(b + RT_QUOTE_TD_ATTRIBUTES, td->td_attributes, 8);
    memcpy(b + RT_QUOTE_TD_XFAM, sim_xfam, 8);
    digest(EVP_sha384(), mrtd, sizeof mrtd - 1, b + RT_QUOTE_TD_MR_TD);
    memcpy(b + RT_QUOTE_TD_RTMR0, td->rtmr, 4 * 48);
    memcpy(b + RT_QUOTE_TD_REPORT_DATA, td->report_data, 64);
    const size_t signed_len = RT_QUOTE_HEADER_LEN + RT_QUOTE_TD10_LEN;
    /* signature data */
    uint8_t *s = q + signed_len;
    put32(s, (uint32_t)sd);
    s += 4;
    uint8_t *sig = s, *c = s + 128;
    memcpy(s + 64, ca->att_pub, 64);
    put16(c, RT_QUOTE_CERT_QE_REPORT);
    put32(c + 2, (uint32_t)cert);
    uint8_t *qe = c + 6, *auth = qe + RT_QUOTE_QE_REPORT_LEN + 64;
    memcpy(qe + RT_QUOTE_QE_CPUSVN, sim_cpusvn, 16);
    qe[RT_QUOTE_QE_ATTRIBUTES] = 0x15;     /* INIT, MODE64BIT, PROVISIONKEY; not DEBUG */
    qe[RT_QUOTE_QE_ATTRIBUTES + 8] = 0xe7; /* XFRM */
    memcpy(qe + RT_QUOTE_QE_MRENCLAVE, ca->qe_mrenclave, 32);
    memcpy(qe + RT_QUOTE_QE_MRSIGNER, ca->qe_mrsigner, 32);
    put16(qe + RT_QUOTE_QE_ISVPRODID, SIM_QE_ISVPRODID);
    put16(qe + RT_QUOTE_QE_ISVSVN, SIM_QE_ISVSVN);
    put16(auth, 32);
    for (int i = 0; i < 32; i++)
        auth[2 + i] = (uint8_t)i;
    /* QE report data: SHA-256(attestation key || QE authentication data). */
    uint8_t hd[96];
    memcpy(hd, ca->att_pub, 64);
    memcpy(hd + 64, auth + 2, 32);
    digest(EVP_sha256(), hd, sizeof hd, qe + RT_QUOTE_QE_REPORT_DATA);
    uint8_t *inner = auth + 2 + 32;
    put16(inner, RT_QUOTE_CERT_PCK_CHAIN);
    put32(inner + 2, (uint32_t)pem);
    memcpy(inner + 6, ca->pck_chain, pem - 1);
    if (rt_p256_sign(ca->pck_key, qe, RT_QUOTE_QE_REPORT_LEN, qe + RT_QUOTE_QE_REPORT_LEN) != 0 ||
        rt_p256_sign(ca->att_key, q, signed_len, sig) != 0) {
        free(q);
        return -1;
    }
    *quote = q;
    *len = n;
    return 0;
}

/* ---- the collateral -------------------------------------------------------------- */

static void iso(int64_t t, char out[24])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A "sgxtcbcomponents"/"tdxtcbcomponents" array of 16 svns, each plus add. */
static size_t components(char *out, size_t cap, const uint8_t svn[16], int add)
{
    size_t n = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < 16 && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s{\"svn\":%d}", i ? "," : "", svn[i] + add);
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n, "]");
    return n;
}

static char *hex_of(const uint8_t *b, size_t n)
{
    char *h = malloc(2 * n + 1);
    if (h)
        rt_hex_encode(b, n, h);
    return h;
}

/* A CRL by issuer (key), listing revoked (may be NULL), valid [from, to]. */
static char *crl_hex(X509 *issuer, EVP_PKEY *key, X509 *revoked, int64_t from, int64_t to)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *a = ASN1_TIME_set(NULL, (time_t)from), *b = ASN1_TIME_set(NULL, (time_t)to);
    X509_REVOKED *r = NULL;
    unsigned char *d = NULL;
    char *hex = NULL;
    int ok = crl && a && b && X509_CRL_set_version(crl, 1) == 1 &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1 &&
             X509_CRL_set1_lastUpdate(crl, a) == 1 && X509_CRL_set1_nextUpdate(crl, b) == 1;
    if (ok && revoked) {
        ok = (r = X509_REVOKED_new()) && X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked)) == 1 &&
             X509_REVOKED_set_revocationDate(r, a) == 1 && X509_CRL_add0_revoked(crl, r) == 1;
        if (ok)
            r = NULL; /* owned by crl */
        ok = ok && X509_CRL_sort(crl) == 1;
    }
    int n = 0;
    if (ok && X509_CRL_sign(crl, key, EVP_sha256()) > 0 && (n = i2d_X509_CRL(crl, &d)) > 0)
        hex = hex_of(d, (size_t)n);
    OPENSSL_free(d);
    X509_REVOKED_free(r);
    ASN1_TIME_free(a);
    ASN1_TIME_free(b);
    X509_CRL_free(crl);
    return hex;
}

static char *signature_hex(EVP_PKEY *key, const char *text)
{
    uint8_t sig[64];
    if (rt_p256_sign(key, (const uint8_t *)text, strlen(text), sig) != 0)
        return NULL;
    return hex_of(sig, 64);
}

int rt_simca_collateral(rt_simca *ca, int64_t now, const rt_simca_variant *v, char **json)
{
    static const rt_simca_variant plain;
    if (!v)
        v = &plain;
    const int64_t from = now - 86400, to = now + 30 * 86400;
    char issue[24], next[24], sgx[512], tdx[512], low_sgx[512], low_tdx[512], adv[256] = "";
    static const uint8_t zero[16];
    iso(from, issue);
    iso(to, next);
    components(sgx, sizeof sgx, sim_cpusvn, v->above ? 1 : 0);
    components(tdx, sizeof tdx, sim_tee_tcb_svn, v->above ? 1 : 0);
    components(low_sgx, sizeof low_sgx, zero, 0);
    components(low_tdx, sizeof low_tdx, zero, 0);
    if (v->advisories) {
        /* "A,B" -> "\"A\",\"B\"" */
        size_t n = 0;
        const char *p = v->advisories;
        while (*p && n + 40 < sizeof adv) {
            size_t k = strcspn(p, ",");
            n += (size_t)snprintf(adv + n, sizeof adv - n, "%s\"%.*s\"", n ? "," : "", (int)k, p);
            p += k + (p[k] == ',');
        }
    }
    char tcb_info[4096], qe_identity[2048], mrsigner[65];
    /* Two levels: the platform's (or one above it), then a lower one that
     * every platform matches, OutOfDate: the first match counts. */
    snprintf(tcb_info, sizeof tcb_info,
             "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\",\"fmspc\":\"%s\","
             "\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,"
             "\"tdxModule\":{\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
             "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tcbLevels\":["
             "{\"tcb\":{\"sgxtcbcomponents\":%s,\"pcesvn\":%d,\"tdxtcbcomponents\":%s},"
             "\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"%s\",\"advisoryIDs\":[%s]},"
             "{\"tcb\":{\"sgxtcbcomponents\":%s,\"pcesvn\":%d,\"tdxtcbcomponents\":%s},"
             "\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00000\"]}]}",
             issue, next, "746F7953494D", 0, sgx, RT_SIMCA_PCESVN, tdx, v->status ? v->status : "UpToDate", adv,
             v->above ? sgx : low_sgx, v->above ? RT_SIMCA_PCESVN : 0, v->above ? tdx : low_tdx);
    rt_hex_encode(ca->qe_mrsigner, 32, mrsigner);
    for (char *p = mrsigner; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A'); /* Intel writes hex in upper case */
    snprintf(qe_identity, sizeof qe_identity,
             "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"tcbEvaluationDataNumber\":1,\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
             "\"attributes\":\"11000000000000000000000000000000\","
             "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"%s\",\"isvprodid\":%d,"
             "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":%d},\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"%s\"}%s]}",
             issue, next, mrsigner, SIM_QE_ISVPRODID, v->qe_above ? SIM_QE_ISVSVN + 1 : SIM_QE_ISVSVN,
             v->qe_status ? v->qe_status : "UpToDate",
             v->qe_above ? "" : ",{\"tcb\":{\"isvsvn\":1},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}");

    char *root_crl = crl_hex(ca->root, ca->root_key, v->revoke_tcb_signer ? ca->tcb : NULL, from, to);
    char *pck_crl = crl_hex(ca->ca, ca->ca_key, v->revoke_pck ? ca->pck : NULL, from, to);
    char *tsig = signature_hex(ca->tcb_key, tcb_info), *qsig = signature_hex(ca->tcb_key, qe_identity);
    struct json_object *o = json_object_new_object();
    int ok = root_crl && pck_crl && tsig && qsig && o;
    if (ok) {
        const struct {
            const char *k, *v;
        } f[] = {
            /* In key order, so that the text is RFC 8785 canonical. */
            { "pck_crl", pck_crl },
            { "pck_crl_issuer_chain", ca->crl_chain },
            { "qe_identity", qe_identity },
            { "qe_identity_issuer_chain", ca->tcb_chain },
            { "qe_identity_signature", qsig },
            { "root_ca_crl", root_crl },
            { "tcb_info", tcb_info },
            { "tcb_info_issuer_chain", ca->tcb_chain },
            { "tcb_info_signature", tsig },
        };
        for (size_t i = 0; i < sizeof f / sizeof f[0] && ok; i++)
            ok = json_object_object_add(o, f[i].k, json_object_new_string(f[i].v)) == 0;
    }
    const char *text = ok ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
    *json = text ? strdup(text) : NULL;
    json_object_put(o);
    free(root_crl);
    free(pck_crl);
    free(tsig);
    free(qsig);
    return *json ? 0 : -1;
}

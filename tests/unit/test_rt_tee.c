/*
 * test_rt_tee.c - cmocka tests for runtime/rt_tee* (TEE providers).
 *
 *   sim     seed file creation, permissions and size checks; HKDF derivation
 *           checked against an independent HMAC-SHA256 implementation of
 *           RFC 5869; the quote's v4 layout, checked field by field (RTMR3
 *           recomputed here from the event log), its ECDSA-P256 signature
 *           verified here with OpenSSL from the embedded key, and the whole
 *           DCAP path with the sim collateral (rt_dcap, --allow-sim); instance
 *           info.
 *   ed25519 RFC 8032 test vector 1, round trips, and rejection of altered
 *           messages, signatures and keys.
 *   dstack  against tests/unit/dstack_stub (a Unix-socket stand-in agent in a
 *           temporary directory; no network): the recorded GetQuote response
 *           must come back as exactly the recorded quote bytes and event log,
 *           GetKey and Info are parsed, the request bodies are what the dstack
 *           SDKs send, and every failure (HTTP 500, garbage, bad JSON,
 *           truncation, silence, a trickling agent, missing or malformed
 *           fields) gives -1 with a message, within the time limit.
 *
 * The data directory is RT_TEE_TESTDATA in the environment, else
 * tests/data/tee relative to the working directory (see its README).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include "dstack_stub.h"
#include "rt_dcap.h"
#include "rt_quote.h"
#include "rt_tee.h"

#define APP "toyapp-test"

/* ---- helpers ------------------------------------------------------------- */

static const char *data_dir(void)
{
    const char *d = getenv("RT_TEE_TESTDATA");
    return d ? d : "tests/data/tee";
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(h), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void tohex(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
    out[2 * n] = 0;
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    uint8_t *p = malloc((size_t)len + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    p[len] = 0;
    *n = (size_t)len;
    return p;
}

static void write_file(const char *path, const void *p, size_t n, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* A JSON string member of the data file name, as a heap string. */
static char *data_json_str(const char *name, const char *key)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", data_dir(), name);
    json_object *o = json_object_from_file(path), *v;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, key, &v));
    char *s = strdup(json_object_get_string(v));
    json_object_put(o);
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sha(const EVP_MD *md, const void *a, size_t na, const void *b, size_t nb, uint8_t *out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_non_null(c);
    assert_int_equal(EVP_DigestInit_ex(c, md, NULL), 1);
    assert_int_equal(EVP_DigestUpdate(c, a, na), 1);
    if (nb)
        assert_int_equal(EVP_DigestUpdate(c, b, nb), 1);
    assert_int_equal(EVP_DigestFinal_ex(c, out, NULL), 1);
    EVP_MD_CTX_free(c);
}

/* ---- sim fixture: a temporary directory ----------------------------------- */

typedef struct simfx {
    char dir[256];
    char seed[300];
} simfx;

static int sim_setup(void **state)
{
    simfx *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/rt_tee_test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->seed, sizeof f->seed, "%s/seed", f->dir);
    *state = f;
    return 0;
}

static int sim_teardown(void **state)
{
    simfx *f = *state;
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
                if (unlink(p) != 0)
                    rmdir(p);
            }
        closedir(d);
    }
    rmdir(f->dir);
    unsetenv("TOYAPP_COMPOSE_FILE");
    free(f);
    return 0;
}

static rt_tee *open_sim(const char *seed, const char *app)
{
    const char *err = NULL;
    rt_tee *t = rt_tee_open("sim", seed, app, &err);
    if (!t)
        fail_msg("rt_tee_open(sim): %s", err);
    assert_string_equal(rt_tee_kind(t), "sim");
    return t;
}

/* ---- sim: seed file ------------------------------------------------------- */

static void test_sim_seed_created_0600(void **state)
{
    simfx *f = *state;
    rt_tee *t = open_sim(f->seed, APP);
    struct stat st;
    assert_int_equal(lstat(f->seed, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, RT_TEE_SEED_LEN);
    rt_tee_close(t);

    /* Only the seed is left behind: the temporary file was removed. */
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            entries++;
    closedir(d);
    assert_int_equal(entries, 1);
}

static void test_sim_seed_reopened(void **state)
{
    simfx *f = *state;
    uint8_t k1[32], k2[32];
    size_t n1, n2;
    rt_tee *t = open_sim(f->seed, APP);
    assert_int_equal(rt_tee_derive(t, "toyapp/ed25519/v1", k1), 0);
    rt_tee_close(t);
    uint8_t *s1 = read_file(f->seed, &n1);

    t = open_sim(f->seed, APP);
    assert_int_equal(rt_tee_derive(t, "toyapp/ed25519/v1", k2), 0);
    rt_tee_close(t);
    uint8_t *s2 = read_file(f->seed, &n2);

    assert_int_equal(n1, 32);
    assert_memory_equal(s1, s2, 32); /* the second open did not rewrite it */
    assert_memory_equal(k1, k2, 32);
    free(s1);
    free(s2);
}

static void expect_open_fails(const char *kind, const char *arg, const char *app,
                              const char *needle)
{
    const char *err = NULL;
    rt_tee *t = rt_tee_open(kind, arg, app, &err);
    assert_null(t);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_sim_seed_mode_refused(void **state)
{
    simfx *f = *state;
    uint8_t seed[32] = {1, 2, 3};
    write_file(f->seed, seed, 32, 0644);
    expect_open_fails("sim", f->seed, APP, "mode 0644");
    assert_int_equal(chmod(f->seed, 0640), 0);
    expect_open_fails("sim", f->seed, APP, "mode 0640");
    assert_int_equal(chmod(f->seed, 0602), 0);
    expect_open_fails("sim", f->seed, APP, "group or other");
    /* Owner-only modes are fine, read-only included. */
    assert_int_equal(chmod(f->seed, 0400), 0);
    rt_tee_close(open_sim(f->seed, APP));
    assert_int_equal(chmod(f->seed, 0600), 0);
    rt_tee_close(open_sim(f->seed, APP));
    /* A refused file is left as it was. */
    size_t n;
    uint8_t *p = read_file(f->seed, &n);
    assert_int_equal(n, 32);
    assert_memory_equal(p, seed, 32);
    free(p);
}

static void test_sim_seed_size_refused(void **state)
{
    simfx *f = *state;
    uint8_t seed[33] = {0};
    write_file(f->seed, seed, 31, 0600);
    expect_open_fails("sim", f->seed, APP, "31 bytes, expected 32");
    write_file(f->seed, seed, 33, 0600);
    expect_open_fails("sim", f->seed, APP, "33 bytes");
    write_file(f->seed, seed, 0, 0600);
    expect_open_fails("sim", f->seed, APP, "0 bytes");
}

static void test_sim_seed_not_regular(void **state)
{
    simfx *f = *state;
    char target[400];
    snprintf(target, sizeof target, "%s/real", f->dir);
    uint8_t seed[32] = {0};
    write_file(target, seed, 32, 0600);
    assert_int_equal(symlink(target, f->seed), 0);
    expect_open_fails("sim", f->seed, APP, "symbolic link");
    assert_int_equal(unlink(f->seed), 0);
    assert_int_equal(mkdir(f->seed, 0700), 0);
    expect_open_fails("sim", f->seed, APP, "not a regular file");
    char missing_dir[400];
    snprintf(missing_dir, sizeof missing_dir, "%s/nodir/seed", f->dir);
    expect_open_fails("sim", missing_dir, APP, "cannot create");
}

static void test_open_arguments(void **state)
{
    simfx *f = *state;
    char long_app[RT_TEE_APP_ID_MAX + 2];
    memset(long_app, 'a', sizeof long_app - 1);
    long_app[sizeof long_app - 1] = 0;
    expect_open_fails("tdx", f->seed, APP, "\"sim\" or \"dstack\"");
    expect_open_fails(NULL, f->seed, APP, "\"sim\" or \"dstack\"");
    expect_open_fails("sim", f->seed, NULL, "app id");
    expect_open_fails("sim", f->seed, "", "app id");
    expect_open_fails("sim", f->seed, long_app, "longer than 128");
    assert_null(rt_tee_open("sim", f->seed, "", NULL)); /* err may be NULL */
    long_app[RT_TEE_APP_ID_MAX] = 0;                   /* exactly the maximum: fine */
    rt_tee_close(open_sim(f->seed, long_app));
    rt_tee_close(NULL);
}

/* ---- sim: derivation ------------------------------------------------------ */

/* RFC 5869 HKDF-SHA256 for one output block, written from the RFC with
 * HMAC() rather than OpenSSL's KDF, so it checks the provider's use of it. */
static void ref_hkdf(const uint8_t *ikm, size_t ikm_len, const char *salt, const uint8_t *info,
                     size_t info_len, uint8_t out[32])
{
    uint8_t prk[32], msg[512];
    unsigned len = 0;
    assert_non_null(HMAC(EVP_sha256(), salt, (int)strlen(salt), ikm, ikm_len, prk, &len));
    assert_int_equal(len, 32);
    assert_true(info_len + 1 <= sizeof msg);
    memcpy(msg, info, info_len);
    msg[info_len] = 1;
    assert_non_null(HMAC(EVP_sha256(), prk, 32, msg, info_len + 1, out, &len));
}

static void test_sim_derive_is_hkdf(void **state)
{
    simfx *f = *state;
    rt_tee *t = open_sim(f->seed, APP);
    size_t n;
    uint8_t *seed = read_file(f->seed, &n);
    static const char *const paths[] = {"toyapp/ed25519/v1", "toyapp/hmac/pseudonym/v1",
                                        "toyapp/secp256k1/v1", "x"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        uint8_t info[300], want[32], got[32];
        size_t il = 0;
        memcpy(info, APP, strlen(APP));
        il += strlen(APP);
        info[il++] = 0;
        memcpy(info + il, paths[i], strlen(paths[i]));
        il += strlen(paths[i]);
        ref_hkdf(seed, n, "toyapp-sim-v1", info, il, want);
        assert_int_equal(rt_tee_derive(t, paths[i], got), 0);
        assert_memory_equal(got, want, 32);
    }
    free(seed);
    rt_tee_close(t);
}

static void test_sim_derive_separation(void **state)
{
    simfx *f = *state;
    rt_tee *a = open_sim(f->seed, APP), *b = open_sim(f->seed, APP);
    rt_tee *other = open_sim(f->seed, "other-app");
    rt_tee *ab = open_sim(f->seed, "ab"), *a_ = open_sim(f->seed, "a");
    uint8_t k1[32], k2[32], k3[32], k4[32], k5[32], k6[32];

    assert_int_equal(rt_tee_derive(a, "toyapp/ed25519/v1", k1), 0);
    assert_int_equal(rt_tee_derive(b, "toyapp/ed25519/v1", k2), 0);
    assert_memory_equal(k1, k2, 32); /* same seed, app and path */
    assert_int_equal(rt_tee_derive(other, "toyapp/ed25519/v1", k3), 0);
    assert_memory_not_equal(k1, k3, 32); /* other app */
    assert_int_equal(rt_tee_derive(a, "toyapp/hmac/pseudonym/v1", k4), 0);
    assert_memory_not_equal(k1, k4, 32); /* other path */
    /* The 0x00 separator: ("ab", "c") and ("a", "bc") differ. */
    assert_int_equal(rt_tee_derive(ab, "c", k5), 0);
    assert_int_equal(rt_tee_derive(a_, "bc", k6), 0);
    assert_memory_not_equal(k5, k6, 32);

    /* Another seed gives other keys for the same app and path. */
    char seed2[400];
    snprintf(seed2, sizeof seed2, "%s/seed2", f->dir);
    rt_tee *c = open_sim(seed2, APP);
    assert_int_equal(rt_tee_derive(c, "toyapp/ed25519/v1", k2), 0);
    assert_memory_not_equal(k1, k2, 32);

    rt_tee_close(a);
    rt_tee_close(b);
    rt_tee_close(c);
    rt_tee_close(other);
    rt_tee_close(ab);
    rt_tee_close(a_);
}

static void test_derive_path_checks(void **state)
{
    simfx *f = *state;
    rt_tee *t = open_sim(f->seed, APP);
    uint8_t k[32];
    char path[RT_TEE_PATH_MAX + 2];
    assert_int_equal(rt_tee_derive(t, "", k), -1);
    assert_non_null(strstr(rt_tee_error(t), "empty"));
    assert_int_equal(rt_tee_derive(t, NULL, k), -1);
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = 0;
    assert_int_equal(rt_tee_derive(t, path, k), -1);
    assert_non_null(strstr(rt_tee_error(t), "longer than"));
    path[RT_TEE_PATH_MAX] = 0;
    assert_int_equal(rt_tee_derive(t, path, k), 0);
    assert_string_equal(rt_tee_error(t), "");
    assert_int_equal(rt_tee_set_timeout_ms(t, 0), -1);
    assert_int_equal(rt_tee_set_timeout_ms(t, 1000), 0);
    rt_tee_close(t);
}

/* ---- sim: info ------------------------------------------------------------- */

static void test_sim_info(void **state)
{
    simfx *f = *state;
    rt_tee *t = open_sim(f->seed, APP);
    rt_tee_info_t info;
    size_t n;
    uint8_t *seed = read_file(f->seed, &n), h[32];
    char want[65];

    unsetenv("TOYAPP_COMPOSE_FILE");
    assert_int_equal(rt_tee_info(t, &info), 0);
    assert_string_equal(info.kind, "sim");
    assert_string_equal(info.app_id, APP);
    sha(EVP_sha256(), seed, n, "instance", 8, h);
    tohex(h, 20, want);
    assert_string_equal(info.instance_id, want);
    assert_string_equal(info.compose_hash,
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    char compose[400];
    snprintf(compose, sizeof compose, "%s/docker-compose.yml", f->dir);
    static const char text[] = "services:\n  toyapp:\n    image: toyapp\n";
    write_file(compose, text, sizeof text - 1, 0644);
    setenv("TOYAPP_COMPOSE_FILE", compose, 1);
    assert_int_equal(rt_tee_info(t, &info), 0);
    sha(EVP_sha256(), text, sizeof text - 1, NULL, 0, h);
    tohex(h, 32, want);
    assert_string_equal(info.compose_hash, want);

    /* A named but missing compose file is an error, not the empty hash. */
    snprintf(compose, sizeof compose, "%s/missing.yml", f->dir);
    setenv("TOYAPP_COMPOSE_FILE", compose, 1);
    assert_int_equal(rt_tee_info(t, &info), -1);
    assert_non_null(strstr(rt_tee_error(t), "TOYAPP_COMPOSE_FILE"));
    unsetenv("TOYAPP_COMPOSE_FILE");
    free(seed);
    rt_tee_close(t);
}

/* ---- sim: quote ------------------------------------------------------------ */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Verifies the quote's ECDSA-P256 signature over [0, 632) with the public
 * key embedded in it: 1 valid, 0 not. */
static int verify_quote_sig(const uint8_t *q, size_t n)
{
    assert_true(n >= 764);
    const uint8_t *sig = q + 636, *pub = q + 700;
    uint8_t pub65[65];
    pub65[0] = 4;
    memcpy(pub65 + 1, pub, 64);

    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    assert_non_null(bld);
    assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub65, 65), 1);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(pctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);

    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(es, &der);
    assert_true(der_len > 0);

    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
    int ok = EVP_DigestVerify(md, der, (size_t)der_len, q, RT_TEE_QUOTE_SIGNED_LEN) == 1;

    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return ok;
}

/* RTMR extend: reg = SHA-384(reg || SHA-384(le32(type) ":" name ":" payload)),
 * computed here from the event's fields, independently of rt_evlog. */
static void extend_runtime_event(uint8_t reg[48], struct json_object *e)
{
    struct json_object *ty, *nm, *pl, *dg;
    assert_true(json_object_object_get_ex(e, "event_type", &ty));
    assert_true(json_object_object_get_ex(e, "event", &nm));
    assert_true(json_object_object_get_ex(e, "event_payload", &pl));
    assert_true(json_object_object_get_ex(e, "digest", &dg));
    uint32_t t = (uint32_t)json_object_get_int64(ty);
    uint8_t head[4] = { (uint8_t)t, (uint8_t)(t >> 8), (uint8_t)(t >> 16), (uint8_t)(t >> 24) };
    const char *name = json_object_get_string(nm), *hex = json_object_get_string(pl);
    size_t pn = strlen(hex) / 2, nn = strlen(name);
    uint8_t *m = malloc(4 + 1 + nn + 1 + pn + 1), d[48], given[48], ext[96];
    memcpy(m, head, 4);
    m[4] = ':';
    memcpy(m + 5, name, nn);
    m[5 + nn] = ':';
    unhex(hex, m + 6 + nn, pn);
    sha(EVP_sha384(), m, 6 + nn + pn, NULL, 0, d);
    free(m);
    unhex(json_object_get_string(dg), given, 48);
    assert_memory_equal(d, given, 48); /* the log's digest is its content's */
    memcpy(ext, reg, 48);
    memcpy(ext + 48, d, 48);
    sha(EVP_sha384(), ext, 96, NULL, 0, reg);
}

static void test_sim_quote_layout(void **state)
{
    simfx *f = *state;
    rt_tee *t = open_sim(f->seed, APP);
    uint8_t rd[64], *q = NULL, h[48], zero[64] = {0};
    size_t n = 0;
    char *log = NULL;
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(0xA0 ^ i);
    assert_int_equal(rt_tee_quote(t, rd, &q, &n, &log), 0);
    assert_non_null(q);

    /* header */
    assert_int_equal(le16(q + 0), 4);    /* version */
    assert_int_equal(le16(q + 2), 2);    /* ECDSA-256 with P-256 */
    assert_int_equal(le32(q + 4), 0x81); /* TDX */
    assert_memory_equal(q + 12, "toyapp-sim\0\0\0\0\0\0", 16);
    /* TD report body */
    const uint8_t *b = q + 48;
    sha(EVP_sha384(), "toyapp-sim", 10, NULL, 0, h);
    assert_memory_equal(b + 136, h, 48); /* MRTD */
    sha(EVP_sha384(), "toyapp-sim:mrseam", 17, NULL, 0, h);
    assert_memory_equal(b + 16, h, 48);  /* MRSEAM */
    static const uint8_t attrs[8] = { 0, 0, 0, 0x10 }; /* SEPT_VE_DISABLE, not DEBUG */
    assert_memory_equal(b + 120, attrs, 8);
    for (int i = 0; i < 3; i++)
        assert_memory_equal(b + 328 + 48 * i, zero, 48); /* RTMR0-2: nothing measured at boot */
    assert_memory_equal(q + 568, rd, 64);

    /* RTMR3 is the replay of the event log's runtime events, which say
     * what rt_tee_info says. */
    rt_tee_info_t info;
    assert_int_equal(rt_tee_info(t, &info), 0);
    struct json_object *ev = json_tokener_parse(log);
    assert_true(json_object_is_type(ev, json_type_array));
    static const char *const names[] = { "system-preparing", "app-id", "compose-hash", "instance-id",
                                         "boot-mr-done", "key-provider", "system-ready" };
    assert_int_equal(json_object_array_length(ev), 7);
    uint8_t reg[48] = { 0 };
    for (size_t i = 0; i < 7; i++) {
        struct json_object *e = json_object_array_get_idx(ev, i), *v;
        assert_true(json_object_object_get_ex(e, "event", &v));
        assert_string_equal(json_object_get_string(v), names[i]);
        assert_true(json_object_object_get_ex(e, "imr", &v));
        assert_int_equal(json_object_get_int(v), 3);
        extend_runtime_event(reg, e);
        assert_true(json_object_object_get_ex(e, "event_payload", &v));
        if (i == 2)
            assert_string_equal(json_object_get_string(v), info.compose_hash);
        if (i == 3)
            assert_string_equal(json_object_get_string(v), info.instance_id);
    }
    assert_memory_equal(b + 328 + 48 * 3, reg, 48);
    json_object_put(ev);

    /* The signature data: the real layout, a PEM chain that ends at the
     * sim root, and the verifier's full path with the sim collateral. */
    rt_quote pq;
    assert_int_equal(rt_quote_parse(&pq, q, n), 0);
    assert_int_equal(pq.sig_data_len, n - 636);
    assert_int_equal(pq.inner_type, 5);
    assert_int_equal(pq.qe_auth_len, 32);
    assert_int_equal(pq.trailing, 0);
    assert_int_equal(pq.inner[pq.inner_len - 1], 0); /* NUL-terminated, as Intel's */
    assert_non_null(strstr((const char *)pq.inner, "-----BEGIN CERTIFICATE-----"));
    char *col = NULL;
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(rt_tee_collateral(t, now, &col), 0);
    rt_dcap_report *r = malloc(sizeof *r);
    assert_int_equal(rt_dcap_verify(q, n, col, strlen(col), now, RT_DCAP_ALLOW_SIM, r), 0);
    assert_true(r->sim);
    assert_string_equal(r->status, "UpToDate");
    assert_int_equal(rt_dcap_verify(q, n, col, strlen(col), now, 0, r), -1);
    assert_int_equal(r->err, RT_DCAP_CERT_CHAIN); /* Intel's root: refused at the chain */
    free(r);
    free(col);
    free(q);
    free(log);

    /* event_log may be omitted */
    assert_int_equal(rt_tee_quote(t, rd, &q, &n, NULL), 0);
    free(q);
    rt_tee_close(t);
}

static void test_sim_quote_signature(void **state)
{
    simfx *f = *state;
    rt_tee *t = open_sim(f->seed, APP);
    uint8_t rd[64] = {0x12, 0x34}, *q, *q2;
    size_t n, n2;
    char *log;
    assert_int_equal(rt_tee_quote(t, rd, &q, &n, &log), 0);
    assert_int_equal(verify_quote_sig(q, n), 1);

    /* Any change to the signed bytes breaks it: report_data, header, body. */
    static const size_t flips[] = {0, 4, 12, 48 + 136, 568, 600, 631};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        q[flips[i]] ^= 0x01;
        assert_int_equal(verify_quote_sig(q, n), 0);
        q[flips[i]] ^= 0x01;
    }
    q[636 + 5] ^= 0x80; /* the signature itself */
    assert_int_equal(verify_quote_sig(q, n), 0);
    q[636 + 5] ^= 0x80;

    /* The attestation key depends on the seed only: a second provider on
     * the same seed, even for another app, embeds the same key. */
    rt_tee *t2 = open_sim(f->seed, "other-app");
    assert_int_equal(rt_tee_quote(t2, rd, &q2, &n2, NULL), 0);
    assert_memory_equal(q + 700, q2 + 700, 64);
    assert_int_equal(verify_quote_sig(q2, n2), 1);
    free(q2);
    rt_tee_close(t2);

    char seed2[400];
    snprintf(seed2, sizeof seed2, "%s/seed2", f->dir);
    t2 = open_sim(seed2, APP);
    assert_int_equal(rt_tee_quote(t2, rd, &q2, &n2, NULL), 0);
    assert_memory_not_equal(q + 700, q2 + 700, 64);
    free(q2);
    rt_tee_close(t2);

    free(q);
    free(log);
    rt_tee_close(t);
}

/* ---- Ed25519 --------------------------------------------------------------- */

static void test_ed25519_rfc8032_vector1(void **state)
{
    (void)state;
    uint8_t seed[32], want_pub[32], want_sig[64], pub[32], sig[64];
    unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32);
    unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", want_pub, 32);
    unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
          "701cf9b46bd25bf5f0595bbe24655141438e7a100b",
          want_sig, 64);
    assert_int_equal(rt_ed25519_public(seed, pub), 0);
    assert_memory_equal(pub, want_pub, 32);
    assert_int_equal(rt_ed25519_sign(seed, NULL, 0, sig), 0);
    assert_memory_equal(sig, want_sig, 64);
    assert_int_equal(rt_ed25519_sign(seed, (const uint8_t *)"", 0, sig), 0);
    assert_memory_equal(sig, want_sig, 64);
    assert_int_equal(rt_ed25519_verify(pub, NULL, 0, sig), 1);
    uint8_t one = 0;
    assert_int_equal(rt_ed25519_verify(pub, &one, 1, sig), 0);
}

/* The signing key is kept from one signature to the next: signing by
 * turns with two seeds (RFC 8032, tests 1 and 2) gives each its own
 * signature every time. */
static void test_ed25519_key_change(void **state)
{
    (void)state;
    uint8_t seed[2][32], want[2][64], sig[64];
    static const uint8_t msg2 = 0x72;
    const uint8_t *msg[2] = { NULL, &msg2 };
    unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed[0], 32);
    unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
          "701cf9b46bd25bf5f0595bbe24655141438e7a100b",
          want[0], 64);
    unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", seed[1], 32);
    unhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
          "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
          want[1], 64);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rt_ed25519_sign(seed[i & 1], msg[i & 1], (size_t)(i & 1), sig), 0);
        assert_memory_equal(sig, want[i & 1], 64);
    }
}

static void test_ed25519_roundtrip_and_tamper(void **state)
{
    simfx *f = *state;
    rt_tee *t = open_sim(f->seed, APP);
    uint8_t seed[32], pub[32], pub2[32], sig[64], msg[100];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(rt_tee_ed25519(t, "toyapp/ed25519/v1", seed, pub), 0);
    assert_int_equal(rt_ed25519_public(seed, pub2), 0);
    assert_memory_equal(pub, pub2, 32);
    uint8_t k[32];
    assert_int_equal(rt_tee_derive(t, "toyapp/ed25519/v1", k), 0);
    assert_memory_equal(k, seed, 32); /* the seed is the derived key material */
    assert_int_equal(rt_tee_ed25519(t, "toyapp/ed25519/v1", NULL, pub2), 0);
    assert_memory_equal(pub, pub2, 32);

    assert_int_equal(rt_ed25519_sign(seed, msg, sizeof msg, sig), 0);
    assert_int_equal(rt_ed25519_verify(pub, msg, sizeof msg, sig), 1);
    for (size_t bit = 0; bit < 8 * sizeof msg; bit += 37) {
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(rt_ed25519_verify(pub, msg, sizeof msg, sig), 0);
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 512; bit += 13) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(rt_ed25519_verify(pub, msg, sizeof msg, sig), 0);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(rt_ed25519_verify(pub, msg, sizeof msg - 1, sig), 0);
    /* Another key's public key does not verify it. */
    assert_int_equal(rt_tee_ed25519(t, "toyapp/ed25519/v2", NULL, pub2), 0);
    assert_memory_not_equal(pub, pub2, 32);
    assert_int_equal(rt_ed25519_verify(pub2, msg, sizeof msg, sig), 0);
    assert_int_equal(rt_ed25519_verify(pub, msg, sizeof msg, sig), 1);
    rt_tee_close(t);
}

/* ---- dstack fixture: the stub agent ---------------------------------------- */

typedef struct dsfx {
    dstack_stub *stub;
    rt_tee *t;
} dsfx;

static int ds_setup(void **state)
{
    dsfx *f = calloc(1, sizeof *f);
    f->stub = dstack_stub_start(data_dir());
    if (!f->stub)
        return -1;
    const char *err = NULL;
    f->t = rt_tee_open("dstack", dstack_stub_socket(f->stub), NULL, &err);
    if (!f->t) {
        fprintf(stderr, "rt_tee_open(dstack): %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int ds_teardown(void **state)
{
    dsfx *f = *state;
    rt_tee_close(f->t);
    dstack_stub_stop(f->stub);
    free(f);
    return 0;
}

static const uint8_t fixture_rd[64] = {0x12, 0x34}; /* dstack-getquote-a's report_data */

static void check_fixture_quote(dsfx *f)
{
    uint8_t *q = NULL, *want;
    size_t n = 0, wn;
    char *log = NULL, path[1024];
    if (rt_tee_quote(f->t, fixture_rd, &q, &n, &log) != 0)
        fail_msg("rt_tee_quote: %s", rt_tee_error(f->t));
    snprintf(path, sizeof path, "%s/dstack-getquote-a.quote.bin", data_dir());
    want = read_file(path, &wn);
    assert_int_equal(n, wn);
    assert_memory_equal(q, want, wn);
    char *want_log = data_json_str("dstack-getquote-a.json", "event_log");
    assert_string_equal(log, want_log);
    free(want_log);
    free(want);
    free(q);
    free(log);
}

static void test_dstack_quote_fixture(void **state)
{
    dsfx *f = *state;
    assert_string_equal(rt_tee_kind(f->t), "dstack");
    check_fixture_quote(f);

    /* The request is what the SDKs send: POST /GetQuote, hex report_data. */
    char method[16], target[64], body[512], want[256], rdhex[129];
    dstack_stub_last_request(f->stub, method, sizeof method, target, sizeof target, body,
                             sizeof body);
    assert_string_equal(method, "POST");
    assert_string_equal(target, "/GetQuote");
    tohex(fixture_rd, 64, rdhex);
    snprintf(want, sizeof want, "{\"report_data\":\"%s\"}", rdhex);
    assert_string_equal(body, want);
    assert_int_equal(dstack_stub_requests(f->stub), 1);

    /* A real quote's collateral comes from a PCCS, not from the agent: no
     * request is made for it. */
    char *col = (char *)"unchanged";
    assert_int_equal(rt_tee_collateral(f->t, 0, &col), -1);
    assert_null(col);
    assert_non_null(strstr(rt_tee_error(f->t), "PCCS"));
    assert_int_equal(dstack_stub_requests(f->stub), 1);
}

static void test_dstack_framings(void **state)
{
    dsfx *f = *state;
    static const dstack_stub_framing framings[] = {DSTACK_STUB_CHUNKED, DSTACK_STUB_EOF,
                                                   DSTACK_STUB_LENGTH};
    for (size_t i = 0; i < sizeof framings / sizeof framings[0]; i++) {
        dstack_stub_set_framing(f->stub, framings[i]);
        check_fixture_quote(f);
        uint8_t k[32];
        assert_int_equal(rt_tee_derive(f->t, "toyapp/ed25519/v1", k), 0);
        rt_tee_info_t info;
        assert_int_equal(rt_tee_info(f->t, &info), 0);
        assert_string_equal(info.instance_id, "c3714eb66990eace777b4e664c16e09375dec4c9");
    }
}

static void test_dstack_getkey(void **state)
{
    dsfx *f = *state;
    uint8_t k[32], want[32];
    char *key_hex = data_json_str("dstack-getkey.json", "key");
    unhex(key_hex, want, 32);
    free(key_hex);
    if (rt_tee_derive(f->t, "toyapp/hmac/pseudonym/v1", k) != 0)
        fail_msg("rt_tee_derive: %s", rt_tee_error(f->t));
    assert_memory_equal(k, want, 32);

    char method[16], target[64], body[512];
    dstack_stub_last_request(f->stub, method, sizeof method, target, sizeof target, body,
                             sizeof body);
    assert_string_equal(method, "POST");
    assert_string_equal(target, "/GetKey");
    assert_string_equal(body, "{\"path\":\"toyapp/hmac/pseudonym/v1\",\"purpose\":\"toyapp\"}");

    /* A path needing JSON escapes is sent escaped and parses back intact. */
    assert_int_equal(rt_tee_derive(f->t, "a\"b\\c", k), 0);
    dstack_stub_last_request(f->stub, method, sizeof method, target, sizeof target, body,
                             sizeof body);
    json_object *o = json_tokener_parse(body), *v;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "path", &v));
    assert_string_equal(json_object_get_string(v), "a\"b\\c");
    json_object_put(o);

    /* Ed25519 on dstack-derived material. */
    uint8_t seed[32], pub[32], sig[64];
    assert_int_equal(rt_tee_ed25519(f->t, "toyapp/ed25519/v1", seed, pub), 0);
    assert_memory_equal(seed, want, 32); /* the stub returns one key for all paths */
    assert_int_equal(rt_ed25519_sign(seed, (const uint8_t *)"x", 1, sig), 0);
    assert_int_equal(rt_ed25519_verify(pub, (const uint8_t *)"x", 1, sig), 1);
}

static void test_dstack_info(void **state)
{
    dsfx *f = *state;
    rt_tee_info_t info;
    if (rt_tee_info(f->t, &info) != 0)
        fail_msg("rt_tee_info: %s", rt_tee_error(f->t));
    assert_string_equal(info.kind, "dstack");
    assert_string_equal(info.app_id, "3763bc34552cf3a27ff71ad5f7a90471562a1a2d");
    assert_string_equal(info.instance_id, "c3714eb66990eace777b4e664c16e09375dec4c9");
    assert_string_equal(info.compose_hash,
                        "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7");
    char method[16], target[64], body[64];
    dstack_stub_last_request(f->stub, method, sizeof method, target, sizeof target, body,
                             sizeof body);
    assert_string_equal(target, "/Info");
    assert_string_equal(body, "{}");

    /* Upper-case hex is accepted and reported in lower case. */
    dstack_stub_set_body(f->stub, "Info",
                         "{\"app_id\":\"ABCDEF0123\",\"instance_id\":\"\",\"compose_hash\":"
                         "\"3763BC34552CF3A27FF71AD5F7A90471562A1A2DF552DFC1998CBA2D60DA27E7\"}");
    assert_int_equal(rt_tee_info(f->t, &info), 0);
    assert_string_equal(info.app_id, "abcdef0123");
    assert_string_equal(info.instance_id, "");
    assert_string_equal(info.compose_hash,
                        "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7");
}

/* Runs all three calls against the stub and expects each to fail with a
 * message containing needle. */
static void expect_all_fail(dsfx *f, const char *needle)
{
    uint8_t k[32], *q = (uint8_t *)"sentinel";
    size_t n = 99;
    char *log = (char *)"sentinel";
    rt_tee_info_t info;

    assert_int_equal(rt_tee_derive(f->t, "toyapp/ed25519/v1", k), -1);
    if (!strstr(rt_tee_error(f->t), needle))
        fail_msg("GetKey error \"%s\" lacks \"%s\"", rt_tee_error(f->t), needle);
    assert_int_equal(rt_tee_quote(f->t, fixture_rd, &q, &n, &log), -1);
    if (!strstr(rt_tee_error(f->t), needle))
        fail_msg("GetQuote error \"%s\" lacks \"%s\"", rt_tee_error(f->t), needle);
    assert_null(q);
    assert_null(log);
    assert_int_equal(n, 0);
    assert_int_equal(rt_tee_info(f->t, &info), -1);
    if (!strstr(rt_tee_error(f->t), needle))
        fail_msg("Info error \"%s\" lacks \"%s\"", rt_tee_error(f->t), needle);
}

static void test_dstack_failure_modes(void **state)
{
    dsfx *f = *state;
    static const struct {
        dstack_stub_mode mode;
        const char *needle;
    } cases[] = {
        {DSTACK_STUB_STATUS_500, "HTTP status 500: stub: internal error"},
        {DSTACK_STUB_GARBAGE, "not an HTTP/1.x response"},
        {DSTACK_STUB_BAD_JSON, "not valid JSON"},
        {DSTACK_STUB_TRUNCATED, "truncated response"},
        {DSTACK_STUB_CLOSE, "closed the connection without a response"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dstack_stub_set_mode(f->stub, cases[i].mode);
        expect_all_fail(f, cases[i].needle);
    }
    /* Chunked framing cut short. */
    dstack_stub_set_mode(f->stub, DSTACK_STUB_TRUNCATED);
    dstack_stub_set_framing(f->stub, DSTACK_STUB_CHUNKED);
    expect_all_fail(f, "truncated chunked response");
    dstack_stub_set_framing(f->stub, DSTACK_STUB_LENGTH);
    dstack_stub_set_mode(f->stub, DSTACK_STUB_NORMAL);
    /* and back to normal: the client holds no state from the failures */
    check_fixture_quote(f);
}

static void test_dstack_timeouts(void **state)
{
    dsfx *f = *state;
    assert_int_equal(rt_tee_set_timeout_ms(f->t, 300), 0);
    static const dstack_stub_mode modes[] = {DSTACK_STUB_HANG, DSTACK_STUB_TRICKLE};
    for (size_t i = 0; i < 2; i++) {
        dstack_stub_set_mode(f->stub, modes[i]);
        double t0 = now_s();
        expect_all_fail(f, "no complete response within 300 ms");
        double dt = now_s() - t0;
        /* three calls of 300 ms each, with generous slack for slow CI */
        assert_true(dt >= 0.85);
        if (dt > 3.0)
            fail_msg("three timed-out calls took %.2f s", dt);
    }
    dstack_stub_set_mode(f->stub, DSTACK_STUB_NORMAL);
    assert_int_equal(rt_tee_set_timeout_ms(f->t, RT_TEE_TIMEOUT_MS_DEFAULT), 0);
    check_fixture_quote(f);
}

/* 200 responses with bad content, per endpoint. */
static void test_dstack_bad_fields(void **state)
{
    dsfx *f = *state;
    uint8_t k[32];
    static const struct {
        const char *body, *needle;
    } key_cases[] = {
        {"{\"signature_chain\":[]}", "no \"key\""},
        {"{\"key\":42}", "\"key\" is not a string"},
        {"{\"key\":\"abc\"}", "odd number of hex digits"},
        {"{\"key\":\"zz3b1c334a5c4974ad6706b7d90913ec9aa726145e3a287f7a8e890507d84d09\"}",
         "not hex"},
        {"{\"key\":\"753b1c334a5c4974ad6706b7d90913ec9aa726145e3a287f7a8e890507d84d\"}",
         "31 bytes, expected 32"},
        {"{\"key\":\"753b1c334a5c4974ad6706b7d90913ec9aa726145e3a287f7a8e890507d84d0900\"}",
         "33 bytes, expected 32"},
        {"{\"key\":\"753b1c334a5c4974ad6706b7d90913ec9aa726145e3a287f7a8e890507d84d09\","
         "\"signature_chain\":\"x\"}",
         "not an array"},
        {"[\"753b1c334a5c4974ad6706b7d90913ec9aa726145e3a287f7a8e890507d84d09\"]",
         "not an object"},
        {"{\"key\":\"753b1c334a5c4974ad6706b7d90913ec9aa726145e3a287f7a8e890507d84d09\"} x",
         "trailing bytes"},
        {"", "not valid JSON"},
        {"{\"key\":\"753b", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        dstack_stub_set_body(f->stub, "GetKey", key_cases[i].body);
        assert_int_equal(rt_tee_derive(f->t, "p", k), -1);
        if (!strstr(rt_tee_error(f->t), key_cases[i].needle))
            fail_msg("GetKey body %s: error \"%s\" lacks \"%s\"", key_cases[i].body,
                     rt_tee_error(f->t), key_cases[i].needle);
    }
    /* Without signature_chain the key alone is enough. */
    dstack_stub_set_body(f->stub, "GetKey",
                         "{\"key\":\"753b1c334a5c4974ad6706b7d90913ec9aa726145e3a287f7a8e890507d84d09\"}");
    assert_int_equal(rt_tee_derive(f->t, "p", k), 0);

    /* GetQuote: built from the recorded quote. */
    char *qhex = data_json_str("dstack-getquote-a.json", "quote");
    size_t qn = strlen(qhex);
    char *body = malloc(qn + 512);
    uint8_t *q;
    size_t n;
    char *log;

    snprintf(body, qn + 512, "{\"event_log\":\"[]\"}");
    dstack_stub_set_body(f->stub, "GetQuote", body);
    assert_int_equal(rt_tee_quote(f->t, fixture_rd, &q, &n, &log), -1);
    assert_non_null(strstr(rt_tee_error(f->t), "no \"quote\""));

    snprintf(body, qn + 512, "{\"quote\":\"%s\"}", qhex);
    dstack_stub_set_body(f->stub, "GetQuote", body);
    assert_int_equal(rt_tee_quote(f->t, fixture_rd, &q, &n, &log), -1);
    assert_non_null(strstr(rt_tee_error(f->t), "no \"event_log\""));

    snprintf(body, qn + 512, "{\"quote\":\"%.600s\",\"event_log\":\"[]\"}", qhex);
    dstack_stub_set_body(f->stub, "GetQuote", body);
    assert_int_equal(rt_tee_quote(f->t, fixture_rd, &q, &n, &log), -1);
    assert_non_null(strstr(rt_tee_error(f->t), "too short"));

    /* Without the echo, the quote itself must carry the report_data. */
    snprintf(body, qn + 512, "{\"quote\":\"%s\",\"event_log\":\"[]\"}", qhex);
    dstack_stub_set_body(f->stub, "GetQuote", body);
    assert_int_equal(rt_tee_quote(f->t, fixture_rd, &q, &n, &log), 0);
    assert_string_equal(log, "[]");
    free(q);
    free(log);
    uint8_t other_rd[64] = {0x12, 0x35};
    assert_int_equal(rt_tee_quote(f->t, other_rd, &q, &n, &log), -1);
    assert_non_null(strstr(rt_tee_error(f->t), "does not carry the requested report_data"));

    /* The echoed report_data must match the request. */
    dstack_stub_set_body(f->stub, "GetQuote", NULL);
    assert_int_equal(rt_tee_quote(f->t, other_rd, &q, &n, &log), -1);
    assert_non_null(strstr(rt_tee_error(f->t), "differs from the request"));

    snprintf(body, qn + 512, "{\"quote\":\"%s\",\"event_log\":\"[]\",\"report_data\":\"1234\"}", qhex);
    dstack_stub_set_body(f->stub, "GetQuote", body);
    assert_int_equal(rt_tee_quote(f->t, fixture_rd, &q, &n, &log), -1);
    assert_non_null(strstr(rt_tee_error(f->t), "2 bytes, expected 64"));

    /* Version other than 4 or 5. */
    qhex[1] = '3';
    snprintf(body, qn + 512, "{\"quote\":\"%s\",\"event_log\":\"[]\"}", qhex);
    dstack_stub_set_body(f->stub, "GetQuote", body);
    assert_int_equal(rt_tee_quote(f->t, fixture_rd, &q, &n, &log), -1);
    assert_non_null(strstr(rt_tee_error(f->t), "quote version 3"));
    free(body);
    free(qhex);

    /* Info */
    static const struct {
        const char *body, *needle;
    } info_cases[] = {
        {"{\"instance_id\":\"00\",\"compose_hash\":\"" "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7\"}",
         "no \"app_id\""},
        {"{\"app_id\":\"\",\"instance_id\":\"00\",\"compose_hash\":\"" "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7\"}",
         "\"app_id\" is empty"},
        {"{\"app_id\":\"01\",\"instance_id\":\"0g\",\"compose_hash\":\"" "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7\"}",
         "\"instance_id\" is not hex"},
        {"{\"app_id\":\"01\",\"instance_id\":\"00\",\"compose_hash\":\"3763bc\"}",
         "\"compose_hash\" is 3 bytes, expected 32"},
        {"{\"app_id\":\"01\",\"instance_id\":\"00\"}", "no \"compose_hash\""},
        {"{\"app_id\":null,\"instance_id\":\"00\",\"compose_hash\":\"" "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7\"}",
         "\"app_id\" is not a string"},
    };
    rt_tee_info_t info;
    for (size_t i = 0; i < sizeof info_cases / sizeof info_cases[0]; i++) {
        dstack_stub_set_body(f->stub, "Info", info_cases[i].body);
        assert_int_equal(rt_tee_info(f->t, &info), -1);
        if (!strstr(rt_tee_error(f->t), info_cases[i].needle))
            fail_msg("Info body %s: error \"%s\" lacks \"%s\"", info_cases[i].body,
                     rt_tee_error(f->t), info_cases[i].needle);
    }
    /* An app id longer than the struct holds is refused, not truncated. */
    char big[400];
    snprintf(big, sizeof big, "{\"app_id\":\"%0260d\",\"instance_id\":\"\",\"compose_hash\":\"%064d\"}",
             0, 0);
    dstack_stub_set_body(f->stub, "Info", big);
    assert_int_equal(rt_tee_info(f->t, &info), -1);
    assert_non_null(strstr(rt_tee_error(f->t), "too long"));
}

static void test_dstack_open_errors(void **state)
{
    dsfx *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s.missing", dstack_stub_socket(f->stub));
    expect_open_fails("dstack", path, NULL, "No such file");
    char long_path[200];
    memset(long_path, 'x', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = 0;
    expect_open_fails("dstack", long_path, NULL, "longer than");
    expect_open_fails("dstack", data_dir(), NULL, "not a socket");

    /* The socket vanishing after open is a request error, not a crash. */
    rt_tee *t = rt_tee_open("dstack", dstack_stub_socket(f->stub), "ignored", NULL);
    assert_non_null(t);
    dstack_stub_stop(f->stub);
    f->stub = NULL;
    uint8_t k[32];
    assert_int_equal(rt_tee_derive(t, "p", k), -1);
    assert_non_null(strstr(rt_tee_error(t), "cannot connect"));
    rt_tee_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sim_seed_created_0600, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_seed_reopened, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_seed_mode_refused, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_seed_size_refused, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_seed_not_regular, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_open_arguments, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_derive_is_hkdf, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_derive_separation, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_derive_path_checks, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_info, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_quote_layout, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_quote_signature, sim_setup, sim_teardown),
        cmocka_unit_test(test_ed25519_rfc8032_vector1),
        cmocka_unit_test(test_ed25519_key_change),
        cmocka_unit_test_setup_teardown(test_ed25519_roundtrip_and_tamper, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_dstack_quote_fixture, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_dstack_framings, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_dstack_getkey, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_dstack_info, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_dstack_failure_modes, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_dstack_timeouts, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_dstack_bad_fields, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_dstack_open_errors, ds_setup, ds_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

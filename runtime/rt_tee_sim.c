/*
 * rt_tee_sim.c - the "sim" TEE provider, for machines without TDX.
 *
 * Keys come from a 32-byte seed file by HKDF-SHA256.  Quotes have the exact
 * byte layout of an Intel TDX quote v4, so every parser and the report_data
 * binding can be exercised without hardware, but they are signed by a
 * P-256 "simulated attestation key" derived from the seed instead of by an
 * Intel-certified quoting enclave.  A verifier must accept such a quote only
 * when explicitly told to (--allow-sim), and the quote says what it is in
 * several places: the header's vendor id is "toyapp-sim", TD attributes have
 * the DEBUG bit set, and the certification data is an ASCII note instead of
 * the PCK certificate chain.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define RT_TEE_PROVIDER
#include "rt_compose.h"
#include "rt_hex.h"
#include "rt_tee.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#define SIM_SALT "toyapp-sim-v1"
#define SIM_NOTE "toyapp-sim: not a real TDX quote"
/* Certification data type 6 = "QE report certification data" in a real
 * quote; the sim keeps the marker but the payload is only SIM_NOTE. */
#define SIM_CERT_TYPE 6

typedef struct sim {
    uint8_t seed[RT_TEE_SEED_LEN];
    EVP_PKEY *att_key;   /* P-256 simulated attestation key */
    uint8_t att_pub[64]; /* its public key, x || y */
} sim;

/* ---- small helpers ------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len,
                       uint8_t out[32])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)SIM_SALT,
                                                  sizeof SIM_SALT - 1);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[4] = OSSL_PARAM_construct_end();
    int ok = kctx && EVP_KDF_derive(kctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

static int digest(const EVP_MD *md, const void *a, size_t na, const void *b, size_t nb,
                  uint8_t *out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, a, na) == 1 &&
             (nb == 0 || EVP_DigestUpdate(c, b, nb) == 1) && EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* ---- seed file ---------------------------------------------------------- */

/* Reads an existing seed file.  Returns 0, -1 with t->err set, or 1 if the
 * file does not exist. */
static int seed_read(rt_tee *t, const char *path, uint8_t seed[RT_TEE_SEED_LEN])
{
    /* O_NOFOLLOW: a symlink could point the service at a file of someone
     * else's choosing; O_NONBLOCK: a FIFO must not block the open. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        if (errno == ELOOP)
            return rt_tee_fail(t, "sim seed file %s is a symbolic link; refused", path);
        return rt_tee_fail(t, "sim seed file %s: %s", path, strerror(errno));
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0)
        rt_tee_fail(t, "sim seed file %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rt_tee_fail(t, "sim seed file %s is not a regular file; refused", path);
    else if (st.st_mode & 077)
        rt_tee_fail(t,
                    "sim seed file %s has mode %04o, which lets group or other access it; "
                    "refused (chmod 600 it if it is trustworthy)",
                    path, (unsigned)(st.st_mode & 07777));
    else if (st.st_size != RT_TEE_SEED_LEN)
        rt_tee_fail(t, "sim seed file %s is %lld bytes, expected %d; refused", path,
                    (long long)st.st_size, RT_TEE_SEED_LEN);
    else if (read_full(fd, seed, RT_TEE_SEED_LEN) != 0)
        rt_tee_fail(t, "sim seed file %s: short read", path);
    else
        rc = 0;
    close(fd);
    return rc;
}

/* Creates the seed file with fresh random bytes.  The bytes are written to
 * a private temporary file first and then hard-linked to path: link() fails
 * if path exists, so a concurrent creator's seed is never overwritten and no
 * reader ever sees a partly written file.  Returns 0, -1, or 1 if another
 * process created path first (the caller then reads that one). */
static int seed_create(rt_tee *t, const char *path, uint8_t seed[RT_TEE_SEED_LEN])
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return rt_tee_fail(t, "sim seed file path too long");
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0)
        return rt_tee_fail(t, "sim seed file %s: cannot create: %s", path, strerror(errno));
    int rc = -1;
    if (RAND_bytes(seed, RT_TEE_SEED_LEN) != 1)
        rt_tee_fail(t, "sim seed: RAND_bytes failed");
    else if (fchmod(fd, 0600) != 0 || write_full(fd, seed, RT_TEE_SEED_LEN) != 0 ||
             fsync(fd) != 0)
        rt_tee_fail(t, "sim seed file %s: cannot write: %s", tmp, strerror(errno));
    else if (link(tmp, path) != 0)
        rc = errno == EEXIST ? 1 : rt_tee_fail(t, "sim seed file %s: %s", path, strerror(errno));
    else
        rc = 0;
    close(fd);
    unlink(tmp);
    if (rc != 0) {
        OPENSSL_cleanse(seed, RT_TEE_SEED_LEN);
        return rc;
    }
    /* Make the new directory entry durable too; failure here is harmless. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int seed_load(rt_tee *t, const char *path, uint8_t seed[RT_TEE_SEED_LEN])
{
    int rc = seed_read(t, path, seed);
    if (rc != 1)
        return rc;
    rc = seed_create(t, path, seed);
    if (rc != 1)
        return rc;
    rc = seed_read(t, path, seed); /* lost the creation race: use the winner's */
    return rc == 1 ? rt_tee_fail(t, "sim seed file %s vanished while opening", path) : rc;
}

/* ---- simulated attestation key ------------------------------------------ */

/* The P-256 private scalar is HKDF(seed, salt, info = 0x00 ||
 * "attestation-key/p256" || counter), retried with the next counter in the
 * (~2^-32) case that it is 0 or not below the group order.  The leading 0x00
 * keeps it apart from every app key: their info starts with a non-empty app
 * id.  It depends on the seed only, like a platform's key, not on the app. */
static int att_key_make(rt_tee *t, sim *s)
{
    static const char label[] = "attestation-key/p256";
    uint8_t info[1 + sizeof label], d_bytes[32], pub65[65];
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_secure_new();
    EC_POINT *P = g ? EC_POINT_new(g) : NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    int rc = -1;

    if (!g || !d || !P)
        goto out;
    info[0] = 0;
    memcpy(info + 1, label, sizeof label - 1);
    for (uint8_t ctr = 0;; ctr++) {
        info[sizeof label] = ctr;
        if (hkdf_sha256(s->seed, sizeof s->seed, info, sizeof info, d_bytes) != 0 ||
            !BN_bin2bn(d_bytes, 32, d))
            goto out;
        if (!BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0)
            break;
        if (ctr == 255)
            goto out;
    }
    if (EC_POINT_mul(g, P, d, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(g, P, POINT_CONVERSION_UNCOMPRESSED, pub65, sizeof pub65, NULL) != 65)
        goto out;
    bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub65, sizeof pub65))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &s->att_key, EVP_PKEY_KEYPAIR, params) != 1)
        goto out;
    memcpy(s->att_pub, pub65 + 1, 64);
    rc = 0;
out:
    if (rc != 0)
        rt_tee_fail(t, "sim: cannot derive the simulated attestation key (OpenSSL)");
    OPENSSL_cleanse(d_bytes, sizeof d_bytes);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params); /* OSSL_PARAM_BLD_to_param copies the BN securely */
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(P);
    BN_clear_free(d);
    EC_GROUP_free(g);
    return rc;
}

/* ECDSA-P256/SHA-256 over msg, as raw r || s (the quote's format). */
static int att_sign(rt_tee *t, sim *s, const uint8_t *msg, size_t n, uint8_t sig[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t der_len = sizeof der;
    ECDSA_SIG *es = NULL;
    int rc = -1;
    if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->att_key) == 1 &&
        EVP_DigestSign(md, der, &der_len, msg, n) == 1) {
        const unsigned char *p = der;
        es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        const BIGNUM *r, *sv;
        if (es) {
            ECDSA_SIG_get0(es, &r, &sv);
            if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(sv, sig + 32, 32) == 32)
                rc = 0;
        }
    }
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return rc == 0 ? 0 : rt_tee_fail(t, "sim quote: ECDSA signing failed (OpenSSL)");
}

/* ---- provider operations ------------------------------------------------ */

static int sim_derive(rt_tee *t, const char *path, uint8_t out[32])
{
    sim *s = t->impl;
    uint8_t info[RT_TEE_APP_ID_MAX + 1 + RT_TEE_PATH_MAX];
    size_t na = strlen(t->app_id), np = strlen(path);
    memcpy(info, t->app_id, na);
    info[na] = 0; /* separates app id from path: ("a","b/c") != ("a\0b","c") */
    memcpy(info + na + 1, path, np);
    if (hkdf_sha256(s->seed, sizeof s->seed, info, na + 1 + np, out) != 0)
        return rt_tee_fail(t, "sim derive: HKDF failed (OpenSSL)");
    return 0;
}

/*
 * The quote, byte by byte (offsets from the start of the quote):
 *   0   header (48): version 4, attestation key type 2 (ECDSA-256 with
 *       P-256), TEE type 0x81 (TDX), QE/PCE SVN 0, QE vendor id = "toyapp-sim"
 *       zero-padded (a real one is Intel's 939a7233...), user data 0.
 *   48  TD report body, TDX 1.0 (584): TEE TCB SVN 0; MRSEAM =
 *       SHA-384("toyapp-sim:mrseam"); MRSIGNERSEAM 0; SEAM attributes 0;
 *       TD attributes with DEBUG (bit 0) set; XFAM 0; MRTD =
 *       SHA-384("toyapp-sim"); MRCONFIGID, MROWNER, MROWNERCONFIG 0; RTMR0..3
 *       all zero, which is what replaying the empty event log "[]" gives;
 *       report_data at 568.
 *   632 signature data length (4, little endian), then
 *   636 ECDSA signature over [0, 632), r || s (64)
 *   700 attestation public key, x || y (64)
 *   764 certification data type 6 (2), size (4), then SIM_NOTE (ASCII).
 */
static int sim_quote(rt_tee *t, const uint8_t report_data[64], uint8_t **quote, size_t *quote_len,
                     char **event_log)
{
    sim *s = t->impl;
    const size_t note_len = sizeof SIM_NOTE - 1;
    const size_t sig_data_len = 64 + 64 + 2 + 4 + note_len;
    const size_t len = RT_TEE_QUOTE_SIGNED_LEN + 4 + sig_data_len;
    uint8_t *q = calloc(1, len);
    char *log = event_log ? strdup("[]") : NULL;
    if (!q || (event_log && !log)) {
        free(q);
        free(log);
        return rt_tee_fail(t, "sim quote: out of memory");
    }

    put16(q + 0, 4);
    put16(q + 2, 2);
    put32(q + 4, 0x81);
    memcpy(q + 12, "toyapp-sim", 10);

    uint8_t *body = q + RT_TEE_QUOTE_HEADER_LEN;
    static const char mrseam_label[] = "toyapp-sim:mrseam", mrtd_label[] = "toyapp-sim";
    body[120] = 0x01; /* td_attributes: DEBUG */
    if (digest(EVP_sha384(), mrseam_label, sizeof mrseam_label - 1, NULL, 0, body + 16) != 0 ||
        digest(EVP_sha384(), mrtd_label, sizeof mrtd_label - 1, NULL, 0, body + 136) != 0) {
        free(q);
        free(log);
        return rt_tee_fail(t, "sim quote: SHA-384 failed (OpenSSL)");
    }
    memcpy(q + RT_TEE_QUOTE_REPORT_DATA_OFF, report_data, 64);

    uint8_t *sd = q + RT_TEE_QUOTE_SIGNED_LEN;
    put32(sd, (uint32_t)sig_data_len);
    memcpy(sd + 4 + 64, s->att_pub, 64);
    put16(sd + 4 + 128, SIM_CERT_TYPE);
    put32(sd + 4 + 130, (uint32_t)note_len);
    memcpy(sd + 4 + 134, SIM_NOTE, note_len);
    if (att_sign(t, s, q, RT_TEE_QUOTE_SIGNED_LEN, sd + 4) != 0) {
        free(q);
        free(log);
        return -1;
    }
    *quote = q;
    *quote_len = len;
    if (event_log)
        *event_log = log;
    return 0;
}

static int sim_info(rt_tee *t, rt_tee_info_t *info)
{
    sim *s = t->impl;
    uint8_t h[32];
    if (digest(EVP_sha256(), s->seed, sizeof s->seed, "instance", 8, h) != 0)
        return rt_tee_fail(t, "sim info: SHA-256 failed (OpenSSL)");
    rt_hex_encode(h, 20, info->instance_id);

    /* The compose hash exactly as dstack computes it (rt_compose.h). */
    const char *compose = getenv("TOYAPP_COMPOSE_FILE");
    char cerr[160];
    if (!compose)
        rt_compose_hash("", 0, h);
    else if (rt_compose_hash_file(compose, h, cerr, sizeof cerr) != 0)
        return rt_tee_fail(t, "sim info: TOYAPP_COMPOSE_FILE %s: %s", compose, cerr);
    rt_hex_encode(h, 32, info->compose_hash);
    snprintf(info->app_id, sizeof info->app_id, "%s", t->app_id);
    return 0;
}

static void sim_close(rt_tee *t)
{
    sim *s = t->impl;
    if (!s)
        return;
    EVP_PKEY_free(s->att_key);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
    t->impl = NULL;
}

static const rt_tee_ops sim_ops = {
    .kind = "sim",
    .derive = sim_derive,
    .quote = sim_quote,
    .info = sim_info,
    .close = sim_close,
};

int rt_tee_sim_init(rt_tee *t, const char *seed_path)
{
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return rt_tee_fail(t, "sim: out of memory");
    t->impl = s;
    t->ops = &sim_ops;
    if (seed_load(t, seed_path, s->seed) != 0 || att_key_make(t, s) != 0) {
        sim_close(t);
        t->ops = NULL;
        return -1;
    }
    return 0;
}

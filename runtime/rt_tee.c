/*
 * rt_tee.c - the provider-independent half of rt_tee: opening a provider,
 * argument checks shared by both providers, errors, and Ed25519 on top of
 * rt_tee_derive (OpenSSL).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define RT_TEE_PROVIDER
#include "rt_tee.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "rt_eth.h"

/* rt_tee_open cannot report through an object that does not exist yet, and
 * its message often names a path, so it goes to a per-thread buffer. */
static _Thread_local char open_err[sizeof(((rt_tee *)0)->err)];

int rt_tee_fail(rt_tee *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    return -1;
}

rt_tee *rt_tee_open(const char *kind, const char *arg, const char *app_id, const char **err)
{
    const char *msg = NULL;
    rt_tee *t = NULL;

    if (!kind || (strcmp(kind, "sim") != 0 && strcmp(kind, "dstack") != 0)) {
        msg = "rt_tee_open: provider kind must be \"sim\" or \"dstack\"";
        goto fail;
    }
    if (app_id && strlen(app_id) > RT_TEE_APP_ID_MAX) {
        msg = "rt_tee_open: app id longer than 128 bytes";
        goto fail;
    }
    if (strcmp(kind, "sim") == 0 && (!app_id || !*app_id)) {
        /* The app id separates the keys of different apps sharing a seed. */
        msg = "rt_tee_open: the sim provider needs a non-empty app id";
        goto fail;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        msg = "rt_tee_open: out of memory";
        goto fail;
    }
    if (app_id)
        memcpy(t->app_id, app_id, strlen(app_id) + 1);
    t->timeout_ms = RT_TEE_TIMEOUT_MS_DEFAULT;

    int rc = strcmp(kind, "sim") == 0 ? rt_tee_sim_init(t, arg ? arg : RT_TEE_SIM_SEED_DEFAULT)
                                      : rt_tee_dstack_init(t, arg ? arg : RT_TEE_DSTACK_SOCKET);
    if (rc != 0) {
        snprintf(open_err, sizeof open_err, "%s", t->err);
        free(t);
        t = NULL;
        msg = open_err;
        goto fail;
    }
    return t;

fail:
    if (err)
        *err = msg;
    return NULL;
}

void rt_tee_close(rt_tee *t)
{
    if (!t)
        return;
    if (t->ops && t->ops->close)
        t->ops->close(t);
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}

const char *rt_tee_kind(const rt_tee *t)
{
    return t->ops->kind;
}

const char *rt_tee_error(const rt_tee *t)
{
    return t->err;
}

int rt_tee_set_timeout_ms(rt_tee *t, int ms)
{
    if (ms < 1 || ms > 600000)
        return rt_tee_fail(t, "timeout %d ms out of range 1..600000", ms);
    t->timeout_ms = ms;
    return 0;
}

int rt_tee_derive(rt_tee *t, const char *path, uint8_t out[32])
{
    t->err[0] = 0;
    if (!path || !*path)
        return rt_tee_fail(t, "derive: empty key path");
    if (strlen(path) > RT_TEE_PATH_MAX)
        return rt_tee_fail(t, "derive: key path longer than %d bytes", RT_TEE_PATH_MAX);
    uint8_t tmp[32];
    if (t->ops->derive(t, path, tmp) != 0) {
        OPENSSL_cleanse(tmp, sizeof tmp);
        return -1;
    }
    memcpy(out, tmp, 32);
    OPENSSL_cleanse(tmp, sizeof tmp);
    return 0;
}

int rt_tee_quote(rt_tee *t, const uint8_t report_data[64], uint8_t **quote, size_t *quote_len,
                 char **event_log)
{
    t->err[0] = 0;
    *quote = NULL;
    *quote_len = 0;
    if (event_log)
        *event_log = NULL;
    return t->ops->quote(t, report_data, quote, quote_len, event_log);
}

int rt_tee_collateral(rt_tee *t, int64_t now, char **json)
{
    t->err[0] = 0;
    *json = NULL;
    if (!t->ops->collateral)
        return rt_tee_fail(t, "%s: the DCAP collateral of a real quote comes from a PCCS, not from "
                              "the TEE (docs/attestation.md)", t->ops->kind);
    return t->ops->collateral(t, now, json);
}

int rt_tee_info(rt_tee *t, rt_tee_info_t *info)
{
    rt_tee_info_t tmp;
    t->err[0] = 0;
    memset(&tmp, 0, sizeof tmp);
    if (t->ops->info(t, &tmp) != 0)
        return -1;
    snprintf(tmp.kind, sizeof tmp.kind, "%s", t->ops->kind);
    *info = tmp;
    return 0;
}

/* ---- Ed25519 ------------------------------------------------------------ */

int rt_ed25519_public(const uint8_t seed[32], uint8_t pub[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    size_t n = 32;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == 32;
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

/* The signing key of the last seed, kept: making an Ed25519 key from its
 * seed computes the public key, which cost as much as the signature.  An
 * EVP_PKEY is safe to sign with from several threads at once; the lock
 * guards only which key is kept. */
static pthread_mutex_t sign_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_PKEY *sign_key;
static uint8_t sign_seed[32];

int rt_ed25519_sign(const uint8_t seed[32], const uint8_t *msg, size_t n, uint8_t sig[64])
{
    static const uint8_t empty[1];
    pthread_mutex_lock(&sign_lock);
    if (!sign_key || CRYPTO_memcmp(sign_seed, seed, 32)) {
        EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
        if (k) {
            EVP_PKEY_free(sign_key);
            sign_key = k;
            memcpy(sign_seed, seed, 32);
        }
    }
    EVP_PKEY *k = sign_key && !CRYPTO_memcmp(sign_seed, seed, 32) && EVP_PKEY_up_ref(sign_key) == 1 ? sign_key : NULL;
    pthread_mutex_unlock(&sign_lock);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t siglen = 64;
    int ok = k && md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestSign(md, sig, &siglen, msg ? msg : empty, n) == 1 && siglen == 64;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

int rt_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t n, const uint8_t sig[64])
{
    static const uint8_t empty[1];
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestVerify(md, sig, 64, msg ? msg : empty, n) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    return ok ? 1 : 0;
}

int rt_tee_ed25519(rt_tee *t, const char *path, uint8_t seed_out[32], uint8_t pub_out[32])
{
    uint8_t seed[32];
    if (rt_tee_derive(t, path, seed) != 0)
        return -1;
    if (rt_ed25519_public(seed, pub_out) != 0) {
        OPENSSL_cleanse(seed, sizeof seed);
        return rt_tee_fail(t, "ed25519: OpenSSL could not make a key from the derived seed");
    }
    if (seed_out)
        memcpy(seed_out, seed, 32);
    OPENSSL_cleanse(seed, sizeof seed);
    return 0;
}

/* ---- the chain key and the report data ---------------------------------- */

int rt_tee_secp256k1(rt_tee *t, const char *path, uint8_t seckey_out[32], uint8_t addr_out[20])
{
    uint8_t k[32];
    if (rt_tee_derive(t, path, k) != 0)
        return -1;
    int rc = rt_eth_address(k, addr_out);
    if (rc == RT_ETH_OK && seckey_out)
        memcpy(seckey_out, k, 32);
    OPENSSL_cleanse(k, sizeof k);
    return rc == RT_ETH_OK ? 0 : rt_tee_fail(t, "secp256k1 key for %s: %s", path, rt_eth_strerror(rc));
}

void rt_tee_report_data(const uint8_t ed25519_pub[32], const uint8_t chain_addr[20],
                        const char *nonce, size_t nonce_len, uint8_t out[64])
{
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, 32, ed25519_pub);
    if (chain_addr)
        sha256_update(&h, 20, chain_addr);
    sha256_digest(&h, 32, out);
    memset(out + 32, 0, 32);
    if (nonce_len) {
        sha256_init(&h);
        sha256_update(&h, nonce_len, (const uint8_t *)nonce);
        sha256_digest(&h, 32, out + 32);
    }
}

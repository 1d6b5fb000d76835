/*
 * rt_tee_sim.c - the "sim" TEE provider, for machines without TDX.
 *
 * Keys come from a 32-byte seed file by HKDF-SHA256.  Quotes are TDX
 * quotes v4 in the exact byte layout of real ones, certified by a chain of
 * the sim's own (rt_simca.h: a sim root derived from the seed, a PCK
 * certificate, a QE report, an attestation key), with an event log in
 * dstack's form whose RTMR3 runtime events (app-id, compose-hash,
 * instance-id, key-provider) replay to the quote's RTMR3.  So the same
 * verifier path runs on them as on real ones; but their root is not
 * Intel's, and a verifier accepts it only when told to (--allow-sim).  The
 * quote says what it is: its QE vendor id is "toyapp-sim" and every
 * certificate of its chain is named "toyapp SIM ...".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define RT_TEE_PROVIDER
#include "rt_compose.h"
#include "rt_evlog.h"
#include "rt_hex.h"
#include "rt_simca.h"
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

#include <json-c/json.h>

/* The KMS gate's: the app registry's ABI and the chain client. */
#include "rt_chain.h"
#include "rt_rpc.h"

typedef struct sim {
    uint8_t seed[RT_TEE_SEED_LEN];
    rt_simca *ca;        /* the sim platform: keys, certificates, quoting enclave */
    rt_chain_config kms; /* the app registry that gates keys (kms.on && has_app_registry) */
    int kms_allowed;     /* the registry allowed this compose hash */
} sim;

/* ---- small helpers ------------------------------------------------------ */

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

/* ---- provider operations ------------------------------------------------ */

static int sim_info(rt_tee *t, rt_tee_info_t *info);

/* The KMS gate: dstack's KMS releases an app's keys only when the app's
 * on-chain contract allows its compose hash (DstackApp.isAppAllowed); the
 * sim asks the app registry the same question, once, before the first key. */
static int kms_check(rt_tee *t, sim *s)
{
    uint8_t h[32], call[36], *ret = NULL;
    size_t rn = 0;
    char reg[RT_ETH_ADDR_STR], err[256];
    int allowed = 0;
    rt_tee_info_t info = { 0 };   /* the compose hash, as rt_tee_info reports it */
    if (sim_info(t, &info) != 0)
        return -1;
    const char *hx = info.compose_hash;
    rt_hex_decode(hx, 64, h, 32);
    rt_eth_address_str(s->kms.app_registry, reg);
    rt_rpc *c = rt_rpc_open(s->kms.rpc_url, s->kms.ca_file[0] ? s->kms.ca_file : NULL, err, sizeof err);
    if (!c)
        return rt_tee_fail(t, "sim KMS: %s", err);
    rt_chain_call_bytes32(RT_CHAIN_FN_ALLOWED, h, call);
    int rc = rt_rpc_eth_call(c, NULL, s->kms.app_registry, call, sizeof call, &ret, &rn);
    if (rc != 0)
        rt_tee_fail(t, "sim KMS: cannot ask the app registry %s whether compose hash %s is allowed: %s",
                    reg, hx, rt_rpc_error(c));
    else if (rt_chain_ret_bool(ret, rn, &allowed) != 0)
        rt_tee_fail(t, "sim KMS: %s at %s does not answer as an app registry (allowedComposeHashes)",
                    reg, s->kms.rpc_url);
    else if (!allowed)
        rt_tee_fail(t, "sim KMS: compose hash %s is not registered in the app registry %s on %s, so no "
                       "keys are released (as dstack's KMS refuses an unregistered compose hash). "
                       "Register the release with: toyctl register-compose %s --version VERSION "
                       "--rpc %s --registry %s --key-file OPERATOR_KEY_FILE (or run with CHAIN=off)",
                    hx, reg, s->kms.rpc_url, hx, s->kms.rpc_url, reg);
    free(ret);
    rt_rpc_close(c);
    if (rc != 0 || !allowed)
        return -1;
    s->kms_allowed = 1;
    return 0;
}

static int sim_derive(rt_tee *t, const char *path, uint8_t out[32])
{
    sim *s = t->impl;
    if (s->kms.on && s->kms.has_app_registry && !s->kms_allowed && kms_check(t, s) != 0)
        return -1;
    uint8_t info[RT_TEE_APP_ID_MAX + 1 + RT_TEE_PATH_MAX];
    size_t na = strlen(t->app_id), np = strlen(path);
    memcpy(info, t->app_id, na);
    info[na] = 0; /* separates app id from path: ("a","b/c") != ("a\0b","c") */
    memcpy(info + na + 1, path, np);
    if (rt_simca_hkdf(s->seed, info, na + 1 + np, out) != 0)
        return rt_tee_fail(t, "sim derive: HKDF failed (OpenSSL)");
    return 0;
}

static int sim_info(rt_tee *t, rt_tee_info_t *info);

/* Appends one RTMR3 runtime event to the JSON log and extends rtmr3. */
static int log_event(struct json_object *log, uint8_t rtmr3[48], const char *name, const uint8_t *p, size_t pn)
{
    uint8_t d[48], ext[96];
    char dhex[97], *phex = malloc(2 * pn + 1);
    if (!phex || rt_evlog_digest(RT_EVLOG_RUNTIME_EVENT, name, strlen(name), p, pn, d) != 0) {
        free(phex);
        return -1;
    }
    rt_hex_encode(d, 48, dhex);
    rt_hex_encode(p, pn, phex);
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "imr", json_object_new_int(3));
    json_object_object_add(e, "event_type", json_object_new_int64(RT_EVLOG_RUNTIME_EVENT));
    json_object_object_add(e, "digest", json_object_new_string(dhex));
    json_object_object_add(e, "event", json_object_new_string(name));
    json_object_object_add(e, "event_payload", json_object_new_string(phex));
    free(phex);
    json_object_array_add(log, e);
    memcpy(ext, rtmr3, 48);
    memcpy(ext + 48, d, 48);
    return digest(EVP_sha384(), ext, sizeof ext, NULL, 0, rtmr3);
}

/*
 * The quote: rt_simca_quote's layout (rt_simca.c), with report_data, RTMR0-2
 * zero (no boot is measured) and RTMR3 the replay of the event log, which
 * holds what dstack writes at boot: system-preparing, app-id (the app id's
 * bytes), compose-hash (SHA-256 of TOYAPP_COMPOSE_FILE, as rt_tee_info),
 * instance-id, boot-mr-done, key-provider {"name":"sim"}, system-ready.
 */
static int sim_quote(rt_tee *t, const uint8_t report_data[64], uint8_t **quote, size_t *quote_len,
                     char **event_log)
{
    sim *s = t->impl;
    rt_tee_info_t info;
    uint8_t compose[32], inst[RT_TEE_APP_ID_MAX];
    if (sim_info(t, &info) != 0)
        return -1;
    size_t inst_len = strlen(info.instance_id) / 2;
    rt_hex_decode(info.compose_hash, 64, compose, 32);
    rt_hex_decode(info.instance_id, 2 * inst_len, inst, inst_len);
    static const char key_provider[] = "{\"name\":\"sim\"}";
    rt_simca_td td = { .td_attributes = RT_SIMCA_TD_ATTRIBUTES };
    memcpy(td.report_data, report_data, 64);
    struct json_object *log = json_object_new_array();
    int ok = log && log_event(log, td.rtmr[3], "system-preparing", NULL, 0) == 0 &&
             log_event(log, td.rtmr[3], "app-id", (const uint8_t *)t->app_id, strlen(t->app_id)) == 0 &&
             log_event(log, td.rtmr[3], "compose-hash", compose, 32) == 0 &&
             log_event(log, td.rtmr[3], "instance-id", inst, inst_len) == 0 &&
             log_event(log, td.rtmr[3], "boot-mr-done", NULL, 0) == 0 &&
             log_event(log, td.rtmr[3], "key-provider", (const uint8_t *)key_provider, sizeof key_provider - 1) == 0 &&
             log_event(log, td.rtmr[3], "system-ready", NULL, 0) == 0;
    char *text = NULL;
    if (ok && event_log)
        ok = (text = strdup(json_object_to_json_string_ext(log, JSON_C_TO_STRING_PLAIN))) != NULL;
    json_object_put(log);
    if (!ok) {
        free(text);
        return rt_tee_fail(t, "sim quote: cannot build the event log (OpenSSL or memory)");
    }
    if (rt_simca_quote(s->ca, &td, quote, quote_len) != 0) {
        free(text);
        return rt_tee_fail(t, "sim quote: signing failed (OpenSSL or memory)");
    }
    if (event_log)
        *event_log = text;
    return 0;
}

static int sim_collateral(rt_tee *t, int64_t now, char **json)
{
    sim *s = t->impl;
    if (rt_simca_collateral(s->ca, now, NULL, json) != 0)
        return rt_tee_fail(t, "sim collateral: OpenSSL or memory failed");
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
    rt_simca_free(s->ca);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
    t->impl = NULL;
}

static const rt_tee_ops sim_ops = {
    .kind = "sim",
    .derive = sim_derive,
    .quote = sim_quote,
    .info = sim_info,
    .collateral = sim_collateral,
    .close = sim_close,
};

int rt_tee_sim_init(rt_tee *t, const char *seed_path)
{
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return rt_tee_fail(t, "sim: out of memory");
    t->impl = s;
    t->ops = &sim_ops;
    char kerr[256];
    if (rt_chain_config_env(&s->kms, kerr, sizeof kerr) != 0) {
        rt_tee_fail(t, "sim KMS: %s", kerr);
        sim_close(t);
        t->ops = NULL;
        return -1;
    }
    const char *err = NULL;
    if (seed_load(t, seed_path, s->seed) != 0 || !(s->ca = rt_simca_new(s->seed, &err))) {
        if (err)
            rt_tee_fail(t, "%s", err);
        sim_close(t);
        t->ops = NULL;
        return -1;
    }
    return 0;
}

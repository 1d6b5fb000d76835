/*
 * rt_tee.h - the TEE provider interface: key derivation, quotes and instance
 * information, behind one API with two providers.
 *
 *   "dstack"  the dstack guest agent (HTTP over the Unix socket
 *             /var/run/dstack.sock): GetKey, GetQuote, Info.  Keys come from
 *             the agent's KMS-backed app key; quotes are real Intel TDX quotes.
 *   "sim"     for machines without TDX: keys derived by HKDF from a 32-byte
 *             seed file, quotes in the exact TDX quote v4 layout, certified by
 *             a chain of the sim's own derived from the same seed (rt_simca.h:
 *             a sim root, a PCK certificate, a QE report, an attestation key),
 *             with a dstack-style event log, and collateral to verify them
 *             with.  It is never a real attestation: rt_tee_kind() says "sim",
 *             the quote's QE vendor id is "toyapp-sim", and its chain ends at
 *             "toyapp SIM Root CA (not Intel)", which verifiers accept only
 *             when told to (toyctl --allow-sim).
 *
 * Keys are derived by path ("toyapp/ed25519/v1", "toyapp/hmac/pseudonym/v1",
 * ...).  Two instances with the same app id (and, for sim, the same seed)
 * derive the same bytes for the same path, so a restarted or replicated
 * service keeps its identity.
 *
 * Conventions: functions returning int return 0 on success and -1 on error;
 * after an error rt_tee_error(t) describes it.  An rt_tee is not safe for
 * concurrent use from several threads (the error text lives in the object);
 * use one per thread or serialize calls.  Distinct rt_tee objects are
 * independent.  Secret outputs (derived keys, Ed25519 seeds) are the caller's
 * to wipe, e.g. with OPENSSL_cleanse().
 */
#ifndef RT_TEE_H
#define RT_TEE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default socket of the dstack guest agent (arg == NULL for "dstack"). */
#define RT_TEE_DSTACK_SOCKET "/var/run/dstack.sock"
/* Default seed file of the sim provider (arg == NULL for "sim"), relative to
 * the working directory: var/ is the service's untracked state directory. */
#define RT_TEE_SIM_SEED_DEFAULT "var/tee-sim.seed"
/* Size of the sim seed file, in bytes. */
#define RT_TEE_SEED_LEN 32
/* Default per-request time limit of the dstack provider, in milliseconds. */
#define RT_TEE_TIMEOUT_MS_DEFAULT 5000
/* Longest accepted app id and key path (bytes, excluding the NUL). */
#define RT_TEE_APP_ID_MAX 128
#define RT_TEE_PATH_MAX 256

/* Layout of a TDX quote v4 (Intel sgx_quote_4.h), as far as callers here
 * need it: header, TD report body, and where the ECDSA signature covers. */
#define RT_TEE_QUOTE_HEADER_LEN 48
#define RT_TEE_QUOTE_BODY_LEN 584
#define RT_TEE_QUOTE_REPORT_DATA_OFF 568 /* = 48 + 520 */
#define RT_TEE_QUOTE_SIGNED_LEN 632      /* = 48 + 584 */

typedef struct rt_tee rt_tee;

/* Instance information (rt_tee_info).  All strings are NUL-terminated. */
typedef struct rt_tee_info {
    char kind[8];                          /* "sim" or "dstack" */
    char app_id[RT_TEE_APP_ID_MAX + 1];    /* dstack: hex (20 bytes); sim: as given */
    char instance_id[RT_TEE_APP_ID_MAX + 1]; /* lowercase hex; may be empty for dstack */
    char compose_hash[65];                 /* lowercase hex of 32 bytes */
} rt_tee_info_t;

/*
 * Opens a provider.
 *   kind    "sim" or "dstack".
 *   arg     sim: path of the seed file (NULL: RT_TEE_SIM_SEED_DEFAULT).  If
 *           the file does not exist it is created with mode 0600 holding
 *           RT_TEE_SEED_LEN bytes from RAND_bytes (atomically: written to a
 *           temporary file, then linked into place, so that two processes
 *           starting together end up with the same seed).  An existing file
 *           must be a regular file (symlinks are not followed), must not be
 *           accessible to group or other (mode & 077 == 0) and must be exactly
 *           RT_TEE_SEED_LEN bytes long; otherwise it is refused.
 *           Like dstack's KMS, the sim gives keys only to a compose hash
 *           that the app registry allows, when one is configured: with
 *           CHAIN_APP_REGISTRY set and CHAIN not "off" (rt_chain_config_env),
 *           the first rt_tee_derive asks the registry at CHAIN_RPC_URL
 *           (allowedComposeHashes(compose hash)) and fails, naming the hash
 *           and how to register it, unless it is allowed.  Without a
 *           registry it releases keys as dstack's local key provider does.
 *           dstack: path of the agent's Unix socket (NULL:
 *           RT_TEE_DSTACK_SOCKET).  It must exist and be a socket; open does
 *           not talk to the agent, the first request does.
 *   app_id  the application id.  sim: required, 1..RT_TEE_APP_ID_MAX bytes;
 *           it is part of every derivation.  dstack: optional (may be NULL)
 *           and informational only: the agent derives keys for the app it
 *           runs, and rt_tee_info reports the agent's app id.
 *   err     if not NULL, receives a human-readable message on failure.  The
 *           text lives in a thread-local buffer that stays valid until the
 *           next rt_tee_open on the same thread; do not free it.
 * Returns a new provider (release with rt_tee_close), or NULL on failure.
 */
rt_tee *rt_tee_open(const char *kind, const char *arg, const char *app_id, const char **err);

/* Releases t and wipes the secrets it holds (the sim seed and attestation
 * key).  NULL is ignored. */
void rt_tee_close(rt_tee *t);

/* "sim" or "dstack": a static string, valid for the life of the program. */
const char *rt_tee_kind(const rt_tee *t);

/* Text describing the last error on t ("" if none).  Valid until the next
 * call on t; do not free it. */
const char *rt_tee_error(const rt_tee *t);

/* Sets the time limit of one dstack request (connect, send and the whole
 * response), in milliseconds, 1..600000.  No effect on sim.  Returns 0, or
 * -1 if ms is out of range. */
int rt_tee_set_timeout_ms(rt_tee *t, int ms);

/*
 * Derives 32 bytes of key material for path (1..RT_TEE_PATH_MAX bytes, no
 * NUL), e.g. "toyapp/ed25519/v1".
 *   sim:    HKDF-SHA256(ikm = seed, salt = "toyapp-sim-v1",
 *                       info = app_id || 0x00 || path).
 *   dstack: POST /GetKey {"path": path, "purpose": "toyapp"}; the response's
 *           "key" is the hex of a 32-byte secp256k1 private key derived by
 *           the agent from the app key and path, and those 32 bytes are the
 *           result.  The signature_chain is not checked here.
 * The same (app, path) always gives the same bytes.  out is written only on
 * success.  Returns 0 or -1.
 */
int rt_tee_derive(rt_tee *t, const char *path, uint8_t out[32]);

/*
 * Derives an Ed25519 key pair: the seed (RFC 8032 private key) is
 * rt_tee_derive(t, path), and pub_out is its public key.  seed_out may be
 * NULL if only the public key is wanted.  Returns 0 or -1.
 */
int rt_tee_ed25519(rt_tee *t, const char *path, uint8_t seed_out[32], uint8_t pub_out[32]);

/*
 * Signs msg[0..n) with the Ed25519 key whose RFC 8032 seed is seed (pure
 * Ed25519, no prehash, no context).  msg may be NULL when n == 0.  Writes the
 * 64-byte signature to sig.  Returns 0, or -1 if OpenSSL fails.
 */
int rt_ed25519_sign(const uint8_t seed[32], const uint8_t *msg, size_t n, uint8_t sig[64]);

/* Computes the Ed25519 public key of seed.  Returns 0 or -1. */
int rt_ed25519_public(const uint8_t seed[32], uint8_t pub[32]);

/*
 * Checks sig as an Ed25519 signature of msg[0..n) by pub.  Returns 1 if it is
 * valid, 0 if not (a malformed key or any internal failure also gives 0).
 */
int rt_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t n, const uint8_t sig[64]);

/* The key path of the enclave's chain key (secp256k1), which signs the
 * transactions that post deletion attestations. */
#define RT_TEE_PATH_CHAIN "toyapp/secp256k1/chain/v1"

/*
 * Derives a secp256k1 key pair for chain transactions: the secret key is
 * rt_tee_derive(t, path) (dstack's GetKey returns a secp256k1 secret key
 * already; the sim's HKDF output is one unless it is 0 or not below the
 * group order, a 2^-128 chance, which is reported as an error), addr_out
 * its Ethereum address (20 bytes).  seckey_out may be NULL.  Returns 0 or -1.
 */
int rt_tee_secp256k1(rt_tee *t, const char *path, uint8_t seckey_out[32], uint8_t addr_out[20]);

/*
 * The report_data of an attestation quote: what binds the enclave's public
 * keys and the auditor's nonce to the quote.
 *   [0:32)  = SHA-256(Ed25519 public key (32 bytes) || chain address (20 bytes)),
 *             or SHA-256(Ed25519 public key) when chain_addr is NULL (an
 *             instance without a chain key: CHAIN=off, or no chain at all)
 *   [32:64) = SHA-256(nonce[0..nonce_len)), or 32 zero bytes when nonce_len is 0
 * One implementation for the service (which asks for the quote) and toyctl
 * (which checks it); docs/auditing.md states it for everyone else.
 */
void rt_tee_report_data(const uint8_t ed25519_pub[32], const uint8_t chain_addr[20],
                        const char *nonce, size_t nonce_len, uint8_t out[64]);

/*
 * Produces a quote whose report_data is the given 64 bytes.
 *   dstack: POST /GetQuote {"report_data": hex}; the quote is the agent's
 *           TDX quote, event_log its JSON event log string as returned.  The
 *           reply is checked to bind report_data (the echoed "report_data"
 *           field if present and, for a v4 quote, the bytes at offset 568).
 *   sim:    a TDX quote v4 certified by the sim chain (rt_simca.c has every
 *           field); event_log is a dstack-style JSON log of the RTMR3
 *           runtime events system-preparing, app-id, compose-hash,
 *           instance-id, boot-mr-done, key-provider and system-ready (the
 *           values rt_tee_info gives), whose replay is the quote's RTMR3;
 *           RTMR0-2 are zero.
 * On success *quote (quote_len bytes) and *event_log (NUL-terminated) are
 * heap buffers the caller releases with free().  event_log may be NULL if
 * the caller does not want it.  On error the outputs are set to NULL / 0.
 * Returns 0 or -1.
 */
int rt_tee_quote(rt_tee *t, const uint8_t report_data[64], uint8_t **quote, size_t *quote_len,
                 char **event_log);

/*
 * The DCAP collateral for this provider's quotes, as JSON text in the form
 * @phala/dcap-qvl takes (rt_dcap.h), valid from now - 1 day to now + 30
 * days.  sim: its own (rt_simca_collateral).  dstack: -1, since the
 * collateral of a real quote comes from Intel's PCS or a PCCS, not from the
 * TEE.  *json is malloc'd.  Returns 0 or -1.
 */
int rt_tee_collateral(rt_tee *t, int64_t now, char **json);

/*
 * Fills *info.
 *   dstack: POST /Info {}; app_id, instance_id and compose_hash are the
 *           agent's (hex strings; compose_hash must be 32 bytes).
 *   sim:    app_id as given to rt_tee_open; instance_id = lowercase hex of
 *           the first 20 bytes of SHA-256(seed || "instance"); compose_hash =
 *           the compose hash (rt_compose_hash_file: SHA-256 of the bytes,
 *           as dstack computes it) of the file named by the environment
 *           variable TOYAPP_COMPOSE_FILE if it is set (an unreadable file
 *           is an error), else SHA-256 of the empty string.
 * *info is written only on success.  Returns 0 or -1.
 */
int rt_tee_info(rt_tee *t, rt_tee_info_t *info);

/* ------------------------------------------------------------------------
 * Provider interface.  Only rt_tee.c and the providers (rt_tee_sim.c,
 * rt_tee_dstack.c) define RT_TEE_PROVIDER; to everyone else rt_tee is
 * opaque.
 */
#ifdef RT_TEE_PROVIDER

typedef struct rt_tee_ops {
    const char *kind;
    int (*derive)(rt_tee *t, const char *path, uint8_t out[32]);
    int (*quote)(rt_tee *t, const uint8_t report_data[64], uint8_t **quote, size_t *quote_len,
                 char **event_log);
    int (*info)(rt_tee *t, rt_tee_info_t *info);
    int (*collateral)(rt_tee *t, int64_t now, char **json); /* NULL: none */
    void (*close)(rt_tee *t); /* frees provider state, not t itself */
} rt_tee_ops;

struct rt_tee {
    const rt_tee_ops *ops;
    void *impl; /* provider state */
    char app_id[RT_TEE_APP_ID_MAX + 1];
    int timeout_ms;
    char err[1024];
};

/* Records a printf-style error message on t; returns -1 for `return rt_tee_fail(...)`. */
int rt_tee_fail(rt_tee *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Provider constructors: fill t->ops and t->impl; return 0, or -1 with
 * t->err set.  t->app_id and t->timeout_ms are set before the call. */
int rt_tee_sim_init(rt_tee *t, const char *seed_path);
int rt_tee_dstack_init(rt_tee *t, const char *socket_path);

#endif /* RT_TEE_PROVIDER */

#ifdef __cplusplus
}
#endif

#endif /* RT_TEE_H */

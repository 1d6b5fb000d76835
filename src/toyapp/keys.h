/*
 * keys.h — the keys this instance derives from its TEE provider, and
 * signing with them.  Instances of one app id derive the same keys.
 */
#ifndef TOYAPP_KEYS_H
#define TOYAPP_KEYS_H

#include <stdint.h>

#include "rt_ser.h"

struct rt_tee;

/* The keys beyond the signing key, which the metadata code derives and
 * binds (g_app.meta: meta.h, path "toyapp/ed25519/signing/v1"). */
#define KEYS_SIGNING_PATH "toyapp/ed25519/signing/v1"

typedef struct keys {
    uint8_t pseudonym[32];                /* HMAC key for pseudonymous fields */
    uint8_t idem_mac[32];                 /* HMAC key of idempotent requests' fingerprints */
    uint8_t idem_seal[32];                /* AES-256-GCM key of their stored answers */
    int has_chain;                        /* the chain key below was derived (CHAIN on) */
    uint8_t chain_seckey[32];             /* secp256k1: signs the poster's transactions */
    uint8_t chain_addr[20];               /* its Ethereum address, the records' sender */
} keys;

/* Derives k from the provider t, the chain key too when chain is set.
 * Returns 0, or -1 (rt_tee_error(t) says why). */
int keys_load(struct rt_tee *t, int chain, keys *k);

/* Signs the canonical JSON of rec/obj without its signature field with the
 * enclave's Ed25519 key (g_app.meta).  Returns 0, or -1. */
int sign_record(const rt_record *rec, const void *obj, uint8_t sig[64]);

#endif

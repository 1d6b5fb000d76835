/*
 * meta.h — what every CVM answers on its attestation metadata port
 * (spec/endpoints/attestation.spec): GET /info, /compose-hash and
 * /attestation?nonce=, from its TEE provider and the keys it binds.
 *
 * toyapp serves them on its metadata port (src/toyapp/h_meta.c) and
 * toy-attestd, the Postgres CVMs' sidecar, on its own (src/toy-attestd):
 * the configuration, the provider, the key, the report_data binding and
 * every answer are this code, in both.  What differs is the key's path
 * (toyapp's signing key; the sidecar's identity key, which signs nothing)
 * and whether a chain address is bound (toyapp with the chain on).
 */
#ifndef TOY_META_H
#define TOY_META_H

#include <stddef.h>
#include <stdint.h>

#include "rt_eth.h"
#include "toy_spec.h"

struct rt_tee;

/* What the metadata port needs from the environment. */
typedef struct meta_config {
    const char *host;            /* HOST, default 127.0.0.1: the address to listen on */
    int port;                    /* METADATA_PORT, default 8090 */
    const char *provider;        /* TEE_PROVIDER: sim (default) or dstack */
    const char *provider_arg;    /* TEE_SIM_SEED (sim) or DSTACK_SOCKET (dstack) */
    const char *app_id;          /* APP_ID, default toyapp */
    const char *cvm_id;          /* CVM_ID, default the host name */
    const char *role;            /* TOYAPP_ROLE: app, pg-primary or pg-replica */
} meta_config;

/* The value of environment variable name, or dflt when it is unset or empty. */
const char *meta_env(const char *name, const char *dflt);
/* An integer variable in [lo, hi] (dflt when unset or empty); *bad names
 * the first variable that is not (left alone when it is already set). */
int meta_env_int(const char *name, int dflt, int lo, int hi, const char **bad);

/* Fills c from the environment, TOYAPP_ROLE defaulting to role_default.
 * Returns 0, or -1 with the variable at fault in err. */
int meta_config_env(meta_config *c, const char *role_default, char *err, size_t errlen);

typedef struct meta {
    struct rt_tee *tee;
    const meta_config *cfg;      /* borrowed: lives as long as the meta */
    uint8_t seed[32], pub[32];   /* the Ed25519 key /info names and report_data binds */
    char provider[8];            /* "sim" or "dstack" */
    char instance_id[129];
    char compose_hash[65];
    int has_chain;               /* a chain address is bound (meta_bind_chain) */
    uint8_t chain_addr[RT_ETH_ADDR_LEN];
    char enclave[RT_ETH_ADDR_STR];   /* its EIP-55 text */
} meta;

/* Opens the provider of c, derives the Ed25519 key at key_path and reads
 * the instance's identity (provider, instance id, compose hash).  Returns
 * 0, or -1 with the reason in err (the provider's: a sim KMS refusing an
 * unregistered compose hash, a guest agent that does not answer, ...). */
int meta_open(meta *m, const meta_config *c, const char *key_path, char *err, size_t errlen);

/* The instance's chain address: bound in report_data and named in
 * /attestation from now on. */
void meta_bind_chain(meta *m, const uint8_t addr[RT_ETH_ADDR_LEN]);

/* Wipes the key and closes the provider. */
void meta_close(meta *m);

/* GET /info: every field, the chain null (toyapp fills it when on). */
void meta_info(const meta *m, toy_resp_info *r);

/* GET /compose-hash. */
void meta_compose_hash(const meta *m, toy_resp_compose_hash *r);

/* GET /attestation: a quote over rt_tee_report_data(key, chain address,
 * nonce), and the document that carries it. */
typedef struct meta_attestation {
    toy_resp_attestation r;      /* points into the fields below */
    uint8_t report_data[64];
    uint8_t *quote;              /* malloc'd */
    char *event_log;             /* malloc'd, or NULL */
} meta_attestation;

/* nonce: nonce_len bytes, or NULL.  Returns 0, or -1 (rt_tee_error(m->tee)
 * says why); free a with meta_attestation_free either way.  With the
 * dstack provider this is a call to the guest agent: it blocks. */
int meta_attest(const meta *m, const char *nonce, size_t nonce_len, meta_attestation *a);
void meta_attestation_free(meta_attestation *a);

#endif

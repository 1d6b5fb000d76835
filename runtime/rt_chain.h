/*
 * rt_chain.h — toyapp's two contracts as bytes: the calls to the deletion
 * registry and the app registry (deploy/contracts/) in Solidity's ABI
 * encoding, the decoding of their events and return values, and the
 * correspondence between a signed deletion attestation (the canonical JSON
 * of spec record deletion_attestation) and its on-chain form.
 *
 * Pure: no I/O (rt_rpc carries the bytes), no allocation except where a
 * function says so.  Selectors and topics are keccak256 of the signatures
 * below, computed, never copied; test_chain checks them against solc's.
 *
 * On chain, an attestation is (receiptIdHash, userIdHash, deletedAt,
 * composeHash, publicKey, signature):
 *   receiptIdHash  SHA-256 of the receipt id's UTF-8 bytes (the event's
 *                  indexed topic: eth_getLogs finds a receipt's record by it)
 *   userIdHash     the record's userIdHash (32 bytes)
 *   deletedAt      the record's deletionTimestamp, "YYYY-MM-DDTHH:MM:SS.mmmZ"
 *                  as milliseconds since the Unix epoch (uint64)
 *   composeHash    the record's composeHash, 64 lowercase hex digits, as bytes32
 *   publicKey      the record's publicKey (Ed25519, 32 bytes)
 *   signature      the record's signature (Ed25519, 64 bytes: bytes32[2])
 * Each converts back to exactly the record's text, so a verifier rebuilds
 * the signed bytes from the event alone.
 */
#ifndef RT_CHAIN_H
#define RT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "rt_eth.h"
#include "rt_ser.h"

/* The signatures the selectors and topics are hashed from. */
#define RT_CHAIN_FN_RECORD "record((bytes32,bytes32,uint64,bytes32,bytes32,bytes32[2])[])"
#define RT_CHAIN_FN_RECORDED_IN "recordedIn(bytes32)"
#define RT_CHAIN_FN_ENCLAVE "enclave()"
#define RT_CHAIN_FN_OWNER "owner()"
#define RT_CHAIN_FN_SET_ENCLAVE "setEnclave(address)"
#define RT_CHAIN_FN_ADD_COMPOSE "addComposeHash(bytes32,string)"
#define RT_CHAIN_FN_REMOVE_COMPOSE "removeComposeHash(bytes32)"
#define RT_CHAIN_FN_ALLOWED "allowedComposeHashes(bytes32)"
#define RT_CHAIN_FN_VERSION "composeVersion(bytes32)"
#define RT_CHAIN_EV_RECORDED "DeletionRecorded(bytes32,bytes32,uint64,bytes32,bytes32,bytes32[2])"
#define RT_CHAIN_EV_ADDED "ComposeHashAdded(bytes32,string)"
#define RT_CHAIN_EV_REMOVED "ComposeHashRemoved(bytes32,string)"

#define RT_CHAIN_VERSION_MAX 64      /* bytes of a release version (AppRegistry) */
#define RT_CHAIN_RECORD_BYTES 224    /* calldata of one attestation in record() */

typedef struct rt_chain_attestation {
    uint8_t receipt_id_hash[32];
    uint8_t user_id_hash[32];
    uint64_t deleted_at;             /* ms since the epoch */
    uint8_t compose_hash[32];
    uint8_t public_key[32];
    uint8_t signature[64];
} rt_chain_attestation;

/* keccak256(sig): a 32-byte event topic, or (first 4 bytes) a selector. */
void rt_chain_hash_sig(const char *sig, uint8_t out[32]);

/* ---- calldata -------------------------------------------------------------- */

/* Bytes of record()'s calldata for n attestations: 4 + 64 + 224 n. */
size_t rt_chain_record_len(size_t n);

/* record(a[0..n)) into out (rt_chain_record_len(n) bytes). */
void rt_chain_record_calldata(const rt_chain_attestation *a, size_t n, uint8_t *out);

/* A call with one 32-byte argument (recordedIn, allowedComposeHashes,
 * composeVersion, removeComposeHash): out has 36 bytes. */
void rt_chain_call_bytes32(const char *fn, const uint8_t arg[32], uint8_t out[36]);

/* A call without arguments (enclave, owner): out has 4 bytes. */
void rt_chain_call_noarg(const char *fn, uint8_t out[4]);

/* setEnclave(addr): out has 36 bytes. */
void rt_chain_call_set_enclave(const uint8_t addr[RT_ETH_ADDR_LEN], uint8_t out[36]);

/* addComposeHash(hash, version): version is 1..RT_CHAIN_VERSION_MAX bytes
 * (else -1).  out has room for 4 + 4*32 bytes; *len gets the length. */
int rt_chain_call_add_compose(const uint8_t hash[32], const char *version, uint8_t out[132],
                              size_t *len);

/* ---- return values and events ---------------------------------------------- */

/* A uint256 return value that fits 64 bits (recordedIn): 0, or -1. */
int rt_chain_ret_u64(const uint8_t *ret, size_t n, uint64_t *v);

/* A bool return value (allowedComposeHashes): 0 with *b 0 or 1, or -1. */
int rt_chain_ret_bool(const uint8_t *ret, size_t n, int *b);

/* An address return value (enclave, owner): 0, or -1. */
int rt_chain_ret_address(const uint8_t *ret, size_t n, uint8_t addr[RT_ETH_ADDR_LEN]);

/* A string return value (composeVersion) of at most RT_CHAIN_VERSION_MAX
 * bytes into out (NUL-terminated): 0, or -1. */
int rt_chain_ret_string(const uint8_t *ret, size_t n, char out[RT_CHAIN_VERSION_MAX + 1]);

/* Decodes a DeletionRecorded event (its topics and data).  Returns 0, or -1
 * if topic0 is not the event's, there is no topic1, or the data is not
 * exactly the six words with a deletedAt that fits 64 bits. */
int rt_chain_decode_recorded(const uint8_t (*topics)[32], int ntopics, const uint8_t *data,
                             size_t n, rt_chain_attestation *a);

/* Decodes a ComposeHashAdded (*added = 1) or ComposeHashRemoved (0) event.
 * version gets the version string (NUL-terminated, printable ASCII, at
 * most RT_CHAIN_VERSION_MAX bytes).  Returns 0, or -1. */
int rt_chain_decode_compose(const uint8_t (*topics)[32], int ntopics, const uint8_t *data,
                            size_t n, int *added, uint8_t hash[32],
                            char version[RT_CHAIN_VERSION_MAX + 1]);

/* Describes revert data as the contracts' errors read: "NotEnclave(0x...)",
 * "Error(\"...\")", or the hex of unknown data ("" if none), into
 * out[0..cap).  Returns out. */
const char *rt_chain_revert_text(const uint8_t *data, size_t n, char *out, size_t cap);

/* ---- the attestation's two forms ------------------------------------------- */

/* deletionTimestamp text <-> milliseconds.  parse takes exactly
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (rt_ser_now's form, years 1970..9999) and
 * returns 0 or -1; format writes that form (24 bytes and a NUL) and
 * returns 24. */
int rt_chain_time_parse(const char *s, size_t n, uint64_t *ms);
size_t rt_chain_time_format(uint64_t ms, char out[32]);

/* SHA-256 of the receipt id's bytes: the on-chain key of its record. */
void rt_chain_receipt_hash(const char *receipt_id, size_t n, uint8_t out[32]);

/*
 * The on-chain form of a signed attestation: json[0..n) must be the
 * canonical JSON of a record rec (the generated table of spec record
 * deletion_attestation) with every field the chain carries, no other
 * field except a "receiptId" equal to receipt_id, exactly the bytes that
 * rt_chain_attestation_json rebuilds from the result, and a valid Ed25519
 * signature by its publicKey.  Returns 0, or -1 with the reason in err.
 */
int rt_chain_attestation_parse(const rt_record *rec, const char *json, size_t n,
                               const char *receipt_id, rt_chain_attestation *a, char *err,
                               size_t errlen);

/*
 * The canonical JSON of record rec rebuilt from a (and receipt_id, for a
 * record with a "receiptId" field): with flags RT_SER_UNSIGNED, the bytes
 * its signature covers.  Returns a malloc'd buffer (*len bytes) or NULL
 * with the reason in err (a field the chain does not carry).
 */
char *rt_chain_attestation_json(const rt_record *rec, const rt_chain_attestation *a,
                                const char *receipt_id, unsigned flags, size_t *len, char *err,
                                size_t errlen);

/* ---- configuration ----------------------------------------------------------- */

#define RT_CHAIN_RPC_URL_DEFAULT "http://127.0.0.1:8545"
#define RT_CHAIN_BATCH_MAX 100       /* attestations per transaction, default and bound */

/* Where the chain is, as the environment says (README, "The chain").  The
 * same variables configure toyapp, the sim provider's key gate and the
 * scripts. */
typedef struct rt_chain_config {
    int on;                           /* 0: CHAIN=off, no chain at all */
    char rpc_url[512];                /* CHAIN_RPC_URL (default RT_CHAIN_RPC_URL_DEFAULT) */
    char ca_file[512];                /* CHAIN_RPC_CA_FILE: CAs for https ("" = the system's) */
    uint64_t chain_id;                /* CHAIN_ID: the chain the node must serve (0: any) */
    int has_deletion_registry, has_app_registry;
    uint8_t deletion_registry[RT_ETH_ADDR_LEN];   /* CHAIN_DELETION_REGISTRY */
    uint8_t app_registry[RT_ETH_ADDR_LEN];        /* CHAIN_APP_REGISTRY */
    uint64_t confirmations;           /* CHAIN_CONFIRMATIONS: blocks on top of a record (default 0) */
    unsigned batch_max;               /* CHAIN_BATCH_MAX: 1..RT_CHAIN_BATCH_MAX (default the bound) */
    uint64_t gas_per_record;          /* CHAIN_GAS_PER_RECORD: a fixed gas limit per attestation
                                         instead of eth_estimateGas (0, the default: estimate) */
} rt_chain_config;

/* Reads the configuration from the environment: CHAIN ("on", the default,
 * or "off"), CHAIN_RPC_URL, CHAIN_RPC_CA_FILE, CHAIN_ID,
 * CHAIN_DELETION_REGISTRY, CHAIN_APP_REGISTRY, CHAIN_CONFIRMATIONS,
 * CHAIN_BATCH_MAX, CHAIN_GAS_PER_RECORD.  Unset or empty variables take their defaults; a value
 * that is not valid (an address without its EIP-55 checksum, a number out
 * of range) is an error.  Returns 0, or -1 with the reason in err. */
int rt_chain_config_env(rt_chain_config *c, char *err, size_t errlen);

#endif

/*
 * rt_eth.h — Ethereum accounts and EIP-1559 transactions: secp256k1 keys
 * and their addresses (EIP-55 text form), the type-2 transaction's
 * encoding, its signature (libsecp256k1, recoverable, low s) and the
 * recovery of its sender.
 *
 * A transaction here has no access list and a value of at most 2^256-1 wei
 * given as 32 big-endian bytes; every other quantity fits 64 bits.
 *   signing payload  0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
 *                    maxFeePerGas, gasLimit, to, value, data, accessList])
 *   signed form      0x02 || rlp([... the same nine ..., yParity, r, s])
 *   transaction hash keccak256(signed form)
 * (EIP-1559 and EIP-2718.)  `to` is the empty string for a contract
 * creation.  Secret keys are the caller's to wipe.
 */
#ifndef RT_ETH_H
#define RT_ETH_H

#include <stddef.h>
#include <stdint.h>

#define RT_ETH_ADDR_LEN 20
#define RT_ETH_ADDR_STR 43        /* "0x" + 40 hex digits + NUL */
#define RT_ETH_TX_OVERHEAD 256    /* bytes a signed transaction needs besides its data */

enum rt_eth_err {
    RT_ETH_OK = 0,
    RT_ETH_E_KEY,       /* not a valid secp256k1 secret key (0 or >= the group order) */
    RT_ETH_E_SPACE,     /* output buffer too small */
    RT_ETH_E_SIGN,      /* libsecp256k1 could not sign, or no randomness */
    RT_ETH_E_SIG,       /* malformed signature: r or s zero or out of range, s high, bad parity */
    RT_ETH_E_RECOVER    /* no public key recovers from this signature */
};

typedef struct rt_eth_tx {
    uint64_t chain_id, nonce;
    uint64_t max_priority_fee, max_fee;  /* wei per gas */
    uint64_t gas_limit;
    int has_to;                          /* 0: contract creation */
    uint8_t to[RT_ETH_ADDR_LEN];
    uint8_t value[32];                   /* wei, big endian */
    const uint8_t *data;                 /* may be NULL when data_len is 0 */
    size_t data_len;
} rt_eth_tx;

typedef struct rt_eth_sig {
    uint8_t r[32], s[32];                /* big endian */
    int y_parity;                        /* 0 or 1: the recovery id */
} rt_eth_sig;

/* Text of an error code (static). */
const char *rt_eth_strerror(int err);

/* A 256-bit big-endian number (an ABI word, a quantity) that fits 64 bits:
 * returns 0 with its value in *v, or -1 if it does not fit. */
int rt_eth_u256_u64(const uint8_t be[32], uint64_t *v);

/* 1 if seckey is a valid secp256k1 secret key (1 <= k < n), else 0. */
int rt_eth_seckey_valid(const uint8_t seckey[32]);

/* The address of seckey: the last 20 bytes of keccak256 of its public key
 * (x || y, 64 bytes).  Returns RT_ETH_OK or RT_ETH_E_KEY. */
int rt_eth_address(const uint8_t seckey[32], uint8_t addr[RT_ETH_ADDR_LEN]);

/* The EIP-55 mixed-case checksummed text of addr: "0x" and 40 hex digits. */
void rt_eth_address_str(const uint8_t addr[RT_ETH_ADDR_LEN], char out[RT_ETH_ADDR_STR]);

/* Parses "0x" + 40 hex digits from s[0..n).  All lowercase or all
 * uppercase digits are accepted as they are; mixed case must be the
 * EIP-55 checksum (so a mistyped address is caught).  Returns 0, or -1. */
int rt_eth_address_parse(const char *s, size_t n, uint8_t addr[RT_ETH_ADDR_LEN]);

/* Encodes tx: with sig == NULL the signing payload, else the signed
 * transaction.  Writes at most tx->data_len + RT_ETH_TX_OVERHEAD bytes.
 * Returns RT_ETH_OK with the length in *len, or RT_ETH_E_SPACE. */
int rt_eth_tx_encode(const rt_eth_tx *tx, const rt_eth_sig *sig, uint8_t *out, size_t cap,
                     size_t *len);

/*
 * Signs tx with seckey: the signature is over keccak256 of the signing
 * payload, deterministic (RFC 6979) and with s in the lower half of the
 * order, as Ethereum requires.  Writes the signed transaction to out
 * (cap >= tx->data_len + RT_ETH_TX_OVERHEAD suffices), its length to *len
 * and its hash to hash (may be NULL); sig_out (may be NULL) gets the
 * signature.  Returns RT_ETH_OK or an error code.
 */
int rt_eth_tx_sign(const rt_eth_tx *tx, const uint8_t seckey[32], uint8_t *out, size_t cap,
                   size_t *len, uint8_t hash[32], rt_eth_sig *sig_out);

/*
 * The address that signed digest with sig.  The signature must be one
 * Ethereum accepts: 0 < r, s < n, s <= n/2 (EIP-2), y_parity 0 or 1.
 * Returns RT_ETH_OK, RT_ETH_E_SIG or RT_ETH_E_RECOVER.
 */
int rt_eth_recover(const uint8_t digest[32], const rt_eth_sig *sig, uint8_t addr[RT_ETH_ADDR_LEN]);

/* The sender of tx signed with sig (rt_eth_recover over its signing
 * payload's hash).  Returns as rt_eth_recover, or RT_ETH_E_SPACE when the
 * payload does not fit in memory. */
int rt_eth_tx_sender(const rt_eth_tx *tx, const rt_eth_sig *sig, uint8_t addr[RT_ETH_ADDR_LEN]);

#endif

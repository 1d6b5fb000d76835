/*
 * rt_keccak.h — Keccak-256, the hash of Ethereum (transaction hashes,
 * addresses, function selectors, event topics, storage keys).
 *
 * It is the original Keccak submission with a 1088-bit rate and padding
 * 0x01 ... 0x80, not NIST SHA3-256 (padding 0x06 ... 0x80): the two give
 * different digests for the same input.  The permutation is nettle's
 * Keccak-f[1600] (sha3_permute); only the sponge is here.  The context is a
 * plain struct with no heap, so a caller may wipe it.
 */
#ifndef RT_KECCAK_H
#define RT_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha3.h>

#define RT_KECCAK_RATE 136 /* bytes absorbed per permutation (1088 bits) */

typedef struct rt_keccak {
    struct sha3_state st;
    unsigned pos;        /* bytes absorbed into the current block */
} rt_keccak;

/* Starts a digest. */
void rt_keccak_init(rt_keccak *k);

/* Absorbs p[0..n); p may be NULL when n is 0.  Any number of calls. */
void rt_keccak_update(rt_keccak *k, const void *p, size_t n);

/* Writes the 32-byte digest to out and resets k for a new digest. */
void rt_keccak_final(rt_keccak *k, uint8_t out[32]);

/* Keccak-256 of p[0..n) in one call. */
void rt_keccak256(const void *p, size_t n, uint8_t out[32]);

#endif

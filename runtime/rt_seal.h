/*
 * rt_seal.h — authenticated encryption of small records at rest
 * (AES-256-GCM, OpenSSL), for what the service must keep for a while but
 * must not keep in the clear: the answer of an idempotent write, which may
 * hold a receipt's salt and deletion token.
 *
 * A sealed record is nonce (12 random bytes) || ciphertext || tag (16
 * bytes): RT_SEAL_OVERHEAD bytes longer than the plaintext.  The additional
 * data (ad) is authenticated, not stored: opening needs the same ad, so a
 * record moved to another row (another key) does not open.
 */
#ifndef RT_SEAL_H
#define RT_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define RT_SEAL_NONCE 12
#define RT_SEAL_TAG 16
#define RT_SEAL_OVERHEAD (RT_SEAL_NONCE + RT_SEAL_TAG)

/* Seals pt[0..n) with key into out, which has room for n +
 * RT_SEAL_OVERHEAD bytes.  Returns 0, or -1 (no randomness, OpenSSL
 * failure). */
int rt_seal(const uint8_t key[32], const void *ad, size_t adn, const void *pt, size_t n, uint8_t *out)
    __attribute__((warn_unused_result));

/* Opens a sealed record in[0..n) into out (room for n - RT_SEAL_OVERHEAD
 * bytes).  Returns the plaintext's length, or -1 if the record is too
 * short, was altered, or was sealed with another key or ad. */
long rt_seal_open(const uint8_t key[32], const void *ad, size_t adn, const uint8_t *in, size_t n, void *out)
    __attribute__((warn_unused_result));

#endif

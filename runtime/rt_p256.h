/*
 * rt_p256.h - ECDSA over P-256 with SHA-256 in the raw form Intel's quotes
 * and collateral use: signatures as r || s (32 bytes each, big-endian),
 * public keys as x || y.  One implementation for the DCAP verifier, the sim
 * provider and the sim certification authority, on OpenSSL.
 */
#ifndef RT_P256_H
#define RT_P256_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Verifies sig (r || s) over msg[0..n) with key (any EVP_PKEY; only an EC
 * P-256 key can succeed).  Returns 1 if valid, 0 otherwise (a malformed
 * signature, r or s of zero or above the order, or an OpenSSL failure).
 */
int rt_p256_verify(EVP_PKEY *key, const uint8_t *msg, size_t n, const uint8_t sig[64]);

/*
 * The same with the public key given as x || y.  A point that is not on the
 * curve gives 0.
 */
int rt_p256_verify_xy(const uint8_t xy[64], const uint8_t *msg, size_t n, const uint8_t sig[64]);

/*
 * The EVP_PKEY for the public point x || y, or NULL if it is not on the
 * curve.  The caller frees it with EVP_PKEY_free.
 */
EVP_PKEY *rt_p256_public(const uint8_t xy[64]);

/*
 * Signs msg[0..n) with key (a P-256 private key), writing r || s to sig.
 * Returns 0, or -1 if OpenSSL fails.
 */
int rt_p256_sign(EVP_PKEY *key, const uint8_t *msg, size_t n, uint8_t sig[64])
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

/*
 * The P-256 key pair whose private scalar is the big-endian d[0..32), or
 * NULL if d is 0 or not below the group order.  xy_out (may be NULL)
 * receives the public key x || y.  The caller frees the key.
 */
EVP_PKEY *rt_p256_from_scalar(const uint8_t d[32], uint8_t xy_out[64]);

/*
 * The DER encoding (ECDSA-Sig-Value) of the raw signature r || s into
 * der[0..72); returns its length, or 0 on failure.
 */
size_t rt_p256_sig_der(const uint8_t sig[64], uint8_t der[72]);

#ifdef __cplusplus
}
#endif

#endif /* RT_P256_H */

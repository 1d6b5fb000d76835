/* rt_seal.c — AES-256-GCM records (see rt_seal.h). */
#include "rt_seal.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "rt_rand.h"

/* The encrypting context keeps its cipher and key schedule from one record
 * to the next: a record with the same key only sets a new nonce.  Setting
 * up AES-GCM anew (fetching the cipher, expanding the key) cost more than
 * sealing a 400-byte record.  One context, for every thread, under a lock. */
static pthread_mutex_t enc_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_CIPHER_CTX *enc;
static uint8_t enc_key[32];

int rt_seal(const uint8_t key[32], const void *ad, size_t adn, const void *pt, size_t n, uint8_t *out)
{
    if (n > INT_MAX || adn > INT_MAX || rt_rand(out, RT_SEAL_NONCE))
        return -1;
    pthread_mutex_lock(&enc_lock);
    int len, same = enc && !memcmp(enc_key, key, 32);
    if (!same && !enc)
        enc = EVP_CIPHER_CTX_new();
    int ok = enc
             && (same ? EVP_EncryptInit_ex(enc, NULL, NULL, NULL, out) == 1
                      : EVP_EncryptInit_ex(enc, EVP_aes_256_gcm(), NULL, key, out) == 1)
             && (adn == 0 || EVP_EncryptUpdate(enc, NULL, &len, ad, (int)adn) == 1)
             && EVP_EncryptUpdate(enc, out + RT_SEAL_NONCE, &len, pt, (int)n) == 1
             && EVP_EncryptFinal_ex(enc, out + RT_SEAL_NONCE + len, &len) == 1
             && EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, RT_SEAL_TAG, out + RT_SEAL_NONCE + n) == 1;
    if (ok) {
        memcpy(enc_key, key, 32);
    } else {   /* a context in an unknown state is not kept */
        EVP_CIPHER_CTX_free(enc);
        enc = NULL;
    }
    pthread_mutex_unlock(&enc_lock);
    return ok ? 0 : -1;
}

long rt_seal_open(const uint8_t key[32], const void *ad, size_t adn, const uint8_t *in, size_t n, void *out)
{
    if (n < RT_SEAL_OVERHEAD || n - RT_SEAL_OVERHEAD > INT_MAX || adn > INT_MAX)
        return -1;
    size_t m = n - RT_SEAL_OVERHEAD;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len, ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in) == 1
                  && (adn == 0 || EVP_DecryptUpdate(c, NULL, &len, ad, (int)adn) == 1)
                  && EVP_DecryptUpdate(c, out, &len, in + RT_SEAL_NONCE, (int)m) == 1
                  && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, RT_SEAL_TAG, (void *)(in + RT_SEAL_NONCE + m)) == 1
                  && EVP_DecryptFinal_ex(c, (uint8_t *)out + len, &len) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? (long)m : -1;
}

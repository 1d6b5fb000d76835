/* rt_rand.c — buffered random bytes (see rt_rand.h). */
#include "rt_rand.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define POOL 4096

static _Thread_local unsigned char pool[POOL];
static _Thread_local size_t left;   /* pool[POOL - left .. POOL) not yet given out */
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* In a child of fork(), the one thread is the copy of the forking one: its
 * buffer is the parent's, and is dropped. */
static void child(void)
{
    OPENSSL_cleanse(pool, sizeof pool);
    left = 0;
}

static void init(void)
{
    pthread_atfork(NULL, NULL, child);
}

int rt_rand(void *out, size_t n)
{
    pthread_once(&once, init);
    if (n > POOL / 4)   /* a large draw goes straight to OpenSSL */
        return n <= INT_MAX && RAND_bytes(out, (int)n) == 1 ? 0 : -1;
    if (n > left) {
        if (RAND_bytes(pool, POOL) != 1)
            return -1;
        left = POOL;
    }
    unsigned char *p = pool + POOL - left;
    memcpy(out, p, n);
    OPENSSL_cleanse(p, n);
    left -= n;
    return 0;
}

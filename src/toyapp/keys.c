/* keys.c — keys from the TEE provider, and signing (keys.h). */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "keys.h"
#include "rt_tee.h"

int keys_load(rt_tee *t, int chain, keys *k)
{
    if (rt_tee_derive(t, "toyapp/hmac/pseudonym/v1", k->pseudonym)
        || rt_tee_derive(t, "toyapp/hmac/idempotency/v1", k->idem_mac)
        || rt_tee_derive(t, "toyapp/aes-gcm/idempotency/v1", k->idem_seal)
        || (chain && rt_tee_secp256k1(t, RT_TEE_PATH_CHAIN, k->chain_seckey, k->chain_addr)))
        return -1;
    k->has_chain = chain;
    return 0;
}

int sign_record(const rt_record *rec, const void *obj, uint8_t sig[64])
{
    size_t n;
    char *msg = ser_alloc(rec, obj, RT_SER_UNSIGNED, &n);
    if (!msg)
        return -1;
    int rc = rt_ed25519_sign(g_app.meta.seed, (const uint8_t *)msg, n, sig);
    free(msg);
    return rc;
}

/* rt_txsend.c — fees, gas, signing, sending and waiting; see rt_txsend.h. */
#include "rt_txsend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "rt_chain.h"

int rt_txsend_fees(rt_rpc *c, uint64_t *max_priority_fee, uint64_t *max_fee)
{
    rt_rpc_block b;
    uint64_t prio, price;
    int rc = rt_rpc_get_block(c, "latest", 0, &b);
    if (rc != 0)
        return rc;
    rc = rt_rpc_max_priority_fee(c, &prio);
    if (rc == RT_RPC_E_RPC || (rc == 0 && !b.has_base_fee)) {
        /* No such method, or a chain without a base fee: from the gas price. */
        if ((rc = rt_rpc_gas_price(c, &price)) != 0)
            return rc;
        prio = b.has_base_fee && price > b.base_fee ? price - b.base_fee : b.has_base_fee ? 0 : price;
    } else if (rc != 0) {
        return rc;
    }
    uint64_t base = b.has_base_fee ? b.base_fee : 0;
    *max_priority_fee = prio;
    *max_fee = 2 * base + prio;
    return 0;
}

int rt_txsend_gas(rt_rpc *c, const uint8_t from[RT_ETH_ADDR_LEN], const uint8_t *to,
                  const uint8_t *data, size_t n, uint64_t *gas)
{
    uint64_t g;
    int rc = rt_rpc_estimate_gas(c, from, to, data, n, &g);
    if (rc == 0)
        *gas = g + g / 4 + 5000;
    return rc;
}

static void sleep_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

int rt_txsend_wait_until(rt_rpc *c, const uint8_t hash[32], int timeout_ms, const atomic_int *stop,
                         rt_rpc_receipt *r)
{
    long end = now_ms() + timeout_ms;
    int pause = 2, rc;
    for (;;) {
        rc = rt_rpc_receipt_get(c, hash, r);
        if (rc == 0 && r->found)
            return 0;
        long left = end - now_ms();
        for (int slept = 0; left > 0 && slept < pause && !(stop && atomic_load(stop)); left = end - now_ms()) {
            int ms = pause - slept < 100 ? pause - slept : 100;
            ms = left < ms ? (int)left : ms;
            sleep_ms(ms);
            slept += ms;
        }
        if (left <= 0 || (stop && atomic_load(stop)))
            return rc;          /* 0 with r->found == 0: no receipt in time */
        pause = pause * 2 > 1000 ? 1000 : pause * 2;
    }
}

int rt_txsend_wait(rt_rpc *c, const uint8_t hash[32], int timeout_ms, rt_rpc_receipt *r)
{
    return rt_txsend_wait_until(c, hash, timeout_ms, NULL, r);
}

int rt_txsend_call(rt_rpc *c, const uint8_t seckey[32], const uint8_t *to, const uint8_t *data,
                   size_t n, int timeout_ms, uint8_t hash[32], rt_rpc_receipt *r, char *err,
                   size_t errlen)
{
    uint8_t from[RT_ETH_ADDR_LEN];
    rt_eth_tx tx = { .has_to = to != NULL, .data = data, .data_len = n };
    memset(r, 0, sizeof *r);
    if (rt_eth_address(seckey, from) != RT_ETH_OK) {
        snprintf(err, errlen, "the key is not a valid secp256k1 secret key");
        return -1;
    }
    if (to)
        memcpy(tx.to, to, RT_ETH_ADDR_LEN);
    int rc = rt_rpc_chain_id(c, &tx.chain_id);
    if (rc == 0)
        rc = rt_rpc_nonce(c, from, "pending", &tx.nonce);
    if (rc == 0)
        rc = rt_txsend_fees(c, &tx.max_priority_fee, &tx.max_fee);
    if (rc == 0)
        rc = rt_txsend_gas(c, from, to, data, n, &tx.gas_limit);
    if (rc == RT_RPC_E_REVERT) {
        size_t rn;
        const uint8_t *rd = rt_rpc_revert_data(c, &rn);
        char why[200];
        rt_chain_revert_text(rd, rn, why, sizeof why);
        snprintf(err, errlen, "the call would revert%s%s (nothing was sent)", *why ? ": " : "", why);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s", rt_rpc_error(c));
        return -1;
    }
    size_t cap = n + RT_ETH_TX_OVERHEAD, len;
    uint8_t *raw = malloc(cap), sent[32];
    if (!raw) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = rt_eth_tx_sign(&tx, seckey, raw, cap, &len, hash, NULL);
    if (rc != RT_ETH_OK) {
        free(raw);
        snprintf(err, errlen, "signing failed: %s", rt_eth_strerror(rc));
        return -1;
    }
    rc = rt_rpc_send_raw(c, raw, len, sent);
    OPENSSL_cleanse(raw, cap);
    free(raw);
    if (rc != 0) {
        snprintf(err, errlen, "%s", rt_rpc_error(c));
        return -1;
    }
    if (memcmp(sent, hash, 32) != 0) {
        snprintf(err, errlen, "the node reports another transaction hash than the one signed");
        return -1;
    }
    if (rt_txsend_wait(c, hash, timeout_ms, r) != 0 || !r->found) {
        snprintf(err, errlen, "no receipt within %d ms%s%s", timeout_ms, rt_rpc_error(c)[0] ? ": " : "",
                 rt_rpc_error(c));
        return -1;
    }
    return 0;
}

/*
 * rt_txsend.h — sending a transaction the way toyapp's poster and toyctl's
 * operator commands both do: fees from the node, a gas limit from its
 * estimate, signing (rt_eth), sending and waiting for the receipt (rt_rpc).
 * The steps are separate functions so that the poster can store a signed
 * transaction before it sends it; rt_txsend_call does them all for one-off
 * calls.
 */
#ifndef RT_TXSEND_H
#define RT_TXSEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_eth.h"
#include "rt_rpc.h"

/*
 * Fees for a transaction in the next blocks: max_priority_fee from
 * eth_maxPriorityFeePerGas (or eth_gasPrice minus the base fee where the
 * node has no such method), max_fee = 2 * the latest base fee +
 * max_priority_fee, which stays valid through six full blocks of base-fee
 * rises.  Returns 0 or an rt_rpc error (rt_rpc_error describes it).
 */
int rt_txsend_fees(rt_rpc *c, uint64_t *max_priority_fee, uint64_t *max_fee);

/* The gas limit for a call: eth_estimateGas plus a quarter and 5,000, so
 * that a state change between estimate and inclusion does not run it out
 * of gas.  A reverting call is RT_RPC_E_REVERT (rt_rpc_revert_data). */
int rt_txsend_gas(rt_rpc *c, const uint8_t from[RT_ETH_ADDR_LEN], const uint8_t *to,
                  const uint8_t *data, size_t n, uint64_t *gas);

/*
 * Polls eth_getTransactionReceipt for hash, after 2 ms, then twice as long
 * each time up to every second, until a receipt comes or timeout_ms passes.  Returns 0 with
 * r->found set (0 after the timeout), or an rt_rpc error of the last poll
 * when the node stayed unreachable.  Free r with rt_rpc_receipt_free.
 */
int rt_txsend_wait(rt_rpc *c, const uint8_t hash[32], int timeout_ms, rt_rpc_receipt *r);

/* rt_txsend_wait that also ends (returning 0 with r->found 0) once *stop is
 * set, looked at between polls and at least every 100 ms. */
int rt_txsend_wait_until(rt_rpc *c, const uint8_t hash[32], int timeout_ms, const atomic_int *stop,
                         rt_rpc_receipt *r);

/*
 * A one-off call from the key's account: fees, nonce ("pending"), gas
 * estimate, sign, send, wait up to timeout_ms.  to NULL deploys data as a
 * contract.  On success r holds the receipt (r->status says whether it
 * reverted) and hash the transaction hash.  Returns 0, or -1 with the
 * reason in err (a revert before sending is named with
 * rt_chain_revert_text).
 */
int rt_txsend_call(rt_rpc *c, const uint8_t seckey[32], const uint8_t *to, const uint8_t *data,
                   size_t n, int timeout_ms, uint8_t hash[32], rt_rpc_receipt *r, char *err,
                   size_t errlen);

#endif

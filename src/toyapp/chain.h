/*
 * chain.h — toyapp and the chain: the CHAIN_* configuration, checked at
 * start; what /info says of it; and the poster thread, which sends the
 * deletion outbox to the chain (poster.h) and gives the writer a
 * deletion_posted job for every attestation the chain recorded.
 */
#ifndef TOYAPP_CHAIN_H
#define TOYAPP_CHAIN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_chain.h"
#include "rt_eth.h"

struct keys;
struct poster;

typedef struct chain {
    rt_chain_config cfg;              /* CHAIN_*; cfg.on 0 with CHAIN=off */
    /* What /info shows, fixed at start.  rpc_origin is CHAIN_RPC_URL's
     * scheme, host and port only: node providers put API keys in the
     * path or the query, and /info is public. */
    char rpc_origin[300];
    char deletion_registry[RT_ETH_ADDR_STR], app_registry[RT_ETH_ADDR_STR];
    _Atomic uint64_t chain_id;        /* CHAIN_ID, else the node's once it answered; 0 before */
    struct poster *poster;            /* the poster thread's */
    atomic_int relog;                 /* a deletion_posted job was not written: the poster
                                         thread hands the unlogged rows over again */
} chain;

/* Reads CHAIN_* (rt_chain_config_env).  With the chain on, both registries
 * must be set (the app registry gates the keys, the deletion registry
 * takes the records).  Returns 0, or -1 with a message for the operator in
 * err.  Call before the TEE provider opens, so that a missing registry is
 * said before anything else. */
int chain_config(chain *c, char *err, size_t errlen);

/* With the chain on, once the keys are derived (k->has_chain): the
 * registries' addresses /info shows (the enclave's is g_app.meta's), the chain id (CHAIN_ID, checked against the
 * node's when the node answers; the node's otherwise, learnt later when it
 * does not answer yet) and the poster.  Returns 0, or -1 with the reason
 * in err (a node serving another chain than CHAIN_ID, an unusable URL). */
int chain_start(chain *c, const struct keys *k, char *err, size_t errlen);

/* Frees what chain_start made. */
void chain_stop(chain *c);

/* The poster thread (with the chain on): its own connection to the
 * primary; rows recorded but not yet logged handed over at start, when it
 * becomes the poster, and after a deletion_posted job was not written;
 * then poster rounds until toyapp stops.  Its statements and receipt
 * waits end when g_app.stopping is set, so it never holds up a stop (a
 * commit waiting for a synchronous replica that is away is abandoned). */
void *chain_main(void *arg);

#endif

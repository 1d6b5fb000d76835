/*
 * poster.h — sends the deletion outbox to the chain.
 *
 * The service writes each deletion's signed attestation to deletion_outbox
 * in the deletion's transaction; the poster takes the unsent rows, posts
 * them in one transaction to the deletion registry (record()), waits for
 * the receipt, records the transaction hash and block in the rows, and
 * hands each recorded row to a callback, which appends the
 * deletion_posted audit entry.  One poster at a time across all instances:
 * whichever holds a session advisory lock on the primary.
 *
 * Nothing is lost and nothing is recorded twice, whatever fails:
 *   - every signed transaction is stored in chain_txs before it is sent,
 *     so a restart (or another instance) finds what may be in flight and
 *     waits for it, or sends the same bytes again if the node dropped it;
 *   - nonces come from the node's pending count, never below what the
 *     stored transactions used, so they survive restarts and instances;
 *   - a reverted transaction is reported (log callback, chain_txs.detail,
 *     deletion_outbox.last_error) and its rows go back to the queue, to be
 *     sent again with backoff; so do the rows of a transaction the node
 *     refused or whose nonce another transaction took;
 *   - the registry records a receipt at most once and skips a resend of a
 *     recorded one, so the poster finds the first record (recordedIn and
 *     its event) instead of failing;
 *   - the callback runs after the rows are committed; rows recorded but not
 *     yet in the log (posted_audit_id null) are found again with
 *     poster_unlogged after a crash, and the writer sets posted_audit_id in
 *     the transaction of the entry, so each is logged once.
 *
 * The poster does not depend on the service's writer: it needs a libpq
 * connection to the primary (the caller's, which the caller reconnects) and
 * the chain's configuration.  Not thread-safe: one thread drives a poster.
 */
#ifndef TOY_POSTER_H
#define TOY_POSTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "rt_chain.h"

typedef struct poster poster;

/* One recorded attestation, handed to the callback. */
typedef struct poster_posted {
    int64_t outbox_id;
    const char *receipt_id;
    const char *tx_hash;       /* "0x" and 64 lowercase hex digits */
    uint64_t block_number;
} poster_posted;

/* Called once per row that a round recorded (after its commit), or per
 * row poster_unlogged finds.  The strings live until the callback returns. */
typedef void (*poster_posted_fn)(void *ctx, const poster_posted *p);

/* Called with one line for each event an operator should see (a revert,
 * a resend, a refusal).  NULL: the lines go to stderr. */
typedef void (*poster_log_fn)(void *ctx, const char *line);

typedef struct poster_config {
    rt_chain_config chain;     /* rpc_url, ca_file, chain_id, deletion_registry (required),
                                  confirmations, batch_max, gas_per_record */
    uint8_t seckey[32];        /* the enclave's chain key (copied, wiped by poster_free) */
    int rpc_timeout_ms;        /* one JSON-RPC call (default 10000) */
    int receipt_wait_ms;       /* how long a round waits for a receipt (default 30000) */
    int stuck_ms;              /* in flight this long: sent again with 25% higher fees (default 60000) */
    poster_log_fn log;
    void *log_ctx;
    /* NULL, or a flag the poster looks at while it waits: once it is set, a
     * statement waiting (a commit waiting for a synchronous standby that is
     * away waits forever) is abandoned and a wait for a receipt ends, so the
     * round ends within 100 ms or one JSON-RPC call.  The caller must then
     * close the connection (it is still busy). */
    const atomic_int *stop;
} poster_config;

/* A configuration with the defaults for chain (copied) and the key. */
void poster_config_init(poster_config *pc, const rt_chain_config *chain, const uint8_t seckey[32]);

/* Makes a poster.  Returns NULL with the reason in err if the configuration
 * is not usable (no deletion registry, an invalid key, a bad URL). */
poster *poster_new(const poster_config *pc, char *err, size_t errlen);

/* Wipes the key and frees p (NULL is ignored). */
void poster_free(poster *p);

/*
 * One round on db (a connection to the primary): take or check the poster
 * lock; on taking it, hand over (cb) every row poster_unlogged finds, since
 * the poster before may have died between its round's commit and its
 * callbacks; then resolve the transactions in flight, and post the next
 * batch of unsent rows and wait for its receipt (up to receipt_wait_ms).
 * Returns
 * the number of rows recorded (cb ran for each), 0 when there was nothing
 * to record (or another instance holds the lock), or -1 on a fault (the
 * chain or the database down, a revert, a refusal: poster_error says what;
 * nothing is lost).  Then poster_delay_ms says when to run the next round.
 */
int poster_round(poster *p, PGconn *db, poster_posted_fn cb, void *ctx);

/* Milliseconds to wait before the next round: 0 when more rows wait, a
 * short poll when idle or a transaction is in flight, and a backoff that
 * doubles from 250 ms to 30 s while faults repeat. */
int poster_delay_ms(const poster *p);

/* The last fault's text ("" if none). */
const char *poster_error(const poster *p);

/* 1 if p holds the poster lock on its last connection. */
int poster_is_leader(const poster *p);

/* The enclave's address, the sender of the transactions ("0x", EIP-55). */
const char *poster_address(const poster *p);

/* The chain id the node serves, once a round has checked it (0 before, and
 * after a fault, until the next round checks again). */
uint64_t poster_chain_id(const poster *p);

/*
 * Calls cb for every recorded row whose deletion_posted entry is not
 * written yet (posted_audit_id null), in id order: what a crash between a
 * round's commit and the entries left behind.  Returns the count, or -1
 * on a database error (err).
 */
int poster_unlogged(PGconn *db, poster_posted_fn cb, void *ctx, char *err, size_t errlen);

#endif

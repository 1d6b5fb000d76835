/*
 * poster.c — sends the deletion outbox to the chain; see poster.h for the
 * guarantees and docs/architecture.md ("The outbox and the poster") for
 * the design.
 *
 * A round, under the poster lock:
 *   1. resolve the transactions in flight (chain_txs.outcome null): a
 *      receipt settles them (recorded, or reverted and back to the queue);
 *      without one, the same bytes are sent again if the node does not
 *      know them, with higher fees if they are stuck, and a nonce taken by
 *      another transaction sends their rows back to the queue;
 *   2. otherwise take up to batch_max unsent rows, turn each attestation
 *      into its on-chain form (rt_chain_attestation_parse checks it, its
 *      signature included; one that has none is marked rejected), sign one
 *      record() transaction, store it with its rows' link in one database
 *      transaction, send it and wait for its receipt.
 * Rows move only in database transactions that also record why, so a
 * crash at any point leaves either the old state or the new one.
 */
#include "poster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pgwait.h"
#include "rt_eth.h"
#include "rt_hex.h"
#include "rt_rpc.h"
#include "rt_txsend.h"
#include "toy_spec.h"

#define POSTER_LOCK 0x706f7374      /* "post" */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
#define IDLE_MS 200
#define IN_FLIGHT_POLL_MS 500
#define NOT_LEADER_MS 1000
#define MAX_IN_FLIGHT 16            /* transactions of one nonce we look at */

struct poster {
    poster_config cfg;
    rt_rpc *rpc;
    uint8_t addr[RT_ETH_ADDR_LEN];
    char addr_text[RT_ETH_ADDR_STR];   /* EIP-55 */
    char sender[RT_ETH_ADDR_STR];      /* lowercase, as chain_txs.sender holds it */
    uint64_t chain_id;                 /* the node's, once checked */
    PGconn *lock_conn;
    int lock_pid, leader;
    int handover;                      /* lock taken, unlogged rows not yet handed over */
    int delay_ms, backoff_ms;
    char err[768];
};

/* ---- reporting ------------------------------------------------------------- */

static void say(poster *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(poster *p, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (p->cfg.log)
        p->cfg.log(p->cfg.log_ctx, line);
    else
        fprintf(stderr, "toyapp: poster: %s\n", line);
}

static int fault(poster *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fault(poster *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    return -1;
}

static void hash_text(const uint8_t h[32], char out[67])
{
    out[0] = '0';
    out[1] = 'x';
    rt_hex_encode(h, 32, out + 2);
}

/* ---- configuration --------------------------------------------------------- */

void poster_config_init(poster_config *pc, const rt_chain_config *chain, const uint8_t seckey[32])
{
    memset(pc, 0, sizeof *pc);
    pc->chain = *chain;
    memcpy(pc->seckey, seckey, 32);
    pc->rpc_timeout_ms = 10000;
    pc->receipt_wait_ms = 30000;
    pc->stuck_ms = 60000;
}

poster *poster_new(const poster_config *pc, char *err, size_t errlen)
{
    if (!pc->chain.has_deletion_registry) {
        snprintf(err, errlen, "no deletion registry configured (CHAIN_DELETION_REGISTRY)");
        return NULL;
    }
    if (pc->chain.batch_max < 1 || pc->chain.batch_max > RT_CHAIN_BATCH_MAX) {
        snprintf(err, errlen, "batch size %u is not in 1..%d", pc->chain.batch_max, RT_CHAIN_BATCH_MAX);
        return NULL;
    }
    poster *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg = *pc;
    if (rt_eth_address(p->cfg.seckey, p->addr) != RT_ETH_OK) {
        snprintf(err, errlen, "the chain key is not a valid secp256k1 secret key");
        poster_free(p);
        return NULL;
    }
    rt_eth_address_str(p->addr, p->addr_text);
    p->sender[0] = '0';
    p->sender[1] = 'x';
    rt_hex_encode(p->addr, RT_ETH_ADDR_LEN, p->sender + 2);
    p->rpc = rt_rpc_open(pc->chain.rpc_url, pc->chain.ca_file[0] ? pc->chain.ca_file : NULL, err, errlen);
    if (!p->rpc) {
        poster_free(p);
        return NULL;
    }
    rt_rpc_set_timeout_ms(p->rpc, pc->rpc_timeout_ms > 0 ? pc->rpc_timeout_ms : 10000);
    return p;
}

void poster_free(poster *p)
{
    if (!p)
        return;
    rt_rpc_close(p->rpc);
    OPENSSL_cleanse(p, sizeof *p);
    free(p);
}

int poster_delay_ms(const poster *p) { return p->delay_ms; }
const char *poster_error(const poster *p) { return p->err; }
int poster_is_leader(const poster *p) { return p->leader; }
const char *poster_address(const poster *p) { return p->addr_text; }
uint64_t poster_chain_id(const poster *p) { return p->chain_id; }

/* ---- database ---------------------------------------------------------------- */

static PGresult *sql(poster *p, PGconn *db, const char *q, int n, const char *const *v)
{
    PGresult *r = pg_await(db, PQsendQueryParams(db, q, n, NULL, v, NULL, NULL, 0), 0, p->cfg.stop);
    if (!r && p->cfg.stop && atomic_load(p->cfg.stop)) {
        fault(p, "database: abandoned (stopping)");
        return NULL;
    }
    int st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char *nl, msg[300];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        if ((nl = strchr(msg, '\n')))
            *nl = 0;
        fault(p, "database: %s", msg);
        PQclear(r);
        return NULL;
    }
    return r;
}

static int exec(poster *p, PGconn *db, const char *q, int n, const char *const *v)
{
    PGresult *r = sql(p, db, q, n, v);
    PQclear(r);
    return r ? 0 : -1;
}

/* Not PQexec: on a connection still busy with an abandoned statement it
 * would wait for that statement; PQsendQuery refuses at once instead. */
static void rollback(poster *p, PGconn *db)
{
    PQclear(pg_await(db, PQsendQuery(db, "ROLLBACK"), 0, p->cfg.stop));
}

/* A Postgres array literal of numbers ("{1,2,3}"), malloc'd. */
static char *id_array(const int64_t *ids, size_t n)
{
    char *s = malloc(n * 21 + 3);
    size_t k = 0;
    if (!s)
        return NULL;
    s[k++] = '{';
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(s + k, "%s%lld", i ? "," : "", (long long)ids[i]);
    s[k++] = '}';
    s[k] = 0;
    return s;
}

/* The poster lock: a session advisory lock, taken again when the
 * connection changed (a reconnect starts a new session without it). */
static int take_lock(poster *p, PGconn *db)
{
    int pid = PQbackendPID(db);
    if (p->leader && p->lock_conn == db && p->lock_pid == pid)
        return 1;
    char q[64];
    snprintf(q, sizeof q, "SELECT pg_try_advisory_lock(%d)", POSTER_LOCK);
    PGresult *r = sql(p, db, q, 0, NULL);
    if (!r) {
        p->leader = 0;
        return -1;
    }
    p->leader = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    p->lock_conn = db;
    p->lock_pid = pid;
    p->handover = p->leader;
    if (p->leader)
        say(p, "posting deletion attestations from %s to %s", p->addr_text, p->cfg.chain.rpc_url);
    return p->leader;
}

/* ---- the chain ---------------------------------------------------------------- */

static int rpc_fault(poster *p, const char *doing)
{
    return fault(p, "chain: %s: %s", doing, rt_rpc_error(p->rpc));
}

static int check_chain(poster *p)
{
    if (p->chain_id)
        return 0;
    uint64_t id;
    if (rt_rpc_chain_id(p->rpc, &id) != 0)
        return rpc_fault(p, "eth_chainId");
    if (p->cfg.chain.chain_id && id != p->cfg.chain.chain_id)
        return fault(p, "chain: the node at %s serves chain %llu, not the configured CHAIN_ID %llu",
                     p->cfg.chain.rpc_url, (unsigned long long)id,
                     (unsigned long long)p->cfg.chain.chain_id);
    p->chain_id = id;
    return 0;
}

/* Why data from the enclave reverts now, as the registry's errors read. */
static void revert_reason(poster *p, const uint8_t *data, size_t n, char *out, size_t cap)
{
    uint8_t *ret = NULL;
    size_t rn, dn;
    snprintf(out, cap, "no reason given");
    int rc = rt_rpc_eth_call(p->rpc, p->addr, p->cfg.chain.deletion_registry, data, n, &ret, &rn);
    free(ret);
    if (rc == RT_RPC_E_REVERT) {
        const uint8_t *d = rt_rpc_revert_data(p->rpc, &dn);
        rt_chain_revert_text(d, dn, out, cap);
        if (!*out)
            snprintf(out, cap, "%s", rt_rpc_error(p->rpc));
    } else if (rc == 0) {
        snprintf(out, cap, "it no longer reverts (the state changed since)");
    }
    if (strncmp(out, "NotEnclave", 10) == 0) {
        char reg[RT_ETH_ADDR_STR];
        size_t k = strlen(out);
        rt_eth_address_str(p->cfg.chain.deletion_registry, reg);
        snprintf(out + k, cap - k, ": the registry's owner must register %s (toyctl register-enclave %s "
                 "--registry %s ...)", p->addr_text, p->addr_text, reg);
    }
}

/* ---- settling a mined transaction ------------------------------------------- */

typedef struct in_flight {
    int64_t id;
    uint8_t hash[32];
    uint64_t nonce;
    uint8_t sender[RT_ETH_ADDR_LEN];
    uint8_t *raw;
    size_t raw_len;
    long age_ms;
    int records;
} in_flight;

/* The ids of the transactions of one nonce, as an array literal (malloc'd). */
static char *group_ids(const in_flight *g, size_t ng)
{
    int64_t ids[MAX_IN_FLIGHT];
    for (size_t i = 0; i < ng; i++)
        ids[i] = g[i].id;
    return id_array(ids, ng);
}

typedef struct row {
    int64_t id;
    char *receipt_id;
    char tx[67];
    uint64_t block;
    int recorded;
} row;

/* Where the registry recorded receipt h: its block (0 if nowhere) and the
 * transaction that did it. */
static int find_record(poster *p, const uint8_t h[32], uint64_t *block, char tx[67])
{
    uint8_t call[36], *ret = NULL, topic[32];
    size_t rn;
    rt_chain_call_bytes32(RT_CHAIN_FN_RECORDED_IN, h, call);
    int rc = rt_rpc_eth_call(p->rpc, NULL, p->cfg.chain.deletion_registry, call, sizeof call, &ret, &rn);
    if (rc != 0)
        return rpc_fault(p, "recordedIn");
    rc = rt_chain_ret_u64(ret, rn, block);
    free(ret);
    if (rc != 0)
        return fault(p, "chain: recordedIn returned no number: is the registry a DeletionRegistry?");
    if (*block == 0)
        return 0;
    rt_rpc_log *logs;
    size_t n;
    rt_chain_hash_sig(RT_CHAIN_EV_RECORDED, topic);
    if (rt_rpc_get_logs(p->rpc, p->cfg.chain.deletion_registry, *block, *block, topic, h, &logs, &n) != 0)
        return rpc_fault(p, "eth_getLogs");
    rc = n == 1 ? 0 : fault(p, "chain: block %llu holds %zu records of one receipt", (unsigned long long)*block, n);
    if (n == 1)
        hash_text(logs[0].tx_hash, tx);
    rt_rpc_logs_free(logs, n);
    return rc;
}

/* The outbox rows that transactions ids carry. */
static row *load_rows(poster *p, PGconn *db, const char *ids, size_t *nrows)
{
    const char *v[] = { ids };
    PGresult *r = sql(p, db, "SELECT id, receipt_id FROM deletion_outbox WHERE chain_tx = ANY($1::bigint[]) "
                             "ORDER BY id", 1, v);
    if (!r)
        return NULL;
    size_t n = (size_t)PQntuples(r);
    row *rows = calloc(n ? n : 1, sizeof *rows);
    for (size_t i = 0; rows && i < n; i++) {
        rows[i].id = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
        rows[i].receipt_id = strdup(PQgetvalue(r, (int)i, 1));
        if (!rows[i].receipt_id) {
            for (size_t k = 0; k < i; k++)
                free(rows[k].receipt_id);
            free(rows);
            rows = NULL;
        }
    }
    PQclear(r);
    if (!rows)
        fault(p, "out of memory");
    *nrows = n;
    return rows;
}

static void free_rows(row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].receipt_id);
    free(rows);
}

/* Postgres array literals of n elements of at most w bytes each. */
typedef struct arr {
    char *s;
    size_t len;
} arr;

static int arr_init(arr *a, size_t n, size_t w)
{
    a->s = malloc(n * (w + 1) + 3);
    a->len = 0;
    if (a->s)
        strcpy(a->s, "{}");
    return a->s ? 0 : -1;
}

/* "{}" -> "{v}" -> "{v,w}": a->len is where the closing brace is. */
static void arr_add(arr *a, const char *v)
{
    size_t at = a->len ? a->len : 1;
    a->len = at + (size_t)sprintf(a->s + at, "%s%s}", a->len ? "," : "", v) - 1;
}

/* In the caller's database transaction: the mined transaction mid gets
 * its outcome, block, gas and detail; the others of its nonce (group) are
 * marked replaced. */
static int mark_mined(poster *p, PGconn *db, const char *mid, const char *blk, const char *gas,
                      const char *detail, const char *group, const char *outcome)
{
    const char *vt[] = { mid, blk, gas, detail, outcome };
    const char *vg[] = { mid, group };
    return exec(p, db, "UPDATE chain_txs SET outcome = $5, block_number = $2, gas_used = $3,"
                       " detail = $4, resolved_at = now() WHERE id = $1", 5, vt) != 0 ||
                   exec(p, db, "UPDATE chain_txs SET outcome = 'replaced', resolved_at = now()"
                               " WHERE id = ANY($2::bigint[]) AND id <> $1 AND outcome IS NULL", 2, vg) != 0
               ? -1 : 0;
}

/* Settles the transactions of one nonce, one of which, mined, has
 * receipt r: its rows are recorded (or, when it reverted, go back to the
 * queue), the others are marked replaced.  Returns the rows recorded, or -1. */
static int settle(poster *p, PGconn *db, const in_flight *g, size_t ng, size_t mined,
                  const rt_rpc_receipt *r, poster_posted_fn cb, void *ctx)
{
    char *group = group_ids(g, ng), tx[67], mid[24], blk[24], gas[24], detail[600];
    hash_text(g[mined].hash, tx);
    snprintf(mid, sizeof mid, "%lld", (long long)g[mined].id);
    snprintf(blk, sizeof blk, "%llu", (unsigned long long)r->block_number);
    snprintf(gas, sizeof gas, "%llu", (unsigned long long)r->gas_used);
    size_t nrows = 0;
    row *rows = group ? load_rows(p, db, group, &nrows) : NULL;
    if (!rows) {
        free(group);
        return group ? -1 : fault(p, "out of memory");
    }
    int recorded = -1;

    if (r->status != 1) {
        char why[500];
        rt_rpc_tx t;
        snprintf(why, sizeof why, "no reason known");
        if (rt_rpc_tx_get(p->rpc, g[mined].hash, &t) == 0 && t.found) {
            revert_reason(p, t.tx.data, t.tx.data_len, why, sizeof why);
            rt_rpc_tx_free(&t);
        }
        snprintf(detail, sizeof detail, "transaction %s reverted in block %s: %s", tx, blk, why);
        const char *vo[] = { group, detail };
        if (exec(p, db, "BEGIN", 0, NULL) != 0 ||
            mark_mined(p, db, mid, blk, gas, detail, group, "reverted") != 0 ||
            exec(p, db, "UPDATE deletion_outbox SET chain_tx = NULL, last_error = $2"
                        " WHERE chain_tx = ANY($1::bigint[])", 2, vo) != 0 ||
            exec(p, db, "COMMIT", 0, NULL) != 0) {
            rollback(p, db);
            goto out;
        }
        say(p, "%s; its %zu attestations go back to the queue and will be sent again", detail, nrows);
        fault(p, "%s", detail);
        goto out;
    }

    /* The receipts this transaction recorded, from its events; the others
     * it carried were recorded before (the registry skipped them) or not. */
    int by_it = 0, before = 0;
    uint8_t topic[32];
    rt_chain_hash_sig(RT_CHAIN_EV_RECORDED, topic);
    for (size_t i = 0; i < nrows; i++) {
        uint8_t h[32];
        rt_chain_receipt_hash(rows[i].receipt_id, strlen(rows[i].receipt_id), h);
        for (size_t k = 0; k < r->nlogs && !rows[i].recorded; k++) {
            const rt_rpc_log *l = &r->logs[k];
            if (!l->removed && l->ntopics == 2 && memcmp(l->address, p->cfg.chain.deletion_registry, 20) == 0 &&
                memcmp(l->topics[0], topic, 32) == 0 && memcmp(l->topics[1], h, 32) == 0) {
                rows[i].recorded = 1;
                memcpy(rows[i].tx, tx, sizeof tx);
                rows[i].block = r->block_number;
                by_it++;
            }
        }
        /* Skipped by the registry: recorded before (a resend after a crash). */
        if (!rows[i].recorded) {
            if (find_record(p, h, &rows[i].block, rows[i].tx) != 0)
                goto out;
            rows[i].recorded = rows[i].block != 0;
            before += rows[i].recorded;
        }
    }
    arr a_ids, a_tx, a_blk, a_back;
    int nback = 0;
    if (arr_init(&a_ids, nrows, 20) | arr_init(&a_tx, nrows, 66) | arr_init(&a_blk, nrows, 20) |
        arr_init(&a_back, nrows, 20)) {
        fault(p, "out of memory");
        goto free_arrays;
    }
    for (size_t i = 0; i < nrows; i++) {
        char num[24], bn[24];
        snprintf(num, sizeof num, "%lld", (long long)rows[i].id);
        if (!rows[i].recorded) {
            arr_add(&a_back, num);
            nback++;
            continue;
        }
        snprintf(bn, sizeof bn, "%llu", (unsigned long long)rows[i].block);
        arr_add(&a_ids, num);
        arr_add(&a_tx, rows[i].tx);
        arr_add(&a_blk, bn);
    }
    snprintf(detail, sizeof detail, "%d recorded by it, %d recorded before, %d back to the queue", by_it,
             before, nback);
    const char *vr[] = { a_ids.s, a_tx.s, a_blk.s };
    const char *vb[] = { a_back.s };
    PGresult *res = NULL;
    if (exec(p, db, "BEGIN", 0, NULL) != 0 ||
        !(res = sql(p, db, "UPDATE deletion_outbox o SET tx_hash = u.tx, block_number = u.blk,"
                           " chain_tx = NULL, last_error = NULL"
                           " FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(id, tx, blk)"
                           " WHERE o.id = u.id AND o.block_number IS NULL"
                           " RETURNING o.id, o.receipt_id, u.tx, u.blk", 3, vr)) ||
        exec(p, db, "UPDATE deletion_outbox SET chain_tx = NULL,"
                    " last_error = 'the transaction that carried it did not record it'"
                    " WHERE id = ANY($1::bigint[])", 1, vb) != 0 ||
        mark_mined(p, db, mid, blk, gas, detail, group, "recorded") != 0 ||
        exec(p, db, "COMMIT", 0, NULL) != 0) {
        rollback(p, db);
    } else {
        recorded = PQntuples(res);
        for (int i = 0; cb && i < recorded; i++) {
            poster_posted pp = { .outbox_id = strtoll(PQgetvalue(res, i, 0), NULL, 10),
                                 .receipt_id = PQgetvalue(res, i, 1),
                                 .tx_hash = PQgetvalue(res, i, 2),
                                 .block_number = strtoull(PQgetvalue(res, i, 3), NULL, 10) };
            cb(ctx, &pp);
        }
        if (nback)
            say(p, "transaction %s did not record %d of its attestations; they go back to the queue", tx, nback);
    }
    PQclear(res);
free_arrays:
    free(a_ids.s);
    free(a_tx.s);
    free(a_blk.s);
    free(a_back.s);
out:
    free_rows(rows, nrows);
    free(group);
    return recorded;
}

/* Marks the transactions of a nonce as not to be mined any more (outcome
 * is 'replaced' or 'refused'), their rows back to the queue. */
static int give_up(poster *p, PGconn *db, const in_flight *g, size_t ng, const char *outcome,
                   const char *why)
{
    char *group = group_ids(g, ng);
    if (!group)
        return fault(p, "out of memory");
    const char *v[] = { group, outcome, why };
    const char *w[] = { group, why };
    int rc = exec(p, db, "BEGIN", 0, NULL) == 0 &&
                     exec(p, db, "UPDATE chain_txs SET outcome = $2, detail = $3, resolved_at = now()"
                                 " WHERE id = ANY($1::bigint[]) AND outcome IS NULL", 3, v) == 0 &&
                     exec(p, db, "UPDATE deletion_outbox SET chain_tx = NULL, last_error = $2"
                                 " WHERE chain_tx = ANY($1::bigint[])", 2, w) == 0 &&
                     exec(p, db, "COMMIT", 0, NULL) == 0 ? 0 : -1;
    if (rc != 0)
        rollback(p, db);
    free(group);
    return rc;
}

/* ---- in flight ----------------------------------------------------------------- */

static void free_in_flight(in_flight *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(g[i].raw);
}

/* Stores a signed transaction and links rows to it, in one database
 * transaction, before it is sent.  Returns its id, or -1. */
static int64_t store_tx(poster *p, PGconn *db, const uint8_t hash[32], uint64_t nonce,
                        const uint8_t *raw, size_t raw_len, int records, const char *rows,
                        const char *relink)
{
    char tx[67], nn[24], rc_s[16], *hex = malloc(2 * raw_len + 3);
    if (!hex)
        return fault(p, "out of memory");
    hash_text(hash, tx);
    snprintf(nn, sizeof nn, "%llu", (unsigned long long)nonce);
    snprintf(rc_s, sizeof rc_s, "%d", records);
    hex[0] = '\\';
    hex[1] = 'x';
    rt_hex_encode(raw, raw_len, hex + 2);
    const char *v[] = { tx, p->sender, nn, hex, rc_s };
    int64_t id = -1;
    PGresult *r = NULL;
    if (exec(p, db, "BEGIN", 0, NULL) == 0 &&
        (r = sql(p, db, "INSERT INTO chain_txs (tx_hash, sender, nonce, raw, records)"
                        " VALUES ($1, $2, $3, $4::bytea, $5) RETURNING id", 5, v))) {
        char idt[24];
        snprintf(idt, sizeof idt, "%s", PQgetvalue(r, 0, 0));
        const char *w[] = { idt, rows ? rows : relink };
        int ok = rows ? exec(p, db, "UPDATE deletion_outbox SET chain_tx = $1, attempts = attempts + 1,"
                                    " sent_at = now() WHERE id = ANY($2::bigint[])", 2, w) == 0
                      : exec(p, db, "UPDATE deletion_outbox SET chain_tx = $1, sent_at = now()"
                                    " WHERE chain_tx = ANY($2::bigint[])", 2, w) == 0;
        if (ok && exec(p, db, "COMMIT", 0, NULL) == 0)
            id = strtoll(idt, NULL, 10);
    }
    if (id < 0)
        rollback(p, db);
    PQclear(r);
    free(hex);
    return id;
}

/* Whether the node's refusal of a transaction means it is there anyway. */
static int already_there(const char *msg)
{
    return strstr(msg, "already known") || strstr(msg, "already imported") ||
           strstr(msg, "AlreadyKnown") || strstr(msg, "already exists");
}

/* Whether the node refused a transaction because another of ours holds its
 * nonce in the pool (a replacement not priced above it): still in flight. */
static int nonce_taken_in_pool(const char *msg)
{
    return strstr(msg, "underpriced") != NULL;
}

/* Sends a stuck transaction again with 25% higher fees (at least what the
 * node suggests now), the same nonce and data: stored first, like any. */
static int bump(poster *p, PGconn *db, in_flight *g, size_t ng)
{
    rt_rpc_tx t;
    const in_flight *last = &g[ng - 1];
    if (rt_rpc_tx_get(p->rpc, last->hash, &t) != 0)
        return rpc_fault(p, "eth_getTransactionByHash");
    if (!t.found || t.type != 2)
        return 0;
    uint64_t prio, maxfee;
    if (rt_txsend_fees(p->rpc, &prio, &maxfee) != 0) {
        rt_rpc_tx_free(&t);
        return rpc_fault(p, "fees");
    }
    rt_eth_tx tx = t.tx;
    tx.max_priority_fee = tx.max_priority_fee + tx.max_priority_fee / 4 + 1;
    tx.max_fee = tx.max_fee + tx.max_fee / 4 + 1;
    if (prio > tx.max_priority_fee)
        tx.max_priority_fee = prio;
    if (maxfee > tx.max_fee)
        tx.max_fee = maxfee;
    size_t cap = tx.data_len + RT_ETH_TX_OVERHEAD, len;
    uint8_t *raw = malloc(cap), hash[32], sent[32];
    char *group = group_ids(g, ng), th[67];
    int rc = -1;
    int64_t id = -1;
    if (!raw || !group || rt_eth_tx_sign(&tx, p->cfg.seckey, raw, cap, &len, hash, NULL) != RT_ETH_OK) {
        fault(p, "cannot sign the replacement transaction");
    } else if ((id = store_tx(p, db, hash, tx.nonce, raw, len, last->records, NULL, group)) >= 0) {
        hash_text(hash, th);
        say(p, "transaction of nonce %llu stuck for %ld s: sent again as %s with fees %llu/%llu wei",
            (unsigned long long)tx.nonce, last->age_ms / 1000, th, (unsigned long long)tx.max_priority_fee,
            (unsigned long long)tx.max_fee);
        if (rt_rpc_send_raw(p->rpc, raw, len, sent) == 0 || already_there(rt_rpc_error(p->rpc))) {
            rc = 0;
        } else if (rt_rpc_errcode(p->rpc) != RT_RPC_E_RPC) {
            rc = rpc_fault(p, "eth_sendRawTransaction");   /* in flight: the next round sees */
        } else {
            /* Refused: the replacement is not in flight; the rows go back
             * to the transaction it was to replace. */
            char idt[24], prev[24], why[600];
            snprintf(idt, sizeof idt, "%lld", (long long)id);
            snprintf(prev, sizeof prev, "%lld", (long long)last->id);
            snprintf(why, sizeof why, "the node refused the replacement: %s", rt_rpc_error(p->rpc));
            const char *v[] = { idt, prev };
            const char *w[] = { idt, why };
            if (exec(p, db, "BEGIN", 0, NULL) == 0 &&
                exec(p, db, "UPDATE deletion_outbox SET chain_tx = $2 WHERE chain_tx = $1", 2, v) == 0 &&
                exec(p, db, "UPDATE chain_txs SET outcome = 'refused', detail = $2, resolved_at = now()"
                            " WHERE id = $1", 2, w) == 0 &&
                exec(p, db, "COMMIT", 0, NULL) == 0) {
                char ph[67];
                hash_text(last->hash, ph);
                say(p, "%s; waiting for %s instead", why, ph);
                rc = 0;
            } else {
                rollback(p, db);
            }
        }
    }
    free(group);
    free(raw);
    rt_rpc_tx_free(&t);
    return rc;
}

/*
 * Resolves the transactions of one nonce (oldest first).  Returns the rows
 * recorded (>= 0) with *open set when they are still in flight, or -1.
 */
static int resolve(poster *p, PGconn *db, in_flight *g, size_t ng, poster_posted_fn cb, void *ctx,
                   int *open)
{
    *open = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t head;
        if (rt_rpc_block_number(p->rpc, &head) != 0)
            return rpc_fault(p, "eth_blockNumber");
        for (size_t i = ng; i-- > 0;) {
            rt_rpc_receipt r;
            if (rt_rpc_receipt_get(p->rpc, g[i].hash, &r) != 0)
                return rpc_fault(p, "eth_getTransactionReceipt");
            if (!r.found)
                continue;
            if (r.block_number + p->cfg.chain.confirmations > head) {
                rt_rpc_receipt_free(&r);
                *open = 1;     /* mined, not deep enough yet */
                return 0;
            }
            int n = settle(p, db, g, ng, i, &r, cb, ctx);
            rt_rpc_receipt_free(&r);
            return n;
        }
        if (pass == 1)
            break;
        /* None mined.  Has the nonce gone to another transaction? */
        uint64_t used;
        const in_flight *last = &g[ng - 1];
        if (rt_rpc_nonce(p->rpc, last->sender, "latest", &used) != 0)
            return rpc_fault(p, "eth_getTransactionCount");
        if (used > last->nonce) {
            if (last->age_ms < p->cfg.stuck_ms) {
                *open = 1;     /* a receipt may not be indexed yet */
                return 0;
            }
            char why[160];
            snprintf(why, sizeof why, "nonce %llu was used by another transaction", (unsigned long long)last->nonce);
            say(p, "%s; its attestations go back to the queue", why);
            return give_up(p, db, g, ng, "replaced", why) == 0 ? 0 : -1;
        }
        /* Not mined: is it in the node's pool?  If not (dropped, or never
         * sent because of a crash), send the same bytes again. */
        rt_rpc_tx t;
        if (rt_rpc_tx_get(p->rpc, last->hash, &t) != 0)
            return rpc_fault(p, "eth_getTransactionByHash");
        int known = t.found;
        rt_rpc_tx_free(&t);
        char th[67];
        hash_text(last->hash, th);
        if (!known) {
            uint8_t sent[32];
            if (rt_rpc_send_raw(p->rpc, last->raw, last->raw_len, sent) != 0) {
                if (rt_rpc_errcode(p->rpc) != RT_RPC_E_RPC)
                    return rpc_fault(p, "eth_sendRawTransaction");
                if (nonce_taken_in_pool(rt_rpc_error(p->rpc))) {
                    *open = 1;    /* an older one of this nonce is still in the pool */
                    return 0;
                }
                if (!already_there(rt_rpc_error(p->rpc))) {
                    char why[600];
                    snprintf(why, sizeof why, "the node refused transaction %s again: %s", th, rt_rpc_error(p->rpc));
                    say(p, "%s; its attestations go back to the queue", why);
                    return give_up(p, db, g, ng, "refused", why) == 0 ? 0 : -1;
                }
            } else {
                say(p, "transaction %s (nonce %llu) was not in the node's pool: sent the same bytes again", th,
                    (unsigned long long)last->nonce);
            }
        } else if (last->age_ms >= p->cfg.stuck_ms && memcmp(last->sender, p->addr, 20) == 0) {
            if (bump(p, db, g, ng) != 0)
                return -1;
            *open = 1;
            return 0;      /* the next round looks at the replacement too */
        }
        rt_rpc_receipt r;
        if (rt_txsend_wait_until(p->rpc, last->hash, p->cfg.receipt_wait_ms, p->cfg.stop, &r) != 0)
            return rpc_fault(p, "eth_getTransactionReceipt");
        int found = r.found;
        rt_rpc_receipt_free(&r);
        if (!found) {
            *open = 1;
            return 0;
        }
    }
    *open = 1;
    return 0;
}

/* Resolves every transaction in flight.  Returns the rows recorded, -1 on
 * a fault; *open is set when some are still in flight. */
static int resolve_all(poster *p, PGconn *db, poster_posted_fn cb, void *ctx, int *open)
{
    *open = 0;
    PGresult *r = sql(p, db, "SELECT id, tx_hash, nonce, sender, encode(raw, 'hex'),"
                             " (extract(epoch FROM now() - created_at) * 1000)::bigint, records"
                             " FROM chain_txs WHERE outcome IS NULL ORDER BY sender, nonce, id", 0, NULL);
    if (!r)
        return -1;
    int n = PQntuples(r), recorded = 0, rc = 0;
    for (int i = 0; i < n && rc >= 0;) {
        in_flight g[MAX_IN_FLIGHT];
        size_t ng = 0;
        const char *sender = PQgetvalue(r, i, 3), *nonce = PQgetvalue(r, i, 2);
        for (; i < n && !strcmp(PQgetvalue(r, i, 3), sender) && !strcmp(PQgetvalue(r, i, 2), nonce); i++) {
            if (ng == MAX_IN_FLIGHT)
                continue;    /* the oldest MAX_IN_FLIGHT are enough to settle the nonce */
            in_flight *f = &g[ng];
            const char *hx = PQgetvalue(r, i, 4);
            f->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
            f->nonce = strtoull(nonce, NULL, 10);
            f->age_ms = strtol(PQgetvalue(r, i, 5), NULL, 10);
            f->records = atoi(PQgetvalue(r, i, 6));
            f->raw_len = strlen(hx) / 2;
            f->raw = malloc(f->raw_len ? f->raw_len : 1);
            if (!f->raw || rt_hex_decode(hx, 2 * f->raw_len, f->raw, f->raw_len) != 0 ||
                rt_hex_decode(PQgetvalue(r, i, 1) + 2, 64, f->hash, 32) != 0 ||
                rt_eth_address_parse(sender, strlen(sender), f->sender) != 0) {
                free(f->raw);
                rc = fault(p, "chain_txs row %lld is damaged", (long long)f->id);
                break;
            }
            ng++;
        }
        if (rc < 0 || ng == 0) {
            free_in_flight(g, ng);
            break;
        }
        int still = 0;
        rc = resolve(p, db, g, ng, cb, ctx, &still);
        free_in_flight(g, ng);
        if (rc > 0)
            recorded += rc;
        *open |= still;
    }
    PQclear(r);
    return rc < 0 ? -1 : recorded;
}

/* ---- a new batch ------------------------------------------------------------------- */

/* Posts the next batch.  Returns the rows recorded (>= 0) with *open set
 * if its transaction is still in flight and *full if the batch was full,
 * or -1. */
static int post_batch(poster *p, PGconn *db, poster_posted_fn cb, void *ctx, int *open, int *full)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%u", p->cfg.chain.batch_max);
    const char *v[] = { lim };
    *open = *full = 0;
    PGresult *r = sql(p, db, "SELECT id, receipt_id, encode(attestation, 'hex') FROM deletion_outbox"
                             " WHERE block_number IS NULL AND chain_tx IS NULL AND NOT rejected"
                             " ORDER BY id LIMIT $1", 1, v);
    if (!r)
        return -1;
    int n = PQntuples(r), good = 0, rc = -1;
    *full = n == (int)p->cfg.chain.batch_max;
    if (n == 0) {
        PQclear(r);
        return 0;
    }
    rt_chain_attestation *a = calloc((size_t)n, sizeof *a);
    int64_t *ids = calloc((size_t)n, sizeof *ids);
    uint8_t *data = NULL, *raw = NULL;
    char *rows = NULL;
    size_t cap = 0;
    if (!a || !ids) {
        fault(p, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const char *hx = PQgetvalue(r, i, 2), *rid = PQgetvalue(r, i, 1), *id = PQgetvalue(r, i, 0);
        size_t jn = strlen(hx) / 2;
        char *json = malloc(jn + 1), err[300];
        int ok = json && rt_hex_decode(hx, 2 * jn, (uint8_t *)json, jn) == 0 &&
                 rt_chain_attestation_parse(&toy_rec_deletion_attestation_rec, json, jn, rid, &a[good], err,
                                            sizeof err) == 0;
        if (!json)
            snprintf(err, sizeof err, "out of memory");
        free(json);
        if (ok) {
            ids[good++] = strtoll(id, NULL, 10);
            continue;
        }
        /* Kept, never sent: nothing on chain could prove it. */
        char why[400];
        snprintf(why, sizeof why, "rejected: %s", err);
        const char *w[] = { id, why };
        if (exec(p, db, "UPDATE deletion_outbox SET rejected = true, last_error = $2 WHERE id = $1", 2, w) != 0)
            goto out;
        say(p, "outbox row %s (receipt %s) cannot be posted and is kept aside: %s", id, rid, err);
    }
    if (good == 0) {
        rc = 0;
        goto out;
    }

    size_t dn = rt_chain_record_len((size_t)good), len;
    cap = dn + RT_ETH_TX_OVERHEAD;
    data = malloc(dn);
    raw = malloc(cap);
    rows = id_array(ids, (size_t)good);
    if (!data || !raw || !rows) {
        fault(p, "out of memory");
        goto out;
    }
    rt_chain_record_calldata(a, (size_t)good, data);

    rt_eth_tx tx = { .chain_id = p->chain_id, .has_to = 1, .data = data, .data_len = dn };
    memcpy(tx.to, p->cfg.chain.deletion_registry, 20);
    /* The nonce: the node's pending count, never below what stored
     * transactions of this key used (a lagging node cannot make us reuse one). */
    const char *w[] = { p->sender };
    PGresult *nr = sql(p, db, "SELECT coalesce(max(nonce) + 1, 0) FROM chain_txs WHERE sender = $1"
                              " AND outcome IN ('recorded', 'reverted')", 1, w);
    if (!nr)
        goto out;
    uint64_t floor_nonce = strtoull(PQgetvalue(nr, 0, 0), NULL, 10);
    PQclear(nr);
    if (rt_rpc_nonce(p->rpc, p->addr, "pending", &tx.nonce) != 0) {
        rpc_fault(p, "eth_getTransactionCount");
        goto out;
    }
    if (tx.nonce < floor_nonce)
        tx.nonce = floor_nonce;
    if (rt_txsend_fees(p->rpc, &tx.max_priority_fee, &tx.max_fee) != 0) {
        rpc_fault(p, "fees");
        goto out;
    }
    if (p->cfg.chain.gas_per_record) {
        tx.gas_limit = 60000 + p->cfg.chain.gas_per_record * (uint64_t)good;
    } else if (rt_txsend_gas(p->rpc, p->addr, tx.to, data, dn, &tx.gas_limit) != 0) {
        if (rt_rpc_errcode(p->rpc) != RT_RPC_E_REVERT) {
            rpc_fault(p, "eth_estimateGas");
            goto out;
        }
        /* It would revert: nothing is sent; the rows stay queued and say why. */
        char why[500], msg[600];
        revert_reason(p, data, dn, why, sizeof why);
        snprintf(msg, sizeof msg, "record() of %d attestations would revert: %s", good, why);
        const char *m[] = { rows, msg };
        exec(p, db, "UPDATE deletion_outbox SET last_error = $2 WHERE id = ANY($1::bigint[])", 2, m);
        say(p, "%s; nothing sent, retrying with backoff", msg);
        fault(p, "%s", msg);
        goto out;
    }
    uint8_t hash[32], sent[32];
    if (rt_eth_tx_sign(&tx, p->cfg.seckey, raw, cap, &len, hash, NULL) != RT_ETH_OK) {
        fault(p, "cannot sign the transaction");
        goto out;
    }
    int64_t txid = store_tx(p, db, hash, tx.nonce, raw, len, good, rows, NULL);
    if (txid < 0)
        goto out;
    in_flight g = { .id = txid, .nonce = tx.nonce, .raw = raw, .raw_len = len, .records = good };
    memcpy(g.hash, hash, 32);
    memcpy(g.sender, p->addr, 20);
    if (rt_rpc_send_raw(p->rpc, raw, len, sent) != 0) {
        if (rt_rpc_errcode(p->rpc) != RT_RPC_E_RPC) {
            /* The node may or may not have it: it stays in flight, and the
             * next round waits for it or sends the same bytes again. */
            rpc_fault(p, "eth_sendRawTransaction");
            goto out;
        }
        if (!already_there(rt_rpc_error(p->rpc))) {
            char why[600];
            snprintf(why, sizeof why, "the node refused the transaction: %s", rt_rpc_error(p->rpc));
            if (give_up(p, db, &g, 1, "refused", why) == 0) {
                say(p, "%s; its %d attestations go back to the queue", why, good);
                fault(p, "%s", why);
            }
            goto out;
        }
    }
    rt_rpc_receipt rec;
    if (rt_txsend_wait_until(p->rpc, hash, p->cfg.receipt_wait_ms, p->cfg.stop, &rec) != 0) {
        rpc_fault(p, "eth_getTransactionReceipt");
        goto out;
    }
    int mined = rec.found;
    rt_rpc_receipt_free(&rec);
    rc = mined ? resolve(p, db, &g, 1, cb, ctx, open) : (*open = 1, 0);
out:
    PQclear(r);
    free(a);
    free(ids);
    free(data);
    free(raw);
    free(rows);
    return rc;
}

/* ---- a round ------------------------------------------------------------------------ */

int poster_round(poster *p, PGconn *db, poster_posted_fn cb, void *ctx)
{
    p->err[0] = 0;
    int lock = take_lock(p, db);
    if (lock <= 0) {
        p->delay_ms = lock < 0 ? BACKOFF_MIN_MS : NOT_LEADER_MS;
        return lock;
    }
    int open = 0, full = 0, recorded = 0, rc = 0;
    if (p->handover) {
        char err[512];
        if (poster_unlogged(db, cb, ctx, err, sizeof err) < 0)
            rc = fault(p, "rows recorded but not logged: %.*s", (int)strcspn(err, "\n"), err);
        else
            p->handover = 0;
    }
    if (rc == 0)
        rc = check_chain(p);
    if (rc == 0)
        rc = resolve_all(p, db, cb, ctx, &open);
    if (rc > 0)
        recorded += rc;
    if (rc >= 0 && !open) {
        rc = post_batch(p, db, cb, ctx, &open, &full);
        if (rc > 0)
            recorded += rc;
    }
    if (rc < 0) {
        p->chain_id = 0;    /* ask again: the node may have changed */
        p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (p->backoff_ms > BACKOFF_MAX_MS)
            p->backoff_ms = BACKOFF_MAX_MS;
        p->delay_ms = p->backoff_ms;
        return recorded ? recorded : -1;
    }
    p->backoff_ms = 0;
    p->delay_ms = open ? IN_FLIGHT_POLL_MS : full || recorded ? 0 : IDLE_MS;
    return recorded;
}

int poster_unlogged(PGconn *db, poster_posted_fn cb, void *ctx, char *err, size_t errlen)
{
    PGresult *r = PQexec(db, "SELECT id, receipt_id, tx_hash, block_number FROM deletion_outbox"
                             " WHERE block_number IS NOT NULL AND posted_audit_id IS NULL ORDER BY id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        poster_posted pp = { .outbox_id = strtoll(PQgetvalue(r, i, 0), NULL, 10),
                             .receipt_id = PQgetvalue(r, i, 1),
                             .tx_hash = PQgetvalue(r, i, 2),
                             .block_number = strtoull(PQgetvalue(r, i, 3), NULL, 10) };
        cb(ctx, &pp);
    }
    PQclear(r);
    return n;
}

/*
 * chain_driver.c — drives src/toyapp/poster.c for tests/integration/test_chain.sh
 * and bench/bench_chain.sh against a real Postgres and a real chain, the
 * way toyapp will: the keys from the TEE provider (TEE_SIM_SEED, APP_ID),
 * the chain from the CHAIN_* variables (rt_chain_config_env), the database
 * from DATABASE_URL.  It also writes the random transactions of the
 * differential test against ethers.
 *
 *   chain_driver migrate              create toyapp's tables (the generated schema)
 *   chain_driver enqueue N PREFIX     write N outbox rows, receipts PREFIX-1..N,
 *                                      each a deletion_attestation signed with the
 *                                      enclave's Ed25519 key, as toyapp writes them
 *   chain_driver run SECONDS [WANT]   run poster rounds until WANT rows are
 *                                      recorded in the outbox (or SECONDS pass);
 *                                      hands over what poster_unlogged finds
 *                                      first (poster_round does again on
 *                                      becoming the poster)
 *   chain_driver status               counts of the outbox and of chain_txs
 *   chain_driver txgen N SEED          N random EIP-1559 transactions signed with
 *                                      random keys, and N random Keccak-256 inputs,
 *                                      one JSON object a line, for tests/chain/ethers_check.js
 *
 * The callback stands in for the service's writer: after each round, in
 * one transaction, it sets the handed rows' posted_audit_id (guarded by
 * "IS NULL", as the writer will), and prints "posted RECEIPT TX BLOCK", or
 * "DUPLICATE RECEIPT" for a row that had been handed over before.  Poster log lines are printed as
 * "log: ...".  Exit status 0 when WANT was reached (or no WANT was given).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "poster.h"
#include "rt_chain.h"
#include "rt_eth.h"
#include "rt_hex.h"
#include "rt_keccak.h"
#include "rt_ser.h"
#include "rt_tee.h"
#include "toy_spec.h"

/* The generated schema (postgres/schema.sql, in libtoy.a): every table,
 * the outbox's and chain_txs included, as a fresh database gets them. */
extern const char toy_schema_sql[];

static void die(const char *what, const char *why)
{
    fprintf(stderr, "chain_driver: %s: %s\n", what, why);
    exit(1);
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* A connection to DATABASE_URL, or NULL (with the reason in err). */
static PGconn *try_connect(char *err, size_t errlen)
{
    const char *url = getenv("DATABASE_URL");
    if (!url)
        die("DATABASE_URL", "not set");
    const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *vals[] = { url, "2", "chain_driver", NULL };
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

static PGconn *connect_db(void)
{
    char err[512];
    PGconn *c = try_connect(err, sizeof err);
    if (!c)
        die("database", err);
    return c;
}

static rt_tee *open_tee(void)
{
    const char *err = NULL;
    rt_tee *t = rt_tee_open("sim", env_or("TEE_SIM_SEED", NULL), env_or("APP_ID", "toyapp"), &err);
    if (!t)
        die("TEE provider", err);
    return t;
}

static void sleep_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

/* ---- enqueue ----------------------------------------------------------------- */

static int cmd_enqueue(int n, const char *prefix)
{
    rt_tee *t = open_tee();
    uint8_t seed[32];
    rt_tee_info_t info;
    rt_chain_attestation a;
    memset(&a, 0, sizeof a);
    if (rt_tee_ed25519(t, "toyapp/ed25519/signing/v1", seed, a.public_key) != 0 || rt_tee_info(t, &info) != 0)
        die("TEE provider", rt_tee_error(t));
    rt_hex_decode(info.compose_hash, 64, a.compose_hash, 32);
    PGconn *db = connect_db();
    for (int i = 1; i <= n; i++) {
        char rid[128], when[32], err[256];
        snprintf(rid, sizeof rid, "%s-%d", prefix, i);
        rt_ser_now(when);
        if (rt_chain_time_parse(when, strlen(when), &a.deleted_at) != 0)
            die("time", when);
        /* A pseudonym-like user id hash, distinct per receipt. */
        rt_chain_receipt_hash(rid, strlen(rid), a.user_id_hash);
        a.user_id_hash[0] ^= 0x55;
        /* The record as the spec declares it, built and signed as toyapp
         * does: the signature over its canonical JSON without "signature". */
        size_t un, sn;
        char *u = rt_chain_attestation_json(&toy_rec_deletion_attestation_rec, &a, rid, RT_SER_UNSIGNED, &un,
                                            err, sizeof err);
        if (!u || rt_ed25519_sign(seed, (const uint8_t *)u, un, a.signature) != 0)
            die("signing", u ? "failed" : err);
        free(u);
        char *json = rt_chain_attestation_json(&toy_rec_deletion_attestation_rec, &a, rid, 0, &sn, err,
                                               sizeof err);
        if (!json)
            die("serializing", err);
        const char *v[] = { rid, json };
        int len[] = { 0, (int)sn }, fmt[] = { 0, 1 };
        PGresult *r = PQexecParams(db, "INSERT INTO deletion_outbox (receipt_id, attestation) VALUES ($1, $2)",
                                   2, NULL, v, len, fmt, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die("insert", PQresultErrorMessage(r));
        PQclear(r);
        free(json);
    }
    OPENSSL_cleanse(seed, sizeof seed);
    rt_tee_close(t);
    PQfinish(db);
    printf("enqueued %d\n", n);
    return 0;
}

/* ---- run ---------------------------------------------------------------------- */

/* The rows handed over by a round, written to the log together afterwards,
 * as the service's writer group-commits the deletion_posted entries. */
typedef struct handed_row {
    int64_t id;
    char receipt[128], tx[67];
    uint64_t block;
} handed_row;

typedef struct run_ctx {
    PGconn *db;
    long handed, duplicates;
    handed_row *rows;
    size_t n, cap;
} run_ctx;

static void on_posted(void *vctx, const poster_posted *pp)
{
    run_ctx *c = vctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->rows = realloc(c->rows, c->cap * sizeof *c->rows);
        if (!c->rows)
            die("run", "out of memory");
    }
    handed_row *r = &c->rows[c->n++];
    r->id = pp->outbox_id;
    snprintf(r->receipt, sizeof r->receipt, "%s", pp->receipt_id);
    snprintf(r->tx, sizeof r->tx, "%s", pp->tx_hash);
    r->block = pp->block_number;
}

/* One transaction sets posted_audit_id where it is still null, as the
 * writer will; a row it does not change was handed over before. */
static void flush_handed(run_ctx *c)
{
    if (!c->n)
        return;
    char *ids = malloc(c->n * 21 + 3);
    size_t k = 0;
    if (!ids)
        die("run", "out of memory");
    ids[k++] = '{';
    for (size_t i = 0; i < c->n; i++)
        k += (size_t)sprintf(ids + k, "%s%lld", i ? "," : "", (long long)c->rows[i].id);
    strcpy(ids + k, "}");
    const char *v[] = { ids };
    PGresult *r = PQexecParams(c->db, "UPDATE deletion_outbox SET posted_audit_id = id"
                                      " WHERE id = ANY($1::bigint[]) AND posted_audit_id IS NULL RETURNING id",
                               1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die("handing over", PQresultErrorMessage(r));
    for (size_t i = 0; i < c->n; i++) {
        int changed = 0;
        for (int j = 0; j < PQntuples(r) && !changed; j++)
            changed = strtoll(PQgetvalue(r, j, 0), NULL, 10) == c->rows[i].id;
        if (changed) {
            c->handed++;
            printf("posted %s %s %llu\n", c->rows[i].receipt, c->rows[i].tx,
                   (unsigned long long)c->rows[i].block);
        } else {
            c->duplicates++;
            printf("DUPLICATE %s\n", c->rows[i].receipt);
        }
    }
    PQclear(r);
    free(ids);
    c->n = 0;
    fflush(stdout);
}

static void on_log(void *ctx, const char *line)
{
    (void)ctx;
    printf("log: %s\n", line);
    fflush(stdout);
}

static long recorded_rows(PGconn *db)
{
    PGresult *r = PQexec(db, "SELECT count(*) FROM deletion_outbox WHERE block_number IS NOT NULL");
    long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

static volatile sig_atomic_t stop;
static void on_term(int s)
{
    (void)s;
    stop = 1;
}

static int cmd_run(int seconds, long want)
{
    char err[512];
    rt_chain_config cc;
    if (rt_chain_config_env(&cc, err, sizeof err) != 0)
        die("chain configuration", err);
    rt_tee *t = open_tee();
    uint8_t key[32], addr[20];
    if (rt_tee_secp256k1(t, RT_TEE_PATH_CHAIN, key, addr) != 0)
        die("TEE provider", rt_tee_error(t));
    rt_tee_close(t);
    poster_config pc;
    poster_config_init(&pc, &cc, key);
    OPENSSL_cleanse(key, sizeof key);
    pc.log = on_log;
    pc.receipt_wait_ms = atoi(env_or("POSTER_RECEIPT_WAIT_MS", "30000"));
    pc.stuck_ms = atoi(env_or("POSTER_STUCK_MS", "60000"));
    pc.rpc_timeout_ms = 3000;
    poster *p = poster_new(&pc, err, sizeof err);
    OPENSSL_cleanse(&pc, sizeof pc);
    if (!p)
        die("poster", err);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    run_ctx c = { .db = connect_db() };
    PGconn *pdb = connect_db();
    if (poster_unlogged(c.db, on_posted, &c, err, sizeof err) < 0)
        die("poster_unlogged", err);
    flush_handed(&c);
    printf("address %s\n", poster_address(p));
    fflush(stdout);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long got = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (stop || now.tv_sec - t0.tv_sec >= seconds)
            break;
        if (PQstatus(pdb) != CONNECTION_OK) {
            PQfinish(pdb);
            char e2[256];
            pdb = try_connect(e2, sizeof e2);
            if (!pdb) {
                sleep_ms(500);
                continue;
            }
        }
        int n = poster_round(p, pdb, on_posted, &c);
        flush_handed(&c);
        if (n < 0) {
            printf("fault: %s\n", poster_error(p));
            fflush(stdout);
        }
        if (want > 0 && (got = recorded_rows(c.db)) >= want)
            break;
        int d = poster_delay_ms(p);
        if (d)
            sleep_ms(d);
    }
    printf("handed %ld duplicates %ld recorded %ld leader %d\n", c.handed, c.duplicates, recorded_rows(c.db),
           poster_is_leader(p));
    poster_free(p);
    free(c.rows);
    PQfinish(pdb);
    PQfinish(c.db);
    return want > 0 && got < want ? 1 : 0;
}

static int cmd_status(void)
{
    PGconn *db = connect_db();
    PGresult *r = PQexec(db, "SELECT (SELECT count(*) FROM deletion_outbox),"
                             " (SELECT count(*) FROM deletion_outbox WHERE block_number IS NOT NULL),"
                             " (SELECT count(*) FROM deletion_outbox WHERE chain_tx IS NOT NULL),"
                             " (SELECT count(*) FROM deletion_outbox WHERE rejected),"
                             " (SELECT count(*) FROM deletion_outbox WHERE posted_audit_id IS NOT NULL),"
                             " (SELECT coalesce(string_agg(o || ':' || c, ' ' ORDER BY o), '') FROM"
                             "   (SELECT coalesce(outcome, 'in-flight') o, count(*) c FROM chain_txs GROUP BY 1) x)");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die("status", PQresultErrorMessage(r));
    printf("rows %s recorded %s in_flight %s rejected %s logged %s txs %s\n", PQgetvalue(r, 0, 0),
           PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4),
           PQgetvalue(r, 0, 5));
    PQclear(r);
    PQfinish(db);
    return 0;
}

/* ---- txgen ------------------------------------------------------------------- */

static uint64_t rng;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void rand_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)next_rand();
}

/* A number of 0..64 bits, the small ones (and 0) often. */
static uint64_t rand_quantity(void)
{
    int bits = (int)(next_rand() % 65);
    return bits == 0 ? 0 : bits == 64 ? next_rand() : next_rand() & ((1ull << bits) - 1);
}

static void print_hex(const char *key, const uint8_t *p, size_t n, const char *sep)
{
    char *h = malloc(2 * n + 1);
    if (!h)
        die("txgen", "out of memory");
    rt_hex_encode(p, n, h);
    printf("\"%s\":\"0x%s\"%s", key, h, sep);
    free(h);
}

static int cmd_txgen(int n, uint64_t seed)
{
    rng = seed ? seed : 1;
    for (int i = 0; i < n; i++) {
        uint8_t key[32], from[20], data[700], raw[700 + RT_ETH_TX_OVERHEAD], hash[32];
        do
            rand_bytes(key, 32);
        while (!rt_eth_seckey_valid(key));
        rt_eth_address(key, from);
        /* ethers reads a nonce as a JavaScript number: below 2^53. */
        rt_eth_tx tx = { .chain_id = 1 + rand_quantity() % 0xffffffffu, .nonce = rand_quantity() >> 11,
                         .max_priority_fee = rand_quantity(), .max_fee = rand_quantity(),
                         .gas_limit = rand_quantity(), .has_to = next_rand() % 8 != 0 };
        if (tx.max_priority_fee > tx.max_fee) {   /* a valid transaction, as ethers demands */
            uint64_t t = tx.max_fee;
            tx.max_fee = tx.max_priority_fee;
            tx.max_priority_fee = t;
        }
        rand_bytes(tx.to, 20);
        memset(tx.value, 0, 32);
        size_t vb = next_rand() % 33;
        rand_bytes(tx.value + 32 - vb, vb);
        tx.data_len = next_rand() % 4 == 0 ? 0 : next_rand() % sizeof data;
        rand_bytes(data, tx.data_len);
        tx.data = data;
        size_t len;
        if (rt_eth_tx_sign(&tx, key, raw, sizeof raw, &len, hash, NULL) != RT_ETH_OK)
            die("txgen", "signing failed");
        char from_s[RT_ETH_ADDR_STR];
        rt_eth_address_str(from, from_s);
        printf("{\"kind\":\"tx\",\"from\":\"%s\",\"chainId\":\"%llu\",\"nonce\":\"%llu\","
               "\"maxPriorityFeePerGas\":\"%llu\",\"maxFeePerGas\":\"%llu\",\"gasLimit\":\"%llu\",",
               from_s, (unsigned long long)tx.chain_id, (unsigned long long)tx.nonce,
               (unsigned long long)tx.max_priority_fee, (unsigned long long)tx.max_fee,
               (unsigned long long)tx.gas_limit);
        if (tx.has_to)
            print_hex("to", tx.to, 20, ",");
        print_hex("value", tx.value, 32, ",");
        print_hex("data", data, tx.data_len, ",");
        print_hex("hash", hash, 32, ",");
        print_hex("raw", raw, len, "}\n");
        uint8_t msg[400], h[32];
        size_t mn = next_rand() % sizeof msg;
        rand_bytes(msg, mn);
        rt_keccak256(msg, mn, h);
        printf("{\"kind\":\"keccak\",");
        print_hex("in", msg, mn, ",");
        print_hex("out", h, 32, "}\n");
        OPENSSL_cleanse(key, sizeof key);
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "migrate") == 0) {
        PGconn *db = connect_db();
        PGresult *r = PQexec(db, toy_schema_sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die("schema", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(db);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "enqueue") == 0)
        return cmd_enqueue(atoi(argv[2]), argv[3]);
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "run") == 0)
        return cmd_run(atoi(argv[2]), argc == 4 ? atol(argv[3]) : 0);
    if (argc == 2 && strcmp(argv[1], "status") == 0)
        return cmd_status();
    if (argc == 4 && strcmp(argv[1], "txgen") == 0)
        return cmd_txgen(atoi(argv[2]), strtoull(argv[3], NULL, 10));
    fprintf(stderr, "usage: chain_driver migrate | enqueue N PREFIX | run SECONDS [WANT] | status |"
                    " txgen N SEED\n");
    return 2;
}

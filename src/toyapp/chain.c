/*
 * chain.c — the chain's configuration at start and the poster thread
 * (chain.h).
 *
 * The poster (poster.c) needs a connection and the chain; it hands every
 * attestation the chain recorded to a callback.  Here the callback makes a
 * deletion_posted job (spec/endpoints/delete_data.spec) and queues it for
 * the writer, which appends the entry and, in the same transaction, marks
 * the outbox row as logged (h_chain.c), so nothing but the writer writes
 * the log.  A job that is not written (the primary away) sets chain.relog,
 * and the thread hands the rows recorded but not logged over again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "chain.h"
#include "poster.h"
#include "route.h"
#include "rt_rpc.h"
#include "sql.h"

#define RPC_TIMEOUT_MS 5000     /* one JSON-RPC call: also the longest a stop waits for the poster */
#define START_TIMEOUT_MS 3000   /* the node's chain id at start */
#define RELOG_EVERY_MS 1000     /* at most this often after a job was not written */

int chain_config(chain *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (rt_chain_config_env(&c->cfg, err, errlen))
        return -1;
    if (!c->cfg.on)
        return 0;
    const char *missing = !c->cfg.has_app_registry ? "CHAIN_APP_REGISTRY"
                        : !c->cfg.has_deletion_registry ? "CHAIN_DELETION_REGISTRY" : NULL;
    if (missing) {
        snprintf(err, errlen, "CHAIN is on but %s is not set; set it, or CHAIN=off", missing);
        return -1;
    }
    return 0;
}

/* scheme://host[:port] of url: no credentials, path or query. */
static void url_origin(const char *url, char *out, size_t cap)
{
    const char *s = strstr(url, "://");
    size_t scheme = s ? (size_t)(s + 3 - url) : 0;
    const char *h = url + scheme;
    size_t n = strcspn(h, "/?#");
    const char *at = memrchr(h, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    snprintf(out, cap, "%.*s%.*s", (int)scheme, url, (int)n, h);
}

int chain_start(chain *c, const keys *k, char *err, size_t errlen)
{
    if (!c->cfg.on)
        return 0;
    url_origin(c->cfg.rpc_url, c->rpc_origin, sizeof c->rpc_origin);
    rt_eth_address_str(c->cfg.deletion_registry, c->deletion_registry);
    rt_eth_address_str(c->cfg.app_registry, c->app_registry);
    atomic_store(&c->chain_id, c->cfg.chain_id);

    rt_rpc *rpc = rt_rpc_open(c->cfg.rpc_url, c->cfg.ca_file[0] ? c->cfg.ca_file : NULL, err, errlen);
    if (!rpc)
        return -1;
    rt_rpc_set_timeout_ms(rpc, START_TIMEOUT_MS);
    uint64_t id;
    int rc = 0;
    if (rt_rpc_chain_id(rpc, &id) != 0) {
        fprintf(stderr, "toyapp: the chain node at %s does not answer (%s); deletion attestations wait "
                        "in the outbox until it does\n", c->rpc_origin, rt_rpc_error(rpc));
    } else if (c->cfg.chain_id && id != c->cfg.chain_id) {
        snprintf(err, errlen, "the chain node at %s serves chain %llu, not CHAIN_ID=%llu", c->rpc_origin,
                 (unsigned long long)id, (unsigned long long)c->cfg.chain_id);
        rc = -1;
    } else {
        atomic_store(&c->chain_id, id);
    }
    rt_rpc_close(rpc);
    if (rc)
        return -1;

    poster_config pc;
    poster_config_init(&pc, &c->cfg, k->chain_seckey);
    pc.rpc_timeout_ms = RPC_TIMEOUT_MS;
    pc.stop = &g_app.stopping;
    c->poster = poster_new(&pc, err, errlen);
    rt_wipe(&pc, sizeof pc);
    return c->poster ? 0 : -1;
}

void chain_stop(chain *c)
{
    poster_free(c->poster);
    c->poster = NULL;
}

/* ---- the poster thread ------------------------------------------------------ */

/* A deletion_posted job that was not written (its batch failed): the row
 * stays unlogged until it is handed over again. */
static void posted_finish(job *j)
{
    if (j->status >= 500 || j->status == 0)
        atomic_store(&g_app.chain.relog, 1);
    job_free(j);
}

static void posted(void *ctx, const poster_posted *pp)
{
    (void)ctx;
    char id[24], block[24];
    snprintf(id, sizeof id, "%lld", (long long)pp->outbox_id);
    snprintf(block, sizeof block, "%llu", (unsigned long long)pp->block_number);
    const char *kv[] = { "outboxId", id, "receiptId", pp->receipt_id, "txHash", pp->tx_hash,
                         "blockNumber", block, NULL };
    rt_param_err e;
    job *j = route_job(TOY_R_deletion_posted, kv, &e);
    if (!j) {
        /* The outbox's own values out of the spec's bounds: it stays
         * unlogged, and says so. */
        fprintf(stderr, "toyapp: poster: outbox row %s (receipt %s) cannot be logged: %s\n", id,
                pp->receipt_id, e.message);
        return;
    }
    j->finish = posted_finish;
    route_dispatch(j);
}

/* Sleeps ms, or less once toyapp stops. */
static void nap(int ms)
{
    for (; ms > 0 && !atomic_load(&g_app.stopping); ms -= 100) {
        struct timespec t = { 0, (ms < 100 ? ms : 100) * 1000000L };
        nanosleep(&t, NULL);
    }
}

void *chain_main(void *arg)
{
    (void)arg;
    poster *p = g_app.chain.poster;
    db_server db = { .url = g_app.cfg.database_url };
    /* The thread's own statements (sql.h) end once toyapp stops, as the
     * poster's do (poster_config.stop). */
    sql_wait_bound(0, &g_app.stopping);
    int relog = 1;
    uint64_t last_relog = 0;
    char said[768] = "";
    while (!atomic_load(&g_app.stopping)) {
        PGconn *c = db_get(&db);
        if (!c) {
            nap(500);
            continue;
        }
        relog |= atomic_exchange(&g_app.chain.relog, 0);
        if (relog && now_ms() - last_relog >= RELOG_EVERY_MS) {
            char err[512];
            last_relog = now_ms();
            if (poster_unlogged(c, posted, NULL, err, sizeof err) < 0) {
                fprintf(stderr, "toyapp: poster: rows recorded but not logged: %s", err);
                db_check(&db);
                nap(500);
                continue;
            }
            relog = 0;
        }
        int n = poster_round(p, c, posted, NULL);
        if (n < 0 && strcmp(said, poster_error(p))) {
            snprintf(said, sizeof said, "%s", poster_error(p));
            fprintf(stderr, "toyapp: poster: %s (retrying with backoff)\n", said);
        } else if (n >= 0) {
            said[0] = 0;
        }
        if (poster_chain_id(p))
            atomic_store(&g_app.chain.chain_id, poster_chain_id(p));
        db_check(&db);
        nap(poster_delay_ms(p));
    }
    db_close(&db);
    return NULL;
}

/*
 * sequencer.c — puts committed audit entries into the one Merkle log.
 *
 * Exactly one instance sequences at a time: the one holding a session
 * advisory lock on the primary (if its connection dies, the lock goes with
 * it and another instance takes over).  Each round, in one transaction, it
 * locks the tree state row, takes the oldest queued batches (log_queue: a
 * row per committed batch, holding its entries' ids and leaf hashes),
 * appends their entries to the frontier, batch after batch in queue order
 * and each batch in its own order (O(log n) per entry; the subtree hashes
 * of 16 leaves and more that it completes go to tree_nodes, so a proof
 * needs O(log n) lookups), writes a segment per batch to log_segments
 * (its first leaf index, its entries' ids and leaf hashes: one row per
 * batch, not per entry), signs the new tree head and stores it.  Every write is an insert, or the delete of a
 * queue row: no entry is ever updated.  The log only grows at its
 * end: an entry whose transaction commits late is sequenced in a later
 * round, and no published tree head changes.
 *
 * A round commits with synchronous_commit on, waiting for the synchronous
 * replica however long it takes: Postgres shows a transaction to others only
 * once that wait is over, so no reader ever sees a tree head that the
 * primary alone holds, and a promoted replica continues from every head
 * ever served.  While the replica is away (SYNC_REPLICA=degrade) the log
 * waits; entries are sequenced once it is back.
 *
 * A round starts when this instance's writer pokes it after a commit, or
 * after IDLE_MS without one (another instance's commits), and at least
 * ROUND_GAP_MS after the previous round ended, so that under load each
 * takes many batches (as the 20 ms pause between rounds always did).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "rt_merkle.h"
#include "sequencer.h"
#include "sql.h"

#define SEQ_LOCK 0x73657175     /* "sequ" */
#define ROUND_ROWS 64       /* queued batches per round */
#define ROUND_GAP_MS 20     /* a round starts at least this long after the last one ended: it takes what came meanwhile */
#define IDLE_MS 100         /* with nothing queued, and no poke, the next look */

static db_server db;
static unsigned locked_gen;   /* the connection (db.gen) that holds the sequencer's lock, 0: none */

static void sleep_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

/* Pokes from the writer: a commit to sequence. */
static pthread_mutex_t poke_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poke_cond = PTHREAD_COND_INITIALIZER;
static int poked;

void sequencer_poke(void)
{
    pthread_mutex_lock(&poke_lock);
    poked = 1;
    pthread_cond_signal(&poke_cond);
    pthread_mutex_unlock(&poke_lock);
}

/* Waits until a poke or ms, then until ROUND_GAP_MS after the round that
 * ended at ended (ms, now_ms()). */
static void wait_round(int ms, uint64_t ended)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&poke_lock);
    while (!poked && !atomic_load(&g_app.stopping))
        if (pthread_cond_timedwait(&poke_cond, &poke_lock, &until))
            break;
    poked = 0;
    pthread_mutex_unlock(&poke_lock);
    uint64_t since = now_ms() - ended;
    if (since < ROUND_GAP_MS)
        sleep_ms((int)(ROUND_GAP_MS - since));
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

/* An id and a hash: a queued entry (audit id, leaf hash) or a stored
 * subtree (node id, its hash). */
typedef struct node { uint64_t id; uint8_t h[32]; } node;

/* Fills ids (int8[]) and hashes (bytea[]) with v[0..n), as the two array
 * parameters of an unnest() insert. */
static void id_hash_arrays(const node *v, size_t n, rt_pgarr *ids, rt_pgarr *hashes)
{
    rt_pgarr_begin(ids, RT_PG_OID_INT8);
    rt_pgarr_begin(hashes, RT_PG_OID_BYTEA);
    for (size_t i = 0; i < n; i++) {
        rt_pgarr_add_i64(ids, (int64_t)v[i].id);
        rt_pgarr_add(hashes, v[i].h, 32);
    }
    rt_pgarr_end(ids);
    rt_pgarr_end(hashes);
}

/* The subtrees an append completes that the log stores (logdb.c reads
 * them back). */
typedef struct node_list { node *v; size_t n; } node_list;

static void keep_node(void *ctx, unsigned level, uint64_t start, const uint8_t hash[32])
{
    node_list *l = ctx;
    if (level < RT_MERKLE_STORED_MIN_LEVEL)
        return;
    l->v[l->n].id = RT_MERKLE_NODE_ID(level, start);
    memcpy(l->v[l->n].h, hash, 32);
    l->n++;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const node *)a)->id, y = ((const node *)b)->id;
    return x < y ? -1 : x > y;
}

/* One round on c.  Returns the number of queue rows taken, or -1. */
static int round_once(PGconn *c)
{
    node_list nodes = { NULL, 0 };
    PGresult *r = NULL;
    rt_merkle_frontier f;
    if (sql_exec(c, "sequencer", "BEGIN", NULL))
        return -1;
    r = sql_query(c, "sequencer", "SELECT tree_size, frontier FROM tree_state WHERE id = 1 FOR UPDATE",
                  NULL, SQL_BINARY);
    if (!r || PQntuples(r) != 1)
        goto fail;
    rt_merkle_frontier_init(&f);
    uint64_t size = be64(PQgetvalue(r, 0, 0));
    if (size && rt_merkle_frontier_deserialize(&f, (const uint8_t *)PQgetvalue(r, 0, 1),
                                               (size_t)PQgetlength(r, 0, 1))) {
        fprintf(stderr, "toyapp: sequencer: the stored frontier is malformed\n");
        goto fail;
    }
    PQclear(r);
    r = NULL;
    if (f.size != size)
        goto fail;

    /* Take the oldest queued batches; they leave log_queue as their entries
     * enter the log, in this same transaction, in queue order, each batch's
     * entries in its own order: a segment per batch. */
    sql_args lim = { 0 };
    sql_int(&lim, ROUND_ROWS);
    r = sql_query(c, "sequencer", "DELETE FROM log_queue WHERE id IN (SELECT id FROM log_queue"
                                  " ORDER BY id LIMIT $1) RETURNING id, batch_id, audit_ids, leaf_hashes",
                  &lim, SQL_BINARY);
    if (!r)
        goto fail;
    int rows = PQntuples(r);
    if (rows == 0) {
        PQclear(r);
        sql_exec(c, "sequencer", "ROLLBACK", NULL);
        return 0;
    }
    size_t total = 0;
    for (int i = 0; i < rows; i++) {
        size_t ni = (size_t)PQgetlength(r, i, 2) / 8;
        if (PQgetlength(r, i, 0) != 8 || (!PQgetisnull(r, i, 1) && PQgetlength(r, i, 1) != 8) || !ni
            || (size_t)PQgetlength(r, i, 2) != ni * 8 || (size_t)PQgetlength(r, i, 3) != ni * 32) {
            fprintf(stderr, "toyapp: sequencer: a log_queue row is malformed\n");
            goto fail;
        }
        total += ni;
    }
    /* RETURNING keeps no order: the rows by queue id. */
    node *order = malloc((unsigned)rows * sizeof *order);
    nodes.v = malloc((2 * total + 64) * sizeof *nodes.v);
    if (!order || !nodes.v) {
        free(order);
        goto fail;
    }
    for (int i = 0; i < rows; i++) {
        order[i].id = be64(PQgetvalue(r, i, 0));
        memcpy(order[i].h, &i, sizeof i);
    }
    qsort(order, (size_t)rows, sizeof order[0], by_id);
    static rt_pgarr seg_first, seg_batch, seg_size, seg_ids, seg_leaves;   /* the segments' columns */
    rt_pgarr_begin(&seg_first, RT_PG_OID_INT8);
    rt_pgarr_begin(&seg_batch, RT_PG_OID_INT8);
    rt_pgarr_begin(&seg_size, RT_PG_OID_INT8);
    rt_pgarr_begin(&seg_ids, RT_PG_OID_BYTEA);
    rt_pgarr_begin(&seg_leaves, RT_PG_OID_BYTEA);
    for (int k = 0; k < rows; k++) {
        int i;
        memcpy(&i, order[k].h, sizeof i);
        const char *ids = PQgetvalue(r, i, 2), *leaves = PQgetvalue(r, i, 3);
        int n = PQgetlength(r, i, 2) / 8, batch = !PQgetisnull(r, i, 1);
        if (batch) {
            rt_pgarr_add_i64(&seg_first, (int64_t)f.size);
            rt_pgarr_add_i64(&seg_batch, (int64_t)be64(PQgetvalue(r, i, 1)));
            rt_pgarr_add_i64(&seg_size, n);
            rt_pgarr_add(&seg_ids, ids, (size_t)n * 8);
            rt_pgarr_add(&seg_leaves, leaves, (size_t)n * 32);
        }
        for (int e = 0; e < n; e++) {
            if (!batch) {
                /* Queued without its batch (an older release): a segment
                 * of its own, under minus its audit id. */
                rt_pgarr_add_i64(&seg_first, (int64_t)f.size);
                rt_pgarr_add_i64(&seg_batch, -(int64_t)be64(ids + 8 * e));
                rt_pgarr_add_i64(&seg_size, 1);
                rt_pgarr_add(&seg_ids, ids + 8 * e, 8);
                rt_pgarr_add(&seg_leaves, leaves + 32 * e, 32);
            }
            rt_merkle_frontier_append_subtrees(&f, (const uint8_t *)leaves + 32 * e, keep_node, &nodes);
        }
    }
    free(order);
    PQclear(r);
    r = NULL;
    rt_pgarr_end(&seg_first);
    rt_pgarr_end(&seg_batch);
    rt_pgarr_end(&seg_size);
    rt_pgarr_end(&seg_ids);
    rt_pgarr_end(&seg_leaves);
    /* The segments and the subtree hashes, each one statement of fixed text
     * whatever the round's size (rows as binary arrays, unnested). */
    sql_args la = { 0 };
    sql_array(&la, &seg_first);
    sql_array(&la, &seg_batch);
    sql_array(&la, &seg_size);
    sql_array(&la, &seg_ids);
    sql_array(&la, &seg_leaves);
    if (sql_exec(c, "sequencer", "INSERT INTO log_segments (first_leaf, batch_id, size, audit_ids, leaf_hashes)"
                                 " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[],"
                                 " $5::bytea[])", &la))
        goto fail;
    static rt_pgarr ids, hashes;
    if (nodes.n) {
        id_hash_arrays(nodes.v, nodes.n, &ids, &hashes);
        sql_args na = { 0 };
        sql_array(&na, &ids);
        sql_array(&na, &hashes);
        if (sql_exec(c, "sequencer", "INSERT INTO tree_nodes (id, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])"
                                     " ON CONFLICT (id) DO NOTHING", &na))
            goto fail;
    }
    /* The new signed tree head, and the frontier it grew from. */
    char ts[32];
    size_t tsn = rt_ser_now(ts);
    toy_rec_tree_head th = { .treeSize = f.size, .timestamp = { ts, tsn },
                             .publicKey = { g_app.meta.pub, 32 } };
    rt_merkle_frontier_root(&f, th.root);
    uint8_t sig[64];
    if (sign_record(&toy_rec_tree_head_rec, &th, sig))
        goto fail;
    th.signature = (rt_bytes){ sig, 64 };
    size_t hl;
    char *head = ser_alloc(&toy_rec_tree_head_rec, &th, 0, &hl);
    if (!head)
        goto fail;
    uint8_t fb[RT_MERKLE_FRONTIER_MAX_BYTES];
    size_t fl = rt_merkle_frontier_serialize(&f, fb, sizeof fb);
    sql_args ha = { 0 };
    sql_int(&ha, (int64_t)f.size);
    sql_bytes(&ha, th.root, 32);
    sql_bytes(&ha, head, hl);
    int bad = sql_exec(c, "sequencer", "INSERT INTO tree_heads (tree_size, root, head) VALUES ($1, $2, $3)", &ha);
    free(head);
    sql_args sa = { 0 };
    sql_int(&sa, (int64_t)f.size);
    sql_bytes(&sa, fb, fl);
    if (bad || sql_exec(c, "sequencer", "UPDATE tree_state SET tree_size = $1, frontier = $2 WHERE id = 1", &sa))
        goto fail;
    free(nodes.v);
    if (sql_exec(c, "sequencer", "COMMIT", NULL))
        return -1;
    return rows;
fail:
    PQclear(r);
    free(nodes.v);
    sql_exec(c, "sequencer", "ROLLBACK", NULL);
    return -1;
}

void *sequencer_main(void *arg)
{
    (void)arg;
    db.url = g_app.cfg.database_url;
    db.name = "toyapp-sequencer";
    /* A round's commit waits for the synchronous replica as long as it
     * takes (a tree head is visible only once on both nodes), or until
     * toyapp stops. */
    sql_wait_bound(0, &g_app.stopping);
    sql_args lock = { 0 };
    sql_int(&lock, SEQ_LOCK);
    while (!atomic_load(&g_app.stopping)) {
        PGconn *c = db_get(&db);
        if (!c) {
            sleep_ms(500);
            continue;
        }
        /* A session lock lives as long as its connection: a new connection
         * must take it again. */
        if (db.gen != locked_gen) {
            locked_gen = 0;
            PGresult *r = sql_query(c, "sequencer", "SELECT pg_try_advisory_lock($1)", &lock, SQL_TEXT);
            if (r && !strcmp(PQgetvalue(r, 0, 0), "t"))
                locked_gen = db.gen;
            PQclear(r);
            if (!locked_gen) {
                db_check(&db);
                sleep_ms(500);   /* another instance is the sequencer */
                continue;
            }
        }
        int n = round_once(c);
        if (n < 0) {
            db_check(&db);
            sleep_ms(100);
            continue;
        }
        if (n < ROUND_ROWS)
            wait_round(IDLE_MS, now_ms());
    }
    db_close(&db);
    return NULL;
}

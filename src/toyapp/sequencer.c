/*
 * sequencer.c — puts committed audit entries into the one Merkle log.
 *
 * Exactly one instance sequences at a time: the one holding a session
 * advisory lock on the primary (if its connection dies, the lock goes with
 * it and another instance takes over).  Each round, in one transaction, it
 * locks the tree state row, takes the oldest queued batches (log_queue: a
 * row per committed batch, holding its entries' ids and leaf hashes),
 * appends their entries in id order to the frontier (O(log n) per entry; the subtree
 * hashes of 16 leaves and more that it completes go to tree_nodes, so a
 * proof needs O(log n) lookups), writes them to log_leaves, signs the new
 * tree head and stores it.  Every write is an insert, or the delete of a
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

static db_server db;
static unsigned locked_gen;   /* the connection (db.gen) that holds the sequencer's lock, 0: none */

static void sleep_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
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
    node *ps = NULL;   /* the round's entries: audit id, leaf hash */
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
     * enter the log, in this same transaction. */
    sql_args lim = { 0 };
    sql_int(&lim, ROUND_ROWS);
    r = sql_query(c, "sequencer", "DELETE FROM log_queue WHERE id IN (SELECT id FROM log_queue"
                                  " ORDER BY id LIMIT $1) RETURNING audit_ids, leaf_hashes", &lim, SQL_BINARY);
    if (!r)
        goto fail;
    int rows = PQntuples(r), n = 0;
    if (rows == 0) {
        PQclear(r);
        sql_exec(c, "sequencer", "ROLLBACK", NULL);
        return 0;
    }
    size_t total = 0;
    for (int i = 0; i < rows; i++) {
        size_t ni = (size_t)PQgetlength(r, i, 0) / 8;
        if ((size_t)PQgetlength(r, i, 0) != ni * 8 || (size_t)PQgetlength(r, i, 1) != ni * 32) {
            fprintf(stderr, "toyapp: sequencer: a log_queue row is malformed\n");
            goto fail;
        }
        total += ni;
    }
    ps = malloc(total * sizeof *ps);
    nodes.v = malloc((2 * total + 64) * sizeof *nodes.v);
    if (!ps || !nodes.v)
        goto fail;
    for (int i = 0; i < rows; i++) {
        const char *ids = PQgetvalue(r, i, 0), *leaves = PQgetvalue(r, i, 1);
        for (int k = 0; k < PQgetlength(r, i, 0) / 8; k++, n++) {
            ps[n].id = be64(ids + 8 * k);
            memcpy(ps[n].h, leaves + 32 * k, 32);
        }
    }
    PQclear(r);
    r = NULL;
    qsort(ps, (size_t)n, sizeof ps[0], by_id);
    uint64_t first = f.size;
    for (int i = 0; i < n; i++)
        rt_merkle_frontier_append_subtrees(&f, ps[i].h, keep_node, &nodes);
    /* The leaves and the subtree hashes, each one statement of fixed text
     * whatever the round's size (rows as binary arrays, unnested). */
    static rt_pgarr ids, hashes;
    id_hash_arrays(ps, (size_t)n, &ids, &hashes);
    sql_args la = { 0 };
    sql_int(&la, (int64_t)first);
    sql_array(&la, &ids);
    sql_array(&la, &hashes);
    if (sql_exec(c, "sequencer", "INSERT INTO log_leaves (leaf_index, audit_id, leaf_hash)"
                                 " SELECT $1::bigint + t.ord - 1, t.id, t.leaf"
                                 " FROM unnest($2::bigint[], $3::bytea[]) WITH ORDINALITY AS t(id, leaf, ord)", &la))
        goto fail;
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
    free(ps);
    free(nodes.v);
    if (sql_exec(c, "sequencer", "COMMIT", NULL))
        return -1;
    return rows;
fail:
    PQclear(r);
    free(ps);
    free(nodes.v);
    sql_exec(c, "sequencer", "ROLLBACK", NULL);
    return -1;
}

void *sequencer_main(void *arg)
{
    (void)arg;
    db.url = g_app.cfg.database_url;
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
            sleep_ms(n > 0 ? 20 : 100);
    }
    db_close(&db);
    return NULL;
}

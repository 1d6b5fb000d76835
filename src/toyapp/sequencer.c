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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "rt_merkle.h"
#include "sequencer.h"

#define SEQ_LOCK 0x73657175     /* "sequ" */
#define ROUND_ROWS 64       /* queued batches per round */
#define NODE_ID(level, start) (((uint64_t)(level) << 56) | (start))
/* Subtrees below this level are not stored: a proof recomputes one from at
 * most 2^(NODE_MIN_LEVEL-1) leaves, and the log stores a node for every
 * 2^NODE_MIN_LEVEL entries instead of one for each.  logread.c agrees. */
#define NODE_MIN_LEVEL 4

static PGconn *conn;
static int have_lock;

static void sleep_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static PGresult *q(const char *sql, int n, const char *const *v, const int *len, const int *fmt)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, v, len, fmt, 1);
    int st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "toyapp: sequencer: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

static int exec0(const char *sql)
{
    PGresult *r = q(sql, 0, NULL, NULL, NULL);
    PQclear(r);
    return r ? 0 : -1;
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* An id and a hash: a queued entry (audit id, leaf hash) or a stored
 * subtree (node id, its hash). */
typedef struct node { uint64_t id; uint8_t h[32]; } node;

/* Fills ids (int8[]) and hashes (bytea[]) with v[0..n), as the two array
 * parameters of an unnest() insert. */
static void id_hash_arrays(const node *v, size_t n, pg_array *ids, pg_array *hashes)
{
    pg_array_begin(ids, PG_OID_INT8);
    pg_array_begin(hashes, PG_OID_BYTEA);
    for (size_t i = 0; i < n; i++) {
        uint8_t be[8];
        put_be64(be, v[i].id);
        pg_array_add(ids, be, 8);
        pg_array_add(hashes, v[i].h, 32);
    }
    pg_array_end(ids);
    pg_array_end(hashes);
}

/* Appends leaf to f and records every subtree it completes. */

static void append(rt_merkle_frontier *f, const uint8_t leaf[32], node *nodes, size_t *nn)
{
    uint8_t cur[32];
    memcpy(cur, leaf, 32);
    uint64_t n = f->size;
    int cnt = __builtin_popcountll(n);
    for (unsigned level = 0; n >> level & 1; level++) {
        rt_merkle_node(f->h[cnt - 1], cur, cur);
        memset(f->h[cnt - 1], 0, 32);
        cnt--;
        if (level + 1 >= NODE_MIN_LEVEL) {
            nodes[*nn].id = NODE_ID(level + 1, (n + 1) - (1ull << (level + 1)));
            memcpy(nodes[*nn].h, cur, 32);
            (*nn)++;
        }
    }
    memcpy(f->h[cnt], cur, 32);
    f->size = n + 1;
}


static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const node *)a)->id, y = ((const node *)b)->id;
    return x < y ? -1 : x > y;
}

/* One round.  Returns the number of queue rows taken, or -1. */
static int round_once(void)
{
    node *nodes = NULL;
    node *ps = NULL;   /* the round's entries: audit id, leaf hash */
    rt_merkle_frontier f;
    if (exec0("BEGIN"))
        return -1;
    PGresult *r = q("SELECT tree_size, frontier FROM tree_state WHERE id = 1 FOR UPDATE", 0, NULL, NULL, NULL);
    if (!r || PQntuples(r) != 1)
        goto fail_clear;
    rt_merkle_frontier_init(&f);
    uint64_t size = be64(PQgetvalue(r, 0, 0));
    if (size && rt_merkle_frontier_deserialize(&f, (const uint8_t *)PQgetvalue(r, 0, 1),
                                               (size_t)PQgetlength(r, 0, 1))) {
        fprintf(stderr, "toyapp: sequencer: the stored frontier is malformed\n");
        goto fail_clear;
    }
    PQclear(r);
    if (f.size != size)
        goto fail;

    char lim[16];
    snprintf(lim, sizeof lim, "%d", ROUND_ROWS);
    const char *lv[] = { lim };
    /* Take the oldest queued batches; they leave log_queue as their entries
     * enter the log, in this same transaction. */
    r = PQexecParams(conn, "DELETE FROM log_queue WHERE id IN (SELECT id FROM log_queue"
                           " ORDER BY id LIMIT $1) RETURNING audit_ids, leaf_hashes",
                     1, NULL, lv, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        goto fail_clear;
    int rows = PQntuples(r), n = 0;
    if (rows == 0) {
        PQclear(r);
        exec0("ROLLBACK");
        return 0;
    }
    size_t total = 0;
    for (int i = 0; i < rows; i++) {
        size_t ni = (size_t)PQgetlength(r, i, 0) / 8;
        if ((size_t)PQgetlength(r, i, 0) != ni * 8 || (size_t)PQgetlength(r, i, 1) != ni * 32) {
            fprintf(stderr, "toyapp: sequencer: a log_queue row is malformed\n");
            goto fail_clear;
        }
        total += ni;
    }
    ps = malloc(total * sizeof *ps);
    nodes = malloc((2 * total + 64) * sizeof *nodes);
    if (!ps || !nodes)
        goto fail_clear;
    for (int i = 0; i < rows; i++) {
        const char *ids = PQgetvalue(r, i, 0), *leaves = PQgetvalue(r, i, 1);
        for (int k = 0; k < PQgetlength(r, i, 0) / 8; k++, n++) {
            ps[n].id = be64(ids + 8 * k);
            memcpy(ps[n].h, leaves + 32 * k, 32);
        }
    }
    PQclear(r);
    qsort(ps, (size_t)n, sizeof ps[0], by_id);
    size_t nn = 0;
    uint64_t first = f.size;
    for (int i = 0; i < n; i++)
        append(&f, ps[i].h, nodes, &nn);
    /* The leaves and the subtree hashes, each one statement of fixed text
     * whatever the round's size (rows as binary arrays, unnested). */
    static pg_array ids, hashes;
    char firsts[24];
    snprintf(firsts, sizeof firsts, "%llu", (unsigned long long)first);
    id_hash_arrays(ps, (size_t)n, &ids, &hashes);
    {
        const char *v[] = { firsts, (const char *)ids.b, (const char *)hashes.b };
        int len[] = { 0, (int)ids.n, (int)hashes.n }, fmt[] = { 0, 1, 1 };
        r = q("INSERT INTO log_leaves (leaf_index, audit_id, leaf_hash)"
              " SELECT $1::bigint + t.ord - 1, t.id, t.leaf"
              " FROM unnest($2::bigint[], $3::bytea[]) WITH ORDINALITY AS t(id, leaf, ord)",
              3, v, len, fmt);
        if (!r)
            goto fail;
        PQclear(r);
    }
    if (nn) {
        id_hash_arrays(nodes, nn, &ids, &hashes);
        const char *v[] = { (const char *)ids.b, (const char *)hashes.b };
        int len[] = { (int)ids.n, (int)hashes.n }, fmt[] = { 1, 1 };
        r = q("INSERT INTO tree_nodes (id, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])"
              " ON CONFLICT (id) DO NOTHING", 2, v, len, fmt);
        if (!r)
            goto fail;
        PQclear(r);
    }
    /* The new signed tree head. */
    char ts[32];
    size_t tsn = rt_ser_now(ts);
    toy_rec_tree_head th = { .treeSize = f.size, .timestamp = { ts, tsn },
                             .publicKey = { g_app.k.sign_pub, 32 } };
    rt_merkle_frontier_root(&f, th.root);
    uint8_t sig[64];
    if (sign_record(&toy_rec_tree_head_rec, &th, sig))
        goto fail;
    th.signature = (rt_bytes){ sig, 64 };
    size_t hl;
    char *head = ser_alloc(&toy_rec_tree_head_rec, &th, 0, &hl);
    uint8_t fb[RT_MERKLE_FRONTIER_MAX_BYTES];
    size_t fl = rt_merkle_frontier_serialize(&f, fb, sizeof fb);
    char szs[24];
    snprintf(szs, sizeof szs, "%llu", (unsigned long long)f.size);
    const char *hv[] = { szs, (const char *)th.root, head };
    int hlen[] = { 0, 32, (int)hl }, hfmt[] = { 0, 1, 1 };
    r = head ? q("INSERT INTO tree_heads (tree_size, root, head) VALUES ($1, $2, $3)", 3, hv, hlen, hfmt) : NULL;
    free(head);
    if (!r)
        goto fail;
    PQclear(r);
    const char *sv[] = { szs, (const char *)fb };
    int slen[] = { 0, (int)fl }, sfmt[] = { 0, 1 };
    r = q("UPDATE tree_state SET tree_size = $1, frontier = $2 WHERE id = 1", 2, sv, slen, sfmt);
    if (!r)
        goto fail;
    PQclear(r);
    free(ps);
    free(nodes);
    if (exec0("COMMIT"))
        return -1;
    return rows;
fail_clear:
    PQclear(r);
fail:
    free(ps);
    free(nodes);
    exec0("ROLLBACK");
    return -1;
}

void *sequencer_main(void *arg)
{
    (void)arg;
    while (!g_app.stopping) {
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            char err[256];
            PQfinish(conn);
            have_lock = 0;
            conn = db_connect(g_app.cfg.database_url, err, sizeof err);
            if (!conn) {
                sleep_ms(500);
                continue;
            }
        }
        if (!have_lock) {
            char sql[64];
            snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%d)", SEQ_LOCK);
            PGresult *r = PQexec(conn, sql);
            have_lock = PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "t");
            PQclear(r);
            if (!have_lock) {
                sleep_ms(500);   /* another instance is the sequencer */
                continue;
            }
        }
        int n = round_once();
        if (n < 0 && PQstatus(conn) != CONNECTION_OK)
            continue;
        if (n < ROUND_ROWS)
            sleep_ms(n > 0 ? 20 : 100);
    }
    PQfinish(conn);
    return NULL;
}

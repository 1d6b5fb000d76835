/*
 * feed.c — the live feed read from the log (feed.h): the follower and the
 * backfill threads, and the rounds they make.
 *
 * A round is what one sequencer round added: the leaves from the previous
 * signed tree head's size to the next one's.  Its rows come from three
 * statements whatever its size: the heads (tree_heads), the leaves with
 * their entries and batch ids (log_leaf_range over log_segments, joined to
 * audit_log by its primary key), and the batch heads (batches, by primary
 * key).  A batch's entries are sequenced together, in its order (one
 * log_queue row, one segment each), so
 * every batch of a round lies whole inside it: its tree, and each entry's
 * path in it, are rebuilt in memory from the round's leaves, with no read
 * of audit_log by batch (which has no such index, on purpose).  The
 * consistency proof of the round's tree head is computed in memory as well,
 * from the frontier at the round's start and the round's leaves: every
 * node such a proof needs is one of the two.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "app.h"
#include "feed.h"
#include "logdb.h"
#include "rt_be.h"
#include "rt_ws.h"
#include "sql.h"

enum {
    FOLLOW_ROUNDS = 64,          /* rounds per read of the follower */
    FOLLOW_LEAVES = 1 << 16,
    BACKFILL_ROUNDS = 32,        /* per backfill chunk */
    BACKFILL_LEAVES = 2048,
    LATEST_PER_ROUND = 8,        /* entries=latest: at most this many of a round... */
    LATEST_PER_SECOND = 16,      /* ...and, live, this many a second (a burst of 2 s) */
    POLL_MS = 1000,              /* the follower reads at least this often */
};

/* ---- rounds: encoding ------------------------------------------------------- */

typedef struct wbuf { unsigned char *p; size_t len, cap; } wbuf;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "toyapp: out of memory\n");
        abort();
    }
    return p;
}

static void wb_reserve(wbuf *b, size_t more)
{
    if (LWS_PRE + b->len + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < LWS_PRE + b->len + more)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
        fprintf(stderr, "toyapp: out of memory\n");
        abort();
    }
    b->p = p;
    b->cap = cap;
}

/* Appends rec/obj as one WebSocket text frame.  Returns 0, or -1. */
static int put_frame(wbuf *b, const rt_record *rec, const void *obj)
{
    size_t n;
    char *json = ser_alloc(rec, obj, 0, &n);
    if (!json)
        return -1;
    uint8_t h[RT_WS_HEADER_MAX];
    size_t hn = rt_ws_header(h, RT_WS_OP_TEXT, 1, n, NULL);
    wb_reserve(b, hn + n);
    memcpy(b->p + LWS_PRE + b->len, h, hn);
    memcpy(b->p + LWS_PRE + b->len + hn, json, n);
    b->len += hn + n;
    free(json);
    return 0;
}

void feed_segment(const feed_round *r, int mode, size_t *off, size_t *len)
{
    size_t first = mode == FEED_ALL ? 0 : mode == FEED_LATEST ? r->latest : r->n;
    *off = r->off[first];
    *len = r->start_off - *off;
}

void feed_start_segment(const feed_round *r, size_t *off, size_t *len)
{
    *off = r->start_off;
    *len = r->start_len;
}

void feed_round_free(feed_round *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->off);
    free(r);
}

/* The start frame at the cursor's position. */
typedef struct cursor {
    uint64_t pos;
    rt_merkle_frontier f;
    log_head head;               /* the signed head of size pos (pos > 0) */
} cursor;

static int put_start(wbuf *b, const cursor *cur)
{
    toy_frame_start s = { .treeSize = cur->pos, .treeHead_null = cur->pos == 0,
                          .frontier = { cur->f.h, (size_t)__builtin_popcountll(cur->pos) } };
    if (cur->pos)
        s.treeHead = cur->head.th;
    return put_frame(b, &toy_frame_start_rec, &s);
}

/* A round with only the start frame at cur (where a stream begins). */
static feed_round *start_round(const cursor *cur)
{
    wbuf b = { 0 };
    if (put_start(&b, cur)) {
        free(b.p);
        return NULL;
    }
    feed_round *r = xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->from = r->to = cur->pos;
    r->buf = b.p;
    r->len = b.len;
    r->off = xmalloc(sizeof *r->off);
    r->off[0] = 0;
    r->start_off = 0;
    r->start_len = b.len;
    return r;
}

/* ---- the proof source over the frontier and a round's leaves --------------- */

/* Nodes of the tree of size m + n: those wholly before m are the frontier's
 * subtrees, those from m on are computed from the leaves. */
typedef struct memsrc {
    const rt_merkle_frontier *f;
    uint64_t m;
    const uint8_t (*leaves)[32];
    uint64_t n;
} memsrc;

static int mem_subtree(void *ctx, uint64_t start, unsigned level, uint8_t out[32])
{
    const memsrc *s = ctx;
    uint64_t end = start + (1ull << level);
    if (start >= s->m) {
        if (end - s->m > s->n)
            return -1;
        rt_merkle_root(s->leaves + (start - s->m), (size_t)1 << level, out);
        return 0;
    }
    if (end <= s->m) {
        /* One of the frontier's subtrees, exactly. */
        uint64_t at = 0;
        int k = 0;
        for (int bit = 63; bit >= 0; bit--)
            if (s->m >> bit & 1) {
                if (at == start && (unsigned)bit == level) {
                    memcpy(out, s->f->h[k], 32);
                    return 0;
                }
                at += 1ull << bit;
                k++;
            }
        return -1;
    }
    uint8_t l[32], r[32];
    if (!level || mem_subtree(ctx, start, level - 1, l) || mem_subtree(ctx, start + (end - start) / 2, level - 1, r))
        return -1;
    rt_merkle_node(l, r, out);
    return 0;
}

/* ---- rounds: reading ------------------------------------------------------- */


/* How many entries of each round a `latest` client gets. */
typedef struct budget {
    int timed;                   /* the follower: LATEST_PER_SECOND applies */
    double tokens;
    uint64_t at;                 /* ms */
} budget;

static size_t latest_count(budget *bu, size_t n)
{
    size_t k = n < LATEST_PER_ROUND ? n : LATEST_PER_ROUND;
    if (bu->timed) {
        uint64_t now = now_ms();
        bu->tokens += (double)(now - bu->at) * LATEST_PER_SECOND / 1000.0;
        if (bu->tokens > 2 * LATEST_PER_SECOND)
            bu->tokens = 2 * LATEST_PER_SECOND;
        bu->at = now;
        if ((double)k > bu->tokens)
            k = (size_t)bu->tokens;
        bu->tokens -= (double)k;
    }
    return k;
}

typedef struct batch_slot {
    uint64_t id;
    log_batch_head bh;
    int have;
    size_t round;                /* 1 + the first leaf of the round it was last met in */
} batch_slot;

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const batch_slot *)a)->id, y = ((const batch_slot *)b)->id;
    return x < y ? -1 : x > y;
}

/* The rows of one chunk: the leaves [pos, end) and what frames need. */
typedef struct chunk {
    size_t n;
    uint8_t (*leaf)[32];
    const char **entry;          /* into the result; NULL: purged */
    size_t *entry_len;
    size_t *slot;                /* its batch's slot */
    uint32_t *bindex;            /* its index in its batch */
    uint8_t (*path)[RT_MERKLE_BATCH_LEVELS - 1][32];
    uint8_t *npath;
    batch_slot *slots;
    size_t nslots;
} chunk;

static void chunk_free(chunk *k)
{
    free(k->leaf);
    free(k->entry);
    free(k->entry_len);
    free(k->slot);
    free(k->bindex);
    free(k->path);
    free(k->npath);
    free(k->slots);
    memset(k, 0, sizeof *k);
}

/* What one reading thread keeps: its connection and its scratch space. */
typedef struct reader {
    db_server db;
    rt_merkle_batch tree;
    uint8_t leaves[RT_MERKLE_BATCH_MAX][32];
    size_t members[RT_MERKLE_BATCH_MAX];
} reader;

/* Each entry's index and path in its batch's tree, for the leaves
 * [lo, hi) of one round (every batch of a round is whole in it). */
static int batch_paths(reader *rd, chunk *k, size_t lo, size_t hi)
{
    uint8_t (*leaves)[32] = rd->leaves;
    size_t *members = rd->members;
    rt_merkle_batch *tree = &rd->tree;
    /* The batches this round holds (at most the sequencer's 64 a round),
     * each gathered in one pass over the round's leaves. */
    for (size_t first = lo; first < hi; first++) {
        size_t s = k->slot[first];
        if (k->slots[s].round == lo + 1)
            continue;
        k->slots[s].round = lo + 1;
        size_t m = 0;
        for (size_t i = first; i < hi; i++)
            if (k->slot[i] == s) {
                if (m == RT_MERKLE_BATCH_MAX)
                    return -1;
                members[m] = i;
                memcpy(leaves[m++], k->leaf[i], 32);
            }
        if (!m)
            continue;
        const toy_rec_batch_head *bh = &k->slots[s].bh.bh;
        uint8_t root[32];
        if (bh->size != m || rt_merkle_batch_build(tree, (const uint8_t (*)[32])leaves, m, root)
            || memcmp(root, bh->root, 32)) {
            fprintf(stderr, "toyapp: feed: batch %llu is not whole in its round or its root differs\n",
                    (unsigned long long)bh->batchId);
            return -1;
        }
        for (size_t j = 0; j < m; j++) {
            k->bindex[members[j]] = (uint32_t)j;
            k->npath[members[j]] = (uint8_t)rt_merkle_batch_path(tree, j, k->path[members[j]]);
        }
    }
    return 0;
}

/* One round's frames (the leaves [lo, hi) of k, from cur->pos to head's
 * size); advances cur. */
static feed_round *make_round(chunk *k, size_t lo, size_t hi, const log_head *head, cursor *cur,
                              budget *bu)
{
    uint64_t from = cur->pos, to = head->th.treeSize;
    size_t n = hi - lo;
    wbuf b = { 0 };
    feed_round *r = xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->off = xmalloc((n + 1) * sizeof *r->off);
    r->from = from;
    r->to = to;
    r->n = n;
    for (size_t i = lo; i < hi; i++) {
        r->off[i - lo] = b.len;
        toy_frame_audit a = {
            .leafIndex = from + (i - lo), .entry = { k->entry[i], k->entry_len[i] },
            .entry_null = k->entry[i] == NULL, .batchHead = k->slots[k->slot[i]].bh.bh,
            .batchIndex = k->bindex[i], .batchPath = { k->path[i], k->npath[i] },
        };
        memcpy(a.leafHash, k->leaf[i], 32);
        if (put_frame(&b, &toy_frame_audit_rec, &a))
            goto fail;
    }
    r->off[n] = b.len;
    /* The tree head, consistent with the stream's previous one. */
    uint8_t proof[RT_MERKLE_MAX_PROOF][32];
    int np = 0;
    if (from) {
        memsrc ms = { &cur->f, from, (const uint8_t (*)[32])k->leaf + lo, n };
        rt_merkle_source src = { mem_subtree, NULL, &ms };
        np = rt_merkle_consistency_proof(&src, from, to, proof, RT_MERKLE_MAX_PROOF);
        if (np < 0) {
            fprintf(stderr, "toyapp: feed: no consistency proof from %llu to %llu\n",
                    (unsigned long long)from, (unsigned long long)to);
            goto fail;
        }
    }
    toy_frame_tree_head th = { .treeHead = head->th, .from = from, .consistency = { proof, (size_t)np } };
    if (put_frame(&b, &toy_frame_tree_head_rec, &th))
        goto fail;
    for (size_t i = lo; i < hi; i++)
        rt_merkle_frontier_append(&cur->f, k->leaf[i]);
    uint8_t root[32];
    rt_merkle_frontier_root(&cur->f, root);
    if (memcmp(root, head->th.root, 32))
        fprintf(stderr, "toyapp: feed: the leaves up to %llu do not give the signed root\n",
                (unsigned long long)to);
    cur->pos = to;
    cur->head = *head;
    cur->head.th.timestamp.p = cur->head.ts;
    cur->head.th.publicKey.p = cur->head.pub;
    cur->head.th.signature.p = cur->head.sig;
    r->start_off = b.len;
    if (put_start(&b, cur))
        goto fail;
    r->start_len = b.len - r->start_off;
    r->latest = n - latest_count(bu, n);
    r->buf = b.p;
    r->len = b.len;
    return r;
fail:
    free(b.p);
    feed_round_free(r);
    return NULL;
}

/*
 * Reads the rounds after cur->pos whose heads are at most until (at most
 * max_rounds of them and about max_leaves leaves, one round at least) and
 * appends them to *tail; *more says whether it stopped at a limit.  Returns
 * how many, or -1 (the database failed, or its rows are not a log; logged).
 */
static int read_rounds(reader *rd, PGconn *c, cursor *cur, uint64_t until, int max_rounds,
                       size_t max_leaves, budget *bu, feed_round ***tail, int *more)
{
    *more = 0;
    sql_args a = { 0 };
    sql_int(&a, (int64_t)cur->pos);
    sql_int(&a, until > INT64_MAX ? INT64_MAX : (int64_t)until);
    sql_int(&a, max_rounds);
    PGresult *hr = sql_query(c, "feed", "SELECT tree_size, head FROM tree_heads WHERE tree_size > $1"
                                        " AND tree_size <= $2 ORDER BY tree_size LIMIT $3", &a, SQL_BINARY);
    if (!hr)
        return -1;
    int nh = 0;
    while (nh < PQntuples(hr) && (nh == 0 || rt_be_get(PQgetvalue(hr, nh, 0), 8) - cur->pos <= max_leaves))
        nh++;
    if (!nh) {
        PQclear(hr);
        return 0;
    }
    *more = nh < PQntuples(hr) || PQntuples(hr) == max_rounds;
    uint64_t start = cur->pos, end = rt_be_get(PQgetvalue(hr, nh - 1, 0), 8);
    chunk k = { 0 };
    PGresult *lr = NULL, *br = NULL;
    int made = 0, failed = 1;
    size_t lo = 0;
    k.n = (size_t)(end - cur->pos);
    k.leaf = xmalloc(k.n * sizeof *k.leaf);
    k.entry = xmalloc(k.n * sizeof *k.entry);
    k.entry_len = xmalloc(k.n * sizeof *k.entry_len);
    k.slot = xmalloc(k.n * sizeof *k.slot);
    k.bindex = xmalloc(k.n * sizeof *k.bindex);
    k.path = xmalloc(k.n * sizeof *k.path);
    k.npath = xmalloc(k.n);
    k.slots = xmalloc(k.n * sizeof *k.slots);
    /* The leaves from their segments, then their entries, in leaf order. */
    uint64_t *aid = xmalloc(k.n * sizeof *aid);
    if (log_read_leaves(c, cur->pos, end, aid, k.leaf)) {
        free(aid);
        goto out;
    }
    rt_pgarr ai = { 0 };
    rt_pgarr_begin(&ai, RT_PG_OID_INT8);
    for (size_t i = 0; i < k.n; i++)
        rt_pgarr_add_i64(&ai, (int64_t)aid[i]);
    rt_pgarr_end(&ai);
    free(aid);
    sql_args la = { 0 };
    sql_array(&la, &ai);
    lr = sql_query(c, "feed", "SELECT a.entry, a.batch_id FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, ord)"
                              " JOIN audit_log a ON a.id = u.id ORDER BY u.ord", &la, SQL_BINARY);
    rt_pgarr_free(&ai);
    if (!lr)
        goto out;
    if ((size_t)PQntuples(lr) != k.n) {
        fprintf(stderr, "toyapp: feed: %d entries for the %zu leaves in [%llu, %llu)\n", PQntuples(lr), k.n,
                (unsigned long long)cur->pos, (unsigned long long)end);
        goto out;
    }
    for (size_t i = 0; i < k.n; i++) {
        int row = (int)i;
        if (PQgetisnull(lr, row, 1)) {
            fprintf(stderr, "toyapp: feed: leaf %llu is malformed\n", (unsigned long long)(cur->pos + i));
            goto out;
        }
        k.entry[i] = PQgetisnull(lr, row, 0) ? NULL : PQgetvalue(lr, row, 0);
        k.entry_len[i] = (size_t)PQgetlength(lr, row, 0);
        k.slots[i].id = rt_be_get(PQgetvalue(lr, row, 1), 8);
    }
    /* The distinct batches, sorted; each leaf's slot among them. */
    qsort(k.slots, k.n, sizeof *k.slots, by_id);
    for (size_t i = 0; i < k.n; i++)
        if (!k.nslots || k.slots[k.nslots - 1].id != k.slots[i].id)
            k.slots[k.nslots++] = (batch_slot){ .id = k.slots[i].id };
    for (size_t i = 0; i < k.n; i++) {
        batch_slot key = { .id = rt_be_get(PQgetvalue(lr, (int)i, 1), 8) };
        k.slot[i] = (size_t)((batch_slot *)bsearch(&key, k.slots, k.nslots, sizeof key, by_id) - k.slots);
    }
    rt_pgarr ids = { 0 };
    rt_pgarr_begin(&ids, RT_PG_OID_INT8);
    for (size_t s = 0; s < k.nslots; s++)
        rt_pgarr_add_i64(&ids, (int64_t)k.slots[s].id);
    rt_pgarr_end(&ids);
    sql_args ba = { 0 };
    sql_array(&ba, &ids);
    br = sql_query(c, "feed", "SELECT batch_id, head FROM batches WHERE batch_id = ANY($1::bigint[])", &ba,
                   SQL_BINARY);
    rt_pgarr_free(&ids);
    if (!br)
        goto out;
    for (int i = 0; i < PQntuples(br); i++) {
        batch_slot key = { .id = rt_be_get(PQgetvalue(br, i, 0), 8) };
        batch_slot *s = bsearch(&key, k.slots, k.nslots, sizeof key, by_id);
        if (s && !log_parse_batch_head(PQgetvalue(br, i, 1), (size_t)PQgetlength(br, i, 1), &s->bh))
            s->have = 1;
    }
    for (size_t s = 0; s < k.nslots; s++)
        if (!k.slots[s].have) {
            fprintf(stderr, "toyapp: feed: batch %llu has no readable head\n", (unsigned long long)k.slots[s].id);
            goto out;
        }
    /* Each round: paths in its batches, then its frames. */
    for (int h = 0; h < nh; h++) {
        log_head head;
        if (log_parse_head(PQgetvalue(hr, h, 1), (size_t)PQgetlength(hr, h, 1), &head)
            || head.th.treeSize != rt_be_get(PQgetvalue(hr, h, 0), 8)) {
            fprintf(stderr, "toyapp: feed: the tree head of size %llu is malformed\n",
                    (unsigned long long)rt_be_get(PQgetvalue(hr, h, 0), 8));
            goto out;
        }
        size_t hi = (size_t)(head.th.treeSize - start);
        if (head.th.treeSize <= cur->pos || batch_paths(rd, &k, lo, hi))
            goto out;
        feed_round *r = make_round(&k, lo, hi, &head, cur, bu);
        if (!r)
            goto out;
        **tail = r;
        *tail = &r->next;
        lo = hi;
        made++;
    }
    failed = 0;
out:
    chunk_free(&k);
    PQclear(hr);
    PQclear(lr);
    PQclear(br);
    /* Rounds made before a failure stand (cur is past them). */
    return failed && !made ? -1 : made;
}

/* ---- the cursor --------------------------------------------------------------- */

/* Sets cur at size (0: the empty log) with head, the signed head of that
 * size: the frontier from the stored subtrees, checked against its root. */
static int cursor_at(PGconn *c, cursor *cur, uint64_t size, const log_head *head)
{
    memset(cur, 0, sizeof *cur);
    rt_merkle_frontier_init(&cur->f);
    if (!size)
        return 0;
    rt_merkle_source src = log_source(c);
    uint8_t root[32];
    if (rt_merkle_frontier_from_source(&cur->f, &src, size))
        return -1;
    rt_merkle_frontier_root(&cur->f, root);
    if (memcmp(root, head->th.root, 32)) {
        fprintf(stderr, "toyapp: feed: the stored log of size %llu does not give its signed root\n",
                (unsigned long long)size);
        return -1;
    }
    cur->pos = size;
    cur->head = *head;
    cur->head.th.timestamp.p = cur->head.ts;
    cur->head.th.publicKey.p = cur->head.pub;
    cur->head.th.signature.p = cur->head.sig;
    return 0;
}

/* ---- the threads ---------------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;                 /* requests for the backfill thread */
    feed_req *queue, **queue_tail;
    feed_round *rounds, **rounds_tail;   /* the follower's, for the service thread */
    feed_req *answered, **answered_tail;
    int wake[2];                         /* ends the follower's wait at shutdown */
    int kick[2];                         /* wakes it when the first session comes */
    atomic_int demand;                   /* sessions attached (service thread's count) */
    atomic_uint epoch;                   /* the follower's periods of reading, counted */
    reader *follow_rd, *backfill_rd;
    pthread_t follower, backfill;
    int started;
} F = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .wake = { -1, -1 }, .kick = { -1, -1 } };

void feed_demand(int sessions)
{
    if (!atomic_exchange(&F.demand, sessions) && sessions && F.kick[1] >= 0 && write(F.kick[1], "x", 1) < 0) {
        /* full: the follower has a wake-up waiting already */
    }
}

unsigned feed_epoch(void)
{
    return atomic_load(&F.epoch);
}

static void publish(feed_round *list, feed_round **tail)
{
    for (feed_round *r = list; r; r = r->next)
        r->epoch = atomic_load(&F.epoch);
    pthread_mutex_lock(&F.lock);
    *F.rounds_tail = list;
    F.rounds_tail = tail;
    pthread_mutex_unlock(&F.lock);
    lws_cancel_service(g_app.lws);
}

/* Waits up to ms for a notification on c (or the stop pipe, or a kick). */
static void wait_notify(PGconn *c, int ms)
{
    struct pollfd p[3] = { { c ? PQsocket(c) : -1, POLLIN, 0 }, { F.wake[0], POLLIN, 0 }, { F.kick[0], POLLIN, 0 } };
    if (c) {
        PQconsumeInput(c);
        PGnotify *n;
        int any = 0;
        while ((n = PQnotifies(c))) {
            PQfreemem(n);
            any = 1;
        }
        if (any)
            return;   /* it came while we were reading: read again now */
    }
    int n = poll(p, 3, ms);
    char drain[64];
    if (n > 0 && (p[2].revents & POLLIN) && read(F.kick[0], drain, sizeof drain) < 0) {
        /* nothing to drain after all (nonblocking) */
    }
    if (n > 0 && c) {
        PQconsumeInput(c);
        PGnotify *n;
        while ((n = PQnotifies(c)))
            PQfreemem(n);
    }
}

/* The follower: one cursor at the log's end, shared by every live client. */
static void *follow_main(void *arg)
{
    reader *rd = arg;
    cursor cur;
    int have = 0;
    unsigned listening = 0;
    budget bu = { .timed = 1, .tokens = 2 * LATEST_PER_SECOND, .at = now_ms() };
    while (!atomic_load(&g_app.stopping)) {
        PGconn *c = db_get(&rd->db);
        if (!c) {
            wait_notify(NULL, 500);
            continue;
        }
        if (rd->db.gen != listening) {
            if (sql_exec(c, "feed", "LISTEN toy_log", NULL)) {
                db_check(&rd->db);
                wait_notify(NULL, 500);
                continue;
            }
            listening = rd->db.gen;
        }
        if (!atomic_load(&F.demand)) {
            /* No session attached: nothing is read, and the rounds the log
             * gains meanwhile are skipped.  When one attaches, the stream
             * starts again at the log's end (a new start round, of a new
             * epoch); a session that was further back backfills. */
            if (have)
                atomic_fetch_add(&F.epoch, 1);
            have = 0;
            wait_notify(PQstatus(c) == CONNECTION_OK ? c : NULL, POLL_MS);
            continue;
        }
        if (!have) {
            log_head head;
            int found = 0;
            if (log_load_head(c, 0, &head, &found) || cursor_at(c, &cur, found ? head.th.treeSize : 0, &head)) {
                db_check(&rd->db);
                wait_notify(NULL, 500);
                continue;
            }
            feed_round *r = start_round(&cur);
            if (r)
                publish(r, &r->next);
            have = r != NULL;
            if (!have)
                continue;
        }
        int more = 1;
        while (more && !atomic_load(&g_app.stopping)) {
            feed_round *list = NULL, **tail = &list;
            int n = read_rounds(rd, c, &cur, UINT64_MAX, FOLLOW_ROUNDS, FOLLOW_LEAVES, &bu, &tail, &more);
            if (list)
                publish(list, tail);
            if (n < 0) {
                db_check(&rd->db);
                break;
            }
        }
        wait_notify(PQstatus(c) == CONNECTION_OK ? c : NULL, POLL_MS);
    }
    return NULL;
}

static void answer(feed_req *r)
{
    pthread_mutex_lock(&F.lock);
    r->next = NULL;
    *F.answered_tail = r;
    F.answered_tail = &r->next;
    pthread_mutex_unlock(&F.lock);
    lws_cancel_service(g_app.lws);
}

static void refuse(feed_req *r, unsigned code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(feed_req *r, unsigned code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->close_code = code;
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

/* One chunk of one client's backfill. */
static void backfill_one(reader *rd, feed_req *req)
{
    feed_round **tail = &req->rounds;
    PGconn *c = db_get(&rd->db);
    cursor cur;
    if (!c) {
        refuse(req, RT_WS_CLOSE_TRY_LATER, "the log cannot be read now; resume with ?from=%llu later",
               (unsigned long long)req->from);
        return;
    }
    if (req->first) {
        PGresult *r = sql_query(c, "feed", "SELECT coalesce(max(tree_size), 0) FROM tree_heads", NULL, SQL_TEXT);
        if (!r)
            goto down;
        uint64_t size = (uint64_t)sql_int_at(r, 0, 0);
        PQclear(r);
        if (req->from > size) {
            refuse(req, RT_WS_CLOSE_POLICY, "from=%llu is beyond the log, whose size is %llu",
                   (unsigned long long)req->from, (unsigned long long)size);
            return;
        }
        sql_args a = { 0 };
        sql_int(&a, (int64_t)req->from);
        r = sql_query(c, "feed", "SELECT head FROM tree_heads WHERE tree_size <= $1"
                                 " ORDER BY tree_size DESC LIMIT 1", &a, SQL_BINARY);
        if (!r)
            goto down;
        log_head head;
        int bad = PQntuples(r) && log_parse_head(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), &head);
        uint64_t at = PQntuples(r) && !bad ? head.th.treeSize : 0;
        PQclear(r);
        if (bad || cursor_at(c, &cur, at, &head))
            goto down;
        feed_round *s = start_round(&cur);
        if (!s)
            goto down;
        *tail = s;
        tail = &s->next;
        req->first = 0;
    } else {
        memset(&cur, 0, sizeof cur);
        cur.pos = req->from;
        cur.f = req->f;
        rt_merkle_source src = log_source(c);
        if (!req->have_f && rt_merkle_frontier_from_source(&cur.f, &src, cur.pos))
            goto down;
    }
    budget bu = { 0 };
    int more = 0;
    int n = read_rounds(rd, c, &cur, req->until, BACKFILL_ROUNDS, BACKFILL_LEAVES, &bu, &tail, &more);
    if (n < 0 && !req->rounds)
        goto down;
    req->from = cur.pos;
    req->f = cur.f;
    req->have_f = 1;
    req->done = n >= 0 && !more;
    return;
down:
    db_check(&rd->db);
    for (feed_round *r = req->rounds, *next; r; r = next) {
        next = r->next;
        feed_round_free(r);
    }
    req->rounds = NULL;
    refuse(req, RT_WS_CLOSE_TRY_LATER, "the log cannot be read now; resume with ?from=%llu later",
           (unsigned long long)req->from);
}

static void *backfill_main(void *arg)
{
    reader *rd = arg;
    for (;;) {
        pthread_mutex_lock(&F.lock);
        while (!F.queue && !atomic_load(&g_app.stopping))
            pthread_cond_wait(&F.cond, &F.lock);
        feed_req *r = F.queue;
        if (r) {
            F.queue = r->next;
            if (!F.queue)
                F.queue_tail = &F.queue;
        }
        pthread_mutex_unlock(&F.lock);
        if (!r)
            break;
        r->next = NULL;
        r->rounds = NULL;
        if (atomic_load(&g_app.stopping))
            refuse(r, RT_WS_CLOSE_GOING_AWAY, "the server is stopping; resume with ?from=%llu",
                   (unsigned long long)r->from);
        else
            backfill_one(rd, r);
        answer(r);
    }
    return NULL;
}

void feed_request(feed_req *r)
{
    r->next = NULL;
    pthread_mutex_lock(&F.lock);
    *F.queue_tail = r;
    F.queue_tail = &r->next;
    pthread_cond_signal(&F.cond);
    pthread_mutex_unlock(&F.lock);
}

void feed_collect(feed_round **rounds, feed_req **answered)
{
    pthread_mutex_lock(&F.lock);
    *rounds = F.rounds;
    *answered = F.answered;
    F.rounds = NULL;
    F.rounds_tail = &F.rounds;
    F.answered = NULL;
    F.answered_tail = &F.answered;
    pthread_mutex_unlock(&F.lock);
}

int feed_start(void)
{
    /* The frames made here are those spec/ declares for GET /ws. */
    unsigned declared = 0;
#define XX(route, frames) declared |= TOY_R_##route == TOY_R_ws ? (frames) : 0u;
    TOY_WEBSOCKETS(XX)
#undef XX
    unsigned made = 1u << TOY_F_start | 1u << TOY_F_audit | 1u << TOY_F_tree_head;
    if ((declared & made) != made) {
        fprintf(stderr, "toyapp: spec/ does not declare every frame GET /ws sends\n");
        return -1;
    }
    F.queue_tail = &F.queue;
    F.rounds_tail = &F.rounds;
    F.answered_tail = &F.answered;
    if (pipe(F.wake) || pipe2(F.kick, O_NONBLOCK))
        return -1;
    F.follow_rd = xmalloc(sizeof *F.follow_rd);
    F.backfill_rd = xmalloc(sizeof *F.backfill_rd);
    memset(F.follow_rd, 0, sizeof *F.follow_rd);
    memset(F.backfill_rd, 0, sizeof *F.backfill_rd);
    F.follow_rd->db.url = F.backfill_rd->db.url = g_app.cfg.database_url;
    F.follow_rd->db.name = "toyapp-feed";
    F.backfill_rd->db.name = "toyapp-backfill";
    if (pthread_create(&F.follower, NULL, follow_main, F.follow_rd))
        return -1;
    if (pthread_create(&F.backfill, NULL, backfill_main, F.backfill_rd)) {
        F.started = 1;
        return -1;
    }
    F.started = 2;
    return 0;
}

void feed_stop(void)
{
    if (!F.started)
        return;
    if (write(F.wake[1], "x", 1) < 0)
        perror("toyapp: feed");
    pthread_mutex_lock(&F.lock);
    pthread_cond_broadcast(&F.cond);
    pthread_mutex_unlock(&F.lock);
    pthread_join(F.follower, NULL);
    if (F.started > 1)
        pthread_join(F.backfill, NULL);
    F.started = 0;
    /* Requests still queued go back unanswered, for their owner to free. */
    pthread_mutex_lock(&F.lock);
    for (feed_req *r = F.queue, *next; r; r = next) {
        next = r->next;
        r->next = NULL;
        r->rounds = NULL;
        *F.answered_tail = r;
        F.answered_tail = &r->next;
    }
    F.queue = NULL;
    F.queue_tail = &F.queue;
    pthread_mutex_unlock(&F.lock);
    db_close(&F.follow_rd->db);
    db_close(&F.backfill_rd->db);
    free(F.follow_rd);
    free(F.backfill_rd);
    close(F.wake[0]);
    close(F.wake[1]);
    close(F.kick[0]);
    close(F.kick[1]);
    F.kick[0] = F.kick[1] = -1;
}

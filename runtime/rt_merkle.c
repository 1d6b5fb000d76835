/* rt_merkle.c — RFC 6962 / RFC 9162 Merkle tree math (see rt_merkle.h). */
#include "rt_merkle.h"

#include <string.h>

#include <nettle/sha2.h>

#define HASH RT_MERKLE_HASH

/* ------------------------------------------------------- bit utilities */

static unsigned popcount64(uint64_t x)
{
    unsigned c = 0;
    for (; x; x &= x - 1)
        c++;
    return c;
}

/* Number of trailing zero bits; x must be nonzero. */
static unsigned ctz64(uint64_t x)
{
    unsigned c = 0;
    for (; !(x & 1); x >>= 1)
        c++;
    return c;
}

/* Position of the highest set bit plus one; 0 for 0. */
static unsigned bitlen64(uint64_t x)
{
    unsigned c = 0;
    for (; x; x >>= 1)
        c++;
    return c;
}

static uint64_t shr64(uint64_t x, unsigned s) { return s < 64 ? x >> s : 0; }

/* ------------------------------------------------------------- hashing */

void rt_merkle_leaf(const uint8_t *data, size_t n, uint8_t out[HASH])
{
    static const uint8_t prefix = 0x00;
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, 1, &prefix);
    if (n)
        sha256_update(&c, n, data);
    sha256_digest(&c, HASH, out);
}

void rt_merkle_node(const uint8_t l[HASH], const uint8_t r[HASH], uint8_t out[HASH])
{
    static const uint8_t prefix = 0x01;
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, 1, &prefix);
    sha256_update(&c, HASH, l);
    sha256_update(&c, HASH, r);
    /* Both inputs are absorbed before out is written, so out may alias them. */
    sha256_digest(&c, HASH, out);
}

void rt_merkle_empty_root(uint8_t out[HASH])
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_digest(&c, HASH, out);
}

void rt_merkle_root(const uint8_t (*leaves)[HASH], size_t n, uint8_t out[HASH])
{
    /* A frontier is exactly the O(log n) stack the recursive definition
     * would need, without the recursion. */
    rt_merkle_frontier f;
    rt_merkle_frontier_init(&f);
    for (size_t i = 0; i < n; i++)
        rt_merkle_frontier_append(&f, leaves[i]);
    rt_merkle_frontier_root(&f, out);
}

/* ------------------------------------------------------------ frontier */

void rt_merkle_frontier_init(rt_merkle_frontier *f) { memset(f, 0, sizeof *f); }

int rt_merkle_frontier_append(rt_merkle_frontier *f, const uint8_t leaf_hash[HASH])
{
    return rt_merkle_frontier_append_subtrees(f, leaf_hash, NULL, NULL);
}

int rt_merkle_frontier_append_subtrees(rt_merkle_frontier *f, const uint8_t leaf_hash[HASH],
                                       rt_merkle_subtree_fn fn, void *ctx)
{
    if (f->size == UINT64_MAX)
        return RT_MERKLE_EINVAL;
    unsigned cnt = popcount64(f->size);
    /* The low run of one bits of size are subtrees of size 1, 2, 4, ...
     * that the new leaf completes into one subtree: merge them right to
     * left.  The result lands in the slot of the leftmost merged one.
     * Merge j completes the subtree of level j that ends at the new leaf. */
    unsigned t = ctz64(~f->size);
    uint8_t carry[HASH];
    memcpy(carry, leaf_hash, HASH);
    for (unsigned j = 1; j <= t; j++) {
        rt_merkle_node(f->h[cnt - j], carry, carry);
        if (fn)
            fn(ctx, j, f->size + 1 - ((uint64_t)1 << j), carry);
    }
    memcpy(f->h[cnt - t], carry, HASH);
    if (t > 1)
        memset(f->h[cnt - t + 1], 0, (size_t)(t - 1) * HASH);
    f->size++;
    return 0;
}

void rt_merkle_frontier_root(const rt_merkle_frontier *f, uint8_t out[HASH])
{
    unsigned cnt = popcount64(f->size);
    if (cnt == 0) {
        rt_merkle_empty_root(out);
        return;
    }
    /* MTH splits at the largest power of two, so the root is the leftmost
     * subtree joined with the root of the rest: fold from the right. */
    uint8_t acc[HASH];
    memcpy(acc, f->h[cnt - 1], HASH);
    for (unsigned j = cnt - 1; j > 0; j--)
        rt_merkle_node(f->h[j - 1], acc, acc);
    memcpy(out, acc, HASH);
}

size_t rt_merkle_frontier_serialized_len(const rt_merkle_frontier *f)
{
    return 8 + (size_t)popcount64(f->size) * HASH;
}

size_t rt_merkle_frontier_serialize(const rt_merkle_frontier *f, uint8_t *buf, size_t cap)
{
    size_t len = rt_merkle_frontier_serialized_len(f);
    if (cap < len)
        return 0;
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(f->size >> (56 - 8 * i));
    memcpy(buf + 8, f->h, len - 8);
    return len;
}

int rt_merkle_frontier_deserialize(rt_merkle_frontier *f, const uint8_t *buf, size_t n)
{
    if (n < 8)
        return -1;
    uint64_t size = 0;
    for (int i = 0; i < 8; i++)
        size = size << 8 | buf[i];
    size_t hashes = popcount64(size);
    /* Exact length only: trailing bytes would mean a different writer. */
    if (n != 8 + hashes * HASH)
        return -1;
    f->size = size;
    memcpy(f->h, buf + 8, hashes * HASH);
    memset((uint8_t *)f->h + hashes * HASH, 0, (RT_MERKLE_MAX_HEIGHT - hashes) * HASH);
    return 0;
}

/* -------------------------------------------------------- node sources */

/* MTH(D[lo:hi]) of a node of the tree: hi - lo a power of two with lo
 * aligned to it, or a right-edge node with lo aligned to the next power of
 * two above hi - lo. */
static int source_node(const rt_merkle_source *src, uint64_t lo, uint64_t hi, uint8_t out[HASH])
{
    uint64_t len = hi - lo;
    if ((len & (len - 1)) == 0)
        return src->subtree(src->ctx, lo, ctz64(len), out) ? RT_MERKLE_ESOURCE : 0;
    if (src->range)
        return src->range(src->ctx, lo, hi, out) ? RT_MERKLE_ESOURCE : 0;
    /* The node is node(P1, node(P2, ... Pk)) over the perfect subtrees of
     * the set bits of len, largest first: build it from the smallest. */
    uint8_t piece[HASH];
    int first = 1;
    while (len) {
        uint64_t b = len & ~(len - 1); /* lowest set bit */
        if (src->subtree(src->ctx, lo + len - b, ctz64(b), first ? out : piece))
            return RT_MERKLE_ESOURCE;
        if (!first)
            rt_merkle_node(piece, out, out);
        first = 0;
        len -= b;
    }
    return 0;
}

/*
 * Hashes of the path from the node at `level` above leaf x up to the root
 * of the tree of size n, bottom-up.  Below bit `inner` the ancestors of x
 * and of the last leaf n-1 differ, so x's ancestor has a sibling, which may
 * be the (possibly partial) right-edge node; from `inner` up, x's ancestor
 * is on the right edge and only a left sibling, always perfect, exists.
 */
static unsigned path_len(uint64_t x, uint64_t n, unsigned level)
{
    unsigned inner = bitlen64(x ^ (n - 1));
    unsigned below = inner > level ? inner - level : 0;
    return below + popcount64(shr64(x, inner > level ? inner : level));
}

static int path_hashes(const rt_merkle_source *src, uint64_t x, uint64_t n, unsigned level,
                       uint8_t (*out)[HASH])
{
    unsigned inner = bitlen64(x ^ (n - 1));
    size_t k = 0;
    for (unsigned i = level; i < 64; i++) {
        uint64_t a = x >> i, span = UINT64_C(1) << i;
        int rc = 0;
        if (i < inner) {
            uint64_t lo = (a ^ 1) << i;
            uint64_t hi = n - lo > span ? lo + span : n;
            rc = source_node(src, lo, hi, out[k++]);
        } else if (a & 1) {
            rc = src->subtree(src->ctx, (a - 1) << i, i, out[k++]) ? RT_MERKLE_ESOURCE : 0;
        } else if (a == 0) {
            break;
        }
        if (rc)
            return rc;
    }
    return (int)k;
}

int rt_merkle_inclusion_proof_len(uint64_t index, uint64_t size)
{
    if (index >= size)
        return RT_MERKLE_EINVAL;
    return (int)path_len(index, size, 0);
}

int rt_merkle_consistency_proof_len(uint64_t m, uint64_t n)
{
    if (m > n)
        return RT_MERKLE_EINVAL;
    if (m == n || m == 0)
        return 0;
    unsigned level = ctz64(m);
    /* The old root is the largest perfect subtree ending at m, unless m is a
     * power of two (the verifier then has it: it is root_m). */
    return (m != (UINT64_C(1) << level)) + (int)path_len(m - 1, n, level);
}

int rt_merkle_inclusion_proof(const rt_merkle_source *src, uint64_t index, uint64_t size,
                              uint8_t (*out)[HASH], size_t cap)
{
    int len = rt_merkle_inclusion_proof_len(index, size);
    if (len < 0)
        return len;
    if ((size_t)len > cap)
        return RT_MERKLE_ENOSPC;
    return path_hashes(src, index, size, 0, out);
}

/*
 * PROOF(m, D[n]) of RFC 6962 §2.1.2 is the node that is the old tree's last
 * perfect subtree, [m - 2^level, m) with 2^level the lowest set bit of m,
 * followed by the audit path of that node in the new tree.
 */
int rt_merkle_consistency_proof(const rt_merkle_source *src, uint64_t m, uint64_t n,
                                uint8_t (*out)[HASH], size_t cap)
{
    int len = rt_merkle_consistency_proof_len(m, n);
    if (len <= 0)
        return len;
    if ((size_t)len > cap)
        return RT_MERKLE_ENOSPC;
    unsigned level = ctz64(m);
    size_t k = 0;
    if (m != (UINT64_C(1) << level)) {
        if (src->subtree(src->ctx, m - (UINT64_C(1) << level), level, out[0]))
            return RT_MERKLE_ESOURCE;
        k = 1;
    }
    int rc = path_hashes(src, m - 1, n, level, out + k);
    return rc < 0 ? rc : rc + (int)k;
}

int rt_merkle_source_root(const rt_merkle_source *src, uint64_t size, uint8_t out[HASH])
{
    if (size == 0) {
        rt_merkle_empty_root(out);
        return 0;
    }
    return source_node(src, 0, size, out);
}

int rt_merkle_frontier_from_source(rt_merkle_frontier *f, const rt_merkle_source *src,
                                   uint64_t size)
{
    rt_merkle_frontier g;
    rt_merkle_frontier_init(&g);
    uint64_t start = 0;
    unsigned j = 0;
    for (unsigned i = 64; i > 0; i--) {
        unsigned level = i - 1;
        if (!(size >> level & 1))
            continue;
        if (src->subtree(src->ctx, start, level, g.h[j++]))
            return RT_MERKLE_ESOURCE;
        start += UINT64_C(1) << level;
    }
    g.size = size;
    *f = g;
    return 0;
}

/* In-memory source: any node is the MTH of a slice of the array. */
typedef struct mem_source {
    const uint8_t (*leaves)[HASH];
    uint64_t n;
} mem_source;

static int mem_range(void *ctx, uint64_t lo, uint64_t hi, uint8_t out[HASH])
{
    const mem_source *m = ctx;
    if (lo >= hi || hi > m->n)
        return -1;
    rt_merkle_root(m->leaves + lo, (size_t)(hi - lo), out);
    return 0;
}

static int mem_subtree(void *ctx, uint64_t start, unsigned level, uint8_t out[HASH])
{
    if (level >= 64)
        return -1;
    uint64_t span = UINT64_C(1) << level;
    if (start > UINT64_MAX - span)
        return -1;
    return mem_range(ctx, start, start + span, out);
}

int rt_merkle_inclusion_proof_mem(const uint8_t (*leaves)[HASH], size_t nleaves,
                                  uint64_t index, uint64_t size,
                                  uint8_t (*out)[HASH], size_t cap)
{
    if (size > nleaves)
        return RT_MERKLE_EINVAL;
    mem_source m = {leaves, nleaves};
    rt_merkle_source src = {mem_subtree, mem_range, &m};
    return rt_merkle_inclusion_proof(&src, index, size, out, cap);
}

int rt_merkle_consistency_proof_mem(const uint8_t (*leaves)[HASH], size_t nleaves,
                                    uint64_t m, uint64_t n,
                                    uint8_t (*out)[HASH], size_t cap)
{
    if (n > nleaves)
        return RT_MERKLE_EINVAL;
    mem_source ms = {leaves, nleaves};
    rt_merkle_source src = {mem_subtree, mem_range, &ms};
    return rt_merkle_consistency_proof(&src, m, n, out, cap);
}

/* -------------------------------------------------------- verification */

/*
 * Both verifiers follow RFC 9162 step by step on (fn, sn): the positions of
 * the current node in the old tree and of the last node in the new one.
 * They deliberately share nothing with the generators above.
 */

int rt_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[HASH],
                               const uint8_t (*path)[HASH], size_t npath,
                               const uint8_t root[HASH])
{
    if (index >= size)
        return 0;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[HASH];
    memcpy(r, leaf_hash, HASH);
    for (size_t i = 0; i < npath; i++) {
        if (sn == 0)
            return 0; /* path longer than the tree is high */
        if ((fn & 1) || fn == sn) {
            rt_merkle_node(path[i], r, r);
            /* A right-edge node without a sibling is promoted: skip the
             * levels where it is a left child. */
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            rt_merkle_node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, HASH) == 0;
}

int rt_merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root_m[HASH],
                                 const uint8_t root_n[HASH],
                                 const uint8_t (*proof)[HASH], size_t nproof)
{
    if (m > n)
        return 0;
    if (m == 0) {
        /* Every tree extends the empty one: nothing to prove but that the
         * old root is the empty tree's. */
        uint8_t empty[HASH];
        rt_merkle_empty_root(empty);
        return nproof == 0 && memcmp(root_m, empty, HASH) == 0;
    }
    if (m == n)
        return nproof == 0 && memcmp(root_m, root_n, HASH) == 0;
    if (nproof == 0)
        return 0;
    /* If m is a power of two the old tree is a subtree of the new one and
     * its root is the implicit first element of the proof. */
    int implicit = (m & (m - 1)) == 0;
    const uint8_t *first = implicit ? root_m : proof[0];
    size_t next = implicit ? 0 : 1;

    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[HASH], sr[HASH];
    memcpy(fr, first, HASH);
    memcpy(sr, first, HASH);
    for (size_t i = next; i < nproof; i++) {
        const uint8_t *c = proof[i];
        if (sn == 0)
            return 0;
        if ((fn & 1) || fn == sn) {
            rt_merkle_node(c, fr, fr);
            rt_merkle_node(c, sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            rt_merkle_node(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root_m, HASH) == 0 && memcmp(sr, root_n, HASH) == 0;
}

/* ------------------------------------------------------------ batch tree */

int rt_merkle_batch_build(rt_merkle_batch *b, const uint8_t (*leaves)[HASH], size_t n, uint8_t root[HASH])
{
    if (n < 1 || n > RT_MERKLE_BATCH_MAX)
        return RT_MERKLE_EINVAL;
    memcpy(b->h[0], leaves, n * HASH);
    b->level_n[0] = n;
    b->nlevels = 1;
    while (b->level_n[b->nlevels - 1] > 1) {
        int l = b->nlevels - 1;
        size_t m = b->level_n[l], k = 0;
        for (size_t i = 0; i < m; i += 2, k++) {
            if (i + 1 < m)
                rt_merkle_node(b->h[l][i], b->h[l][i + 1], b->h[l + 1][k]);
            else
                memcpy(b->h[l + 1][k], b->h[l][i], HASH);
        }
        b->level_n[b->nlevels++] = k;
    }
    memcpy(root, b->h[b->nlevels - 1][0], HASH);
    return 0;
}

size_t rt_merkle_batch_path(const rt_merkle_batch *b, size_t index, uint8_t (*path)[HASH])
{
    size_t np = 0;
    for (int l = 0; l < b->nlevels - 1; l++, index /= 2) {
        size_t sib = index ^ 1;
        if (sib < b->level_n[l])
            memcpy(path[np++], b->h[l][sib], HASH);
    }
    return np;
}

/*
 * rt_merkle.h — RFC 6962 / RFC 9162 Merkle tree math for the audit log.
 *
 * Every audit entry is one leaf of a single append-only Merkle tree, hashed
 * the way Certificate Transparency does it (RFC 6962 §2.1, SHA-256):
 *
 *     leaf hash   = SHA-256(0x00 || entry)
 *     node hash   = SHA-256(0x01 || left || right)
 *     MTH({})     = SHA-256("")
 *     MTH(D[n])   = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of
 *                   two smaller than n.
 *
 * This module is pure arithmetic over 32-byte hashes: it never allocates,
 * never does I/O and keeps no global state, so it is safe to call from any
 * thread on distinct objects.  It provides
 *
 *   - the hash primitives and the root of an in-memory list of leaf hashes;
 *   - the frontier (compact range): the O(log n) state from which the
 *     sequencer appends leaves and computes tree heads without reading the
 *     log, serializable into one database row;
 *   - inclusion and consistency proof generation from a caller-supplied
 *     "node source", so proofs can be served from a database of leaf hashes
 *     (optionally with stored subtree hashes) as well as from memory;
 *   - verification of both kinds of proof with the iterative algorithms of
 *     RFC 9162 §2.1.3.2 and §2.1.4.2, which share no code with the
 *     generators.
 *
 * Conventions: every hash is RT_MERKLE_HASH (32) bytes; leaf indexes are
 * 0-based; a "tree of size n" holds leaves 0..n-1.  Pointers to hashes are
 * borrowed for the duration of the call only.  Functions returning int use
 * the negative RT_MERKLE_E* codes below for errors, except the verifiers,
 * which answer 1 (valid) or 0 (anything else) and never fail otherwise.
 */
#ifndef RT_MERKLE_H
#define RT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define RT_MERKLE_HASH 32
/* Largest number of perfect subtrees in a tree whose size fits in 64 bits. */
#define RT_MERKLE_MAX_HEIGHT 64
/* An output array of this many hashes holds any inclusion proof (at most 64
 * hashes) or consistency proof (at most 65) for 64-bit tree sizes. */
#define RT_MERKLE_MAX_PROOF 65
/* Largest serialized frontier: the size plus 64 hashes. */
#define RT_MERKLE_FRONTIER_MAX_BYTES (8 + RT_MERKLE_MAX_HEIGHT * RT_MERKLE_HASH)

/* Error codes (negative) of the proof generators and the frontier. */
enum rt_merkle_error {
    RT_MERKLE_EINVAL = -1,  /* arguments outside the function's domain */
    RT_MERKLE_ENOSPC = -2,  /* the output array is smaller than the proof */
    RT_MERKLE_ESOURCE = -3, /* a node source callback reported failure */
};

/* ------------------------------------------------------------ hashing */

/* Leaf hash of an entry: SHA-256(0x00 || data[0..n)).  data may be NULL
 * when n is 0. */
void rt_merkle_leaf(const uint8_t *data, size_t n, uint8_t out[RT_MERKLE_HASH]);

/* Interior node hash: SHA-256(0x01 || l || r).  out may alias l or r. */
void rt_merkle_node(const uint8_t l[RT_MERKLE_HASH], const uint8_t r[RT_MERKLE_HASH],
                    uint8_t out[RT_MERKLE_HASH]);

/* Root of the empty tree: SHA-256("") = e3b0c442...b855. */
void rt_merkle_empty_root(uint8_t out[RT_MERKLE_HASH]);

/* MTH of the n leaf hashes leaves[0..n) (RFC 6962 §2.1).  O(n) hashing,
 * O(log n) stack, no heap.  leaves may be NULL when n is 0 (the result is
 * then the empty root). */
void rt_merkle_root(const uint8_t (*leaves)[RT_MERKLE_HASH], size_t n,
                    uint8_t out[RT_MERKLE_HASH]);

/* ----------------------------------------------------------- frontier */

/*
 * The frontier (compact range [0, size)) of a tree: for each set bit of
 * size, from the most significant down, the hash of the perfect subtree it
 * stands for.  h[0 .. popcount(size)) are meaningful; the functions below
 * keep the remaining entries zero, so two frontiers of the same tree compare
 * equal with memcmp.  Plain data: copy it by assignment, no destructor.
 */
typedef struct rt_merkle_frontier {
    uint64_t size;
    uint8_t h[RT_MERKLE_MAX_HEIGHT][RT_MERKLE_HASH];
} rt_merkle_frontier;

/* Makes f the frontier of the empty tree (all bytes zero). */
void rt_merkle_frontier_init(rt_merkle_frontier *f);

/* Appends one leaf hash, making f the frontier of size + 1.  O(log n)
 * hashing, amortised O(1).  leaf_hash may point into f->h.
 * Returns 0, or RT_MERKLE_EINVAL (f unchanged) if f->size is UINT64_MAX. */
int rt_merkle_frontier_append(rt_merkle_frontier *f, const uint8_t leaf_hash[RT_MERKLE_HASH]);

/* Called for each perfect subtree [start, start + 2^level) that an append
 * completes, level >= 1, smallest first; hash is borrowed for the call. */
typedef void (*rt_merkle_subtree_fn)(void *ctx, unsigned level, uint64_t start,
                                     const uint8_t hash[RT_MERKLE_HASH]);

/* rt_merkle_frontier_append, and each subtree it completes to fn (which may
 * be NULL): how a log that stores subtree hashes learns them as it grows. */
int rt_merkle_frontier_append_subtrees(rt_merkle_frontier *f, const uint8_t leaf_hash[RT_MERKLE_HASH],
                                       rt_merkle_subtree_fn fn, void *ctx);

/* MTH of the first f->size leaves, i.e. the tree head root.  O(log n). */
void rt_merkle_frontier_root(const rt_merkle_frontier *f, uint8_t out[RT_MERKLE_HASH]);

/*
 * Stored subtrees.  A log in a database keeps the hash of every perfect
 * subtree of 2^RT_MERKLE_STORED_MIN_LEVEL leaves or more, keyed by
 * RT_MERKLE_NODE_ID(level, start); a smaller one is recomputed from its (at
 * most 2^(RT_MERKLE_STORED_MIN_LEVEL-1)) leaves when a proof needs it.  The
 * writer of the nodes and the proof reader agree through these two.
 */
#define RT_MERKLE_STORED_MIN_LEVEL 4
#define RT_MERKLE_NODE_ID(level, start) (((uint64_t)(level) << 56) | (uint64_t)(start))

/*
 * A small tree held whole in memory (one group-commit batch): every level,
 * so that each leaf's inclusion path costs O(log n).  Built level by level,
 * a node with no right sibling moving up unchanged, which gives the same
 * tree as RFC 6962's recursive definition.  About 360 KB: keep it static or
 * on the heap, not on a stack.
 */
#define RT_MERKLE_BATCH_MAX 1024
#define RT_MERKLE_BATCH_LEVELS 11       /* 1 + log2(RT_MERKLE_BATCH_MAX) */
typedef struct rt_merkle_batch {
    size_t level_n[RT_MERKLE_BATCH_LEVELS];
    int nlevels;
    uint8_t h[RT_MERKLE_BATCH_LEVELS][RT_MERKLE_BATCH_MAX][RT_MERKLE_HASH];
} rt_merkle_batch;

/* Builds the tree of leaves[0..n), 1 <= n <= RT_MERKLE_BATCH_MAX, and
 * writes its root.  Returns 0, or RT_MERKLE_EINVAL for another n. */
int rt_merkle_batch_build(rt_merkle_batch *b, const uint8_t (*leaves)[RT_MERKLE_HASH], size_t n,
                          uint8_t root[RT_MERKLE_HASH]);
/* The inclusion path of leaf index (< n) into path, which has room for
 * RT_MERKLE_BATCH_LEVELS - 1 hashes; returns its length. */
size_t rt_merkle_batch_path(const rt_merkle_batch *b, size_t index, uint8_t (*path)[RT_MERKLE_HASH]);

/* Bytes rt_merkle_frontier_serialize writes for f: 8 + 32 * popcount(size). */
size_t rt_merkle_frontier_serialized_len(const rt_merkle_frontier *f);

/* Writes f as its size (8 bytes, big-endian) followed by the popcount(size)
 * subtree hashes, left to right.  Returns the number of bytes written, or 0
 * (nothing written) if cap is smaller than that; RT_MERKLE_FRONTIER_MAX_BYTES
 * is always enough. */
size_t rt_merkle_frontier_serialize(const rt_merkle_frontier *f, uint8_t *buf, size_t cap);

/* Reads a frontier written by rt_merkle_frontier_serialize.  The buffer must
 * be exactly 8 + 32 * popcount(size) bytes long; the hashes themselves cannot
 * be checked here (compare the resulting root with a signed tree head for
 * that).  Returns 0, or -1 if the buffer is malformed, in which case f is left
 * unchanged. */
int rt_merkle_frontier_deserialize(rt_merkle_frontier *f, const uint8_t *buf, size_t n);

/* ------------------------------------------------- node source, proofs */

/*
 * Where the proof generators get hashes from.  Every hash a proof needs is
 * MTH(D[lo:hi]) for a node of the RFC 6962 tree: either a perfect subtree
 * [start, start + 2^level) with start a multiple of 2^level, or a node on
 * the right edge of the tree, [lo, size) with lo a multiple of the smallest
 * power of two >= size - lo.  The generators ask for the first through
 * subtree(); for the second they call range() if it is set, and otherwise
 * assemble it from the perfect subtrees of [lo, size) (one per set bit of
 * size - lo), so a source backed by a table of leaf hashes only has to
 * answer subtree(): level 0 is a leaf row; a higher level is a stored
 * subtree hash if the database keeps them, or rt_merkle_root over the
 * 2^level leaf rows otherwise.
 *
 * Both callbacks write the hash to out and return 0, or return nonzero on
 * failure (the generator then stops and returns RT_MERKLE_ESOURCE; out
 * contents are unspecified).  They are only asked about leaves below the
 * tree size of the request; range() only for hi == that size and hi - lo not
 * a power of two.  A proof contains at most one right-edge node, so a
 * generator makes O(log size) calls in all (fewer than 2 * RT_MERKLE_MAX_PROOF),
 * in no guaranteed order.  ctx is passed through untouched.
 */
typedef struct rt_merkle_source {
    int (*subtree)(void *ctx, uint64_t start, unsigned level, uint8_t out[RT_MERKLE_HASH]);
    int (*range)(void *ctx, uint64_t lo, uint64_t hi, uint8_t out[RT_MERKLE_HASH]); /* optional */
    void *ctx;
} rt_merkle_source;

/* Number of hashes in the inclusion proof of leaf index in a tree of size
 * leaves (0 for a one-leaf tree), or RT_MERKLE_EINVAL if index >= size. */
int rt_merkle_inclusion_proof_len(uint64_t index, uint64_t size);

/* Number of hashes in the consistency proof from size m to size n (0 when
 * m == n or m == 0), or RT_MERKLE_EINVAL unless m <= n. */
int rt_merkle_consistency_proof_len(uint64_t m, uint64_t n);

/* Audit path of leaf index in the tree of the first size leaves (RFC 6962
 * §2.1.1 PATH; RFC 9162 inclusion_path), written to out[0..count) from the
 * leaf's sibling up to the child of the root.  Returns count (>= 0), or
 * RT_MERKLE_EINVAL if index >= size (so for any index when size is 0),
 * RT_MERKLE_ENOSPC if cap < count (nothing is asked of the source then), or
 * RT_MERKLE_ESOURCE.  out may be NULL when cap is 0. */
int rt_merkle_inclusion_proof(const rt_merkle_source *src, uint64_t index, uint64_t size,
                              uint8_t (*out)[RT_MERKLE_HASH], size_t cap);

/* Consistency proof between the trees of the first m and first n leaves
 * (RFC 6962 §2.1.2 PROOF(m, D[n]); RFC 9162 consistency_path), written to
 * out[0..count).  m == n gives the empty proof (count 0), and so does m == 0:
 * RFC 9162 defines no proof from the empty tree, because every tree extends
 * it; the empty proof says exactly that, so that a log's first head needs
 * no special case.  Returns count, or RT_MERKLE_EINVAL unless m <= n,
 * RT_MERKLE_ENOSPC if cap < count, or RT_MERKLE_ESOURCE.  out may be NULL
 * when cap is 0. */
int rt_merkle_consistency_proof(const rt_merkle_source *src, uint64_t m, uint64_t n,
                                uint8_t (*out)[RT_MERKLE_HASH], size_t cap);

/* MTH of the first size leaves of src: the empty root for size 0, else one
 * subtree() per set bit of size (or one range() call if size is not a power
 * of two and range is set).  Returns 0 or RT_MERKLE_ESOURCE. */
int rt_merkle_source_root(const rt_merkle_source *src, uint64_t size, uint8_t out[RT_MERKLE_HASH]);

/* Rebuilds the frontier of the first size leaves of src (one subtree() per
 * set bit of size), e.g. to recover the sequencer state from stored subtree
 * hashes.  Returns 0, or RT_MERKLE_ESOURCE with f unchanged. */
int rt_merkle_frontier_from_source(rt_merkle_frontier *f, const rt_merkle_source *src,
                                   uint64_t size);

/* The two generators over an in-memory array of nleaves leaf hashes; size
 * (resp. n) must not exceed nleaves, else RT_MERKLE_EINVAL.  Each call hashes
 * O(size) nodes: meant for tests, tools and small trees. */
int rt_merkle_inclusion_proof_mem(const uint8_t (*leaves)[RT_MERKLE_HASH], size_t nleaves,
                                  uint64_t index, uint64_t size,
                                  uint8_t (*out)[RT_MERKLE_HASH], size_t cap);
int rt_merkle_consistency_proof_mem(const uint8_t (*leaves)[RT_MERKLE_HASH], size_t nleaves,
                                    uint64_t m, uint64_t n,
                                    uint8_t (*out)[RT_MERKLE_HASH], size_t cap);

/* ------------------------------------------------------- verification */

/*
 * A proof ties hashes to a root, not to a tree size on its own: the same
 * path can verify for two sizes whose trees have the same shape around the
 * leaf (leaf 0 of 3 and of 4 leaves).  Take size and root together from one
 * signed tree head.
 */

/* Checks that path[0..npath) proves leaf_hash is leaf index of the tree of
 * size leaves whose root is root (RFC 9162 §2.1.3.2).  Returns 1 if so, 0
 * otherwise: index >= size, a path that is too short or too long, or any
 * hash mismatch.  path may be NULL when npath is 0. */
int rt_merkle_verify_inclusion(uint64_t index, uint64_t size,
                               const uint8_t leaf_hash[RT_MERKLE_HASH],
                               const uint8_t (*path)[RT_MERKLE_HASH], size_t npath,
                               const uint8_t root[RT_MERKLE_HASH]);

/* Checks that proof[0..nproof) proves the tree of size m with root root_m
 * is a prefix of the tree of size n with root root_n (RFC 9162 §2.1.4.2).
 * m == n is valid iff the proof is empty and the roots are equal; m == 0
 * (which RFC 9162 leaves out: every tree extends the empty one) iff the
 * proof is empty and root_m is the empty tree's root.  Returns 1 if valid,
 * 0 otherwise, including m > n and a proof of the wrong length.  proof may
 * be NULL when nproof is 0. */
int rt_merkle_verify_consistency(uint64_t m, uint64_t n,
                                 const uint8_t root_m[RT_MERKLE_HASH],
                                 const uint8_t root_n[RT_MERKLE_HASH],
                                 const uint8_t (*proof)[RT_MERKLE_HASH], size_t nproof);

#endif

/*
 * test_rt_merkle.c - unit tests for runtime/rt_merkle (RFC 6962 hashing,
 * frontier, proof generation from node sources, RFC 9162 verification).
 *
 * Known answers are the published Certificate Transparency / Trillian test
 * vectors, copied verbatim; each table names the repository and file it comes
 * from.  Everything else is checked against reference functions in this file
 * that transcribe the recursive definitions of RFC 6962 §2.1 (MTH, PATH,
 * SUBPROOF) literally, hash with nettle directly, and share no code with
 * rt_merkle.c.
 *
 * Verification with altered parameters is judged by the proof's shape: the
 * expression, over the leaf and the proof hashes, that a verifier evaluates
 * and compares with the root(s).  Two parameter sets with the same shape
 * accept the same proofs (e.g. leaf 0 of a tree of 5 and of 6 leaves:
 * ((L,P0),P1),P2 in both), so the tests require a rejection exactly when the
 * shapes differ, computed from the RFC 6962 recursion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/sha2.h>

#include "rt_merkle.h"

#define H RT_MERKLE_HASH
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAXN 300 /* leaves of the largest in-memory test tree */

typedef uint8_t hash_t[H];

/* ---------------------------------------------------- test utilities */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    assert_true(strlen(s) % 2 == 0 && n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void hash_from_hex(const char *s, uint8_t out[H])
{
    assert_int_equal(unhex(s, out, H), H);
}

static void assert_hash_hex(const uint8_t got[H], const char *want)
{
    uint8_t w[H];
    hash_from_hex(want, w);
    if (memcmp(got, w, H) != 0) {
        char g[2 * H + 1];
        for (int i = 0; i < H; i++)
            snprintf(g + 2 * i, 3, "%02x", got[i]);
        fail_msg("hash %s, want %s", g, want);
    }
}

static unsigned popcount(uint64_t x)
{
    unsigned c = 0;
    for (; x; x >>= 1)
        c += x & 1;
    return c;
}

/* A tree of MAXN distinct leaves; leaf i hashes the 4 bytes of i. */
static hash_t g_leaves[MAXN];

static int setup_leaves(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < MAXN; i++) {
        uint8_t d[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        rt_merkle_leaf(d, sizeof d, g_leaves[i]);
    }
    return 0;
}

/* --------------------------------------- reference RFC 6962 functions */

static void ref_node(const uint8_t l[H], const uint8_t r[H], uint8_t out[H])
{
    uint8_t buf[1 + 2 * H];
    buf[0] = 1;
    memcpy(buf + 1, l, H);
    memcpy(buf + 1 + H, r, H);
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, sizeof buf, buf);
    sha256_digest(&c, H, out);
}

/* Largest power of two smaller than n (n >= 2). */
static uint64_t ref_split(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

/* MTH(D[n]) over leaf hashes, RFC 6962 §2.1. */
static void ref_mth(const hash_t *d, uint64_t n, uint8_t out[H])
{
    if (n == 0) {
        struct sha256_ctx c;
        sha256_init(&c);
        sha256_digest(&c, H, out);
    } else if (n == 1) {
        memcpy(out, d[0], H);
    } else {
        uint64_t k = ref_split(n);
        uint8_t l[H], r[H];
        ref_mth(d, k, l);
        ref_mth(d + k, n - k, r);
        ref_node(l, r, out);
    }
}

/* PATH(m, D[n]), RFC 6962 §2.1.1. */
static void ref_path(uint64_t m, const hash_t *d, uint64_t n, hash_t *out, size_t *cnt)
{
    if (n <= 1)
        return;
    uint64_t k = ref_split(n);
    if (m < k) {
        ref_path(m, d, k, out, cnt);
        ref_mth(d + k, n - k, out[(*cnt)++]);
    } else {
        ref_path(m - k, d + k, n - k, out, cnt);
        ref_mth(d, k, out[(*cnt)++]);
    }
}

/* SUBPROOF(m, D[n], b), RFC 6962 §2.1.2. */
static void ref_subproof(uint64_t m, const hash_t *d, uint64_t n, int b, hash_t *out, size_t *cnt)
{
    if (m == n) {
        if (!b)
            ref_mth(d, n, out[(*cnt)++]);
        return;
    }
    uint64_t k = ref_split(n);
    if (m <= k) {
        ref_subproof(m, d, k, b, out, cnt);
        ref_mth(d + k, n - k, out[(*cnt)++]);
    } else {
        ref_subproof(m - k, d + k, n - k, 0, out, cnt);
        ref_mth(d, k, out[(*cnt)++]);
    }
}

/* --------------------------------------------------- proof shapes */

typedef struct sbuf {
    char s[4096];
    size_t len;
} sbuf;

static void sb_put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, sizeof b->s - b->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof b->s - b->len);
    b->len += (size_t)n;
}

static size_t ref_path_len(uint64_t m, uint64_t n)
{
    size_t c = 0;
    while (n > 1) {
        uint64_t k = ref_split(n);
        if (m < k) {
            n = k;
        } else {
            m -= k;
            n -= k;
        }
        c++;
    }
    return c;
}

/* The root as an expression of the leaf L and path elements P0, P1, ...
 * (numbered in proof order) for leaf m of a tree of size n. */
static void incl_shape_rec(uint64_t m, uint64_t n, size_t base, sbuf *e)
{
    if (n <= 1) {
        sb_put(e, "L");
        return;
    }
    uint64_t k = ref_split(n);
    if (m < k) {
        sb_put(e, "(");
        incl_shape_rec(m, k, base, e);
        sb_put(e, ",P%zu)", base + ref_path_len(m, k));
    } else {
        sb_put(e, "(P%zu,", base + ref_path_len(m - k, n - k));
        incl_shape_rec(m - k, n - k, base, e);
        sb_put(e, ")");
    }
}

/* Shape of an inclusion proof; returns its length, or SIZE_MAX if the
 * parameters admit no proof.  The expression is only built when the length
 * is len_only or len_only is SIZE_MAX: shapes of other lengths differ. */
static size_t incl_shape(uint64_t m, uint64_t n, size_t len_only, sbuf *e)
{
    e->len = 0;
    e->s[0] = 0;
    if (m >= n)
        return SIZE_MAX;
    size_t len = ref_path_len(m, n);
    if (len_only == SIZE_MAX || len == len_only)
        incl_shape_rec(m, n, 0, e);
    return len;
}

static size_t ref_subproof_len(uint64_t m, uint64_t n, int b)
{
    if (m == n)
        return !b;
    uint64_t k = ref_split(n);
    return 1 + (m <= k ? ref_subproof_len(m, k, b) : ref_subproof_len(m - k, n - k, 0));
}

/* Expressions of the old and new roots over proof elements P0, P1, ... and
 * F, the old root the verifier is given, spelled out as f. */
static void cons_shape_rec(uint64_t m, uint64_t n, int b, size_t base, const char *f,
                           sbuf *old, sbuf *nw)
{
    if (m == n) {
        if (b) {
            sb_put(old, "%s", f);
            sb_put(nw, "%s", f);
        } else {
            sb_put(old, "P%zu", base);
            sb_put(nw, "P%zu", base);
        }
        return;
    }
    uint64_t k = ref_split(n);
    if (m <= k) {
        sb_put(nw, "(");
        cons_shape_rec(m, k, b, base, f, old, nw);
        sb_put(nw, ",P%zu)", base + ref_subproof_len(m, k, b));
    } else {
        size_t p = base + ref_subproof_len(m - k, n - k, 0);
        sb_put(old, "(P%zu,", p);
        sb_put(nw, "(P%zu,", p);
        cons_shape_rec(m - k, n - k, 0, base, f, old, nw);
        sb_put(old, ")");
        sb_put(nw, ")");
    }
}

static size_t cons_shape(uint64_t m, uint64_t n, const char *f, size_t len_only, sbuf *old,
                         sbuf *nw)
{
    old->len = nw->len = 0;
    old->s[0] = nw->s[0] = 0;
    if (m == 0 || m > n)
        return SIZE_MAX;
    size_t len = ref_subproof_len(m, n, 1);
    if (len_only == SIZE_MAX || len == len_only)
        cons_shape_rec(m, n, 1, 0, f, old, nw);
    return len;
}

/* ------------------------------------------------ checked node source */

/*
 * A node source over g_leaves (or, with values == 0, one that writes the
 * range [lo, hi) itself as the "hash", to observe which nodes a generator
 * asks for).  Every call is checked against the contract of rt_merkle.h.
 */
typedef struct tsrc {
    uint64_t size; /* tree size of the request being served */
    int values;
    long calls, fail_at; /* fail the fail_at-th call (1-based); 0: never */
} tsrc;

static void encode_range(uint64_t lo, uint64_t hi, uint8_t out[H])
{
    memset(out, 0xEE, H);
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(lo >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(hi >> (56 - 8 * i));
    }
}

static int tsrc_fill(tsrc *s, uint64_t lo, uint64_t hi, uint8_t out[H])
{
    if (++s->calls == s->fail_at)
        return -1;
    if (s->values) {
        assert_true(hi <= MAXN);
        ref_mth(g_leaves + lo, hi - lo, out);
    } else {
        encode_range(lo, hi, out);
    }
    return 0;
}

static int tsrc_subtree(void *ctx, uint64_t start, unsigned level, uint8_t out[H])
{
    tsrc *s = ctx;
    assert_true(level < 64);
    uint64_t span = UINT64_C(1) << level;
    assert_true(start % span == 0);
    assert_true(start < s->size && span <= s->size - start);
    return tsrc_fill(s, start, start + span, out);
}

static int tsrc_range(void *ctx, uint64_t lo, uint64_t hi, uint8_t out[H])
{
    tsrc *s = ctx;
    uint64_t len = hi - lo;
    assert_true(lo < hi && hi == s->size);
    assert_true((len & (len - 1)) != 0);
    uint64_t p = 1;
    while (p < len)
        p <<= 1;
    assert_true(lo % p == 0);
    return tsrc_fill(s, lo, hi, out);
}

static rt_merkle_source tsrc_make(tsrc *s, uint64_t size, int values, int with_range)
{
    memset(s, 0, sizeof *s);
    s->size = size;
    s->values = values;
    rt_merkle_source src = {tsrc_subtree, with_range ? tsrc_range : NULL, s};
    return src;
}

/* ----------------------------------------------- published test vectors */

/*
 * Copied from these files, at the commits they were read at:
 *   google/certificate-transparency  cpp/merkletree/merkle_tree_test.cc
 *                                    @ 0e901cacd1388fa16f78b184612f6cd16e5ceec1
 *   transparency-dev/merkle          testonly/constants.go
 *                                    @ 582a6ad190b6848f1d26f8bf08ddef29955d9db1
 *                                    rfc6962/rfc6962_test.go
 *                                    @ 78493b07ef9b552e3379abf9e23d4da26fbe797c
 *                                    proof/verify_test.go
 *                                    @ 02194e9afb6c1d95b5381350007963aa70fff472
 *                                    proof/proof_test.go
 *                                    @ 02a3e2029520f515596d5238c54fb0ac9e19bff4
 */

/*
 * google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc:
 * kInputs, kSHA256EmptyTreeHash, kSHA256Roots (sizes 1..8).  The same values
 * are published in transparency-dev/merkle testonly/constants.go
 * (LeafInputs, RootHashes) and proof/verify_test.go (leaves, roots).
 */
static const char *const kInputs[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char kEmptyTreeHash[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char *const kRoots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/*
 * transparency-dev/merkle, testonly/constants.go: NodeHashes(), the hash of
 * every perfect subtree of the 8-leaf tree, [level][index]; and
 * CompactTrees(), the compact range of each size 0..8 as indexes into it.
 */
static const char *const kNodeHashes[4][8] = {
    {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    },
    {
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    },
    {
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    },
    {
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    },
};
static const struct {
    int n;
    int node[3][2]; /* {level, index} */
} kCompactTrees[9] = {
    {0, {{0}}},
    {1, {{0, 0}}},
    {1, {{1, 0}}},
    {2, {{1, 0}, {0, 2}}},
    {1, {{2, 0}}},
    {2, {{2, 0}, {0, 4}}},
    {2, {{2, 0}, {1, 2}}},
    {3, {{2, 0}, {1, 2}, {0, 6}}},
    {1, {{3, 0}}},
};

/* transparency-dev/merkle, rfc6962/rfc6962_test.go: TestRFC6962Hasher. */
static const char kEmptyLeafHash[] =
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
static const char kLeafL123456[] =
    "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56";

/*
 * google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc:
 * kSHA256Paths, where leaf numbers count from 1 (the entry {0, 0} is the
 * invalid-argument case and is tested separately); identical to
 * inclusionProofs in transparency-dev/merkle proof/verify_test.go.
 */
static const struct {
    uint64_t leaf1, size;
    size_t n;
    const char *path[3];
} kPaths[] = {
    {1, 1, 0, {0}},
    {1, 8, 3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8, 3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {3, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {2, 5, 3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

/*
 * google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc:
 * kSHA256Proofs; plus {6, 7} from consistencyProofs in transparency-dev/merkle
 * proof/verify_test.go, which repeats the other four.
 */
static const struct {
    uint64_t m, n;
    size_t len;
    const char *proof[3];
} kConsistency[] = {
    {1, 1, 0, {0}},
    {1, 8, 3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8, 3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 5, 2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 7, 3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

/* transparency-dev/merkle, proof/verify_test.go: sha256SomeHash. */
static const char kSomeHash[] =
    "abacaba000000000000000000000000000000000000000000060061e00123456";

/*
 * transparency-dev/merkle, proof/proof_test.go: TestInclusion and
 * TestConsistency, which list the nodes of each proof as node IDs
 * (level, index) and mark runs of IDs that are rehashed into one right-edge
 * node.  Transcribed here as leaf ranges [lo, hi): id(l, i) is
 * [i * 2^l, (i + 1) * 2^l), and a rehashed run is the union of its IDs.
 */
typedef struct range {
    uint64_t lo, hi;
} range;
static const struct {
    uint64_t a, b; /* inclusion: size, index; consistency: size1, size2 */
    size_t n;
    range r[7];
} kInclusionNodes[] = {
    {1, 0, 0, {{0}}},
    {2, 0, 1, {{1, 2}}},
    {2, 1, 1, {{0, 1}}},
    {3, 1, 2, {{0, 1}, {2, 3}}},
    {7, 0, 3, {{1, 2}, {2, 4}, {4, 7}}},
    {7, 1, 3, {{0, 1}, {2, 4}, {4, 7}}},
    {7, 2, 3, {{3, 4}, {0, 2}, {4, 7}}},
    {7, 3, 3, {{2, 3}, {0, 2}, {4, 7}}},
    {7, 4, 3, {{5, 6}, {6, 7}, {0, 4}}},
    {7, 5, 3, {{4, 5}, {6, 7}, {0, 4}}},
    {7, 6, 2, {{4, 6}, {0, 4}}},
    {4, 2, 2, {{3, 4}, {0, 2}}},
    {5, 3, 3, {{2, 3}, {0, 2}, {4, 5}}},
    {6, 3, 3, {{2, 3}, {0, 2}, {4, 6}}},
    {6, 4, 2, {{5, 6}, {0, 4}}},
    {15, 10, 4, {{11, 12}, {8, 10}, {12, 15}, {0, 8}}},
    {31, 24, 5, {{25, 26}, {26, 28}, {28, 31}, {16, 24}, {0, 16}}},
    {95, 81, 6, {{80, 81}, {82, 84}, {84, 88}, {88, 95}, {64, 80}, {0, 64}}},
}, kConsistencyNodes[] = {
    {1, 2, 1, {{1, 2}}},
    {1, 4, 2, {{1, 2}, {2, 4}}},
    {1, 6, 3, {{1, 2}, {2, 4}, {4, 6}}},
    {2, 3, 1, {{2, 3}}},
    {2, 8, 2, {{2, 4}, {4, 8}}},
    {3, 7, 4, {{2, 3}, {3, 4}, {0, 2}, {4, 7}}},
    {4, 7, 1, {{4, 7}}},
    {5, 7, 4, {{4, 5}, {5, 6}, {6, 7}, {0, 4}}},
    {6, 7, 3, {{4, 6}, {6, 7}, {0, 4}}},
    {7, 8, 4, {{6, 7}, {7, 8}, {4, 6}, {0, 4}}},
    {1, 1, 0, {{0}}},
    {2, 2, 0, {{0}}},
    {3, 3, 0, {{0}}},
    {4, 4, 0, {{0}}},
    {5, 5, 0, {{0}}},
    {7, 7, 0, {{0}}},
    {8, 8, 0, {{0}}},
    {2, 4, 1, {{2, 4}}},
    {3, 5, 4, {{2, 3}, {3, 4}, {0, 2}, {4, 5}}},
    {3, 6, 4, {{2, 3}, {3, 4}, {0, 2}, {4, 6}}},
    {4, 6, 1, {{4, 6}}},
    {1, 7, 3, {{1, 2}, {2, 4}, {4, 7}}},
    {10, 15, 4, {{8, 10}, {10, 12}, {12, 15}, {0, 8}}},
    {24, 31, 3, {{16, 24}, {24, 31}, {0, 16}}},
    {81, 95, 7, {{80, 81}, {81, 82}, {82, 84}, {84, 88}, {88, 95}, {64, 80}, {0, 64}}},
};

/* The eight published leaf inputs, hashed. */
static void vector_leaves(hash_t out[8])
{
    for (int i = 0; i < 8; i++) {
        uint8_t d[16];
        size_t n = unhex(kInputs[i], d, sizeof d);
        rt_merkle_leaf(n ? d : NULL, n, out[i]);
    }
}

/* ------------------------------------------------------ hash vectors */

static void test_hash_vectors(void **state)
{
    (void)state;
    uint8_t h[H], a[H], b[H];

    rt_merkle_empty_root(h);
    assert_hash_hex(h, kEmptyTreeHash);
    rt_merkle_leaf(NULL, 0, h);
    assert_hash_hex(h, kEmptyLeafHash);
    rt_merkle_leaf((const uint8_t *)"L123456", 7, h);
    assert_hash_hex(h, kLeafL123456);

    /* Every published perfect subtree: leaves from the inputs, each higher
     * node from its two children. */
    hash_t lv[8];
    vector_leaves(lv);
    for (int i = 0; i < 8; i++)
        assert_hash_hex(lv[i], kNodeHashes[0][i]);
    for (int level = 1; level < 4; level++)
        for (int i = 0; i < 8 >> level; i++) {
            hash_from_hex(kNodeHashes[level - 1][2 * i], a);
            hash_from_hex(kNodeHashes[level - 1][2 * i + 1], b);
            rt_merkle_node(a, b, h);
            assert_hash_hex(h, kNodeHashes[level][i]);
            /* The output may alias either input. */
            memcpy(h, a, H);
            rt_merkle_node(h, b, h);
            assert_hash_hex(h, kNodeHashes[level][i]);
            memcpy(h, b, H);
            rt_merkle_node(a, h, h);
            assert_hash_hex(h, kNodeHashes[level][i]);
        }

    /* Domain separation: a node is not the leaf of its concatenation, and
     * child order matters. */
    uint8_t cat[2 * H], x[H];
    memcpy(cat, lv[0], H);
    memcpy(cat + H, lv[1], H);
    rt_merkle_leaf(cat, sizeof cat, x);
    rt_merkle_node(lv[0], lv[1], h);
    assert_memory_not_equal(h, x, H);
    rt_merkle_node(lv[1], lv[0], x);
    assert_memory_not_equal(h, x, H);
}

static void test_root_vectors(void **state)
{
    (void)state;
    hash_t lv[8];
    uint8_t h[H];
    vector_leaves(lv);
    rt_merkle_root(NULL, 0, h);
    assert_hash_hex(h, kEmptyTreeHash);
    for (size_t n = 1; n <= 8; n++) {
        rt_merkle_root((const uint8_t(*)[H])lv, n, h);
        assert_hash_hex(h, kRoots[n - 1]);
    }
}

static void test_root_reference(void **state)
{
    (void)state;
    uint8_t got[H], want[H];
    for (uint64_t n = 0; n <= MAXN; n++) {
        rt_merkle_root((const uint8_t(*)[H])g_leaves, (size_t)n, got);
        ref_mth(g_leaves, n, want);
        assert_memory_equal(got, want, H);
    }
}

/* --------------------------------------------------------- frontier */

static void assert_tail_zero(const rt_merkle_frontier *f)
{
    static const uint8_t zero[RT_MERKLE_MAX_HEIGHT * H];
    size_t cnt = rt_merkle_frontier_serialized_len(f) / H; /* popcount */
    assert_memory_equal((const uint8_t *)f->h + cnt * H, zero, (RT_MERKLE_MAX_HEIGHT - cnt) * H);
}

static void test_frontier_vectors(void **state)
{
    (void)state;
    hash_t lv[8];
    uint8_t h[H];
    vector_leaves(lv);
    rt_merkle_frontier f;
    rt_merkle_frontier_init(&f);
    for (int n = 0; n <= 8; n++) {
        if (n > 0)
            assert_int_equal(rt_merkle_frontier_append(&f, lv[n - 1]), 0);
        assert_int_equal(f.size, n);
        assert_int_equal(rt_merkle_frontier_serialized_len(&f), 8 + kCompactTrees[n].n * H);
        for (int j = 0; j < kCompactTrees[n].n; j++)
            assert_hash_hex(f.h[j],
                            kNodeHashes[kCompactTrees[n].node[j][0]][kCompactTrees[n].node[j][1]]);
        assert_tail_zero(&f);
        rt_merkle_frontier_root(&f, h);
        assert_hash_hex(h, n ? kRoots[n - 1] : kEmptyTreeHash);
    }
}

static void test_frontier_incremental(void **state)
{
    (void)state;
    rt_merkle_frontier f, g, s;
    uint8_t buf[RT_MERKLE_FRONTIER_MAX_BYTES + 1], got[H], want[H];
    rt_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= MAXN; n++) {
        if (n > 0)
            assert_int_equal(rt_merkle_frontier_append(&f, g_leaves[n - 1]), 0);
        assert_int_equal(f.size, n);
        rt_merkle_frontier_root(&f, got);
        rt_merkle_root((const uint8_t(*)[H])g_leaves, (size_t)n, want);
        assert_memory_equal(got, want, H);
        ref_mth(g_leaves, n, want);
        assert_memory_equal(got, want, H);
        assert_tail_zero(&f);

        /* Round trip, into a frontier full of garbage. */
        size_t len = rt_merkle_frontier_serialize(&f, buf, sizeof buf);
        assert_int_equal(len, rt_merkle_frontier_serialized_len(&f));
        assert_int_equal(len, 8 + H * (size_t)popcount(n));
        memset(&g, 0xA5, sizeof g);
        assert_int_equal(rt_merkle_frontier_deserialize(&g, buf, len), 0);
        assert_memory_equal(&g, &f, sizeof f);

        /* The same state rebuilt from a node source. */
        tsrc ts;
        rt_merkle_source src = tsrc_make(&ts, n, 1, 0);
        memset(&s, 0x5A, sizeof s);
        assert_int_equal(rt_merkle_frontier_from_source(&s, &src, n), 0);
        assert_memory_equal(&s, &f, sizeof f);
        assert_int_equal(ts.calls, popcount(n));
        assert_int_equal(rt_merkle_source_root(&src, n, got), 0);
        assert_memory_equal(got, want, H);
        src = tsrc_make(&ts, n, 1, 1);
        assert_int_equal(rt_merkle_source_root(&src, n, got), 0);
        assert_memory_equal(got, want, H);
    }
    /* Appending after a restore continues the same tree. */
    rt_merkle_frontier_init(&f);
    for (int i = 0; i < 100; i++)
        rt_merkle_frontier_append(&f, g_leaves[i]);
    size_t len = rt_merkle_frontier_serialize(&f, buf, sizeof buf);
    assert_int_equal(rt_merkle_frontier_deserialize(&g, buf, len), 0);
    for (int i = 100; i < 137; i++) {
        rt_merkle_frontier_append(&f, g_leaves[i]);
        rt_merkle_frontier_append(&g, g_leaves[i]);
    }
    assert_memory_equal(&f, &g, sizeof f);
    /* The leaf hash may come from the frontier itself. */
    rt_merkle_frontier_init(&f);
    rt_merkle_frontier_init(&g);
    for (int i = 0; i < 40; i++) {
        memcpy(want, f.h[0], H);
        rt_merkle_frontier_append(&g, want);
        rt_merkle_frontier_append(&f, f.h[0]);
        assert_memory_equal(&f, &g, sizeof f);
    }
}

static void test_frontier_serialization(void **state)
{
    (void)state;
    rt_merkle_frontier f, g;
    uint8_t buf[RT_MERKLE_FRONTIER_MAX_BYTES + 64];
    rt_merkle_frontier_init(&f);
    for (int i = 0; i < 5; i++)
        rt_merkle_frontier_append(&f, g_leaves[i]);

    /* Format: big-endian size, then the subtree hashes left to right. */
    size_t len = rt_merkle_frontier_serialize(&f, buf, sizeof buf);
    assert_int_equal(len, 8 + 2 * H);
    static const uint8_t size5[8] = {0, 0, 0, 0, 0, 0, 0, 5};
    assert_memory_equal(buf, size5, 8);
    uint8_t h4[H];
    ref_mth(g_leaves, 4, h4);
    assert_memory_equal(buf + 8, h4, H);
    assert_memory_equal(buf + 8 + H, g_leaves[4], H);

    /* Too small a buffer: 0, nothing written. */
    memset(buf, 0x77, sizeof buf);
    assert_int_equal(rt_merkle_frontier_serialize(&f, buf, len - 1), 0);
    assert_int_equal(rt_merkle_frontier_serialize(&f, buf, 0), 0);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0x77);
    assert_int_equal(rt_merkle_frontier_serialize(&f, buf, len), len);

    /* The empty tree is just its size. */
    rt_merkle_frontier_init(&g);
    assert_int_equal(rt_merkle_frontier_serialize(&g, buf, 8), 8);
    static const uint8_t zero8[8];
    assert_memory_equal(buf, zero8, 8);
    memset(&g, 0x33, sizeof g);
    assert_int_equal(rt_merkle_frontier_deserialize(&g, buf, 8), 0);
    rt_merkle_frontier_init(&f);
    assert_memory_equal(&g, &f, sizeof f);

    /* Malformed: every wrong length around a valid encoding, for sizes with
     * 0, 1, 2 and 64 subtrees; f must stay as it was. */
    static const uint64_t sizes[] = {0, 1, 5, 6, 255, UINT64_C(1) << 63, UINT64_MAX};
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
        rt_merkle_frontier src;
        memset(&src, 0, sizeof src);
        src.size = sizes[s];
        for (unsigned j = 0; j < popcount(sizes[s]); j++)
            memcpy(src.h[j], g_leaves[j], H);
        len = rt_merkle_frontier_serialize(&src, buf, sizeof buf);
        assert_int_equal(len, 8 + H * (size_t)popcount(sizes[s]));
        for (size_t n = 0; n <= len + 40 && n <= sizeof buf; n++) {
            memset(&g, 0x42, sizeof g);
            rt_merkle_frontier before = g;
            int rc = rt_merkle_frontier_deserialize(&g, buf, n);
            if (n == len) {
                assert_int_equal(rc, 0);
                assert_memory_equal(&g, &src, sizeof src);
            } else {
                assert_int_equal(rc, -1);
                assert_memory_equal(&g, &before, sizeof g);
            }
        }
    }
    /* A size whose hash count does not match the bytes that follow. */
    rt_merkle_frontier_init(&f);
    for (int i = 0; i < 6; i++)
        rt_merkle_frontier_append(&f, g_leaves[i]);
    len = rt_merkle_frontier_serialize(&f, buf, sizeof buf); /* 2 hashes */
    buf[7] = 7;                                              /* claims 3 */
    assert_int_equal(rt_merkle_frontier_deserialize(&g, buf, len), -1);
    buf[7] = 4; /* claims 1 */
    assert_int_equal(rt_merkle_frontier_deserialize(&g, buf, len), -1);
    buf[0] = 0x80; /* 2^63 + 4 claims 2 again: well formed */
    assert_int_equal(rt_merkle_frontier_deserialize(&g, buf, len), 0);
    assert_true(g.size == (UINT64_C(1) << 63) + 4);
}

static void test_frontier_full(void **state)
{
    (void)state;
    /* A tree of 2^64 - 1 leaves cannot grow: append fails, state intact. */
    rt_merkle_frontier f, g;
    memset(&f, 0, sizeof f);
    f.size = UINT64_MAX;
    for (int j = 0; j < 64; j++)
        memcpy(f.h[j], g_leaves[j], H);
    g = f;
    assert_int_equal(rt_merkle_frontier_append(&f, g_leaves[99]), RT_MERKLE_EINVAL);
    assert_memory_equal(&f, &g, sizeof f);
    /* Its root folds all 64 subtrees. */
    uint8_t got[H], want[H];
    rt_merkle_frontier_root(&f, got);
    memcpy(want, g_leaves[63], H);
    for (int j = 62; j >= 0; j--)
        ref_node(g_leaves[j], want, want);
    assert_memory_equal(got, want, H);

    /* The last possible append: 2^64 - 2 -> 2^64 - 1 adds a 64th subtree. */
    f.size = UINT64_MAX - 1;
    memset(f.h[63], 0, H);
    assert_int_equal(rt_merkle_frontier_append(&f, g_leaves[63]), 0);
    assert_memory_equal(&f, &g, sizeof f);
}

/* -------------------------------------------- published proof vectors */

static void load_hashes(const char *const *hex, size_t n, hash_t *out)
{
    for (size_t i = 0; i < n; i++)
        hash_from_hex(hex[i], out[i]);
}

static void test_inclusion_vectors(void **state)
{
    (void)state;
    hash_t lv[8], proof[RT_MERKLE_MAX_PROOF], want[3], bad[5];
    uint8_t root[H], some[H], empty[H], zero[H] = {0};
    vector_leaves(lv);
    hash_from_hex(kSomeHash, some);
    hash_from_hex(kEmptyTreeHash, empty);

    for (size_t v = 0; v < ARRAY_LEN(kPaths); v++) {
        uint64_t idx = kPaths[v].leaf1 - 1, size = kPaths[v].size;
        size_t n = kPaths[v].n;
        load_hashes(kPaths[v].path, n, want);
        hash_from_hex(kRoots[size - 1], root);
        const uint8_t *leaf = lv[idx];

        int got = rt_merkle_inclusion_proof_mem((const uint8_t(*)[H])lv, 8, idx, size, proof,
                                                RT_MERKLE_MAX_PROOF);
        assert_int_equal(got, n);
        assert_int_equal(rt_merkle_inclusion_proof_len(idx, size), n);
        if (n)
            assert_memory_equal(proof, want, n * H);

        const uint8_t(*p)[H] = (const uint8_t(*)[H])want;
        assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, p, n, root), 1);

        /* The corruptions of verify_test.go corruptInclusionProof. */
        assert_int_equal(rt_merkle_verify_inclusion(idx - 1, size, leaf, p, n, root), 0);
        assert_int_equal(rt_merkle_verify_inclusion(idx + 1, size, leaf, p, n, root), 0);
        assert_int_equal(rt_merkle_verify_inclusion(idx ^ 2, size, leaf, p, n, root), 0);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size * 2, leaf, p, n, root), 0);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size / 2, leaf, p, n, root), 0);
        uint8_t wrong_leaf[H];
        rt_merkle_leaf((const uint8_t *)"WrongLeaf", 9, wrong_leaf);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size, wrong_leaf, p, n, root), 0);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, p, n, empty), 0);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, p, n, some), 0);
        const uint8_t(*b)[H] = (const uint8_t(*)[H])bad;
        memcpy(bad, want, n * H); /* trailing garbage, trailing root */
        memcpy(bad[n], zero, H);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, b, n + 1, root), 0);
        memcpy(bad[n], root, H);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, b, n + 1, root), 0);
        memcpy(bad[1], want, n * H); /* preceding garbage, preceding root */
        memcpy(bad[0], zero, H);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, b, n + 1, root), 0);
        memcpy(bad[0], root, H);
        assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, b, n + 1, root), 0);
        for (size_t i = 0; i < n; i++) { /* modified proof[i] bit 3 */
            memcpy(bad, want, n * H);
            bad[i][0] ^= 8;
            assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, b, n, root), 0);
        }
        if (n > 0) /* removed component */
            assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, p, n - 1, root), 0);
        if (n > 1) { /* inserted component */
            memcpy(bad[0], want[0], H);
            memcpy(bad[1], some, H);
            memcpy(bad[2], want[1], (n - 1) * H);
            assert_int_equal(rt_merkle_verify_inclusion(idx, size, leaf, b, n + 1, root), 0);
        }
    }

    /* verify_test.go TestVerifyInclusion: impossible index/size pairs. */
    static const uint64_t probes[][2] = {{0, 0}, {0, 1}, {1, 0}, {2, 1}};
    for (size_t i = 0; i < ARRAY_LEN(probes); i++) {
        assert_int_equal(
            rt_merkle_verify_inclusion(probes[i][0], probes[i][1], some, NULL, 0, zero), 0);
        assert_int_equal(
            rt_merkle_verify_inclusion(probes[i][0], probes[i][1], zero, NULL, 0, empty), 0);
        assert_int_equal(
            rt_merkle_verify_inclusion(probes[i][0], probes[i][1], some, NULL, 0, empty), 0);
    }
    /* TestVerifyInclusionSingleEntry: in a one-leaf tree root == leaf. */
    uint8_t data_hash[H];
    rt_merkle_leaf((const uint8_t *)"data", 4, data_hash);
    assert_int_equal(rt_merkle_verify_inclusion(0, 1, data_hash, NULL, 0, data_hash), 1);
    assert_int_equal(rt_merkle_verify_inclusion(0, 1, data_hash, NULL, 0, zero), 0);
    assert_int_equal(rt_merkle_verify_inclusion(0, 1, zero, NULL, 0, data_hash), 0);
}

static void test_consistency_vectors(void **state)
{
    (void)state;
    hash_t lv[8], proof[RT_MERKLE_MAX_PROOF], want[3], bad[5];
    uint8_t r1[H], r2[H], empty[H], zero[H] = {0};
    vector_leaves(lv);
    hash_from_hex(kEmptyTreeHash, empty);

    for (size_t v = 0; v < ARRAY_LEN(kConsistency); v++) {
        uint64_t m = kConsistency[v].m, n = kConsistency[v].n;
        size_t len = kConsistency[v].len;
        load_hashes(kConsistency[v].proof, len, want);
        hash_from_hex(kRoots[m - 1], r1);
        hash_from_hex(kRoots[n - 1], r2);

        int got = rt_merkle_consistency_proof_mem((const uint8_t(*)[H])lv, 8, m, n, proof,
                                                  RT_MERKLE_MAX_PROOF);
        assert_int_equal(got, len);
        assert_int_equal(rt_merkle_consistency_proof_len(m, n), len);
        if (len)
            assert_memory_equal(proof, want, len * H);

        const uint8_t(*p)[H] = (const uint8_t(*)[H])want;
        const uint8_t(*b)[H] = (const uint8_t(*)[H])bad;
        assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, p, len), 1);
        if (len == 0)
            continue;

        /* The corruptions of verify_test.go corruptConsistencyProof. */
        assert_int_equal(rt_merkle_verify_consistency(m - 1, n, r1, r2, p, len), 0);
        assert_int_equal(rt_merkle_verify_consistency(m + 1, n, r1, r2, p, len), 0);
        assert_int_equal(rt_merkle_verify_consistency(m ^ 2, n, r1, r2, p, len), 0);
        assert_int_equal(rt_merkle_verify_consistency(m, n * 2, r1, r2, p, len), 0);
        assert_int_equal(rt_merkle_verify_consistency(m, n / 2, r1, r2, p, len), 0);
        uint8_t wrong[H];
        memset(wrong, 0, H);
        memcpy(wrong, "WrongRoot", 9);
        assert_int_equal(rt_merkle_verify_consistency(m, n, wrong, r2, p, len), 0);
        assert_int_equal(rt_merkle_verify_consistency(m, n, r1, wrong, p, len), 0);
        assert_int_equal(rt_merkle_verify_consistency(m, n, r2, r1, p, len), 0);
        assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, NULL, 0), 0);
        const uint8_t *extra[] = {zero, r1, r2};
        for (size_t e = 0; e < ARRAY_LEN(extra); e++) {
            memcpy(bad, want, len * H); /* trailing */
            memcpy(bad[len], extra[e], H);
            assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, b, len + 1), 0);
            memcpy(bad[1], want, len * H); /* preceding */
            memcpy(bad[0], extra[e], H);
            assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, b, len + 1), 0);
        }
        memcpy(bad[1], want, len * H); /* preceding proof[0] */
        memcpy(bad[0], want[0], H);
        assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, b, len + 1), 0);
        assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, p, len - 1), 0);
        for (size_t i = 0; i < len; i++) { /* modified proof[i] bit 4 */
            memcpy(bad, want, len * H);
            bad[i][0] ^= 16;
            assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, b, len), 0);
        }
    }

    /* verify_test.go TestVerifyConsistency, except that from size 0 the
     * empty proof is valid exactly when the old root is the empty tree's
     * (RFC 9162 does not define one; every tree extends the empty one). */
    uint8_t c1[H] = "don't care 1", c2[H] = "don't care 2";
    const uint8_t(*e1)[H] = (const uint8_t(*)[H])empty;
    assert_int_equal(rt_merkle_verify_consistency(0, 0, c1, c2, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(0, 5, empty, c2, NULL, 0), 1);
    assert_int_equal(rt_merkle_verify_consistency(0, 0, empty, empty, NULL, 0), 1);
    assert_int_equal(rt_merkle_verify_consistency(0, 5, c1, c2, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(1, 1, c1, c2, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(0, 0, c1, c1, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(0, 1, c1, c2, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(1, 1, c2, c2, NULL, 0), 1);
    assert_int_equal(rt_merkle_verify_consistency(1, 0, c1, c2, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(2, 1, c1, c2, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(1, 2, c1, c2, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(0, 0, empty, c2, NULL, 0), 1);
    assert_int_equal(rt_merkle_verify_consistency(1, 1, empty, c2, NULL, 0), 0);
    assert_int_equal(rt_merkle_verify_consistency(0, 0, empty, empty, e1, 1), 0);
    assert_int_equal(rt_merkle_verify_consistency(0, 1, empty, empty, e1, 1), 0);
    assert_int_equal(rt_merkle_verify_consistency(1, 1, empty, empty, e1, 1), 0);
}

/* Which nodes the generators ask the source for, against proof_test.go. */
static void test_proof_nodes(void **state)
{
    (void)state;
    hash_t proof[RT_MERKLE_MAX_PROOF], want[RT_MERKLE_MAX_PROOF];
    for (int kind = 0; kind < 2; kind++) {
        size_t nv = kind ? ARRAY_LEN(kConsistencyNodes) : ARRAY_LEN(kInclusionNodes);
        for (size_t v = 0; v < nv; v++) {
            uint64_t a = kind ? kConsistencyNodes[v].a : kInclusionNodes[v].a;
            uint64_t b = kind ? kConsistencyNodes[v].b : kInclusionNodes[v].b;
            size_t n = kind ? kConsistencyNodes[v].n : kInclusionNodes[v].n;
            const range *r = kind ? kConsistencyNodes[v].r : kInclusionNodes[v].r;
            uint64_t size = kind ? b : a;
            /* Observed through a source that returns ranges, with range()
             * (right-edge nodes asked for whole) ... */
            tsrc ts;
            rt_merkle_source src = tsrc_make(&ts, size, 0, 1);
            int got = kind ? rt_merkle_consistency_proof(&src, a, b, proof, RT_MERKLE_MAX_PROOF)
                           : rt_merkle_inclusion_proof(&src, b, a, proof, RT_MERKLE_MAX_PROOF);
            assert_int_equal(got, n);
            for (size_t i = 0; i < n; i++)
                encode_range(r[i].lo, r[i].hi, want[i]);
            if (n)
                assert_memory_equal(proof, want, n * H);
            /* ... and as hashes, with right-edge nodes assembled. */
            src = tsrc_make(&ts, size, 1, 0);
            got = kind ? rt_merkle_consistency_proof(&src, a, b, proof, RT_MERKLE_MAX_PROOF)
                       : rt_merkle_inclusion_proof(&src, b, a, proof, RT_MERKLE_MAX_PROOF);
            assert_int_equal(got, n);
            for (size_t i = 0; i < n; i++)
                ref_mth(g_leaves + r[i].lo, r[i].hi - r[i].lo, want[i]);
            if (n)
                assert_memory_equal(proof, want, n * H);
        }
    }
    /* The error cases of the same tests. */
    static const uint64_t bad_incl[][2] = {
        {0, 0}, {0, 1}, {1, 2}, {0, 3}, {7, 8}}; /* size, index */
    for (size_t i = 0; i < ARRAY_LEN(bad_incl); i++)
        assert_int_equal(rt_merkle_inclusion_proof_mem((const uint8_t(*)[H])g_leaves, MAXN,
                                                       bad_incl[i][1], bad_incl[i][0], proof,
                                                       RT_MERKLE_MAX_PROOF),
                         RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_consistency_proof_mem((const uint8_t(*)[H])g_leaves, MAXN, 5, 0,
                                                     proof, RT_MERKLE_MAX_PROOF),
                     RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_consistency_proof_mem((const uint8_t(*)[H])g_leaves, MAXN, 9, 8,
                                                     proof, RT_MERKLE_MAX_PROOF),
                     RT_MERKLE_EINVAL);
}

/* -------------------------------------------- exhaustive small trees */

#define PROOF_N 64     /* largest tree of the all-pairs tests */
#define EXHAUSTIVE_N 16 /* largest tree whose proofs get every bit flipped */
#define SIZE_WINDOW 12 /* other tree sizes tried: n +- this, n / 2, 2n, 2n + 1 */

/* Bits flipped in each hash: all 256 for small trees; else, to stay within
 * the time budget, one in each 32-bit word, at a position that moves with
 * salt so that every bit position is covered across the proofs. */
#define SAMPLED_BITS 8
static int flip_bit(int all, int k, int salt)
{
    return all ? k : k * 32 + ((salt * 11 + k * 7) & 31);
}

static void test_inclusion_all(void **state)
{
    (void)state;
    hash_t proof[RT_MERKLE_MAX_PROOF], ref[RT_MERKLE_MAX_PROOF], bad[RT_MERKLE_MAX_PROOF + 1];
    uint8_t root[H], leaf[H], r2[H];
    sbuf want, probe;
    long checks = 0;
    for (uint64_t n = 1; n <= PROOF_N; n++) {
        ref_mth(g_leaves, n, root);
        for (uint64_t m = 0; m < n; m++) {
            size_t np = 0;
            ref_path(m, g_leaves, n, ref, &np);
            for (int with_range = 0; with_range < 2; with_range++) {
                tsrc ts;
                rt_merkle_source src = tsrc_make(&ts, n, 1, with_range);
                assert_int_equal(rt_merkle_inclusion_proof(&src, m, n, proof, RT_MERKLE_MAX_PROOF),
                                 np);
                if (np)
                    assert_memory_equal(proof, ref, np * H);
            }
            assert_int_equal(rt_merkle_inclusion_proof_len(m, n), np);
            assert_int_equal(rt_merkle_inclusion_proof_mem((const uint8_t(*)[H])g_leaves, n, m, n,
                                                           proof, np),
                             np);
            if (np)
                assert_memory_equal(proof, ref, np * H);
            /* Exactly-sized output is enough, one less is not. */
            if (np)
                assert_int_equal(rt_merkle_inclusion_proof_mem((const uint8_t(*)[H])g_leaves, n, m,
                                                               n, proof, np - 1),
                                 RT_MERKLE_ENOSPC);

            const uint8_t(*p)[H] = (const uint8_t(*)[H])ref;
            assert_int_equal(rt_merkle_verify_inclusion(m, n, g_leaves[m], p, np, root), 1);

            /* One flipped bit anywhere: path, leaf or root. */
            int all = n <= EXHAUSTIVE_N;
            int nbits = all ? 8 * H : SAMPLED_BITS;
            for (size_t i = 0; i < np; i++)
                for (int k = 0; k < nbits; k++) {
                    int bit = flip_bit(all, k, (int)(m + i));
                    ref[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    assert_int_equal(rt_merkle_verify_inclusion(m, n, g_leaves[m], p, np, root), 0);
                    ref[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    checks++;
                }
            memcpy(leaf, g_leaves[m], H);
            for (int k = 0; k < nbits; k++) {
                int bit = flip_bit(all, k, (int)m);
                leaf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_int_equal(rt_merkle_verify_inclusion(m, n, leaf, p, np, root), 0);
                leaf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                root[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_int_equal(rt_merkle_verify_inclusion(m, n, leaf, p, np, root), 0);
                root[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                checks += 2;
            }

            /* The proof does not serve any other leaf of the tree. */
            for (uint64_t j = 0; j < n; j++)
                if (j != m)
                    assert_int_equal(rt_merkle_verify_inclusion(j, n, g_leaves[j], p, np, root), 0);

            /* Other indexes and sizes: rejected unless the shape is the same. */
            size_t wl = incl_shape(m, n, SIZE_MAX, &want);
            assert_int_equal(wl, np);
            static const uint64_t big[] = {UINT64_C(1) << 63, (UINT64_C(1) << 63) + 1,
                                           UINT64_MAX - 1, UINT64_MAX};
            uint64_t probes[PROOF_N + 2 * SIZE_WINDOW + 20][2];
            size_t npr = 0;
            for (uint64_t j = 0; j <= n + 1; j++)
                probes[npr][0] = j, probes[npr++][1] = n;
            for (uint64_t s = n > SIZE_WINDOW ? n - SIZE_WINDOW : 0; s <= n + SIZE_WINDOW; s++)
                probes[npr][0] = m, probes[npr++][1] = s;
            probes[npr][0] = m, probes[npr++][1] = n / 2;
            probes[npr][0] = m, probes[npr++][1] = 2 * n;
            probes[npr][0] = m, probes[npr++][1] = 2 * n + 1;
            for (size_t j = 0; j < ARRAY_LEN(big); j++) {
                probes[npr][0] = m, probes[npr++][1] = big[j];
                probes[npr][0] = big[j], probes[npr++][1] = n;
            }
            probes[npr][0] = m ^ 2, probes[npr++][1] = n;
            probes[npr][0] = m - 1, probes[npr++][1] = n; /* wraps at 0 */
            for (size_t j = 0; j < npr; j++) {
                uint64_t pm = probes[j][0], pn = probes[j][1];
                if (pm == m && pn == n)
                    continue;
                size_t pl = incl_shape(pm, pn, np, &probe);
                int expect = pl == np && strcmp(probe.s, want.s) == 0;
                int got = rt_merkle_verify_inclusion(pm, pn, g_leaves[m], p, np, root);
                if (got != expect)
                    fail_msg("inclusion (%llu,%llu) checked as (%llu,%llu): %d, want %d",
                             (unsigned long long)m, (unsigned long long)n,
                             (unsigned long long)pm, (unsigned long long)pn, got, expect);
                checks++;
            }

            /* Truncated, extended, reordered paths. */
            const uint8_t(*b)[H] = (const uint8_t(*)[H])bad;
            if (np) {
                assert_int_equal(rt_merkle_verify_inclusion(m, n, g_leaves[m], p, np - 1, root), 0);
                assert_int_equal(rt_merkle_verify_inclusion(m, n, g_leaves[m], p + 1, np - 1, root),
                                 0);
            }
            memcpy(bad, ref, np * H);
            memcpy(bad[np], root, H);
            assert_int_equal(rt_merkle_verify_inclusion(m, n, g_leaves[m], b, np + 1, root), 0);
            memcpy(bad[np], ref[np ? np - 1 : 0], H);
            assert_int_equal(rt_merkle_verify_inclusion(m, n, g_leaves[m], b, np + 1, root), 0);
            if (np > 1) {
                memcpy(bad[0], ref[1], H);
                memcpy(bad[1], ref[0], H);
                assert_int_equal(rt_merkle_verify_inclusion(m, n, g_leaves[m], b, np, root), 0);
            }
            /* The root of a neighbouring size. */
            ref_mth(g_leaves, n + 1, r2);
            assert_int_equal(rt_merkle_verify_inclusion(m, n, g_leaves[m], p, np, r2), 0);
        }
    }
    assert_true(checks > 100000);
}

static void test_consistency_all(void **state)
{
    (void)state;
    hash_t proof[RT_MERKLE_MAX_PROOF], ref[RT_MERKLE_MAX_PROOF], bad[RT_MERKLE_MAX_PROOF + 1];
    uint8_t roots[PROOF_N + 2][H];
    sbuf wo, wn, po, pn_;
    for (uint64_t n = 0; n <= PROOF_N + 1; n++)
        ref_mth(g_leaves, n, roots[n]);
    for (uint64_t n = 1; n <= PROOF_N; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            size_t np = 0;
            ref_subproof(m, g_leaves, n, 1, ref, &np);
            for (int with_range = 0; with_range < 2; with_range++) {
                tsrc ts;
                rt_merkle_source src = tsrc_make(&ts, n, 1, with_range);
                assert_int_equal(
                    rt_merkle_consistency_proof(&src, m, n, proof, RT_MERKLE_MAX_PROOF), np);
                if (np)
                    assert_memory_equal(proof, ref, np * H);
            }
            assert_int_equal(rt_merkle_consistency_proof_len(m, n), np);
            assert_int_equal(rt_merkle_consistency_proof_mem((const uint8_t(*)[H])g_leaves, n, m, n,
                                                             proof, np),
                             np);
            if (np) {
                assert_memory_equal(proof, ref, np * H);
                assert_int_equal(rt_merkle_consistency_proof_mem((const uint8_t(*)[H])g_leaves, n,
                                                                 m, n, proof, np - 1),
                                 RT_MERKLE_ENOSPC);
            }

            uint8_t r1[H], r2[H];
            memcpy(r1, roots[m], H);
            memcpy(r2, roots[n], H);
            const uint8_t(*p)[H] = (const uint8_t(*)[H])ref;
            assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, p, np), 1);

            /* One flipped bit anywhere: proof or either root. */
            int all = n <= EXHAUSTIVE_N;
            int nbits = all ? 8 * H : SAMPLED_BITS;
            for (size_t i = 0; i < np; i++)
                for (int k = 0; k < nbits; k++) {
                    int bit = flip_bit(all, k, (int)(m + n + i));
                    ref[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, p, np), 0);
                    ref[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            for (int k = 0; k < nbits; k++) {
                int bit = flip_bit(all, k, (int)(m + n));
                r1[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, p, np), 0);
                r1[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                r2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, p, np), 0);
                r2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }

            /* Other sizes (with the same roots and proof): rejected unless
             * the shapes of both roots are the same.  F, the old root the
             * verifier is given, stands for this proof's old-root shape. */
            size_t wl = cons_shape(m, n, "F", SIZE_MAX, &wo, &wn);
            assert_int_equal(wl, np);
            char f[sizeof wo.s];
            memcpy(f, wo.s, wo.len + 1);
            cons_shape(m, n, f, SIZE_MAX, &wo, &wn);
            static const uint64_t big[] = {UINT64_C(1) << 63, (UINT64_C(1) << 63) + 1, UINT64_MAX};
            uint64_t probes[PROOF_N + 2 * SIZE_WINDOW + 20][2];
            size_t npr = 0;
            for (uint64_t j = 0; j <= n + 1; j++)
                probes[npr][0] = j, probes[npr++][1] = n;
            for (uint64_t s = n > SIZE_WINDOW ? n - SIZE_WINDOW : 0; s <= n + SIZE_WINDOW; s++)
                probes[npr][0] = m, probes[npr++][1] = s;
            probes[npr][0] = m, probes[npr++][1] = n / 2;
            probes[npr][0] = m, probes[npr++][1] = 2 * n;
            probes[npr][0] = m, probes[npr++][1] = 2 * n + 1;
            for (size_t j = 0; j < ARRAY_LEN(big); j++) {
                probes[npr][0] = m, probes[npr++][1] = big[j];
                probes[npr][0] = big[j], probes[npr++][1] = big[j];
            }
            probes[npr][0] = m ^ 2, probes[npr++][1] = n;
            probes[npr][0] = m - 1, probes[npr++][1] = n - 1;
            probes[npr][0] = m + 1, probes[npr++][1] = n + 1;
            for (size_t j = 0; j < npr; j++) {
                uint64_t a = probes[j][0], c = probes[j][1];
                if (a == m && c == n)
                    continue;
                size_t pl = cons_shape(a, c, f, np, &po, &pn_);
                int expect = pl == np && strcmp(po.s, wo.s) == 0 && strcmp(pn_.s, wn.s) == 0;
                int got = rt_merkle_verify_consistency(a, c, r1, r2, p, np);
                if (got != expect)
                    fail_msg("consistency (%llu,%llu) checked as (%llu,%llu): %d, want %d",
                             (unsigned long long)m, (unsigned long long)n, (unsigned long long)a,
                             (unsigned long long)c, got, expect);
            }
            /* Roots of other sizes, swapped roots. */
            if (m < n) {
                assert_int_equal(rt_merkle_verify_consistency(m, n, r2, r1, p, np), 0);
                assert_int_equal(rt_merkle_verify_consistency(m, n, roots[m - 1], r2, p, np), 0);
                assert_int_equal(rt_merkle_verify_consistency(m, n, r1, roots[n + 1], p, np), 0);
            } else {
                assert_int_equal(rt_merkle_verify_consistency(m, n, r1, roots[n + 1], p, np), 0);
            }

            /* Truncated, extended, reordered proofs. */
            const uint8_t(*b)[H] = (const uint8_t(*)[H])bad;
            if (np) {
                assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, p, np - 1), 0);
                assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, p + 1, np - 1), 0);
            }
            memcpy(bad, ref, np * H);
            memcpy(bad[np], r1, H);
            assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, b, np + 1), 0);
            memcpy(bad[np], r2, H);
            assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, b, np + 1), 0);
            memcpy(bad[1], ref, np * H);
            memcpy(bad[0], r1, H);
            assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, b, np + 1), 0);
            if (np > 1) {
                memcpy(bad[0], ref[1], H);
                memcpy(bad[1], ref[0], H);
                memcpy(bad[2], ref[2], (np - 2) * H);
                assert_int_equal(rt_merkle_verify_consistency(m, n, r1, r2, b, np), 0);
            }
        }
    }
}

/* ---------------------------------------------- arguments and errors */

static int never_called(void *ctx, uint64_t start, unsigned level, uint8_t out[H])
{
    (void)ctx, (void)start, (void)level, (void)out;
    fail_msg("node source called");
    return -1;
}

static void test_errors(void **state)
{
    (void)state;
    hash_t proof[RT_MERKLE_MAX_PROOF];
    const uint8_t(*lv)[H] = (const uint8_t(*)[H])g_leaves;
    rt_merkle_source none = {never_called, NULL, NULL};

    /* Size 0 and index >= size. */
    assert_int_equal(rt_merkle_inclusion_proof_len(0, 0), RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_inclusion_proof_len(5, 5), RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_inclusion_proof_len(UINT64_MAX, UINT64_MAX), RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_inclusion_proof(&none, 0, 0, proof, RT_MERKLE_MAX_PROOF),
                     RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_inclusion_proof(&none, 9, 3, proof, RT_MERKLE_MAX_PROOF),
                     RT_MERKLE_EINVAL);
    /* A one-leaf tree has the empty path; no output needed. */
    assert_int_equal(rt_merkle_inclusion_proof(&none, 0, 1, NULL, 0), 0);

    /* m == 0 (the empty proof: nothing asked of the source), m > n, m == n. */
    assert_int_equal(rt_merkle_consistency_proof_len(0, 0), 0);
    assert_int_equal(rt_merkle_consistency_proof_len(0, 5), 0);
    assert_int_equal(rt_merkle_consistency_proof_len(6, 5), RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_consistency_proof(&none, 0, 0, proof, RT_MERKLE_MAX_PROOF), 0);
    assert_int_equal(rt_merkle_consistency_proof(&none, 0, 8, NULL, 0), 0);
    assert_int_equal(rt_merkle_consistency_proof(&none, 8, 7, proof, RT_MERKLE_MAX_PROOF),
                     RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_consistency_proof(&none, 7, 7, NULL, 0), 0);
    assert_int_equal(rt_merkle_consistency_proof(&none, UINT64_MAX, UINT64_MAX, NULL, 0), 0);

    /* Too small an output: refused before the source is asked anything. */
    assert_int_equal(rt_merkle_inclusion_proof(&none, 3, 8, proof, 2), RT_MERKLE_ENOSPC);
    assert_int_equal(rt_merkle_inclusion_proof(&none, 3, 8, NULL, 0), RT_MERKLE_ENOSPC);
    assert_int_equal(rt_merkle_consistency_proof(&none, 3, 8, proof, 2), RT_MERKLE_ENOSPC);
    assert_int_equal(rt_merkle_consistency_proof(&none, 3, 8, NULL, 0), RT_MERKLE_ENOSPC);

    /* Arrays shorter than the requested tree. */
    assert_int_equal(rt_merkle_inclusion_proof_mem(lv, 7, 0, 8, proof, RT_MERKLE_MAX_PROOF),
                     RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_consistency_proof_mem(lv, 7, 3, 8, proof, RT_MERKLE_MAX_PROOF),
                     RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_inclusion_proof_mem(NULL, 0, 0, 0, proof, RT_MERKLE_MAX_PROOF),
                     RT_MERKLE_EINVAL);
    /* A longer array is fine: only the first size leaves count. */
    assert_int_equal(rt_merkle_inclusion_proof_mem(lv, MAXN, 0, 1, proof, RT_MERKLE_MAX_PROOF), 0);

    /* A failing source, at each of its calls, with and without range(). */
    for (int with_range = 0; with_range < 2; with_range++) {
        static const uint64_t cases[][3] = {
            {0, 3, 95}, {1, 81, 95}, {0, 0, 300}, {1, 5, 7}, {1, 3, 300}};
        for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
            int cons = (int)cases[c][0];
            uint64_t a = cases[c][1], b = cases[c][2];
            tsrc ts;
            rt_merkle_source src = tsrc_make(&ts, b, 1, with_range);
            int ok = cons ? rt_merkle_consistency_proof(&src, a, b, proof, RT_MERKLE_MAX_PROOF)
                          : rt_merkle_inclusion_proof(&src, a, b, proof, RT_MERKLE_MAX_PROOF);
            assert_true(ok > 0);
            long calls = ts.calls;
            assert_true(calls >= ok && calls < 2 * RT_MERKLE_MAX_PROOF);
            for (long k = 1; k <= calls; k++) {
                src = tsrc_make(&ts, b, 1, with_range);
                ts.fail_at = k;
                int rc = cons ? rt_merkle_consistency_proof(&src, a, b, proof, RT_MERKLE_MAX_PROOF)
                              : rt_merkle_inclusion_proof(&src, a, b, proof, RT_MERKLE_MAX_PROOF);
                assert_int_equal(rc, RT_MERKLE_ESOURCE);
                assert_int_equal(ts.calls, k); /* stops at the first failure */
            }
        }
        tsrc ts;
        rt_merkle_source src = tsrc_make(&ts, 300, 1, with_range);
        uint8_t h[H];
        ts.fail_at = 1;
        assert_int_equal(rt_merkle_source_root(&src, 300, h), RT_MERKLE_ESOURCE);
        rt_merkle_frontier f, g;
        rt_merkle_frontier_init(&f);
        rt_merkle_frontier_append(&f, g_leaves[0]);
        g = f;
        src = tsrc_make(&ts, 300, 1, with_range);
        ts.fail_at = 3;
        assert_int_equal(rt_merkle_frontier_from_source(&f, &src, 300), RT_MERKLE_ESOURCE);
        assert_memory_equal(&f, &g, sizeof f);
    }

    /* Verifiers: NULL proofs with zero length are fine; no length is
     * too long to handle. */
    uint8_t r[H], l[H];
    ref_mth(g_leaves, 8, r);
    assert_int_equal(rt_merkle_verify_inclusion(0, 8, g_leaves[0], NULL, 0, r), 0);
    assert_int_equal(rt_merkle_verify_consistency(3, 8, r, r, NULL, 0), 0);
    static hash_t many[1000];
    assert_int_equal(
        rt_merkle_verify_inclusion(0, 8, g_leaves[0], (const uint8_t(*)[H])many, 1000, r), 0);
    assert_int_equal(
        rt_merkle_verify_inclusion(0, UINT64_MAX, g_leaves[0], (const uint8_t(*)[H])many, 1000, r),
        0);
    assert_int_equal(rt_merkle_verify_consistency(3, 8, r, r, (const uint8_t(*)[H])many, 1000), 0);
    assert_int_equal(
        rt_merkle_verify_consistency(1, UINT64_MAX, r, r, (const uint8_t(*)[H])many, 1000), 0);
    assert_int_equal(rt_merkle_verify_consistency(UINT64_MAX - 1, UINT64_MAX, r, r,
                                                  (const uint8_t(*)[H])many, 1000),
                     0);
    /* A one-leaf tree: the root is the leaf hash, the path is empty. */
    memcpy(l, g_leaves[0], H);
    assert_int_equal(rt_merkle_verify_inclusion(0, 1, l, NULL, 0, l), 1);
    assert_int_equal(rt_merkle_verify_inclusion(0, 1, l, (const uint8_t(*)[H])many, 1, l), 0);
}

/* --------------------------------------------------- 64-bit sizes */

/*
 * A tree whose leaves all have the same hash: its subtree hashes depend only
 * on their level, so trees of up to 2^64 - 1 leaves can be served and their
 * roots computed independently.  It exercises the arithmetic at the top of
 * the 64-bit range, not the positions (every index has the same proof).
 */
static hash_t g_const[64];

typedef struct csrc {
    uint64_t size;
    long calls;
} csrc;

static int csrc_subtree(void *ctx, uint64_t start, unsigned level, uint8_t out[H])
{
    csrc *s = ctx;
    assert_true(level < 64);
    uint64_t span = UINT64_C(1) << level;
    assert_true(start % span == 0 && start < s->size && span <= s->size - start);
    s->calls++;
    memcpy(out, g_const[level], H);
    return 0;
}

/* MTH of n equal leaves, from the RFC 6962 recursion (only its right
 * branch is not perfect). */
static void const_root(uint64_t n, uint8_t out[H])
{
    if ((n & (n - 1)) == 0) {
        unsigned l = 0;
        while ((UINT64_C(1) << l) < n)
            l++;
        memcpy(out, g_const[l], H);
        return;
    }
    uint64_t k = ref_split(n);
    uint8_t r[H];
    const_root(n - k, r);
    uint8_t l[H];
    const_root(k, l);
    ref_node(l, r, out);
}

static void test_huge_trees(void **state)
{
    (void)state;
    rt_merkle_leaf((const uint8_t *)"x", 1, g_const[0]);
    for (int l = 1; l < 64; l++)
        ref_node(g_const[l - 1], g_const[l - 1], g_const[l]);

    const uint64_t top = UINT64_C(1) << 63;
    static const uint64_t sizes[] = {
        UINT64_C(1) << 32, (UINT64_C(1) << 32) + 1, UINT64_C(1) << 63, (UINT64_C(1) << 63) + 1,
        (UINT64_C(1) << 63) + 12345, UINT64_MAX - 1, UINT64_MAX,
    };
    hash_t proof[RT_MERKLE_MAX_PROOF];
    uint8_t root[H], root2[H], h[H];
    int max_incl = 0, max_cons = 0;
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
        uint64_t n = sizes[s];
        const_root(n, root);
        csrc cs = {n, 0};
        rt_merkle_source src = {csrc_subtree, NULL, &cs};
        assert_int_equal(rt_merkle_source_root(&src, n, h), 0);
        assert_memory_equal(h, root, H);
        rt_merkle_frontier f;
        assert_int_equal(rt_merkle_frontier_from_source(&f, &src, n), 0);
        rt_merkle_frontier_root(&f, h);
        assert_memory_equal(h, root, H);

        const uint64_t idx[] = {0, 1, n / 2, n / 2 + 1, top - 1, top, n - 2, n - 1};
        for (size_t i = 0; i < ARRAY_LEN(idx); i++) {
            uint64_t x = idx[i];
            if (x >= n)
                continue;
            cs.calls = 0;
            int len = rt_merkle_inclusion_proof(&src, x, n, proof, RT_MERKLE_MAX_PROOF);
            assert_int_equal(len, rt_merkle_inclusion_proof_len(x, n));
            assert_int_equal((size_t)len, ref_path_len(x, n));
            assert_true(cs.calls < 2 * RT_MERKLE_MAX_PROOF);
            if (len > max_incl)
                max_incl = len;
            const uint8_t(*p)[H] = (const uint8_t(*)[H])proof;
            assert_int_equal(rt_merkle_verify_inclusion(x, n, g_const[0], p, (size_t)len, root), 1);
            assert_int_equal(rt_merkle_verify_inclusion(x, n, g_const[0], p, (size_t)len - 1, root),
                             0);
            proof[len - 1][31] ^= 1;
            assert_int_equal(rt_merkle_verify_inclusion(x, n, g_const[0], p, (size_t)len, root), 0);

            /* Consistency from x + 1 leaves to n. */
            uint64_t m = x + 1;
            const_root(m, root2);
            cs.calls = 0;
            len = rt_merkle_consistency_proof(&src, m, n, proof, RT_MERKLE_MAX_PROOF);
            assert_int_equal(len, rt_merkle_consistency_proof_len(m, n));
            assert_int_equal((size_t)len, ref_subproof_len(m, n, 1));
            assert_true(cs.calls < 2 * RT_MERKLE_MAX_PROOF);
            if (len > max_cons)
                max_cons = len;
            assert_int_equal(rt_merkle_verify_consistency(m, n, root2, root, p, (size_t)len), 1);
            if (len > 0) {
                assert_int_equal(
                    rt_merkle_verify_consistency(m, n, root2, root, p, (size_t)len - 1), 0);
                proof[0][0] ^= 0x80;
                assert_int_equal(rt_merkle_verify_consistency(m, n, root2, root, p, (size_t)len),
                                 0);
            }
        }
    }
    /* The bounds of RT_MERKLE_MAX_PROOF are reached. */
    assert_int_equal(max_incl, 64);
    assert_int_equal(max_cons, RT_MERKLE_MAX_PROOF);
    assert_int_equal(rt_merkle_consistency_proof_len(top + 1, UINT64_MAX), RT_MERKLE_MAX_PROOF);
}

/* --------------------------------------------------------- batch tree */

/* Every batch size from 1 to RT_MERKLE_BATCH_MAX: the root is MTH of the
 * leaves (the reference, recursive definition) and every leaf's path is the
 * reference audit path, which the verifier accepts. */
static void test_batch_tree(void **state)
{
    (void)state;
    static rt_merkle_batch b;
    static hash_t leaves[RT_MERKLE_BATCH_MAX];
    uint8_t root[H], want[H], path[RT_MERKLE_BATCH_LEVELS - 1][H];
    hash_t ref[RT_MERKLE_MAX_PROOF];
    for (size_t i = 0; i < RT_MERKLE_BATCH_MAX; i++)
        rt_merkle_leaf((const uint8_t *)&i, sizeof i, leaves[i]);
    assert_int_equal(rt_merkle_batch_build(&b, (const uint8_t(*)[H])leaves, 0, root), RT_MERKLE_EINVAL);
    assert_int_equal(rt_merkle_batch_build(&b, (const uint8_t(*)[H])leaves, RT_MERKLE_BATCH_MAX + 1, root),
                     RT_MERKLE_EINVAL);
    for (size_t n = 1; n <= RT_MERKLE_BATCH_MAX; n += n < 40 ? 1 : 61) {
        assert_int_equal(rt_merkle_batch_build(&b, (const uint8_t(*)[H])leaves, n, root), 0);
        ref_mth(leaves, n, want);
        assert_memory_equal(root, want, H);
        for (size_t i = 0; i < n; i++) {
            size_t np = rt_merkle_batch_path(&b, i, path), nr = 0;
            ref_path(i, leaves, n, ref, &nr);
            assert_int_equal(np, nr);
            assert_memory_equal(path, ref, np * H);
            assert_int_equal(rt_merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[H])path, np, root), 1);
        }
    }
}

/* The subtrees an append completes are every perfect subtree ending at the
 * new leaf, each with its reference hash, smallest first. */
typedef struct seen { unsigned level[64]; uint64_t start[64]; hash_t h[64]; int n; } seen;

static void record(void *ctx, unsigned level, uint64_t start, const uint8_t hash[H])
{
    seen *s = ctx;
    s->level[s->n] = level;
    s->start[s->n] = start;
    memcpy(s->h[s->n], hash, H);
    s->n++;
}

static void test_frontier_subtrees(void **state)
{
    (void)state;
    rt_merkle_frontier f;
    rt_merkle_frontier_init(&f);
    uint8_t want[H];
    for (uint64_t n = 0; n < MAXN; n++) {
        seen s = { .n = 0 };
        assert_int_equal(rt_merkle_frontier_append_subtrees(&f, g_leaves[n], record, &s), 0);
        /* Leaf n completes the subtrees of levels 1..ctz(n+1). */
        int expect = __builtin_ctzll(n + 1);
        assert_int_equal(s.n, expect);
        for (int k = 0; k < s.n; k++) {
            assert_int_equal(s.level[k], (unsigned)(k + 1));
            assert_int_equal(s.start[k], n + 1 - (1ull << (k + 1)));
            ref_mth(g_leaves + s.start[k], 1ull << (k + 1), want);
            assert_memory_equal(s.h[k], want, H);
        }
        rt_merkle_frontier_root(&f, want);
        uint8_t ref[H];
        ref_mth(g_leaves, n + 1, ref);
        assert_memory_equal(want, ref, H);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_root_vectors),
        cmocka_unit_test(test_root_reference),
        cmocka_unit_test(test_frontier_vectors),
        cmocka_unit_test(test_frontier_incremental),
        cmocka_unit_test(test_frontier_serialization),
        cmocka_unit_test(test_frontier_full),
        cmocka_unit_test(test_inclusion_vectors),
        cmocka_unit_test(test_consistency_vectors),
        cmocka_unit_test(test_proof_nodes),
        cmocka_unit_test(test_inclusion_all),
        cmocka_unit_test(test_consistency_all),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_huge_trees),
        cmocka_unit_test(test_batch_tree),
        cmocka_unit_test(test_frontier_subtrees),
    };
    return cmocka_run_group_tests(tests, setup_leaves, NULL);
}

/* rt_cid.c — IPFS content identifiers (see rt_cid.h). */
#include "rt_cid.h"

#include <string.h>

#include <nettle/sha2.h>

const char *rt_cid_strerror(int code)
{
    switch (code) {
    case RT_CID_ETRUNC: return "truncated CID";
    case RT_CID_EVARINT: return "varint not minimal or longer than 9 bytes";
    case RT_CID_EVERSION: return "not a CID of version 0 or 1";
    case RT_CID_ELONG: return "CID longer than 256 bytes";
    case RT_CID_ENOSPC: return "output buffer too small";
    case RT_CID_EHASH: return "hash function not supported (only sha2-256 with a 32-byte digest)";
    case RT_CID_ETRAIL: return "bytes after the CID";
    default: return "?";
    }
}

/* -------------------------------------------------------- varints */

size_t rt_cid_uvarint_put(uint64_t v, uint8_t out[RT_CID_UVARINT_MAX])
{
    if (v >> 63)
        return 0;
    size_t i = 0;
    while (v >= 0x80) {
        out[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[i++] = (uint8_t)v;
    return i;
}

int rt_cid_uvarint_get(const uint8_t *p, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < RT_CID_UVARINT_MAX; i++) {
        if (i == n)
            return RT_CID_ETRUNC;
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            /* A last byte of zero adds nothing: a shorter form exists. */
            if (i > 0 && p[i] == 0)
                return RT_CID_EVARINT;
            *v = x;
            return (int)i + 1;
        }
    }
    return RT_CID_EVARINT;
}

/* ------------------------------------------------------ decoding */

static void sha256_of(const void *data, size_t n, uint8_t out[SHA256_DIGEST_SIZE])
{
    struct sha256_ctx h;
    sha256_init(&h);
    if (n)
        sha256_update(&h, n, data);
    sha256_digest(&h, SHA256_DIGEST_SIZE, out);
}

int rt_cid_decode(const uint8_t *p, size_t n, rt_cid *c)
{
    if (n >= 1 && p[0] == RT_CID_SHA2_256 && (n < 2 || p[1] == 32)) {
        if (n < 34)
            return RT_CID_ETRUNC;
        *c = (rt_cid){ .version = 0, .codec = RT_CID_DAG_PB, .hash = RT_CID_SHA2_256,
                       .digest_off = 2, .digest_len = 32, .len = 34 };
        return 0;
    }
    uint64_t f[4]; /* version, codec, hash, digest length */
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        int k = rt_cid_uvarint_get(p + off, n - off, &f[i]);
        if (k < 0)
            return k;
        off += (size_t)k;
        if (i == 0 && f[0] != 1)
            return RT_CID_EVERSION;
    }
    if (f[3] > RT_CID_MAX_BYTES || off + f[3] > RT_CID_MAX_BYTES)
        return RT_CID_ELONG;
    if (f[3] > n - off)
        return RT_CID_ETRUNC;
    *c = (rt_cid){ .version = 1, .codec = f[1], .hash = f[2], .digest_off = off,
                   .digest_len = (size_t)f[3], .len = off + (size_t)f[3] };
    return 0;
}

int rt_cid_matches(const uint8_t *cid, const rt_cid *c, const void *data, size_t n)
{
    if (c->hash != RT_CID_SHA2_256 || c->digest_len != SHA256_DIGEST_SIZE)
        return RT_CID_EHASH;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_of(data, n, d);
    return memcmp(d, cid + c->digest_off, sizeof d) == 0;
}

/* ---------------------------------------------------- raw sha2-256 */

void rt_cid_raw_from_digest(const uint8_t digest[32], uint8_t out[RT_CID_RAW_SHA256_BYTES])
{
    out[0] = RT_CID_V1;
    out[1] = RT_CID_RAW;
    out[2] = RT_CID_SHA2_256;
    out[3] = 32;
    memcpy(out + 4, digest, 32);
}

void rt_cid_raw_sha256_bytes(const void *data, size_t n, uint8_t out[RT_CID_RAW_SHA256_BYTES])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_of(data, n, d);
    rt_cid_raw_from_digest(d, out);
}

void rt_cid_raw_sha256(const void *data, size_t n, char out[RT_CID_RAW_SHA256_STRLEN + 1])
{
    uint8_t b[RT_CID_RAW_SHA256_BYTES];
    rt_cid_raw_sha256_bytes(data, n, b);
    /* Cannot fail: the CID is well formed and the buffer fits it. */
    (void)rt_cid_to_string(b, sizeof b, out, RT_CID_RAW_SHA256_STRLEN + 1);
}

/* ------------------------------------------------------ text forms */

int rt_cid_base32(const uint8_t *in, size_t n, char *out, size_t cap)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    if (n > RT_CID_MAX_BYTES)
        return RT_CID_ELONG;
    size_t len = (n * 8 + 4) / 5; /* 5 bits a character, the last one padded with zero bits */
    if (len + 1 > cap) {
        if (cap)
            out[0] = 0;
        return RT_CID_ENOSPC;
    }
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8 | in[i]) & 0xfff; /* at most 12 bits are pending */
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[k++] = alphabet[(acc >> bits) & 31];
        }
    }
    if (bits)
        out[k++] = alphabet[(acc << (5 - bits)) & 31];
    out[k] = 0;
    return (int)k;
}

int rt_cid_base58btc(const uint8_t *in, size_t n, char *out, size_t cap)
{
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    uint8_t digits[RT_CID_MAX_BYTES * 138 / 100 + 1]; /* log(256)/log(58) < 1.38 */
    size_t zeros = 0, nd = 0;
    if (n > RT_CID_MAX_BYTES)
        return RT_CID_ELONG;
    while (zeros < n && in[zeros] == 0)
        zeros++;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = in[i];
        for (size_t j = 0; j < nd; j++) { /* digits, least significant first */
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            digits[nd++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    if (zeros + nd + 1 > cap) {
        if (cap)
            out[0] = 0;
        return RT_CID_ENOSPC;
    }
    size_t k = 0;
    for (size_t i = 0; i < zeros; i++)
        out[k++] = '1';
    while (nd)
        out[k++] = alphabet[digits[--nd]];
    out[k] = 0;
    return (int)k;
}

int rt_cid_to_string(const uint8_t *cid, size_t n, char *out, size_t cap)
{
    rt_cid c;
    if (cap)
        out[0] = 0;
    if (n > RT_CID_MAX_BYTES)
        return RT_CID_ELONG;
    int rc = rt_cid_decode(cid, n, &c);
    if (rc)
        return rc;
    if (c.len != n)
        return RT_CID_ETRAIL;
    if (c.version == 0)
        return rt_cid_base58btc(cid, n, out, cap);
    if (cap < 2)
        return RT_CID_ENOSPC;
    rc = rt_cid_base32(cid, n, out + 1, cap - 1);
    if (rc < 0) {
        out[0] = 0;
        return rc;
    }
    out[0] = 'b'; /* the multibase prefix of lowercase base32 */
    return rc + 1;
}

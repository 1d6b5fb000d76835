/* rt_car.c — CARv1 writing and reading (see rt_car.h). */
#include "rt_car.h"

#include <string.h>

/* CBOR major types used by the header. */
enum { CB_UINT = 0, CB_BYTES = 2, CB_TEXT = 3, CB_ARRAY = 4, CB_MAP = 5, CB_TAG = 6 };
#define CID_TAG 42 /* the CBOR tag of an IPLD link */

/* ---------------------------------------------------------- CBOR heads */

/* Length of the shortest CBOR head for the argument v. */
static size_t cbor_head_len(uint64_t v)
{
    return v < 24 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffffu ? 5 : 9;
}

/* Writes the shortest CBOR head of major type m and argument v. */
static size_t cbor_head_put(unsigned m, uint64_t v, uint8_t *out)
{
    size_t n = cbor_head_len(v);
    static const uint8_t ai[10] = { [2] = 24, [3] = 25, [5] = 26, [9] = 27 };
    out[0] = (uint8_t)(m << 5 | (n == 1 ? v : ai[n]));
    for (size_t i = 1; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return n;
}

/* Reads a definite-length CBOR head at p[0..n) in its shortest form (as
 * DAG-CBOR requires).  Returns its length, or 0 with *why set. */
static size_t cbor_head_get(const uint8_t *p, size_t n, unsigned *m, uint64_t *v, const char **why)
{
    if (n == 0) {
        *why = "the header ends inside a CBOR item";
        return 0;
    }
    unsigned a = p[0] & 31;
    *m = p[0] >> 5;
    if (a < 24) {
        *v = a;
        return 1;
    }
    if (a > 27) {
        *why = "an indefinite length or reserved CBOR head (not DAG-CBOR)";
        return 0;
    }
    size_t k = (size_t)1 << (a - 24); /* 1, 2, 4 or 8 argument bytes */
    if (n < 1 + k) {
        *why = "the header ends inside a CBOR item";
        return 0;
    }
    uint64_t x = 0;
    for (size_t i = 1; i <= k; i++)
        x = x << 8 | p[i];
    if (cbor_head_len(x) != 1 + k) {
        *why = "a CBOR length or value not in its shortest form (not DAG-CBOR)";
        return 0;
    }
    *v = x;
    return 1 + k;
}

/* ------------------------------------------------------------ writing */

int rt_car_header(const uint8_t *roots, size_t roots_len, uint8_t *out, size_t cap, size_t *len)
{
    size_t count = 0, body = 0;
    for (size_t off = 0; off < roots_len; count++) {
        rt_cid c;
        int rc = rt_cid_decode(roots + off, roots_len - off, &c);
        if (rc)
            return rc;
        if (count == RT_CAR_MAX_ROOTS)
            return RT_CAR_ELIMIT;
        body += 2 + cbor_head_len(1 + c.len) + 1 + c.len; /* tag 42, bytes, 0x00, CID */
        off += c.len;
    }
    size_t cbor = 1 + 6 + cbor_head_len(count) + body + 8 + 1;
    uint8_t v[RT_CID_UVARINT_MAX];
    size_t vl = rt_cid_uvarint_put(cbor, v);
    *len = vl + cbor;
    if (cap < *len)
        return RT_CAR_ENOSPC;
    uint8_t *p = out;
    memcpy(p, v, vl);
    p += vl;
    *p++ = CB_MAP << 5 | 2;
    *p++ = CB_TEXT << 5 | 5;
    memcpy(p, "roots", 5);
    p += 5;
    p += cbor_head_put(CB_ARRAY, count, p);
    for (size_t off = 0; off < roots_len;) {
        rt_cid c;
        (void)rt_cid_decode(roots + off, roots_len - off, &c); /* succeeded above */
        p += cbor_head_put(CB_TAG, CID_TAG, p);
        p += cbor_head_put(CB_BYTES, 1 + c.len, p);
        *p++ = 0x00;
        memcpy(p, roots + off, c.len);
        p += c.len;
        off += c.len;
    }
    *p++ = CB_TEXT << 5 | 7;
    memcpy(p, "version", 7);
    p += 7;
    *p++ = CB_UINT << 5 | 1;
    return 0;
}

size_t rt_car_section_prefix(const uint8_t *cid, size_t cid_len, uint64_t data_len,
                             uint8_t *out, size_t cap)
{
    uint8_t v[RT_CID_UVARINT_MAX];
    if (data_len > UINT64_MAX - cid_len)
        return 0;
    size_t vl = rt_cid_uvarint_put(cid_len + data_len, v);
    if (vl == 0 || cap < vl + cid_len)
        return 0;
    memcpy(out, v, vl);
    memcpy(out + vl, cid, cid_len);
    return vl + cid_len;
}

/* ------------------------------------------------------------ reading */

/* Records the first error; returns the sticky code. */
static int fail(rt_car_reader *r, int code, size_t off, const char *reason)
{
    if (!r->error) {
        r->error = code;
        r->error_off = off;
        r->reason = reason;
    }
    return r->error;
}

/* Reads the roots array at h[*pos..n) (h is the header, at offset base in
 * the CAR). */
static int read_roots(rt_car_reader *r, const uint8_t *h, size_t n, size_t base, size_t *pos)
{
    const char *why = NULL;
    unsigned m;
    uint64_t count, v;
    size_t k = cbor_head_get(h + *pos, n - *pos, &m, &count, &why);
    if (!k)
        return fail(r, RT_CAR_EFORMAT, base + *pos, why);
    if (m != CB_ARRAY)
        return fail(r, RT_CAR_EFORMAT, base + *pos, "\"roots\" is not an array");
    if (count > RT_CAR_MAX_ROOTS)
        return fail(r, RT_CAR_ELIMIT, base + *pos, "more than 64 roots");
    *pos += k;
    for (size_t i = 0; i < count; i++) {
        size_t at = *pos;
        k = cbor_head_get(h + *pos, n - *pos, &m, &v, &why);
        if (!k)
            return fail(r, RT_CAR_EFORMAT, base + at, why);
        if (m != CB_TAG || v != CID_TAG)
            return fail(r, RT_CAR_EFORMAT, base + at, "a root is not a CID link (CBOR tag 42)");
        *pos += k;
        at = *pos;
        k = cbor_head_get(h + *pos, n - *pos, &m, &v, &why);
        if (!k)
            return fail(r, RT_CAR_EFORMAT, base + at, why);
        if (m != CB_BYTES)
            return fail(r, RT_CAR_EFORMAT, base + at, "a CID link does not hold a byte string");
        *pos += k;
        if (v > n - *pos)
            return fail(r, RT_CAR_EFORMAT, base + at, "the header ends inside a root CID");
        if (v == 0 || h[*pos] != 0x00)
            return fail(r, RT_CAR_EFORMAT, base + *pos, "a root CID lacks its 0x00 prefix");
        size_t cid_at = *pos + 1, cid_n = (size_t)v - 1;
        int rc = rt_cid_decode(h + cid_at, cid_n, &r->roots[i]);
        if (rc)
            return fail(r, RT_CAR_EFORMAT, base + cid_at, rt_cid_strerror(rc));
        if (r->roots[i].len != cid_n)
            return fail(r, RT_CAR_EFORMAT, base + cid_at, "a root's byte string holds more than its CID");
        r->root_off[i] = base + cid_at;
        r->nroots = i + 1;
        *pos += (size_t)v;
    }
    return 0;
}

int rt_car_open(rt_car_reader *r, const uint8_t *buf, size_t len)
{
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->len = len;
    uint64_t hl;
    int k = rt_cid_uvarint_get(buf, len, &hl);
    if (k == RT_CID_ETRUNC)
        return fail(r, RT_CAR_EFORMAT, 0, len ? "the file ends inside the header's length" : "an empty file: no CAR header");
    if (k < 0)
        return fail(r, RT_CAR_EFORMAT, 0, "the header's length is not a minimal varint");
    size_t base = (size_t)k;
    if (hl == 0)
        return fail(r, RT_CAR_EFORMAT, 0, "a header of length 0");
    if (hl > RT_CAR_MAX_HEADER)
        return fail(r, RT_CAR_ELIMIT, 0, "a header longer than 65536 bytes");
    if (hl > len - base)
        return fail(r, RT_CAR_EFORMAT, 0, "the file ends inside the header");
    const uint8_t *h = buf + base;
    size_t n = (size_t)hl, pos = 0;

    const char *why = NULL;
    unsigned m;
    uint64_t entries, v;
    size_t hk = cbor_head_get(h, n, &m, &entries, &why);
    if (!hk)
        return fail(r, RT_CAR_EFORMAT, base, why);
    if (m != CB_MAP)
        return fail(r, RT_CAR_EFORMAT, base, "the header is not a CBOR map");
    pos = hk;
    int seen_roots = 0, seen_version = 0;
    uint64_t version = 0;
    for (uint64_t e = 0; e < entries; e++) {
        size_t at = pos;
        hk = cbor_head_get(h + pos, n - pos, &m, &v, &why);
        if (!hk)
            return fail(r, RT_CAR_EFORMAT, base + at, why);
        if (m != CB_TEXT)
            return fail(r, RT_CAR_EFORMAT, base + at, "a header key is not a text string");
        pos += hk;
        if (v > n - pos)
            return fail(r, RT_CAR_EFORMAT, base + at, "the header ends inside a key");
        const char *key = (const char *)h + pos;
        size_t kl = (size_t)v;
        pos += kl;
        if (kl == 5 && memcmp(key, "roots", 5) == 0) {
            if (seen_roots)
                return fail(r, RT_CAR_EFORMAT, base + at, "the header repeats \"roots\"");
            if (seen_version)
                return fail(r, RT_CAR_EFORMAT, base + at,
                            "the header's keys are not in DAG-CBOR order (\"roots\" before \"version\")");
            seen_roots = 1;
            if (read_roots(r, h, n, base, &pos))
                return r->error;
        } else if (kl == 7 && memcmp(key, "version", 7) == 0) {
            if (seen_version)
                return fail(r, RT_CAR_EFORMAT, base + at, "the header repeats \"version\"");
            seen_version = 1;
            at = pos;
            hk = cbor_head_get(h + pos, n - pos, &m, &version, &why);
            if (!hk)
                return fail(r, RT_CAR_EFORMAT, base + at, why);
            if (m != CB_UINT)
                return fail(r, RT_CAR_EFORMAT, base + at, "\"version\" is not an unsigned integer");
            pos += hk;
        } else {
            return fail(r, RT_CAR_EFORMAT, base + at, "a header key other than \"roots\" and \"version\"");
        }
    }
    if (pos != n)
        return fail(r, RT_CAR_EFORMAT, base + pos, "bytes after the header's map, inside its length");
    if (!seen_version)
        return fail(r, RT_CAR_EFORMAT, base, "the header has no \"version\"");
    if (version == 2)
        return fail(r, RT_CAR_EVERSION, base, "a CARv2 file (only CARv1 is read: extract its CARv1 payload)");
    if (version != 1)
        return fail(r, RT_CAR_EVERSION, base, "a CAR whose version is not 1");
    if (!seen_roots)
        return fail(r, RT_CAR_EFORMAT, base, "the header has no \"roots\"");
    r->data_off = r->pos = base + n;
    return 0;
}

int rt_car_next(rt_car_reader *r, rt_car_block *b)
{
    if (r->error)
        return r->error;
    if (r->pos == r->len)
        return 0;
    size_t at = r->pos;
    uint64_t sl;
    int k = rt_cid_uvarint_get(r->buf + at, r->len - at, &sl);
    if (k == RT_CID_ETRUNC)
        return fail(r, RT_CAR_EFORMAT, at, "the file ends inside a section's length");
    if (k < 0)
        return fail(r, RT_CAR_EFORMAT, at, "a section's length is not a minimal varint");
    size_t cid_at = at + (size_t)k;
    if (sl == 0)
        return fail(r, RT_CAR_EFORMAT, at, "a section of length 0");
    if (sl > r->len - cid_at)
        return fail(r, RT_CAR_EFORMAT, at, "the file ends inside a section (truncated?)");
    rt_cid c;
    int rc = rt_cid_decode(r->buf + cid_at, (size_t)sl, &c);
    if (rc == RT_CID_ETRUNC)
        return fail(r, RT_CAR_EFORMAT, cid_at, "a section shorter than its CID");
    if (rc)
        return fail(r, RT_CAR_EFORMAT, cid_at, rt_cid_strerror(rc));
    *b = (rt_car_block){ .off = at, .cid_off = cid_at, .cid = c, .data_off = cid_at + c.len,
                         .data_len = (size_t)sl - c.len };
    r->pos = cid_at + (size_t)sl;
    r->nblocks++;
    return 1;
}

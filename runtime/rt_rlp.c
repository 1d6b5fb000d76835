/* rt_rlp.c — the RLP writer; see rt_rlp.h. */
#include "rt_rlp.h"

#include <string.h>

size_t rt_rlp_header_len(size_t n)
{
    size_t h = 1;
    if (n > 55)
        for (size_t v = n; v; v >>= 8)
            h++;
    return h;
}

/* Writes the header for a payload of n bytes at dst; base is 0x80 for a
 * string, 0xc0 for a list.  dst has rt_rlp_header_len(n) bytes. */
static void put_header(uint8_t *dst, size_t n, uint8_t base)
{
    size_t h = rt_rlp_header_len(n);
    if (h == 1) {
        dst[0] = (uint8_t)(base + n);
        return;
    }
    dst[0] = (uint8_t)(base + 55 + (h - 1));
    for (size_t i = h - 1; i >= 1; i--, n >>= 8)
        dst[i] = (uint8_t)n;
}

static int fail(rt_rlp *r, int err)
{
    if (!r->err)
        r->err = err;
    return -1;
}

static int room(rt_rlp *r, size_t n)
{
    if (r->err)
        return -1;
    return n <= r->cap - r->len ? 0 : fail(r, RT_RLP_E_SPACE);
}

void rt_rlp_init(rt_rlp *r, uint8_t *buf, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->cap = cap;
}

void rt_rlp_bytes(rt_rlp *r, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (n == 1 && b[0] < 0x80) {
        if (room(r, 1) == 0)
            r->buf[r->len++] = b[0];
        return;
    }
    size_t h = rt_rlp_header_len(n);
    if (n > r->cap) {
        fail(r, RT_RLP_E_SPACE);
        return;
    }
    if (room(r, h + n) != 0)
        return;
    put_header(r->buf + r->len, n, 0x80);
    if (n)
        memcpy(r->buf + r->len + h, b, n);
    r->len += h + n;
}

void rt_rlp_uint(rt_rlp *r, uint64_t v)
{
    uint8_t be[8];
    int k = 8;
    while (v) {
        be[--k] = (uint8_t)v;
        v >>= 8;
    }
    rt_rlp_bytes(r, be + k, (size_t)(8 - k));
}

void rt_rlp_uint256(rt_rlp *r, const uint8_t be[32])
{
    size_t k = 0;
    while (k < 32 && be[k] == 0)
        k++;
    rt_rlp_bytes(r, be + k, 32 - k);
}

void rt_rlp_list_begin(rt_rlp *r)
{
    if (r->err)
        return;
    if (r->depth == RT_RLP_MAX_DEPTH) {
        fail(r, RT_RLP_E_DEPTH);
        return;
    }
    r->open[r->depth++] = r->len;
}

void rt_rlp_list_end(rt_rlp *r)
{
    if (r->err)
        return;
    if (r->depth == 0) {
        fail(r, RT_RLP_E_UNBALANCED);
        return;
    }
    size_t start = r->open[--r->depth], n = r->len - start, h = rt_rlp_header_len(n);
    if (room(r, h) != 0)
        return;
    memmove(r->buf + start + h, r->buf + start, n);
    put_header(r->buf + start, n, 0xc0);
    r->len += h;
}

int rt_rlp_finish(rt_rlp *r, size_t *len)
{
    if (!r->err && r->depth != 0)
        fail(r, RT_RLP_E_UNBALANCED);
    if (!r->err)
        *len = r->len;
    return r->err;
}

const char *rt_rlp_strerror(int err)
{
    switch (err) {
    case RT_RLP_OK: return "no error";
    case RT_RLP_E_SPACE: return "RLP: output buffer too small";
    case RT_RLP_E_DEPTH: return "RLP: lists nested too deeply";
    case RT_RLP_E_UNBALANCED: return "RLP: unbalanced list";
    default: return "RLP: unknown error";
    }
}

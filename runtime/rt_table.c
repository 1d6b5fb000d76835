/* rt_table.c — copies along the spec's `from` lines, and row encoding
 * (see rt_table.h). */
#include "rt_table.h"

#include <string.h>

uint32_t rt_col_oid(const rt_col *c)
{
    switch (c->enc) {
    case RT_COL_BYTES: case RT_COL_HASH: return RT_PG_OID_BYTEA;
    case RT_COL_U64: case RT_COL_I64: return RT_PG_OID_INT8;
    case RT_COL_BOOL: return RT_PG_OID_BOOL;
    default: return RT_PG_OID_TEXT;
    }
}

void rt_copies_apply(const rt_copies *c, void *dst, int route, const void *req)
{
    for (unsigned i = 0; i < c->n; i++) {
        const rt_copy *k = &c->v[i];
        if (k->route == route && req)
            memcpy((uint8_t *)dst + k->dst_off, (const uint8_t *)req + k->src_off, k->size);
    }
}

void rt_table_fill(const rt_table *t, void *row, int route, const void *req, const void *entry)
{
    for (unsigned i = 0; i < t->ncols; i++) {
        const rt_copy *k = &t->cols[i].from;
        const void *src = k->route == RT_FROM_ENTRY ? entry : k->route == route ? req : NULL;
        if (k->size && src)
            memcpy((uint8_t *)row + k->dst_off, (const uint8_t *)src + k->src_off, k->size);
    }
}

void rt_col_encode(const rt_col *c, const void *row, rt_pgarr *a)
{
    const uint8_t *v = (const uint8_t *)row + c->off;
    switch (c->enc) {
    case RT_COL_STR:
    case RT_COL_TS: {
        const rt_str *s = (const rt_str *)v;
        rt_pgarr_add(a, s->p, s->n);
        break;
    }
    case RT_COL_BYTES: {
        const rt_bytes *b = (const rt_bytes *)v;
        rt_pgarr_add(a, b->p, b->n);
        break;
    }
    case RT_COL_HASH:
        rt_pgarr_add(a, v, 32);
        break;
    case RT_COL_U64: {
        uint64_t u;
        memcpy(&u, v, 8);
        rt_pgarr_add_i64(a, (int64_t)u);
        break;
    }
    case RT_COL_I64: {
        int64_t i;
        memcpy(&i, v, 8);
        rt_pgarr_add_i64(a, i);
        break;
    }
    case RT_COL_BOOL: {
        uint8_t b = *v ? 1 : 0;
        rt_pgarr_add(a, &b, 1);
        break;
    }
    case RT_COL_DERIVED: {
        char buf[256];
        size_t n = c->format(v, buf, sizeof buf);
        rt_pgarr_add(a, buf, n < sizeof buf ? n : sizeof buf - 1);
        break;
    }
    }
}

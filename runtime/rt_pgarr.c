/* rt_pgarr.c — Postgres binary arrays (see rt_pgarr.h). */
#include "rt_pgarr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(rt_pgarr *a, const void *p, size_t n)
{
    if (a->n + n > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap < a->n + n)
            cap *= 2;
        uint8_t *nb = realloc(a->b, cap);
        if (!nb) {
            fprintf(stderr, "rt_pgarr: out of memory\n");
            abort();
        }
        a->b = nb;
        a->cap = cap;
    }
    memcpy(a->b + a->n, p, n);
    a->n += n;
}

static void put32(rt_pgarr *a, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(a, b, 4);
}

static void set32(rt_pgarr *a, size_t at, uint32_t v)
{
    a->b[at] = (uint8_t)(v >> 24);
    a->b[at + 1] = (uint8_t)(v >> 16);
    a->b[at + 2] = (uint8_t)(v >> 8);
    a->b[at + 3] = (uint8_t)v;
}

/* Header: ndim, has-nulls, element type, then (for ndim 1) length and lower
 * bound, patched by rt_pgarr_end. */
void rt_pgarr_begin(rt_pgarr *a, uint32_t oid)
{
    a->n = 0;
    a->count = a->hasnull = 0;
    put32(a, 1);
    put32(a, 0);
    put32(a, oid);
    put32(a, 0);
    put32(a, 1);
}

void rt_pgarr_add(rt_pgarr *a, const void *p, size_t n)
{
    if (!p) {
        put32(a, 0xffffffffu);
        a->hasnull = 1;
    } else {
        put32(a, (uint32_t)n);
        put(a, p, n);
    }
    a->count++;
}

void rt_pgarr_add_i64(rt_pgarr *a, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, u >>= 8)
        b[i] = (uint8_t)u;
    rt_pgarr_add(a, b, 8);
}

void rt_pgarr_end(rt_pgarr *a)
{
    if (!a->count) {
        set32(a, 0, 0);
        a->n = 12;
    } else {
        set32(a, 4, (uint32_t)a->hasnull);
        set32(a, 12, (uint32_t)a->count);
    }
}

void rt_pgarr_free(rt_pgarr *a)
{
    free(a->b);
    a->b = NULL;
    a->n = a->cap = 0;
}

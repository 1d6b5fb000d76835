/* rt_ser.c — walks an rt_record table and writes canonical JSON (rt_ser.h). */
#include "rt_ser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void value(rt_jw *w, uint8_t type, const rt_ofield *f, const char *at, unsigned flags);

static void list(rt_jw *w, const rt_ofield *f, const rt_list *l, unsigned flags)
{
    rt_ofield ef = *f;
    ef.type = f->elem;
    rt_jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++)
        value(w, f->elem, &ef, (const char *)l->v + i * f->elem_size, flags);
    rt_jw_arr_end(w);
}

static void value(rt_jw *w, uint8_t type, const rt_ofield *f, const char *at, unsigned flags)
{
    switch (type) {
    case RT_O_STR: {
        const rt_str *s = (const rt_str *)at;
        rt_jw_str(w, s->p ? s->p : "", s->n);
        break;
    }
    case RT_O_UINT: { uint64_t v; memcpy(&v, at, sizeof v); rt_jw_uint(w, v); break; }
    case RT_O_INT: { int64_t v; memcpy(&v, at, sizeof v); rt_jw_int(w, v); break; }
    case RT_O_BOOL: rt_jw_bool(w, *(const uint8_t *)at); break;
    case RT_O_HASH: rt_jw_hex(w, (const uint8_t *)at, 32); break;
    case RT_O_BYTES: {
        const rt_bytes *b = (const rt_bytes *)at;
        rt_jw_hex(w, b->p, b->n);
        break;
    }
    case RT_O_DERIVED: {
        char buf[256];
        size_t n = f->format(at, buf, sizeof buf);
        if (n >= sizeof buf) {
            /* A cut label would sign the wrong value: fail instead. */
            if (!w->err)
                w->err = RT_JW_E_SPACE;
            break;
        }
        rt_jw_str(w, buf, n);
        break;
    }
    case RT_O_RECORD: rt_ser(w, f->rec, at, flags & ~(unsigned)RT_SER_UNSIGNED); break;
    case RT_O_RAW: {
        const rt_str *s = (const rt_str *)at;
        if (s->n)
            rt_jw_raw(w, s->p, s->n);
        else
            rt_jw_null(w);
        break;
    }
    case RT_O_LIST: list(w, f, (const rt_list *)at, flags); break;
    case RT_O_CONST: rt_jw_str(w, f->cval, strlen(f->cval)); break;
    default: rt_jw_null(w); break;
    }
}

int rt_ser(rt_jw *w, const rt_record *rec, const void *obj, unsigned flags)
{
    const char *base = obj;
    rt_jw_obj_begin(w);
    for (uint16_t i = 0; i < rec->nfields; i++) {
        const rt_ofield *f = &rec->fields[i];
        if ((flags & RT_SER_UNSIGNED) && (f->flags & RT_OF_SIGNATURE))
            continue;
        rt_jw_key(w, f->key, f->key_len);
        if ((f->flags & RT_OF_NULLABLE) && *(const uint8_t *)(base + f->null_off))
            rt_jw_null(w);
        else
            value(w, f->type, f, base + f->off, flags);
    }
    rt_jw_obj_end(w);
    return w->err;
}

char *rt_ser_alloc(const struct rt_record *rec, const void *obj, unsigned flags, size_t *len,
                   int *err)
{
    int e = RT_JW_E_SPACE;
    for (size_t cap = 4096; cap <= 64u << 20 && e == RT_JW_E_SPACE; cap *= 4) {
        char *buf = malloc(cap);
        if (!buf) {
            e = 0;
            break;
        }
        rt_jw w;
        rt_jw_init(&w, buf, cap);
        rt_ser(&w, rec, obj, flags);
        e = rt_jw_finish(&w);
        if (e == 0) {
            *len = w.len;
            return buf;
        }
        free(buf);
    }
    if (err)
        *err = e;
    return NULL;
}

size_t rt_ser_now(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
    return n;
}

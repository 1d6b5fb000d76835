/* rt_param.c — path and query parameters from the generated tables
 * (see rt_param.h). */
#include "rt_param.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(rt_param_err *err, const char *code, const rt_param *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(rt_param_err *err, const char *code, const rt_param *p, const char *fmt, ...)
{
    err->code = code;
    err->name = p->name;
    int n = snprintf(err->message, sizeof err->message, "%s ", p->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof err->message - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* What a value of p must be, as the reason for refusing one. */
static int bad(rt_param_err *err, const rt_param *p)
{
    switch (p->type) {
    case RT_P_INT:
        return fail(err, "bad_parameter", p, "must be a whole number from %lld to %lld",
                    (long long)p->min, (long long)p->max);
    case RT_P_ID:
        return fail(err, "bad_parameter", p, "is %lld to %lld of [a-z0-9_]",
                    (long long)p->min, (long long)p->max);
    case RT_P_STRING:
        return fail(err, "bad_parameter", p, "is %lld to %lld bytes",
                    (long long)p->min, (long long)p->max);
    case RT_P_BOOL:
        return fail(err, "bad_parameter", p, "is true or false");
    case RT_P_ENUM: {
        char list[120];
        size_t k = 0;
        list[0] = 0;
        for (uint8_t i = 0; i < p->nlabels && k < sizeof list; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", p->labels[i]);
        return fail(err, "bad_parameter", p, "is one of: %s", list);
    }
    }
    return fail(err, "bad_parameter", p, "is malformed");
}

/* A whole decimal number in [lo, hi]: digits only, no sign, no spaces. */
static int whole(const char *s, long long lo, long long hi, int64_t *out)
{
    if (!*s || strlen(s) > 19)
        return -1;
    long long v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (*c - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_one(const rt_param *p, uint8_t *o, const char *v, size_t n, rt_param_err *err)
{
    switch (p->type) {
    case RT_P_STRING:
    case RT_P_ID: {
        int ok = (int64_t)n >= p->min && (int64_t)n <= p->max;
        for (size_t i = 0; ok && p->type == RT_P_ID && i < n; i++)
            ok = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'z') || v[i] == '_';
        if (!ok)
            return bad(err, p);
        uint32_t len = (uint32_t)n;
        memcpy(o + p->off, v, n);
        o[p->off + n] = 0;
        memcpy(o + p->len_off, &len, sizeof len);
        return 0;
    }
    case RT_P_INT: {
        int64_t x;
        if (whole(v, (long long)p->min, (long long)p->max, &x))
            return bad(err, p);
        memcpy(o + p->off, &x, sizeof x);
        return 0;
    }
    case RT_P_BOOL:
        if (strcmp(v, "true") && strcmp(v, "false"))
            return bad(err, p);
        o[p->off] = !strcmp(v, "true");
        return 0;
    case RT_P_ENUM:
        for (uint8_t i = 0; i < p->nlabels; i++)
            if (!strcmp(v, p->labels[i])) {
                o[p->off] = i;
                return 0;
            }
        return bad(err, p);
    }
    return bad(err, p);
}

int rt_param_parse(const rt_params *t, void *out, rt_param_get get, void *ctx, rt_param_err *err)
{
    uint8_t *o = out;
    memset(o, 0, t->size);
    for (unsigned i = 0; i < t->nparams; i++) {
        const rt_param *p = &t->params[i];
        /* Room for any valid value and one byte more, to tell "too long". */
        size_t cap = p->type == RT_P_STRING || p->type == RT_P_ID ? (size_t)p->max + 2 : 32;
        char stackbuf[258];
        char *v = cap <= sizeof stackbuf ? stackbuf : malloc(cap);
        if (!v)
            return fail(err, "bad_parameter", p, "cannot be read (out of memory)");
        int n = get(ctx, p->name, p->in_path, v, cap);
        int rc = 0;
        if (n == -1) {
            if (!p->optional)
                rc = fail(err, "missing_parameter", p, "is required");
        } else if (n < 0) {
            rc = bad(err, p);
        } else {
            rc = parse_one(p, o, v, (size_t)n, err);
            if (!rc)
                o[p->has_off] = 1;
        }
        if (v != stackbuf)
            free(v);
        if (rc)
            return -1;
    }
    return 0;
}

/* rt_ws_trace.c — an rt_ws parser's events as one string (rt_ws_trace.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_ws.h"
#include "rt_ws_trace.h"

typedef struct out { char *p; size_t len, cap; } out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (o->len + 1 >= o->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

static void hex(out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(o, "%02x", p[i]);
}

static const char *error_name(int e)
{
    static const char *names[] = {
        "none",
#define XX(name, reason, close) #name,
        RT_WS_ERRORS(XX)
#undef XX
    };
    return e >= 0 && (size_t)e < sizeof names / sizeof names[0] ? names[e] : "?";
}

int ws_trace(int role, uint64_t max, const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts,
             char *buf, size_t cap)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    if (n)
        memcpy(copy, in, n);
    out o = { buf, 0, cap };
    buf[0] = 0;
    rt_ws_parser p;
    rt_ws_init(&p, role, max);
    int in_data = 0, rc = RT_WS_MORE;
    size_t consumed = 0;
    for (size_t c = 0; c <= ncuts && rc != RT_WS_ERROR; c++) {
        size_t end = c < ncuts ? cuts[c] : n;
        for (;;) {
            size_t used;
            rt_ws_event ev;
            rc = rt_ws_parse(&p, copy + consumed, end - consumed, &used, &ev);
            consumed += used;
            if (rc != RT_WS_EVENT)
                break;
            if (ev.type != RT_WS_EV_DATA && in_data) {
                put(&o, ";");
                in_data = 0;
            }
            switch (ev.type) {
            case RT_WS_EV_FRAME:
                put(&o, "F%d,%d,%d,%llu;", ev.op, ev.message_op, ev.fin, (unsigned long long)ev.len);
                break;
            case RT_WS_EV_DATA:
                if (!in_data)
                    put(&o, "D");
                in_data = 1;
                hex(&o, ev.data, (size_t)ev.len);
                break;
            case RT_WS_EV_FRAME_END:
                put(&o, "E%d;", ev.fin);
                break;
            case RT_WS_EV_CONTROL:
                put(&o, "C%d,", ev.op);
                hex(&o, ev.data, (size_t)ev.len);
                if (ev.op == RT_WS_OP_CLOSE) {
                    put(&o, ",%u,", ev.code);
                    hex(&o, (const uint8_t *)ev.reason, ev.reason_len);
                }
                put(&o, ";");
                break;
            }
        }
    }
    if (in_data)
        put(&o, ";");
    if (rc == RT_WS_ERROR)
        put(&o, "error %s close %u @%llu", error_name(p.error), p.close, (unsigned long long)p.error_off);
    else
        put(&o, "end@%zu", consumed);
    free(copy);
    return p.error;
}

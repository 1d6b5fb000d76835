/*
 * route.c — the route table from spec/ (gen/toy_service.h), request
 * matching, parameters, and dispatch to the handler's thread.  Runs on the
 * service thread.
 *
 * Everything an endpoint needs to be routed is in its spec: method, path
 * and port, the parameter table rt_param_parse reads its path and query
 * with, the schema its body is parsed with, and its handler and thread.  An
 * endpoint the spec declares as planned is answered here, the one place,
 * with 501.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "route.h"
#include "rt_param.h"

const route toy_routes[TOY_R__COUNT] = {
#define XX(name, m, p, port, st, sch, par, resp, emits, handler, thread) \
    [TOY_R_##name] = { #name, m, p, port, st, sch, par, resp, emits, handler, thread },
    TOY_ROUTES(XX)
#undef XX
};

static int fields_commit(const rt_object *o)
{
    for (unsigned i = 0; i < o->nfields; i++) {
        const rt_field *f = &o->fields[i];
        if (f->type == RT_T_OBJECT && fields_commit(f->obj))
            return 1;
        for (unsigned k = 0; k < f->nsinks; k++)
            if (f->sinks[k].kind == RT_SINK_COMMIT)
                return 1;
    }
    return 0;
}

int route_needs_salt(int r)
{
    /* Worked out once per route (the service thread is the only caller). */
    static signed char known[TOY_R__COUNT];
    if (!known[r]) {
        const rt_schema *s = toy_routes[r].schema;
        known[r] = s && fields_commit(s->root) ? 1 : -1;
    }
    return known[r] > 0;
}

/* ---- matching ------------------------------------------------------------- */

#define MAX_CAPTURES 4

/* The path's ":name" segments, as matched. */
typedef struct captures {
    int n;
    const char *name[MAX_CAPTURES];
    size_t name_len[MAX_CAPTURES];
    const char *val[MAX_CAPTURES];
    size_t val_len[MAX_CAPTURES];
} captures;

/* Does path match pattern ("/a/:x/b": ":x" is one non-empty segment)? */
static int path_match(const char *pat, const char *path, captures *c)
{
    c->n = 0;
    while (*pat && *path) {
        if (*pat == ':') {
            size_t n = strcspn(path, "/"), pn = strcspn(pat, "/");
            if (!n || c->n == MAX_CAPTURES)
                return 0;
            c->name[c->n] = pat + 1;
            c->name_len[c->n] = pn - 1;
            c->val[c->n] = path;
            c->val_len[c->n] = n;
            c->n++;
            path += n;
            pat += pn;
        } else if (*pat++ != *path++) {
            return 0;
        }
    }
    return !*pat && !*path;
}

typedef struct getctx {
    const captures *caps;
    const rt_http_head *head;
    const char *buf;
} getctx;

/* rt_param_get over the path's captures and the query string. */
static int get_param(void *ctx, const char *name, int in_path, char *out, size_t cap)
{
    const getctx *g = ctx;
    if (!in_path)
        return rt_http_query_arg(g->head, g->buf, name, out, cap);
    for (int i = 0; i < g->caps->n; i++)
        if (g->caps->name_len[i] == strlen(name) && !memcmp(g->caps->name[i], name, g->caps->name_len[i])) {
            if (g->caps->val_len[i] >= cap)
                return -2;
            memcpy(out, g->caps->val[i], g->caps->val_len[i]);
            out[g->caps->val_len[i]] = 0;
            return (int)g->caps->val_len[i];
        }
    return -1;
}

static void refuse(route_result *out, int status, const char *code, const char *msg)
{
    out->status = status;
    out->body = error_json(code, msg, NULL, -1, &out->body_len);
}

void route_open(int port, const rt_http_head *h, char *buf, route_result *out)
{
    memset(out, 0, sizeof *out);
    const char *m = buf + h->method.off;
    /* The path ends at '?' or at the space before the version: both parsed
     * already, so it can be terminated in place. */
    char *path = buf + h->path.off;
    path[h->path.len] = 0;
    captures caps;
    int r = -1, path_found = 0;
    for (int i = 0; i < TOY_R__COUNT; i++) {
        const route *rt = &toy_routes[i];
        if (rt->port != port || !path_match(rt->path, path, &caps))
            continue;
        path_found = 1;
        if (strlen(rt->method) == h->method.len && !memcmp(rt->method, m, h->method.len)) {
            r = i;
            break;
        }
        size_t al = strlen(out->allow);
        snprintf(out->allow + al, sizeof out->allow - al, "%s%s", al ? ", " : "", rt->method);
    }
    if (r < 0) {
        if (path_found)
            refuse(out, 405, "method_not_allowed", "this path does not take that method");
        else
            refuse(out, 404, "not_found", "no such endpoint");
        return;
    }
    out->allow[0] = 0;
    if (!toy_routes[r].handler) {
        refuse(out, 501, "not_implemented", "this endpoint is declared in spec/ but not served yet");
        return;
    }
    /* path_match ran again for later routes: match this one's captures. */
    path_match(toy_routes[r].path, path, &caps);
    job *j = job_new(r);
    getctx g = { &caps, h, buf };
    rt_param_err e;
    if (rt_param_parse(toy_routes[r].params, j->params, get_param, &g, &e)) {
        job_free(j);
        refuse(out, 400, e.code, e.message);
        return;
    }
    out->job = j;
}

/* rt_param_get over a job's names and values. */
static int get_kv(void *ctx, const char *name, int in_path, char *out, size_t cap)
{
    (void)in_path;
    for (const char *const *kv = ctx; kv[0]; kv += 2)
        if (!strcmp(kv[0], name)) {
            size_t n = strlen(kv[1]);
            if (n >= cap)
                return -2;
            memcpy(out, kv[1], n + 1);
            return (int)n;
        }
    return -1;
}

job *route_job(int r, const char *const *kv, rt_param_err *e)
{
    if (toy_routes[r].port != TOY_PORT_NONE) {
        fprintf(stderr, "toyapp: route %s is an endpoint, not a job\n", toy_routes[r].name);
        abort();
    }
    job *j = job_new(r);
    if (rt_param_parse(toy_routes[r].params, j->params, get_kv, (void *)kv, e)) {
        job_free(j);
        return NULL;
    }
    return j;
}

int route_dispatch(job *j)
{
    const route *rt = &toy_routes[j->route];
    switch (rt->thread) {
    case TOY_T_SERVICE:
        rt->handler->serve(j, NULL);
        return 1;
    case TOY_T_READER:
        queue_push(&g_app.reader_q, j);
        return 0;
    case TOY_T_IO:
        queue_push(&g_app.io_q, j);
        return 0;
    default:
        queue_push(&g_app.writer_q, j);
        return 0;
    }
}

/*
 * route.h — the routes, from spec/: matching a request to its endpoint,
 * its path and query parameters (the generated tables and rt_param), and
 * handing its job to the handler's thread.
 */
#ifndef TOYAPP_ROUTE_H
#define TOYAPP_ROUTE_H

#include <stddef.h>

#include "handler.h"
#include "rt_http.h"
#include "rt_param.h"

typedef struct route {
    const char *name, *method, *path;
    int port;                    /* enum toy_port */
    int status;                  /* the success status */
    const rt_schema *schema;     /* the body's, or NULL */
    const rt_params *params;
    const rt_record *resp;
    unsigned emits;              /* bits 1 << TOY_K_* */
    const toy_handler *handler;  /* NULL: declared but planned (501) */
    int thread;                  /* enum toy_thread */
} route;

extern const route toy_routes[TOY_R__COUNT];

/* Does route r's body have a commit sink (which needs a salt)? */
int route_needs_salt(int r);

/* How routing a request head came out. */
typedef struct route_result {
    job *job;                    /* the route matched and its parameters parsed */
    int status;                  /* otherwise: 404, 405, 400 or 501 ... */
    char *body;                  /* ... with this JSON error (malloc'd) */
    size_t body_len;
    char allow[64];              /* 405: the methods the path takes */
} route_result;

/*
 * Routes the request whose head h was parsed from buf (which it may modify:
 * the path is NUL-terminated in place) on port.  Fills out: a job for the
 * matched route, or the refusal.
 */
void route_open(int port, const rt_http_head *h, char *buf, route_result *out);

/* A job of route r, a spec `job` (served on no port), with its parameters
 * from kv: names and values, alternating, ending with NULL; they are
 * checked against the spec's bounds as a request's are.  Returns the job,
 * or NULL with the first problem in e (a programming error: the caller's
 * values are its own). */
job *route_job(int r, const char *const *kv, rt_param_err *e);

/* Hands j to its handler: runs a service-thread handler at once (returns 1:
 * j has its answer), or queues j for the handler's thread (returns 0; the
 * answer comes back through done_q). */
int route_dispatch(job *j);

#endif

/*
 * h_status.c — what this instance is and how it is: GET /, /health, /ready
 * and /version.  All answered at once on the service thread, from memory.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "handler.h"
#include "monitor.h"
#include "route.h"

#ifndef TOY_GIT_SHA
#define TOY_GIT_SHA "unknown"
#endif
#ifndef TOY_BUILD_TIME
#define TOY_BUILD_TIME "unknown"
#endif


/* The endpoints of the API port, as "METHOD /path", from the route table. */
static void index_(job *j, worker *w)
{
    (void)w;
    static rt_str eps[TOY_R__COUNT];
    static char lines[TOY_R__COUNT][96];
    static size_t n;
    if (!n)
        for (int i = 0; i < TOY_R__COUNT; i++) {
            if (toy_routes[i].port != TOY_PORT_API)
                continue;
            int k = snprintf(lines[n], sizeof lines[n], "%s %s", toy_routes[i].method, toy_routes[i].path);
            eps[n] = (rt_str){ lines[n], (size_t)k };
            n++;
        }
    toy_resp_index r = {
        .service = RT_STR("toyapp"), .version = RT_STR(TOY_VERSION), .cvmId = rt_cstr(g_app.cfg.meta.cvm_id),
        .endpoints = { eps, n },
    };
    job_answer(j, 200, &toy_resp_index_rec, &r);
}
const toy_handler h_index = { .serve = index_ };

static void health(job *j, worker *w)
{
    (void)w;
    monitor_health(j);
}
const toy_handler h_health = { .serve = health };

static void ready(job *j, worker *w)
{
    (void)w;
    monitor_ready_answer(j);
}
const toy_handler h_ready = { .serve = ready };

static void version(job *j, worker *w)
{
    (void)w;
    toy_resp_version r = {
        .version = RT_STR(TOY_VERSION), .gitSha = RT_STR(TOY_GIT_SHA),
        .buildTime = RT_STR(TOY_BUILD_TIME), .environment = rt_cstr(g_app.cfg.environment),
        .composeHash = rt_cstr(g_app.meta.compose_hash), .teeProvider = rt_cstr(g_app.meta.provider),
    };
    job_answer(j, 200, &toy_resp_version_rec, &r);
}
const toy_handler h_version = { .serve = version };

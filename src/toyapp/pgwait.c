/* pgwait.c — a statement's result, waited for within bounds (pgwait.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "pgwait.h"

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

PGresult *pg_await(PGconn *c, int sent, int ms, const atomic_int *stop)
{
    if (!sent)
        return NULL;
    uint64_t deadline = mono_ms() + (uint64_t)(ms > 0 ? ms : 0);
    int cancelled = ms <= 0;   /* no deadline: nothing to cancel */
    while (PQisBusy(c)) {
        uint64_t now = mono_ms();
        int wait = stop ? 100 : cancelled ? -1 : (int)(deadline > now ? deadline - now : 0);
        struct pollfd p = { .fd = PQsocket(c), .events = POLLIN };
        int n = poll(&p, 1, wait);
        if (n < 0 && errno != EINTR)
            return NULL;
        if (n > 0 && !PQconsumeInput(c))
            break;   /* the connection broke: PQgetResult says so */
        if (n == 0 && stop && atomic_load(stop))
            return NULL;
        if (n == 0 && !stop && !cancelled && mono_ms() >= deadline) {
            PGcancel *k = PQgetCancel(c);
            char err[256];
            if (!k || !PQcancel(k, err, sizeof err))
                fprintf(stderr, "toyapp: database: could not cancel a statement past %d ms\n", ms);
            PQfreeCancel(k);
            cancelled = 1;
        }
    }
    PGresult *r, *keep = NULL;
    while ((r = PQgetResult(c))) {
        /* The first failure is the answer. */
        if (keep && PQresultStatus(keep) != PGRES_COMMAND_OK && PQresultStatus(keep) != PGRES_TUPLES_OK)
            PQclear(r);
        else {
            PQclear(keep);
            keep = r;
        }
    }
    return keep ? keep : PQmakeEmptyPGresult(c, PGRES_FATAL_ERROR);
}

/*
 * h_signup.c — POST /signup (spec/endpoints/signup.spec) and GET
 * /signup-count (spec/endpoints/signup_count.spec).
 *
 * A signup is a `signup` entry; its row in signups and its user id hash
 * come from the spec's `from` lines, filled by the writer.  The answer is
 * the entry in its signed batch.  The count is the signup counter, signed.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handler.h"

static int signup_prepare(job *j, wentry *e, PGconn *c)
{
    (void)j;
    (void)c;
    w_entry(e, TOY_K_signup);
    return 0;
}

static void signup_respond(job *j, const wentry *e, const wbatch *b)
{
    toy_resp_signup r = { .auditEntry = { e->json, e->len }, .batchHead = *b->head, .batchIndex = e->index,
                          .inclusionPath = { e->path, e->npath } };
    rt_copies_apply(&toy_resp_copies[j->route], &r, j->route, j->req);
    job_answer(j, 201, &toy_resp_signup_rec, &r);
}
const toy_handler h_signup = { .prepare = signup_prepare, .respond = signup_respond };

static void signup_count(job *j, worker *w)
{
    PGconn *c = worker_any(w, NULL);
    PGresult *r = c ? sql_query(c, "signup-count", "SELECT value FROM counters WHERE name = 'signup'",
                                NULL, SQL_TEXT) : NULL;
    if (!r && c) {
        /* The primary failed mid-way: try the replica once. */
        worker_check(w);
        c = worker_any(w, NULL);
        r = c ? sql_query(c, "signup-count", "SELECT value FROM counters WHERE name = 'signup'",
                          NULL, SQL_TEXT) : NULL;
    }
    if (!r || PQntuples(r) != 1) {
        PQclear(r);
        worker_check(w);
        job_error(j, 503, "database_unavailable", "neither the primary nor the replica answered");
        j->retry_after = 1;
        return;
    }
    char ts[32];
    size_t tsn = rt_ser_now(ts);
    toy_resp_signup_count out = {
        .count = (uint64_t)sql_int_at(r, 0, 0),
        .cvmId = { g_app.cfg.meta.cvm_id, strlen(g_app.cfg.meta.cvm_id) },
        .timestamp = { ts, tsn }, .publicKey = { g_app.meta.pub, 32 },
    };
    PQclear(r);
    uint8_t sig[64];
    if (sign_record(&toy_resp_signup_count_rec, &out, sig)) {
        job_error(j, 500, "internal_error", "could not sign the count");
        return;
    }
    out.signature = (rt_bytes){ sig, 64 };
    job_answer(j, 200, &toy_resp_signup_count_rec, &out);
}
const toy_handler h_signup_count = { .serve = signup_count };

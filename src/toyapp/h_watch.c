/*
 * h_watch.c — GET /watch-history (spec/endpoints/watch_history.spec): the
 * mock API's safe endpoint, called on the io thread, then the call recorded
 * as a safe_api_call entry by the writer, and the items answered.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handler.h"
#include "mockclient.h"

static void watch_serve(job *j, worker *w)
{
    (void)w;
    watch_list *l = calloc(1, sizeof *l);
    if (!l || mock_watch_history(l)) {
        watch_list_free(l);
        job_error(j, 502, "upstream_unavailable", "the watch-history API did not answer as expected");
        return;
    }
    j->state = l;
    j->state_free = watch_list_free;
    j->to_writer = 1;   /* record the call, then answer */
}

static int watch_prepare(job *j, wentry *e, PGconn *c)
{
    (void)c;
    const watch_list *l = j->state;
    toy_audit_safe_api_call *a = w_entry(e, TOY_K_safe_api_call);
    a->endpoint = RT_STR("/api/watch_history");
    a->status = (uint64_t)l->status;
    a->items = (uint64_t)l->n;
    return 0;
}


static void watch_respond(job *j, const wentry *e, const wbatch *b)
{
    (void)b;
    const watch_list *l = j->state;
    toy_rec_watch_item items[WATCH_MAX];
    for (int i = 0; i < l->n; i++) {
        const watch_item *w = &l->items[i];
        items[i] = (toy_rec_watch_item){ rt_cstr(w->video_id), rt_cstr(w->title), rt_cstr(w->category), rt_cstr(w->watched_at) };
    }
    toy_resp_watch_history r = { .items = { items, (size_t)l->n }, .auditEntry = { e->json, e->len } };
    job_answer(j, 200, &toy_resp_watch_history_rec, &r);
}
const toy_handler h_watch_history = { .serve = watch_serve, .prepare = watch_prepare, .respond = watch_respond };

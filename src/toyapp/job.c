/* job.c — jobs, their answers, and the queues between threads (job.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "app.h"
#include "job.h"
#include "route.h"
#include "rt_json.h"
#include "rt_sink.h"

/* The request and parameter structs live right after the job, each at a
 * max_align_t boundary. */
#define ALIGNED(n) (((n) + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) * _Alignof(max_align_t))

static size_t req_size(int route)
{
    const rt_schema *s = toy_routes[route].schema;
    return s ? ALIGNED(s->out_size) : 0;
}

job *job_new(int route)
{
    size_t rs = req_size(route), ps = ALIGNED(toy_routes[route].params->size);
    job *j = calloc(1, ALIGNED(sizeof *j) + rs + ps);
    if (!j) {
        fprintf(stderr, "toyapp: out of memory\n");
        abort();
    }
    j->route = route;
    uint8_t *p = (uint8_t *)j + ALIGNED(sizeof *j);
    j->req = rs ? p : NULL;
    j->params = p + rs;
    return j;
}

void job_free(job *j)
{
    if (!j)
        return;
    free(j->body);
    free(j->headers);
    if (j->state_free)
        j->state_free(j->state);
    /* The request struct holds sink results only, but wipe it with the rest. */
    rt_wipe(j, ALIGNED(sizeof *j) + req_size(j->route));
    free(j);
}

static void *checked(const job *j, int r, void *p, const char *what)
{
    if (j->route != r) {
        fprintf(stderr, "toyapp: a %s job's %s read as route %s's\n", toy_routes[j->route].name, what,
                toy_routes[r].name);
        abort();
    }
    return p;
}

void *job_req(const job *j, int r)
{
    return checked(j, r, j->req, "request");
}

void *job_params(const job *j, int r)
{
    return checked(j, r, j->params, "parameters");
}

char *ser_alloc(const rt_record *rec, const void *obj, unsigned flags, size_t *len)
{
    int err;
    char *b = rt_ser_alloc(rec, obj, flags, len, &err);
    if (!b && err && err != RT_JW_E_SPACE)
        fprintf(stderr, "toyapp: cannot serialize %s: %s\n", rec->name, rt_jw_strerror(err));
    return b;
}

void job_answer(job *j, int status, const rt_record *rec, const void *obj)
{
    free(j->body);
    j->body = ser_alloc(rec, obj, 0, &j->body_len);
    j->status = status;
    if (!j->body)
        job_error(j, 500, "internal_error", "could not serialize the response");
}

char *error_json(const char *code, const char *msg, const char *field, long long offset, size_t *len)
{
    char buf[1024];
    rt_jw w;
    rt_jw_init(&w, buf, sizeof buf);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, "error", 5);
    rt_jw_str(&w, code, strlen(code));
    if (field) {
        rt_jw_key(&w, "field", 5);
        rt_jw_str(&w, field, strlen(field));
    }
    rt_jw_key(&w, "message", 7);
    rt_jw_str(&w, msg, strlen(msg));
    if (offset >= 0) {
        rt_jw_key(&w, "offset", 6);
        rt_jw_int(&w, offset);
    }
    rt_jw_obj_end(&w);
    rt_jw_finish(&w);
    char *b = malloc(w.len ? w.len : 1);
    if (!b) {
        fprintf(stderr, "toyapp: out of memory\n");
        abort();
    }
    memcpy(b, buf, w.len);
    *len = w.len;
    return b;
}

void job_error(job *j, int status, const char *code, const char *msg)
{
    free(j->body);
    j->body = error_json(code, msg, NULL, -1, &j->body_len);
    j->status = status;
    j->content_type = NULL;
}

/* ---- queues -------------------------------------------------------------- */

void queue_init(queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
}

int queue_push(queue *q, job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&q->lock);
    int was_empty = !q->head;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->len++;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return was_empty;
}

job *queue_take(queue *q, int max, int *n)
{
    pthread_mutex_lock(&q->lock);
    while (!q->head && !atomic_load(&g_app.stopping))
        pthread_cond_wait(&q->cond, &q->lock);
    job *first = q->head, *last = NULL, *j = q->head;
    int k = 0;
    while (j && k < max) {
        last = j;
        j = j->next;
        k++;
    }
    if (last) {
        q->head = last->next;
        last->next = NULL;
        if (!q->head)
            q->tail = NULL;
        q->len -= k;
    }
    pthread_mutex_unlock(&q->lock);
    *n = k;
    return k ? first : NULL;
}

job *queue_drain(queue *q)
{
    pthread_mutex_lock(&q->lock);
    job *j = q->head;
    q->head = q->tail = NULL;
    q->len = 0;
    pthread_mutex_unlock(&q->lock);
    return j;
}

void queue_wake_all(queue *q)
{
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* The service thread takes the whole done queue each time it is woken, so
 * only the job that finds the queue empty needs to wake it: a batch of
 * answers costs one wake-up, not one each. */
void job_done(job *j)
{
    if (j->finish) {
        j->finish(j);
        return;
    }
    if (queue_push(&g_app.done_q, j))
        lws_cancel_service(g_app.lws);
}

uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

uint64_t now_ms_wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

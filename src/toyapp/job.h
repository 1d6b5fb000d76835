/*
 * job.h — a request on its way through the service: the job the service
 * thread makes of it, the queues that carry it to the worker threads and
 * back, and its answer.
 *
 * A job's kind is its route (enum toy_route, generated from spec/): the
 * route decides the request struct its body was parsed into and the
 * parameter struct its path and query were parsed into, both allocated with
 * the job and typed only through JOB_REQ / JOB_PARAMS, which check the route
 * (no endpoint's body is ever read as another endpoint's struct).
 */
#ifndef TOYAPP_JOB_H
#define TOYAPP_JOB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "toy_service.h"

struct conn;

typedef struct job {
    struct job *next;
    int route;                   /* enum toy_route: what the job is */
    struct conn *conn;           /* the connection waiting for the answer; NULL
                                    once it has closed (service thread only) */
    void *req;                   /* the route's toy_req_<name>, or NULL */
    void *params;                /* the route's toy_params_<name> */
    uint8_t salt[32];            /* the commit sinks' salt for this request */
    char idem_key[256];          /* its Idempotency-Key ("" when none) */
    uint8_t idem_fp[32];         /* HMAC of its route, target and body */
    int to_writer;               /* set by a handler's serve: the writer goes on */
    /* A job the service made itself (a spec `job`: no connection waits for
     * it): job_done calls finish, on the thread that finished the job,
     * instead of handing it back to the service thread; finish frees it. */
    void (*finish)(struct job *j);
    void *state;                 /* the handler's own, across its stages */
    void (*state_free)(void *state);
    /* the answer */
    int status;
    char *body;                  /* malloc'd */
    size_t body_len;
    int retry_after;             /* seconds; 0: no Retry-After header */
    const char *content_type;    /* NULL: application/json */
    char *headers;               /* more header lines ("Name: value\r\n"...), malloc'd, or NULL */
    struct ws_client *upgrade;   /* status 101: the WebSocket session conn.c hands the connection to */
    /* For a handler on the service thread, while serve runs: the request
     * head and the bytes it was parsed from (borrowed; NULL elsewhere). */
    const struct rt_http_head *http;
    const char *http_buf;
    /* A read served by the replica (the primary down) says so, and how far
     * behind the replica was: Data-Source, Replica-Lag-Ms, Replica-Lag-Bytes. */
    int from_replica;
    long long lag_ms, lag_bytes;
} job;

/* A job for route, with its request and parameter structs zeroed.  Never
 * NULL (aborts when out of memory). */
job *job_new(int route);
/* Frees j, its state and its answer; wipes its request struct first. */
void job_free(job *j);
/* The request or parameter struct of j, which must be of route r
 * (aborts otherwise: a programming error, never a client's). */
void *job_req(const job *j, int r);
void *job_params(const job *j, int r);
#define JOB_REQ(j, name) ((toy_req_##name *)job_req((j), TOY_R_##name))
#define JOB_PARAMS(j, name) ((toy_params_##name *)job_params((j), TOY_R_##name))

/* Sets j's answer to the canonical JSON of rec/obj (500 if it cannot be
 * serialized). */
void job_answer(job *j, int status, const rt_record *rec, const void *obj);
/* Sets j's answer to a JSON error {"error": code, "message": msg}. */
void job_error(job *j, int status, const char *code, const char *msg);
/* A malloc'd JSON error {"error": code, "message": msg}, with "field" when
 * field is not NULL and "offset" when offset >= 0; its length in *len. */
char *error_json(const char *code, const char *msg, const char *field, long long offset, size_t *len);
/* The canonical JSON of rec/obj, malloc'd (NULL on failure, logged). */
char *ser_alloc(const rt_record *rec, const void *obj, unsigned flags, size_t *len);

/* ---- queues -------------------------------------------------------------- */

typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job *head, *tail;
    int len;
} queue;

void queue_init(queue *q);
/* Appends j.  Returns 1 if the queue was empty. */
int queue_push(queue *q, job *j);
/* Takes up to max jobs (as a list, *n of them), waiting while the queue is
 * empty.  Returns NULL when the app is stopping and the queue is empty. */
job *queue_take(queue *q, int max, int *n);
/* Takes everything, without waiting. */
job *queue_drain(queue *q);
void queue_wake_all(queue *q);

/* Hands a finished job back to the service thread (which writes its answer
 * if its connection is still open), or to its finish function. */
void job_done(job *j);

/* Milliseconds on the monotonic clock. */
uint64_t now_ms(void);
/* Milliseconds since the Unix epoch (the wall clock). */
uint64_t now_ms_wall(void);

#endif

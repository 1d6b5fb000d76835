/*
 * handler.h — what an endpoint's handler is, and what the threads that run
 * handlers give them.
 *
 * spec/ names each endpoint's handler and the thread it runs on
 * (`handler NAME on THREAD`); the generated route table points at
 * `const toy_handler h_NAME`, defined in one of the h_*.c files.  A handler
 * is up to four functions, by stage:
 *
 *   serve    on the service, reader or io thread: answers the job, or sets
 *            j->to_writer to hand it on to the writer (an endpoint that
 *            emits entries but must first read or call out);
 *   lookup   on the writer, inside the batch's transaction, before any
 *            entry is built: for a job that must read or lock what it is
 *            about to change (a deletion, a report);
 *   prepare  on the writer: the job's audit entry (w_entry) and the
 *            handler's columns of the entry's rows (w_row);
 *   respond  on the writer, once the batch is signed and before it is
 *            written: the answer, which is sent only if the batch commits
 *            (so that the answer stored for an Idempotency-Key retry is the
 *            one sent).
 *
 * An endpoint on the writer has prepare and respond (and maybe lookup); one
 * on another thread has serve, and prepare and respond too when it emits.
 * The writer fills everything the spec says comes `from` the request or the
 * entry; a handler sets only the rest.
 */
#ifndef TOYAPP_HANDLER_H
#define TOYAPP_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "sql.h"

/* ---- reader and io threads ----------------------------------------------- */

/* The databases a worker thread reads from. */
typedef struct worker {
    db_server primary, replica;
    unsigned primary_seen;       /* monitor_fresh's */
    /* The replica's lag, measured when a job's read first falls back to it. */
    int on_replica;
    long long lag_ms, lag_bytes;
} worker;

/* The primary; NULL when it is down. */
PGconn *worker_primary(worker *w);
/* The primary, or the replica when the primary is down; NULL when neither
 * answers.  *from_replica says which (may be NULL).  A job read from the
 * replica is answered with the replica's lag (job.h). */
PGconn *worker_any(worker *w, int *from_replica);
/* After a failed statement on c: drops whichever connection broke. */
void worker_check(worker *w);
/* worker_any for a read that has no other answer: NULL after answering j
 * 503 database_unavailable (with Retry-After) when neither answers. */
PGconn *worker_read(job *j, worker *w);
/* After a failed read: worker_check, and j answered 503 with msg. */
void worker_unavailable(job *j, worker *w, const char *msg);

/* ---- the writer ---------------------------------------------------------- */

/* What lookup decided for its job. */
enum { W_WRITE = 0,     /* go on: prepare will build the job's entry */
       W_ANSWERED,      /* the job has its answer and writes nothing */
       W_RETRY,         /* leave it for the next batch (it depends on a job of this one) */
       W_FAILED };      /* the database failed: the whole batch is undone */

struct wbatch;

/* One job's entry in a batch. */
typedef struct wentry {
    int kind;                    /* enum toy_kind, -1 until w_entry */
    void *entry;                 /* the kind's toy_audit_* struct */
    void *rows[TOY_BATCH_NTABLES];  /* its row in each table written per its kind */
    char *json;                  /* the entry's canonical JSON */
    size_t len;
    uint8_t leaf[32];
    int64_t id;                  /* its audit_log id, when the handler reserved one
                                    (nextval of audit_log_id_seq) in its lookup to
                                    refer to the entry in the same transaction;
                                    0: the batch statement takes the next */
    /* after the commit */
    uint64_t index;              /* its leaf index in the batch */
    uint8_t (*path)[32];         /* its inclusion path in the batch's tree */
    size_t npath;
} wentry;

/* What the batch has for every job, once signed. */
typedef struct wbatch {
    const toy_rec_batch_head *head;   /* the signed batch head */
    const char *ts;                   /* the batch's timestamp (RFC 3339) */
    size_t tsn;
} wbatch;

/* Starts the job's entry of kind k (one the route emits): returns the
 * zeroed toy_audit_* struct with its envelope and every value the spec
 * draws from the request filled in; the handler sets the rest. */
void *w_entry(wentry *e, int k);
/* The job's row in table t (written per the entry's kind), for the columns
 * the handler sets. */
void *w_row(wentry *e, const rt_table *t);
/* Claims key for this batch: 0 the first time, -1 if a job earlier in the
 * batch claimed it (such a job's lookup should answer W_RETRY). */
int w_claim(const char *key);
/* The batch's timestamp, for values a handler signs with the entry. */
rt_str w_now(void);

/* ---- handlers ------------------------------------------------------------ */

typedef struct toy_handler {
    void (*serve)(job *j, worker *w);
    int (*lookup)(job *j, PGconn *c);
    /* c is in the batch's transaction when the handler has a lookup (then
     * prepare may write with it); returns 0, or -1 (the batch is undone). */
    int (*prepare)(job *j, wentry *e, PGconn *c);
    /* Must depend on nothing but j, e and b: it runs before the commit. */
    void (*respond)(job *j, const wentry *e, const wbatch *b);
} toy_handler;

#define XX(name, thread) extern const toy_handler h_##name;
TOY_HANDLERS(XX)
#undef XX

/* The thread entry points. */
void *writer_main(void *arg);
void *reader_main(void *arg);
void *io_main(void *arg);

#endif

/*
 * app.h — toyapp's shared state: configuration, keys, and the jobs that go
 * from the libwebsockets service thread to the worker threads and back.
 *
 * Threads: the lws service thread parses requests and writes responses and
 * never blocks on Postgres, the mock API or signing; the writer thread group-
 * commits everything that changes state; the reader thread serves reads
 * (primary first, the replica when the primary is down); the io thread makes
 * the one outbound call the service is allowed (the mock API's safe
 * endpoint).  Finished jobs come back on a queue, and lws_cancel_service()
 * wakes the service thread to send them.
 */
#ifndef TOYAPP_APP_H
#define TOYAPP_APP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "toy_spec.h"

/* TOY_VERSION comes from the file VERSION, through the GNUmakefile. */
#ifndef TOY_VERSION
#error "TOY_VERSION is not defined: build with make, which reads the file VERSION"
#endif

typedef struct config {
    const char *host;            /* HOST, default 127.0.0.1 */
    int port;                    /* PORT, default 8080 */
    int metadata_port;           /* METADATA_PORT, default 8090 */
    const char *database_url;    /* DATABASE_URL */
    const char *replica_url;     /* DATABASE_REPLICA_URL (optional) */
    const char *mock_api_url;    /* MOCK_API_URL, default http://127.0.0.1:3000 */
    const char *mock_api_token;  /* MOCK_API_TOKEN, default mock-token */
    const char *tee_provider;    /* TEE_PROVIDER: sim (default) or dstack */
    const char *tee_arg;         /* TEE_SIM_SEED or DSTACK_SOCKET */
    const char *app_id;          /* APP_ID, default toyapp */
    const char *cvm_id;          /* CVM_ID, default the host name */
    const char *environment;     /* TOYAPP_ENV, default development */
    const char *role;            /* TOYAPP_ROLE, default app */
    int batch_max;               /* GROUP_COMMIT_MAX, default 256 */
    int body_timeout_ms;         /* BODY_TIMEOUT_MS, default 10000 */
    int idle_timeout_ms;         /* IDLE_TIMEOUT_MS, default 30000 */
    int report_period;           /* REPORT_PERIOD_SECONDS, default 86400 */
    int sequencer;               /* SEQUENCER: 1 (default) may sequence the log, 0 never */
} config;

typedef struct keys {
    uint8_t sign_seed[32], sign_pub[32];  /* Ed25519: audit batches, reports, counts */
    uint8_t pseudonym[32];                /* HMAC key for pseudonymous fields */
    char provider[8];
    char instance_id[129];
    char compose_hash[65];
} keys;

enum job_kind { JOB_SUBMIT = 1, JOB_SIGNUP, JOB_WATCH, JOB_COUNT, JOB_HEALTH,
                JOB_HEAD, JOB_PROOF, JOB_CONSISTENCY, JOB_REPORT, JOB_REPORTS, JOB_ATTEST };

typedef struct watch_item { char *video_id, *title, *category, *watched_at; } watch_item;

struct pss;

typedef struct job {
    struct job *next;
    int kind;
    struct pss *pss;             /* owner connection; NULL once it has closed
                                    (touched by the service thread only) */
    union {
        toy_req_submit_data submit;
        toy_req_signup signup;
    } req;
    uint8_t salt[32];            /* submit: the commitment's salt */
    /* watch-history: what the mock API returned */
    int api_status;
    watch_item items[16];
    int nitems;
    /* read parameters (path and query) */
    char receipt_id[72];         /* proof: the receipt; attestation: the nonce */
    uint64_t from, to;
    int markdown;
    uint64_t page, limit;
    /* result, built by the worker */
    int status;
    char *body;                  /* malloc'd JSON */
    size_t body_len;
    int retry_after;             /* seconds, 0: no Retry-After header */
    const char *content_type;    /* NULL: application/json */
} job;

typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job *head, *tail;
    int len;
} queue;

typedef struct app {
    config cfg;
    keys k;
    struct lws_context *lws;
    struct rt_tee *tee;
    queue writer_q, reader_q, io_q, done_q;
    volatile int stopping;
    pthread_t writer, reader, io, monitor, sequencer;
    uint64_t started_at;
} app;

extern app g_app;

void queue_init(queue *q);
/* Returns 1 if the queue was empty. */
int queue_push(queue *q, job *j);
/* Takes up to max jobs (as a list), waiting while the queue is empty.
 * Returns NULL when the app is stopping and the queue is empty. */
job *queue_take(queue *q, int max, int *n);
/* Non-blocking: takes everything. */
job *queue_drain(queue *q);
void queue_wake_all(queue *q);

/* Hands a finished job back to the service thread. */
void job_done(job *j);
void job_free(job *j);
/* A malloc'd JSON error {"error": code, "message": msg}, with "field" when
 * field is not NULL and "offset" when offset >= 0; its length in *len. */
char *error_json(const char *code, const char *msg, const char *field, long long offset,
                 size_t *len);
/* Sets j's result to a JSON error {"error":code,"message":msg}. */
void job_error(job *j, int status, const char *code, const char *msg);

/* Milliseconds on the monotonic clock, for reconnect back-off. */
uint64_t now_ms(void);
/* Serializes rec/obj to a malloc'd canonical JSON string. */
char *ser_alloc(const rt_record *rec, const void *obj, unsigned flags, size_t *len);
/* Signs the unsigned canonical bytes of rec/obj with the enclave key. */
int sign_record(const rt_record *rec, const void *obj, uint8_t sig[64]);

/* Worker threads. */
void *writer_main(void *arg);
void *reader_main(void *arg);
void *io_main(void *arg);
void *monitor_main(void *arg);
/* Fills j with the health response from the monitor's last check. */
int health_build(job *j);
/* 1 once the monitor has checked the servers at least once. */
int health_ready(void);

/* Queues the audit entries inserted by CTE "a" (RETURNING id, leaf_hash)
 * for the sequencer, as one log_queue row. */
#define TOY_LOG_QUEUE_INSERT                                                        \
    "INSERT INTO log_queue (audit_ids, leaf_hashes)"                                \
    " SELECT string_agg(int8send(id), ''::bytea ORDER BY id),"                      \
    " string_agg(leaf_hash, ''::bytea ORDER BY id) FROM a HAVING count(*) > 0"

/* Database helpers (db.c). */
#include <libpq-fe.h>
/* Connects with a short timeout; NULL on failure (message in err). */
PGconn *db_connect(const char *url, char *err, size_t errlen);
/* Applies the versioned migrations that are not applied yet, under an
 * advisory lock so that instances starting together do not race.
 * Returns 0, or -1 with a message in err. */
int db_migrate(const char *url, char *err, size_t errlen);
/* Runs one statement that returns no rows of interest.  Returns 0, or -1
 * with the server's message in err (or, when err is NULL, on stderr). */
int db_exec(PGconn *c, const char *sql, char *err, size_t errlen);

/* A one-dimensional array parameter in Postgres' binary format, for
 * statements that take a batch's rows as arrays and unnest() them: their
 * text is the same for any number of rows. */
typedef struct pg_array {
    uint8_t *b;
    size_t n, cap;
    int count, hasnull;
} pg_array;
#define PG_OID_INT8 20
#define PG_OID_BYTEA 17
#define PG_OID_TEXT 25
void pg_array_begin(pg_array *a, uint32_t elem_oid);
/* Appends one element (n bytes at p, in the element type's binary form);
 * p == NULL appends SQL NULL. */
void pg_array_add(pg_array *a, const void *p, size_t n);
void pg_array_end(pg_array *a);

/* The mock API client (mockclient.c): the one allowlisted outbound call. */
int mock_watch_history(job *j);
/* GET /attestation: a quote binding the signing key and j's nonce (attest.c). */
void attest(job *j);

#endif

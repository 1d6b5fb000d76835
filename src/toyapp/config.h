/*
 * config.h — toyapp's configuration, read once from the environment at
 * start (README.md lists every variable) and read-only afterwards.
 */
#ifndef TOYAPP_CONFIG_H
#define TOYAPP_CONFIG_H

#include <stddef.h>

#include "meta.h"

/* What a write does about the synchronous replica (docs/architecture.md,
 * "Acknowledged on two nodes"). */
enum sync_policy {
    SYNC_REQUIRE = 0,   /* acknowledged only once on the replica too: while it is
                           away, writes are refused (503) */
    SYNC_DEGRADE,       /* while it is away, acknowledged on the primary alone,
                           and /ready and /health say so */
    SYNC_OFF            /* the primary's settings decide (no replica) */
};

typedef struct config {
    /* HOST (both ports), METADATA_PORT, TEE_PROVIDER, TEE_SIM_SEED or
     * DSTACK_SOCKET, APP_ID, CVM_ID, TOYAPP_ROLE (default app): what the
     * metadata port needs, read as toy-attestd reads it (meta.h). */
    meta_config meta;
    int port;                    /* PORT, default 8080 */
    const char *database_url;    /* DATABASE_URL (required) */
    const char *replica_url;     /* DATABASE_REPLICA_URL ("" when none) */
    const char *mock_api_url;    /* MOCK_API_URL, default http://127.0.0.1:3000 */
    const char *mock_api_token;  /* MOCK_API_TOKEN, default mock-token */
    const char *environment;     /* TOYAPP_ENV, default development */
    int batch_max;               /* GROUP_COMMIT_MAX, default 256 */
    int body_timeout_ms;         /* BODY_TIMEOUT_MS, default 10000 */
    int idle_timeout_ms;         /* IDLE_TIMEOUT_MS, default 30000 */
    int report_period;           /* REPORT_PERIOD_SECONDS, default 86400 */
    int sequencer;               /* SEQUENCER: 1 (default) may sequence the log, 0 never */
    const char *ws_origins;      /* WS_ALLOWED_ORIGINS: origins besides the page's own ("" none, "*" any) */
    int ws_max_clients;          /* WS_MAX_CLIENTS, default 1024 */
    int ws_queue_kb;             /* WS_QUEUE_KB: a client's queue bound, default 8192 */
    int idempotency_ttl;         /* IDEMPOTENCY_TTL_SECONDS, default 86400 */
    int sync_replica;            /* SYNC_REPLICA: enum sync_policy, default require */
    int sync_wait_ms;            /* SYNC_WAIT_MS, default 3000 */
} config;

/* Fills c from the environment.  Returns 0, or -1 with a message naming the
 * variable in err (a value out of its range, DATABASE_URL unset). */
int config_load(config *c, char *err, size_t errlen);

#endif

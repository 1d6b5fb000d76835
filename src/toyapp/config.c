/* config.c — the configuration from the environment (config.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int config_load(config *c, char *err, size_t errlen)
{
    if (meta_config_env(&c->meta, "app", err, errlen))
        return -1;
    const char *bad = NULL;
    c->port = meta_env_int("PORT", 8080, 1, 65535, &bad);
    c->database_url = meta_env("DATABASE_URL", NULL);
    c->replica_url = meta_env("DATABASE_REPLICA_URL", "");
    c->mock_api_url = meta_env("MOCK_API_URL", "http://127.0.0.1:3000");
    c->mock_api_token = meta_env("MOCK_API_TOKEN", "mock-token");
    c->environment = meta_env("TOYAPP_ENV", "development");
    c->batch_max = meta_env_int("GROUP_COMMIT_MAX", 256, 1, 256, &bad);
    c->body_timeout_ms = meta_env_int("BODY_TIMEOUT_MS", 10000, 100, 600000, &bad);
    c->idle_timeout_ms = meta_env_int("IDLE_TIMEOUT_MS", 30000, 100, 3600000, &bad);
    c->report_period = meta_env_int("REPORT_PERIOD_SECONDS", 86400, 1, 366 * 86400, &bad);
    c->sequencer = meta_env_int("SEQUENCER", 1, 0, 1, &bad);
    c->ws_origins = meta_env("WS_ALLOWED_ORIGINS", "");
    c->ws_max_clients = meta_env_int("WS_MAX_CLIENTS", 1024, 0, 100000, &bad);
    c->ws_queue_kb = meta_env_int("WS_QUEUE_KB", 8192, 16, 1 << 20, &bad);
    c->idempotency_ttl = meta_env_int("IDEMPOTENCY_TTL_SECONDS", 86400, 1, 365 * 86400, &bad);
    c->sync_wait_ms = meta_env_int("SYNC_WAIT_MS", 3000, 100, 600000, &bad);
    const char *sync = meta_env("SYNC_REPLICA", "require");
    c->sync_replica = !strcmp(sync, "require") ? SYNC_REQUIRE : !strcmp(sync, "degrade") ? SYNC_DEGRADE
                    : !strcmp(sync, "off") ? SYNC_OFF : -1;
    if (c->sync_replica < 0 && !bad)
        bad = "SYNC_REPLICA";
    if (bad) {
        snprintf(err, errlen, "%s=%s is not one of its values (README.md lists them)", bad, getenv(bad));
        return -1;
    }
    if (!c->database_url) {
        snprintf(err, errlen, "DATABASE_URL is not set");
        return -1;
    }
    return 0;
}

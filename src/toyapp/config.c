/* config.c — the configuration from the environment (config.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "rt_tee.h"

static const char *env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* An integer variable in [lo, hi]; *bad names the first one that is not. */
static int env_int(const char *name, int dflt, int lo, int hi, const char **bad)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        if (!*bad)
            *bad = name;
        return dflt;
    }
    return (int)n;
}

int config_load(config *c, char *err, size_t errlen)
{
    static char host[256];
    if (gethostname(host, sizeof host))
        snprintf(host, sizeof host, "cvm");
    const char *bad = NULL;
    c->host = env("HOST", "127.0.0.1");
    c->port = env_int("PORT", 8080, 1, 65535, &bad);
    c->metadata_port = env_int("METADATA_PORT", 8090, 1, 65535, &bad);
    c->database_url = env("DATABASE_URL", NULL);
    c->replica_url = env("DATABASE_REPLICA_URL", "");
    c->mock_api_url = env("MOCK_API_URL", "http://127.0.0.1:3000");
    c->mock_api_token = env("MOCK_API_TOKEN", "mock-token");
    c->tee_provider = env("TEE_PROVIDER", "sim");
    c->tee_arg = !strcmp(c->tee_provider, "dstack") ? env("DSTACK_SOCKET", RT_TEE_DSTACK_SOCKET)
                                                    : env("TEE_SIM_SEED", RT_TEE_SIM_SEED_DEFAULT);
    c->app_id = env("APP_ID", "toyapp");
    c->cvm_id = env("CVM_ID", host);
    c->environment = env("TOYAPP_ENV", "development");
    c->role = env("TOYAPP_ROLE", "app");
    c->batch_max = env_int("GROUP_COMMIT_MAX", 256, 1, 256, &bad);
    c->body_timeout_ms = env_int("BODY_TIMEOUT_MS", 10000, 100, 600000, &bad);
    c->idle_timeout_ms = env_int("IDLE_TIMEOUT_MS", 30000, 100, 3600000, &bad);
    c->report_period = env_int("REPORT_PERIOD_SECONDS", 86400, 1, 366 * 86400, &bad);
    c->sequencer = env_int("SEQUENCER", 1, 0, 1, &bad);
    c->ws_origins = env("WS_ALLOWED_ORIGINS", "");
    c->ws_max_clients = env_int("WS_MAX_CLIENTS", 1024, 0, 100000, &bad);
    c->ws_queue_kb = env_int("WS_QUEUE_KB", 8192, 16, 1 << 20, &bad);
    c->idempotency_ttl = env_int("IDEMPOTENCY_TTL_SECONDS", 86400, 1, 365 * 86400, &bad);
    c->sync_wait_ms = env_int("SYNC_WAIT_MS", 3000, 100, 600000, &bad);
    const char *sync = env("SYNC_REPLICA", "require");
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

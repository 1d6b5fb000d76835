/*
 * main.c — toyapp: the enclave service.
 *
 * Reads its configuration from the environment (README lists it), opens
 * the TEE provider and derives its keys, applies the database migrations,
 * starts the worker threads and serves the API and metadata ports with
 * libwebsockets until SIGINT or SIGTERM.  Then it stops accepting, lets the
 * workers finish what they hold (every acknowledged write is already
 * committed), and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "app.h"
#include "http.h"
#include "sequencer.h"
#include "rt_tee.h"

static const char *env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static int env_int(const char *name, int dflt, int lo, int hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        fprintf(stderr, "toyapp: %s=%s is not a number in %d..%d\n", name, v, lo, hi);
        exit(2);
    }
    return (int)n;
}

static void load_config(config *c)
{
    static char host[256];
    if (gethostname(host, sizeof host))
        snprintf(host, sizeof host, "cvm");
    c->host = env("HOST", "127.0.0.1");
    c->port = env_int("PORT", 8080, 1, 65535);
    c->metadata_port = env_int("METADATA_PORT", 8090, 1, 65535);
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
    c->batch_max = env_int("GROUP_COMMIT_MAX", 256, 1, 256);
    c->body_timeout_ms = env_int("BODY_TIMEOUT_MS", 10000, 100, 600000);
    c->idle_timeout_ms = env_int("IDLE_TIMEOUT_MS", 30000, 100, 3600000);
    c->report_period = env_int("REPORT_PERIOD_SECONDS", 86400, 1, 366 * 86400);
    c->sequencer = env_int("SEQUENCER", 1, 0, 1);
}

static int load_keys(rt_tee *t, keys *k)
{
    rt_tee_info_t info;
    if (rt_tee_ed25519(t, "toyapp/ed25519/signing/v1", k->sign_seed, k->sign_pub)
        || rt_tee_derive(t, "toyapp/hmac/pseudonym/v1", k->pseudonym)
        || rt_tee_info(t, &info))
        return -1;
    snprintf(k->provider, sizeof k->provider, "%s", info.kind);
    snprintf(k->instance_id, sizeof k->instance_id, "%s", info.instance_id);
    snprintf(k->compose_hash, sizeof k->compose_hash, "%s", info.compose_hash);
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    g_app.stopping = 1;
    if (g_app.lws)
        lws_cancel_service(g_app.lws);
}

static const struct lws_protocols protocols[] = {
    { "http", toy_http_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (argc == 2 && strcmp(argv[1], "--version") == 0) {
            printf("toyapp %s\n", TOY_VERSION);
            return 0;
        }
        fprintf(stderr, "toyapp: unknown argument %s (the configuration is read from the "
                        "environment; --version prints the version)\n", argv[1]);
        return 2;
    }
    load_config(&g_app.cfg);
    if (!g_app.cfg.database_url) {
        fprintf(stderr, "toyapp: DATABASE_URL is not set\n");
        return 2;
    }
    const char *err = NULL;
    rt_tee *tee = rt_tee_open(g_app.cfg.tee_provider, g_app.cfg.tee_arg, g_app.cfg.app_id, &err);
    if (!tee || load_keys(tee, &g_app.k)) {
        fprintf(stderr, "toyapp: TEE provider %s: %s\n", g_app.cfg.tee_provider,
                tee ? rt_tee_error(tee) : err);
        rt_tee_close(tee);
        return 2;
    }
    g_app.tee = tee;
    char dberr[512];
    if (db_migrate(g_app.cfg.database_url, dberr, sizeof dberr)) {
        fprintf(stderr, "toyapp: database migrations failed: %s\n", dberr);
        rt_tee_close(tee);
        return 2;
    }

    queue_init(&g_app.writer_q);
    queue_init(&g_app.reader_q);
    queue_init(&g_app.io_q);
    queue_init(&g_app.done_q);

    /* The per-session struct's size is known only to http.c. */
    static struct lws_protocols protos[2];
    memcpy(protos, protocols, sizeof protos);
    protos[0].per_session_data_size = toy_http_pss_size();

    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    g_app.lws = lws_create_context(&info);
    if (!g_app.lws) {
        fprintf(stderr, "toyapp: cannot create the lws context\n");
        rt_tee_close(tee);
        return 2;
    }
    struct lws_vhost *api, *meta;
    {
        struct lws_context_creation_info v;
        memset(&v, 0, sizeof v);
        v.vhost_name = "api";
        v.port = g_app.cfg.port;
        v.iface = g_app.cfg.host;
        v.protocols = protos;
        /* Raw sockets: http.c reads HTTP/1.1 itself (docs/architecture.md). */
        v.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_ONLY_RAW;
        api = lws_create_vhost(g_app.lws, &v);
        v.vhost_name = "metadata";
        v.port = g_app.cfg.metadata_port;
        v.user = (void *)1;   /* marks the metadata port for http.c */
        meta = api ? lws_create_vhost(g_app.lws, &v) : NULL;
    }
    if (!api || !meta) {
        fprintf(stderr, "toyapp: cannot listen on %s:%d and :%d\n", g_app.cfg.host,
                g_app.cfg.port, g_app.cfg.metadata_port);
        lws_context_destroy(g_app.lws);
        rt_tee_close(tee);
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    pthread_create(&g_app.writer, NULL, writer_main, NULL);
    pthread_create(&g_app.reader, NULL, reader_main, NULL);
    pthread_create(&g_app.io, NULL, io_main, NULL);
    pthread_create(&g_app.monitor, NULL, monitor_main, NULL);
    if (g_app.cfg.sequencer)
        pthread_create(&g_app.sequencer, NULL, sequencer_main, NULL);

    /* Serve /health only once it has something true to say. */
    for (int i = 0; i < 100 && !health_ready(); i++) {
        struct timespec t = { 0, 50 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
    printf("toyapp %s listening on http://%s:%d (API) and http://%s:%d (metadata); "
           "TEE provider %s, cvm %s\n", TOY_VERSION, g_app.cfg.host, g_app.cfg.port,
           g_app.cfg.host, g_app.cfg.metadata_port, g_app.k.provider, g_app.cfg.cvm_id);
    fflush(stdout);

    while (!g_app.stopping)
        if (lws_service(g_app.lws, 0) < 0)
            break;

    /* Workers finish what they hold; their answers go to closing sockets. */
    g_app.stopping = 1;
    queue_wake_all(&g_app.writer_q);
    queue_wake_all(&g_app.reader_q);
    queue_wake_all(&g_app.io_q);
    pthread_join(g_app.io, NULL);
    pthread_join(g_app.writer, NULL);
    pthread_join(g_app.reader, NULL);
    pthread_join(g_app.monitor, NULL);
    if (g_app.cfg.sequencer)
        pthread_join(g_app.sequencer, NULL);
    lws_context_destroy(g_app.lws);
    for (job *j = queue_drain(&g_app.done_q), *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
    rt_wipe(&g_app.k, sizeof g_app.k);
    rt_tee_close(tee);
    fprintf(stderr, "toyapp: stopped\n");
    return 0;
}

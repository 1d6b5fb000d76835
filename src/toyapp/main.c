/*
 * main.c — toyapp: the enclave service.
 *
 * Reads its configuration from the environment (README.md lists it), opens
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

#include <libwebsockets.h>

#include "app.h"
#include "conn.h"
#include "feed.h"
#include "handler.h"
#include "monitor.h"
#include "rt_tee.h"
#include "sequencer.h"
#include "sql.h"
#include "ws.h"

app g_app;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&g_app.stopping, 1);
    if (g_app.lws)
        lws_cancel_service(g_app.lws);
}

static const struct lws_protocols protocols[] = {
    { "http", toy_conn_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* What start made: the poster, the keys, the provider. */
static void release(void)
{
    chain_stop(&g_app.chain);
    rt_wipe(&g_app.k, sizeof g_app.k);
    meta_close(&g_app.meta);
}

/* A start that fails after the provider opened: exit status 2. */
static int stop_early(void)
{
    release();
    return 2;
}

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
    char err[512];
    if (config_load(&g_app.cfg, err, sizeof err) || chain_config(&g_app.chain, err, sizeof err)) {
        fprintf(stderr, "toyapp: %s\n", err);
        return 2;
    }
    if (meta_open(&g_app.meta, &g_app.cfg.meta, KEYS_SIGNING_PATH, err, sizeof err)) {
        fprintf(stderr, "toyapp: %s\n", err);
        return 2;
    }
    if (keys_load(g_app.meta.tee, g_app.chain.cfg.on, &g_app.k)) {
        fprintf(stderr, "toyapp: TEE provider %s: %s\n", g_app.cfg.meta.provider, rt_tee_error(g_app.meta.tee));
        return stop_early();
    }
    if (g_app.k.has_chain)
        meta_bind_chain(&g_app.meta, g_app.k.chain_addr);
    if (chain_start(&g_app.chain, &g_app.k, err, sizeof err)) {
        fprintf(stderr, "toyapp: chain: %s\n", err);
        return stop_early();
    }
    if (db_migrate(g_app.cfg.database_url, err, sizeof err)) {
        fprintf(stderr, "toyapp: database migrations failed: %s\n", err);
        return stop_early();
    }

    queue_init(&g_app.writer_q);
    queue_init(&g_app.reader_q);
    queue_init(&g_app.io_q);
    queue_init(&g_app.done_q);

    /* The per-session struct's size is known only to conn.c. */
    static struct lws_protocols protos[2];
    memcpy(protos, protocols, sizeof protos);
    protos[0].per_session_data_size = toy_conn_pss_size();

    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    g_app.lws = lws_create_context(&info);
    if (!g_app.lws) {
        fprintf(stderr, "toyapp: cannot create the lws context\n");
        return stop_early();
    }
    struct lws_vhost *api, *meta;
    {
        struct lws_context_creation_info v;
        memset(&v, 0, sizeof v);
        v.vhost_name = "api";
        v.port = g_app.cfg.port;
        v.iface = g_app.cfg.meta.host;
        v.protocols = protos;
        /* Raw sockets: conn.c reads HTTP/1.1 itself (docs/architecture.md). */
        v.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_ONLY_RAW;
        api = lws_create_vhost(g_app.lws, &v);
        v.vhost_name = "metadata";
        v.port = g_app.cfg.meta.port;
        v.user = (void *)1;   /* marks the metadata port for conn.c */
        meta = api ? lws_create_vhost(g_app.lws, &v) : NULL;
    }
    if (!api || !meta) {
        fprintf(stderr, "toyapp: cannot listen on %s:%d and :%d\n", g_app.cfg.meta.host,
                g_app.cfg.port, g_app.cfg.meta.port);
        lws_context_destroy(g_app.lws);
        return stop_early();
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
    if (g_app.chain.cfg.on)
        pthread_create(&g_app.poster, NULL, chain_main, NULL);
    if (feed_start()) {
        fprintf(stderr, "toyapp: cannot start the live feed\n");
        atomic_store(&g_app.stopping, 1);
    }

    /* Serve /health only once it has something true to say. */
    for (int i = 0; i < 100 && !monitor_ready(); i++) {
        struct timespec t = { 0, 50 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
    printf("toyapp %s listening on http://%s:%d (API) and http://%s:%d (metadata); "
           "TEE provider %s, cvm %s; chain %s%s%s\n", TOY_VERSION, g_app.cfg.meta.host, g_app.cfg.port,
           g_app.cfg.meta.host, g_app.cfg.meta.port, g_app.meta.provider, g_app.cfg.meta.cvm_id,
           g_app.chain.cfg.on ? g_app.chain.rpc_origin : "off",
           g_app.chain.cfg.on ? ", posting as " : "", g_app.chain.cfg.on ? g_app.meta.enclave : "");
    fflush(stdout);

    while (!atomic_load(&g_app.stopping))
        if (lws_service(g_app.lws, 0) < 0)
            break;

    /* Workers finish what they hold; their answers go to closing sockets.
     * The poster first, so that the writer still takes its last jobs. */
    atomic_store(&g_app.stopping, 1);
    if (g_app.chain.cfg.on)
        pthread_join(g_app.poster, NULL);
    ws_stop();
    queue_wake_all(&g_app.writer_q);
    queue_wake_all(&g_app.reader_q);
    queue_wake_all(&g_app.io_q);
    pthread_join(g_app.io, NULL);
    pthread_join(g_app.reader, NULL);
    pthread_join(g_app.writer, NULL);
    pthread_join(g_app.monitor, NULL);
    if (g_app.cfg.sequencer)
        pthread_join(g_app.sequencer, NULL);
    feed_stop();
    lws_context_destroy(g_app.lws);
    ws_cleanup();
    for (job *j = queue_drain(&g_app.done_q), *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
    for (job *j = queue_drain(&g_app.writer_q), *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
    release();
    fprintf(stderr, "toyapp: stopped\n");
    return 0;
}

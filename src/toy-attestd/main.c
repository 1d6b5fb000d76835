/*
 * toy-attestd — the attestation metadata sidecar of the Postgres CVMs.
 *
 * It serves what toyapp serves on its metadata port — GET /info,
 * /compose-hash and /attestation?nonce= — with toyapp's metadata code
 * (src/meta: the configuration, the TEE provider, the key, the
 * report_data binding and every answer) and the spec's routes and
 * parameters for that port (gen/toy_service.h, TOY_PORT_METADATA), so that
 * `toyctl compare-instances` checks a Postgres CVM exactly as it checks an
 * app CVM.  No database, no chain, nothing else.
 *
 * Its key: one Ed25519 key, at its own path (ATTESTD_KEY_PATH), never
 * toyapp's signing key.  It signs nothing: the sidecar has nothing to sign,
 * and a Postgres CVM holding the key that signs toyapp's reports would let
 * it sign them.  It is there because every role's /info names a key and its
 * report_data binds one (docs/attestation.md): the quote then shows that
 * this CVM obtained a key from its provider (dstack's KMS releases keys only
 * to a compose hash the app registry allows) and quoted after the auditor
 * chose the nonce.
 *
 * Environment: HOST (127.0.0.1), METADATA_PORT (8090; 8091 in a dstack
 * CVM), TEE_PROVIDER (sim or dstack), TEE_SIM_SEED or DSTACK_SOCKET, APP_ID,
 * CVM_ID, TOYAPP_ROLE (required: pg-primary or pg-replica), and for the sim
 * provider TOYAPP_COMPOSE_FILE (the app-compose whose hash it reports) and
 * the CHAIN_* variables of its key gate.  One libwebsockets HTTP/1.1 vhost
 * on one thread: a quote from the guest agent holds the loop for that call,
 * which is what an auditor's occasional request costs.  The line
 * "toy-attestd ... listening on http://H:P" on stdout says it is up;
 * SIGINT or SIGTERM: exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "meta.h"
#include "rt_json.h"
#include "rt_param.h"
#include "rt_ser.h"
#include "rt_tee.h"
#include "toy_service.h"

#define ATTESTD_KEY_PATH "toy-attestd/ed25519/identity/v1"

#ifndef TOY_VERSION
#error "TOY_VERSION is not defined: build with make, which reads the file VERSION"
#endif

/* The metadata port's routes, from the spec (handlers are toyapp's: not
 * named here, not linked). */
typedef struct mroute {
    int route;                   /* enum toy_route */
    const char *method, *path;
    const rt_params *params;
} mroute;

static const mroute routes[] = {
#define XX(name, m, p, port, st, sch, par, resp, emits, handler, thread) \
    { TOY_R_##name, m, p, par },
    TOY_ROUTES(XX)
#undef XX
};
static const int ports[] = {
#define XX(name, m, p, port, st, sch, par, resp, emits, handler, thread) port,
    TOY_ROUTES(XX)
#undef XX
};

static meta g_meta;
static volatile sig_atomic_t stopping;
static struct lws_context *volatile g_ctx;

/* One response, from the decision to its last byte. */
typedef struct pss {
    unsigned char *buf;          /* LWS_PRE bytes, then the body; malloc'd */
    size_t len;
    unsigned status;
    int awaiting_body;           /* answered once lws has read the request's body */
    int sending;                 /* headers out, the body waits for WRITEABLE */
} pss;

/* The body: rec/obj's canonical JSON, or an {"error", "message"} object. */
static int set_body(pss *s, unsigned status, const rt_record *rec, const void *obj, const char *code,
                    const char *msg)
{
    size_t n = 0;
    int err = 0;
    char tmp[512], *body = NULL;
    if (rec) {
        body = rt_ser_alloc(rec, obj, 0, &n, &err);
    } else {
        rt_jw w;
        rt_jw_init(&w, tmp, sizeof tmp);
        rt_jw_obj_begin(&w);
        rt_jw_key(&w, "error", 5);
        rt_jw_str(&w, code, strlen(code));
        rt_jw_key(&w, "message", 7);
        rt_jw_str(&w, msg, strlen(msg));
        rt_jw_obj_end(&w);
        if (rt_jw_finish(&w) == 0) {
            body = tmp;
            n = w.len;
        }
    }
    free(s->buf);
    s->buf = body ? malloc(LWS_PRE + n) : NULL;
    if (s->buf)
        memcpy(s->buf + LWS_PRE, body, n);
    if (body != tmp)
        free(body);
    s->len = n;
    s->status = status;
    return s->buf ? 0 : -1;
}

/* rt_param_get over the query string lws parsed (name=value fragments,
 * percent-decoded). */
static int get_arg(void *ctx, const char *name, int in_path, char *out, size_t cap)
{
    struct lws *wsi = ctx;
    size_t nl = strlen(name);
    char frag[512];
    (void)in_path;
    for (int i = 0;; i++) {
        int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (fl <= 0)
            return -1;
        if ((size_t)fl >= sizeof frag) {
            /* Too long to be a value we take: refuse it if it is ours. */
            if (lws_hdr_copy_fragment(wsi, frag, (int)nl + 2, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
                continue;
        } else if (lws_hdr_copy_fragment(wsi, frag, (int)sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
            continue;
        }
        if (strncmp(frag, name, nl) || frag[nl] != '=')
            continue;
        size_t vl = (size_t)fl - nl - 1;
        if ((size_t)fl >= sizeof frag || vl >= cap)
            return -2;
        memcpy(out, frag + nl + 1, vl + 1);
        return (int)vl;
    }
}

/* Decides the answer to one request. */
static int decide(struct lws *wsi, pss *s, const char *path)
{
    char *uri;
    int uri_len;
    int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    const mroute *r = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (ports[i] == TOY_PORT_METADATA && !strcmp(routes[i].path, path))
            r = &routes[i];
    if (!r)
        return set_body(s, 404, NULL, NULL, "not_found", "no such endpoint");
    if (method != LWSHUMETH_GET || strcmp(r->method, "GET"))
        return set_body(s, 405, NULL, NULL, "method_not_allowed", "this path does not take that method");
    void *params = calloc(1, r->params->size);
    rt_param_err e;
    int rc;
    if (!params) {
        rc = set_body(s, 500, NULL, NULL, "internal_error", "out of memory");
    } else if (rt_param_parse(r->params, params, get_arg, wsi, &e)) {
        rc = set_body(s, 400, NULL, NULL, e.code, e.message);
    } else if (r->route == TOY_R_info) {
        toy_resp_info info;
        meta_info(&g_meta, &info);
        rc = set_body(s, 200, &toy_resp_info_rec, &info, NULL, NULL);
    } else if (r->route == TOY_R_compose_hash) {
        toy_resp_compose_hash ch;
        meta_compose_hash(&g_meta, &ch);
        rc = set_body(s, 200, &toy_resp_compose_hash_rec, &ch, NULL, NULL);
    } else if (r->route == TOY_R_attestation) {
        const toy_params_attestation *p = params;
        meta_attestation a;
        if (meta_attest(&g_meta, p->has_nonce ? p->nonce : NULL, p->nonce_len, &a))
            rc = set_body(s, 502, NULL, NULL, "quote_unavailable", rt_tee_error(g_meta.tee));
        else
            rc = set_body(s, 200, &toy_resp_attestation_rec, &a.r, NULL, NULL);
        meta_attestation_free(&a);
    } else {
        rc = set_body(s, 501, NULL, NULL, "not_implemented", "toy-attestd does not serve this endpoint");
    }
    free(params);
    return rc;
}

/* The decided answer's head, then WRITEABLE sends its body.  Returns 0,
 * or -1 (lws closes the connection). */
static int respond(struct lws *wsi, pss *s)
{
    unsigned char hdr[LWS_PRE + 256], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, s->status, "application/json", s->len, &p, end) ||
        (s->status == 405 && lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                                         (const unsigned char *)"GET", 3, &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    s->sending = 1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    pss *s = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        char path[256], cl[32];
        snprintf(path, sizeof path, "%.*s", (int)len, (const char *)in);
        s->sending = s->awaiting_body = 0;
        if (decide(wsi, s, path) &&
            set_body(s, 500, NULL, NULL, "internal_error", "the answer could not be built"))
            return -1;
        /* A request with a body (no endpoint here takes one) is answered
         * once lws has read it, or it would be parsed as the next request. */
        if (lws_hdr_copy(wsi, cl, (int)sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 && strtoull(cl, NULL, 10) > 0) {
            s->awaiting_body = 1;
            return 0;
        }
        return respond(wsi, s);
    }
    case LWS_CALLBACK_HTTP_BODY:
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (s && s->awaiting_body) {
            s->awaiting_body = 0;
            return respond(wsi, s);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!s || !s->sending)
            return 0;
        s->sending = 0;
        if (lws_write(wsi, s->buf + LWS_PRE, s->len, LWS_WRITE_HTTP_FINAL) != (int)s->len)
            return -1;
        free(s->buf);
        s->buf = NULL;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (s) {
            free(s->buf);
            s->buf = NULL;
        }
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    { .name = "http", .callback = callback, .per_session_data_size = sizeof(pss) },
    { .name = NULL },
};

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
    if (g_ctx)
        lws_cancel_service(g_ctx);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("toy-attestd %s\n", TOY_VERSION);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "toy-attestd: unknown argument %s (the configuration is read from the "
                        "environment; --version prints the version)\n", argv[1]);
        return 2;
    }
    char err[512];
    meta_config cfg;
    if (meta_config_env(&cfg, "", err, sizeof err)) {
        fprintf(stderr, "toy-attestd: %s\n", err);
        return 2;
    }
    if (strcmp(cfg.role, "pg-primary") && strcmp(cfg.role, "pg-replica")) {
        fprintf(stderr, "toy-attestd: TOYAPP_ROLE must be pg-primary or pg-replica (it is \"%s\"): the "
                        "sidecar attests a Postgres CVM; toyapp serves the app's metadata itself\n", cfg.role);
        return 2;
    }
    if (meta_open(&g_meta, &cfg, ATTESTD_KEY_PATH, err, sizeof err)) {
        fprintf(stderr, "toy-attestd: %s\n", err);
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.server_string = "toy-attestd";
    struct lws_context *ctx = lws_create_context(&info);
    struct lws_vhost *vh = NULL;
    if (ctx) {
        info.port = cfg.port;
        info.iface = cfg.host;
        info.protocols = protocols;
        info.vhost_name = "metadata";
        vh = lws_create_vhost(ctx, &info);
    }
    if (!vh) {
        fprintf(stderr, "toy-attestd: cannot listen on %s:%d\n", cfg.host, cfg.port);
        if (ctx)
            lws_context_destroy(ctx);
        meta_close(&g_meta);
        return 2;
    }
    g_ctx = ctx;
    printf("toy-attestd %s listening on http://%s:%d (metadata); role %s, TEE provider %s, cvm %s\n",
           TOY_VERSION, cfg.host, cfg.port, cfg.role, g_meta.provider, cfg.cvm_id);
    fflush(stdout);
    while (!stopping)
        if (lws_service(ctx, 0) < 0)
            break;
    g_ctx = NULL;
    lws_context_destroy(ctx);
    meta_close(&g_meta);
    fprintf(stderr, "toy-attestd: stopped\n");
    return 0;
}

/*
 * ref_lws — the HTTP reference for the service benchmark.
 *
 * The smallest useful libwebsockets HTTP/1.1 server: it answers
 *   GET  /health  {"status":"ok"}
 *   POST /echo    reads the whole request body, then {"status":"ok","received":true}
 * and 404 for anything else, with keep-alive, on 127.0.0.1:PORT.  Each
 * response (status line, headers and body) goes out in one lws_write from
 * LWS_CALLBACK_HTTP_WRITEABLE, the way toyapp writes its own.  It does no
 * work beyond HTTP, so its figures are "the fastest a libwebsockets server
 * answers on this machine", and bench/bench_http.sh reports toyapp as a
 * fraction of them.  The context and vhost settings that affect throughput
 * (header pool, header buffer, keep-alive) are the same as toyapp's.
 *
 * Usage: ref_lws PORT   Prints "ref_lws listening on http://127.0.0.1:P"
 * once bound.  SIGINT or SIGTERM: clean exit 0.
 *
 * Build: cc -O2 -o ref_lws bench/ref_lws.c $(pkg-config --cflags --libs libwebsockets)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

static const char health_body[] = "{\"status\":\"ok\"}";
static const char echo_body[] = "{\"status\":\"ok\",\"received\":true}";
static const char missing_body[] = "{\"error\":\"not_found\"}";

enum phase { IDLE = 0, AWAIT_BODY, RESPOND };

struct pss {
    enum phase phase;
    unsigned int status;
    const char *body;
    size_t body_len;
    size_t received; /* request body bytes read (read, then dropped) */
};

static volatile sig_atomic_t stop;
static struct lws_context *volatile context;

static void respond_with(struct lws *wsi, struct pss *s, unsigned int status, const char *body,
                         size_t len)
{
    s->status = status;
    s->body = body;
    s->body_len = len;
    s->phase = RESPOND;
    lws_callback_on_writable(wsi);
}

/* Status line, headers and body in one buffer, one lws_write. */
static int write_response(struct lws *wsi, struct pss *s)
{
    unsigned char buf[LWS_PRE + 512];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - s->body_len;
    if (lws_add_http_header_status(wsi, s->status, &p, end)
        || lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                        (const unsigned char *)"application/json", 16, &p, end)
        || lws_add_http_header_content_length(wsi, s->body_len, &p, end)
        || lws_finalize_http_header(wsi, &p, end))
        return -1;
    memcpy(p, s->body, s->body_len);
    p += s->body_len;
    s->phase = IDLE;
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) < (int)(p - start))
        return -1;
    /* Nonzero when the client asked to close; otherwise keep-alive. */
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int has_body(struct lws *wsi)
{
    char cl[32];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0
        || lws_hdr_copy(wsi, cl, (int)sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return 0;
    return strtoull(cl, NULL, 10) > 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct pss *s = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        const char *path = in;
        memset(s, 0, sizeof *s);
        int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
        int post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
        if (get && !strcmp(path, "/health")) {
            respond_with(wsi, s, HTTP_STATUS_OK, health_body, sizeof health_body - 1);
            return 0;
        }
        if (post && !strcmp(path, "/echo")) {
            if (has_body(wsi)) {
                s->phase = AWAIT_BODY; /* answered at BODY_COMPLETION */
                s->body = echo_body;
                return 0;
            }
            respond_with(wsi, s, HTTP_STATUS_OK, echo_body, sizeof echo_body - 1);
            return 0;
        }
        if (has_body(wsi)) {
            s->phase = AWAIT_BODY;
            s->body = missing_body;
            return 0;
        }
        respond_with(wsi, s, HTTP_STATUS_NOT_FOUND, missing_body, sizeof missing_body - 1);
        return 0;
    }

    case LWS_CALLBACK_HTTP_BODY:
        if (s)
            s->received += len;
        return 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (s && s->phase == AWAIT_BODY) {
            if (s->body == echo_body)
                respond_with(wsi, s, HTTP_STATUS_OK, echo_body, sizeof echo_body - 1);
            else
                respond_with(wsi, s, HTTP_STATUS_NOT_FOUND, missing_body, sizeof missing_body - 1);
        }
        return 0;

    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!s || s->phase != RESPOND)
            return 0;
        return write_response(wsi, s);

    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    { .name = "http", .callback = callback, .per_session_data_size = sizeof(struct pss) },
    { .name = NULL },
};

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
    if (context)
        lws_cancel_service(context);
}

int main(int argc, char **argv)
{
    char *e;
    long port = argc == 2 ? strtol(argv[1], &e, 10) : -1;
    if (argc != 2 || *e || port < 1 || port > 65535) {
        fprintf(stderr, "usage: ref_lws PORT\n");
        return 2;
    }

    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.max_http_header_data = 4096;
    info.max_http_header_pool = 256;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "ref_lws: lws_create_context failed\n");
        return 1;
    }
    context = ctx;

    struct lws_context_creation_info v;
    memset(&v, 0, sizeof v);
    v.vhost_name = "ref";
    v.port = (int)port;
    v.iface = "127.0.0.1";
    v.protocols = protocols;
    v.keepalive_timeout = 30;
    v.timeout_secs = 10;
    v.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    if (!lws_create_vhost(ctx, &v)) {
        fprintf(stderr, "ref_lws: cannot listen on 127.0.0.1:%ld\n", port);
        lws_context_destroy(ctx);
        return 1;
    }
    printf("ref_lws listening on http://127.0.0.1:%ld\n", port);
    fflush(stdout);

    int rc = 0;
    while (!stop)
        if (lws_service(ctx, 0) < 0) {
            rc = 1;
            break;
        }
    context = NULL;
    lws_context_destroy(ctx);
    return rc;
}

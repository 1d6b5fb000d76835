/*
 * toy-mockapi — the mock TikTok API that toyapp calls.
 *
 * It serves a safe endpoint, GET /api/watch_history, and a sensitive one,
 * GET /api/direct_messages, that toyapp must never call.  Both need
 * "Authorization: Bearer <MOCK_API_TOKEN>".  The mock counts every request
 * it serves and reports the counts at GET /stats (no token), so the tests
 * can assert from the outside that direct_messages was never touched.
 *
 * Counting rules (the invariant the tests rely on):
 *  - watch_history / direct_messages count every request to that path,
 *    whatever its method or token: an unauthorized or wrong-method call to
 *    the sensitive endpoint is still a call to it and must show up;
 *  - unauthorized counts the 401s (a subset of the two above);
 *  - not_found counts requests to any other path (404);
 *  - total counts every request except those to /stats, so polling the
 *    counters does not change them: total == watch_history +
 *    direct_messages + not_found.
 *
 * One libwebsockets HTTP/1.1 vhost, one protocol, no mounts: every request
 * reaches mock_callback() as LWS_CALLBACK_HTTP with the decoded path (the
 * query string is split off by lws).  A response is decided once, copied
 * into the per-transaction struct, its headers written at once and its
 * body in LWS_CALLBACK_HTTP_WRITEABLE, then the transaction is completed
 * so that keep-alive connections take the next request.
 *
 * Usage: toy-mockapi [--port N] [--host H]   (H: an address literal or an
 * interface name, which is what lws binds to; not a host name)
 * Environment: MOCK_API_HOST (127.0.0.1), MOCK_API_PORT (3000),
 * MOCK_API_TOKEN (mock-token).  Options override the environment.  Port 0
 * picks a free port; the line "toy-mockapi listening on http://H:P" on
 * stdout gives the real one.  SIGINT or SIGTERM: clean exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libwebsockets.h>

#define MOCK_DEFAULT_HOST  "127.0.0.1"
#define MOCK_DEFAULT_PORT  3000
#define MOCK_DEFAULT_TOKEN "mock-token"
/* Largest response body; every body here is a few hundred bytes. */
#define MOCK_BODY_MAX      2048

/* The counters served at /stats.  Plain integers: lws runs every callback
 * on the one service thread, so nothing else touches them concurrently. */
struct mock_stats {
    uint64_t watch_history, direct_messages, unauthorized, not_found, total;
};

/* Process-wide state, reached from callbacks through lws_context_user(). */
struct mock_app {
    const char *token;
    size_t token_len;
    struct mock_stats stats;
};

enum mock_endpoint { EP_WATCH_HISTORY, EP_DIRECT_MESSAGES, EP_STATS };

/* The route table: exact path matches only, anything else is a 404. */
static const struct mock_route {
    const char *path;
    enum mock_endpoint ep;
    bool needs_token;
} mock_routes[] = {
    { "/api/watch_history",   EP_WATCH_HISTORY,   true  },
    { "/api/direct_messages", EP_DIRECT_MESSAGES, true  },
    { "/stats",               EP_STATS,           false },
};

/*
 * Per-transaction state.  lws allocates it zeroed when it binds the
 * protocol to the connection and frees it again when
 * lws_http_transaction_completed() rebinds for the next keep-alive
 * request, so it never outlives one request; `phase` guards against
 * callbacks that arrive outside the request we answered.
 */
enum mock_phase {
    PHASE_IDLE = 0,   /* no request decided yet */
    PHASE_AWAIT_BODY, /* decided; waiting for lws to drain the request body */
    PHASE_SEND_BODY,  /* headers written; body goes out on WRITEABLE */
    PHASE_DONE,
};

struct mock_pss {
    enum mock_phase phase;
    unsigned int status;
    bool head;           /* HEAD request: headers only, never a body */
    bool unauthorized;   /* add WWW-Authenticate */
    bool method_refused; /* add Allow */
    size_t body_len;
    /* lws_write() needs LWS_PRE writable bytes in front of what it sends. */
    unsigned char buf[LWS_PRE + MOCK_BODY_MAX];
};

/* Written only by the signal handler, read by the service loop. */
static volatile sig_atomic_t mock_stop;
static struct lws_context *volatile mock_context;

/* ---- response bodies (json-c) ------------------------------------------- */

/* Serializes `obj` into pss->buf after LWS_PRE and drops the reference.
 * Returns false if it does not fit (a bug in the fixed data: the caller
 * answers 500 instead). */
static bool mock_set_body(struct mock_pss *pss, unsigned int status, json_object *obj)
{
    size_t len = 0;
    const char *s = obj ? json_object_to_json_string_length(
                              obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len)
                        : NULL;
    bool ok = s && len <= MOCK_BODY_MAX;
    if (ok) {
        memcpy(pss->buf + LWS_PRE, s, len);
        pss->body_len = len;
        pss->status = status;
    }
    json_object_put(obj);
    return ok;
}

static json_object *mock_error(const char *error, const char *message)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(error));
    json_object_object_add(o, "message", json_object_new_string(message));
    return o;
}

/* A fixed list: the same bytes on every call, so tests can compare. */
static json_object *mock_watch_history(void)
{
    static const struct { const char *id, *title, *category, *at; } items[] = {
        { "v1", "Knife skills: a beginner's cooking tutorial", "lifestyle",     "2026-01-05T18:04:11Z" },
        { "v2", "Champions league match highlights",           "sports",        "2026-01-05T18:12:40Z" },
        { "v3", "Build a line-following robot in a weekend",   "technology",    "2026-01-06T07:30:02Z" },
        { "v4", "Intro to linear algebra, lecture 1",          "education",     "2026-01-06T20:15:57Z" },
        { "v5", "Live concert: the full set",                  "entertainment", "2026-01-07T22:48:19Z" },
    };
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        json_object *it = json_object_new_object();
        json_object_object_add(it, "videoId", json_object_new_string(items[i].id));
        json_object_object_add(it, "title", json_object_new_string(items[i].title));
        json_object_object_add(it, "category", json_object_new_string(items[i].category));
        json_object_object_add(it, "watchedAt", json_object_new_string(items[i].at));
        json_object_array_add(list, it);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "items", list);
    return o;
}

/* Fake private messages: the kind of data toyapp must never fetch. */
static json_object *mock_direct_messages(void)
{
    static const struct { const char *id, *from, *text, *at; } msgs[] = {
        { "m1", "user_4821", "my new phone number is 555-0142, don't share it", "2026-01-04T09:12:00Z" },
        { "m2", "user_0937", "the spare key is under the blue flower pot",      "2026-01-05T21:40:33Z" },
        { "m3", "user_4821", "results came back, please keep it between us",    "2026-01-06T13:05:51Z" },
    };
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        json_object *m = json_object_new_object();
        json_object_object_add(m, "messageId", json_object_new_string(msgs[i].id));
        json_object_object_add(m, "from", json_object_new_string(msgs[i].from));
        json_object_object_add(m, "text", json_object_new_string(msgs[i].text));
        json_object_object_add(m, "sentAt", json_object_new_string(msgs[i].at));
        json_object_array_add(list, m);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "messages", list);
    return o;
}

static json_object *mock_stats_json(const struct mock_stats *st)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "watch_history", json_object_new_int64((int64_t)st->watch_history));
    json_object_object_add(o, "direct_messages", json_object_new_int64((int64_t)st->direct_messages));
    json_object_object_add(o, "unauthorized", json_object_new_int64((int64_t)st->unauthorized));
    json_object_object_add(o, "not_found", json_object_new_int64((int64_t)st->not_found));
    json_object_object_add(o, "total", json_object_new_int64((int64_t)st->total));
    return o;
}

/* ---- request handling --------------------------------------------------- */

/* Compares without an early exit, so response time does not reveal how
 * much of a guessed token was right. */
static bool mock_equal_ct(const char *a, const char *b, size_t n)
{
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* True if the request carries "Authorization: Bearer <token>" (scheme
 * case-insensitive, as RFC 7235 says; token exact). */
static bool mock_authorized(struct lws *wsi, const struct mock_app *app)
{
    static const char scheme[] = "Bearer ";
    const size_t slen = sizeof scheme - 1;
    char h[512];
    /* <= 0 when absent or longer than h; a longer one cannot be ours. */
    int n = lws_hdr_copy(wsi, h, (int)sizeof h, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n <= 0 || (size_t)n != slen + app->token_len)
        return false;
    return !strncasecmp(h, scheme, slen) && mock_equal_ct(h + slen, app->token, app->token_len);
}

/* True if lws will deliver a request body (Content-Length > 0) before it
 * can parse the next request on this connection.  A chunked request body
 * is not read as a body: lws parses it as the next request, fails, and
 * closes the connection after our reply, which is all a mock needs. */
static bool mock_expects_body(struct lws *wsi)
{
    char cl[32];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
        lws_hdr_copy(wsi, cl, (int)sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return false;
    return strtoull(cl, NULL, 10) > 0;
}

/*
 * Decides the response to one request, counts it, and leaves status and
 * body in `pss`.  Order: path (404), then method (405), then token (401).
 * Returns false only if a body did not fit MOCK_BODY_MAX.
 */
static bool mock_decide(struct lws *wsi, struct mock_app *app, struct mock_pss *pss,
                        const char *path, size_t path_len)
{
    struct mock_stats *st = &app->stats;
    const struct mock_route *r = NULL;
    for (size_t i = 0; i < sizeof mock_routes / sizeof mock_routes[0]; i++)
        if (strlen(mock_routes[i].path) == path_len && !memcmp(mock_routes[i].path, path, path_len))
            r = &mock_routes[i];

    if (!r) {
        st->not_found++;
        st->total++;
        return mock_set_body(pss, HTTP_STATUS_NOT_FOUND, mock_error("not_found", "no such endpoint"));
    }
    if (r->ep == EP_WATCH_HISTORY)
        st->watch_history++;
    else if (r->ep == EP_DIRECT_MESSAGES)
        st->direct_messages++;
    if (r->ep != EP_STATS)
        st->total++;

    char *uri;
    int uri_len;
    int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    pss->head = method == LWSHUMETH_HEAD;
    if (method != LWSHUMETH_GET) {
        pss->method_refused = true;
        return mock_set_body(pss, HTTP_STATUS_METHOD_NOT_ALLOWED,
                             mock_error("method_not_allowed", "only GET is allowed here"));
    }
    if (r->needs_token && !mock_authorized(wsi, app)) {
        st->unauthorized++;
        pss->unauthorized = true;
        return mock_set_body(pss, HTTP_STATUS_UNAUTHORIZED,
                             mock_error("unauthorized", "missing or invalid bearer token"));
    }
    switch (r->ep) {
    case EP_WATCH_HISTORY:
        return mock_set_body(pss, HTTP_STATUS_OK, mock_watch_history());
    case EP_DIRECT_MESSAGES:
        return mock_set_body(pss, HTTP_STATUS_OK, mock_direct_messages());
    case EP_STATS:
        return mock_set_body(pss, HTTP_STATUS_OK, mock_stats_json(st));
    }
    return false;
}

/*
 * Writes the status line and headers of the decided response and asks for
 * a WRITEABLE callback to send the body.  Headers are small, so lws sends
 * them at once (or buffers what the socket would not take).
 * Returns 0, or -1 to make lws close the connection.
 */
static int mock_start_response(struct lws *wsi, struct mock_pss *pss)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;

    /* With a Content-Length, lws keeps HTTP/1.1 connections alive. */
    if (lws_add_http_common_headers(wsi, pss->status, "application/json", pss->body_len, &p, end))
        return -1;
    /* Header names end in ':' and are lower case, as lws expects. */
    if (pss->method_refused &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:", (const unsigned char *)"GET", 3,
                                    &p, end))
        return -1;
    if (pss->unauthorized &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                    (const unsigned char *)"Bearer", 6, &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    pss->phase = PHASE_SEND_BODY;
    lws_callback_on_writable(wsi);
    return 0;
}

static int mock_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct mock_pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        struct mock_app *app = lws_context_user(lws_get_context(wsi));
        /* Fresh for each transaction (see struct mock_pss); reset anyway so
         * nothing of an earlier request can leak into this one. */
        pss->phase = PHASE_IDLE;
        pss->head = pss->unauthorized = pss->method_refused = false;
        if (!mock_decide(wsi, app, pss, in, len) &&
            !mock_set_body(pss, HTTP_STATUS_INTERNAL_SERVER_ERROR,
                           mock_error("internal", "response too large")))
            return -1;
        /*
         * If the request has a body, answer after lws has read it: a reply
         * completed before that would leave the body in the stream to be
         * parsed as the next request.  lws reports the end of the body with
         * LWS_CALLBACK_HTTP_BODY_COMPLETION.
         */
        if (mock_expects_body(wsi)) {
            pss->phase = PHASE_AWAIT_BODY;
            return 0;
        }
        return mock_start_response(wsi, pss);
    }

    case LWS_CALLBACK_HTTP_BODY:
        return 0; /* no endpoint takes a body: drop it */

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* Some lws versions also send this for an explicit
         * "Content-Length: 0"; we have answered those already. */
        if (pss && pss->phase == PHASE_AWAIT_BODY)
            return mock_start_response(wsi, pss);
        return 0;

    case LWS_CALLBACK_HTTP_WRITEABLE:
        /* lws also asks for writability between transactions; only a
         * response whose headers are out has anything to send. */
        if (!pss || pss->phase != PHASE_SEND_BODY)
            return 0;
        pss->phase = PHASE_DONE;
        /* A HEAD response announces the length but carries no body. */
        if (!pss->head && pss->body_len &&
            lws_write(wsi, pss->buf + LWS_PRE, pss->body_len, LWS_WRITE_HTTP_FINAL) != (int)pss->body_len)
            return -1;
        /* Nonzero: the client asked to close (HTTP/1.0, "Connection:
         * close"); otherwise lws waits for the next request. */
        return lws_http_transaction_completed(wsi) ? -1 : 0;

    default:
        break;
    }
    /* Everything else (connection setup, header-table bookkeeping, ...)
     * gets lws's default HTTP handling. */
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols mock_protocols[] = {
    { .name = "http", .callback = mock_callback, .per_session_data_size = sizeof(struct mock_pss) },
    { .name = NULL }, /* terminator */
};

/* ---- process ------------------------------------------------------------ */

static void mock_on_signal(int sig)
{
    (void)sig;
    mock_stop = 1;
    /* Wakes lws_service() from its poll; it only writes to a pipe. */
    if (mock_context)
        lws_cancel_service(mock_context);
}

static void mock_usage(FILE *f)
{
    fprintf(f, "usage: toy-mockapi [--port N] [--host H]\n"
               "  H: an IPv4 or IPv6 address, or an interface name (not a host name)\n"
               "  N: 0..65535; 0 takes any free port (the listening line tells which)\n"
               "environment: MOCK_API_HOST (default " MOCK_DEFAULT_HOST "), MOCK_API_PORT (default %d),\n"
               "             MOCK_API_TOKEN (default " MOCK_DEFAULT_TOKEN ")\n",
            MOCK_DEFAULT_PORT);
}

/* Parses a port number 0..65535 (0: any free port).  Returns -1 if bad. */
static int mock_parse_port(const char *s)
{
    char *e;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (!*s || *e || errno || v < 0 || v > 65535)
        return -1;
    return (int)v;
}

int main(int argc, char **argv)
{
    /* Options first: they override the environment, even a bad value there. */
    const char *host = NULL;
    int port = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            mock_usage(stdout);
            return 0;
        }
        if (i + 1 < argc && !strcmp(argv[i], "--port")) {
            if ((port = mock_parse_port(argv[++i])) < 0) {
                fprintf(stderr, "toy-mockapi: bad port '%s'\n", argv[i]);
                return 2;
            }
        } else if (i + 1 < argc && !strcmp(argv[i], "--host") && *argv[i + 1]) {
            host = argv[++i];
        } else {
            mock_usage(stderr);
            return 2;
        }
    }
    if (!host && (!(host = getenv("MOCK_API_HOST")) || !*host))
        host = MOCK_DEFAULT_HOST;
    if (port < 0) {
        const char *s = getenv("MOCK_API_PORT");
        port = s && *s ? mock_parse_port(s) : MOCK_DEFAULT_PORT;
        if (port < 0) {
            fprintf(stderr, "toy-mockapi: bad MOCK_API_PORT '%s'\n", s);
            return 2;
        }
    }
    const char *token = getenv("MOCK_API_TOKEN");
    if (!token)
        token = MOCK_DEFAULT_TOKEN;
    if (!*token) {
        /* "Bearer " alone would then be a valid credential. */
        fprintf(stderr, "toy-mockapi: MOCK_API_TOKEN is set but empty\n");
        return 2;
    }

    struct sigaction sa = { .sa_handler = mock_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an error return, not a kill */

    struct mock_app app = { .token = token, .token_len = strlen(token) };
    unsigned char v4[sizeof(struct in_addr)], v6[sizeof(struct in6_addr)];
    bool is_v4 = inet_pton(AF_INET, host, v4) == 1;
    bool is_v6 = inet_pton(AF_INET6, host, v6) == 1;

    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    /* The vhost is created explicitly so we hold its pointer and can ask
     * which port it really bound. */
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.user = &app;
    info.server_string = "toy-mockapi"; /* a context setting, not a vhost one */
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "toy-mockapi: lws_create_context failed\n");
        return 1;
    }
    mock_context = ctx;

    info.port = port;
    info.iface = host; /* lws takes an IPv4/IPv6 literal or an interface name */
    info.protocols = mock_protocols;
    info.vhost_name = "mockapi";
    /* An IPv4 address binds a plain AF_INET socket rather than relying on
     * v4-mapped addresses on an IPv6 one. */
    if (is_v4)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    struct lws_vhost *vh = lws_create_vhost(ctx, &info);
    int bound = vh ? lws_get_vhost_listen_port(vh) : -1;
    if (bound <= 0) {
        fprintf(stderr, "toy-mockapi: cannot listen on %s port %d\n", host, port);
        lws_context_destroy(ctx);
        return 1;
    }

    /* Tests and `make run` wait for this line; flush it past any pipe buffer. */
    printf("toy-mockapi listening on http://%s%s%s:%d\n", is_v6 ? "[" : "", host, is_v6 ? "]" : "", bound);
    fflush(stdout);

    int rc = 0;
    while (!mock_stop)
        if (lws_service(ctx, 0) < 0) {
            fprintf(stderr, "toy-mockapi: lws_service failed\n");
            rc = 1;
            break;
        }

    mock_context = NULL;
    lws_context_destroy(ctx);
    return rc;
}

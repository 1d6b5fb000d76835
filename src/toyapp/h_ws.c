/*
 * h_ws.c — GET /ws (spec/endpoints/ws.spec): the WebSocket handshake
 * (RFC 6455 §4.2), on the service thread.
 *
 * A handshake that is not one is answered in JSON like every refusal: 426
 * without Upgrade: websocket and Connection: upgrade (or over HTTP/1.0),
 * 426 with Sec-WebSocket-Version: 13 for another version, 400 for a key
 * that is not the base64 of 16 bytes or a request with a body, 403 for an
 * Origin that is neither the page's own (http or https and the Host) nor in
 * WS_ALLOWED_ORIGINS ("*": any), 503 with Retry-After past WS_MAX_CLIENTS.
 * A request without Origin is not a browser's, and is not refused for it.
 * Otherwise the answer is 101 with Sec-WebSocket-Accept, and conn.c hands
 * the connection to the session made here (ws.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "feed.h"
#include "handler.h"
#include "rt_http.h"
#include "rt_ws.h"
#include "ws.h"

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "toyapp: out of memory\n");
        abort();
    }
    return d;
}

static int same(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && !strncasecmp(a, b, an);
}

/* Is the handshake's Origin acceptable? */
static int origin_allowed(const rt_http_head *h, const char *buf)
{
    if (!h->origin.off)
        return 1;
    const char *o = buf + h->origin.off, *host = buf + h->host.off;
    size_t on = h->origin.len, hn = h->host.len;
    for (int tls = 0; tls < 2; tls++) {
        size_t sn = tls ? 8 : 7;
        if (hn && on == sn + hn && !strncasecmp(o, tls ? "https://" : "http://", sn)
            && same(o + sn, hn, host, hn))
            return 1;
    }
    /* WS_ALLOWED_ORIGINS: origins separated by commas or spaces. */
    for (const char *p = g_app.cfg.ws_origins; *p;) {
        size_t n = strcspn(p, ", ");
        if ((n == 1 && *p == '*') || (n && same(p, n, o, on)))
            return 1;
        p += n;
        p += strspn(p, ", ");
    }
    return 0;
}

static void ws_serve(job *j, worker *w)
{
    (void)w;
    const rt_http_head *h = j->http;
    const char *b = j->http_buf;
    if (!h->upgrade_websocket || !h->conn_upgrade || h->minor < 1) {
        job_error(j, 426, "upgrade_required",
                  "GET /ws is a WebSocket: send Upgrade: websocket and Connection: Upgrade over HTTP/1.1 (RFC 6455)");
        j->headers = xstrdup("Upgrade: websocket\r\n");
        return;
    }
    if (!same(b + h->ws_version.off, h->ws_version.len, "13", 2)) {
        job_error(j, 426, "unsupported_websocket_version", "Sec-WebSocket-Version must be 13");
        j->headers = xstrdup("Sec-WebSocket-Version: 13\r\n");
        return;
    }
    if (!h->ws_key.off || !rt_ws_key_valid(b + h->ws_key.off, h->ws_key.len)) {
        job_error(j, 400, "bad_websocket_key", "Sec-WebSocket-Key must be the base64 of 16 bytes");
        return;
    }
    if (h->content_length > 0 || h->transfer_encoding) {
        job_error(j, 400, "bad_request", "a WebSocket handshake has no body");
        return;
    }
    if (!origin_allowed(h, b)) {
        job_error(j, 403, "origin_not_allowed",
                  "this Origin may not open the feed (WS_ALLOWED_ORIGINS lists the ones that may)");
        return;
    }
    const toy_params_ws *p = JOB_PARAMS(j, ws);
    static const int modes[] = { FEED_ALL, FEED_LATEST, FEED_NONE };   /* enum(all latest none) */
    int mode = p->has_entries && p->entries < 3 ? modes[p->entries] : FEED_ALL;
    ws_client *c = ws_client_new(mode, p->has_from ? p->from : -1);
    if (!c) {
        job_error(j, 503, "too_many_clients", "the feed has as many clients as WS_MAX_CLIENTS allows; retry later");
        j->retry_after = 5;
        return;
    }
    char accept[RT_WS_ACCEPT_LEN + 1], head[160];
    rt_ws_accept(b + h->ws_key.off, h->ws_key.len, accept);
    snprintf(head, sizeof head, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", accept);
    j->status = 101;
    j->headers = xstrdup(head);
    j->upgrade = c;
}
const toy_handler h_ws = { .serve = ws_serve };

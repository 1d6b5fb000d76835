/*
 * ws.c — the WebSocket sessions of GET /ws (ws.h), on the service thread.
 *
 * A session is at a position of the stream: the tree size up to which its
 * queue holds the feed.  It starts either live (no `from`: the start frame
 * of the follower's latest round, or of its next one when the follower,
 * with no session attached, stopped reading) or by backfilling (the backfill thread
 * reads from `from` a chunk at a time, the next chunk asked for only when
 * the queue has drained below LOW_WATER).  A live session takes each round
 * the follower publishes whose start is its position; a round that starts
 * further on means it missed some (it was backfilling while the log grew)
 * and it backfills up to the follower again.  So every session sees every
 * round after its start, in order, exactly once.
 *
 * The queue holds references to rounds (offset and length of the bytes its
 * mode takes), at most QUEUE_SEGS of them; when a round comes while more
 * than WS_QUEUE_KB is still unwritten, or the segments are all taken, the
 * client cannot keep up, and it is closed with 1013
 * and a reason that says where to resume.  The kernel's send buffer of the
 * connection is bounded too (SNDBUF), so that a client that stops reading
 * is found out after a known amount, and a thousand of them cannot pin
 * gigabytes of kernel memory.  Writes go out in WRITE_CHUNK pieces,
 * at most WRITE_BUDGET a callback, and control frames (pong, close) between
 * whole segments, which hold whole frames.
 *
 * The client may send only control frames: a data frame is closed with
 * 1003, a frame that breaks RFC 6455 with the parser's code (1002, 1007,
 * 1009) and a reason naming the byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "app.h"
#include "feed.h"
#include "rt_ws.h"
#include "ws.h"

enum {
    QUEUE_SEGS = 256,
    SNDBUF = 256 << 10,          /* the socket's send buffer (the kernel doubles it) */
    LOW_WATER = 256 << 10,
    WRITE_CHUNK = 4096,          /* lws sends at most about this much at once */
    WRITE_BUDGET = 64 << 10,
    CLOSE_WAIT_S = 5,            /* after our close frame, for the client's */
};

enum { C_WAIT, C_BACKFILL, C_LIVE };

typedef struct seg {
    feed_round *r;
    size_t off, len;
} seg;

struct ws_client {
    ws_client *prev, *next;      /* attached sessions */
    struct lws *wsi;
    int mode, state;
    int64_t from;                /* asked for; -1: latest */
    uint64_t pos;                /* the stream's position (have_pos) */
    int have_pos;
    uint64_t sent_pos;           /* the last position whose bytes are all written */
    feed_req *req;
    int req_out, want_more;
    seg q[QUEUE_SEGS];
    unsigned qh, qn;
    size_t qbytes, done;
    uint8_t pong[RT_WS_HEADER_MAX + RT_WS_CONTROL_MAX];
    size_t pong_len;
    uint8_t closing_frame[RT_WS_HEADER_MAX + RT_WS_CONTROL_MAX];
    size_t close_len;
    int closing, close_sent, peer_closed, dead;
    rt_ws_parser p;
};

static struct {
    ws_client *head;
    int count;
    int attached;                /* sessions in head's list */
    feed_round *live;            /* the follower's latest round */
} W;

/* The follower's latest round, if it is still reading: when no session was
 * attached it stopped, and its latest round may be behind by any amount. */
static feed_round *live_now(void)
{
    return W.live && W.live->epoch == feed_epoch() ? W.live : NULL;
}

static void unref(feed_round *r)
{
    if (r && --r->refs == 0 && r != W.live)
        feed_round_free(r);
}

ws_client *ws_client_new(int mode, int64_t from)
{
    if (W.count >= g_app.cfg.ws_max_clients)
        return NULL;
    ws_client *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "toyapp: out of memory\n");
        abort();
    }
    c->mode = mode;
    c->from = from;
    /* No data message is taken at all (1003), whatever its size. */
    rt_ws_init(&c->p, RT_WS_SERVER, UINT64_MAX);
    W.count++;
    return c;
}

int ws_clients(void)
{
    return W.count;
}

static void free_client(ws_client *c)
{
    if (c->req) {
        for (feed_round *r = c->req->rounds, *n; r; r = n) {
            n = r->next;
            if (!r->refs)
                feed_round_free(r);
        }
        free(c->req);
    }
    free(c);
    W.count--;
}

/* ---- closing ------------------------------------------------------------------- */

/* Drops the queue, but a segment already begun: its frames must end whole. */
static void drop_queue(ws_client *c, int keep_begun)
{
    unsigned keep = keep_begun && c->qn && c->done ? 1 : 0;
    for (unsigned i = keep; i < c->qn; i++) {
        seg *s = &c->q[(c->qh + i) % QUEUE_SEGS];
        c->qbytes -= s->len - (i == 0 ? c->done : 0);
        unref(s->r);
    }
    c->qn = keep;
    if (!keep)
        c->done = 0;
}

/* Closes the stream with code and reason: the close frame goes out once the
 * frame being written ends; nothing else is sent. */
static void ws_fail(ws_client *c, unsigned code, const char *reason)
{
    if (c->closing || c->dead)
        return;
    c->closing = 1;
    c->want_more = 0;
    drop_queue(c, 1);
    uint8_t payload[RT_WS_CONTROL_MAX];
    size_t pn = rt_ws_close_payload(payload, code, reason);
    size_t hn = rt_ws_header(c->closing_frame, RT_WS_OP_CLOSE, 1, pn, NULL);
    memcpy(c->closing_frame + hn, payload, pn);
    c->close_len = hn + pn;
    if (c->wsi) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_WAIT_S);
        lws_callback_on_writable(c->wsi);
    }
}

/* ---- the queue ------------------------------------------------------------------ */

static uint64_t resume_point(const ws_client *c)
{
    return c->qn && c->done ? c->q[c->qh].r->to : c->sent_pos;
}

static void push(ws_client *c, feed_round *r, size_t off, size_t len)
{
    if (!len || c->closing)
        return;
    /* Too slow: its backlog is over the bound when more comes (a round
     * larger than the bound alone still goes to a client that keeps up). */
    if (c->qn == QUEUE_SEGS || c->qbytes > (size_t)g_app.cfg.ws_queue_kb << 10) {
        char why[RT_WS_REASON_MAX + 1];
        snprintf(why, sizeof why, "too slow: the queue is full; resume with ?from=%llu",
                 (unsigned long long)resume_point(c));
        ws_fail(c, RT_WS_CLOSE_TRY_LATER, why);
        return;
    }
    c->q[(c->qh + c->qn++) % QUEUE_SEGS] = (seg){ r, off, len };
    r->refs++;
    c->qbytes += len;
    /* A client that has taken everything so far is written to at once: a
     * writable callback would cost two epoll changes and a wake-up per
     * client and round, and a thousand clients take every round. */
    if (c->qn == 1 && !c->done && !lws_partial_buffered(c->wsi)) {
        if (ws_writable(c) < 0)
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    lws_callback_on_writable(c->wsi);
}

/* Queues round r (its start frame when start), and moves the position.
 * The caller holds a reference to r (push may write it out at once and
 * let the client's go). */
static void take(ws_client *c, feed_round *r, int start)
{
    size_t off, len;
    if (start)
        feed_start_segment(r, &off, &len);
    else
        feed_segment(r, c->mode, &off, &len);
    c->pos = r->to;
    c->have_pos = 1;
    push(c, r, off, len);
}

static void backfill(ws_client *c, uint64_t from, int first)
{
    if (!c->req) {
        c->req = calloc(1, sizeof *c->req);
        if (!c->req) {
            fprintf(stderr, "toyapp: out of memory\n");
            abort();
        }
        c->req->client = c;
    }
    feed_req *q = c->req;
    if (q->from != from || first)
        q->have_f = 0;
    q->from = from;
    q->first = first;
    q->until = live_now() ? W.live->to : UINT64_MAX;
    q->rounds = NULL;
    q->done = 0;
    q->close_code = 0;
    c->state = C_BACKFILL;
    c->want_more = 0;
    c->req_out = 1;
    feed_request(q);
}

/* The next backfill chunk, once the queue has drained. */
static void maybe_more(ws_client *c)
{
    if (c->want_more && !c->req_out && !c->closing && c->qbytes < LOW_WATER)
        backfill(c, c->pos, 0);
}

/* ---- the feed ------------------------------------------------------------------- */

static void join_live(ws_client *c)
{
    take(c, W.live, 1);
    c->state = C_LIVE;
}

static void on_round(feed_round *r)
{
    feed_round *old = W.live;
    W.live = r;   /* never freed while it is the live one */
    if (old && !old->refs)
        feed_round_free(old);
    for (ws_client *c = W.head; c; c = c->next) {
        if (c->closing)
            continue;
        if (c->state == C_WAIT) {
            join_live(c);
        } else if (c->state == C_LIVE && c->pos < r->to) {
            /* A round that does not start where the session is, or a start
             * round further on (the follower starting again): it missed
             * rounds, and reads them back. */
            if (r->from < r->to && c->pos == r->from)
                take(c, r, 0);
            else
                backfill(c, c->pos, 0);
        }
    }
}

static void on_answer(feed_req *q)
{
    ws_client *c = q->client;
    c->req_out = 0;
    feed_round *rounds = q->rounds;
    q->rounds = NULL;
    for (feed_round *r = rounds, *n; r; r = n) {
        n = r->next;
        r->refs++;   /* ours, while the client takes it */
        if (!c->dead && !c->closing && !q->close_code) {
            if (r->from == r->to && !c->have_pos)
                take(c, r, 1);
            else if (r->from < r->to && c->pos == r->from)
                take(c, r, 0);
        }
        unref(r);
    }
    if (c->dead) {
        free_client(c);
        return;
    }
    if (q->close_code) {
        ws_fail(c, q->close_code, q->reason);
        return;
    }
    if (c->closing)
        return;
    if (!q->done) {
        c->want_more = 1;
        maybe_more(c);
    } else if (W.live && c->pos < W.live->to) {
        backfill(c, c->pos, 0);   /* the log grew meanwhile */
    } else {
        c->state = C_LIVE;
    }
}

void ws_stop(void)
{
    for (ws_client *c = W.head; c; c = c->next) {
        if (c->closing || c->done || lws_partial_buffered(c->wsi))
            continue;
        char why[RT_WS_REASON_MAX + 1];
        snprintf(why, sizeof why, "the server is stopping; resume with ?from=%llu",
                 (unsigned long long)c->sent_pos);
        drop_queue(c, 0);
        ws_fail(c, RT_WS_CLOSE_GOING_AWAY, why);
        ws_writable(c);
    }
}

/* The feed's new rounds, then the answered backfill requests. */
static void take_news(void)
{
    feed_round *rounds;
    feed_req *answered;
    feed_collect(&rounds, &answered);
    for (feed_round *r = rounds, *n; r; r = n) {
        n = r->next;
        r->next = NULL;
        on_round(r);
    }
    for (feed_req *q = answered, *n; q; q = n) {
        n = q->next;
        q->next = NULL;
        on_answer(q);
    }
}

void ws_service(void)
{
    take_news();
}

/* ---- the connection ---------------------------------------------------------------- */

int ws_attach(ws_client *c, struct lws *wsi, uint8_t *leftover, size_t n)
{
    int sndbuf = SNDBUF;
    setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    c->wsi = wsi;
    c->next = W.head;
    if (W.head)
        W.head->prev = c;
    W.head = c;
    feed_demand(++W.attached);
    if (c->from >= 0)
        backfill(c, (uint64_t)c->from, 1);
    else if (live_now())
        join_live(c);
    else
        c->state = C_WAIT;
    return n ? ws_rx(c, leftover, n) : 0;
}

static void control(ws_client *c, const rt_ws_event *ev)
{
    if (ev->op == RT_WS_OP_PING && !c->closing) {
        /* Only the latest ping needs its pong (RFC 6455 §5.5.3). */
        size_t hn = rt_ws_header(c->pong, RT_WS_OP_PONG, 1, ev->len, NULL);
        memcpy(c->pong + hn, ev->data, (size_t)ev->len);
        c->pong_len = hn + (size_t)ev->len;
        lws_callback_on_writable(c->wsi);
    } else if (ev->op == RT_WS_OP_CLOSE) {
        c->peer_closed = 1;
        if (!c->closing) {
            /* Echo its code (§5.5.1); then the connection ends. */
            char reason[RT_WS_REASON_MAX + 1];
            snprintf(reason, sizeof reason, "%.*s", (int)ev->reason_len, ev->reason);
            ws_fail(c, ev->code == RT_WS_CLOSE_NO_STATUS ? RT_WS_CLOSE_NORMAL : ev->code, reason);
        }
        lws_callback_on_writable(c->wsi);
    }
}

int ws_rx(ws_client *c, uint8_t *in, size_t len)
{
    size_t off = 0;
    while (!c->peer_closed) {
        size_t used;
        rt_ws_event ev;
        int rc = rt_ws_parse(&c->p, in + off, len - off, &used, &ev);
        off += used;
        if (rc == RT_WS_MORE)
            break;
        if (rc == RT_WS_ERROR) {
            char why[RT_WS_REASON_MAX + 1];
            snprintf(why, sizeof why, "%s (byte %llu)", c->p.reason, (unsigned long long)c->p.error_off);
            ws_fail(c, c->p.close, why);
            break;
        }
        /* A data frame closes the stream; its bytes are read and dropped,
         * so that the client's close frame is still seen. */
        if (ev.type == RT_WS_EV_FRAME)
            ws_fail(c, RT_WS_CLOSE_UNSUPPORTED, "this stream takes no messages: send only ping, pong and close");
        if (ev.type == RT_WS_EV_CONTROL)
            control(c, &ev);
    }
    return 0;
}

int ws_writable(ws_client *c)
{
    struct lws *wsi = c->wsi;
    if (lws_partial_buffered(wsi)) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->close_sent)
        return c->peer_closed ? -1 : 0;   /* else wait for the client's close */
    size_t budget = WRITE_BUDGET;
    for (;;) {
        if (!c->done && c->pong_len) {
            if (lws_write(wsi, c->pong, c->pong_len, LWS_WRITE_RAW) < 0)
                return -1;
            c->pong_len = 0;
        }
        if (!c->done && c->closing && !c->qn) {
            if (lws_write(wsi, c->closing_frame, c->close_len, LWS_WRITE_RAW) < 0)
                return -1;
            c->close_sent = 1;
            if (c->peer_closed && !lws_partial_buffered(wsi))
                return -1;
            break;
        }
        if (!c->qn || !budget || lws_partial_buffered(wsi))
            break;
        seg *s = &c->q[c->qh];
        size_t n = s->len - c->done;
        if (n > WRITE_CHUNK)
            n = WRITE_CHUNK;
        if (n > budget)
            n = budget;
        if (lws_write(wsi, s->r->buf + LWS_PRE + s->off + c->done, n, LWS_WRITE_RAW) < 0)
            return -1;
        c->done += n;
        c->qbytes -= n;
        budget -= n;
        if (c->done == s->len) {
            c->sent_pos = s->r->to;
            unref(s->r);
            c->qh = (c->qh + 1) % QUEUE_SEGS;
            c->qn--;
            c->done = 0;
        }
    }
    if (c->qn || c->pong_len || (c->closing && !c->close_sent) || (c->close_sent && c->peer_closed))
        lws_callback_on_writable(wsi);
    maybe_more(c);
    return 0;
}

void ws_closed(ws_client *c)
{
    if (c->wsi) {
        if (c->prev)
            c->prev->next = c->next;
        else
            W.head = c->next;
        if (c->next)
            c->next->prev = c->prev;
        feed_demand(--W.attached);
    }
    drop_queue(c, 0);
    c->dead = 1;
    c->wsi = NULL;
    if (!c->req_out)
        free_client(c);
}

void ws_cleanup(void)
{
    /* Every connection is gone with the lws context: no wsi is touched. */
    while (W.head)
        ws_closed(W.head);
    take_news();    /* answers that came back free their dead clients */
    if (W.live && !W.live->refs)
        feed_round_free(W.live);
    W.live = NULL;
}

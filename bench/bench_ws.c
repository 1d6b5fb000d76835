/*
 * bench_ws.c — many WebSocket clients of toyapp's GET /ws, and the delay
 * from a commit to the frame that shows it, for bench/bench_http.sh.
 *
 * Usage: bench_ws PORT CLIENTS MODE SECONDS PROBES_PER_S
 *
 * Opens CLIENTS connections to ws://127.0.0.1:PORT/ws?entries=MODE (one
 * epoll loop, frames read with runtime/rt_ws), prints "ready N" once N
 * have their start frame, waits (reading all the while) for a line "go" on
 * its standard input, then for SECONDS reads everything they are sent
 * while a probe thread submits PROBES_PER_S entries a second on its own
 * connection and notes when each answer (which comes after the commit)
 * arrived.  Every client notes when each tree head frame arrived and its
 * size.  Afterwards it asks GET /receipts/:id/proof where each probe entry
 * is in the log, and for each probe and each client takes the delay from
 * the probe's answer to the first tree head that client got whose size
 * covers the entry (with entries=all the entry's own frame comes just
 * before it).  It prints one line:
 *
 *   BENCHWS clients=C ready=R open_at_end=O closed=K close_codes=CODE:N,...
 *           frames=F mbytes=M cpu_pct=U probes=P delays=D missing=X p50_ms=.. p99_ms=.. max_ms=..
 *
 * (cpu_pct: this process's CPU while measuring, in % of one core.)
 *
 * Exit status 0, or 1 when fewer than CLIENTS connected or a probe failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rt_ws.h"

typedef struct head { int64_t t_us; uint64_t size; } head;

typedef struct client {
    int fd, state;               /* 0 handshake, 1 open, 2 closed */
    char hbuf[1024];
    size_t hlen;
    rt_ws_parser p;
    int text;                    /* the message under way is text */
    char first[16];              /* its first bytes, */
    size_t nfirst;
    char last[48];               /* and its last ones */
    size_t nlast;
    head *heads;
    size_t nheads, cap;
    int ready;
    unsigned close_code;
} client;

static int port;
static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int connect_to(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        perror("bench_ws: connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---- the probe: submissions on their own connection ------------------------- */

typedef struct probe { int64_t t_us; char receipt[80]; uint64_t leaf; int have_leaf; } probe;
static probe probes[100000];
static atomic_int nprobes, probe_errors;
static atomic_int stop_probes;
static int probe_rate;

/* One request on fd; the answer's body (NUL-terminated) in out.  0 or -1. */
static int http(int fd, const char *req, char *out, size_t cap)
{
    size_t n = strlen(req);
    if (write(fd, req, n) != (ssize_t)n)
        return -1;
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, out + got, cap - 1 - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        out[got] = 0;
        char *body = strstr(out, "\r\n\r\n");
        char *cl = strcasestr(out, "Content-Length:");
        if (body && cl && got >= (size_t)(body + 4 - out) + strtoul(cl + 15, NULL, 10)) {
            memmove(out, body + 4, strlen(body + 4) + 1);
            return strncmp(out, "{", 1) ? -1 : 0;
        }
        if (got + 1 >= cap)
            return -1;
    }
}

static void *probe_main(void *arg)
{
    (void)arg;
    int fd = connect_to();
    char req[512], out[8192];
    int64_t next = now_us();
    for (int i = 0; fd >= 0 && !atomic_load(&stop_probes) && i < (int)(sizeof probes / sizeof probes[0]); i++) {
        char body[200];
        int bn = snprintf(body, sizeof body, "{\"userId\":\"probe%d@example.com\",\"sensitivePayload\":"
                                             "\"probe %d: a chess lecture, age: 40\"}", i, i);
        snprintf(req, sizeof req, "POST /submit-data HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %d\r\n\r\n%s", bn, body);
        if (http(fd, req, out, sizeof out)) {
            atomic_fetch_add(&probe_errors, 1);
            break;
        }
        int64_t t = now_us();
        char *r = strstr(out, "\"receiptId\":\"");
        if (!r) {
            atomic_fetch_add(&probe_errors, 1);
            continue;
        }
        int k = atomic_load(&nprobes);
        probes[k].t_us = t;
        snprintf(probes[k].receipt, sizeof probes[k].receipt, "%.*s", (int)strcspn(r + 13, "\""), r + 13);
        atomic_store(&nprobes, k + 1);
        next += 1000000 / probe_rate;
        int64_t wait = next - now_us();
        if (wait > 0)
            usleep((useconds_t)wait);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* ---- the clients -------------------------------------------------------------- */

static void message_done(client *c, int64_t t)
{
    if (!c->text)
        return;
    /* Canonical JSON: the tree_head frame starts {"consistency": and the
     * start frame {"frontier":, and both end with "treeSize":N}. */
    int is_head = c->nfirst >= 15 && !memcmp(c->first, "{\"consistency\"", 14);
    int is_start = c->nfirst >= 12 && !memcmp(c->first, "{\"frontier\"", 11);
    if (!is_head && !is_start)
        return;
    char tail[sizeof c->last + 1];
    memcpy(tail, c->last, c->nlast);
    tail[c->nlast] = 0;
    char *s = strstr(tail, "\"treeSize\":");
    if (!s)
        return;
    uint64_t size = strtoull(s + 11, NULL, 10);
    if (is_start)
        c->ready = 1;
    if (c->nheads == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->heads = realloc(c->heads, c->cap * sizeof *c->heads);
        if (!c->heads)
            abort();
    }
    c->heads[c->nheads++] = (head){ t, size };
}

static uint64_t frames, bytes;

/* Reads what fd has; returns 0, or -1 when the connection ended. */
static int on_readable(client *c)
{
    uint8_t buf[1 << 16];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        bytes += (uint64_t)n;
        int64_t t = now_us();
        size_t off = 0;
        if (c->state == 0) {
            size_t before = c->hlen;
            size_t k = (size_t)n < sizeof c->hbuf - 1 - c->hlen ? (size_t)n : sizeof c->hbuf - 1 - c->hlen;
            memcpy(c->hbuf + c->hlen, buf, k);
            c->hlen += k;
            c->hbuf[c->hlen] = 0;
            char *end = strstr(c->hbuf, "\r\n\r\n");
            if (!end)
                continue;
            if (strncmp(c->hbuf, "HTTP/1.1 101", 12)) {
                fprintf(stderr, "bench_ws: handshake refused: %.80s\n", c->hbuf);
                return -1;
            }
            off = (size_t)(end + 4 - c->hbuf) - before;   /* the frames start here in buf */
            c->state = 1;
        }
        for (;;) {
            size_t used;
            rt_ws_event ev;
            int rc = rt_ws_parse(&c->p, buf + off, (size_t)n - off, &used, &ev);
            off += used;
            if (rc == RT_WS_MORE)
                break;
            if (rc == RT_WS_ERROR) {
                fprintf(stderr, "bench_ws: bad frame: %s\n", c->p.reason);
                return -1;
            }
            if (ev.type == RT_WS_EV_FRAME && ev.op != RT_WS_OP_CONT) {
                c->text = ev.op == RT_WS_OP_TEXT;
                c->nfirst = c->nlast = 0;
            } else if (ev.type == RT_WS_EV_DATA) {
                size_t k = sizeof c->first - c->nfirst < ev.len ? sizeof c->first - c->nfirst : (size_t)ev.len;
                memcpy(c->first + c->nfirst, ev.data, k);
                c->nfirst += k;
                /* the last bytes: shift in the new ones */
                size_t m = ev.len < sizeof c->last ? (size_t)ev.len : sizeof c->last;
                if (c->nlast + m > sizeof c->last) {
                    size_t drop = c->nlast + m - sizeof c->last;
                    memmove(c->last, c->last + drop, c->nlast - drop);
                    c->nlast -= drop;
                }
                memcpy(c->last + c->nlast, ev.data + ev.len - m, m);
                c->nlast += m;
            } else if (ev.type == RT_WS_EV_FRAME_END && ev.fin) {
                frames++;
                message_done(c, t);
            } else if (ev.type == RT_WS_EV_CONTROL && ev.op == RT_WS_OP_CLOSE) {
                c->close_code = ev.code;
                return -1;
            }
        }
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Where the probe entries are in the log (GET /receipts/:id/proof). */
static void locate_probes(void)
{
    int fd = connect_to();
    char req[256], out[16384];
    for (int i = 0; fd >= 0 && i < atomic_load(&nprobes); i++) {
        for (int tries = 0; tries < 50 && !probes[i].have_leaf; tries++) {
            snprintf(req, sizeof req, "GET /receipts/%s/proof HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", probes[i].receipt);
            if (http(fd, req, out, sizeof out))
                break;
            char *l = strstr(out, "\"leafIndex\":");
            if (l) {
                probes[i].leaf = strtoull(l + 12, NULL, 10);
                probes[i].have_leaf = 1;
            } else {
                usleep(100000);   /* not sequenced yet */
            }
        }
    }
    if (fd >= 0)
        close(fd);
}

/* Waits up to ms for frames and reads them; clients whose connection ended
 * are closed (their code noted).  Returns 1 when standard input (watched
 * with data.ptr NULL) says "go" or ends. */
static int closed;
static unsigned codes[4096];
static int pump(int ep, int ms)
{
    struct epoll_event evs[256];
    int k = epoll_wait(ep, evs, 256, ms), go = 0;
    for (int i = 0; i < k; i++) {
        client *c = evs[i].data.ptr;
        if (!c) {
            char line[64];
            go = !fgets(line, sizeof line, stdin) || !strncmp(line, "go", 2);
            continue;
        }
        if (c->state != 2 && on_readable(c) < 0) {
            c->state = 2;
            close(c->fd);
            closed++;
            codes[c->close_code < 4096 ? c->close_code : 0]++;
        }
    }
    return go;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_ws PORT CLIENTS MODE SECONDS PROBES_PER_S\n");
        return 2;
    }
    port = atoi(argv[1]);
    int n = atoi(argv[2]), secs = atoi(argv[4]);
    const char *mode = argv[3];
    probe_rate = atoi(argv[5]) > 0 ? atoi(argv[5]) : 1;
    client *cs = calloc((size_t)(n > 0 ? n : 1), sizeof *cs);
    int ep = epoll_create1(0);
    if (!cs || ep < 0 || n <= 0 || secs <= 0)
        return 2;
    char hs[512];
    int hn = snprintf(hs, sizeof hs, "GET /ws?entries=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "Sec-WebSocket-Version: 13\r\n\r\n", mode, port);
    int64_t deadline = now_us() + 30 * 1000000LL;
    for (int i = 0; i < n; i++) {
        cs[i].fd = connect_to();
        if (cs[i].fd < 0 || write(cs[i].fd, hs, (size_t)hn) != hn)
            return 1;
        fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
        rt_ws_init(&cs[i].p, RT_WS_CLIENT, 1 << 30);
        struct epoll_event e = { .events = EPOLLIN, .data.ptr = &cs[i] };
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
        if (i % 64 == 63)
            pump(ep, 0);   /* read as they come, not all at the end */
    }
    int ready = 0;
    while (now_us() < deadline) {
        ready = 0;
        for (int i = 0; i < n; i++)
            ready += cs[i].ready && cs[i].state == 1;
        if (ready == n || closed)
            break;
        pump(ep, 50);
    }
    printf("ready %d\n", ready);
    fflush(stdout);
    /* Reading on, until told to go (the load starts then). */
    struct epoll_event in = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in);
    while (!pump(ep, 1000))
        ;
    epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
    pthread_t pt;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    pthread_create(&pt, NULL, probe_main, NULL);
    int64_t start = now_us(), end = start + (int64_t)secs * 1000000;
    while (now_us() < end)
        pump(ep, 50);
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec)
                 + (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    double cpu_pct = 100.0 * cpu / ((double)(now_us() - start) / 1e6);
    atomic_store(&stop_probes, 1);
    pthread_join(pt, NULL);
    int open_at_end = 0;
    for (int i = 0; i < n; i++)
        open_at_end += cs[i].state == 1;
    /* The heads that cover the last probes. */
    int64_t grace = now_us() + 2000000;
    while (now_us() < grace)
        pump(ep, 50);
    locate_probes();
    size_t nd = 0, missing = 0, cap = (size_t)atomic_load(&nprobes) * (size_t)n + 1;
    int64_t *d = malloc(cap * sizeof *d);
    if (!d)
        return 2;
    for (int p = 0; p < atomic_load(&nprobes); p++) {
        if (!probes[p].have_leaf) {
            missing += (size_t)n;
            continue;
        }
        for (int i = 0; i < n; i++) {
            client *c = &cs[i];
            size_t lo = 0, hi = c->nheads;   /* the first head whose size covers the leaf */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (c->heads[mid].size > probes[p].leaf)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            if (lo == c->nheads) {
                missing++;
                continue;
            }
            int64_t x = c->heads[lo].t_us - probes[p].t_us;
            d[nd++] = x > 0 ? x : 0;
        }
    }
    qsort(d, nd, sizeof *d, cmp_i64);
    double p50 = nd ? d[nd / 2] / 1000.0 : 0, p99 = nd ? d[(size_t)((double)nd * 0.99)] / 1000.0 : 0,
           mx = nd ? d[nd - 1] / 1000.0 : 0;
    printf("BENCHWS clients=%d ready=%d open_at_end=%d closed=%d close_codes=", n, ready, open_at_end, closed);
    int any = 0;
    for (unsigned k = 0; k < 4096; k++)
        if (codes[k])
            printf("%s%u:%u", any++ ? "," : "", k, codes[k]);
    printf("%s frames=%llu mbytes=%.1f cpu_pct=%.0f probes=%d delays=%zu missing=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
           any ? "" : "none", (unsigned long long)frames, (double)bytes / 1048576.0, cpu_pct, atomic_load(&nprobes),
           nd, missing, p50, p99, mx);
    for (int i = 0; i < n; i++) {
        if (cs[i].state != 2)
            close(cs[i].fd);
        free(cs[i].heads);
    }
    free(cs);
    free(d);
    return ready == n && !atomic_load(&probe_errors) ? 0 : 1;
}

/*
 * dstack_stub.c - the stand-in dstack guest agent used by test_rt_tee.c
 * (see dstack_stub.h).  Unix socket only: no network.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "dstack_stub.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LIT(s) (s), (sizeof(s) - 1) /* string literal as (ptr, len) */

enum { EP_QUOTE, EP_KEY, EP_INFO, EP_COUNT };
static const char *const ep_name[EP_COUNT] = {"GetQuote", "GetKey", "Info"};
static const char *const ep_file[EP_COUNT] = {"dstack-getquote-a.json", "dstack-getkey.json",
                                              "dstack-info.json"};

struct dstack_stub {
    char dir[90];
    char sock[108];
    int listen_fd;
    int stop_pipe[2];
    pthread_t thread;

    pthread_mutex_t mu; /* guards everything below */
    dstack_stub_mode mode;
    dstack_stub_framing framing;
    char *file_body[EP_COUNT];
    char *body[EP_COUNT]; /* override, or NULL */
    unsigned requests;
    char last_method[16], last_target[64];
    char *last_body;
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *q = realloc(p, cap);
            if (!q) {
                free(p);
                fclose(f);
                return NULL;
            }
            p = q;
        }
        size_t r = fread(p + n, 1, 4096, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    p[n] = 0;
    return p;
}

/* ---- I/O on one client connection ---------------------------------------- */

/* Waits until fd is readable or the stub is stopping; 1 = readable,
 * 0 = stopping or timed out. */
static int wait_readable(dstack_stub *s, int fd, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop_pipe[0], .events = POLLIN}};
    for (;;) {
        int r = poll(p, 2, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (p[1].revents & POLLIN))
            return 0;
        return 1;
    }
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one request: method, target and body (by Content-Length). */
static int read_request(dstack_stub *s, int fd, char *method, size_t mcap, char *target,
                        size_t tcap, char **body)
{
    char *buf = malloc(65536);
    size_t n = 0;
    char *hend = NULL;
    if (!buf)
        return -1;
    while (!hend) {
        if (n >= 65535 || !wait_readable(s, fd, 10000))
            goto fail;
        ssize_t r = recv(fd, buf + n, 65535 - n, 0);
        if (r <= 0)
            goto fail;
        n += (size_t)r;
        buf[n] = 0;
        hend = strstr(buf, "\r\n\r\n");
    }
    size_t hlen = (size_t)(hend - buf) + 4;
    char fmt[32];
    snprintf(fmt, sizeof fmt, "%%%zus %%%zus", mcap - 1, tcap - 1);
    if (sscanf(buf, fmt, method, target) != 2)
        goto fail;
    size_t clen = 0;
    for (char *l = strstr(buf, "\r\n"); l && l < hend; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
            clen = strtoul(l + 17, NULL, 10);
    if (clen > 60000)
        goto fail;
    while (n < hlen + clen) {
        if (!wait_readable(s, fd, 10000))
            goto fail;
        ssize_t r = recv(fd, buf + n, 65535 - n, 0);
        if (r <= 0)
            goto fail;
        n += (size_t)r;
    }
    *body = strndup(buf + hlen, clen);
    free(buf);
    return *body ? 0 : -1;
fail:
    free(buf);
    return -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Sends body in chunks of uneven sizes; the first size line carries an
 * extension and the end has a trailer field, both of which a client must
 * skip. */
static int send_chunked(int fd, const char *body, size_t n)
{
    static const size_t sizes[] = {1, 7, 300, 4096, 13, 1000};
    char line[64];
    size_t off = 0;
    for (unsigned i = 0; off < n; i++) {
        size_t k = sizes[i % (sizeof sizes / sizeof sizes[0])];
        if (k > n - off)
            k = n - off;
        int l = snprintf(line, sizeof line, i == 0 ? "%zx;stub=1\r\n" : "%zX\r\n", k);
        if (send_all(fd, line, (size_t)l) || send_all(fd, body + off, k) || send_all(fd, "\r\n", 2))
            return -1;
        off += k;
    }
    return send_all(fd, LIT("0\r\nX-Stub-Trailer: 1\r\n\r\n"));
}

static void respond(dstack_stub *s, int fd, dstack_stub_mode mode, dstack_stub_framing framing,
                    const char *target)
{
    char head[256];
    int ep = -1;
    for (int i = 0; i < EP_COUNT; i++)
        if (target[0] == '/' && strcmp(target + 1, ep_name[i]) == 0)
            ep = i;

    pthread_mutex_lock(&s->mu);
    const char *src = ep < 0 ? NULL : s->body[ep] ? s->body[ep] : s->file_body[ep];
    char *body = src ? strdup(src) : NULL;
    pthread_mutex_unlock(&s->mu);

    int status = 200;
    const char *text = body;
    if (ep < 0) {
        status = 404;
        text = "{\"error\":\"stub: no such method\"}";
    } else if (mode == DSTACK_STUB_STATUS_500) {
        status = 500;
        text = "{\"error\":\"stub: internal error\"}";
    } else if (mode == DSTACK_STUB_BAD_JSON) {
        text = "{\"quote\": \"0400\", this is not json";
    }
    if (!text)
        text = "";
    size_t n = strlen(text);

    switch (mode) {
    case DSTACK_STUB_GARBAGE:
        send_all(fd, LIT("SSH-2.0-notHTTP\r\n\x01\x02\x03\r\n\r\n"));
        break;
    case DSTACK_STUB_HANG:
        /* Hold the connection until the client gives up or the stub stops. */
        while (wait_readable(s, fd, -1)) {
            char tmp[256];
            if (recv(fd, tmp, sizeof tmp, 0) <= 0)
                break;
        }
        break;
    case DSTACK_STUB_CLOSE:
        break;
    case DSTACK_STUB_TRUNCATED: {
        if (framing == DSTACK_STUB_CHUNKED) {
            /* one chunk of half the body, then the connection ends */
            int l = snprintf(head, sizeof head,
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
                             n / 2 + 1);
            if (send_all(fd, head, (size_t)l) == 0)
                send_all(fd, text, n / 2);
            break;
        }
        int l = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         n);
        if (send_all(fd, head, (size_t)l) == 0)
            send_all(fd, text, n / 2);
        break;
    }
    case DSTACK_STUB_TRICKLE: {
        int l = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         n);
        for (int i = 0; i < l; i++) {
            struct pollfd p = {.fd = s->stop_pipe[0], .events = POLLIN};
            if (poll(&p, 1, 0) > 0 || send_all(fd, head + i, 1) != 0)
                break;
            sleep_ms(20);
        }
        break;
    }
    default: {
        const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found"
                                                                   : "Internal Server Error";
        if (status == 200 && framing == DSTACK_STUB_CHUNKED) {
            int l = snprintf(head, sizeof head,
                             "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             "transfer-encoding: chunked\r\n\r\n");
            if (send_all(fd, head, (size_t)l) == 0)
                send_chunked(fd, text, n);
        } else if (status == 200 && framing == DSTACK_STUB_EOF) {
            int l = snprintf(head, sizeof head,
                             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Connection: close\r\n\r\n");
            if (send_all(fd, head, (size_t)l) == 0)
                send_all(fd, text, n);
        } else {
            int l = snprintf(head, sizeof head,
                             "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                             "Content-Length: %zu\r\n\r\n",
                             status, reason, n);
            if (send_all(fd, head, (size_t)l) == 0)
                send_all(fd, text, n);
        }
        break;
    }
    }
    free(body);
}

static void *serve(void *arg)
{
    dstack_stub *s = arg;
    for (;;) {
        if (!wait_readable(s, s->listen_fd, -1))
            break;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        char method[16], target[64], *body = NULL;
        if (read_request(s, fd, method, sizeof method, target, sizeof target, &body) == 0) {
            pthread_mutex_lock(&s->mu);
            s->requests++;
            memcpy(s->last_method, method, sizeof method);
            memcpy(s->last_target, target, sizeof target);
            free(s->last_body);
            s->last_body = body;
            dstack_stub_mode mode = s->mode;
            dstack_stub_framing framing = s->framing;
            pthread_mutex_unlock(&s->mu);
            respond(s, fd, mode, framing, target);
        }
        close(fd);
    }
    return NULL;
}

/* ---- public API ----------------------------------------------------------- */

dstack_stub *dstack_stub_start(const char *data_dir)
{
    dstack_stub *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->listen_fd = -1;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    pthread_mutex_init(&s->mu, NULL);
    for (int i = 0; i < EP_COUNT; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", data_dir, ep_file[i]);
        s->file_body[i] = slurp(path);
        if (!s->file_body[i]) {
            fprintf(stderr, "dstack_stub: cannot read %s\n", path);
            goto fail;
        }
    }
    /* sun_path is short: use TMPDIR only if the socket path fits. */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || strlen(tmp) > 60)
        tmp = "/tmp";
    snprintf(s->dir, sizeof s->dir, "%s/rt_tee_stub.XXXXXX", tmp);
    if (!mkdtemp(s->dir)) {
        fprintf(stderr, "dstack_stub: mkdtemp: %s\n", strerror(errno));
        goto fail;
    }
    snprintf(s->sock, sizeof s->sock, "%s/dstack.sock", s->dir);

    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, s->sock, strlen(s->sock) + 1);
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(s->listen_fd, 8) != 0 || pipe2(s->stop_pipe, O_CLOEXEC) != 0) {
        fprintf(stderr, "dstack_stub: socket setup: %s\n", strerror(errno));
        goto fail;
    }
    if (pthread_create(&s->thread, NULL, serve, s) != 0) {
        fprintf(stderr, "dstack_stub: pthread_create failed\n");
        goto fail;
    }
    return s;
fail:
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stop_pipe[0] >= 0) {
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
    }
    if (s->sock[0])
        unlink(s->sock);
    if (s->dir[0] && !strstr(s->dir, "XXXXXX"))
        rmdir(s->dir);
    for (int i = 0; i < EP_COUNT; i++)
        free(s->file_body[i]);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
}

void dstack_stub_stop(dstack_stub *s)
{
    if (!s)
        return;
    (void)!write(s->stop_pipe[1], "x", 1);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    unlink(s->sock);
    rmdir(s->dir);
    for (int i = 0; i < EP_COUNT; i++) {
        free(s->file_body[i]);
        free(s->body[i]);
    }
    free(s->last_body);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const char *dstack_stub_socket(const dstack_stub *s)
{
    return s->sock;
}

void dstack_stub_set_mode(dstack_stub *s, dstack_stub_mode mode)
{
    pthread_mutex_lock(&s->mu);
    s->mode = mode;
    pthread_mutex_unlock(&s->mu);
}

void dstack_stub_set_framing(dstack_stub *s, dstack_stub_framing framing)
{
    pthread_mutex_lock(&s->mu);
    s->framing = framing;
    pthread_mutex_unlock(&s->mu);
}

void dstack_stub_set_body(dstack_stub *s, const char *endpoint, const char *body)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < EP_COUNT; i++)
        if (strcmp(endpoint, ep_name[i]) == 0) {
            free(s->body[i]);
            s->body[i] = body ? strdup(body) : NULL;
        }
    pthread_mutex_unlock(&s->mu);
}

unsigned dstack_stub_requests(dstack_stub *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void dstack_stub_last_request(dstack_stub *s, char *method, size_t mcap, char *target,
                              size_t tcap, char *body, size_t bcap)
{
    pthread_mutex_lock(&s->mu);
    snprintf(method, mcap, "%s", s->last_method);
    snprintf(target, tcap, "%s", s->last_target);
    snprintf(body, bcap, "%s", s->last_body ? s->last_body : "");
    pthread_mutex_unlock(&s->mu);
}

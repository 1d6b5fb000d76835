/*
 * fetch.c — the only network client in toyctl: an HTTP/1.1 GET of an
 * instance's metadata port (/info, /attestation?nonce=...), for
 * compare-instances.  Plain http:// only (the metadata port speaks nothing
 * else; across networks, put it behind a tunnel you trust: what the answer
 * says is verified anyway, from the quote).  One request per connection,
 * "Connection: close"; bodies framed by Content-Length, chunked encoding or
 * the end of the connection; every step bounded by a deadline.
 *
 * tests/integration/test_boundary.sh allows this object, and no other of
 * toyctl's, to open connections.
 */
#include "toyctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define MAX_RESPONSE (16u << 20)

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits until fd is ready for ev or the deadline passes: 1, 0 on timeout. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = { .fd = fd, .events = ev };
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return 0;
    }
}

int tc_url_parse(const char *url, int *tls, char *host, size_t hostcap, char *port, size_t portcap, char *base,
                 size_t basecap)
{
    size_t skip = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!skip)
        return -1;
    *tls = skip == 8;
    const char *h = url + skip, *hp = h, *pp = NULL;
    size_t hl = strcspn(h, "/"), hostl;
    if (h[0] == '[') { /* [IPv6]:port */
        const char *rb = memchr(h, ']', hl);
        if (!rb)
            return -1;
        hp = h + 1;
        hostl = (size_t)(rb - hp);
        if (rb + 1 < h + hl) {
            if (rb[1] != ':')
                return -1;
            pp = rb + 2;
        }
    } else {
        const char *c = memchr(h, ':', hl);
        hostl = c ? (size_t)(c - h) : hl;
        pp = c ? c + 1 : NULL;
    }
    size_t pl = pp ? (size_t)(h + hl - pp) : 0;
    if (hostl == 0 || hostl >= hostcap || (pp && (pl == 0 || pl >= portcap || strspn(pp, "0123456789") < pl)))
        return -1;
    memcpy(host, hp, hostl);
    host[hostl] = 0;
    if (pp) {
        memcpy(port, pp, pl);
        port[pl] = 0;
    } else {
        snprintf(port, portcap, "%s", *tls ? "443" : "80");
    }
    const char *b = h + hl;
    size_t bl = strlen(b);
    while (bl && b[bl - 1] == '/')
        bl--;
    if (bl >= basecap || strpbrk(b, " \r\n?#"))
        return -1;
    memcpy(base, b, bl);
    base[bl] = 0;
    return 0;
}

/* Decodes a chunked body in place; returns its length or -1. */
static long dechunk(char *b, size_t n)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        if (in >= n)
            return -1;
        unsigned long size = strtoul(b + in, &end, 16);
        char *crlf = memmem(b + in, n - in, "\r\n", 2);
        if (!crlf || end == b + in || end > crlf || size > n)
            return -1;
        in = (size_t)(crlf - b) + 2;
        if (size == 0)
            return (long)out;
        if (n - in < size + 2 || b[in + size] != '\r' || b[in + size + 1] != '\n')
            return -1;
        memmove(b + out, b + in, size);
        out += size;
        in += size + 2;
    }
}

/* One connection: a socket, and a TLS session over it for https. */
typedef struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int64_t deadline;
} conn;

static void conn_close(conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
}

/* The OpenSSL error queue's first reason, for messages. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "connection closed";
}

/* Waits for what SSL wants (or for ev on a plain socket); 0 on timeout. */
static int conn_wait(conn *c, int rc, short ev)
{
    if (c->ssl) {
        int e = SSL_get_error(c->ssl, rc);
        if (e == SSL_ERROR_WANT_READ)
            ev = POLLIN;
        else if (e == SSL_ERROR_WANT_WRITE)
            ev = POLLOUT;
        else
            return -1;
    }
    return wait_fd(c->fd, ev, c->deadline);
}

/* TLS over the connected socket: the server's certificate must verify for
 * host.  Returns 0, or -1 with err set. */
static int conn_tls(conn *c, const char *host, char *err, size_t errcap)
{
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    if (!(c->ctx = SSL_CTX_new(TLS_client_method())) ||
        SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_default_verify_paths(c->ctx) != 1 || !(c->ssl = SSL_new(c->ctx)) ||
        SSL_set_fd(c->ssl, c->fd) != 1 ||
        (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1
               : (SSL_set_tlsext_host_name(c->ssl, host) != 1 || SSL_set1_host(c->ssl, host) != 1))) {
        snprintf(err, errcap, "TLS setup failed: %s", ssl_reason());
        return -1;
    }
    SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    for (;;) {
        int rc = SSL_connect(c->ssl);
        if (rc == 1)
            return 0;
        int w = conn_wait(c, rc, 0);
        if (w <= 0) {
            long v = SSL_get_verify_result(c->ssl);
            if (v != X509_V_OK)
                snprintf(err, errcap, "TLS: the server's certificate does not verify for %s: %s", host,
                         X509_verify_cert_error_string(v));
            else
                snprintf(err, errcap, "TLS handshake with %s: %s", host, w == 0 ? "timed out" : ssl_reason());
            return -1;
        }
    }
}

/* Sends all of b[0..n).  Returns 0, or -1 with err set. */
static int conn_send(conn *c, const char *b, size_t n, const char *url, char *err, size_t errcap)
{
    size_t sent = 0;
    while (sent < n) {
        long w = c->ssl ? SSL_write(c->ssl, b + sent, (int)(n - sent))
                        : (long)send(c->fd, b + sent, n - sent, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (!c->ssl && !(errno == EAGAIN || errno == EINTR)) {
            snprintf(err, errcap, "%s: send: %s", url, strerror(errno));
            return -1;
        }
        if (conn_wait(c, (int)w, POLLOUT) <= 0) {
            snprintf(err, errcap, "%s: cannot send the request (%s)", url, c->ssl ? ssl_reason() : "timed out");
            return -1;
        }
    }
    return 0;
}

/* Receives up to cap bytes: their count, 0 at the end, -1 with err set. */
static long conn_recv(conn *c, char *b, size_t cap, const char *url, int timeout_ms, char *err, size_t errcap)
{
    for (;;) {
        long r = c->ssl ? SSL_read(c->ssl, b, (int)cap) : (long)recv(c->fd, b, cap, 0);
        if (r > 0)
            return r;
        if (c->ssl && SSL_get_error(c->ssl, (int)r) == SSL_ERROR_ZERO_RETURN)
            return 0;
        if (!c->ssl && r == 0)
            return 0;
        if (!c->ssl && !(errno == EAGAIN || errno == EINTR)) {
            snprintf(err, errcap, "%s: recv: %s", url, strerror(errno));
            return -1;
        }
        int w = conn_wait(c, (int)r, POLLIN);
        if (w == 0) {
            snprintf(err, errcap, "%s: timed out after %d ms", url, timeout_ms);
            return -1;
        }
        if (w < 0) {
            /* A TLS peer that closes without close_notify ends the body too
             * when the framing says where it ends; the caller checks that. */
            return 0;
        }
    }
}

int tc_http_get(const char *url, const char *path, int timeout_ms, tc_http_response *res, char *err,
                size_t errcap)
{
    char host[256], port[8], base[512];
    int tls;
    memset(res, 0, sizeof *res);
    if (tc_url_parse(url, &tls, host, sizeof host, port, sizeof port, base, sizeof base) != 0) {
        snprintf(err, errcap, "%s: not an http(s)://HOST[:PORT][/PATH] URL", url);
        return -1;
    }
    conn c = { .fd = -1, .deadline = now_ms() + timeout_ms };
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errcap, "%s: %s", host, gai_strerror(gai));
        return -1;
    }
    for (struct addrinfo *a = ai; a && c.fd < 0; a = a->ai_next) {
        c.fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (c.fd < 0)
            continue;
        if (connect(c.fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            snprintf(err, errcap, "connect to %s:%s: %s", host, port, strerror(errno));
            close(c.fd);
            c.fd = -1;
            continue;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (!wait_fd(c.fd, POLLOUT, c.deadline) || getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
            snprintf(err, errcap, "connect to %s:%s: %s", host, port, soerr ? strerror(soerr) : "timed out");
            close(c.fd);
            c.fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (c.fd < 0)
        return -1;
    if (tls && conn_tls(&c, host, err, errcap) != 0) {
        conn_close(&c);
        return -1;
    }

    char req[1024];
    int rl = snprintf(req, sizeof req,
                      "GET %s%s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: toyctl\r\nAccept: application/json\r\n"
                      "Connection: close\r\n\r\n",
                      base, path, host, port);
    if (rl < 0 || (size_t)rl >= sizeof req) {
        snprintf(err, errcap, "request path too long");
        conn_close(&c);
        return -1;
    }
    if (conn_send(&c, req, (size_t)rl, url, err, errcap) != 0) {
        conn_close(&c);
        return -1;
    }

    size_t cap = 16384, n = 0;
    char *buf = malloc(cap);
    int rc = -1;
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= MAX_RESPONSE) {
                snprintf(err, errcap, "%s: response larger than %u bytes", url, MAX_RESPONSE);
                goto out;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        long r = conn_recv(&c, buf + n, cap - 1 - n, url, timeout_ms, err, errcap);
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (!buf) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    buf[n] = 0;
    char *hend = strstr(buf, "\r\n\r\n");
    int major, minor, status;
    if (!hend || sscanf(buf, "HTTP/%d.%d %d", &major, &minor, &status) != 3) {
        snprintf(err, errcap, "%s: not an HTTP response", url);
        goto out;
    }
    *hend = 0;
    char *body = hend + 4;
    size_t bn = n - (size_t)(body - buf);
    /* Header fields: Content-Length and Transfer-Encoding. */
    long clen = -1;
    int chunked = 0;
    for (char *line = strstr(buf, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        char *f = line + 2;
        if (strncasecmp(f, "content-length:", 15) == 0)
            clen = strtol(f + 15, NULL, 10);
        else if (strncasecmp(f, "transfer-encoding:", 18) == 0 && strstr(f + 18, "chunked"))
            chunked = 1;
    }
    if (chunked) {
        long dn = dechunk(body, bn);
        if (dn < 0) {
            snprintf(err, errcap, "%s: malformed chunked body", url);
            goto out;
        }
        bn = (size_t)dn;
    } else if (clen >= 0) {
        if ((size_t)clen > bn) {
            snprintf(err, errcap, "%s: body ends after %zu of %ld bytes", url, bn, clen);
            goto out;
        }
        bn = (size_t)clen;
    }
    res->status = status;
    res->body = malloc(bn + 1);
    if (!res->body) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    memcpy(res->body, body, bn);
    res->body[bn] = 0;
    res->len = bn;
    rc = 0;
out:
    free(buf);
    conn_close(&c);
    return rc;
}

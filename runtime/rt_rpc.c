/*
 * rt_rpc.c — the Ethereum JSON-RPC client; see rt_rpc.h.
 *
 * The only chain-facing file with sockets: test_boundary.sh allows this
 * object (and no other chain code) to reference connect, socket and
 * getaddrinfo.  Protocols followed: HTTP/1.1 (RFC 9112: status line,
 * Content-Length or chunked framing, persistent connections), JSON-RPC 2.0,
 * and the Ethereum execution API's encodings (ethereum/execution-apis:
 * quantities and data as 0x-prefixed hex).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rt_rpc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "rt_hex.h"

#define MAX_HEAD 16384

struct rt_rpc {
    char *url, *ca_file;
    int tls;
    char host[256], port[8], path[1024];
    int timeout_ms;
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int reused;                  /* the open connection already served a call */
    struct timespec deadline;
    uint64_t next_id;
    int err;
    char errbuf[512];
    long rpc_code;
    uint8_t *revert;
    size_t revert_n;
    char *rx;                    /* receive buffer */
    size_t rx_n, rx_cap;
};

static int fail(rt_rpc *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(rt_rpc *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errbuf, sizeof c->errbuf, fmt, ap);
    va_end(ap);
    c->err = code;
    return code;
}

/* ---- URL ---------------------------------------------------------------- */

static int parse_url(rt_rpc *c, const char *url, char *err, size_t errlen)
{
    const char *p;
    if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        p = url + 8;
        c->tls = 1;
    } else {
        snprintf(err, errlen, "chain RPC URL %s: not http:// or https://", url);
        return -1;
    }
    const char *host_end, *rest;
    if (*p == '[') {                              /* an IPv6 literal */
        host_end = strchr(p, ']');
        if (!host_end) {
            snprintf(err, errlen, "chain RPC URL %s: unclosed [ in the host", url);
            return -1;
        }
        rest = host_end + 1;
        p++;
    } else {
        host_end = p + strcspn(p, ":/?#");
        rest = host_end;
    }
    size_t hl = (size_t)(host_end - p);
    if (hl == 0 || hl >= sizeof c->host) {
        snprintf(err, errlen, "chain RPC URL %s: no host, or a host too long", url);
        return -1;
    }
    memcpy(c->host, p, hl);
    c->host[hl] = 0;
    snprintf(c->port, sizeof c->port, "%s", c->tls ? "443" : "80");
    if (*rest == ':') {
        size_t pl = strspn(rest + 1, "0123456789");
        long port = pl && pl <= 5 ? strtol(rest + 1, NULL, 10) : 0;
        if (port < 1 || port > 65535) {
            snprintf(err, errlen, "chain RPC URL %s: bad port", url);
            return -1;
        }
        snprintf(c->port, sizeof c->port, "%ld", port);
        rest += 1 + pl;
    }
    if (*rest && *rest != '/') {
        snprintf(err, errlen, "chain RPC URL %s: unexpected text after the host", url);
        return -1;
    }
    const char *path = *rest ? rest : "/";
    if (strlen(path) >= sizeof c->path || strpbrk(path, " \r\n#")) {
        snprintf(err, errlen, "chain RPC URL %s: path too long or with spaces", url);
        return -1;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    return 0;
}

rt_rpc *rt_rpc_open(const char *url, const char *ca_file, char *err, size_t errlen)
{
    rt_rpc *c = calloc(1, sizeof *c);
    if (!c || !url || !(c->url = strdup(url)) || (ca_file && !(c->ca_file = strdup(ca_file)))) {
        snprintf(err, errlen, c && !url ? "no chain RPC URL" : "out of memory");
        rt_rpc_close(c);
        return NULL;
    }
    c->fd = -1;
    c->timeout_ms = RT_RPC_TIMEOUT_MS_DEFAULT;
    c->next_id = 1;
    if (parse_url(c, url, err, errlen) != 0) {
        rt_rpc_close(c);
        return NULL;
    }
    return c;
}

static void conn_close(rt_rpc *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->reused = 0;
}

void rt_rpc_close(rt_rpc *c)
{
    if (!c)
        return;
    conn_close(c);
    SSL_CTX_free(c->ctx);
    free(c->url);
    free(c->ca_file);
    free(c->revert);
    free(c->rx);
    free(c);
}

void rt_rpc_set_timeout_ms(rt_rpc *c, int ms)
{
    c->timeout_ms = ms < 1 ? 1 : ms > 600000 ? 600000 : ms;
}

const char *rt_rpc_url(const rt_rpc *c) { return c->url; }
int rt_rpc_errcode(const rt_rpc *c) { return c->err; }
const char *rt_rpc_error(const rt_rpc *c) { return c->errbuf; }
long rt_rpc_rpc_code(const rt_rpc *c) { return c->rpc_code; }

const uint8_t *rt_rpc_revert_data(const rt_rpc *c, size_t *n)
{
    *n = c->revert_n;
    return c->revert;
}

/* ---- the connection, with one deadline per call ------------------------- */

static long ms_left(const rt_rpc *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (c->deadline.tv_sec - now.tv_sec) * 1000L + (c->deadline.tv_nsec - now.tv_nsec) / 1000000L;
}

/* Socket timeouts = what is left of the deadline, so that a blocking read
 * or write (plain or TLS) returns by then. */
static int arm(rt_rpc *c, const char *doing)
{
    long left = ms_left(c);
    if (left <= 0)
        return fail(c, RT_RPC_E_IO, "%s: no answer from %s within %d ms while %s", c->url, c->host,
                    c->timeout_ms, doing);
    struct timeval tv = { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return 0;
}

static int connect_one(rt_rpc *c, const struct addrinfo *ai, char *why, size_t whylen)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    for (;;) {
        long left = ms_left(c);
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int r = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
            snprintf(why, whylen, "%s", r <= 0 ? "timed out" : strerror(soerr ? soerr : errno));
            close(fd);
            return -1;
        }
        break;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    /* Requests are small and answered at once: no Nagle delay. */
    int one = 1;
    if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int tls_fail(rt_rpc *c, const char *doing)
{
    char e[256] = "unknown error";
    unsigned long code = ERR_get_error();
    if (code)
        ERR_error_string_n(code, e, sizeof e);
    long vr = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    ERR_clear_error();
    return fail(c, RT_RPC_E_CONNECT, "%s: TLS %s failed: %s%s%s", c->url, doing, e,
                vr != X509_V_OK ? "; certificate: " : "",
                vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
}

static int conn_open(rt_rpc *c)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    int gai = getaddrinfo(c->host, c->port, &hints, &res);
    if (gai != 0)
        return fail(c, RT_RPC_E_CONNECT, "%s: cannot resolve %s: %s", c->url, c->host,
                    gai_strerror(gai));
    char why[160] = "no address";
    for (struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next)
        c->fd = connect_one(c, ai, why, sizeof why);
    freeaddrinfo(res);
    if (c->fd < 0)
        return fail(c, RT_RPC_E_CONNECT, "%s: cannot connect to %s port %s: %s", c->url, c->host,
                    c->port, why);
    c->reused = 0;
    if (!c->tls)
        return 0;
    if (!c->ctx) {
        c->ctx = SSL_CTX_new(TLS_client_method());
        if (!c->ctx || SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1)
            return tls_fail(c, "setup");
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        if ((c->ca_file ? SSL_CTX_load_verify_locations(c->ctx, c->ca_file, NULL)
                        : SSL_CTX_set_default_verify_paths(c->ctx)) != 1)
            return tls_fail(c, c->ca_file ? "CA file loading" : "CA store loading");
    }
    /* The certificate must name the host: a DNS name (sent as SNI too), or
     * an IP address in an IP subjectAltName (RFC 6066 sends no SNI for it). */
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, c->host, ip) == 1 || inet_pton(AF_INET6, c->host, ip) == 1;
    if (!(c->ssl = SSL_new(c->ctx)) || SSL_set_fd(c->ssl, c->fd) != 1 ||
        (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host) != 1
               : SSL_set_tlsext_host_name(c->ssl, c->host) != 1 || SSL_set1_host(c->ssl, c->host) != 1))
        return tls_fail(c, "setup");
    if (arm(c, "connecting") != 0)
        return c->err;
    if (SSL_connect(c->ssl) != 1)
        return tls_fail(c, "handshake");
    return 0;
}

static int io_write(rt_rpc *c, const char *p, size_t n)
{
    while (n) {
        if (arm(c, "sending") != 0)
            return c->err;
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)(n > 1 << 30 ? 1 << 30 : n))
                           : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && !c->ssl && errno == EINTR)
            continue;
        if (w <= 0)
            return fail(c, RT_RPC_E_IO, "%s: sending failed: %s", c->url,
                        c->ssl ? "TLS write error" : strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sends a then b, as one segment when they fit (head and body of a request). */
static int io_write2(rt_rpc *c, const char *a, size_t na, const char *b, size_t nb)
{
    char buf[8192];
    if (na + nb > sizeof buf)
        return io_write(c, a, na) == 0 ? io_write(c, b, nb) : c->err;
    memcpy(buf, a, na);
    memcpy(buf + na, b, nb);
    return io_write(c, buf, na + nb);
}

/* Reads more bytes into c->rx.  Returns the count, 0 at end of stream, or
 * -1 with the error set. */
static ssize_t io_read(rt_rpc *c)
{
    if (c->rx_n + 65536 + 1 > c->rx_cap) {
        if (c->rx_n > RT_RPC_MAX_RESPONSE) {
            fail(c, RT_RPC_E_HTTP, "%s: answer larger than %u bytes", c->url, RT_RPC_MAX_RESPONSE);
            return -1;
        }
        size_t cap = c->rx_cap ? c->rx_cap * 2 : 131072;
        char *p = realloc(c->rx, cap);
        if (!p) {
            fail(c, RT_RPC_E_NOMEM, "out of memory");
            return -1;
        }
        c->rx = p;
        c->rx_cap = cap;
    }
    for (;;) {
        if (arm(c, "reading the answer") != 0)
            return -1;
        ssize_t r;
        if (c->ssl) {
            int k = SSL_read(c->ssl, c->rx + c->rx_n, 65536);
            int e = k > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, k);
            ERR_clear_error();
            /* A close_notify, or a peer that just closed: the end of the stream. */
            if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
                r = 0;
            else if (e != SSL_ERROR_NONE)
                r = -1;
            else
                r = k;
        } else {
            r = recv(c->fd, c->rx + c->rx_n, 65536, 0);
            if (r < 0 && errno == EINTR)
                continue;
        }
        if (r < 0) {
            int timed_out = errno == EAGAIN || errno == EWOULDBLOCK || ms_left(c) <= 0;
            fail(c, RT_RPC_E_IO, "%s: reading failed: %s", c->url,
                 timed_out ? "timed out" : c->ssl ? "TLS read error" : strerror(errno));
            return -1;
        }
        c->rx_n += (size_t)r;
        c->rx[c->rx_n] = 0;
        return r;
    }
}

/* Makes c->rx hold at least n bytes; 0, or -1 (error set, also at a
 * premature end of stream). */
static int need(rt_rpc *c, size_t n)
{
    while (c->rx_n < n) {
        ssize_t r = io_read(c);
        if (r < 0)
            return -1;
        if (r == 0) {
            fail(c, RT_RPC_E_IO, "%s: the node closed the connection in the middle of an answer",
                 c->url);
            return -1;
        }
    }
    return 0;
}

/* The end of the line starting at c->rx + at (the offset of its CR LF),
 * reading more as needed; -1 with the error set. */
static long line_end(rt_rpc *c, size_t at, size_t limit)
{
    for (size_t scan = at;;) {
        char *nl = c->rx_n > scan ? memchr(c->rx + scan, '\n', c->rx_n - scan) : NULL;
        if (nl) {
            size_t e = (size_t)(nl - c->rx);
            if (e == at || c->rx[e - 1] != '\r') {
                fail(c, RT_RPC_E_HTTP, "%s: a line of the answer does not end in CR LF", c->url);
                return -1;
            }
            return (long)(e - 1);
        }
        scan = c->rx_n;
        if (scan - at > limit) {
            fail(c, RT_RPC_E_HTTP, "%s: a line of the answer is too long", c->url);
            return -1;
        }
        if (need(c, c->rx_n + 1) != 0)
            return -1;
    }
}

/* Reads one HTTP response.  On success the body is c->rx[*body_at ..
 * *body_at + *body_len) (de-chunked in place), *status is the status code
 * and *keep says whether the connection may serve another request. */
static int read_response(rt_rpc *c, int *status, size_t *body_at, size_t *body_len, int *keep)
{
    c->rx_n = 0;
    size_t at = 0;
    long e;
    int chunked, have_len, http10;
    size_t clen;
    for (;;) {                                  /* skip interim 1xx answers */
        if ((e = line_end(c, at, MAX_HEAD)) < 0)
            return c->err;
        const char *s = c->rx + at;
        if ((size_t)e - at < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') ||
            s[8] != ' ' || !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) ||
            !isdigit((unsigned char)s[11]))
            return fail(c, RT_RPC_E_HTTP, "%s: the answer is not HTTP/1.x", c->url);
        http10 = s[7] == '0';
        *status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
        *keep = !http10;
        chunked = have_len = 0;
        clen = 0;
        at = (size_t)e + 2;
        for (;;) {                              /* header fields */
            if ((e = line_end(c, at, MAX_HEAD)) < 0)
                return c->err;
            if ((size_t)e == at) {
                at += 2;
                break;
            }
            char *f = c->rx + at, *colon = memchr(f, ':', (size_t)e - at);
            if (!colon || colon == f)
                return fail(c, RT_RPC_E_HTTP, "%s: a malformed header field in the answer", c->url);
            char *v = colon + 1, *ve = c->rx + e;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t nl = (size_t)(colon - f), vl = (size_t)(ve - v);
            if (nl == 14 && strncasecmp(f, "Content-Length", 14) == 0) {
                size_t n = 0, i = 0;
                for (; i < vl && isdigit((unsigned char)v[i]) && n <= RT_RPC_MAX_RESPONSE; i++)
                    n = n * 10 + (size_t)(v[i] - '0');
                if (i == 0 || i != vl || n > RT_RPC_MAX_RESPONSE || (have_len && n != clen))
                    return fail(c, RT_RPC_E_HTTP, "%s: a bad Content-Length in the answer", c->url);
                have_len = 1;
                clen = n;
            } else if (nl == 17 && strncasecmp(f, "Transfer-Encoding", 17) == 0) {
                if (vl < 7 || strncasecmp(ve - 7, "chunked", 7) != 0)
                    return fail(c, RT_RPC_E_HTTP, "%s: unsupported Transfer-Encoding", c->url);
                chunked = 1;
            } else if (nl == 10 && strncasecmp(f, "Connection", 10) == 0) {
                if (vl == 5 && strncasecmp(v, "close", 5) == 0)
                    *keep = 0;
                else if (vl == 10 && strncasecmp(v, "keep-alive", 10) == 0)
                    *keep = 1;
            }
            at = (size_t)e + 2;
        }
        if (*status >= 200)
            break;
    }
    *body_at = at;
    if (chunked) {
        /* Chunks are moved down over their size lines, so the body ends
         * up contiguous at *body_at. */
        size_t out = at;
        for (;;) {
            if ((e = line_end(c, at, 1024)) < 0)
                return c->err;
            size_t size = 0, i = at;
            for (; i < (size_t)e && isxdigit((unsigned char)c->rx[i]); i++) {
                size = size * 16 + (size_t)rt_hex_digit((unsigned char)c->rx[i]);
                if (size > RT_RPC_MAX_RESPONSE)
                    return fail(c, RT_RPC_E_HTTP, "%s: a chunk too large", c->url);
            }
            if (i == at || (i < (size_t)e && c->rx[i] != ';' && c->rx[i] != ' '))
                return fail(c, RT_RPC_E_HTTP, "%s: a malformed chunk size", c->url);
            at = (size_t)e + 2;
            if (size == 0)
                break;
            if (need(c, at + size + 2) != 0)
                return c->err;
            if (c->rx[at + size] != '\r' || c->rx[at + size + 1] != '\n')
                return fail(c, RT_RPC_E_HTTP, "%s: a chunk not followed by CR LF", c->url);
            memmove(c->rx + out, c->rx + at, size);
            out += size;
            at += size + 2;
        }
        for (;;) {                              /* trailer fields, ignored */
            if ((e = line_end(c, at, MAX_HEAD)) < 0)
                return c->err;
            int last = (size_t)e == at;
            at = (size_t)e + 2;
            if (last)
                break;
        }
        *body_len = out - *body_at;
    } else if (have_len) {
        if (need(c, at + clen) != 0)
            return c->err;
        *body_len = clen;
    } else {
        *keep = 0;                              /* the body runs to the end of the stream */
        ssize_t r;
        while ((r = io_read(c)) > 0)
            ;
        if (r < 0)
            return c->err;
        *body_len = c->rx_n - at;
    }
    c->rx[*body_at + *body_len] = 0;
    return 0;
}

/* POSTs body and leaves the answer's body in c->rx.  A kept-alive
 * connection that the node closed meanwhile fails before any answer
 * arrives; the request is then sent once more on a new connection (every
 * call here is idempotent: sending the same signed transaction twice is
 * the same transaction). */
static int post(rt_rpc *c, const char *body, size_t n, size_t *body_at, size_t *body_len)
{
    char head[1600];
    int hl = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: toyapp-rt-rpc\r\n"
                      "Content-Type: application/json\r\nAccept: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      c->path, strchr(c->host, ':') ? "[" : "", c->host,
                      strchr(c->host, ':') ? "]" : "",
                      strcmp(c->port, c->tls ? "443" : "80") ? ":" : "",
                      strcmp(c->port, c->tls ? "443" : "80") ? c->port : "", n);
    for (int attempt = 0;; attempt++) {
        int fresh = c->fd < 0;
        if (fresh && conn_open(c) != 0) {
            conn_close(c);
            return c->err;
        }
        int status = 0, keep = 0;
        c->rx_n = 0;
        if (io_write2(c, head, (size_t)hl, body, n) == 0 &&
            read_response(c, &status, body_at, body_len, &keep) == 0) {
            if (!keep)
                conn_close(c);
            else
                c->reused = 1;
            if (status != 200) {
                char ex[120];
                size_t k = 0;
                for (; k < *body_len && k < sizeof ex - 1; k++)
                    ex[k] = isprint((unsigned char)c->rx[*body_at + k]) ? c->rx[*body_at + k] : '.';
                ex[k] = 0;
                return fail(c, RT_RPC_E_HTTP, "%s: HTTP status %d%s%s", c->url, status,
                            k ? ": " : "", ex);
            }
            return 0;
        }
        int stale = !fresh && c->rx_n == 0 && c->err == RT_RPC_E_IO && ms_left(c) > 0;
        conn_close(c);
        if (!stale || attempt > 0)
            return c->err;
    }
}

/* ---- JSON-RPC ------------------------------------------------------------ */

static void clear_error(rt_rpc *c)
{
    c->err = 0;
    c->errbuf[0] = 0;
    c->rpc_code = 0;
    free(c->revert);
    c->revert = NULL;
    c->revert_n = 0;
}

static int revert_data(rt_rpc *c, json_object *data)
{
    json_object *inner;
    if (data && json_object_is_type(data, json_type_object) &&
        json_object_object_get_ex(data, "data", &inner))
        data = inner;                             /* {"data": {"data": "0x..."}} */
    if (!data || !json_object_is_type(data, json_type_string))
        return 0;
    const char *s = json_object_get_string(data);
    size_t n = (size_t)json_object_get_string_len(data);
    if (n < 2 || s[0] != '0' || s[1] != 'x' || n % 2)
        return 0;
    c->revert_n = (n - 2) / 2;
    c->revert = malloc(c->revert_n ? c->revert_n : 1);
    if (!c->revert || rt_hex_decode(s + 2, n - 2, c->revert, c->revert_n) != 0) {
        free(c->revert);
        c->revert = NULL;
        c->revert_n = 0;
        return 0;
    }
    return 1;
}

/* Calls method; *result is the "result" member, a reference the caller
 * puts (json_object_put) — it may be a JSON null. */
static int call(rt_rpc *c, const char *method, json_object *params, json_object **result)
{
    clear_error(c);
    *result = NULL;
    clock_gettime(CLOCK_MONOTONIC, &c->deadline);
    c->deadline.tv_sec += c->timeout_ms / 1000;
    c->deadline.tv_nsec += (long)(c->timeout_ms % 1000) * 1000000L;
    if (c->deadline.tv_nsec >= 1000000000L) {
        c->deadline.tv_sec++;
        c->deadline.tv_nsec -= 1000000000L;
    }
    uint64_t id = c->next_id++;
    json_object *req = json_object_new_object();
    if (!req) {
        json_object_put(params);
        return fail(c, RT_RPC_E_NOMEM, "out of memory");
    }
    json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
    json_object_object_add(req, "id", json_object_new_int64((int64_t)id));
    json_object_object_add(req, "method", json_object_new_string(method));
    json_object_object_add(req, "params", params ? params : json_object_new_array());
    size_t n;
    const char *text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    size_t at, len;
    int rc = text ? post(c, text, n, &at, &len) : fail(c, RT_RPC_E_NOMEM, "out of memory");
    json_object_put(req);
    if (rc != 0)
        return rc;

    json_tokener *tok = json_tokener_new();
    json_object *resp = tok ? json_tokener_parse_ex(tok, c->rx + at, (int)len) : NULL, *v, *e;
    int ok = resp && json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    if (!ok || !json_object_is_type(resp, json_type_object)) {
        json_object_put(resp);
        return fail(c, RT_RPC_E_JSON, "%s: %s: the answer is not a JSON-RPC object", c->url, method);
    }
    if (!json_object_object_get_ex(resp, "id", &v) || !json_object_is_type(v, json_type_int) ||
        (uint64_t)json_object_get_int64(v) != id) {
        json_object_put(resp);
        return fail(c, RT_RPC_E_JSON, "%s: %s: the answer's id is not the request's", c->url, method);
    }
    if (json_object_object_get_ex(resp, "error", &e) && !json_object_is_type(e, json_type_null)) {
        json_object *code = NULL, *msg = NULL, *data = NULL;
        if (json_object_is_type(e, json_type_object)) {
            json_object_object_get_ex(e, "code", &code);
            json_object_object_get_ex(e, "message", &msg);
            json_object_object_get_ex(e, "data", &data);
        }
        c->rpc_code = code ? (long)json_object_get_int64(code) : 0;
        const char *m = msg && json_object_is_type(msg, json_type_string) ? json_object_get_string(msg)
                                                                           : "(no message)";
        int reverted = c->rpc_code == 3 || strstr(m, "revert") != NULL;
        if (reverted)
            revert_data(c, data);
        fail(c, reverted ? RT_RPC_E_REVERT : RT_RPC_E_RPC, "%s: %s: error %ld: %.300s", c->url, method,
             c->rpc_code, m);
        json_object_put(resp);
        return c->err;
    }
    if (!json_object_object_get_ex(resp, "result", &v)) {
        json_object_put(resp);
        return fail(c, RT_RPC_E_JSON, "%s: %s: the answer has neither result nor error", c->url,
                    method);
    }
    *result = json_object_get(v);   /* may be NULL: a JSON null */
    json_object_put(resp);
    return 0;
}

int rt_rpc_call_raw(rt_rpc *c, const char *method, const char *params, char **result)
{
    *result = NULL;
    json_object *p = json_tokener_parse(params);
    if (!p || !json_object_is_type(p, json_type_array)) {
        json_object_put(p);
        clear_error(c);
        return fail(c, RT_RPC_E_JSON, "%s: params must be a JSON array", method);
    }
    json_object *r;
    int rc = call(c, method, p, &r);
    if (rc != 0)
        return rc;
    const char *s = r ? json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN) : "null";
    *result = strdup(s);
    json_object_put(r);
    return *result ? 0 : fail(c, RT_RPC_E_NOMEM, "out of memory");
}

/* ---- Ethereum encodings -------------------------------------------------- */

static json_object *hex_value(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    if (!s)
        return NULL;
    s[0] = '0';
    s[1] = 'x';
    rt_hex_encode(p, n, s + 2);
    json_object *o = json_object_new_string(s);
    free(s);
    return o;
}

static json_object *quantity(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
    return json_object_new_string(s);
}

/* The member `key` of o as a string, or NULL. */
static const char *member_str(json_object *o, const char *key, size_t *n)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    if (n)
        *n = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

/* A quantity ("0x" and 1..64 hex digits) into 32 big-endian bytes. */
static int parse_u256(const char *s, size_t n, uint8_t out[32])
{
    if (!s || n < 3 || n > 66 || s[0] != '0' || s[1] != 'x')
        return -1;
    memset(out, 0, 32);
    for (size_t i = 2; i < n; i++) {
        int d = rt_hex_digit((unsigned char)s[i]);
        if (d < 0)
            return -1;
        size_t nib = n - 1 - i;                 /* nibble index from the right */
        out[31 - nib / 2] |= (uint8_t)(nib % 2 ? d << 4 : d);
    }
    return 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *v)
{
    uint8_t b[32];
    return parse_u256(s, n, b) == 0 ? rt_eth_u256_u64(b, v) : -1;
}

/* "0x" and an even number of hex digits into a malloc'd buffer. */
static int parse_data(const char *s, size_t n, uint8_t **out, size_t *len)
{
    if (!s || n < 2 || s[0] != '0' || s[1] != 'x' || n % 2)
        return -1;
    size_t bn = (n - 2) / 2;
    uint8_t *b = malloc(bn ? bn : 1);
    if (!b || rt_hex_decode(s + 2, n - 2, b, bn) != 0) {
        free(b);
        return -1;
    }
    *out = b;
    *len = bn;
    return 0;
}

static int parse_fixed(const char *s, size_t n, uint8_t *out, size_t len)
{
    return s && n == 2 + 2 * len && s[0] == '0' && s[1] == 'x' ? rt_hex_decode(s + 2, n - 2, out, len)
                                                                : -1;
}

static int m_u64(json_object *o, const char *key, uint64_t *v)
{
    size_t n = 0;
    const char *s = member_str(o, key, &n);
    return parse_u64(s, n, v);
}

static int m_u256(json_object *o, const char *key, uint8_t out[32])
{
    size_t n = 0;
    const char *s = member_str(o, key, &n);
    return parse_u256(s, n, out);
}

static int m_fixed(json_object *o, const char *key, uint8_t *out, size_t len)
{
    size_t n = 0;
    const char *s = member_str(o, key, &n);
    return parse_fixed(s, n, out, len);
}

static int bad_result(rt_rpc *c, const char *method, const char *what)
{
    return fail(c, RT_RPC_E_JSON, "%s: %s: unexpected result (%s)", c->url, method, what);
}

/* Calls a method whose result is a quantity. */
static int call_u64(rt_rpc *c, const char *method, json_object *params, uint64_t *v)
{
    json_object *r;
    int rc = call(c, method, params, &r);
    if (rc != 0)
        return rc;
    size_t n = r && json_object_is_type(r, json_type_string) ? (size_t)json_object_get_string_len(r) : 0;
    rc = parse_u64(n ? json_object_get_string(r) : NULL, n, v) == 0 ? 0
                                                                  : bad_result(c, method, "not a quantity");
    json_object_put(r);
    return rc;
}

/* Calls a method whose result is data. */
static int call_data(rt_rpc *c, const char *method, json_object *params, uint8_t **out, size_t *len)
{
    json_object *r;
    int rc = call(c, method, params, &r);
    if (rc != 0)
        return rc;
    size_t n = r && json_object_is_type(r, json_type_string) ? (size_t)json_object_get_string_len(r) : 0;
    rc = parse_data(n ? json_object_get_string(r) : NULL, n, out, len) == 0
             ? 0 : bad_result(c, method, "not hex data");
    json_object_put(r);
    return rc;
}

static json_object *params_of(json_object *a, json_object *b)
{
    json_object *p = json_object_new_array();
    if (p && a)
        json_object_array_add(p, a);
    if (p && b)
        json_object_array_add(p, b);
    return p;
}

int rt_rpc_chain_id(rt_rpc *c, uint64_t *id) { return call_u64(c, "eth_chainId", NULL, id); }
int rt_rpc_block_number(rt_rpc *c, uint64_t *n) { return call_u64(c, "eth_blockNumber", NULL, n); }
int rt_rpc_gas_price(rt_rpc *c, uint64_t *wei) { return call_u64(c, "eth_gasPrice", NULL, wei); }

int rt_rpc_max_priority_fee(rt_rpc *c, uint64_t *wei)
{
    return call_u64(c, "eth_maxPriorityFeePerGas", NULL, wei);
}

int rt_rpc_nonce(rt_rpc *c, const uint8_t addr[RT_ETH_ADDR_LEN], const char *block, uint64_t *n)
{
    return call_u64(c, "eth_getTransactionCount",
                    params_of(hex_value(addr, RT_ETH_ADDR_LEN), json_object_new_string(block)), n);
}

int rt_rpc_balance(rt_rpc *c, const uint8_t addr[RT_ETH_ADDR_LEN], uint8_t wei[32])
{
    json_object *r;
    int rc = call(c, "eth_getBalance",
                  params_of(hex_value(addr, RT_ETH_ADDR_LEN), json_object_new_string("latest")), &r);
    if (rc != 0)
        return rc;
    size_t n = r && json_object_is_type(r, json_type_string) ? (size_t)json_object_get_string_len(r) : 0;
    rc = parse_u256(n ? json_object_get_string(r) : NULL, n, wei) == 0
             ? 0 : bad_result(c, "eth_getBalance", "not a quantity");
    json_object_put(r);
    return rc;
}

int rt_rpc_get_block(rt_rpc *c, const char *tag, uint64_t number, rt_rpc_block *b)
{
    json_object *r;
    memset(b, 0, sizeof *b);
    int rc = call(c, "eth_getBlockByNumber",
                  params_of(tag ? json_object_new_string(tag) : quantity(number),
                            json_object_new_boolean(0)), &r);
    if (rc != 0)
        return rc;
    if (!r) {
        return 0;                                /* no such block */
    }
    if (m_u64(r, "number", &b->number) || m_u64(r, "timestamp", &b->timestamp) ||
        m_fixed(r, "hash", b->hash, 32)) {
        json_object_put(r);
        return bad_result(c, "eth_getBlockByNumber", "number, timestamp or hash missing");
    }
    b->has_base_fee = m_u64(r, "baseFeePerGas", &b->base_fee) == 0;
    b->found = 1;
    json_object_put(r);
    return 0;
}

static json_object *call_object(const uint8_t *from, const uint8_t *to, const uint8_t *data, size_t n)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    if (from)
        json_object_object_add(o, "from", hex_value(from, RT_ETH_ADDR_LEN));
    if (to)
        json_object_object_add(o, "to", hex_value(to, RT_ETH_ADDR_LEN));
    json_object_object_add(o, "data", hex_value(data, n));
    return o;
}

int rt_rpc_estimate_gas(rt_rpc *c, const uint8_t from[RT_ETH_ADDR_LEN], const uint8_t *to,
                        const uint8_t *data, size_t n, uint64_t *gas)
{
    return call_u64(c, "eth_estimateGas", params_of(call_object(from, to, data, n), NULL), gas);
}

int rt_rpc_eth_call(rt_rpc *c, const uint8_t *from, const uint8_t to[RT_ETH_ADDR_LEN],
                    const uint8_t *data, size_t n, uint8_t **out, size_t *out_len)
{
    return call_data(c, "eth_call",
                     params_of(call_object(from, to, data, n), json_object_new_string("latest")), out,
                     out_len);
}

int rt_rpc_get_code(rt_rpc *c, const uint8_t addr[RT_ETH_ADDR_LEN], uint8_t **code, size_t *n)
{
    return call_data(c, "eth_getCode",
                     params_of(hex_value(addr, RT_ETH_ADDR_LEN), json_object_new_string("latest")),
                     code, n);
}

int rt_rpc_send_raw(rt_rpc *c, const uint8_t *raw, size_t n, uint8_t hash[32])
{
    json_object *r;
    int rc = call(c, "eth_sendRawTransaction", params_of(hex_value(raw, n), NULL), &r);
    if (rc != 0)
        return rc;
    size_t sn = r && json_object_is_type(r, json_type_string) ? (size_t)json_object_get_string_len(r) : 0;
    rc = parse_fixed(sn ? json_object_get_string(r) : NULL, sn, hash, 32) == 0
             ? 0 : bad_result(c, "eth_sendRawTransaction", "not a transaction hash");
    json_object_put(r);
    return rc;
}

void rt_rpc_logs_free(rt_rpc_log *logs, size_t n)
{
    for (size_t i = 0; logs && i < n; i++)
        free(logs[i].data);
    free(logs);
}

/* Parses a JSON array of logs. */
static int parse_logs(rt_rpc *c, const char *method, json_object *arr, rt_rpc_log **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!arr || !json_object_is_type(arr, json_type_array))
        return bad_result(c, method, "logs are not an array");
    size_t n = json_object_array_length(arr);
    rt_rpc_log *logs = calloc(n ? n : 1, sizeof *logs);
    if (!logs)
        return fail(c, RT_RPC_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i), *t, *rm;
        rt_rpc_log *l = &logs[i];
        size_t dn = 0;
        const char *d = member_str(o, "data", &dn);
        if (m_fixed(o, "address", l->address, RT_ETH_ADDR_LEN) ||
            m_u64(o, "blockNumber", &l->block_number) || m_u64(o, "logIndex", &l->log_index) ||
            m_fixed(o, "transactionHash", l->tx_hash, 32) ||
            m_fixed(o, "blockHash", l->block_hash, 32) || parse_data(d, dn, &l->data, &l->data_len) ||
            !json_object_object_get_ex(o, "topics", &t) || !json_object_is_type(t, json_type_array) ||
            json_object_array_length(t) > 4) {
            rt_rpc_logs_free(logs, n);
            return bad_result(c, method, "a malformed log");
        }
        l->ntopics = (int)json_object_array_length(t);
        for (int k = 0; k < l->ntopics; k++) {
            json_object *tk = json_object_array_get_idx(t, (size_t)k);
            if (!json_object_is_type(tk, json_type_string) ||
                parse_fixed(json_object_get_string(tk), (size_t)json_object_get_string_len(tk),
                            l->topics[k], 32) != 0) {
                rt_rpc_logs_free(logs, n);
                return bad_result(c, method, "a malformed log topic");
            }
        }
        l->removed = json_object_object_get_ex(o, "removed", &rm) && json_object_get_boolean(rm);
    }
    *out = logs;
    *nout = n;
    return 0;
}

void rt_rpc_receipt_free(rt_rpc_receipt *r)
{
    rt_rpc_logs_free(r->logs, r->nlogs);
    r->logs = NULL;
    r->nlogs = 0;
}

int rt_rpc_receipt_get(rt_rpc *c, const uint8_t hash[32], rt_rpc_receipt *r)
{
    json_object *o, *logs;
    uint64_t status;
    memset(r, 0, sizeof *r);
    int rc = call(c, "eth_getTransactionReceipt", params_of(hex_value(hash, 32), NULL), &o);
    if (rc != 0 || !o)
        return rc;                               /* no receipt yet: found = 0 */
    if (m_u64(o, "status", &status) || status > 1 || m_u64(o, "blockNumber", &r->block_number) ||
        m_fixed(o, "blockHash", r->block_hash, 32) || m_u64(o, "gasUsed", &r->gas_used) ||
        m_fixed(o, "from", r->from, RT_ETH_ADDR_LEN) ||
        !json_object_object_get_ex(o, "logs", &logs)) {
        json_object_put(o);
        return bad_result(c, "eth_getTransactionReceipt", "status, block, gasUsed, from or logs");
    }
    r->status = (int)status;
    if (m_u64(o, "effectiveGasPrice", &r->effective_gas_price))
        r->effective_gas_price = 0;
    r->has_contract = m_fixed(o, "contractAddress", r->contract_address, RT_ETH_ADDR_LEN) == 0;
    rc = parse_logs(c, "eth_getTransactionReceipt", logs, &r->logs, &r->nlogs);
    json_object_put(o);
    if (rc == 0)
        r->found = 1;
    return rc;
}

void rt_rpc_tx_free(rt_rpc_tx *t)
{
    free((void *)t->tx.data);
    t->tx.data = NULL;
}

int rt_rpc_tx_get(rt_rpc *c, const uint8_t hash[32], rt_rpc_tx *t)
{
    json_object *o, *al, *to;
    uint64_t type, parity;
    memset(t, 0, sizeof *t);
    int rc = call(c, "eth_getTransactionByHash", params_of(hex_value(hash, 32), NULL), &o);
    if (rc != 0 || !o)
        return rc;
    if (m_u64(o, "type", &type) || m_fixed(o, "hash", t->hash, 32) ||
        m_fixed(o, "from", t->from, RT_ETH_ADDR_LEN)) {
        json_object_put(o);
        return bad_result(c, "eth_getTransactionByHash", "type, hash or from");
    }
    t->type = (int)type;
    t->mined = m_u64(o, "blockNumber", &t->block_number) == 0;
    t->found = 1;
    if (type != 2) {
        json_object_put(o);
        return 0;                                /* reported, not decoded */
    }
    uint8_t *data = NULL;
    size_t in = 0;
    const char *input = member_str(o, "input", &in);
    rt_eth_tx *x = &t->tx;
    if (m_u64(o, "chainId", &x->chain_id) || m_u64(o, "nonce", &x->nonce) ||
        m_u64(o, "maxPriorityFeePerGas", &x->max_priority_fee) ||
        m_u64(o, "maxFeePerGas", &x->max_fee) || m_u64(o, "gas", &x->gas_limit) ||
        m_u256(o, "value", x->value) || parse_data(input, in, &data, &x->data_len) ||
        m_u256(o, "r", t->sig.r) || m_u256(o, "s", t->sig.s) ||
        (m_u64(o, "yParity", &parity) && m_u64(o, "v", &parity)) || parity > 1) {
        free(data);
        json_object_put(o);
        t->found = 0;
        return bad_result(c, "eth_getTransactionByHash", "a type-2 field is missing or malformed");
    }
    x->data = data;
    t->sig.y_parity = (int)parity;
    x->has_to = json_object_object_get_ex(o, "to", &to) && !json_object_is_type(to, json_type_null);
    if (x->has_to && m_fixed(o, "to", x->to, RT_ETH_ADDR_LEN)) {
        rt_rpc_tx_free(t);
        json_object_put(o);
        t->found = 0;
        return bad_result(c, "eth_getTransactionByHash", "to");
    }
    t->has_access_list = json_object_object_get_ex(o, "accessList", &al) &&
                         json_object_is_type(al, json_type_array) && json_object_array_length(al) > 0;
    json_object_put(o);
    return 0;
}

int rt_rpc_get_logs(rt_rpc *c, const uint8_t address[RT_ETH_ADDR_LEN], uint64_t from, uint64_t to,
                    const uint8_t topic0[32], const uint8_t *topic1, rt_rpc_log **logs, size_t *n)
{
    *logs = NULL;
    *n = 0;
    json_object *f = json_object_new_object(), *topics = json_object_new_array(), *r;
    if (!f || !topics) {
        json_object_put(f);
        json_object_put(topics);
        clear_error(c);
        return fail(c, RT_RPC_E_NOMEM, "out of memory");
    }
    json_object_object_add(f, "address", hex_value(address, RT_ETH_ADDR_LEN));
    json_object_object_add(f, "fromBlock", quantity(from));
    json_object_object_add(f, "toBlock", to == UINT64_MAX ? json_object_new_string("latest") : quantity(to));
    json_object_array_add(topics, hex_value(topic0, 32));
    if (topic1)
        json_object_array_add(topics, hex_value(topic1, 32));
    json_object_object_add(f, "topics", topics);
    int rc = call(c, "eth_getLogs", params_of(f, NULL), &r);
    if (rc != 0)
        return rc;
    rc = parse_logs(c, "eth_getLogs", r, logs, n);
    json_object_put(r);
    return rc;
}

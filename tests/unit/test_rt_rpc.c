/*
 * test_rt_rpc.c — unit tests for runtime/rt_rpc, the JSON-RPC client,
 * against a stub HTTP server on 127.0.0.1 run by a thread of this process:
 * each test queues the exact bytes of the answers, so framing (Content-
 * Length, chunked, to the end of the stream, interim 1xx), persistent and
 * closed connections, and every kind of bad answer are exercised.  The
 * client against a real node is tested in tests/integration/test_chain.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_hex.h"
#include "rt_rpc.h"
#include "rt_txsend.h"

/* ---- the stub server --------------------------------------------------- */

#define MAX_ANSWERS 32

typedef struct stub {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    /* Answers, in order: the bytes to send, and whether to close after. */
    char *answer[MAX_ANSWERS];
    int close_after[MAX_ANSWERS];
    int hang[MAX_ANSWERS];         /* read the request, never answer */
    int nanswers, next;
    int accepts, requests;
    char last_request[4096];
    int stop;
} stub;

static stub S;

/* Reads one request (head and Content-Length body).  0 at end of stream. */
static int read_request(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            return 0;
        n += (size_t)r;
        buf[n] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    const char *cl = strstr(buf, "Content-Length: ");
    size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
    while (n < want && n < cap - 1) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            return 0;
        n += (size_t)r;
        buf[n] = 0;
    }
    return 1;
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(S.lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_mutex_lock(&S.mu);
        int stop = S.stop;
        S.accepts++;
        pthread_mutex_unlock(&S.mu);
        if (stop) {
            close(fd);
            return NULL;
        }
        char req[4096];
        while (read_request(fd, req, sizeof req)) {
            pthread_mutex_lock(&S.mu);
            S.requests++;
            snprintf(S.last_request, sizeof S.last_request, "%s", req);
            int k = S.next < S.nanswers ? S.next++ : -1;
            pthread_mutex_unlock(&S.mu);
            if (k < 0)
                break;
            if (S.hang[k]) {
                char sink[256];
                while (recv(fd, sink, sizeof sink, 0) > 0)
                    ;
                break;
            }
            send(fd, S.answer[k], strlen(S.answer[k]), MSG_NOSIGNAL);
            if (S.close_after[k])
                break;
        }
        close(fd);
    }
}

static int stub_setup(void **state)
{
    (void)state;
    memset(&S, 0, sizeof S);
    pthread_mutex_init(&S.mu, NULL);
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (S.lfd < 0 || bind(S.lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(S.lfd, 8) != 0 ||
        getsockname(S.lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    S.port = ntohs(a.sin_port);
    return pthread_create(&S.th, NULL, serve, NULL);
}

static int stub_teardown(void **state)
{
    (void)state;
    pthread_mutex_lock(&S.mu);
    S.stop = 1;
    pthread_mutex_unlock(&S.mu);
    /* Wake accept() with a connection of our own. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)S.port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    pthread_join(S.th, NULL);
    close(S.lfd);
    for (int i = 0; i < S.nanswers; i++)
        free(S.answer[i]);
    return 0;
}

/* Queues an answer: a JSON body framed with Content-Length (framed = 0),
 * or the raw bytes given (framed = 1). */
static void answer(const char *text, int raw, int close_after)
{
    pthread_mutex_lock(&S.mu);
    assert_true(S.nanswers < MAX_ANSWERS);
    char *a = malloc(strlen(text) + 256);
    if (raw)
        strcpy(a, text);
    else
        sprintf(a, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                strlen(text), text);
    S.answer[S.nanswers] = a;
    S.close_after[S.nanswers] = close_after;
    S.nanswers++;
    pthread_mutex_unlock(&S.mu);
}

static void answer_hang(void)
{
    answer("", 1, 1);
    S.hang[S.nanswers - 1] = 1;
}

static rt_rpc *client(const char *path)
{
    char url[128], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", S.port, path);
    rt_rpc *c = rt_rpc_open(url, NULL, err, sizeof err);
    if (!c)
        fail_msg("rt_rpc_open: %s", err);
    return c;
}

#define ID1 "\"jsonrpc\":\"2.0\",\"id\":1"
#define ID2 "\"jsonrpc\":\"2.0\",\"id\":2"

/* ---- tests --------------------------------------------------------------- */

static void test_request_and_keep_alive(void **state)
{
    (void)state;
    rt_rpc *c = client("/v1/key");
    uint64_t v;
    answer("{" ID1 ",\"result\":\"0x7a69\"}", 0, 0);
    answer("{" ID2 ",\"result\":\"0x10\"}", 0, 0);
    assert_int_equal(rt_rpc_chain_id(c, &v), 0);
    assert_true(v == 31337);
    const char *r = S.last_request;
    assert_non_null(strstr(r, "POST /v1/key HTTP/1.1\r\n"));
    assert_non_null(strstr(r, "Host: 127.0.0.1:"));
    assert_non_null(strstr(r, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(r, "\"method\":\"eth_chainId\""));
    assert_non_null(strstr(r, "\"params\":[]"));
    assert_int_equal(rt_rpc_block_number(c, &v), 0);
    assert_int_equal(v, 16);
    assert_int_equal(S.accepts, 1);   /* one connection for both */
    rt_rpc_close(c);
}

static void test_framings(void **state)
{
    (void)state;
    rt_rpc *c = client("");
    uint64_t v;
    /* Chunked, uneven chunks, an extension and a trailer; after a 100. */
    answer("HTTP/1.1 100 Continue\r\n\r\n"
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5;ext=1\r\n{\"jso\r\n1a\r\nnrpc\":\"2.0\",\"id\":1,\"result\r\n9\r\n\":\"0x2a\"}\r\n"
           "0\r\nX-Trailer: 1\r\n\r\n", 1, 0);
    assert_int_equal(rt_rpc_chain_id(c, &v), 0);
    assert_int_equal(v, 42);
    assert_non_null(strstr(S.last_request, "POST / HTTP/1.1"));
    /* Neither length nor chunks: the body ends with the connection. */
    answer("HTTP/1.0 200 OK\r\n\r\n{" ID2 ",\"result\":\"0x2b\"}", 1, 1);
    assert_int_equal(rt_rpc_chain_id(c, &v), 0);
    assert_int_equal(v, 43);
    rt_rpc_close(c);
}

/* A kept-alive connection the server closed: the call is sent again on a
 * new one.  "Connection: close" makes the client open a new one itself. */
static void test_reconnects(void **state)
{
    (void)state;
    rt_rpc *c = client("/");
    uint64_t v;
    answer("{" ID1 ",\"result\":\"0x1\"}", 0, 1);     /* closes without saying so */
    answer("{" ID2 ",\"result\":\"0x2\"}", 0, 0);
    assert_int_equal(rt_rpc_chain_id(c, &v), 0);
    usleep(50000);
    assert_int_equal(rt_rpc_chain_id(c, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(S.accepts, 2);
    /* The server says it closes, and leaves the socket open: the client
     * does not wait for the next answer there. */
    answer("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 39\r\n\r\n"
           "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"0x3\"}", 1, 0);
    answer("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":\"0x4\"}", 0, 0);
    assert_int_equal(rt_rpc_chain_id(c, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(rt_rpc_chain_id(c, &v), 0);
    assert_int_equal(v, 4);
    assert_int_equal(S.accepts, 3);
    rt_rpc_close(c);
}

static void expect(rt_rpc *c, int code, const char *needle)
{
    uint64_t v;
    int rc = rt_rpc_chain_id(c, &v);
    if (rc != code || !strstr(rt_rpc_error(c), needle))
        fail_msg("got %d \"%s\", expected %d with \"%s\"", rc, rt_rpc_error(c), code, needle);
    assert_int_equal(rt_rpc_errcode(c), code);
}

static void test_bad_answers(void **state)
{
    (void)state;
    rt_rpc *c = client("/");
    answer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", 1, 0);
    expect(c, RT_RPC_E_HTTP, "HTTP status 503: busy");
    answer("SSH-2.0-OpenSSH\r\n\r\n", 1, 1);
    expect(c, RT_RPC_E_HTTP, "not HTTP/1.x");
    answer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"", 1, 1);
    expect(c, RT_RPC_E_IO, "closed the connection in the middle");
    answer("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 1, 1);
    expect(c, RT_RPC_E_HTTP, "bad Content-Length");
    answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1, 1);
    expect(c, RT_RPC_E_HTTP, "malformed chunk size");
    answer("HTTP/1.1 200 OK\nContent-Length: 2\n\n{}", 1, 1);
    expect(c, RT_RPC_E_HTTP, "CR LF");
    answer("[1,2]", 0, 0);
    expect(c, RT_RPC_E_JSON, "not a JSON-RPC object");
    answer("{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":\"0x1\"}", 0, 0);
    expect(c, RT_RPC_E_JSON, "id is not the request's");
    answer("{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":12}", 0, 0);
    expect(c, RT_RPC_E_JSON, "not a quantity");
    answer("{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":\"0x10000000000000000\"}", 0, 0);
    expect(c, RT_RPC_E_JSON, "not a quantity");
    answer("{\"jsonrpc\":\"2.0\",\"id\":11}", 0, 0);
    expect(c, RT_RPC_E_JSON, "neither result nor error");
    answer("{\"jsonrpc\":\"2.0\",\"id\":12,\"error\":{\"code\":-32601,\"message\":\"method not found\"}}", 0, 0);
    expect(c, RT_RPC_E_RPC, "error -32601: method not found");
    assert_int_equal(rt_rpc_rpc_code(c), -32601);
    rt_rpc_close(c);
}

static void test_revert_data(void **state)
{
    (void)state;
    rt_rpc *c = client("/");
    uint8_t to[20] = { 0 }, *out = NULL;
    size_t n, rn;
    answer("{" ID1 ",\"error\":{\"code\":3,\"message\":\"execution reverted: custom error\","
           "\"data\":\"0x254cd1af000000000000000000000000000000000000000000000000000000000000000a\"}}", 0, 0);
    assert_int_equal(rt_rpc_eth_call(c, NULL, to, (const uint8_t *)"\x12", 1, &out, &n), RT_RPC_E_REVERT);
    const uint8_t *d = rt_rpc_revert_data(c, &rn);
    assert_int_equal(rn, 36);
    assert_int_equal(d[0], 0x25);
    assert_int_equal(d[35], 0x0a);
    assert_non_null(strstr(S.last_request, "\"data\":\"0x12\""));
    assert_non_null(strstr(S.last_request, "\"latest\""));
    /* A successful call clears it; the result is the return data. */
    answer("{" ID2 ",\"result\":\"0x00ff\"}", 0, 0);
    assert_int_equal(rt_rpc_eth_call(c, NULL, to, NULL, 0, &out, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(out[1], 0xff);
    free(out);
    rt_rpc_revert_data(c, &rn);
    assert_int_equal(rn, 0);
    rt_rpc_close(c);
}

static void test_receipt_and_logs(void **state)
{
    (void)state;
    rt_rpc *c = client("/");
    uint8_t h[32] = { 0 };
    rt_rpc_receipt r;
    answer("{" ID1 ",\"result\":null}", 0, 0);
    assert_int_equal(rt_rpc_receipt_get(c, h, &r), 0);
    assert_int_equal(r.found, 0);
    answer("{" ID2 ",\"result\":{\"status\":\"0x1\",\"blockNumber\":\"0x9\",\"blockHash\":\"0x"
           "1111111111111111111111111111111111111111111111111111111111111111\",\"gasUsed\":\"0x5208\","
           "\"effectiveGasPrice\":\"0x3b9aca00\",\"from\":\"0x00000000000000000000000000000000000000aa\","
           "\"contractAddress\":null,\"logs\":[{\"address\":\"0x00000000000000000000000000000000000000bb\","
           "\"topics\":[\"0x2222222222222222222222222222222222222222222222222222222222222222\"],"
           "\"data\":\"0x0102\",\"blockNumber\":\"0x9\",\"logIndex\":\"0x0\",\"transactionHash\":\"0x"
           "3333333333333333333333333333333333333333333333333333333333333333\",\"blockHash\":\"0x"
           "1111111111111111111111111111111111111111111111111111111111111111\",\"removed\":false}]}}", 0, 0);
    assert_int_equal(rt_rpc_receipt_get(c, h, &r), 0);
    assert_int_equal(r.found, 1);
    assert_int_equal(r.status, 1);
    assert_int_equal(r.block_number, 9);
    assert_int_equal(r.gas_used, 21000);
    assert_int_equal(r.has_contract, 0);
    assert_int_equal(r.nlogs, 1);
    assert_int_equal(r.logs[0].address[19], 0xbb);
    assert_int_equal(r.logs[0].ntopics, 1);
    assert_int_equal(r.logs[0].data_len, 2);
    assert_int_equal(r.logs[0].tx_hash[0], 0x33);
    rt_rpc_receipt_free(&r);
    /* A log with five topics is not a log. */
    answer("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":[{\"address\":\"0x00000000000000000000000000000000000000bb\","
           "\"topics\":[\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\"],\"data\":\"0x\",\"blockNumber\":\"0x9\","
           "\"logIndex\":\"0x0\",\"transactionHash\":\"0x3333333333333333333333333333333333333333333333333333333333333333\","
           "\"blockHash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\"}]}", 0, 0);
    rt_rpc_log *logs;
    size_t n;
    uint8_t addr[20] = { 0 };
    assert_int_equal(rt_rpc_get_logs(c, addr, 5, UINT64_MAX, h, h, &logs, &n), RT_RPC_E_JSON);
    assert_non_null(strstr(S.last_request, "\"fromBlock\":\"0x5\""));
    assert_non_null(strstr(S.last_request, "\"toBlock\":\"latest\""));
    rt_rpc_close(c);
}

/* A wait for a receipt ends at its stop flag, not at its timeout: the
 * poster's waits must not hold up toyapp's stop. */
static void test_wait_until_stop(void **state)
{
    (void)state;
    rt_rpc *c = client("/");
    uint8_t h[32] = { 0 };
    rt_rpc_receipt r;
    for (int i = 1; i <= 12; i++) {
        char a[64];
        snprintf(a, sizeof a, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":null}", i);
        answer(a, 0, 0);
    }
    atomic_int stop = 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(rt_txsend_wait_until(c, h, 60000, &stop, &r), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(r.found, 0);
    assert_int_equal(S.requests, 1);   /* one poll, then the flag */
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    /* Without the flag, it polls until the timeout. */
    assert_int_equal(rt_txsend_wait_until(c, h, 20, NULL, &r), 0);
    assert_int_equal(r.found, 0);
    assert_true(S.requests > 2);
    rt_rpc_close(c);
}

static void test_timeout_and_refused(void **state)
{
    (void)state;
    rt_rpc *c = client("/");
    rt_rpc_set_timeout_ms(c, 300);
    answer_hang();
    expect(c, RT_RPC_E_IO, "timed out");
    rt_rpc_close(c);
    /* Nothing listens on the port the stub is not on: discard (9). */
    char err[256];
    c = rt_rpc_open("http://127.0.0.1:9/", NULL, err, sizeof err);
    assert_non_null(c);
    expect(c, RT_RPC_E_CONNECT, "cannot connect to 127.0.0.1 port 9");
    rt_rpc_close(c);
}

static void test_urls(void **state)
{
    (void)state;
    static const struct { const char *url, *why; } bad[] = {
        { "ftp://127.0.0.1/", "not http:// or https://" }, { "http://", "no host" },
        { "http://127.0.0.1:99999/", "bad port" },          { "http://[::1", "unclosed [" },
        { "http://127.0.0.1:80x/", "unexpected text" },     { "http://h/a b", "path" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rt_rpc *c = rt_rpc_open(bad[i].url, NULL, err, sizeof err);
        assert_null(c);
        if (!strstr(err, bad[i].why))
            fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].url, err, bad[i].why);
    }
    rt_rpc *c = rt_rpc_open("https://[::1]:8443/rpc", NULL, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(rt_rpc_url(c), "https://[::1]:8443/rpc");
    rt_rpc_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_and_keep_alive, stub_setup, stub_teardown),
        cmocka_unit_test_setup_teardown(test_framings, stub_setup, stub_teardown),
        cmocka_unit_test_setup_teardown(test_reconnects, stub_setup, stub_teardown),
        cmocka_unit_test_setup_teardown(test_bad_answers, stub_setup, stub_teardown),
        cmocka_unit_test_setup_teardown(test_revert_data, stub_setup, stub_teardown),
        cmocka_unit_test_setup_teardown(test_receipt_and_logs, stub_setup, stub_teardown),
        cmocka_unit_test_setup_teardown(test_wait_until_stop, stub_setup, stub_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_and_refused, stub_setup, stub_teardown),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * dstack_stub.h - a stand-in for the dstack guest agent, for tests: a tiny
 * HTTP/1.1 server on a Unix socket in a fresh temporary directory, run by a
 * thread of the test process.  It answers POST /GetQuote, /GetKey and /Info
 * with the bodies in tests/data/tee (see its README), and can be told to
 * misbehave in the ways a real agent or a broken socket might.
 *
 * It serves one connection at a time and closes each after one response,
 * which is what the rt_tee client does (Connection: close).
 */
#ifndef DSTACK_STUB_H
#define DSTACK_STUB_H

#include <stddef.h>

typedef struct dstack_stub dstack_stub;

/* What the stub does with the next requests (until changed). */
typedef enum dstack_stub_mode {
    DSTACK_STUB_NORMAL,      /* 200 with the endpoint's body */
    DSTACK_STUB_STATUS_500,  /* 500 with {"error": "stub: internal error"} */
    DSTACK_STUB_GARBAGE,     /* bytes that are not an HTTP response */
    DSTACK_STUB_BAD_JSON,    /* 200 with a body that is not JSON */
    DSTACK_STUB_TRUNCATED,   /* 200, half the body, close (Content-Length = full size;
                                with chunked framing: inside the first chunk) */
    DSTACK_STUB_HANG,        /* read the request, never answer (until the client leaves) */
    DSTACK_STUB_CLOSE,       /* read the request, close without answering */
    DSTACK_STUB_TRICKLE      /* the normal answer, one byte every 20 ms */
} dstack_stub_mode;

/* How a 200 body is framed. */
typedef enum dstack_stub_framing {
    DSTACK_STUB_LENGTH,  /* Content-Length */
    DSTACK_STUB_CHUNKED, /* Transfer-Encoding: chunked, uneven chunk sizes, an
                            extension and a trailer field */
    DSTACK_STUB_EOF      /* neither: the body ends when the connection closes */
} dstack_stub_framing;

/* Starts the stub.  data_dir holds dstack-getquote-a.json,
 * dstack-getkey.json and dstack-info.json.  Returns NULL (after printing why
 * to stderr) on failure. */
dstack_stub *dstack_stub_start(const char *data_dir);

/* Stops the thread, removes the socket and its directory, frees s. */
void dstack_stub_stop(dstack_stub *s);

/* Path of the stub's socket (valid until dstack_stub_stop). */
const char *dstack_stub_socket(const dstack_stub *s);

void dstack_stub_set_mode(dstack_stub *s, dstack_stub_mode mode);
void dstack_stub_set_framing(dstack_stub *s, dstack_stub_framing framing);

/* Replaces the 200 body for endpoint ("GetQuote", "GetKey", "Info") by a
 * copy of body; body NULL restores the one from data_dir. */
void dstack_stub_set_body(dstack_stub *s, const char *endpoint, const char *body);

/* Number of requests received so far. */
unsigned dstack_stub_requests(dstack_stub *s);

/* Copies the request target (e.g. "/GetKey"), method and body of the last
 * request, NUL-terminated and truncated to the capacities given. */
void dstack_stub_last_request(dstack_stub *s, char *method, size_t mcap, char *target,
                              size_t tcap, char *body, size_t bcap);

#endif /* DSTACK_STUB_H */

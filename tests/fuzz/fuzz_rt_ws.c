/*
 * fuzz_rt_ws.c — libFuzzer harness for rt_ws (WebSocket frames in).
 *
 * Input: byte 0 picks the role (bit 0: client, else server) and, with byte
 * 1, the message limit (0 to 65535 bytes); byte 2 picks a cut; the rest is
 * the stream.  It is parsed whole, in two pieces cut there, and one byte at
 * a time: the traces (events, payloads, error, close code, offset) must
 * agree.  An error must carry one of its three close codes and an offset
 * inside the stream.  For a client (unmasked frames), every frame read
 * before the end or the error must be exactly what rt_ws_header and its
 * payload make of it: the parser accepts one encoding of each frame.
 *
 * Built by `make fuzz` (libFuzzer) and, replaying tests/fuzz/corpus/fuzz_rt_ws,
 * by `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt_ws.h"
#include "rt_ws_trace.h"

static char whole[1 << 20], cut[1 << 20];

/* Re-encodes the frames of an unmasked stream from the parser's events and
 * compares them with the bytes they were read from. */
static void reencode(const uint8_t *in, size_t n, uint64_t max)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, in, n);
    rt_ws_parser p;
    rt_ws_init(&p, RT_WS_CLIENT, max);
    size_t off = 0, frame_start = 0;
    for (;;) {
        size_t used;
        rt_ws_event ev;
        int rc = rt_ws_parse(&p, copy + off, n - off, &used, &ev);
        off += used;
        if (rc != RT_WS_EVENT)
            break;
        uint8_t h[RT_WS_HEADER_MAX];
        if (ev.type == RT_WS_EV_FRAME) {
            size_t hn = rt_ws_header(h, ev.op, ev.fin, ev.len, NULL);
            if (off - frame_start != hn || memcmp(in + frame_start, h, hn))
                abort();
        } else if (ev.type == RT_WS_EV_DATA) {
            if (!ev.len || memcmp(ev.data, in + off - ev.len, (size_t)ev.len))
                abort();
        } else if (ev.type == RT_WS_EV_FRAME_END) {
            frame_start = off;
        } else {
            size_t hn = rt_ws_header(h, ev.op, 1, ev.len, NULL);
            if (off - frame_start != hn + ev.len || memcmp(in + frame_start, h, hn)
                || memcmp(in + frame_start + hn, ev.data, (size_t)ev.len))
                abort();
            if (ev.op == RT_WS_OP_CLOSE && ev.len >= 2
                && (!rt_ws_close_code_valid(ev.code) || !rt_ws_utf8_valid((const uint8_t *)ev.reason, ev.reason_len)))
                abort();
            frame_start = off;
        }
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int role = data[0] & 1 ? RT_WS_CLIENT : RT_WS_SERVER;
    uint64_t max = (uint64_t)(data[0] >> 1) << 9 | data[1];
    size_t c = data[2];
    const uint8_t *in = data + 3;
    size_t n = size - 3;
    int e = ws_trace(role, max, in, n, NULL, 0, whole, sizeof whole);
    size_t cuts[1] = { c < n ? c : n };
    ws_trace(role, max, in, n, cuts, 1, cut, sizeof cut);
    if (strcmp(whole, cut))
        abort();
    if (n < 4096) {
        size_t *bytes = malloc((n ? n : 1) * sizeof *bytes);
        if (!bytes)
            abort();
        for (size_t i = 0; i < n; i++)
            bytes[i] = i;
        ws_trace(role, max, in, n, bytes, n, cut, sizeof cut);
        free(bytes);
        if (strcmp(whole, cut))
            abort();
    }
    if (e) {
        rt_ws_parser p;
        rt_ws_init(&p, role, max);
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy)
            abort();
        memcpy(copy, in, n);
        size_t off = 0, used;
        rt_ws_event ev;
        while (rt_ws_parse(&p, copy + off, n - off, &used, &ev) == RT_WS_EVENT)
            off += used;
        free(copy);
        if (!p.reason || p.error_off > n
            || (p.close != RT_WS_CLOSE_PROTOCOL && p.close != RT_WS_CLOSE_INVALID && p.close != RT_WS_CLOSE_TOO_BIG))
            abort();
    }
    if (role == RT_WS_CLIENT)
        reencode(in, n, max);
    return 0;
}

/*
 * fuzz_request.h — the body of every request-parser harness: parse the
 * input whole, then split in two at an offset taken from the input, then
 * byte by byte; all three must agree, and nothing may crash or leak.
 * Each fuzz_req_<name>.c defines SCHEMA and REQ and includes this file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt_parse.h"
#include "toy_spec.h"

static const uint8_t fz_key[32] = { 1, 2, 3 };
static const uint8_t fz_salt[32] = { 4, 5, 6 };

typedef struct { int err; uint64_t pos; REQ out; } fz_result;

static void fz_parse(fz_result *r, const uint8_t *d, size_t n, size_t cut, int bytewise)
{
    rt_parser p;
    rt_parse_ctx ctx = { fz_key, sizeof fz_key, fz_salt, sizeof fz_salt };
    rt_parse_init(&p, &SCHEMA, &r->out, &ctx);
    if (bytewise) {
        for (size_t i = 0; i < n; i++)
            rt_parse_feed(&p, d + i, 1);
    } else {
        rt_parse_feed(&p, d, cut);
        rt_parse_feed(&p, d + cut, n - cut);
    }
    rt_parse_finish(&p);
    r->err = rt_parse_error(&p);
    r->pos = rt_parse_error_pos(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_result a, b, c;
    memset(&a, 0, sizeof a); memset(&b, 0, sizeof b); memset(&c, 0, sizeof c);
    fz_parse(&a, data, size, size, 0);
    fz_parse(&b, data, size, size ? (size_t)data[0] % (size + 1) : 0, 0);
    if (a.err != b.err || a.pos != b.pos || memcmp(&a.out, &b.out, sizeof a.out) != 0)
        abort();
    if (size <= 4096) {
        fz_parse(&c, data, size, 0, 1);
        if (a.err != c.err || a.pos != c.pos || memcmp(&a.out, &c.out, sizeof a.out) != 0)
            abort();
    }
    return 0;
}

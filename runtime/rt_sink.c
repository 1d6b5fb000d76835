/* rt_sink.c — keyed-hash and commitment sinks for field values (see rt_sink.h). */
#include "rt_sink.h"

#include <string.h>

void rt_wipe(void *p, size_t n)
{
    /* A volatile function pointer keeps the store from being optimized out. */
    static void *(*const volatile memset_v)(void *, int, size_t) = memset;
    memset_v(p, 0, n);
}

static uint8_t nibble(uint8_t c)
{
    return (uint8_t)(c <= '9' ? c - '0' : c - 'a' + 10);
}

void rt_sink_begin(uint8_t kind, rt_sink_state *st, const rt_parse_ctx *ctx)
{
    if (kind == RT_SINK_PSEUDONYM) {
        hmac_sha256_set_key(&st->hmac, ctx->pseudonym_key_len, ctx->pseudonym_key);
    } else if (kind == RT_SINK_DIGEST) {
        sha256_init(&st->digest.sha);
        st->digest.hi = st->digest.half = 0;
    } else {
        sha256_init(&st->sha);
        if (ctx->salt_len)
            sha256_update(&st->sha, ctx->salt_len, ctx->salt);
    }
}

void rt_sink_feed(uint8_t kind, rt_sink_state *st, const uint8_t *p, size_t n)
{
    if (kind == RT_SINK_PSEUDONYM) {
        hmac_sha256_update(&st->hmac, n, p);
    } else if (kind == RT_SINK_DIGEST) {
        /* Decoded a byte at a time: the value is short (a token), and a
         * byte on the stack is wiped by the sink's finish with the rest. */
        for (size_t i = 0; i < n; i++) {
            if (!st->digest.half) {
                st->digest.hi = nibble(p[i]);
                st->digest.half = 1;
            } else {
                uint8_t b = (uint8_t)(st->digest.hi << 4 | nibble(p[i]));
                sha256_update(&st->digest.sha, 1, &b);
                st->digest.half = 0;
                st->digest.hi = 0;
            }
        }
    } else {
        sha256_update(&st->sha, n, p);
    }
}

void rt_sink_finish(uint8_t kind, rt_sink_state *st, uint8_t out[RT_HASH_LEN])
{
    if (kind == RT_SINK_PSEUDONYM)
        hmac_sha256_digest(&st->hmac, RT_HASH_LEN, out);
    else if (kind == RT_SINK_DIGEST)
        sha256_digest(&st->digest.sha, RT_HASH_LEN, out);
    else
        sha256_digest(&st->sha, RT_HASH_LEN, out);
    /* nettle re-initialises but keeps the last block's bytes: wipe it all. */
    rt_wipe(st, sizeof *st);
}

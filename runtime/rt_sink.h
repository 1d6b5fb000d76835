/*
 * rt_sink.h — where the bytes of pseudonymous and secret fields go.
 *
 * The parser never stores such a value.  It hands each decoded piece to the
 * field's sinks as it is decoded; a sink keeps only a running hash state,
 * inline (nettle, no heap), which rt_sink_finish turns into the result and
 * then wipes, so that after a parse no byte of the value is left anywhere in
 * the parser's or the caller's memory.
 */
#ifndef RT_SINK_H
#define RT_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "rt_schema.h"

#define RT_HASH_LEN 32

/* Working state of a PSEUDONYM, COMMIT or DIGEST sink. */
typedef union rt_sink_state {
    struct hmac_sha256_ctx hmac;
    struct sha256_ctx sha;
    struct {
        struct sha256_ctx sha;
        uint8_t hi;        /* the pending high nibble */
        uint8_t half;      /* 1: hi holds a nibble */
    } digest;
} rt_sink_state;

/* Starts a sink.  PSEUDONYM keys HMAC-SHA256 with ctx->pseudonym_key;
 * COMMIT starts SHA-256 and absorbs ctx->salt first; DIGEST starts SHA-256
 * over the bytes that the hex digits it is fed stand for (the parser feeds
 * it only [0-9a-f], in any pieces). */
void rt_sink_begin(uint8_t kind, rt_sink_state *st, const rt_parse_ctx *ctx);
void rt_sink_feed(uint8_t kind, rt_sink_state *st, const uint8_t *p, size_t n);
/* Writes the 32-byte result to out and wipes st. */
void rt_sink_finish(uint8_t kind, rt_sink_state *st, uint8_t out[RT_HASH_LEN]);

/* Zeroes memory in a way the compiler may not elide. */
void rt_wipe(void *p, size_t n);

#endif

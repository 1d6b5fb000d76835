/*
 * rt_parse.h — streaming, schema-driven JSON request parser.
 *
 * A Ragel machine (rt_parse.rl) tokenizes the request body and its actions
 * walk the rt_schema tables (rt_schema.h) that specc generates: keys are
 * looked up as they close, values are type-checked at their first byte,
 * public values are decoded into the caller's request struct, and the bytes
 * of pseudonymous and secret strings are handed to the field's sinks
 * (rt_sink.h) without ever being stored.
 *
 * All state lives in the caller-owned rt_parser (fixed size, no allocation).
 * The body may arrive in chunks of any size; the result (error code, error
 * position, outputs) does not depend on how it is split.  The first error is
 * sticky: once set, feed and finish return it without looking at more input.
 *
 * What is checked, and where an error is placed (absolute body offsets):
 *  - the body is one JSON object (s->root) with optional JSON whitespace
 *    around it; a top-level value of another type fails RT_E_TYPE at its
 *    first byte, a byte after the object RT_E_TRAILING at that byte;
 *  - keys are decoded (escapes allowed) and looked up with key_index; a key
 *    longer than RT_PARSE_KEY_MAX bytes is unknown.  RT_E_UNKNOWN_KEY and
 *    RT_E_DUP_KEY are placed at the key's opening quote;
 *  - required keys: a nested object fails RT_E_MISSING_KEY at its closing
 *    brace, the root object at rt_parse_finish (offset = body length);
 *  - a value's type is checked at its first byte (RT_E_TYPE): a container
 *    or null the schema does not declare there is never entered, so deep
 *    nesting costs nothing; a declared nested object deeper than
 *    s->max_depth fails RT_E_DEPTH at its '{';
 *  - integers: -?(0|[1-9][0-9]*) only; a fraction or exponent fails
 *    RT_E_TYPE at the '.', 'e' or 'E'; a value outside int64 or [min,max]
 *    fails RT_E_RANGE at the number's first byte;
 *  - strings: control characters fail RT_E_SYNTAX; malformed UTF-8
 *    (overlong, surrogate, above U+10FFFF, truncated, stray continuation)
 *    and unpaired surrogate escapes fail RT_E_UTF8 at the first byte that
 *    cannot continue a valid string; a decoded length above max fails
 *    RT_E_LENGTH at the byte that produces byte max+1 (for an escape: its
 *    last byte), one below min at the closing quote;
 *  - a hex field (f->hex) takes [0-9a-f] only: any other decoded byte fails
 *    RT_E_FORMAT at that byte (for an escape: its last byte);
 *  - any other malformed JSON fails RT_E_SYNTAX at the offending byte.
 * Absent optional fields leave their outputs zero (their sinks do not run).
 *
 * Typical use:
 *
 *     rt_parser p;
 *     rt_parse_init(&p, &schema, &req, &ctx);
 *     while (more body) if (rt_parse_feed(&p, buf, n)) break;
 *     if (rt_parse_finish(&p)) reply(400, rt_perr_name(rt_parse_error(&p)));
 */
#ifndef RT_PARSE_H
#define RT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "rt_schema.h"

/* Error codes: number, name, wire string.  One list, so that enum names,
 * strings and any status mapping a caller builds stay in step. */
#define RT_PERR_MAP(XX)                                                       \
    XX(0, OK, "ok")                                                           \
    XX(1, SYNTAX, "invalid_json")                                             \
    XX(2, UTF8, "invalid_utf8")                                               \
    XX(3, UNKNOWN_KEY, "unknown_key")                                         \
    XX(4, MISSING_KEY, "missing_key")                                         \
    XX(5, DUP_KEY, "duplicate_key")                                           \
    XX(6, TYPE, "wrong_type")                                                 \
    XX(7, LENGTH, "length_out_of_range")                                      \
    XX(8, RANGE, "value_out_of_range")                                        \
    XX(9, DEPTH, "nesting_too_deep")                                          \
    XX(10, TRAILING, "trailing_bytes")                                        \
    XX(11, TOO_LARGE, "body_too_large")                                       \
    XX(12, TRUNCATED, "truncated_body")                                       \
    XX(13, FORMAT, "bad_format")

enum rt_perr {
#define XX(n, name, s) RT_E_##name = n,
    RT_PERR_MAP(XX)
#undef XX
};

/* Deepest object nesting any schema may declare (the root counts as 1).
 * Sizes the machine's call stack; a schema whose max_depth is larger fails
 * RT_E_DEPTH when the body reaches the extra levels. */
#define RT_PARSE_MAX_DEPTH 8

/* Keys with more decoded bytes than this cannot match a field. */
#define RT_PARSE_KEY_MAX 64

/*
 * Parser state.  Caller-owned; treat the members as private.  Positions are
 * absolute body offsets, never pointers into a caller's chunk, so a chunk may
 * be freed as soon as rt_parse_feed returns.
 */
typedef struct rt_parser {
    const rt_schema *schema;
    uint8_t *out;                 /* caller's request struct */
    const rt_parse_ctx *ctx;

    /* Ragel machine */
    int cs, top;
    int stack[RT_PARSE_MAX_DEPTH];

    uint64_t fed;                 /* body bytes consumed so far */

    /* sticky first error */
    int err;
    uint64_t err_pos;
    const char *reason;
    const char *err_field;

    /* object nesting: objs[depth-1] is the innermost open object */
    const rt_object *objs[RT_PARSE_MAX_DEPTH];
    uint8_t depth;
    uint8_t done;                 /* root object closed */
    uint8_t finished;             /* rt_parse_finish has run */
    uint8_t expect;               /* what the grammar expects next (reasons) */

    const rt_field *field;        /* field whose value is being parsed */

    /* string in progress (key or value) */
    uint8_t str_mode;             /* RT_PARSE_M_* in rt_parse.c */
    uint8_t in_str, in_esc;
    uint8_t key_long;             /* key exceeded RT_PARSE_KEY_MAX */
    uint32_t slen;                /* decoded bytes so far */
    uint64_t str_pos;             /* offset of the opening quote */
    uint32_t u, u_hi;             /* \u escape accumulator, pending high surrogate */

    /* integer in progress */
    uint64_t num_mag;
    uint64_t num_pos;
    uint8_t num_neg, num_ovf;

    uint8_t key_len;
    uint8_t key[RT_PARSE_KEY_MAX];
} rt_parser;

/*
 * Starts a parse of one request body against schema s into out, which must
 * point to s->out_size bytes (the generated request struct); *out is zeroed.
 * ctx supplies the sink keys and must outlive the parse.  p needs no prior
 * initialisation; it may be reused after rt_parse_finish or rt_parse_abort.
 */
void rt_parse_init(rt_parser *p, const rt_schema *s, void *out,
                   const rt_parse_ctx *ctx);

/*
 * Parses the next n bytes of the body.  chunk may be NULL when n is 0.
 * Bytes past s->max_body are not parsed: the body fails RT_E_TOO_LARGE at
 * offset s->max_body, unless an earlier byte already failed.  Spans of
 * secret values are handed to their sinks before this returns; nothing
 * points into chunk afterwards.
 *
 * Returns 0, or the sticky first error (enum rt_perr).  After an error the
 * sink work state is wiped and *out is zeroed.  Calls after rt_parse_finish
 * are ignored.
 */
int rt_parse_feed(rt_parser *p, const uint8_t *chunk, size_t n);

/*
 * Ends the body.  Fails RT_E_TRUNCATED unless the root object was closed,
 * then RT_E_MISSING_KEY if a required key of the root object is absent (both
 * at offset = body length).  On success, finishes every sink of every string
 * field that was present, writing the sinks' results into *out.  In all
 * cases wipes the work region [s->work_off, +s->work_size) of *out and the
 * parser's scratch.  Returns 0 or the sticky first error.
 */
int rt_parse_finish(rt_parser *p);

/*
 * Abandons the parse (e.g. the connection died): wipes the sink work state
 * in *out and the parser's scratch.  The error, if any, stays readable.
 * Safe to call at any point after rt_parse_init, more than once, and after
 * rt_parse_finish.
 */
void rt_parse_abort(rt_parser *p);

/* The sticky first error (enum rt_perr), 0 if none. */
int rt_parse_error(const rt_parser *p);

/*
 * Absolute body offset of the byte at which the body became invalid.  For
 * RT_E_TRUNCATED and a missing key of the root object: the body length; for
 * RT_E_TOO_LARGE: s->max_body.  Meaningless when there is no error.
 */
uint64_t rt_parse_error_pos(const rt_parser *p);

/* Static human-readable detail for the error (e.g. "expected a string"),
 * or NULL if there is no error. */
const char *rt_parse_reason(const rt_parser *p);

/* Name (as in the schema) of the field the error concerns, or NULL when it
 * concerns no known field (syntax outside a value, unknown key, ...).  For
 * RT_E_MISSING_KEY: the first required field missing, in schema order. */
const char *rt_parse_error_field(const rt_parser *p);

/* Wire string of an error code ("invalid_utf8", ...); "unknown" if out of
 * range. */
const char *rt_perr_name(int err);

#endif

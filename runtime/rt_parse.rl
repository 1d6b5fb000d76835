/*
 * rt_parse.rl — the JSON grammar of request bodies, and the actions that
 * check it against the rt_schema tables (see rt_parse.h for the contract).
 *
 * rt_parse.c is generated from this file, from the repository root:
 *     ragel -G2 -L -o runtime/rt_parse.c runtime/rt_parse.rl
 *
 * How values reach their destination: while a string is open, `mark` (a
 * local of rt_parse_feed) points at the first byte not yet delivered.  A run
 * of raw bytes (ASCII and validated UTF-8) is delivered as one span when an
 * escape, the closing quote, an error or the end of the chunk ends it; an
 * escape is decoded into a few bytes on the stack, delivered, and wiped.
 * "Delivered" means copied into the request struct (keys, public values) or
 * fed to the field's sinks (pseudonymous and secret values), so a secret is
 * only ever read from the caller's chunk.
 */
#include "rt_hex.h"
#include "rt_parse.h"
#include "rt_sink.h"

#include <string.h>

/* The tables are read as laid out by this version of rt_schema.h. */
_Static_assert(RT_SCHEMA_ABI == 2, "rt_parse interprets rt_schema ABI 2");
_Static_assert(RT_PARSE_KEY_MAX <= 255, "key_len is a uint8_t");

/* Where the bytes of the open string go. */
enum { RT_PARSE_M_KEY = 1, RT_PARSE_M_PUBLIC, RT_PARSE_M_SINK };

/* What the grammar expects next; only used to word syntax errors. */
enum {
    RT_X_BODY, RT_X_KEY_OR_END, RT_X_COLON, RT_X_VALUE, RT_X_COMMA_OR_END,
    RT_X_KEY, RT_X_NUMBER, RT_X_LITERAL, RT_X_AFTER
};

static const char *const rt_parse_expect_reason[] = {
    [RT_X_BODY] = "expected an object",
    [RT_X_KEY_OR_END] = "expected a key or '}'",
    [RT_X_COLON] = "expected ':'",
    [RT_X_VALUE] = "expected a value",
    [RT_X_COMMA_OR_END] = "expected ',' or '}'",
    [RT_X_KEY] = "expected a key",
    [RT_X_NUMBER] = "invalid number",
    [RT_X_LITERAL] = "invalid literal",
    [RT_X_AFTER] = "expected end of body",
};

/* Records the first error only; later ones are consequences of it. */
static int rt_fail(rt_parser *P, int code, uint64_t pos, const char *reason,
                   const char *field)
{
    if (!P->err) {
        P->err = code;
        P->err_pos = pos;
        P->reason = reason;
        P->err_field = field;
    }
    return P->err;
}

/* The field the current string belongs to, for error reports. */
static const char *rt_str_field(const rt_parser *P)
{
    return P->str_mode == RT_PARSE_M_KEY || !P->field ? NULL : P->field->name;
}

static const char *rt_type_reason(const rt_field *f)
{
    switch (f->type) {
    case RT_T_STRING: return "expected a string";
    case RT_T_INT: return "expected an integer";
    case RT_T_BOOL: return "expected true or false";
    default: return "expected an object";
    }
}

static uint64_t rt_mask_get(const rt_parser *P, const rt_object *o)
{
    uint64_t m;
    memcpy(&m, P->out + o->present_off, sizeof m);
    return m;
}

static void rt_mask_set(rt_parser *P, const rt_object *o, uint64_t m)
{
    memcpy(P->out + o->present_off, &m, sizeof m);
}

static void rt_sinks_begin(rt_parser *P, const rt_field *f)
{
    for (unsigned k = 0; k < f->nsinks; k++) {
        const rt_sink *sk = &f->sinks[k];
        void *st = P->out + sk->st_off;
        if (sk->kind == RT_SINK_DERIVE)
            sk->derive->init(st);
        else
            rt_sink_begin(sk->kind, st, P->ctx);
    }
}

/*
 * Delivers n decoded bytes of the open string.  pos is the body offset of
 * b[0] when b is raw input (byte k is at pos+k), or of the escape's last byte
 * when b holds its decoding (exact = 0); it places a length error.
 */
static int rt_put(rt_parser *P, const uint8_t *b, size_t n, uint64_t pos,
                  int exact)
{
    if (n == 0)
        return 0;
    if (P->str_mode == RT_PARSE_M_KEY) {
        size_t room = RT_PARSE_KEY_MAX - P->key_len;
        if (n > room) {
            /* Too long to be any field's name: remembered, not stored. */
            P->key_long = 1;
            n = room;
        }
        memcpy(P->key + P->key_len, b, n);
        P->key_len += (uint8_t)n;
        return 0;
    }
    const rt_field *f = P->field;
    if ((int64_t)P->slen + (int64_t)n > f->max) {
        uint64_t at = pos;
        if (exact)
            at += (uint64_t)(f->max - (int64_t)P->slen);
        return rt_fail(P, RT_E_LENGTH, at, "string too long", f->name);
    }
    if (f->hex)
        for (size_t i = 0; i < n; i++)
            if (!((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'f')))
                return rt_fail(P, RT_E_FORMAT, exact ? pos + i : pos,
                               "expected lowercase hex digits", f->name);
    if (P->str_mode == RT_PARSE_M_PUBLIC) {
        memcpy(P->out + f->off + P->slen, b, n);
    } else {
        for (unsigned k = 0; k < f->nsinks; k++) {
            const rt_sink *sk = &f->sinks[k];
            void *st = P->out + sk->st_off;
            if (sk->kind == RT_SINK_DERIVE)
                sk->derive->feed(st, b, n);
            else
                rt_sink_feed(sk->kind, st, b, n);
        }
    }
    P->slen += (uint32_t)n;
    return 0;
}

/* Wipes a 4-byte escape scratch; volatile stores are not elided, and are
 * cheaper than rt_wipe's call for this size. */
static void rt_wipe_small(uint8_t b[4])
{
    volatile uint8_t *v = b;
    v[0] = v[1] = v[2] = v[3] = 0;
}

/* Delivers the UTF-8 encoding of code point cp (no surrogates) from a
 * scratch that is wiped before returning. */
static int rt_put_cp(rt_parser *P, uint32_t cp, uint64_t pos)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    int r = rt_put(P, b, n, pos, 0);
    rt_wipe_small(b);
    return r;
}

/* A key has closed: look it up in the innermost object. */
static int rt_key(rt_parser *P)
{
    const rt_object *o = P->objs[P->depth - 1];
    int i = P->key_long ? -1 : o->key_index(P->key, P->key_len);
    if (i < 0 || i >= o->nfields)
        return rt_fail(P, RT_E_UNKNOWN_KEY, P->str_pos, "unknown key", NULL);
    const rt_field *f = &o->fields[i];
    uint64_t m = rt_mask_get(P, o);
    if (m >> i & 1)
        return rt_fail(P, RT_E_DUP_KEY, P->str_pos, "duplicate key", f->name);
    rt_mask_set(P, o, m | (uint64_t)1 << i);
    P->field = f;
    return 0;
}

static int rt_missing(rt_parser *P, const rt_object *o, uint64_t pos)
{
    uint64_t miss = o->required & ~rt_mask_get(P, o);
    for (unsigned i = 0; i < o->nfields; i++)
        if (miss >> i & 1)
            return rt_fail(P, RT_E_MISSING_KEY, pos, "missing required key",
                           o->fields[i].name);
    return 0;
}

/* Finishes the sinks of every present string field, depth first. */
static void rt_finish_obj(rt_parser *P, const rt_object *o)
{
    uint64_t m = rt_mask_get(P, o);
    for (unsigned i = 0; i < o->nfields; i++) {
        if (!(m >> i & 1))
            continue;
        const rt_field *f = &o->fields[i];
        if (f->type == RT_T_OBJECT) {
            rt_finish_obj(P, f->obj);
            continue;
        }
        for (unsigned k = 0; k < f->nsinks; k++) {
            const rt_sink *sk = &f->sinks[k];
            void *st = P->out + sk->st_off;
            if (sk->kind == RT_SINK_DERIVE)
                sk->derive->finish(st, P->out + sk->out_off);
            else
                rt_sink_finish(sk->kind, st, P->out + sk->out_off);
        }
    }
}

/* Wipes everything in the parser that may have held decoded bytes. */
static void rt_wipe_scratch(rt_parser *P)
{
    rt_wipe(P->key, sizeof P->key);
    P->key_len = 0;
    P->key_long = 0;
    P->u = P->u_hi = 0;
    P->num_mag = 0;
    P->num_neg = P->num_ovf = 0;
    P->slen = 0;
    P->in_str = P->in_esc = 0;
    P->str_mode = 0;
}

static void rt_wipe_work(rt_parser *P)
{
    const rt_schema *s = P->schema;
    if (s->work_size)
        rt_wipe(P->out + s->work_off, s->work_size);
}

/* After an error nothing in *out is meaningful: clear it all, work state
 * included, so that no partial value outlives the parse. */
static void rt_scrub(rt_parser *P)
{
    rt_wipe(P->out, P->schema->out_size);
    rt_wipe_scratch(P);
}

/*
 * First byte at or after q that is not plain (or pe).  A plain byte is
 * printable ASCII other than '"' and '\\', so secret values cost a few
 * instructions per 16 (SSE2) or 8 (portable) bytes.
 */
#if defined(__SSE2__)
#include <emmintrin.h>

static const uint8_t *rt_skip_ascii(const uint8_t *q, const uint8_t *pe)
{
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    /* Signed compare: below 0x20 or at least 0x80 (negative) in one go. */
    const __m128i space = _mm_set1_epi8(0x20);
    while (pe - q >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i bad = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
            _mm_cmplt_epi8(x, space));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);
        if (m)
            return q + __builtin_ctz(m);
        q += 16;
    }
    while (q < pe && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
        q++;
    return q;
}
#else
#define RT_ONES 0x0101010101010101ull
#define RT_HIGHS 0x8080808080808080ull

static const uint8_t *rt_skip_ascii(const uint8_t *q, const uint8_t *pe)
{
    /* Eight bytes per step: a word is skipped only if no byte is >= 0x80,
     * < 0x20, '"' or '\\'.  The tests may report false hits (borrows), but
     * the bytewise loop then finds the exact byte. */
    while (pe - q >= 8) {
        uint64_t w, xq, xb;
        memcpy(&w, q, sizeof w);
        xq = w ^ (RT_ONES * '"');
        xb = w ^ (RT_ONES * '\\');
        if ((w | ((w - RT_ONES * 0x20) & ~w) | ((xq - RT_ONES) & ~xq) |
             ((xb - RT_ONES) & ~xb)) & RT_HIGHS)
            break;
        q += 8;
    }
    while (q < pe && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
        q++;
    return q;
}
#endif

/*
 * Length of the well-formed UTF-8 sequence at q if it lies wholly before pe,
 * else 0.  Same rules as the grammar's utf8 machine (Unicode table 3-7); a
 * sequence this rejects is left to the grammar, which reports it precisely
 * or, when it is cut by the end of the chunk, carries it over.
 */
static size_t rt_utf8_len(const uint8_t *q, const uint8_t *pe)
{
    uint8_t c = q[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if ((size_t)(pe - q) < n || q[1] < lo || q[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((q[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Skips the bytes the string body state would loop over without actions:
 * plain ASCII and well-formed UTF-8. */
static const uint8_t *rt_scan_plain(const uint8_t *q, const uint8_t *pe)
{
    for (;;) {
        q = rt_skip_ascii(q, pe);
        if (q == pe || *q < 0x80)
            return q;
        /* Text in other scripts: stay here while the sequences last. */
        do {
            size_t n = rt_utf8_len(q, pe);
            if (!n)
                return q;
            q += n;
        } while (q < pe && *q >= 0x80);
    }
}


#define POS(x) (P->fed + (uint64_t)((x) - chunk))

%%{
    machine rt_json;
    alphtype unsigned char;
    access P->;

    # ---- strings -------------------------------------------------------

    # End the raw run before an escape; the escape restarts it.
    action esc_start {
        if (rt_put(P, mark, (size_t)(fpc - mark), POS(mark), 1)) fbreak;
        P->in_esc = 1;
    }
    action esc_simple {
        uint8_t c[4] = { 0 };
        switch (fc) {
        case 'b': c[0] = '\b'; break;
        case 'f': c[0] = '\f'; break;
        case 'n': c[0] = '\n'; break;
        case 'r': c[0] = '\r'; break;
        case 't': c[0] = '\t'; break;
        default: c[0] = fc; break;
        }
        int r = rt_put(P, c, 1, POS(fpc), 0);
        rt_wipe_small(c);
        if (r) fbreak;
        P->in_esc = 0;
        mark = fpc + 1;
    }
    action u_start { P->in_esc = 2; P->u = 0; }
    action u_dig { P->u = P->u << 4 | (uint32_t)rt_hex_digit(fc); }
    # The last digit of an escape: completes the code point.
    action u_done {
        P->u = P->u << 4 | (uint32_t)rt_hex_digit(fc);
        int r = rt_put_cp(P, P->u, POS(fpc));
        P->u = 0;
        if (r) fbreak;
        P->in_esc = 0;
        mark = fpc + 1;
    }
    action u_high {
        P->u_hi = P->u << 4 | (uint32_t)rt_hex_digit(fc);
        P->u = 0;
        P->in_esc = 3;
    }
    action u_pair {
        P->u = P->u << 4 | (uint32_t)rt_hex_digit(fc);
        uint32_t cp = 0x10000 + ((P->u_hi - 0xd800) << 10) + (P->u - 0xdc00);
        int r = rt_put_cp(P, cp, POS(fpc));
        P->u = P->u_hi = 0;
        if (r) fbreak;
        P->in_esc = 0;
        mark = fpc + 1;
    }

    # Entering the body state: skip the plain bytes that follow in bulk.
    action scan { p = rt_scan_plain(p + 1, pe) - 1; }

    # Errors inside a string.  A run still open is delivered first, so that
    # a length error earlier in it wins, whatever the chunking.
    action e_body {
        if (P->in_str && !P->in_esc)
            rt_put(P, mark, (size_t)(fpc - mark), POS(mark), 1);
        if (fc < 0x20)
            rt_fail(P, RT_E_SYNTAX, POS(fpc), "control character in string",
                    rt_str_field(P));
        else
            rt_fail(P, RT_E_UTF8, POS(fpc), "invalid UTF-8 byte",
                    rt_str_field(P));
    }
    action e_utf8 {
        rt_put(P, mark, (size_t)(fpc - mark), POS(mark), 1);
        rt_fail(P, RT_E_UTF8, POS(fpc), "invalid UTF-8 sequence",
                rt_str_field(P));
    }
    action e_esc {
        if (P->in_esc == 3 || (P->in_esc == 2 && rt_hex_digit(fc) >= 0))
            rt_fail(P, RT_E_UTF8, POS(fpc), "unpaired surrogate escape",
                    rt_str_field(P));
        else
            rt_fail(P, RT_E_SYNTAX, POS(fpc), "invalid escape",
                    rt_str_field(P));
    }

    cont = 0x80..0xbf;
    # Well-formed UTF-8 only: no overlongs, no surrogates, nothing past
    # U+10FFFF (Unicode table 3-7).
    utf8 = 0xc2..0xdf cont
         | 0xe0 0xa0..0xbf cont
         | (0xe1..0xec | 0xee..0xef) cont cont
         | 0xed 0x80..0x9f cont
         | 0xf0 0x90..0xbf cont cont
         | 0xf1..0xf3 cont cont cont
         | 0xf4 0x80..0x8f cont cont;

    plain = 0x20..0x7f - ["\\];
    hex = [0-9a-fA-F];
    # \uXXXX, with surrogates only as a high-low pair.  Each transition
    # carries its own digit action so that no two branches share one.
    h = hex @u_dig;
    u_esc = 'u' @u_start
            ( [0-9a-cA-Ce-fE-F] @u_dig h h hex @u_done
            | [dD] @u_dig
              ( [0-7] @u_dig h hex @u_done
              | [89abAB] @u_dig h hex @u_high
                '\\' 'u' [dD] @u_dig [c-fC-F] @u_dig h hex @u_pair ) );
    esc = '\\' @esc_start ( ["\\/bfnrt] @esc_simple | u_esc );

    str_chars = ( plain | utf8 <>!e_utf8 | esc <>!e_esc )* %!e_body %~scan;

    # ---- keys and values -----------------------------------------------

    action k_open {
        P->str_mode = RT_PARSE_M_KEY;
        P->in_str = 1;
        P->key_len = 0;
        P->key_long = 0;
        P->str_pos = POS(fpc);
        P->field = NULL;
        mark = fpc + 1;
    }
    action k_close {
        rt_put(P, mark, (size_t)(fpc - mark), POS(mark), 1);
        P->in_str = 0;
        if (rt_key(P)) fbreak;
        P->expect = RT_X_COLON;
    }
    action x_value { P->expect = RT_X_VALUE; }
    action x_key { P->expect = RT_X_KEY; }

    action v_open {
        const rt_field *f = P->field;
        if (f->type != RT_T_STRING) {
            rt_fail(P, RT_E_TYPE, POS(fpc), rt_type_reason(f), f->name);
            fbreak;
        }
        P->str_mode = f->cls == RT_C_PUBLIC ? RT_PARSE_M_PUBLIC : RT_PARSE_M_SINK;
        P->in_str = 1;
        P->slen = 0;
        P->str_pos = POS(fpc);
        if (P->str_mode == RT_PARSE_M_SINK)
            rt_sinks_begin(P, f);
        mark = fpc + 1;
    }
    action v_close {
        const rt_field *f = P->field;
        if (rt_put(P, mark, (size_t)(fpc - mark), POS(mark), 1)) fbreak;
        P->in_str = 0;
        if ((int64_t)P->slen < f->min) {
            rt_fail(P, RT_E_LENGTH, POS(fpc), "string too short", f->name);
            fbreak;
        }
        if (P->str_mode == RT_PARSE_M_PUBLIC) {
            uint32_t len = P->slen;
            P->out[f->off + len] = 0;
            memcpy(P->out + f->len_off, &len, sizeof len);
        }
        P->slen = 0;
        P->field = NULL;
        P->expect = RT_X_COMMA_OR_END;
    }

    action i_start {
        if (P->field->type != RT_T_INT) {
            rt_fail(P, RT_E_TYPE, POS(fpc), rt_type_reason(P->field),
                    P->field->name);
            fbreak;
        }
        P->num_pos = POS(fpc);
        P->num_mag = 0;
        P->num_neg = 0;
        P->num_ovf = 0;
        P->expect = RT_X_NUMBER;
    }
    action i_neg { P->num_neg = 1; }
    action i_dig {
        uint64_t d = (uint64_t)(fc - '0');
        uint64_t lim = P->num_neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (P->num_ovf || P->num_mag > (lim - d) / 10)
            P->num_ovf = 1;
        else
            P->num_mag = P->num_mag * 10 + d;
    }
    # Leaving the digits.  A fraction or exponent is i_frac's to report.
    action i_done {
        if (fc != '.' && fc != 'e' && fc != 'E') {
            const rt_field *f = P->field;
            int64_t v;
            if (P->num_ovf) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer overflows int64", f->name);
                fbreak;
            }
            if (!P->num_neg)
                v = (int64_t)P->num_mag;
            else if (P->num_mag > (uint64_t)INT64_MAX)
                v = INT64_MIN;
            else
                v = -(int64_t)P->num_mag;
            if (v < f->min || v > f->max) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer out of range", f->name);
                fbreak;
            }
            memcpy(P->out + f->off, &v, sizeof v);
            P->num_mag = 0;
            P->field = NULL;
            P->expect = RT_X_COMMA_OR_END;
        }
    }
    action i_frac {
        rt_fail(P, RT_E_TYPE, POS(fpc), "expected an integer, not a fraction or exponent",
                P->field->name);
        fbreak;
    }

    action b_start {
        if (P->field->type != RT_T_BOOL) {
            rt_fail(P, RT_E_TYPE, POS(fpc), rt_type_reason(P->field),
                    P->field->name);
            fbreak;
        }
        P->expect = RT_X_LITERAL;
    }
    action b_true { P->out[P->field->off] = 1; P->field = NULL; P->expect = RT_X_COMMA_OR_END; }
    action b_false { P->out[P->field->off] = 0; P->field = NULL; P->expect = RT_X_COMMA_OR_END; }

    # A container or null the schema does not declare here: never entered.
    action v_bad {
        rt_fail(P, RT_E_TYPE, POS(fpc), rt_type_reason(P->field), P->field->name);
        fbreak;
    }

    action v_obj {
        const rt_field *f = P->field;
        if (f->type != RT_T_OBJECT) {
            rt_fail(P, RT_E_TYPE, POS(fpc), rt_type_reason(f), f->name);
            fbreak;
        }
        if (P->depth >= P->schema->max_depth || P->depth >= RT_PARSE_MAX_DEPTH) {
            rt_fail(P, RT_E_DEPTH, POS(fpc), "objects nested too deeply", f->name);
            fbreak;
        }
        P->objs[P->depth++] = f->obj;
        P->field = NULL;
        P->expect = RT_X_KEY_OR_END;
        fcall members;
    }
    # Nested objects are checked for required keys here, the root object at
    # rt_parse_finish (so that its error is placed at the body's end).
    action o_close {
        if (P->depth > 1 && rt_missing(P, P->objs[P->depth - 1], POS(fpc))) fbreak;
        P->depth--;
        P->field = NULL;
        if (P->depth == 0) {
            P->done = 1;
            P->expect = RT_X_AFTER;
        } else {
            P->expect = RT_X_COMMA_OR_END;
        }
        fret;
    }

    action r_open {
        P->objs[0] = P->schema->root;
        P->depth = 1;
        P->expect = RT_X_KEY_OR_END;
        fcall members;
    }
    action e_top_type {
        rt_fail(P, RT_E_TYPE, POS(fpc), "expected an object", NULL);
        fbreak;
    }
    action e_trailing {
        rt_fail(P, RT_E_TRAILING, POS(fpc), "bytes after the object", NULL);
        fbreak;
    }

    ws = [ \t\n\r];

    int_v = ( '-' @i_start @i_neg ( '0' | [1-9] @i_dig ( [0-9] @i_dig )* )
            | '0' @i_start
            | [1-9] @i_start @i_dig ( [0-9] @i_dig )* )
            %i_done ( [.eE] @i_frac )?;

    value = '"' @v_open str_chars '"' @v_close
          | int_v
          | 't' @b_start 'rue' @b_true
          | 'f' @b_start 'alse' @b_false
          | '{' @v_obj
          | [\[n] @v_bad;

    key = '"' @k_open str_chars '"' @k_close;
    member = key ws* ':' @x_value ws* value;

    members := ws* ( '}' @o_close
                   | member ( ws* ',' @x_key ws* member )* ws* '}' @o_close );

    main := ws* ( '{' @r_open ws* ( ^ws @e_trailing )?
                | [\["\-0-9tfn] @e_top_type );
}%%

%% write data nofinal noentry;

void rt_parse_init(rt_parser *P, const rt_schema *s, void *out,
                   const rt_parse_ctx *ctx)
{
    memset(P, 0, sizeof *P);
    P->schema = s;
    P->out = out;
    P->ctx = ctx;
    memset(out, 0, s->out_size);
    %% write init;
}

int rt_parse_feed(rt_parser *P, const uint8_t *chunk, size_t n)
{
    if (P->err || P->finished || n == 0)
        return P->err;
    uint64_t room = P->schema->max_body - P->fed;
    size_t m = (uint64_t)n > room ? (size_t)room : n;
    const uint8_t *p = chunk, *pe = chunk + m;
    /* First byte of the open string not yet delivered. */
    const uint8_t *mark = chunk;
    /* No EOF actions are wanted: the end of the body is rt_parse_finish's. */
    const uint8_t *const eof = NULL;

    /* The generated state code falls through from one case to the next. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
    %% write exec;
#pragma GCC diagnostic pop

    if (!P->err && P->cs == rt_json_error)
        rt_fail(P, RT_E_SYNTAX, POS(p), rt_parse_expect_reason[P->expect],
                P->field ? P->field->name : NULL);
    /* The chunk ends inside a raw run: deliver what it holds. */
    if (!P->err && P->in_str && !P->in_esc)
        rt_put(P, mark, (size_t)(pe - mark), POS(mark), 1);
    P->fed += m;
    if (!P->err && m < n)
        rt_fail(P, RT_E_TOO_LARGE, P->schema->max_body, "body too large", NULL);
    if (P->err)
        rt_scrub(P);
    return P->err;
}

int rt_parse_finish(rt_parser *P)
{
    if (!P->finished) {
        P->finished = 1;
        if (!P->err && !P->done)
            rt_fail(P, RT_E_TRUNCATED, P->fed, "body ends inside the object",
                    P->field ? P->field->name : NULL);
        if (!P->err)
            rt_missing(P, P->schema->root, P->fed);
        if (!P->err)
            rt_finish_obj(P, P->schema->root);
    }
    if (P->err)
        rt_scrub(P);
    else
        rt_wipe_work(P);
    rt_wipe_scratch(P);
    return P->err;
}

void rt_parse_abort(rt_parser *P)
{
    if (P->schema && P->out)
        rt_wipe_work(P);
    rt_wipe_scratch(P);
}

int rt_parse_error(const rt_parser *P) { return P->err; }

uint64_t rt_parse_error_pos(const rt_parser *P) { return P->err_pos; }

const char *rt_parse_reason(const rt_parser *P)
{
    return P->err ? P->reason : NULL;
}

const char *rt_parse_error_field(const rt_parser *P)
{
    return P->err ? P->err_field : NULL;
}

const char *rt_perr_name(int err)
{
    switch (err) {
#define XX(n, name, s) case n: return s;
    RT_PERR_MAP(XX)
#undef XX
    }
    return "unknown";
}

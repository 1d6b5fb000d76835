
/* #line 1 "runtime/rt_parse.rl" */
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


/* #line 668 "runtime/rt_parse.rl" */



/* #line 374 "runtime/rt_parse.c" */
static const int rt_json_start = 1;
static const int rt_json_error = 0;


/* #line 671 "runtime/rt_parse.rl" */

void rt_parse_init(rt_parser *P, const rt_schema *s, void *out,
                   const rt_parse_ctx *ctx)
{
    memset(P, 0, sizeof *P);
    P->schema = s;
    P->out = out;
    P->ctx = ctx;
    memset(out, 0, s->out_size);
    
/* #line 386 "runtime/rt_parse.c" */
	{
	 P->cs = rt_json_start;
	 P->top = 0;
	}

/* #line 681 "runtime/rt_parse.rl" */
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
    
/* #line 407 "runtime/rt_parse.c" */
	{
	if ( p == pe )
		goto _test_eof;
	goto _resume;

_again:
	switch (  P->cs ) {
		case 1: goto st1;
		case 0: goto st0;
		case 61: goto st61;
		case 62: goto st62;
		case 2: goto st2;
		case 3: goto st3;
		case 4: goto st4;
		case 5: goto st5;
		case 6: goto st6;
		case 7: goto st7;
		case 8: goto st8;
		case 63: goto st63;
		case 9: goto st9;
		case 10: goto st10;
		case 11: goto st11;
		case 12: goto st12;
		case 13: goto st13;
		case 14: goto st14;
		case 15: goto st15;
		case 16: goto st16;
		case 17: goto st17;
		case 18: goto st18;
		case 19: goto st19;
		case 20: goto st20;
		case 21: goto st21;
		case 22: goto st22;
		case 23: goto st23;
		case 24: goto st24;
		case 25: goto st25;
		case 26: goto st26;
		case 27: goto st27;
		case 28: goto st28;
		case 29: goto st29;
		case 30: goto st30;
		case 31: goto st31;
		case 32: goto st32;
		case 33: goto st33;
		case 34: goto st34;
		case 35: goto st35;
		case 36: goto st36;
		case 37: goto st37;
		case 38: goto st38;
		case 39: goto st39;
		case 40: goto st40;
		case 41: goto st41;
		case 42: goto st42;
		case 43: goto st43;
		case 44: goto st44;
		case 45: goto st45;
		case 46: goto st46;
		case 47: goto st47;
		case 48: goto st48;
		case 49: goto st49;
		case 50: goto st50;
		case 51: goto st51;
		case 52: goto st52;
		case 53: goto st53;
		case 54: goto st54;
		case 55: goto st55;
		case 56: goto st56;
		case 57: goto st57;
		case 58: goto st58;
		case 59: goto st59;
		case 60: goto st60;
	default: break;
	}

	if ( ++p == pe )
		goto _test_eof;
_resume:
	switch (  P->cs )
	{
st1:
	if ( ++p == pe )
		goto _test_eof1;
case 1:
	switch( (*p) ) {
		case 13u: goto st1;
		case 32u: goto st1;
		case 34u: goto tr2;
		case 45u: goto tr2;
		case 91u: goto tr2;
		case 102u: goto tr2;
		case 110u: goto tr2;
		case 116u: goto tr2;
		case 123u: goto tr3;
	}
	if ( (*p) > 10u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr2;
	} else if ( (*p) >= 9u )
		goto st1;
	goto st0;
tr7:
/* #line 430 "runtime/rt_parse.rl" */
	{
        if (P->in_str && !P->in_esc)
            rt_put(P, mark, (size_t)(p - mark), POS(mark), 1);
        if ((*p) < 0x20)
            rt_fail(P, RT_E_SYNTAX, POS(p), "control character in string",
                    rt_str_field(P));
        else
            rt_fail(P, RT_E_UTF8, POS(p), "invalid UTF-8 byte",
                    rt_str_field(P));
    }
	goto st0;
tr42:
/* #line 445 "runtime/rt_parse.rl" */
	{
        if (P->in_esc == 3 || (P->in_esc == 2 && rt_hex_digit((*p)) >= 0))
            rt_fail(P, RT_E_UTF8, POS(p), "unpaired surrogate escape",
                    rt_str_field(P));
        else
            rt_fail(P, RT_E_SYNTAX, POS(p), "invalid escape",
                    rt_str_field(P));
    }
	goto st0;
tr59:
/* #line 440 "runtime/rt_parse.rl" */
	{
        rt_put(P, mark, (size_t)(p - mark), POS(mark), 1);
        rt_fail(P, RT_E_UTF8, POS(p), "invalid UTF-8 sequence",
                rt_str_field(P));
    }
	goto st0;
/* #line 536 "runtime/rt_parse.c" */
st0:
 P->cs = 0;
	goto _out;
tr2:
/* #line 637 "runtime/rt_parse.rl" */
	{
        rt_fail(P, RT_E_TYPE, POS(p), "expected an object", NULL);
        {p++;  P->cs = 61; goto _out;}
    }
	goto st61;
tr89:
/* #line 641 "runtime/rt_parse.rl" */
	{
        rt_fail(P, RT_E_TRAILING, POS(p), "bytes after the object", NULL);
        {p++;  P->cs = 61; goto _out;}
    }
	goto st61;
st61:
	if ( ++p == pe )
		goto _test_eof61;
case 61:
/* #line 555 "runtime/rt_parse.c" */
	goto st0;
tr3:
/* #line 631 "runtime/rt_parse.rl" */
	{
        P->objs[0] = P->schema->root;
        P->depth = 1;
        P->expect = RT_X_KEY_OR_END;
        { P->stack[ P->top++] = 62;goto st2;}
    }
	goto st62;
st62:
	if ( ++p == pe )
		goto _test_eof62;
case 62:
/* #line 568 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 13u: goto st62;
		case 32u: goto st62;
	}
	if ( 9u <= (*p) && (*p) <= 10u )
		goto st62;
	goto tr89;
st2:
	if ( ++p == pe )
		goto _test_eof2;
case 2:
	switch( (*p) ) {
		case 13u: goto st2;
		case 32u: goto st2;
		case 34u: goto tr5;
		case 125u: goto tr6;
	}
	if ( 9u <= (*p) && (*p) <= 10u )
		goto st2;
	goto st0;
tr5:
/* #line 482 "runtime/rt_parse.rl" */
	{
        P->str_mode = RT_PARSE_M_KEY;
        P->in_str = 1;
        P->key_len = 0;
        P->key_long = 0;
        P->str_pos = POS(p);
        P->field = NULL;
        mark = p + 1;
    }
	goto st3;
tr73:
/* #line 383 "runtime/rt_parse.rl" */
	{
        uint8_t c[4] = { 0 };
        switch ((*p)) {
        case 'b': c[0] = '\b'; break;
        case 'f': c[0] = '\f'; break;
        case 'n': c[0] = '\n'; break;
        case 'r': c[0] = '\r'; break;
        case 't': c[0] = '\t'; break;
        default: c[0] = (*p); break;
        }
        int r = rt_put(P, c, 1, POS(p), 0);
        rt_wipe_small(c);
        if (r) {p++;  P->cs = 3; goto _out;}
        P->in_esc = 0;
        mark = p + 1;
    }
	goto st3;
tr79:
/* #line 402 "runtime/rt_parse.rl" */
	{
        P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p));
        int r = rt_put_cp(P, P->u, POS(p));
        P->u = 0;
        if (r) {p++;  P->cs = 3; goto _out;}
        P->in_esc = 0;
        mark = p + 1;
    }
	goto st3;
tr88:
/* #line 415 "runtime/rt_parse.rl" */
	{
        P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p));
        uint32_t cp = 0x10000 + ((P->u_hi - 0xd800) << 10) + (P->u - 0xdc00);
        int r = rt_put_cp(P, cp, POS(p));
        P->u = P->u_hi = 0;
        if (r) {p++;  P->cs = 3; goto _out;}
        P->in_esc = 0;
        mark = p + 1;
    }
	goto st3;
st3:
/* #line 426 "runtime/rt_parse.rl" */
	{ p = rt_scan_plain(p + 1, pe) - 1; }
	if ( ++p == pe )
		goto _test_eof3;
case 3:
/* #line 643 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 34u: goto tr9;
		case 92u: goto tr10;
		case 224u: goto st55;
		case 237u: goto st57;
		case 240u: goto st58;
		case 244u: goto st60;
	}
	if ( (*p) < 194u ) {
		if ( 32u <= (*p) && (*p) <= 127u )
			goto st3;
	} else if ( (*p) > 223u ) {
		if ( (*p) > 239u ) {
			if ( 241u <= (*p) && (*p) <= 243u )
				goto st59;
		} else if ( (*p) >= 225u )
			goto st56;
	} else
		goto st54;
	goto tr7;
tr9:
/* #line 491 "runtime/rt_parse.rl" */
	{
        rt_put(P, mark, (size_t)(p - mark), POS(mark), 1);
        P->in_str = 0;
        if (rt_key(P)) {p++;  P->cs = 4; goto _out;}
        P->expect = RT_X_COLON;
    }
	goto st4;
st4:
	if ( ++p == pe )
		goto _test_eof4;
case 4:
/* #line 675 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 13u: goto st4;
		case 32u: goto st4;
		case 58u: goto tr19;
	}
	if ( 9u <= (*p) && (*p) <= 10u )
		goto st4;
	goto st0;
tr19:
/* #line 497 "runtime/rt_parse.rl" */
	{ P->expect = RT_X_VALUE; }
	goto st5;
st5:
	if ( ++p == pe )
		goto _test_eof5;
case 5:
/* #line 690 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 13u: goto st5;
		case 32u: goto st5;
		case 34u: goto tr21;
		case 45u: goto tr22;
		case 48u: goto tr23;
		case 91u: goto tr25;
		case 102u: goto tr26;
		case 110u: goto tr25;
		case 116u: goto tr27;
		case 123u: goto tr28;
	}
	if ( (*p) > 10u ) {
		if ( 49u <= (*p) && (*p) <= 57u )
			goto tr24;
	} else if ( (*p) >= 9u )
		goto st5;
	goto st0;
tr21:
/* #line 500 "runtime/rt_parse.rl" */
	{
        const rt_field *f = P->field;
        if (f->type != RT_T_STRING) {
            rt_fail(P, RT_E_TYPE, POS(p), rt_type_reason(f), f->name);
            {p++;  P->cs = 6; goto _out;}
        }
        P->str_mode = f->cls == RT_C_PUBLIC ? RT_PARSE_M_PUBLIC : RT_PARSE_M_SINK;
        P->in_str = 1;
        P->slen = 0;
        P->str_pos = POS(p);
        if (P->str_mode == RT_PARSE_M_SINK)
            rt_sinks_begin(P, f);
        mark = p + 1;
    }
	goto st6;
tr43:
/* #line 383 "runtime/rt_parse.rl" */
	{
        uint8_t c[4] = { 0 };
        switch ((*p)) {
        case 'b': c[0] = '\b'; break;
        case 'f': c[0] = '\f'; break;
        case 'n': c[0] = '\n'; break;
        case 'r': c[0] = '\r'; break;
        case 't': c[0] = '\t'; break;
        default: c[0] = (*p); break;
        }
        int r = rt_put(P, c, 1, POS(p), 0);
        rt_wipe_small(c);
        if (r) {p++;  P->cs = 6; goto _out;}
        P->in_esc = 0;
        mark = p + 1;
    }
	goto st6;
tr49:
/* #line 402 "runtime/rt_parse.rl" */
	{
        P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p));
        int r = rt_put_cp(P, P->u, POS(p));
        P->u = 0;
        if (r) {p++;  P->cs = 6; goto _out;}
        P->in_esc = 0;
        mark = p + 1;
    }
	goto st6;
tr58:
/* #line 415 "runtime/rt_parse.rl" */
	{
        P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p));
        uint32_t cp = 0x10000 + ((P->u_hi - 0xd800) << 10) + (P->u - 0xdc00);
        int r = rt_put_cp(P, cp, POS(p));
        P->u = P->u_hi = 0;
        if (r) {p++;  P->cs = 6; goto _out;}
        P->in_esc = 0;
        mark = p + 1;
    }
	goto st6;
st6:
/* #line 426 "runtime/rt_parse.rl" */
	{ p = rt_scan_plain(p + 1, pe) - 1; }
	if ( ++p == pe )
		goto _test_eof6;
case 6:
/* #line 768 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 34u: goto tr30;
		case 92u: goto tr31;
		case 224u: goto st24;
		case 237u: goto st26;
		case 240u: goto st27;
		case 244u: goto st29;
	}
	if ( (*p) < 194u ) {
		if ( 32u <= (*p) && (*p) <= 127u )
			goto st6;
	} else if ( (*p) > 223u ) {
		if ( (*p) > 239u ) {
			if ( 241u <= (*p) && (*p) <= 243u )
				goto st28;
		} else if ( (*p) >= 225u )
			goto st25;
	} else
		goto st23;
	goto tr7;
tr25:
/* #line 596 "runtime/rt_parse.rl" */
	{
        rt_fail(P, RT_E_TYPE, POS(p), rt_type_reason(P->field), P->field->name);
        {p++;  P->cs = 7; goto _out;}
    }
	goto st7;
tr28:
/* #line 601 "runtime/rt_parse.rl" */
	{
        const rt_field *f = P->field;
        if (f->type != RT_T_OBJECT) {
            rt_fail(P, RT_E_TYPE, POS(p), rt_type_reason(f), f->name);
            {p++;  P->cs = 7; goto _out;}
        }
        if (P->depth >= P->schema->max_depth || P->depth >= RT_PARSE_MAX_DEPTH) {
            rt_fail(P, RT_E_DEPTH, POS(p), "objects nested too deeply", f->name);
            {p++;  P->cs = 7; goto _out;}
        }
        P->objs[P->depth++] = f->obj;
        P->field = NULL;
        P->expect = RT_X_KEY_OR_END;
        { P->stack[ P->top++] = 7;goto st2;}
    }
	goto st7;
tr30:
/* #line 514 "runtime/rt_parse.rl" */
	{
        const rt_field *f = P->field;
        if (rt_put(P, mark, (size_t)(p - mark), POS(mark), 1)) {p++;  P->cs = 7; goto _out;}
        P->in_str = 0;
        if ((int64_t)P->slen < f->min) {
            rt_fail(P, RT_E_LENGTH, POS(p), "string too short", f->name);
            {p++;  P->cs = 7; goto _out;}
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
	goto st7;
tr62:
/* #line 554 "runtime/rt_parse.rl" */
	{
        if ((*p) != '.' && (*p) != 'e' && (*p) != 'E') {
            const rt_field *f = P->field;
            int64_t v;
            if (P->num_ovf) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer overflows int64", f->name);
                {p++;  P->cs = 7; goto _out;}
            }
            if (!P->num_neg)
                v = (int64_t)P->num_mag;
            else if (P->num_mag > (uint64_t)INT64_MAX)
                v = INT64_MIN;
            else
                v = -(int64_t)P->num_mag;
            if (v < f->min || v > f->max) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer out of range", f->name);
                {p++;  P->cs = 7; goto _out;}
            }
            memcpy(P->out + f->off, &v, sizeof v);
            P->num_mag = 0;
            P->field = NULL;
            P->expect = RT_X_COMMA_OR_END;
        }
    }
	goto st7;
tr64:
/* #line 554 "runtime/rt_parse.rl" */
	{
        if ((*p) != '.' && (*p) != 'e' && (*p) != 'E') {
            const rt_field *f = P->field;
            int64_t v;
            if (P->num_ovf) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer overflows int64", f->name);
                {p++;  P->cs = 7; goto _out;}
            }
            if (!P->num_neg)
                v = (int64_t)P->num_mag;
            else if (P->num_mag > (uint64_t)INT64_MAX)
                v = INT64_MIN;
            else
                v = -(int64_t)P->num_mag;
            if (v < f->min || v > f->max) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer out of range", f->name);
                {p++;  P->cs = 7; goto _out;}
            }
            memcpy(P->out + f->off, &v, sizeof v);
            P->num_mag = 0;
            P->field = NULL;
            P->expect = RT_X_COMMA_OR_END;
        }
    }
/* #line 578 "runtime/rt_parse.rl" */
	{
        rt_fail(P, RT_E_TYPE, POS(p), "expected an integer, not a fraction or exponent",
                P->field->name);
        {p++;  P->cs = 7; goto _out;}
    }
	goto st7;
tr69:
/* #line 593 "runtime/rt_parse.rl" */
	{ P->out[P->field->off] = 0; P->field = NULL; P->expect = RT_X_COMMA_OR_END; }
	goto st7;
tr72:
/* #line 592 "runtime/rt_parse.rl" */
	{ P->out[P->field->off] = 1; P->field = NULL; P->expect = RT_X_COMMA_OR_END; }
	goto st7;
st7:
	if ( ++p == pe )
		goto _test_eof7;
case 7:
/* #line 897 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 13u: goto st7;
		case 32u: goto st7;
		case 44u: goto tr40;
		case 125u: goto tr6;
	}
	if ( 9u <= (*p) && (*p) <= 10u )
		goto st7;
	goto st0;
tr40:
/* #line 498 "runtime/rt_parse.rl" */
	{ P->expect = RT_X_KEY; }
	goto st8;
tr63:
/* #line 554 "runtime/rt_parse.rl" */
	{
        if ((*p) != '.' && (*p) != 'e' && (*p) != 'E') {
            const rt_field *f = P->field;
            int64_t v;
            if (P->num_ovf) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer overflows int64", f->name);
                {p++;  P->cs = 8; goto _out;}
            }
            if (!P->num_neg)
                v = (int64_t)P->num_mag;
            else if (P->num_mag > (uint64_t)INT64_MAX)
                v = INT64_MIN;
            else
                v = -(int64_t)P->num_mag;
            if (v < f->min || v > f->max) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer out of range", f->name);
                {p++;  P->cs = 8; goto _out;}
            }
            memcpy(P->out + f->off, &v, sizeof v);
            P->num_mag = 0;
            P->field = NULL;
            P->expect = RT_X_COMMA_OR_END;
        }
    }
/* #line 498 "runtime/rt_parse.rl" */
	{ P->expect = RT_X_KEY; }
	goto st8;
st8:
	if ( ++p == pe )
		goto _test_eof8;
case 8:
/* #line 940 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 13u: goto st8;
		case 32u: goto st8;
		case 34u: goto tr5;
	}
	if ( 9u <= (*p) && (*p) <= 10u )
		goto st8;
	goto st0;
tr6:
/* #line 618 "runtime/rt_parse.rl" */
	{
        if (P->depth > 1 && rt_missing(P, P->objs[P->depth - 1], POS(p))) {p++;  P->cs = 63; goto _out;}
        P->depth--;
        P->field = NULL;
        if (P->depth == 0) {
            P->done = 1;
            P->expect = RT_X_AFTER;
        } else {
            P->expect = RT_X_COMMA_OR_END;
        }
        { P->cs =  P->stack[-- P->top];goto _again;}
    }
	goto st63;
tr65:
/* #line 554 "runtime/rt_parse.rl" */
	{
        if ((*p) != '.' && (*p) != 'e' && (*p) != 'E') {
            const rt_field *f = P->field;
            int64_t v;
            if (P->num_ovf) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer overflows int64", f->name);
                {p++;  P->cs = 63; goto _out;}
            }
            if (!P->num_neg)
                v = (int64_t)P->num_mag;
            else if (P->num_mag > (uint64_t)INT64_MAX)
                v = INT64_MIN;
            else
                v = -(int64_t)P->num_mag;
            if (v < f->min || v > f->max) {
                rt_fail(P, RT_E_RANGE, P->num_pos, "integer out of range", f->name);
                {p++;  P->cs = 63; goto _out;}
            }
            memcpy(P->out + f->off, &v, sizeof v);
            P->num_mag = 0;
            P->field = NULL;
            P->expect = RT_X_COMMA_OR_END;
        }
    }
/* #line 618 "runtime/rt_parse.rl" */
	{
        if (P->depth > 1 && rt_missing(P, P->objs[P->depth - 1], POS(p))) {p++;  P->cs = 63; goto _out;}
        P->depth--;
        P->field = NULL;
        if (P->depth == 0) {
            P->done = 1;
            P->expect = RT_X_AFTER;
        } else {
            P->expect = RT_X_COMMA_OR_END;
        }
        { P->cs =  P->stack[-- P->top];goto _again;}
    }
	goto st63;
st63:
	if ( ++p == pe )
		goto _test_eof63;
case 63:
/* #line 1004 "runtime/rt_parse.c" */
	goto st0;
tr31:
/* #line 379 "runtime/rt_parse.rl" */
	{
        if (rt_put(P, mark, (size_t)(p - mark), POS(mark), 1)) {p++;  P->cs = 9; goto _out;}
        P->in_esc = 1;
    }
	goto st9;
st9:
	if ( ++p == pe )
		goto _test_eof9;
case 9:
/* #line 1015 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 34u: goto tr43;
		case 47u: goto tr43;
		case 92u: goto tr43;
		case 98u: goto tr43;
		case 102u: goto tr43;
		case 110u: goto tr43;
		case 114u: goto tr43;
		case 116u: goto tr43;
		case 117u: goto tr44;
	}
	goto tr42;
tr44:
/* #line 399 "runtime/rt_parse.rl" */
	{ P->in_esc = 2; P->u = 0; }
	goto st10;
st10:
	if ( ++p == pe )
		goto _test_eof10;
case 10:
/* #line 1034 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 68u: goto tr46;
		case 100u: goto tr46;
	}
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr45;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr45;
	} else
		goto tr45;
	goto tr42;
tr45:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st11;
st11:
	if ( ++p == pe )
		goto _test_eof11;
case 11:
/* #line 1054 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr47;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr47;
	} else
		goto tr47;
	goto tr42;
tr47:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st12;
st12:
	if ( ++p == pe )
		goto _test_eof12;
case 12:
/* #line 1070 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr48;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr48;
	} else
		goto tr48;
	goto tr42;
tr48:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st13;
st13:
	if ( ++p == pe )
		goto _test_eof13;
case 13:
/* #line 1086 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr49;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr49;
	} else
		goto tr49;
	goto tr42;
tr46:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st14;
st14:
	if ( ++p == pe )
		goto _test_eof14;
case 14:
/* #line 1102 "runtime/rt_parse.c" */
	if ( (*p) < 56u ) {
		if ( 48u <= (*p) && (*p) <= 55u )
			goto tr47;
	} else if ( (*p) > 57u ) {
		if ( (*p) > 66u ) {
			if ( 97u <= (*p) && (*p) <= 98u )
				goto tr50;
		} else if ( (*p) >= 65u )
			goto tr50;
	} else
		goto tr50;
	goto tr42;
tr50:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st15;
st15:
	if ( ++p == pe )
		goto _test_eof15;
case 15:
/* #line 1121 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr51;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr51;
	} else
		goto tr51;
	goto tr42;
tr51:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st16;
st16:
	if ( ++p == pe )
		goto _test_eof16;
case 16:
/* #line 1137 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr52;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr52;
	} else
		goto tr52;
	goto tr42;
tr52:
/* #line 410 "runtime/rt_parse.rl" */
	{
        P->u_hi = P->u << 4 | (uint32_t)rt_hex_digit((*p));
        P->u = 0;
        P->in_esc = 3;
    }
	goto st17;
st17:
	if ( ++p == pe )
		goto _test_eof17;
case 17:
/* #line 1157 "runtime/rt_parse.c" */
	if ( (*p) == 92u )
		goto st18;
	goto tr42;
st18:
	if ( ++p == pe )
		goto _test_eof18;
case 18:
	if ( (*p) == 117u )
		goto st19;
	goto tr42;
st19:
	if ( ++p == pe )
		goto _test_eof19;
case 19:
	switch( (*p) ) {
		case 68u: goto tr55;
		case 100u: goto tr55;
	}
	goto tr42;
tr55:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st20;
st20:
	if ( ++p == pe )
		goto _test_eof20;
case 20:
/* #line 1183 "runtime/rt_parse.c" */
	if ( (*p) > 70u ) {
		if ( 99u <= (*p) && (*p) <= 102u )
			goto tr56;
	} else if ( (*p) >= 67u )
		goto tr56;
	goto tr42;
tr56:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st21;
st21:
	if ( ++p == pe )
		goto _test_eof21;
case 21:
/* #line 1196 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr57;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr57;
	} else
		goto tr57;
	goto tr42;
tr57:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st22;
st22:
	if ( ++p == pe )
		goto _test_eof22;
case 22:
/* #line 1212 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr58;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr58;
	} else
		goto tr58;
	goto tr42;
st23:
	if ( ++p == pe )
		goto _test_eof23;
case 23:
	if ( 128u <= (*p) && (*p) <= 191u )
		goto st6;
	goto tr59;
st24:
	if ( ++p == pe )
		goto _test_eof24;
case 24:
	if ( 160u <= (*p) && (*p) <= 191u )
		goto st23;
	goto tr59;
st25:
	if ( ++p == pe )
		goto _test_eof25;
case 25:
	if ( 128u <= (*p) && (*p) <= 191u )
		goto st23;
	goto tr59;
st26:
	if ( ++p == pe )
		goto _test_eof26;
case 26:
	if ( 128u <= (*p) && (*p) <= 159u )
		goto st23;
	goto tr59;
st27:
	if ( ++p == pe )
		goto _test_eof27;
case 27:
	if ( 144u <= (*p) && (*p) <= 191u )
		goto st25;
	goto tr59;
st28:
	if ( ++p == pe )
		goto _test_eof28;
case 28:
	if ( 128u <= (*p) && (*p) <= 191u )
		goto st25;
	goto tr59;
st29:
	if ( ++p == pe )
		goto _test_eof29;
case 29:
	if ( 128u <= (*p) && (*p) <= 143u )
		goto st25;
	goto tr59;
tr22:
/* #line 532 "runtime/rt_parse.rl" */
	{
        if (P->field->type != RT_T_INT) {
            rt_fail(P, RT_E_TYPE, POS(p), rt_type_reason(P->field),
                    P->field->name);
            {p++;  P->cs = 30; goto _out;}
        }
        P->num_pos = POS(p);
        P->num_mag = 0;
        P->num_neg = 0;
        P->num_ovf = 0;
        P->expect = RT_X_NUMBER;
    }
/* #line 544 "runtime/rt_parse.rl" */
	{ P->num_neg = 1; }
	goto st30;
st30:
	if ( ++p == pe )
		goto _test_eof30;
case 30:
/* #line 1289 "runtime/rt_parse.c" */
	if ( (*p) == 48u )
		goto st31;
	if ( 49u <= (*p) && (*p) <= 57u )
		goto tr61;
	goto st0;
tr23:
/* #line 532 "runtime/rt_parse.rl" */
	{
        if (P->field->type != RT_T_INT) {
            rt_fail(P, RT_E_TYPE, POS(p), rt_type_reason(P->field),
                    P->field->name);
            {p++;  P->cs = 31; goto _out;}
        }
        P->num_pos = POS(p);
        P->num_mag = 0;
        P->num_neg = 0;
        P->num_ovf = 0;
        P->expect = RT_X_NUMBER;
    }
	goto st31;
st31:
	if ( ++p == pe )
		goto _test_eof31;
case 31:
/* #line 1312 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 13u: goto tr62;
		case 32u: goto tr62;
		case 44u: goto tr63;
		case 46u: goto tr64;
		case 69u: goto tr64;
		case 101u: goto tr64;
		case 125u: goto tr65;
	}
	if ( 9u <= (*p) && (*p) <= 10u )
		goto tr62;
	goto st0;
tr24:
/* #line 532 "runtime/rt_parse.rl" */
	{
        if (P->field->type != RT_T_INT) {
            rt_fail(P, RT_E_TYPE, POS(p), rt_type_reason(P->field),
                    P->field->name);
            {p++;  P->cs = 32; goto _out;}
        }
        P->num_pos = POS(p);
        P->num_mag = 0;
        P->num_neg = 0;
        P->num_ovf = 0;
        P->expect = RT_X_NUMBER;
    }
/* #line 545 "runtime/rt_parse.rl" */
	{
        uint64_t d = (uint64_t)((*p) - '0');
        uint64_t lim = P->num_neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (P->num_ovf || P->num_mag > (lim - d) / 10)
            P->num_ovf = 1;
        else
            P->num_mag = P->num_mag * 10 + d;
    }
	goto st32;
tr61:
/* #line 545 "runtime/rt_parse.rl" */
	{
        uint64_t d = (uint64_t)((*p) - '0');
        uint64_t lim = P->num_neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (P->num_ovf || P->num_mag > (lim - d) / 10)
            P->num_ovf = 1;
        else
            P->num_mag = P->num_mag * 10 + d;
    }
	goto st32;
st32:
	if ( ++p == pe )
		goto _test_eof32;
case 32:
/* #line 1360 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 13u: goto tr62;
		case 32u: goto tr62;
		case 44u: goto tr63;
		case 46u: goto tr64;
		case 69u: goto tr64;
		case 101u: goto tr64;
		case 125u: goto tr65;
	}
	if ( (*p) > 10u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr61;
	} else if ( (*p) >= 9u )
		goto tr62;
	goto st0;
tr26:
/* #line 584 "runtime/rt_parse.rl" */
	{
        if (P->field->type != RT_T_BOOL) {
            rt_fail(P, RT_E_TYPE, POS(p), rt_type_reason(P->field),
                    P->field->name);
            {p++;  P->cs = 33; goto _out;}
        }
        P->expect = RT_X_LITERAL;
    }
	goto st33;
st33:
	if ( ++p == pe )
		goto _test_eof33;
case 33:
/* #line 1389 "runtime/rt_parse.c" */
	if ( (*p) == 97u )
		goto st34;
	goto st0;
st34:
	if ( ++p == pe )
		goto _test_eof34;
case 34:
	if ( (*p) == 108u )
		goto st35;
	goto st0;
st35:
	if ( ++p == pe )
		goto _test_eof35;
case 35:
	if ( (*p) == 115u )
		goto st36;
	goto st0;
st36:
	if ( ++p == pe )
		goto _test_eof36;
case 36:
	if ( (*p) == 101u )
		goto tr69;
	goto st0;
tr27:
/* #line 584 "runtime/rt_parse.rl" */
	{
        if (P->field->type != RT_T_BOOL) {
            rt_fail(P, RT_E_TYPE, POS(p), rt_type_reason(P->field),
                    P->field->name);
            {p++;  P->cs = 37; goto _out;}
        }
        P->expect = RT_X_LITERAL;
    }
	goto st37;
st37:
	if ( ++p == pe )
		goto _test_eof37;
case 37:
/* #line 1427 "runtime/rt_parse.c" */
	if ( (*p) == 114u )
		goto st38;
	goto st0;
st38:
	if ( ++p == pe )
		goto _test_eof38;
case 38:
	if ( (*p) == 117u )
		goto st39;
	goto st0;
st39:
	if ( ++p == pe )
		goto _test_eof39;
case 39:
	if ( (*p) == 101u )
		goto tr72;
	goto st0;
tr10:
/* #line 379 "runtime/rt_parse.rl" */
	{
        if (rt_put(P, mark, (size_t)(p - mark), POS(mark), 1)) {p++;  P->cs = 40; goto _out;}
        P->in_esc = 1;
    }
	goto st40;
st40:
	if ( ++p == pe )
		goto _test_eof40;
case 40:
/* #line 1454 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 34u: goto tr73;
		case 47u: goto tr73;
		case 92u: goto tr73;
		case 98u: goto tr73;
		case 102u: goto tr73;
		case 110u: goto tr73;
		case 114u: goto tr73;
		case 116u: goto tr73;
		case 117u: goto tr74;
	}
	goto tr42;
tr74:
/* #line 399 "runtime/rt_parse.rl" */
	{ P->in_esc = 2; P->u = 0; }
	goto st41;
st41:
	if ( ++p == pe )
		goto _test_eof41;
case 41:
/* #line 1473 "runtime/rt_parse.c" */
	switch( (*p) ) {
		case 68u: goto tr76;
		case 100u: goto tr76;
	}
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr75;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr75;
	} else
		goto tr75;
	goto tr42;
tr75:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st42;
st42:
	if ( ++p == pe )
		goto _test_eof42;
case 42:
/* #line 1493 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr77;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr77;
	} else
		goto tr77;
	goto tr42;
tr77:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st43;
st43:
	if ( ++p == pe )
		goto _test_eof43;
case 43:
/* #line 1509 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr78;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr78;
	} else
		goto tr78;
	goto tr42;
tr78:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st44;
st44:
	if ( ++p == pe )
		goto _test_eof44;
case 44:
/* #line 1525 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr79;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr79;
	} else
		goto tr79;
	goto tr42;
tr76:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st45;
st45:
	if ( ++p == pe )
		goto _test_eof45;
case 45:
/* #line 1541 "runtime/rt_parse.c" */
	if ( (*p) < 56u ) {
		if ( 48u <= (*p) && (*p) <= 55u )
			goto tr77;
	} else if ( (*p) > 57u ) {
		if ( (*p) > 66u ) {
			if ( 97u <= (*p) && (*p) <= 98u )
				goto tr80;
		} else if ( (*p) >= 65u )
			goto tr80;
	} else
		goto tr80;
	goto tr42;
tr80:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st46;
st46:
	if ( ++p == pe )
		goto _test_eof46;
case 46:
/* #line 1560 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr81;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr81;
	} else
		goto tr81;
	goto tr42;
tr81:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st47;
st47:
	if ( ++p == pe )
		goto _test_eof47;
case 47:
/* #line 1576 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr82;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr82;
	} else
		goto tr82;
	goto tr42;
tr82:
/* #line 410 "runtime/rt_parse.rl" */
	{
        P->u_hi = P->u << 4 | (uint32_t)rt_hex_digit((*p));
        P->u = 0;
        P->in_esc = 3;
    }
	goto st48;
st48:
	if ( ++p == pe )
		goto _test_eof48;
case 48:
/* #line 1596 "runtime/rt_parse.c" */
	if ( (*p) == 92u )
		goto st49;
	goto tr42;
st49:
	if ( ++p == pe )
		goto _test_eof49;
case 49:
	if ( (*p) == 117u )
		goto st50;
	goto tr42;
st50:
	if ( ++p == pe )
		goto _test_eof50;
case 50:
	switch( (*p) ) {
		case 68u: goto tr85;
		case 100u: goto tr85;
	}
	goto tr42;
tr85:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st51;
st51:
	if ( ++p == pe )
		goto _test_eof51;
case 51:
/* #line 1622 "runtime/rt_parse.c" */
	if ( (*p) > 70u ) {
		if ( 99u <= (*p) && (*p) <= 102u )
			goto tr86;
	} else if ( (*p) >= 67u )
		goto tr86;
	goto tr42;
tr86:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st52;
st52:
	if ( ++p == pe )
		goto _test_eof52;
case 52:
/* #line 1635 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr87;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr87;
	} else
		goto tr87;
	goto tr42;
tr87:
/* #line 400 "runtime/rt_parse.rl" */
	{ P->u = P->u << 4 | (uint32_t)rt_hex_digit((*p)); }
	goto st53;
st53:
	if ( ++p == pe )
		goto _test_eof53;
case 53:
/* #line 1651 "runtime/rt_parse.c" */
	if ( (*p) < 65u ) {
		if ( 48u <= (*p) && (*p) <= 57u )
			goto tr88;
	} else if ( (*p) > 70u ) {
		if ( 97u <= (*p) && (*p) <= 102u )
			goto tr88;
	} else
		goto tr88;
	goto tr42;
st54:
	if ( ++p == pe )
		goto _test_eof54;
case 54:
	if ( 128u <= (*p) && (*p) <= 191u )
		goto st3;
	goto tr59;
st55:
	if ( ++p == pe )
		goto _test_eof55;
case 55:
	if ( 160u <= (*p) && (*p) <= 191u )
		goto st54;
	goto tr59;
st56:
	if ( ++p == pe )
		goto _test_eof56;
case 56:
	if ( 128u <= (*p) && (*p) <= 191u )
		goto st54;
	goto tr59;
st57:
	if ( ++p == pe )
		goto _test_eof57;
case 57:
	if ( 128u <= (*p) && (*p) <= 159u )
		goto st54;
	goto tr59;
st58:
	if ( ++p == pe )
		goto _test_eof58;
case 58:
	if ( 144u <= (*p) && (*p) <= 191u )
		goto st56;
	goto tr59;
st59:
	if ( ++p == pe )
		goto _test_eof59;
case 59:
	if ( 128u <= (*p) && (*p) <= 191u )
		goto st56;
	goto tr59;
st60:
	if ( ++p == pe )
		goto _test_eof60;
case 60:
	if ( 128u <= (*p) && (*p) <= 143u )
		goto st56;
	goto tr59;
	}
	_test_eof1:  P->cs = 1; goto _test_eof; 
	_test_eof61:  P->cs = 61; goto _test_eof; 
	_test_eof62:  P->cs = 62; goto _test_eof; 
	_test_eof2:  P->cs = 2; goto _test_eof; 
	_test_eof3:  P->cs = 3; goto _test_eof; 
	_test_eof4:  P->cs = 4; goto _test_eof; 
	_test_eof5:  P->cs = 5; goto _test_eof; 
	_test_eof6:  P->cs = 6; goto _test_eof; 
	_test_eof7:  P->cs = 7; goto _test_eof; 
	_test_eof8:  P->cs = 8; goto _test_eof; 
	_test_eof63:  P->cs = 63; goto _test_eof; 
	_test_eof9:  P->cs = 9; goto _test_eof; 
	_test_eof10:  P->cs = 10; goto _test_eof; 
	_test_eof11:  P->cs = 11; goto _test_eof; 
	_test_eof12:  P->cs = 12; goto _test_eof; 
	_test_eof13:  P->cs = 13; goto _test_eof; 
	_test_eof14:  P->cs = 14; goto _test_eof; 
	_test_eof15:  P->cs = 15; goto _test_eof; 
	_test_eof16:  P->cs = 16; goto _test_eof; 
	_test_eof17:  P->cs = 17; goto _test_eof; 
	_test_eof18:  P->cs = 18; goto _test_eof; 
	_test_eof19:  P->cs = 19; goto _test_eof; 
	_test_eof20:  P->cs = 20; goto _test_eof; 
	_test_eof21:  P->cs = 21; goto _test_eof; 
	_test_eof22:  P->cs = 22; goto _test_eof; 
	_test_eof23:  P->cs = 23; goto _test_eof; 
	_test_eof24:  P->cs = 24; goto _test_eof; 
	_test_eof25:  P->cs = 25; goto _test_eof; 
	_test_eof26:  P->cs = 26; goto _test_eof; 
	_test_eof27:  P->cs = 27; goto _test_eof; 
	_test_eof28:  P->cs = 28; goto _test_eof; 
	_test_eof29:  P->cs = 29; goto _test_eof; 
	_test_eof30:  P->cs = 30; goto _test_eof; 
	_test_eof31:  P->cs = 31; goto _test_eof; 
	_test_eof32:  P->cs = 32; goto _test_eof; 
	_test_eof33:  P->cs = 33; goto _test_eof; 
	_test_eof34:  P->cs = 34; goto _test_eof; 
	_test_eof35:  P->cs = 35; goto _test_eof; 
	_test_eof36:  P->cs = 36; goto _test_eof; 
	_test_eof37:  P->cs = 37; goto _test_eof; 
	_test_eof38:  P->cs = 38; goto _test_eof; 
	_test_eof39:  P->cs = 39; goto _test_eof; 
	_test_eof40:  P->cs = 40; goto _test_eof; 
	_test_eof41:  P->cs = 41; goto _test_eof; 
	_test_eof42:  P->cs = 42; goto _test_eof; 
	_test_eof43:  P->cs = 43; goto _test_eof; 
	_test_eof44:  P->cs = 44; goto _test_eof; 
	_test_eof45:  P->cs = 45; goto _test_eof; 
	_test_eof46:  P->cs = 46; goto _test_eof; 
	_test_eof47:  P->cs = 47; goto _test_eof; 
	_test_eof48:  P->cs = 48; goto _test_eof; 
	_test_eof49:  P->cs = 49; goto _test_eof; 
	_test_eof50:  P->cs = 50; goto _test_eof; 
	_test_eof51:  P->cs = 51; goto _test_eof; 
	_test_eof52:  P->cs = 52; goto _test_eof; 
	_test_eof53:  P->cs = 53; goto _test_eof; 
	_test_eof54:  P->cs = 54; goto _test_eof; 
	_test_eof55:  P->cs = 55; goto _test_eof; 
	_test_eof56:  P->cs = 56; goto _test_eof; 
	_test_eof57:  P->cs = 57; goto _test_eof; 
	_test_eof58:  P->cs = 58; goto _test_eof; 
	_test_eof59:  P->cs = 59; goto _test_eof; 
	_test_eof60:  P->cs = 60; goto _test_eof; 

	_test_eof: {}
	if ( p == eof )
	{
	switch (  P->cs ) {
	case 3: 
	case 6: 
/* #line 430 "runtime/rt_parse.rl" */
	{
        if (P->in_str && !P->in_esc)
            rt_put(P, mark, (size_t)(p - mark), POS(mark), 1);
        if ((*p) < 0x20)
            rt_fail(P, RT_E_SYNTAX, POS(p), "control character in string",
                    rt_str_field(P));
        else
            rt_fail(P, RT_E_UTF8, POS(p), "invalid UTF-8 byte",
                    rt_str_field(P));
    }
	break;
	case 23: 
	case 24: 
	case 25: 
	case 26: 
	case 27: 
	case 28: 
	case 29: 
	case 54: 
	case 55: 
	case 56: 
	case 57: 
	case 58: 
	case 59: 
	case 60: 
/* #line 440 "runtime/rt_parse.rl" */
	{
        rt_put(P, mark, (size_t)(p - mark), POS(mark), 1);
        rt_fail(P, RT_E_UTF8, POS(p), "invalid UTF-8 sequence",
                rt_str_field(P));
    }
	break;
	case 9: 
	case 10: 
	case 11: 
	case 12: 
	case 13: 
	case 14: 
	case 15: 
	case 16: 
	case 17: 
	case 18: 
	case 19: 
	case 20: 
	case 21: 
	case 22: 
	case 40: 
	case 41: 
	case 42: 
	case 43: 
	case 44: 
	case 45: 
	case 46: 
	case 47: 
	case 48: 
	case 49: 
	case 50: 
	case 51: 
	case 52: 
	case 53: 
/* #line 445 "runtime/rt_parse.rl" */
	{
        if (P->in_esc == 3 || (P->in_esc == 2 && rt_hex_digit((*p)) >= 0))
            rt_fail(P, RT_E_UTF8, POS(p), "unpaired surrogate escape",
                    rt_str_field(P));
        else
            rt_fail(P, RT_E_SYNTAX, POS(p), "invalid escape",
                    rt_str_field(P));
    }
	break;
/* #line 1848 "runtime/rt_parse.c" */
	}
	}

	_out: {}
	}

/* #line 699 "runtime/rt_parse.rl" */
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

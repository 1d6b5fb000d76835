/*
 * rt_json.c - canonical JSON writer (RFC 8785) and strict UTF-8 validation.
 *
 * See rt_json.h for the contracts.  Design notes:
 *  - Every write goes through rt_jw_put(), the single place that checks the
 *    remaining capacity, so nothing can be written at or beyond cap.
 *  - Errors are sticky: each entry point returns at once if w->err is set.
 *  - Key order is checked against the previous key of the same object,
 *    read back from the output buffer.  Those bytes are in escaped form, so
 *    the comparison unescapes them on the fly (an escaped key such as "\n"
 *    must compare as byte 0x0a, not as '\\').
 */
#include "rt_hex.h"
#include "rt_json.h"

#include <string.h>

/* rt_jw.state bits */
#define RT_JW_ST_DONE 0x01u /* the top-level value is complete */
#define RT_JW_ST_KEY  0x02u /* a key was written; its value comes next */

static const char rt_json_hexdig[] = "0123456789abcdef";

/*
 * What each byte becomes inside a JSON string: 0 = copied as is, otherwise
 * the character following the backslash ('u' means \u00xx).  RFC 8785
 * 3.2.2.2 escapes exactly '"', '\\' and U+0000..U+001F; '/', DEL and all
 * non-ASCII are emitted raw.
 */
static const char rt_json_esc[256] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
    [0x05] = 'u', [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u',
    [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u',
    [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u',
    [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
    [0x1e] = 'u', [0x1f] = 'u',
    ['"'] = '"', ['\\'] = '\\',
};

/* ---------------------------------------------------------------- UTF-8 */

/* True if none of the 8 bytes at p has the high bit set (pure ASCII). */
static int rt_utf8_ascii8(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v); /* memcpy: p need not be aligned */
    return (v & UINT64_C(0x8080808080808080)) == 0;
}

size_t rt_utf8_valid_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];

        if (c < 0x80) {
            /* Most text is ASCII: skip it 8 bytes at a time. */
            i++;
            while (n - i >= 8 && rt_utf8_ascii8(s + i))
                i += 8;
            continue;
        }

        /*
         * Ranges from Unicode Table 3-7 ("Well-Formed UTF-8 Byte
         * Sequences").  Restricting the second byte per lead byte rejects
         * overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4) without
         * decoding; C0, C1 and F5..FF can never start a sequence.
         */
        size_t need;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;
            else if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;
            else if (c == 0xF4) hi = 0x8F;
        } else {
            return i; /* continuation byte, C0, C1, F5..FF */
        }

        if (n - i - 1 < need)
            return i; /* truncated */
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += need + 1;
    }
    return n;
}

/* ------------------------------------------------------------ key order */

/*
 * Weight of the first differing byte of two UTF-8 strings such that
 * comparing weights gives UTF-16 code-unit order.  When two valid strings
 * share a prefix and then differ, the differing bytes are either both lead
 * bytes or both continuation bytes of the same lead.  Only one case
 * disagrees with byte order: lead bytes EE/EF (U+E000..U+FFFF, single
 * UTF-16 units >= 0xE000) versus F0..F4 (supplementary, surrogate pairs
 * starting 0xD800..0xDBFF).  Lifting EE/EF above every byte value fixes it
 * and keeps the mapping injective, hence a total order on any bytes.
 */
static int rt_json_u16_weight(unsigned b)
{
    return (b == 0xEE || b == 0xEF) ? (int)b + 0x100 : (int)b;
}

/*
 * Reads the next raw byte of a string held in the writer's escaped form
 * (the inverse of rt_jw_put_escaped; only those escapes can occur).
 */
static unsigned rt_json_unescape_next(const char *e, size_t en, size_t *i)
{
    unsigned c = (uint8_t)e[(*i)++];
    if (c != '\\' || *i >= en)
        return c;
    char x = e[(*i)++];
    switch (x) {
    case 'b': return 0x08;
    case 't': return 0x09;
    case 'n': return 0x0a;
    case 'f': return 0x0c;
    case 'r': return 0x0d;
    case 'u':
        if (en - *i >= 4) {
            unsigned v = (unsigned)(rt_hex_digit((unsigned char)e[*i + 2]) << 4 |
                                    rt_hex_digit((unsigned char)e[*i + 3]));
            *i += 4;
            return v;
        }
        *i = en;
        return 0;
    default:
        return (uint8_t)x; /* \" and \\ */
    }
}

/* Key comparison; a is escaped (from the output buffer) if a_esc != 0. */
static int rt_json_key_cmp_impl(const char *a, size_t an, int a_esc,
                                const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        unsigned ca = a_esc ? rt_json_unescape_next(a, an, &i)
                            : (uint8_t)a[i++];
        unsigned cb = (uint8_t)b[j++];
        if (ca != cb)
            return rt_json_u16_weight(ca) - rt_json_u16_weight(cb);
    }
    /* Equal so far: the shorter one (a proper prefix) sorts first. */
    return (i < an) - (j < bn);
}

int rt_json_key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    return rt_json_key_cmp_impl(a, an, 0, b, bn);
}

/* --------------------------------------------------------------- output */

static void rt_jw_fail(rt_jw *w, int err)
{
    if (w->err == RT_JW_OK)
        w->err = err;
}

/* The only function that stores into buf. */
static void rt_jw_put(rt_jw *w, const void *p, size_t n)
{
    if (w->err)
        return;
    if (n > w->cap - w->len) {
        w->err = RT_JW_E_SPACE;
        return;
    }
    if (n) {
        memcpy(w->buf + w->len, p, n);
        w->len += n;
    }
}

static void rt_jw_putc(rt_jw *w, char c)
{
    rt_jw_put(w, &c, 1);
}

/*
 * Writes s[0..n) with RFC 8785 escaping, without quotes.  Runs of bytes
 * needing no escape (the common case) are copied with one memcpy each.
 * The input must already be validated UTF-8.
 */
static void rt_jw_put_escaped(rt_jw *w, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && !w->err) {
        size_t start = i;
        while (i < n && rt_json_esc[(uint8_t)s[i]] == 0)
            i++;
        rt_jw_put(w, s + start, i - start);
        if (i == n)
            break;
        uint8_t c = (uint8_t)s[i++];
        char e = rt_json_esc[c];
        if (e == 'u') {
            char u[6] = { '\\', 'u', '0', '0', rt_json_hexdig[c >> 4],
                          rt_json_hexdig[c & 0xF] };
            rt_jw_put(w, u, sizeof u);
        } else {
            char u[2] = { '\\', e };
            rt_jw_put(w, u, sizeof u);
        }
    }
}

/* Writes s[0..n) quoted and escaped; s must already be validated. */
static void rt_jw_put_string(rt_jw *w, const char *s, size_t n)
{
    rt_jw_putc(w, '"');
    rt_jw_put_escaped(w, s, n);
    rt_jw_putc(w, '"');
}

/* Returns 1 if s[0..n) is valid UTF-8, else records RT_JW_E_UTF8. */
static int rt_jw_utf8_ok(rt_jw *w, const char *s, size_t n)
{
    if (n && rt_utf8_valid_prefix((const uint8_t *)s, n) != n) {
        rt_jw_fail(w, RT_JW_E_UTF8);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ structure */

static uint32_t rt_jw_level_bit(const rt_jw *w)
{
    return UINT32_C(1) << (w->depth - 1);
}

/*
 * Checks that a value may start here and writes the ',' it needs.
 * Returns 1 if the caller may write the value.
 */
static int rt_jw_value_begin(rt_jw *w)
{
    if (w->err)
        return 0;
    if (w->depth == 0) {
        if (w->state & RT_JW_ST_DONE) {
            rt_jw_fail(w, RT_JW_E_STATE);
            return 0;
        }
        return 1;
    }
    uint32_t bit = rt_jw_level_bit(w);
    if (w->obj_mask & bit) {
        /* In an object a value must follow its key; the ',' went before
         * the key. */
        if (!(w->state & RT_JW_ST_KEY)) {
            rt_jw_fail(w, RT_JW_E_STATE);
            return 0;
        }
        w->state &= (uint8_t)~RT_JW_ST_KEY;
        return 1;
    }
    if (w->any_mask & bit)
        rt_jw_putc(w, ',');
    w->any_mask |= bit;
    return !w->err;
}

/* Marks the document complete when a top-level value has been written. */
static void rt_jw_value_end(rt_jw *w)
{
    if (!w->err && w->depth == 0)
        w->state |= RT_JW_ST_DONE;
}

static void rt_jw_open(rt_jw *w, int is_obj)
{
    if (!rt_jw_value_begin(w))
        return;
    if (w->depth >= RT_JW_MAX_DEPTH) {
        rt_jw_fail(w, RT_JW_E_NESTING);
        return;
    }
    rt_jw_putc(w, is_obj ? '{' : '[');
    if (w->err)
        return;
    w->depth++;
    uint32_t bit = rt_jw_level_bit(w);
    w->any_mask &= ~bit;
    if (is_obj)
        w->obj_mask |= bit;
    else
        w->obj_mask &= ~bit;
}

static void rt_jw_close(rt_jw *w, int is_obj)
{
    if (w->err)
        return;
    if (w->depth == 0 || !(w->obj_mask & rt_jw_level_bit(w)) != !is_obj) {
        rt_jw_fail(w, RT_JW_E_NESTING);
        return;
    }
    if (w->state & RT_JW_ST_KEY) { /* key without a value */
        rt_jw_fail(w, RT_JW_E_STATE);
        return;
    }
    rt_jw_putc(w, is_obj ? '}' : ']');
    if (w->err)
        return;
    w->depth--;
    rt_jw_value_end(w);
}

/* ----------------------------------------------------------- public API */

void rt_jw_init(rt_jw *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = buf ? cap : 0;
}

void rt_jw_obj_begin(rt_jw *w) { rt_jw_open(w, 1); }
void rt_jw_obj_end(rt_jw *w)   { rt_jw_close(w, 1); }
void rt_jw_arr_begin(rt_jw *w) { rt_jw_open(w, 0); }
void rt_jw_arr_end(rt_jw *w)   { rt_jw_close(w, 0); }

void rt_jw_key(rt_jw *w, const char *k, size_t n)
{
    if (w->err)
        return;
    if (w->depth == 0 || !(w->obj_mask & rt_jw_level_bit(w)) ||
        (w->state & RT_JW_ST_KEY)) {
        rt_jw_fail(w, RT_JW_E_STATE);
        return;
    }
    if (!rt_jw_utf8_ok(w, k, n))
        return;

    unsigned d = w->depth - 1u;
    uint32_t bit = rt_jw_level_bit(w);
    if (w->any_mask & bit) {
        if (rt_json_key_cmp_impl(w->buf + w->key_off[d], w->key_len[d], 1,
                                 k, n) >= 0) {
            rt_jw_fail(w, RT_JW_E_ORDER);
            return;
        }
        rt_jw_putc(w, ',');
    }
    rt_jw_putc(w, '"');
    size_t off = w->len;
    rt_jw_put_escaped(w, k, n);
    rt_jw_put(w, "\":", 2);
    if (w->err)
        return;
    w->key_off[d] = off;
    w->key_len[d] = w->len - 2 - off;
    w->any_mask |= bit;
    w->state |= RT_JW_ST_KEY;
}

void rt_jw_str(rt_jw *w, const char *s, size_t n)
{
    if (w->err || !rt_jw_utf8_ok(w, s, n) || !rt_jw_value_begin(w))
        return;
    rt_jw_put_string(w, s, n);
    rt_jw_value_end(w);
}

/* Writes the decimal digits of v (no sign). */
static void rt_jw_put_u64(rt_jw *w, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    rt_jw_put(w, tmp + i, sizeof tmp - i);
}

void rt_jw_int(rt_jw *w, int64_t v)
{
    if (w->err)
        return;
    if (v > RT_JW_INT_MAX || v < -RT_JW_INT_MAX) {
        rt_jw_fail(w, RT_JW_E_RANGE);
        return;
    }
    if (!rt_jw_value_begin(w))
        return;
    /* |v| <= 2^53-1, so negating cannot overflow. */
    if (v < 0) {
        rt_jw_putc(w, '-');
        rt_jw_put_u64(w, (uint64_t)-v);
    } else {
        rt_jw_put_u64(w, (uint64_t)v);
    }
    rt_jw_value_end(w);
}

void rt_jw_uint(rt_jw *w, uint64_t v)
{
    if (w->err)
        return;
    if (v > (uint64_t)RT_JW_INT_MAX) {
        rt_jw_fail(w, RT_JW_E_RANGE);
        return;
    }
    if (!rt_jw_value_begin(w))
        return;
    rt_jw_put_u64(w, v);
    rt_jw_value_end(w);
}

void rt_jw_bool(rt_jw *w, int b)
{
    if (!rt_jw_value_begin(w))
        return;
    if (b)
        rt_jw_put(w, "true", 4);
    else
        rt_jw_put(w, "false", 5);
    rt_jw_value_end(w);
}

void rt_jw_null(rt_jw *w)
{
    if (!rt_jw_value_begin(w))
        return;
    rt_jw_put(w, "null", 4);
    rt_jw_value_end(w);
}

void rt_jw_hex(rt_jw *w, const uint8_t *b, size_t n)
{
    if (!rt_jw_value_begin(w))
        return;
    /* Reject up front what cannot fit, also keeping 2*n from overflowing. */
    if (n > (w->cap - w->len) / 2) {
        rt_jw_fail(w, RT_JW_E_SPACE);
        return;
    }
    rt_jw_putc(w, '"');
    if (w->err)
        return;
    /* Emit through a small stack chunk to keep one capacity check per
     * chunk rather than per byte. */
    char tmp[128];
    size_t i = 0;
    while (i < n) {
        size_t m = n - i < sizeof tmp / 2 ? n - i : sizeof tmp / 2;
        for (size_t k = 0; k < m; k++) {
            tmp[2 * k]     = rt_json_hexdig[b[i + k] >> 4];
            tmp[2 * k + 1] = rt_json_hexdig[b[i + k] & 0xF];
        }
        rt_jw_put(w, tmp, 2 * m);
        i += m;
    }
    rt_jw_putc(w, '"');
    rt_jw_value_end(w);
}

void rt_jw_raw(rt_jw *w, const char *json, size_t n)
{
    if (!rt_jw_value_begin(w))
        return;
    rt_jw_put(w, json, n);
    rt_jw_value_end(w);
}

int rt_jw_finish(rt_jw *w)
{
    if (w->err)
        return w->err;
    if (w->depth != 0 || !(w->state & RT_JW_ST_DONE)) {
        w->err = RT_JW_E_STATE;
        return w->err;
    }
    if (w->len < w->cap)
        w->buf[w->len] = '\0';
    return RT_JW_OK;
}

const char *rt_jw_strerror(int err)
{
    switch (err) {
    case RT_JW_OK:        return "ok";
    case RT_JW_E_SPACE:   return "output buffer too small";
    case RT_JW_E_UTF8:    return "invalid UTF-8 in key or string";
    case RT_JW_E_RANGE:   return "integer magnitude exceeds 2^53-1";
    case RT_JW_E_NESTING: return "nesting too deep or mismatched end";
    case RT_JW_E_ORDER:   return "object keys not in strictly increasing "
                                 "RFC 8785 order";
    case RT_JW_E_STATE:   return "call not valid in the current position";
    default:              return "unknown error";
    }
}

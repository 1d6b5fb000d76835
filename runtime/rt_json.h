/*
 * rt_json.h - canonical JSON writer (RFC 8785, JSON Canonicalization Scheme).
 *
 * The bytes produced here are the bytes that get hashed and signed, so the
 * writer emits exactly the RFC 8785 form for the value types it supports:
 * no whitespace, strings escaped per RFC 8785 section 3.2.2.2, raw UTF-8
 * for everything else, object members in UTF-16 code-unit order.
 *
 * Supported values: objects, arrays, strings, true/false, null, integers.
 *
 * Floating point is deliberately NOT supported.  JCS formats numbers with the
 * ECMAScript Number.prototype.toString algorithm (shortest round-trip
 * representation, exponent rules, "-0" -> "0", ...), which needs a full
 * double-to-shortest-string implementation.  Every number we sign is an
 * integer, and for an integer n with |n| <= 2^53-1 that algorithm yields the
 * plain decimal digits, which is what rt_jw_int/rt_jw_uint write.  Integers
 * beyond 2^53-1 in magnitude are refused (RT_JW_E_RANGE): JCS treats numbers
 * as IEEE-754 doubles (I-JSON, RFC 7493), so such values would not survive a
 * verifier's parse exactly.  Encode larger or fractional quantities as
 * strings.
 *
 * Usage:
 *
 *     char buf[256];
 *     rt_jw w;
 *     rt_jw_init(&w, buf, sizeof buf);
 *     rt_jw_obj_begin(&w);
 *     rt_jw_key(&w, "a", 1); rt_jw_int(&w, 1);
 *     rt_jw_key(&w, "b", 1); rt_jw_str(&w, "x", 1);
 *     rt_jw_obj_end(&w);
 *     if (rt_jw_finish(&w) != 0) ...;      // buf[0..w.len) is {"a":1,"b":"x"}
 *
 * Errors are sticky: the first failure is recorded in w->err, every later
 * call is a no-op, and rt_jw_finish() reports it.  So a sequence of calls
 * needs exactly one check, at the end.  After an error the contents of
 * buf[0..cap) are unspecified (but nothing is ever written at or past cap).
 *
 * The writer never allocates; all state lives in struct rt_jw.
 * An rt_jw must not be used from several threads at once; distinct writers
 * are independent.
 */
#ifndef RT_JSON_H
#define RT_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Maximum number of simultaneously open objects/arrays. */
#define RT_JW_MAX_DEPTH 32

/* Largest integer magnitude the writer accepts: 2^53 - 1. */
#define RT_JW_INT_MAX 9007199254740991LL

/* Error codes (values of rt_jw.err and of rt_jw_finish()). */
enum {
    RT_JW_OK        = 0,
    RT_JW_E_SPACE   = 1, /* output buffer too small */
    RT_JW_E_UTF8    = 2, /* key or string value is not valid UTF-8 */
    RT_JW_E_RANGE   = 3, /* integer magnitude above 2^53-1 */
    RT_JW_E_NESTING = 4, /* deeper than RT_JW_MAX_DEPTH, or an end call that
                            does not match the innermost open container */
    RT_JW_E_ORDER   = 5, /* object key not strictly greater than the previous
                            key of the same object (unsorted or duplicate) */
    RT_JW_E_STATE   = 6  /* call not allowed here: key outside an object,
                            value where a key is required, key where a value
                            is required, second top-level value, or
                            rt_jw_finish() before the document is complete */
};

/*
 * Writer state.  Treat every field as read-only except through the
 * functions below; buf/len/err are public so callers can read the result.
 */
typedef struct rt_jw {
    char    *buf;      /* caller-owned output buffer */
    size_t   cap;      /* size of buf in bytes */
    size_t   len;      /* bytes written so far; output is buf[0..len) */
    int      err;      /* sticky: RT_JW_OK or the first RT_JW_E_* hit */
    uint8_t  depth;    /* number of open containers, 0..RT_JW_MAX_DEPTH */
    uint8_t  state;    /* RT_JW_ST_* bits (internal) */
    uint32_t obj_mask; /* bit d-1 set: container at depth d is an object */
    uint32_t any_mask; /* bit d-1 set: container at depth d has a member */
    /* Previous key of the object at depth d, as escaped bytes inside buf:
     * buf[key_off[d-1] .. key_off[d-1] + key_len[d-1]).  Kept as offsets
     * because the bytes are already in buf; no copy is needed. */
    size_t   key_off[RT_JW_MAX_DEPTH];
    size_t   key_len[RT_JW_MAX_DEPTH];
} rt_jw;

/*
 * Prepares w to write one JSON value into buf[0..cap).
 *   buf: caller-owned, must stay valid while w is in use; may be NULL only
 *        if cap == 0 (every write then fails with RT_JW_E_SPACE).
 * Any previous state of w is discarded.  Cannot fail.
 */
void rt_jw_init(rt_jw *w, char *buf, size_t cap);

/*
 * Open / close an object or an array.  A begin call is a value: inside an
 * object it must follow rt_jw_key().  Errors: RT_JW_E_NESTING when opening
 * a container at depth RT_JW_MAX_DEPTH or when the end call does not match
 * the innermost open container (or none is open); RT_JW_E_STATE when an
 * object is closed right after a key (the key has no value).
 */
void rt_jw_obj_begin(rt_jw *w);
void rt_jw_obj_end(rt_jw *w);
void rt_jw_arr_begin(rt_jw *w);
void rt_jw_arr_end(rt_jw *w);

/*
 * Writes an object key k[0..n) (raw UTF-8, not JSON-escaped; escaping is
 * done here).  k may contain U+0000 and may be NULL when n == 0.
 * The caller emits keys in RFC 8785 order (rt_json_key_cmp); the writer
 * verifies it: a key that is not strictly greater than the previous key of
 * the same object sets RT_JW_E_ORDER, which also catches duplicates.
 * Errors: RT_JW_E_UTF8, RT_JW_E_ORDER, RT_JW_E_STATE (not directly inside
 * an object, or the previous key still lacks its value), RT_JW_E_SPACE.
 */
void rt_jw_key(rt_jw *w, const char *k, size_t n);

/*
 * Writes the string value s[0..n) (raw UTF-8; escaped here per RFC 8785:
 * '"', '\\' and U+0000..U+001F only, using \b \t \n \f \r where defined and
 * \u00xx with lowercase hex otherwise).  s may be NULL when n == 0.
 * Errors: RT_JW_E_UTF8 if s is not strictly valid UTF-8 (nothing of the
 * string is written then), RT_JW_E_STATE, RT_JW_E_SPACE.
 */
void rt_jw_str(rt_jw *w, const char *s, size_t n);

/*
 * Write an integer value in plain decimal.  Errors: RT_JW_E_RANGE if
 * |v| > 2^53-1 (see top of file), RT_JW_E_STATE, RT_JW_E_SPACE.
 */
void rt_jw_int(rt_jw *w, int64_t v);
void rt_jw_uint(rt_jw *w, uint64_t v);

/* Write true (b != 0) / false (b == 0), and null.
 * Errors: RT_JW_E_STATE, RT_JW_E_SPACE. */
void rt_jw_bool(rt_jw *w, int b);
void rt_jw_null(rt_jw *w);

/*
 * Writes b[0..n) as a string value of 2*n lowercase hex digits.
 * b may be NULL when n == 0 (writes "").  Errors: RT_JW_E_STATE,
 * RT_JW_E_SPACE.
 */
void rt_jw_hex(rt_jw *w, const uint8_t *b, size_t n);

/*
 * Splices json[0..n) verbatim as one value.  NOT validated: the caller
 * guarantees it is exactly one complete value already in RFC 8785 form
 * (e.g. the output of another rt_jw).  If it is an object, its key order is
 * the caller's responsibility.  Errors: RT_JW_E_STATE, RT_JW_E_SPACE.
 */
void rt_jw_raw(rt_jw *w, const char *json, size_t n);

/*
 * Ends the document.  Returns RT_JW_OK if exactly one complete top-level
 * value was written and no error occurred; otherwise returns the error
 * code (RT_JW_E_STATE if containers are still open or nothing was written).
 * On success the document is buf[0..len); a NUL byte is also stored at
 * buf[len] if len < cap, and not otherwise: callers that need a C string
 * must size buf one byte larger than the output.  Canonical output never
 * contains a NUL byte itself (U+0000 is escaped), unless one was spliced in
 * with rt_jw_raw().  May be called more than once.
 */
int rt_jw_finish(rt_jw *w);

/* Static English text for an RT_JW_* code; never NULL. */
const char *rt_jw_strerror(int err);

/*
 * Compares object keys a[0..an) and b[0..bn) (raw UTF-8) in RFC 8785
 * order: lexicographically by UTF-16 code units.  Returns <0, 0 or >0.
 * For BMP characters UTF-8 byte order already equals UTF-16 order; the two
 * differ only for U+E000..U+FFFF versus supplementary characters (U+10000
 * and up), which UTF-16 places below U+E000 because their surrogates are
 * D800..DFFF.  E.g. U+1F600 < U+FB33 here, although memcmp says otherwise.
 * Inputs should be valid UTF-8; for other bytes the result is still a
 * consistent total order, just not a meaningful one.  Pointers may be NULL
 * when the matching length is 0.
 */
int rt_json_key_cmp(const char *a, size_t an, const char *b, size_t bn);

/*
 * Returns the length of the longest prefix of s[0..n) that is strictly
 * valid UTF-8 (RFC 3629 / Unicode Table 3-7): no overlong forms, no
 * surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncated or stray
 * continuation bytes.  The prefix always ends on a character boundary, so
 * a result of n means the whole input is valid.  s may be NULL if n == 0.
 */
size_t rt_utf8_valid_prefix(const uint8_t *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* RT_JSON_H */

/*
 * json.c — strict JSON parsing into json-c trees, and RFC 8785 canonical
 * JSON of those trees.
 *
 * Why not json_tokener: what a verifier checks must be the document every
 * other reader sees.  json-c accepts duplicate keys (keeping the last),
 * replaces lone surrogate escapes with U+FFFD, truncates keys at an escaped
 * U+0000, accepts raw control characters in strings and NaN in strict mode.
 * Each of those lets two tools read one file differently, so this file has
 * its own small recursive-descent parser that refuses them and builds the
 * same json-c objects.  The canonical form is then produced from the tree,
 * never from the input bytes: formatting, key order and escape choices in a
 * file cannot change what is verified.
 */
#include "toyctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_json.h"

/* ------------------------------------------------------------- parsing */

typedef struct parser {
    const unsigned char *s;
    size_t n, i;
    int depth;
    char *err;
    size_t errcap;
    /* scratch buffer for decoded strings, grown as needed */
    char *buf;
    size_t cap;
} parser;

/* Records an error at byte offset at, with its line and column (1-based;
 * the column counts bytes).  Only the first error is kept. */
static void perr(parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(parser *p, size_t at, const char *fmt, ...)
{
    if (p->err[0])
        return;
    size_t line = 1, col = 1;
    for (size_t k = 0; k < at && k < p->n; k++) {
        if (p->s[k] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    int m = snprintf(p->err, p->errcap, "line %zu column %zu (byte %zu): ", line, col, at);
    if (m < 0 || (size_t)m >= p->errcap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + m, p->errcap - (size_t)m, fmt, ap);
    va_end(ap);
}

static void skip_ws(parser *p)
{
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->i++;
    }
}

static int buf_put(parser *p, size_t *len, const void *b, size_t n)
{
    if (*len + n + 1 > p->cap) {
        size_t nc = p->cap ? p->cap : 256;
        while (nc < *len + n + 1)
            nc *= 2;
        char *nb = realloc(p->buf, nc);
        if (!nb) {
            perr(p, p->i, "out of memory");
            return -1;
        }
        p->buf = nb;
        p->cap = nc;
    }
    memcpy(p->buf + *len, b, n);
    *len += n;
    p->buf[*len] = 0;
    return 0;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned c = s[k], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(unsigned cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the string starting at the opening quote p->s[p->i] into p->buf;
 * *len receives its length in bytes.  Returns 0 or -1. */
static int parse_string(parser *p, size_t *len)
{
    size_t start = p->i;
    *len = 0;
    if (buf_put(p, len, "", 0) != 0)
        return -1;
    p->i++; /* opening quote */
    for (;;) {
        /* A run of literal bytes, copied at once and validated below. */
        size_t run = p->i;
        while (p->i < p->n && p->s[p->i] != '"' && p->s[p->i] != '\\' && p->s[p->i] >= 0x20)
            p->i++;
        if (p->i > run) {
            size_t ok = rt_utf8_valid_prefix(p->s + run, p->i - run);
            /* A prefix shorter than the run is invalid UTF-8, except that a
             * character cannot be split by the run's end: runs end only at
             * ASCII bytes, so a multi-byte character is always whole here. */
            if (ok != p->i - run) {
                perr(p, run + ok, "invalid UTF-8 in a string");
                return -1;
            }
            if (buf_put(p, len, p->s + run, p->i - run) != 0)
                return -1;
        }
        if (p->i >= p->n) {
            perr(p, start, "unterminated string");
            return -1;
        }
        unsigned char c = p->s[p->i];
        if (c == '"') {
            p->i++;
            return 0;
        }
        if (c < 0x20) {
            perr(p, p->i, "unescaped control character 0x%02x in a string", c);
            return -1;
        }
        /* backslash escape */
        size_t esc = p->i;
        if (p->i + 1 >= p->n) {
            perr(p, esc, "unterminated escape");
            return -1;
        }
        unsigned char e = p->s[p->i + 1];
        char out[4];
        size_t on = 1;
        p->i += 2;
        switch (e) {
        case '"': out[0] = '"'; break;
        case '\\': out[0] = '\\'; break;
        case '/': out[0] = '/'; break;
        case 'b': out[0] = '\b'; break;
        case 'f': out[0] = '\f'; break;
        case 'n': out[0] = '\n'; break;
        case 'r': out[0] = '\r'; break;
        case 't': out[0] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (p->i + 4 > p->n || hex4(p->s + p->i, &cp) != 0) {
                perr(p, esc, "bad \\u escape");
                return -1;
            }
            p->i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                perr(p, esc, "unpaired low surrogate \\u%04x", cp);
                return -1;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (p->i + 6 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u' ||
                    hex4(p->s + p->i + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    perr(p, esc, "unpaired high surrogate \\u%04x", cp);
                    return -1;
                }
                p->i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            on = utf8_put(cp, out);
            break;
        }
        default:
            perr(p, esc, "invalid escape \\%c", e >= 0x20 && e < 0x7F ? e : '?');
            return -1;
        }
        if (buf_put(p, len, out, on) != 0)
            return -1;
    }
}

static struct json_object *parse_value(parser *p);

static struct json_object *parse_number(parser *p)
{
    size_t start = p->i;
    int neg = 0;
    if (p->s[p->i] == '-') {
        neg = 1;
        p->i++;
    }
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') {
        perr(p, start, "invalid number");
        return NULL;
    }
    uint64_t v = 0;
    int big = 0;
    if (p->s[p->i] == '0') {
        p->i++;
        if (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
            perr(p, start, "number with a leading zero");
            return NULL;
        }
    } else {
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
            if (v > (uint64_t)RT_JW_INT_MAX)
                big = 1; /* keep scanning; v stops mattering */
            else
                v = v * 10 + (uint64_t)(p->s[p->i] - '0');
            p->i++;
        }
    }
    if (p->i < p->n && (p->s[p->i] == '.' || p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        perr(p, start, "number with a fraction or exponent: not supported (every signed value "
                       "is an integer)");
        return NULL;
    }
    if (big || v > (uint64_t)RT_JW_INT_MAX) {
        perr(p, start, "integer magnitude above 2^53-1 (RFC 8785 cannot represent it exactly)");
        return NULL;
    }
    /* "-0" is the integer 0, as RFC 8785 writes it. */
    int64_t iv = neg ? -(int64_t)v : (int64_t)v;
    struct json_object *o = json_object_new_int64(iv);
    if (!o)
        perr(p, start, "out of memory");
    return o;
}

static int literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->i + n <= p->n && memcmp(p->s + p->i, word, n) == 0) {
        p->i += n;
        return 1;
    }
    return 0;
}

static struct json_object *parse_object(parser *p)
{
    size_t open = p->i++;
    struct json_object *o = json_object_new_object();
    if (!o) {
        perr(p, open, "out of memory");
        return NULL;
    }
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') {
        p->i++;
        return o;
    }
    for (;;) {
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != '"') {
            perr(p, p->i, "expected a string key");
            goto fail;
        }
        size_t kat = p->i, klen;
        if (parse_string(p, &klen) != 0)
            goto fail;
        if (memchr(p->buf, 0, klen)) {
            perr(p, kat, "object key contains U+0000; not supported");
            goto fail;
        }
        char *key = strdup(p->buf);
        if (!key) {
            perr(p, kat, "out of memory");
            goto fail;
        }
        if (json_object_object_get_ex(o, key, NULL)) {
            perr(p, kat, "duplicate key \"%.64s\" (readers disagree on which one counts)", key);
            free(key);
            goto fail;
        }
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':') {
            perr(p, p->i, "expected ':' after a key");
            free(key);
            goto fail;
        }
        p->i++;
        struct json_object *v = parse_value(p);
        if (!v && p->err[0]) {
            free(key);
            goto fail;
        }
        /* v may be NULL for JSON null: json-c represents null as NULL. */
        if (json_object_object_add(o, key, v) != 0) {
            json_object_put(v);
            free(key);
            perr(p, kat, "out of memory");
            goto fail;
        }
        free(key);
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == '}') {
            p->i++;
            return o;
        }
        perr(p, p->i, "expected ',' or '}' in an object");
        goto fail;
    }
fail:
    json_object_put(o);
    return NULL;
}

static struct json_object *parse_array(parser *p)
{
    size_t open = p->i++;
    struct json_object *a = json_object_new_array();
    if (!a) {
        perr(p, open, "out of memory");
        return NULL;
    }
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ']') {
        p->i++;
        return a;
    }
    for (;;) {
        struct json_object *v = parse_value(p);
        if (!v && p->err[0])
            goto fail;
        if (json_object_array_add(a, v) != 0) {
            json_object_put(v);
            perr(p, p->i, "out of memory");
            goto fail;
        }
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == ']') {
            p->i++;
            return a;
        }
        perr(p, p->i, "expected ',' or ']' in an array");
        goto fail;
    }
fail:
    json_object_put(a);
    return NULL;
}

/* Returns the value, or NULL: JSON null (p->err empty) or an error. */
static struct json_object *parse_value(parser *p)
{
    skip_ws(p);
    if (p->i >= p->n) {
        perr(p, p->i, "unexpected end of input");
        return NULL;
    }
    unsigned char c = p->s[p->i];
    if (c == '{' || c == '[') {
        if (p->depth >= RT_JW_MAX_DEPTH) {
            perr(p, p->i, "nested deeper than %d containers", RT_JW_MAX_DEPTH);
            return NULL;
        }
        p->depth++;
        struct json_object *o = c == '{' ? parse_object(p) : parse_array(p);
        p->depth--;
        return o;
    }
    if (c == '"') {
        size_t at = p->i, len;
        if (parse_string(p, &len) != 0)
            return NULL;
        struct json_object *o = json_object_new_string_len(p->buf, (int)len);
        if (!o)
            perr(p, at, "out of memory");
        return o;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p);
    if (literal(p, "true"))
        return json_object_new_boolean(1);
    if (literal(p, "false"))
        return json_object_new_boolean(0);
    if (literal(p, "null"))
        return NULL;
    if (c == 0xEF && p->i == 0)
        perr(p, p->i, "byte order mark before the document; not allowed");
    else
        perr(p, p->i, "unexpected character '%c'", c >= 0x20 && c < 0x7F ? c : '?');
    return NULL;
}

struct json_object *tc_json_parse(const char *buf, size_t n, char *err, size_t errcap)
{
    parser p = { .s = (const unsigned char *)buf, .n = n, .err = err, .errcap = errcap };
    err[0] = 0;
    if (n > INT32_MAX) { /* json-c string lengths are int */
        snprintf(err, errcap, "document too large");
        return NULL;
    }
    struct json_object *o = parse_value(&p);
    if (!p.err[0]) {
        skip_ws(&p);
        if (p.i != p.n)
            perr(&p, p.i, "data after the JSON value");
    }
    free(p.buf);
    if (p.err[0]) {
        json_object_put(o);
        return NULL;
    }
    if (!o) {
        /* A bare null parses but is never a document we verify; saying so
         * here keeps "NULL means error" true for every caller. */
        snprintf(err, errcap, "the document is null");
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------ canonical form */

typedef struct member {
    const char *key;
    size_t klen;
    struct json_object *val;
} member;

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    return rt_json_key_cmp(x->key, x->klen, y->key, y->klen);
}

/* Emits o through w; omit applies to this level only.  Returns 0, or -1
 * with err set for what rt_jw cannot express (its own errors stay sticky in
 * w and are reported by the caller). */
static int emit(rt_jw *w, struct json_object *o, const char *omit, char *err, size_t errcap)
{
    switch (json_object_get_type(o)) {
    case json_type_null:
        rt_jw_null(w);
        return 0;
    case json_type_boolean:
        rt_jw_bool(w, json_object_get_boolean(o));
        return 0;
    case json_type_int:
        /* tc_json_parse only makes int64 values within 2^53-1, but a tree
         * from elsewhere could hold a uint64 above INT64_MAX: refuse it
         * rather than emit the wrong number. */
        if (json_object_get_int64(o) == INT64_MAX && json_object_get_uint64(o) > INT64_MAX) {
            snprintf(err, errcap, "integer out of range");
            return -1;
        }
        rt_jw_int(w, json_object_get_int64(o));
        return 0;
    case json_type_double:
        snprintf(err, errcap, "floating-point number %.17g: not supported (only integers are "
                              "signed; RFC 8785 number formatting is not implemented)",
                 json_object_get_double(o));
        return -1;
    case json_type_string:
        rt_jw_str(w, json_object_get_string(o), (size_t)json_object_get_string_len(o));
        return 0;
    case json_type_array: {
        size_t n = json_object_array_length(o);
        rt_jw_arr_begin(w);
        for (size_t i = 0; i < n; i++)
            if (emit(w, json_object_array_get_idx(o, i), NULL, err, errcap) != 0)
                return -1;
        rt_jw_arr_end(w);
        return 0;
    }
    case json_type_object: {
        size_t n = (size_t)json_object_object_length(o), k = 0;
        member *m = calloc(n ? n : 1, sizeof *m);
        if (!m) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        json_object_object_foreach(o, key, val)
        {
            if (omit && strcmp(key, omit) == 0)
                continue;
            m[k].key = key;
            m[k].klen = strlen(key);
            m[k].val = val;
            k++;
        }
        qsort(m, k, sizeof *m, member_cmp);
        rt_jw_obj_begin(w);
        int rc = 0;
        for (size_t i = 0; i < k && rc == 0; i++) {
            rt_jw_key(w, m[i].key, m[i].klen);
            rc = emit(w, m[i].val, NULL, err, errcap);
        }
        free(m);
        if (rc == 0)
            rt_jw_obj_end(w);
        return rc;
    }
    }
    snprintf(err, errcap, "unknown JSON value type");
    return -1;
}

char *tc_canon(struct json_object *o, const char *omit, size_t *len, char *err, size_t errcap)
{
    err[0] = 0;
    /* Everything toyapp signs is an object (a list at most): a scalar at the
     * top is not a document of ours. */
    if (!json_object_is_type(o, json_type_object) && !json_object_is_type(o, json_type_array)) {
        snprintf(err, errcap, "a top-level %s: canonical JSON here is an object or an array",
                 json_type_to_name(json_object_get_type(o)));
        return NULL;
    }
    /* The writer never allocates: retry with a larger buffer until it fits.
     * Canonical output is rarely larger than 2x a compact json-c rendering,
     * except for strings full of control characters (6 bytes each). */
    size_t cap = 4096;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf) {
            snprintf(err, errcap, "out of memory");
            return NULL;
        }
        rt_jw w;
        rt_jw_init(&w, buf, cap - 1);
        if (emit(&w, o, omit, err, errcap) != 0) {
            free(buf);
            return NULL;
        }
        int rc = rt_jw_finish(&w);
        if (rc == RT_JW_OK) {
            buf[w.len] = 0;
            *len = w.len;
            return buf;
        }
        free(buf);
        if (rc != RT_JW_E_SPACE || cap > ((size_t)TC_MAX_INPUT) * 8) {
            snprintf(err, errcap, "cannot write canonical JSON: %s", rt_jw_strerror(rc));
            return NULL;
        }
        cap *= 4;
    }
}

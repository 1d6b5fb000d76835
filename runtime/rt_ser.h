/*
 * rt_ser.h — table-driven canonical JSON serialization of output records.
 *
 * specc emits, for every response, audit entry, record, log line and
 * WebSocket frame in spec/, a C struct and an rt_record table whose fields
 * are already sorted the way RFC 8785 sorts keys.  rt_ser walks the table
 * and writes the struct through rt_jw, so the bytes that are signed and
 * hashed come from one place.
 */
#ifndef RT_SER_H
#define RT_SER_H

#include <stddef.h>
#include <stdint.h>

#include "rt_json.h"

/* Bump when these structs change in a way generated code must follow. */
#define RT_SER_ABI 1

typedef struct rt_str { const char *p; size_t n; } rt_str;
typedef struct rt_bytes { const uint8_t *p; size_t n; } rt_bytes;

/* A NUL-terminated string as an rt_str (borrowed). */
static inline rt_str rt_cstr(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return (rt_str){ s, n };
}
typedef struct rt_list { const void *v; size_t n; } rt_list;

#define RT_STR(s) ((rt_str){ (s), sizeof(s) - 1 })

enum rt_otype {
    RT_O_STR = 1,  /* rt_str: string, id, time */
    RT_O_UINT,     /* uint64_t */
    RT_O_INT,      /* int64_t */
    RT_O_BOOL,     /* uint8_t */
    RT_O_HASH,     /* uint8_t[32], written as 64 lowercase hex digits */
    RT_O_BYTES,    /* rt_bytes, written as lowercase hex */
    RT_O_DERIVED,  /* a derivation's out struct, written with its format() */
    RT_O_RECORD,   /* an embedded struct described by ->rec */
    RT_O_RAW,      /* rt_str holding canonical JSON (an audit entry) */
    RT_O_LIST,     /* rt_list of ->elem values, each ->elem_size bytes */
    RT_O_CONST     /* no storage: the string ->cval (an audit entry's action) */
};

enum rt_oflag {
    RT_OF_NULLABLE = 1,  /* a uint8_t at null_off, when set, writes null */
    RT_OF_SIGNATURE = 2  /* left out when serializing the signed bytes */
};

struct rt_record;

typedef struct rt_ofield {
    const char *key;
    uint16_t key_len;
    uint8_t type;               /* enum rt_otype */
    uint8_t flags;              /* enum rt_oflag */
    uint32_t off;
    uint32_t null_off;
    const struct rt_record *rec;                         /* RECORD, LIST of RECORD */
    size_t (*format)(const void *out, char *buf, size_t cap); /* DERIVED */
    uint8_t elem;               /* LIST: element rt_otype */
    uint32_t elem_size;         /* LIST */
    const char *cval;           /* CONST */
} rt_ofield;

typedef struct rt_record {
    const char *name;
    const rt_ofield *fields;    /* sorted by key (RFC 8785 order) */
    uint16_t nfields;
    uint32_t size;
} rt_record;

enum rt_ser_flags {
    RT_SER_UNSIGNED = 1   /* omit RT_OF_SIGNATURE fields: the bytes to sign */
};

/* Writes obj (of the struct type rec describes) as one JSON value into w.
 * Errors are rt_jw's, sticky in w->err.  Returns w->err. */
int rt_ser(rt_jw *w, const struct rt_record *rec, const void *obj, unsigned flags);

/* rt_ser into a malloc'd buffer, grown as needed (up to 64 MiB).  Returns
 * the buffer and its length in *len, or NULL with the rt_jw error (or
 * RT_JW_E_SPACE past the bound, 0 when out of memory) in *err if err. */
char *rt_ser_alloc(const struct rt_record *rec, const void *obj, unsigned flags, size_t *len,
                   int *err);

/* The current UTC time as signed records carry it, ISO 8601 with
 * milliseconds ("2026-11-24T06:40:53.123Z"); returns its length. */
size_t rt_ser_now(char out[32]);

#endif

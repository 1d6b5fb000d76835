/*
 * rt_table.h — the tables specc generates for the service's writes: which
 * values flow from a request's sinks into its audit entry and response, and
 * how a row of a table written per audit entry kind is filled and encoded.
 *
 * Generated code (gen/toy_service.c) holds the data; this module interprets
 * it.  Nothing here does I/O or allocates: rows are encoded into caller-owned
 * rt_pgarr buffers, in Postgres' binary array format, one array per column,
 * so that a whole batch of rows is one parameter per column of one prepared
 * statement (see src/toyapp/writer.c).
 *
 * A value declared in spec/ as `from ENDPOINT.field via SINK` is copied from
 * the endpoint's request struct (the sink's result: a 32-byte hash or a
 * derivation's out struct); `from entry.FIELD` (table columns only) from the
 * audit entry the row is written for.  Copies are plain bytes: an rt_str or
 * rt_bytes copied this way still points into its source, which must outlive
 * the row (the writer keeps both for the batch).
 */
#ifndef RT_TABLE_H
#define RT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "rt_pgarr.h"
#include "rt_ser.h"

/* Bump when a change to these structs needs generated code to be remade. */
#define RT_TABLE_ABI 1

/* Source of a copy: a request struct of route `route` (>= 0), or the entry. */
#define RT_FROM_ENTRY (-1)

typedef struct rt_copy {
    uint32_t dst_off;         /* into the record or row */
    uint32_t src_off;         /* into the request struct or the entry */
    uint32_t size;            /* bytes; 0: no source (the handler sets it) */
    int16_t route;            /* the request's route, or RT_FROM_ENTRY */
} rt_copy;

typedef struct rt_copies {
    const rt_copy *v;
    uint8_t n;
} rt_copies;

/* An audit entry kind.  Every generated entry struct starts with the
 * envelope's cvmId and timestamp (rt_str). */
typedef struct rt_kind {
    const char *name;         /* the "action" */
    const rt_record *rec;     /* its canonical JSON serializer */
    uint32_t size;            /* sizeof the generated struct */
    int32_t receipt_off;      /* offset of its rt_str receiptId, or -1 */
    rt_copies copies;         /* fields that come from request sinks */
} rt_kind;

/* How a column's value is held in the row struct and sent. */
enum rt_col_enc {
    RT_COL_STR = 1,           /* rt_str -> text (NULL pointer: SQL NULL) */
    RT_COL_TS,                /* rt_str (RFC 3339) -> text, cast to timestamptz */
    RT_COL_BYTES,             /* rt_bytes -> bytea (NULL pointer: SQL NULL) */
    RT_COL_HASH,              /* uint8_t[32] -> bytea */
    RT_COL_U64,               /* uint64_t -> int8 */
    RT_COL_I64,               /* int64_t -> int8 */
    RT_COL_BOOL,              /* uint8_t -> bool */
    RT_COL_DERIVED            /* a derivation's out struct -> text (format) */
};

typedef struct rt_col {
    const char *name;
    uint8_t enc;              /* enum rt_col_enc */
    uint32_t off;             /* in the row struct */
    rt_copy from;             /* from.size == 0: set by the handler */
    size_t (*format)(const void *out, char *buf, size_t cap);  /* RT_COL_DERIVED */
} rt_col;

/* A table written per audit entry kind: one row per entry of that kind. */
typedef struct rt_table {
    const char *name;
    int kind;                 /* the entry kind (index into the kinds table) */
    const rt_col *cols;       /* the insert's columns, in order */
    uint8_t ncols;
    uint32_t row_size;        /* sizeof the generated row struct */
    uint16_t first_param;     /* $n of its first column in the batch statement */
} rt_table;

/* The Postgres element type of a column's array parameter. */
uint32_t rt_col_oid(const rt_col *c);

/*
 * Copies every value of c whose source is route's request (src_off into req)
 * into dst.  Copies of another route are skipped, as are entry copies.
 */
void rt_copies_apply(const rt_copies *c, void *dst, int route, const void *req);

/*
 * Fills the columns of row that come from the request (when route matches)
 * or from entry; the rest is the handler's.
 */
void rt_table_fill(const rt_table *t, void *row, int route, const void *req, const void *entry);

/* Appends row's value of column c to a, its array (begun with rt_col_oid). */
void rt_col_encode(const rt_col *c, const void *row, rt_pgarr *a);

#endif

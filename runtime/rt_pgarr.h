/*
 * rt_pgarr.h — one-dimensional arrays in Postgres' binary format (the wire
 * form array_recv reads), for statements that take a batch's rows as array
 * parameters and unnest() them: their text is the same for any number of
 * rows, so they are parsed and planned once per connection.
 *
 * Pure encoding, no I/O.  The buffer grows with realloc and aborts on OOM
 * (a batch is bounded; there is no partial array to recover).  Reuse one
 * rt_pgarr across batches: rt_pgarr_begin keeps its memory.
 */
#ifndef RT_PGARR_H
#define RT_PGARR_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_pgarr {
    uint8_t *b;               /* the encoded array: b[0..n) */
    size_t n, cap;
    int count, hasnull;
} rt_pgarr;

/* Postgres type oids of the element types used here. */
#define RT_PG_OID_BOOL 16
#define RT_PG_OID_BYTEA 17
#define RT_PG_OID_INT8 20
#define RT_PG_OID_TEXT 25

/* Starts an empty array of elem_oid elements, keeping a's buffer. */
void rt_pgarr_begin(rt_pgarr *a, uint32_t elem_oid);
/* Appends one element: n bytes at p, in the element type's binary form
 * (int8: 8 bytes big-endian; bool: 1 byte; text: UTF-8).  p == NULL
 * appends SQL NULL. */
void rt_pgarr_add(rt_pgarr *a, const void *p, size_t n);
/* Appends an int8 element. */
void rt_pgarr_add_i64(rt_pgarr *a, int64_t v);
/* Finishes the header (count, null flag); an empty array becomes the
 * zero-dimensional form Postgres sends for '{}'. */
void rt_pgarr_end(rt_pgarr *a);
/* Frees a's buffer. */
void rt_pgarr_free(rt_pgarr *a);

#endif

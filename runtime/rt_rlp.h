/*
 * rt_rlp.h — Recursive Length Prefix encoding (Ethereum yellow paper,
 * appendix B), the serialization of transactions.
 *
 * The writer fills a caller-owned buffer.  Items are appended in order; a
 * list is opened, filled and closed, and its header is put in front of its
 * payload when it closes (the payload moves by the header's size).  Errors
 * are sticky: after the first, every call does nothing, and rt_rlp_finish
 * reports it.  No allocation.
 */
#ifndef RT_RLP_H
#define RT_RLP_H

#include <stddef.h>
#include <stdint.h>

#define RT_RLP_MAX_DEPTH 8

enum rt_rlp_err {
    RT_RLP_OK = 0,
    RT_RLP_E_SPACE,      /* the buffer is too small */
    RT_RLP_E_DEPTH,      /* lists nested deeper than RT_RLP_MAX_DEPTH */
    RT_RLP_E_UNBALANCED  /* a list closed that was not open, or left open */
};

typedef struct rt_rlp {
    uint8_t *buf;
    size_t cap, len;
    int err;                          /* enum rt_rlp_err, sticky */
    int depth;
    size_t open[RT_RLP_MAX_DEPTH];    /* where each open list's payload starts */
} rt_rlp;

/* Starts writing into buf[0..cap). */
void rt_rlp_init(rt_rlp *r, uint8_t *buf, size_t cap);

/* A byte string p[0..n) (p may be NULL when n is 0).  A single byte below
 * 0x80 is its own encoding; otherwise a length prefix comes first. */
void rt_rlp_bytes(rt_rlp *r, const void *p, size_t n);

/* An unsigned integer: its big-endian bytes without leading zeros (0 is
 * the empty string, 0x80). */
void rt_rlp_uint(rt_rlp *r, uint64_t v);

/* A 256-bit unsigned integer given as 32 big-endian bytes, encoded as
 * rt_rlp_uint does (leading zeros dropped). */
void rt_rlp_uint256(rt_rlp *r, const uint8_t be[32]);

/* Opens and closes a list.  Lists nest up to RT_RLP_MAX_DEPTH. */
void rt_rlp_list_begin(rt_rlp *r);
void rt_rlp_list_end(rt_rlp *r);

/* Ends the encoding: every list must be closed.  Returns RT_RLP_OK with
 * the encoded length in *len, or the first error. */
int rt_rlp_finish(rt_rlp *r, size_t *len);

/* Bytes that the header of an item or list with a payload of n bytes
 * takes (1 up to 55, else 1 + the length's byte count): for sizing buffers. */
size_t rt_rlp_header_len(size_t n);

/* Text of an error code (static). */
const char *rt_rlp_strerror(int err);

#endif

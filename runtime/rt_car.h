/*
 * rt_car.h — CARv1, the Content Addressable aRchive that IPFS nodes import
 * (`ipfs dag import`) and export (https://ipld.io/specs/transport/car/carv1/).
 *
 *     car      = varint(len(header)) || header || section*
 *     header   = DAG-CBOR {"roots": [CID, ...], "version": 1}
 *     section  = varint(len(CID) + len(block)) || CID || block
 *
 * Varints are the multiformats unsigned varints of rt_cid.h.  In the
 * header a CID is CBOR tag 42 around a byte string holding 0x00 (the
 * identity multibase prefix) and the binary CID.  DAG-CBOR is CBOR with one
 * encoding per value: shortest lengths, map keys sorted by length then
 * bytes ("roots" before "version"), no indefinite lengths.
 *
 * The writer produces the header and each section's prefix; the block
 * bytes follow the prefix as they are.  Its output is deterministic: the
 * same roots and blocks in the same order give the same bytes, the ones
 * @ipld/car's CarWriter writes for them.
 *
 * The reader walks a CAR held in memory.  It is strict about the framing
 * and the header (a canonical DAG-CBOR header of version 1, as every CARv1
 * writer makes it; a CARv2 file is named as such), keeps offsets rather
 * than pointers, and its first error is sticky, with a static reason and
 * the offset of the byte at fault.  It does not hash: rt_cid_matches checks
 * a block against its CID.
 *
 * No allocation, no I/O, no global state.
 */
#ifndef RT_CAR_H
#define RT_CAR_H

#include <stddef.h>
#include <stdint.h>

#include "rt_cid.h"

/* Most roots the reader accepts, and the longest header it reads: limits
 * of this module, not of the format (a header with 64 roots of 256 bytes
 * is under 17 KiB). */
#define RT_CAR_MAX_ROOTS 64
#define RT_CAR_MAX_HEADER 65536

enum rt_car_error {
    RT_CAR_EFORMAT = -1,  /* not a CARv1 (the reason says where and why) */
    RT_CAR_EVERSION = -2, /* a CAR of another version (CARv2) */
    RT_CAR_ELIMIT = -3,   /* over RT_CAR_MAX_ROOTS or RT_CAR_MAX_HEADER */
    RT_CAR_ENOSPC = -4,   /* the writer's output buffer is too small */
};

/* ---------------------------------------------------------- writing */

/*
 * The CAR header for the roots roots[0..roots_len): the binary CIDs, one
 * after the other (each CID says its own length).  Writes varint(len) and
 * the DAG-CBOR header to out when they fit in cap bytes, and sets *len to
 * their length either way.  Returns 0, RT_CAR_ENOSPC (nothing written:
 * call again with *len bytes), RT_CAR_ELIMIT (more than RT_CAR_MAX_ROOTS
 * roots), or a negative rt_cid_decode code if roots is not a sequence of
 * whole CIDs.  With no roots, the header says "roots": [].
 */
int rt_car_header(const uint8_t *roots, size_t roots_len, uint8_t *out, size_t cap, size_t *len);

/* Most bytes of a section prefix for a CID of cid_len bytes. */
#define RT_CAR_PREFIX_MAX(cid_len) (RT_CID_UVARINT_MAX + (cid_len))

/*
 * The start of the section of a block of data_len bytes named by the
 * binary CID cid[0..cid_len): varint(cid_len + data_len) || CID, written to
 * out.  The block's bytes come next in the file.  Returns the prefix's
 * length, or 0 (nothing written) if it does not fit in cap bytes or the
 * section is 2^63 bytes or more.  The CID is copied as it is: the caller
 * made it, with rt_cid_raw_sha256_bytes for instance.
 */
size_t rt_car_section_prefix(const uint8_t *cid, size_t cid_len, uint64_t data_len,
                             uint8_t *out, size_t cap);

/* ---------------------------------------------------------- reading */

/* One section: the block and its CID, as offsets into the CAR. */
typedef struct rt_car_block {
    size_t off;        /* the section's first byte (its length varint) */
    size_t cid_off;    /* the binary CID: bytes [cid_off, cid_off + cid.len) */
    rt_cid cid;        /* its decoding (offsets within the CID) */
    size_t data_off;   /* the block: bytes [data_off, data_off + data_len) */
    size_t data_len;
} rt_car_block;

/* The reader's state.  Caller-owned; fields are read-only to callers. */
typedef struct rt_car_reader {
    const uint8_t *buf; /* the CAR, borrowed for the reader's lifetime */
    size_t len;
    size_t pos;         /* where the next section starts */
    size_t nroots;
    size_t root_off[RT_CAR_MAX_ROOTS]; /* each root's binary CID in buf */
    rt_cid roots[RT_CAR_MAX_ROOTS];
    size_t data_off;    /* where the first section starts */
    size_t nblocks;     /* sections read so far */
    int error;          /* 0, or the first RT_CAR_E* code: sticky */
    const char *reason; /* static text of the first error */
    size_t error_off;   /* the offset it was found at */
} rt_car_reader;

/*
 * Starts reading the CAR buf[0..len) and reads its header: its length
 * varint, then exactly {"roots": [...], "version": 1} in canonical
 * DAG-CBOR, each root a tag-42 CID link.  Returns 0 with r->nroots,
 * r->roots and r->root_off set, or RT_CAR_EFORMAT, RT_CAR_EVERSION (a
 * CARv2 pragma, or another version) or RT_CAR_ELIMIT, with r->reason and
 * r->error_off.  An empty buf is an error (no header).
 */
int rt_car_open(rt_car_reader *r, const uint8_t *buf, size_t len);

/*
 * Reads the next section into *b.  Returns 1 (a block), 0 (the CAR ends
 * cleanly after the last section), or a negative RT_CAR_E* code: a
 * truncated or empty section, a length that is not a minimal varint, or a
 * CID that does not decode or is longer than its section.  After an error
 * (or on a reader whose rt_car_open failed) it returns the same error.
 */
int rt_car_next(rt_car_reader *r, rt_car_block *b);

#endif

/*
 * rt_cid.h — IPFS content identifiers (CIDs) of byte strings.
 *
 * The CID toyapp gives a file is CIDv1, codec raw, sha2-256, written in
 * multibase base32 (https://github.com/multiformats/cid):
 *
 *     binary  0x01 0x55 0x12 0x20 || SHA-256(bytes)       (36 bytes)
 *              |    |    |    '-- digest length 32
 *              |    |    '------- multihash sha2-256
 *              |    '------------ multicodec raw
 *              '----------------- CID version 1
 *     text    'b' || base32(binary): RFC 4648 alphabet, lowercase, no
 *             padding (59 characters, always "bafkrei...")
 *
 * So the CID names the file's exact bytes and nothing else: it is their
 * SHA-256 in a form that any IPFS node resolves (a file that fits in one
 * block is stored as that one raw block).  The same bytes always get the
 * same CID, and anyone can recompute it.
 *
 * The module also decodes binary CIDs of any codec and hash (version 0 and
 * 1), for readers of CAR files (rt_car.h), writes them as text (base32 for
 * version 1, base58btc for version 0), checks a block against its CID, and
 * has the unsigned varints (LEB128, minimal, at most 9 bytes) of the
 * multiformats specs.
 *
 * Pure: no allocation, no I/O, no global state.  Pointers are borrowed for
 * the duration of the call.  Functions returning int use the negative
 * RT_CID_E* codes below; rt_cid_strerror names them.
 */
#ifndef RT_CID_H
#define RT_CID_H

#include <stddef.h>
#include <stdint.h>

#define RT_CID_V1 0x01
#define RT_CID_RAW 0x55       /* multicodec raw: the block is the bytes */
#define RT_CID_DAG_PB 0x70    /* the implied codec of a version 0 CID */
#define RT_CID_SHA2_256 0x12  /* multihash sha2-256 */

/* The binary CID of a raw sha2-256 block, and its text without the NUL. */
#define RT_CID_RAW_SHA256_BYTES 36
#define RT_CID_RAW_SHA256_STRLEN 59

/* Longest CID decoded, in bytes (a limit of this module, far above any
 * CID in use: a sha2-512 CID is 68 bytes), and the longest text of such a
 * CID, with its NUL. */
#define RT_CID_MAX_BYTES 256
#define RT_CID_STR_MAX 412

/* Most bytes of an unsigned varint (values below 2^63). */
#define RT_CID_UVARINT_MAX 9

enum rt_cid_error {
    RT_CID_ETRUNC = -1,   /* the input ends inside the CID or varint */
    RT_CID_EVARINT = -2,  /* a varint is not minimal or longer than 9 bytes */
    RT_CID_EVERSION = -3, /* not a CID of version 0 or 1 */
    RT_CID_ELONG = -4,    /* longer than RT_CID_MAX_BYTES */
    RT_CID_ENOSPC = -5,   /* the output buffer is too small */
    RT_CID_EHASH = -6,    /* a hash function this module cannot compute */
    RT_CID_ETRAIL = -7,   /* bytes follow what should be exactly one CID */
};

/* A static, lowercase description of an RT_CID_E* code ("?" for others). */
const char *rt_cid_strerror(int code);

/* ------------------------------------------------- raw sha2-256 CIDs */

/* The binary CID (raw, sha2-256) of data[0..n); data may be NULL when n
 * is 0. */
void rt_cid_raw_sha256_bytes(const void *data, size_t n, uint8_t out[RT_CID_RAW_SHA256_BYTES]);

/* The same CID from the SHA-256 digest of the bytes, for callers that hash
 * a stream themselves. */
void rt_cid_raw_from_digest(const uint8_t digest[32], uint8_t out[RT_CID_RAW_SHA256_BYTES]);

/* The text CID of data[0..n): "bafkrei..." (59 characters and a NUL).
 * This is what toyctl cid prints and what IPFS calls the bytes. */
void rt_cid_raw_sha256(const void *data, size_t n, char out[RT_CID_RAW_SHA256_STRLEN + 1]);

/* ------------------------------------------------------- any CID */

/* A decoded binary CID.  Offsets count from the CID's first byte. */
typedef struct rt_cid {
    uint64_t version;    /* 0 or 1 */
    uint64_t codec;      /* multicodec; RT_CID_DAG_PB for version 0 */
    uint64_t hash;       /* multihash function code */
    size_t digest_off;   /* the digest is bytes [digest_off, digest_off + digest_len) */
    size_t digest_len;
    size_t len;          /* bytes of the whole CID */
} rt_cid;

/*
 * Decodes the CID at the start of p[0..n) (bytes after it are left alone:
 * in a CAR section the block follows).  Version 0 is the bare sha2-256
 * multihash 0x12 0x20 || 32 bytes; version 1 is varint(1) varint(codec)
 * varint(hash) varint(digest length) digest.  Returns 0 with *c filled, or
 * RT_CID_ETRUNC, RT_CID_EVARINT, RT_CID_EVERSION or RT_CID_ELONG (*c is
 * then unspecified).
 */
int rt_cid_decode(const uint8_t *p, size_t n, rt_cid *c);

/* Whether data[0..n) is the block that the CID cid (bytes, decoded as c)
 * names: 1 if its digest matches, 0 if not, RT_CID_EHASH if the hash is
 * not sha2-256 with a 32-byte digest (the only one computed here). */
int rt_cid_matches(const uint8_t *cid, const rt_cid *c, const void *data, size_t n);

/*
 * Writes the text form of the binary CID cid[0..n) to out (cap bytes, NUL
 * included): 'b' and base32 for version 1, base58btc ("Qm...") for
 * version 0.  Returns the length without the NUL, or RT_CID_ENOSPC, or an
 * rt_cid_decode error or RT_CID_ETRAIL if cid[0..n) is not exactly one
 * CID (out is then "" if cap > 0).  RT_CID_STR_MAX is always enough.
 */
int rt_cid_to_string(const uint8_t *cid, size_t n, char *out, size_t cap);

/* ------------------------------------------------------ multibase */

/* The two encodings of CIDs in text, without a multibase prefix, of
 * in[0..n) (n <= RT_CID_MAX_BYTES) into out (cap bytes, NUL included).
 * Each returns the length without the NUL, or RT_CID_ENOSPC (out is then
 * "" if cap > 0) or RT_CID_ELONG.
 *   base32:    RFC 4648 §6, lowercase, no padding: ceil(8n / 5) characters
 *   base58btc: Bitcoin's alphabet; each leading zero byte is a '1'.
 *              Quadratic in n: for short inputs such as CIDs. */
int rt_cid_base32(const uint8_t *in, size_t n, char *out, size_t cap);
int rt_cid_base58btc(const uint8_t *in, size_t n, char *out, size_t cap);

/* -------------------------------------------------------- varints */

/* Writes v as an unsigned varint to out and returns its length (1 to 9),
 * or 0 if v >= 2^63, which has no varint of at most 9 bytes. */
size_t rt_cid_uvarint_put(uint64_t v, uint8_t out[RT_CID_UVARINT_MAX]);

/* Reads the unsigned varint at the start of p[0..n) into *v.  Returns its
 * length (1 to 9), or RT_CID_ETRUNC if p ends inside it, or RT_CID_EVARINT
 * if it is not minimal (a last byte of 0 after the first) or longer than 9
 * bytes. */
int rt_cid_uvarint_get(const uint8_t *p, size_t n, uint64_t *v);

#endif

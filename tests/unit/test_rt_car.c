/*
 * test_rt_car.c - unit tests for runtime/rt_car (CARv1 writer and reader).
 *
 * The header bytes are checked against the layout of the CARv1 spec
 * (ipld.io/specs/transport/car/carv1) written out by hand below, the
 * writer against the reader, and the reader against one hand-made CAR per
 * error it names.  Every truncation and every one-byte change of a valid
 * CAR is read too (under the sanitizers in `make test SANITIZE=...`).
 * tests/integration/test_ipfs.sh compares the writer's bytes with what
 * @ipld/car writes, and the reader with CARs that @ipld/car wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_car.h"
#include "rt_cid.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A growable byte buffer for building CARs. */
typedef struct buf {
    uint8_t b[1 << 17];
    size_t n;
} buf;

static void put(buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_byte(buf *o, uint8_t c)
{
    put(o, &c, 1);
}

/* A CAR of the raw blocks data[i][0..len[i]), each one a root too. */
static void make_car(buf *o, const char *const *data, const size_t *len, size_t n)
{
    uint8_t cids[8][RT_CID_RAW_SHA256_BYTES];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        rt_cid_raw_sha256_bytes(data[i], len[i], cids[i]);
    size_t hl;
    o->n = 0;
    assert_int_equal(rt_car_header(&cids[0][0], n * RT_CID_RAW_SHA256_BYTES, o->b, sizeof o->b, &hl), 0);
    o->n = hl;
    for (size_t i = 0; i < n; i++) {
        uint8_t pre[RT_CAR_PREFIX_MAX(RT_CID_RAW_SHA256_BYTES)];
        size_t pl = rt_car_section_prefix(cids[i], sizeof cids[i], len[i], pre, sizeof pre);
        assert_true(pl > 0);
        put(o, pre, pl);
        put(o, data[i], len[i]);
    }
}

/* rt_car_open, then every section; returns the first error or 0. */
static int read_all(const uint8_t *b, size_t n, rt_car_reader *r, size_t *nblocks)
{
    int rc = rt_car_open(r, b, n);
    if (rc)
        return rc;
    rt_car_block blk;
    *nblocks = 0;
    while ((rc = rt_car_next(r, &blk)) == 1) {
        (*nblocks)++;
        assert_true(blk.off < n && blk.cid_off < n);
        assert_true(blk.data_off <= n && blk.data_len <= n - blk.data_off);
        assert_int_equal(blk.cid_off + blk.cid.len, blk.data_off);
    }
    return rc;
}

/* ------------------------------------------------------------- writer */

static void test_header_layout(void **state)
{
    (void)state;
    /* {"roots": [], "version": 1}: a2 65 "roots" 80 67 "version" 01, 17
     * bytes, after its length 0x11. */
    static const uint8_t empty[] = { 0x11, 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x80, 0x67,
                                     'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01 };
    uint8_t out[4096];
    size_t len = 0;
    assert_int_equal(rt_car_header(NULL, 0, out, sizeof out, &len), 0);
    assert_int_equal(len, sizeof empty);
    assert_memory_equal(out, empty, sizeof empty);

    /* One raw root: the array holds d8 2a (tag 42), 58 25 (37 bytes),
     * 00 and the 36-byte CID. */
    uint8_t cid[RT_CID_RAW_SHA256_BYTES];
    rt_cid_raw_sha256_bytes("a", 1, cid);
    buf want = { .n = 0 };
    put_byte(&want, 17 + 41);
    put(&want, empty + 1, 7); /* a2 65 roots */
    put_byte(&want, 0x81);
    static const uint8_t link[] = { 0xd8, 0x2a, 0x58, 0x25, 0x00 };
    put(&want, link, sizeof link);
    put(&want, cid, sizeof cid);
    put(&want, empty + 9, 9); /* 67 version 01 */
    assert_int_equal(rt_car_header(cid, sizeof cid, out, sizeof out, &len), 0);
    assert_int_equal(len, want.n);
    assert_memory_equal(out, want.b, want.n);

    /* Too small: nothing written, the length needed given. */
    memset(out, 0xee, sizeof out);
    assert_int_equal(rt_car_header(cid, sizeof cid, out, want.n - 1, &len), RT_CAR_ENOSPC);
    assert_int_equal(len, want.n);
    assert_int_equal(out[0], 0xee);
    assert_int_equal(rt_car_header(cid, sizeof cid, NULL, 0, &len), RT_CAR_ENOSPC);
    assert_int_equal(len, want.n);
}

static void test_header_counts(void **state)
{
    (void)state;
    static uint8_t roots[RT_CAR_MAX_ROOTS + 1][RT_CID_RAW_SHA256_BYTES];
    static uint8_t out[RT_CAR_MAX_HEADER];
    for (size_t i = 0; i <= RT_CAR_MAX_ROOTS; i++) {
        char c = (char)i;
        rt_cid_raw_sha256_bytes(&c, 1, roots[i]);
    }
    /* 23 roots: array head 0x97; 24: 0x98 0x18; the header length varint
     * takes two bytes from 128 on. */
    for (size_t n = 0; n <= RT_CAR_MAX_ROOTS; n++) {
        size_t len;
        assert_int_equal(rt_car_header(&roots[0][0], n * RT_CID_RAW_SHA256_BYTES, out, sizeof out, &len), 0);
        size_t cbor = 1 + 6 + (n < 24 ? 1 : 2) + n * 41 + 8 + 1, vl = cbor < 128 ? 1 : 2;
        assert_int_equal(len, vl + cbor);
        assert_int_equal(out[vl + 7], n < 24 ? 0x80 + n : 0x98);
        if (n >= 24)
            assert_int_equal(out[vl + 8], n);
        rt_car_reader r;
        assert_int_equal(rt_car_open(&r, out, len), 0);
        assert_int_equal(r.nroots, n);
        for (size_t i = 0; i < n; i++) {
            assert_memory_equal(out + r.root_off[i], roots[i], RT_CID_RAW_SHA256_BYTES);
            assert_int_equal(r.roots[i].len, RT_CID_RAW_SHA256_BYTES);
        }
        rt_car_block b;
        assert_int_equal(rt_car_next(&r, &b), 0); /* no sections */
    }
    size_t len;
    assert_int_equal(rt_car_header(&roots[0][0], sizeof roots, out, sizeof out, &len), RT_CAR_ELIMIT);
    /* Roots that are not whole CIDs. */
    assert_int_equal(rt_car_header(&roots[0][0], RT_CID_RAW_SHA256_BYTES - 1, out, sizeof out, &len),
                     RT_CID_ETRUNC);
    static const uint8_t v3[] = { 0x03, 0x55, 0x12, 0x00 };
    assert_int_equal(rt_car_header(v3, sizeof v3, out, sizeof out, &len), RT_CID_EVERSION);
}

static void test_section_prefix(void **state)
{
    (void)state;
    uint8_t cid[RT_CID_RAW_SHA256_BYTES], out[RT_CAR_PREFIX_MAX(RT_CID_RAW_SHA256_BYTES)];
    rt_cid_raw_sha256_bytes("", 0, cid);
    static const struct { uint64_t data; size_t varint; } v[] = {
        { 0, 1 }, { 91, 1 }, { 92, 2 }, { 16347, 2 }, { 16348, 3 }, { 1u << 20, 3 },
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        size_t n = rt_car_section_prefix(cid, sizeof cid, v[i].data, out, sizeof out);
        assert_int_equal(n, v[i].varint + sizeof cid);
        uint64_t sl;
        assert_int_equal(rt_cid_uvarint_get(out, n, &sl), (int)v[i].varint);
        assert_true(sl == sizeof cid + v[i].data);
        assert_memory_equal(out + v[i].varint, cid, sizeof cid);
        assert_int_equal(rt_car_section_prefix(cid, sizeof cid, v[i].data, out, n - 1), 0);
    }
    assert_int_equal(rt_car_section_prefix(cid, sizeof cid, (uint64_t)1 << 63, out, sizeof out), 0);
    assert_int_equal(rt_car_section_prefix(cid, sizeof cid, UINT64_MAX, out, sizeof out), 0);
}

/* ------------------------------------------------------------- reader */

static void test_round_trip(void **state)
{
    (void)state;
    static char big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + 3);
    const char *data[] = { "{\"reportId\":\"report_1\"}", "", "# Report\n", big };
    size_t len[] = { strlen(data[0]), 0, strlen(data[2]), sizeof big };
    static buf o;
    make_car(&o, data, len, 4);

    rt_car_reader r;
    assert_int_equal(rt_car_open(&r, o.b, o.n), 0);
    assert_int_equal(r.nroots, 4);
    rt_car_block b;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rt_car_next(&r, &b), 1);
        assert_int_equal(b.data_len, len[i]);
        assert_memory_equal(o.b + b.data_off, data[i], len[i]);
        assert_memory_equal(o.b + b.cid_off, o.b + r.root_off[i], RT_CID_RAW_SHA256_BYTES);
        assert_int_equal(rt_cid_matches(o.b + b.cid_off, &b.cid, o.b + b.data_off, b.data_len), 1);
        assert_int_equal(r.nblocks, i + 1);
    }
    assert_int_equal(rt_car_next(&r, &b), 0);
    assert_int_equal(rt_car_next(&r, &b), 0);
    assert_int_equal(r.error, 0);
}

/* Expects rt_car_open (or a later rt_car_next) to fail with code and a
 * reason containing text, at offset off. */
static void expect_error(const buf *o, int code, const char *text, size_t off)
{
    rt_car_reader r;
    size_t nb = 0;
    int rc = read_all(o->b, o->n, &r, &nb);
    if (rc != code || !r.reason || !strstr(r.reason, text) || r.error_off != off)
        fail_msg("expected %d \"%s\" at %zu, got %d \"%s\" at %zu", code, text, off, rc,
                 r.reason ? r.reason : "(none)", r.error_off);
    /* Sticky: the same error again, and no block. */
    rt_car_block b;
    assert_int_equal(rt_car_next(&r, &b), code);
    assert_int_equal(r.error, code);
}

/* A header made of the given CBOR bytes, with its length in front. */
static void header_of(buf *o, const uint8_t *cbor, size_t n)
{
    uint8_t v[RT_CID_UVARINT_MAX];
    o->n = 0;
    put(o, v, rt_cid_uvarint_put(n, v));
    put(o, cbor, n);
}

static void test_header_errors(void **state)
{
    (void)state;
    static buf o;
    o.n = 0;
    expect_error(&o, RT_CAR_EFORMAT, "empty file", 0);
    put_byte(&o, 0x80);
    expect_error(&o, RT_CAR_EFORMAT, "ends inside the header's length", 0);
    static const uint8_t nonmin[] = { 0x91, 0x00 };
    o.n = 0;
    put(&o, nonmin, 2);
    expect_error(&o, RT_CAR_EFORMAT, "not a minimal varint", 0);
    o.n = 0;
    put_byte(&o, 0x00);
    expect_error(&o, RT_CAR_EFORMAT, "length 0", 0);
    static const uint8_t big[] = { 0x81, 0x80, 0x04 }; /* 65537 */
    o.n = 0;
    put(&o, big, sizeof big);
    expect_error(&o, RT_CAR_ELIMIT, "longer than 65536", 0);
    o.n = 0;
    put_byte(&o, 0x11);
    put_byte(&o, 0xa2);
    expect_error(&o, RT_CAR_EFORMAT, "ends inside the header", 0);

    /* The CARv2 pragma: {"version": 2}. */
    static const uint8_t v2[] = { 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x02 };
    header_of(&o, v2, sizeof v2);
    expect_error(&o, RT_CAR_EVERSION, "CARv2", 1);
    static const uint8_t v3[] = { 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x80, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x03 };
    header_of(&o, v3, sizeof v3);
    expect_error(&o, RT_CAR_EVERSION, "version is not 1", 1);
    static const uint8_t not_map[] = { 0x82, 0x01, 0x02 };
    header_of(&o, not_map, sizeof not_map);
    expect_error(&o, RT_CAR_EFORMAT, "not a CBOR map", 1);
    static const uint8_t indef[] = { 0xbf, 0xff };
    header_of(&o, indef, sizeof indef);
    expect_error(&o, RT_CAR_EFORMAT, "indefinite", 1);
    /* Version first: not the DAG-CBOR key order. */
    static const uint8_t order[] = { 0xa2, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01, 0x65, 'r', 'o', 'o', 't', 's', 0x80 };
    header_of(&o, order, sizeof order);
    expect_error(&o, RT_CAR_EFORMAT, "DAG-CBOR order", 11);
    static const uint8_t dup[] = { 0xa2, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01 };
    header_of(&o, dup, sizeof dup);
    expect_error(&o, RT_CAR_EFORMAT, "repeats \"version\"", 11);
    static const uint8_t other[] = { 0xa1, 0x64, 'n', 'a', 'm', 'e', 0x01 };
    header_of(&o, other, sizeof other);
    expect_error(&o, RT_CAR_EFORMAT, "other than", 1 + 1);
    static const uint8_t no_roots[] = { 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01 };
    header_of(&o, no_roots, sizeof no_roots);
    expect_error(&o, RT_CAR_EFORMAT, "no \"roots\"", 1);
    static const uint8_t no_version[] = { 0xa1, 0x65, 'r', 'o', 'o', 't', 's', 0x80 };
    header_of(&o, no_version, sizeof no_version);
    expect_error(&o, RT_CAR_EFORMAT, "no \"version\"", 1);
    static const uint8_t neg_version[] = { 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x20 };
    header_of(&o, neg_version, sizeof neg_version);
    expect_error(&o, RT_CAR_EFORMAT, "not an unsigned integer", 10);
    /* 1 written in two bytes: not the shortest form. */
    static const uint8_t long_one[] = { 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x18, 0x01 };
    header_of(&o, long_one, sizeof long_one);
    expect_error(&o, RT_CAR_EFORMAT, "shortest form", 10);
    static const uint8_t trailing[] = { 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01, 0x00 };
    header_of(&o, trailing, sizeof trailing);
    expect_error(&o, RT_CAR_EFORMAT, "bytes after the header's map", 11);
    static const uint8_t key_int[] = { 0xa1, 0x01, 0x01 };
    header_of(&o, key_int, sizeof key_int);
    expect_error(&o, RT_CAR_EFORMAT, "not a text string", 2);
}

static void test_root_errors(void **state)
{
    (void)state;
    static buf o;
    /* Builds {"roots": [ITEM], "version": 1} around the bytes of ITEM. */
#define ROOTS_WITH(...)                                                              \
    do {                                                                             \
        static const uint8_t item[] = { __VA_ARGS__ };                              \
        buf cb = { .n = 0 };                                                         \
        static const uint8_t head[] = { 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x81 }; \
        static const uint8_t tail[] = { 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01 }; \
        put(&cb, head, sizeof head);                                                 \
        put(&cb, item, sizeof item);                                                 \
        put(&cb, tail, sizeof tail);                                                 \
        header_of(&o, cb.b, cb.n);                                                   \
    } while (0)
    ROOTS_WITH(0x01);
    expect_error(&o, RT_CAR_EFORMAT, "not a CID link", 9);
    ROOTS_WITH(0xd8, 0x2b, 0x40);
    expect_error(&o, RT_CAR_EFORMAT, "not a CID link", 9);
    ROOTS_WITH(0xd8, 0x2a, 0x01);
    expect_error(&o, RT_CAR_EFORMAT, "does not hold a byte string", 11);
    ROOTS_WITH(0xd8, 0x2a, 0x40);
    expect_error(&o, RT_CAR_EFORMAT, "0x00 prefix", 12);
    ROOTS_WITH(0xd8, 0x2a, 0x45, 0x01, 0x01, 0x55, 0x00, 0x00);
    expect_error(&o, RT_CAR_EFORMAT, "0x00 prefix", 12);
    ROOTS_WITH(0xd8, 0x2a, 0x45, 0x00, 0x01, 0x55, 0x00, 0x01);
    expect_error(&o, RT_CAR_EFORMAT, "truncated CID", 13);
    ROOTS_WITH(0xd8, 0x2a, 0x46, 0x00, 0x01, 0x55, 0x00, 0x00, 0x00);
    expect_error(&o, RT_CAR_EFORMAT, "more than its CID", 13);
    ROOTS_WITH(0xd8, 0x2a, 0x45, 0x00, 0x02, 0x55, 0x00, 0x00);
    expect_error(&o, RT_CAR_EFORMAT, "version 0 or 1", 13);
    ROOTS_WITH(0xd8, 0x2a, 0x5f);
    expect_error(&o, RT_CAR_EFORMAT, "indefinite", 11);
#undef ROOTS_WITH
    /* An identity CID of 4 bytes is a valid root. */
    static const uint8_t ok_item[] = { 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x81, 0xd8, 0x2a, 0x45, 0x00, 0x01,
                                       0x55, 0x00, 0x00, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01 };
    header_of(&o, ok_item, sizeof ok_item);
    rt_car_reader r;
    assert_int_equal(rt_car_open(&r, o.b, o.n), 0);
    assert_int_equal(r.nroots, 1);
    assert_int_equal(r.root_off[0], 13);
    assert_int_equal(r.roots[0].len, 4);
    /* 65 roots: over the limit. */
    static const uint8_t many[] = { 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x98, 65 };
    header_of(&o, many, sizeof many);
    expect_error(&o, RT_CAR_ELIMIT, "more than 64 roots", 8);
}

static void test_section_errors(void **state)
{
    (void)state;
    static buf o, car;
    const char *data[] = { "abc" };
    size_t len[] = { 3 };
    make_car(&car, data, len, 1);
    size_t hl = car.n - (1 + 36 + 3); /* the header's bytes */

    /* Cut anywhere after the section's length: an error at its start. */
    for (size_t n = hl + 1; n < car.n; n++) {
        o.n = 0;
        put(&o, car.b, n);
        expect_error(&o, RT_CAR_EFORMAT, "ends inside a section (truncated?)", hl);
    }
    /* A section of length 0. */
    o.n = 0;
    put(&o, car.b, hl);
    put_byte(&o, 0x00);
    expect_error(&o, RT_CAR_EFORMAT, "length 0", hl);
    /* A length that is not minimal. */
    o.n = 0;
    put(&o, car.b, hl);
    put_byte(&o, 0x80 | 39);
    put_byte(&o, 0x00);
    put(&o, car.b + hl + 1, 39);
    expect_error(&o, RT_CAR_EFORMAT, "not a minimal varint", hl);
    o.n = hl;
    put_byte(&o, 0x80);
    expect_error(&o, RT_CAR_EFORMAT, "ends inside a section's length", hl);
    /* A section shorter than its CID: 10 bytes of a 36-byte CID. */
    o.n = 0;
    put(&o, car.b, hl);
    put_byte(&o, 10);
    put(&o, car.b + hl + 1, 10);
    expect_error(&o, RT_CAR_EFORMAT, "shorter than its CID", hl + 1);
    /* A CID of version 2. */
    o.n = 0;
    put(&o, car.b, hl);
    put_byte(&o, 4);
    static const uint8_t v2[] = { 0x02, 0x55, 0x00, 0x00 };
    put(&o, v2, 4);
    expect_error(&o, RT_CAR_EFORMAT, "version 0 or 1", hl + 1);
    /* The good section, then garbage: the first block reads, then the
     * error. */
    o.n = 0;
    put(&o, car.b, car.n);
    put_byte(&o, 0x05);
    rt_car_reader r;
    rt_car_block b;
    assert_int_equal(rt_car_open(&r, o.b, o.n), 0);
    assert_int_equal(rt_car_next(&r, &b), 1);
    assert_int_equal(rt_car_next(&r, &b), RT_CAR_EFORMAT);
    assert_int_equal(r.error_off, car.n);
    assert_int_equal(r.nblocks, 1);
    /* A failed open is sticky too. */
    assert_int_equal(rt_car_open(&r, o.b, 0), RT_CAR_EFORMAT);
    assert_int_equal(rt_car_next(&r, &b), RT_CAR_EFORMAT);
}

/* Every prefix and every one-byte change of a valid CAR: the reader
 * stays inside the buffer, and either fails or reads a CAR whose blocks,
 * checked against their CIDs and the roots, show the change. */
static void test_damage(void **state)
{
    (void)state;
    static buf car;
    const char *data[] = { "{\"a\":1}", "# A\n" };
    size_t len[] = { 7, 4 };
    make_car(&car, data, len, 2);
    uint8_t want[2][RT_CID_RAW_SHA256_BYTES];
    for (size_t k = 0; k < 2; k++)
        rt_cid_raw_sha256_bytes(data[k], len[k], want[k]);
    static uint8_t copy[sizeof car.b];
    size_t variants = 0, caught_by_reader = 0;
    for (size_t i = 0; i <= car.n; i++) {
        for (int kind = 0; kind < 3; kind++) {
            size_t n = car.n;
            memcpy(copy, car.b, car.n);
            if (kind == 0) {
                if (i == car.n)
                    continue;
                n = i; /* a prefix */
            } else if (i < car.n) {
                copy[i] ^= kind == 1 ? 0x01 : 0x80;
            } else {
                continue;
            }
            variants++;
            uint8_t *heap = malloc(n ? n : 1); /* exact size: ASan sees overreads */
            memcpy(heap, copy, n);
            rt_car_reader r;
            size_t nb = 0;
            int rc = read_all(heap, n, &r, &nb);
            if (rc < 0) {
                caught_by_reader++;
                assert_true(r.error_off <= n);
                free(heap);
                continue;
            }
            /* Read whole: the damage must show as a block that does not
             * hash to its CID, or other CIDs, roots or blocks. */
            int intact = r.nroots == 2 && nb == 2;
            rt_car_reader r2;
            rt_car_block b;
            assert_int_equal(rt_car_open(&r2, heap, n), 0);
            for (size_t k = 0; rt_car_next(&r2, &b) == 1; k++) {
                int m = rt_cid_matches(heap + b.cid_off, &b.cid, heap + b.data_off, b.data_len);
                intact = intact && m == 1 && k < 2 && b.cid.len == RT_CID_RAW_SHA256_BYTES &&
                         memcmp(heap + b.cid_off, want[k], RT_CID_RAW_SHA256_BYTES) == 0 &&
                         memcmp(heap + r.root_off[k], want[k], RT_CID_RAW_SHA256_BYTES) == 0;
            }
            if (intact)
                fail_msg("variant %zu (kind %d at %zu) reads as the intact CAR", variants, kind, i);
            free(heap);
        }
    }
    assert_true(variants > 3 * 100);
    assert_true(caught_by_reader > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_header_counts),
        cmocka_unit_test(test_section_prefix),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_root_errors),
        cmocka_unit_test(test_section_errors),
        cmocka_unit_test(test_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_rt_cid.c - unit tests for runtime/rt_cid (CIDs, multibase, varints).
 *
 * Known answers: the base32 vectors of RFC 4648 §10 (lowercased, padding
 * removed, as multibase writes them), base58 vectors from bitcoin/bitcoin
 * src/test/data/base58_encode_decode.json (copied verbatim), and the CID of
 * the empty file that `ipfs add --cid-version 1` prints (quoted in
 * ipfs-shipyard/py-ipfs-http-client issue 293).  Everything else is checked
 * against a bit-at-a-time base32 written here and SHA-256 from nettle
 * directly; tests/integration/test_ipfs.sh compares many more CIDs with the
 * npm package multiformats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/sha2.h>

#include "rt_cid.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* Deterministic filler bytes. */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* Base32 one bit at a time: the reference for rt_cid_base32. */
static void ref_base32(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t bits = n * 8, k = 0;
    for (size_t b = 0; b < bits; b += 5) {
        unsigned v = 0;
        for (size_t j = 0; j < 5; j++) {
            size_t bit = b + j;
            v = v << 1 | (bit < bits ? (in[bit / 8] >> (7 - bit % 8)) & 1u : 0u);
        }
        out[k++] = a[v];
    }
    out[k] = 0;
}

/* ----------------------------------------------------------- multibase */

static void test_base32_rfc4648(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } v[] = {
        { "", "" }, { "f", "my" }, { "fo", "mzxq" }, { "foo", "mzxw6" },
        { "foob", "mzxw6yq" }, { "fooba", "mzxw6ytb" }, { "foobar", "mzxw6ytboi" },
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        char out[32];
        int n = rt_cid_base32((const uint8_t *)v[i].in, strlen(v[i].in), out, sizeof out);
        assert_int_equal(n, (int)strlen(v[i].out));
        assert_string_equal(out, v[i].out);
    }
}

static void test_base32_reference(void **state)
{
    (void)state;
    uint8_t in[RT_CID_MAX_BYTES];
    char got[RT_CID_STR_MAX], want[RT_CID_STR_MAX];
    for (size_t n = 0; n <= RT_CID_MAX_BYTES; n++) {
        fill(in, n, (uint32_t)n + 7);
        ref_base32(in, n, want);
        assert_int_equal(rt_cid_base32(in, n, got, sizeof got), (int)strlen(want));
        assert_string_equal(got, want);
        /* Exactly the length and its NUL fit; one byte less does not. */
        assert_int_equal(rt_cid_base32(in, n, got, strlen(want) + 1), (int)strlen(want));
        assert_int_equal(rt_cid_base32(in, n, got, strlen(want)), RT_CID_ENOSPC);
        assert_string_equal(got, "");
    }
    assert_int_equal(rt_cid_base32(in, RT_CID_MAX_BYTES + 1, got, sizeof got), RT_CID_ELONG);
}

static void test_base58_bitcoin(void **state)
{
    (void)state;
    /* bitcoin/bitcoin src/test/data/base58_encode_decode.json */
    static const struct { const char *hex, *b58; } v[] = {
        { "", "" },
        { "61", "2g" },
        { "626262", "a3gV" },
        { "636363", "aPEr" },
        { "73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2" },
        { "00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L" },
        { "516b6fcd0f", "ABnLTmg" },
        { "bf4f89001e670274dd", "3SEo3LWLoPntC" },
        { "572e4794", "3EFU7m" },
        { "ecac89cad93923c02321", "EJDM8drfXA6uyA" },
        { "10c8511e", "Rt5zm" },
        { "00000000000000000000", "1111111111" },
        { "000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
          "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz" },
        { "271F359E", "zzzzy" },
        { "271F359F", "zzzzz" },
        { "271F35A0", "211111" },
        { "271F35A1", "211112" },
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        uint8_t in[64];
        char out[128];
        size_t n = unhex(v[i].hex, in, sizeof in);
        assert_int_equal(rt_cid_base58btc(in, n, out, sizeof out), (int)strlen(v[i].b58));
        assert_string_equal(out, v[i].b58);
        assert_int_equal(rt_cid_base58btc(in, n, out, strlen(v[i].b58)), RT_CID_ENOSPC);
    }
}

/* ------------------------------------------------------------- varints */

static void test_uvarint(void **state)
{
    (void)state;
    static const uint64_t values[] = { 0, 1, 127, 128, 255, 300, 16383, 16384, 0x1fffff, 0x200000,
                                       UINT32_MAX, (uint64_t)1 << 56, ((uint64_t)1 << 63) - 1 };
    for (size_t i = 0; i < ARRAY_LEN(values); i++) {
        uint8_t b[RT_CID_UVARINT_MAX];
        size_t n = rt_cid_uvarint_put(values[i], b);
        size_t want = 1;
        for (uint64_t v = values[i] >> 7; v; v >>= 7)
            want++;
        assert_int_equal(n, want);
        uint64_t got = 42;
        assert_int_equal(rt_cid_uvarint_get(b, n, &got), (int)n);
        assert_true(got == values[i]);
        /* Every shorter input is truncated. */
        for (size_t k = 0; k < n; k++)
            assert_int_equal(rt_cid_uvarint_get(b, k, &got), RT_CID_ETRUNC);
    }
    uint8_t b[RT_CID_UVARINT_MAX];
    assert_int_equal(rt_cid_uvarint_put((uint64_t)1 << 63, b), 0);
    assert_int_equal(rt_cid_uvarint_put(UINT64_MAX, b), 0);
    uint64_t v;
    /* 300 is ac 02; the multiformats spec's example. */
    static const uint8_t v300[] = { 0xac, 0x02 };
    assert_int_equal(rt_cid_uvarint_get(v300, 2, &v), 2);
    assert_true(v == 300);
    /* Not minimal: a zero last byte. */
    static const uint8_t nm1[] = { 0x80, 0x00 }, nm2[] = { 0x81, 0x80, 0x00 };
    assert_int_equal(rt_cid_uvarint_get(nm1, 2, &v), RT_CID_EVARINT);
    assert_int_equal(rt_cid_uvarint_get(nm2, 3, &v), RT_CID_EVARINT);
    /* Ten bytes: over the 9-byte limit, whatever follows. */
    static const uint8_t ten[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    assert_int_equal(rt_cid_uvarint_get(ten, 10, &v), RT_CID_EVARINT);
    /* Bytes after the varint are left alone. */
    static const uint8_t more[] = { 0x05, 0xff };
    assert_int_equal(rt_cid_uvarint_get(more, 2, &v), 1);
    assert_true(v == 5);
}

/* ---------------------------------------------------------------- CIDs */

static void test_raw_sha256_known(void **state)
{
    (void)state;
    char s[RT_CID_RAW_SHA256_STRLEN + 1];
    rt_cid_raw_sha256(NULL, 0, s);
    assert_string_equal(s, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    uint8_t b[RT_CID_RAW_SHA256_BYTES];
    rt_cid_raw_sha256_bytes("", 0, b);
    static const uint8_t head[] = { 0x01, 0x55, 0x12, 0x20, 0xe3, 0xb0, 0xc4, 0x42 };
    assert_memory_equal(b, head, sizeof head);
}

static void test_raw_sha256_structure(void **state)
{
    (void)state;
    uint8_t data[5000];
    for (size_t n = 0; n < sizeof data; n += 1 + n / 3) {
        fill(data, n, (uint32_t)n);
        uint8_t d[32], want[RT_CID_RAW_SHA256_BYTES], got[RT_CID_RAW_SHA256_BYTES];
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, n, data);
        sha256_digest(&h, 32, d);
        want[0] = 1, want[1] = 0x55, want[2] = 0x12, want[3] = 32;
        memcpy(want + 4, d, 32);
        rt_cid_raw_sha256_bytes(data, n, got);
        assert_memory_equal(got, want, sizeof want);
        rt_cid_raw_from_digest(d, got);
        assert_memory_equal(got, want, sizeof want);

        char s[RT_CID_RAW_SHA256_STRLEN + 1], ref[RT_CID_STR_MAX];
        rt_cid_raw_sha256(data, n, s);
        assert_int_equal(strlen(s), RT_CID_RAW_SHA256_STRLEN);
        assert_int_equal(s[0], 'b');
        assert_memory_equal(s, "bafkrei", 7); /* the fixed prefix bytes, in base32 */
        ref_base32(want, sizeof want, ref);
        assert_string_equal(s + 1, ref);

        rt_cid c;
        assert_int_equal(rt_cid_decode(want, sizeof want, &c), 0);
        assert_true(c.version == 1 && c.codec == RT_CID_RAW && c.hash == RT_CID_SHA2_256);
        assert_int_equal(c.digest_off, 4);
        assert_int_equal(c.digest_len, 32);
        assert_int_equal(c.len, 36);
        assert_int_equal(rt_cid_matches(want, &c, data, n), 1);
        if (n) {
            data[n / 2] ^= 1;
            assert_int_equal(rt_cid_matches(want, &c, data, n), 0);
        }
        assert_int_equal(rt_cid_matches(want, &c, data, n + 1), 0);
    }
}

static void test_decode(void **state)
{
    (void)state;
    uint8_t b[80];
    rt_cid c;
    /* Version 0: the bare sha2-256 multihash. */
    b[0] = 0x12, b[1] = 0x20;
    fill(b + 2, 32, 1);
    b[34] = 0xee; /* a following byte is not part of it */
    assert_int_equal(rt_cid_decode(b, 35, &c), 0);
    assert_true(c.version == 0 && c.codec == RT_CID_DAG_PB && c.hash == RT_CID_SHA2_256);
    assert_int_equal(c.len, 34);
    assert_int_equal(c.digest_off, 2);
    for (size_t k = 0; k < 34; k++)
        assert_int_equal(rt_cid_decode(b, k, &c), RT_CID_ETRUNC);
    char s[RT_CID_STR_MAX];
    int n = rt_cid_to_string(b, 34, s, sizeof s);
    assert_int_equal(n, (int)strlen(s));
    assert_int_equal(s[0], 'Q');
    assert_int_equal(s[1], 'm'); /* every sha2-256 version 0 CID is "Qm..." */
    assert_int_equal(rt_cid_to_string(b, 35, s, sizeof s), RT_CID_ETRAIL);
    assert_string_equal(s, "");

    /* Version 1 with a two-byte codec (dag-json, 0x0129) and sha2-512. */
    static const uint8_t p[] = { 0x01, 0xa9, 0x02, 0x13, 0x40 };
    memcpy(b, p, sizeof p);
    fill(b + sizeof p, 64, 2);
    size_t len = sizeof p + 64;
    assert_int_equal(rt_cid_decode(b, len, &c), 0);
    assert_true(c.version == 1 && c.codec == 0x0129 && c.hash == 0x13);
    assert_int_equal(c.digest_off, 5);
    assert_int_equal(c.digest_len, 64);
    assert_int_equal(c.len, len);
    for (size_t k = 0; k < len; k++)
        assert_int_equal(rt_cid_decode(b, k, &c), RT_CID_ETRUNC);
    assert_int_equal(rt_cid_matches(b, &c, "x", 1), RT_CID_EHASH);
    n = rt_cid_to_string(b, len, s, sizeof s);
    assert_int_equal(n, 1 + (int)((len * 8 + 4) / 5));
    assert_int_equal(rt_cid_to_string(b, len, s, (size_t)n), RT_CID_ENOSPC);
    assert_int_equal(rt_cid_to_string(b, len, s, (size_t)n + 1), n);

    /* A sha2-256 digest of other than 32 bytes cannot be checked. */
    static const uint8_t short_digest[] = { 0x01, 0x55, 0x12, 0x10, 1, 2, 3, 4, 5, 6, 7, 8,
                                            9, 10, 11, 12, 13, 14, 15, 16 };
    assert_int_equal(rt_cid_decode(short_digest, sizeof short_digest, &c), 0);
    assert_int_equal(rt_cid_matches(short_digest, &c, "", 0), RT_CID_EHASH);

    /* Versions other than 0 and 1. */
    static const uint8_t v0_prefixed[] = { 0x00, 0x55, 0x12, 0x00 }, v2[] = { 0x02, 0x55, 0x12, 0x00 },
                         v18[] = { 0x12, 0x21 };
    assert_int_equal(rt_cid_decode(v0_prefixed, sizeof v0_prefixed, &c), RT_CID_EVERSION);
    assert_int_equal(rt_cid_decode(v2, sizeof v2, &c), RT_CID_EVERSION);
    assert_int_equal(rt_cid_decode(v18, sizeof v18, &c), RT_CID_EVERSION);
    /* A varint that is not minimal, and a digest over the limit. */
    static const uint8_t nonmin[] = { 0x01, 0xd5, 0x00, 0x12, 0x00 };
    assert_int_equal(rt_cid_decode(nonmin, sizeof nonmin, &c), RT_CID_EVARINT);
    static const uint8_t huge[] = { 0x01, 0x55, 0x00, 0x81, 0x02 }; /* identity, 257 bytes */
    assert_int_equal(rt_cid_decode(huge, sizeof huge, &c), RT_CID_ELONG);
    /* An identity CID with an empty digest is 4 bytes: "bafkqaaa". */
    static const uint8_t empty_id[] = { 0x01, 0x55, 0x00, 0x00 };
    assert_int_equal(rt_cid_decode(empty_id, sizeof empty_id, &c), 0);
    assert_int_equal(c.len, 4);
    assert_int_equal(rt_cid_to_string(empty_id, 4, s, sizeof s), 8);
    assert_string_equal(s, "bafkqaaa");
    assert_int_equal(rt_cid_decode(b, 0, &c), RT_CID_ETRUNC);
}

static void test_strerror(void **state)
{
    (void)state;
    for (int e = RT_CID_ETRAIL; e <= RT_CID_ETRUNC; e++) {
        assert_non_null(rt_cid_strerror(e));
        assert_string_not_equal(rt_cid_strerror(e), "?");
    }
    assert_string_equal(rt_cid_strerror(0), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base32_rfc4648),
        cmocka_unit_test(test_base32_reference),
        cmocka_unit_test(test_base58_bitcoin),
        cmocka_unit_test(test_uvarint),
        cmocka_unit_test(test_raw_sha256_known),
        cmocka_unit_test(test_raw_sha256_structure),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

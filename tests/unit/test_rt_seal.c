/*
 * test_rt_seal.c — sealed records: they open to what was sealed, with the
 * same key and additional data only; every altered byte, a wrong key, a
 * wrong ad or a truncation is refused; the ciphertext does not hold the
 * plaintext; two seals of one plaintext differ (fresh nonces).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rt_seal.h"

static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";

static void test_round_trip(void **state)
{
    (void)state;
    static const char pt[] = "{\"deletionToken\":\"f00dfeed\",\"salt\":\"c0ffee\"}";
    uint8_t sealed[sizeof pt + RT_SEAL_OVERHEAD], again[sizeof pt + RT_SEAL_OVERHEAD];
    char out[sizeof pt];
    assert_int_equal(rt_seal(key, "k1", 2, pt, sizeof pt, sealed), 0);
    assert_int_equal(rt_seal(key, "k1", 2, pt, sizeof pt, again), 0);
    assert_memory_not_equal(sealed, again, sizeof sealed);
    assert_null(memmem(sealed, sizeof sealed, "f00dfeed", 8));
    assert_int_equal(rt_seal_open(key, "k1", 2, sealed, sizeof sealed, out), (long)sizeof pt);
    assert_memory_equal(out, pt, sizeof pt);
    /* Empty plaintext and empty ad work too. */
    uint8_t e[RT_SEAL_OVERHEAD];
    assert_int_equal(rt_seal(key, NULL, 0, "", 0, e), 0);
    assert_int_equal(rt_seal_open(key, NULL, 0, e, sizeof e, out), 0);
}

static void test_refusals(void **state)
{
    (void)state;
    static const char pt[] = "an answer";
    uint8_t sealed[sizeof pt + RT_SEAL_OVERHEAD], t[sizeof sealed];
    char out[sizeof pt];
    assert_int_equal(rt_seal(key, "ad", 2, pt, sizeof pt, sealed), 0);
    for (size_t i = 0; i < sizeof sealed; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(t, sealed, sizeof t);
            t[i] ^= (uint8_t)(1 << bit);
            assert_int_equal(rt_seal_open(key, "ad", 2, t, sizeof t, out), -1);
        }
    uint8_t other[32];
    memcpy(other, key, 32);
    other[31] ^= 1;
    assert_int_equal(rt_seal_open(other, "ad", 2, sealed, sizeof sealed, out), -1);
    assert_int_equal(rt_seal_open(key, "ae", 2, sealed, sizeof sealed, out), -1);
    assert_int_equal(rt_seal_open(key, NULL, 0, sealed, sizeof sealed, out), -1);
    for (size_t n = 0; n < sizeof sealed; n++)
        assert_int_equal(rt_seal_open(key, "ad", 2, sealed, n, out), -1);
}

/* The sealing context keeps a key from one record to the next: records
 * sealed by turns with two keys each open with their own key alone, and
 * with their own nonce. */
static void test_key_change(void **state)
{
    (void)state;
    static const char pt[] = "a record";
    uint8_t other[32], s[4][sizeof pt + RT_SEAL_OVERHEAD];
    char out[sizeof pt];
    memcpy(other, key, 32);
    other[0] ^= 0x80;
    for (int i = 0; i < 4; i++)
        assert_int_equal(rt_seal(i & 1 ? other : key, "ad", 2, pt, sizeof pt, s[i]), 0);
    for (int i = 0; i < 4; i++) {
        const uint8_t *mine = i & 1 ? other : key, *theirs = i & 1 ? key : other;
        assert_int_equal(rt_seal_open(mine, "ad", 2, s[i], sizeof s[i], out), (long)sizeof pt);
        assert_memory_equal(out, pt, sizeof pt);
        assert_int_equal(rt_seal_open(theirs, "ad", 2, s[i], sizeof s[i], out), -1);
        for (int k = 0; k < i; k++)
            assert_memory_not_equal(s[i], s[k], RT_SEAL_NONCE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_key_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

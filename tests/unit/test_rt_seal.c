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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

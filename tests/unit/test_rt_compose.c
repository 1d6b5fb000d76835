/*
 * test_rt_compose.c - unit tests for runtime/rt_compose (the compose hash)
 * and for the sim TEE provider's use of it.
 *
 * Known answer: tests/data/compose/dstack-example/app-compose.json and the
 * event log that measured it (ORIGIN.md there): the "compose-hash" event of
 * that real dstack CVM carries 06768e6d...653aff, the SHA-256 of the file's
 * bytes.  Other expectations are computed here with OpenSSL's SHA-256, which
 * rt_compose.c (nettle) does not use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "rt_compose.h"
#include "rt_hex.h"
#include "rt_tee.h"

#define VECTOR "tests/data/compose/dstack-example/app-compose.json"
/* The payload of the vector's measured "compose-hash" event (report.json). */
#define VECTOR_HASH "06768e6df639ce3be65e9e5321f8b2d82dbffb01c74323462d34c2feb9653aff"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 20, f);
    assert_int_equal(ferror(f), 0);
    fclose(f);
    return buf;
}

static void hex32(const uint8_t h[32], char out[65])
{
    rt_hex_encode(h, 32, out);
}

static void test_known_answer(void **state)
{
    (void)state;
    size_t n;
    char *buf = slurp(VECTOR, &n);
    uint8_t h[32];
    char hex[65];
    rt_compose_hash(buf, n, h);
    hex32(h, hex);
    assert_string_equal(hex, VECTOR_HASH);

    /* The same manifest with one byte of white space added is another
     * compose hash: the bytes are the identity, not the parsed manifest. */
    char *more = malloc(n + 1);
    assert_non_null(more);
    memcpy(more, buf, n);
    more[n] = '\n';
    rt_compose_hash(more, n + 1, h);
    hex32(h, hex);
    assert_string_not_equal(hex, VECTOR_HASH);
    free(more);

    assert_int_equal(rt_compose_hash_file(VECTOR, h, NULL, 0), 0);
    hex32(h, hex);
    assert_string_equal(hex, VECTOR_HASH);
    free(buf);
}

static void test_against_openssl(void **state)
{
    (void)state;
    static const size_t sizes[] = { 0, 1, 55, 56, 63, 64, 65, 8191, 8192, 8193, 100000 };
    uint8_t *buf = malloc(100000);
    assert_non_null(buf);
    for (size_t i = 0; i < 100000; i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 7));
    char dir[] = "/tmp/test_rt_compose.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/app-compose.json", dir);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint8_t want[32], got[32], fromfile[32];
        SHA256(buf, sizes[k], want);
        rt_compose_hash(sizes[k] ? buf : NULL, sizes[k], got);
        assert_memory_equal(got, want, 32);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, sizes[k], f), sizes[k]);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(rt_compose_hash_file(path, fromfile, NULL, 0), 0);
        assert_memory_equal(fromfile, want, 32);
    }
    unlink(path);
    rmdir(dir);
    free(buf);
}

static void test_file_errors(void **state)
{
    (void)state;
    uint8_t h[32], before[32];
    memset(h, 0xab, sizeof h);
    memcpy(before, h, sizeof h);
    char err[160] = "";
    assert_int_equal(rt_compose_hash_file("/nonexistent/app-compose.json", h, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    assert_memory_equal(h, before, 32); /* out untouched on error */
    err[0] = 0;
    assert_int_equal(rt_compose_hash_file("tests", h, err, sizeof err), -1); /* a directory */
    assert_true(err[0] != 0);
    assert_memory_equal(h, before, 32);
    /* err may be NULL */
    assert_int_equal(rt_compose_hash_file("/nonexistent", h, NULL, 0), -1);
}

/* The sim provider reports, for TOYAPP_COMPOSE_FILE, the hash dstack
 * measured for the same file. */
static void test_sim_reports_it(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_rt_compose.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char seed[64];
    snprintf(seed, sizeof seed, "%s/seed", dir);
    const char *err = NULL;
    rt_tee *t = rt_tee_open("sim", seed, "toyapp-test", &err);
    assert_non_null(t);
    rt_tee_info_t info;

    setenv("TOYAPP_COMPOSE_FILE", VECTOR, 1);
    assert_int_equal(rt_tee_info(t, &info), 0);
    assert_string_equal(info.compose_hash, VECTOR_HASH);

    setenv("TOYAPP_COMPOSE_FILE", "/nonexistent/app-compose.json", 1);
    assert_int_equal(rt_tee_info(t, &info), -1);
    assert_non_null(strstr(rt_tee_error(t), "TOYAPP_COMPOSE_FILE /nonexistent/app-compose.json"));
    assert_non_null(strstr(rt_tee_error(t), "No such file"));

    unsetenv("TOYAPP_COMPOSE_FILE");
    assert_int_equal(rt_tee_info(t, &info), 0);
    uint8_t empty[32];
    char hex[65];
    SHA256((const uint8_t *)"", 0, empty);
    hex32(empty, hex);
    assert_string_equal(info.compose_hash, hex);

    rt_tee_close(t);
    unlink(seed);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_against_openssl),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_sim_reports_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

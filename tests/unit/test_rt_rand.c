/*
 * test_rt_rand.c — buffered random bytes: no draw repeats another, across
 * refills of the buffer and in a child made by fork().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_rand.h"

#define DRAWS 600   /* of 32 bytes: more than four buffers' worth */

static void test_draws_differ(void **state)
{
    (void)state;
    static uint8_t d[DRAWS][32];
    for (int i = 0; i < DRAWS; i++) {
        assert_int_equal(rt_rand(d[i], (size_t)(i % 32) + 1), 0);   /* sizes 1 to 32 */
        assert_int_equal(rt_rand(d[i], 32), 0);
    }
    for (int i = 0; i < DRAWS; i++)
        for (int k = 0; k < i; k++)
            assert_memory_not_equal(d[i], d[k], 32);
    /* A large draw, past the buffer, is random too. */
    static uint8_t big[2][5000];
    assert_int_equal(rt_rand(big[0], sizeof big[0]), 0);
    assert_int_equal(rt_rand(big[1], sizeof big[1]), 0);
    assert_memory_not_equal(big[0], big[1], sizeof big[0]);
    uint8_t none[1] = { 7 };
    assert_int_equal(rt_rand(none, 0), 0);
    assert_int_equal(none[0], 7);
}

/* After fork(), the child's next bytes are not the parent's next bytes. */
static void test_fork(void **state)
{
    (void)state;
    uint8_t warm[8], mine[32], theirs[32];
    assert_int_equal(rt_rand(warm, sizeof warm), 0);   /* the buffer holds bytes not given out */
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t b[32];
        _exit(rt_rand(b, sizeof b) == 0 && write(fd[1], b, sizeof b) == (ssize_t)sizeof b ? 0 : 1);
    }
    assert_int_equal(rt_rand(mine, sizeof mine), 0);
    assert_int_equal(read(fd[0], theirs, sizeof theirs), (ssize_t)sizeof theirs);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_memory_not_equal(mine, theirs, sizeof mine);
    close(fd[0]);
    close(fd[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draws_differ),
        cmocka_unit_test(test_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

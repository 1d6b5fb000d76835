/*
 * rt_rand.h — random bytes for the hot path: OpenSSL's RAND_bytes, drawn
 * 4 KiB at a time into a buffer of each thread's own.
 *
 * A call of RAND_bytes cost about 1.4 us whatever its size (locking,
 * parameters, a fork check by getpid), and a submission drew four times:
 * its salt, receipt id, deletion token and a sealed answer's nonce.  From
 * the buffer a draw is a copy; each byte is given out once and wiped from
 * the buffer as it is.  A child made by fork() starts with an empty buffer
 * (pthread_atfork), so parent and child never give out the same bytes.
 */
#ifndef RT_RAND_H
#define RT_RAND_H

#include <stddef.h>

/* Fills out[0..n) with random bytes.  Returns 0, or -1 when OpenSSL has
 * none to give (out is then unchanged). */
int rt_rand(void *out, size_t n) __attribute__((warn_unused_result));

#endif

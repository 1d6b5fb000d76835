/*
 * rt_be.h — big-endian integers in bytes: Postgres's binary int8 (int8send,
 * a binary result's bigint) and the service's own packed formats.
 */
#ifndef RT_BE_H
#define RT_BE_H

#include <stdint.h>

/* The n-byte (n <= 8) big-endian integer at p. */
static inline uint64_t rt_be_get(const void *p, int n)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

/* Writes v as n (<= 8) big-endian bytes at p. */
static inline void rt_be_put(void *p, uint64_t v, int n)
{
    uint8_t *b = p;
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

#endif

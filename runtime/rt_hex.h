/*
 * rt_hex.h — hex: lowercase encoding, strict decoding (either case).
 * One implementation for the runtime, toyapp, toyctl and the benchmarks.
 */
#ifndef RT_HEX_H
#define RT_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit c (either case), or -1. */
static inline int rt_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Lowercase hex of in[0..n) into out (2n + 1 bytes, NUL-terminated). */
void rt_hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes exactly 2*n hex digits from s[0..len) into out.  Returns 0, or
 * -1 if s is NULL, len is not 2*n or a character is not a hex digit. */
int rt_hex_decode(const char *s, size_t len, uint8_t *out, size_t n);

/* The same for a NUL-terminated s (which may be NULL). */
int rt_hex_decode_str(const char *s, uint8_t *out, size_t n);

#endif

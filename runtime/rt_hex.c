/* rt_hex.c — see rt_hex.h. */
#include "rt_hex.h"

#include <string.h>

void rt_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

int rt_hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (!s || len != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int h = rt_hex_digit((unsigned char)s[2 * i]), l = rt_hex_digit((unsigned char)s[2 * i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

int rt_hex_decode_str(const char *s, uint8_t *out, size_t n)
{
    return rt_hex_decode(s, s ? strlen(s) : 0, out, n);
}

/* rt_keccak.c — the Keccak-256 sponge over nettle's Keccak-f[1600]; see rt_keccak.h. */
#include "rt_keccak.h"

#include <string.h>

/* Lane i of the state holds bytes 8i..8i+7 of the block, little endian. */
static void absorb_byte(rt_keccak *k, unsigned at, uint8_t b)
{
    k->st.a[at / 8] ^= (uint64_t)b << (8 * (at % 8));
}

void rt_keccak_init(rt_keccak *k)
{
    memset(k, 0, sizeof *k);
}

void rt_keccak_update(rt_keccak *k, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        absorb_byte(k, k->pos, b[i]);
        if (++k->pos == RT_KECCAK_RATE) {
            sha3_permute(&k->st);
            k->pos = 0;
        }
    }
}

void rt_keccak_final(rt_keccak *k, uint8_t out[32])
{
    /* Keccak's multi-rate padding: 0x01, zeros, 0x80 (one byte 0x81 when
     * the block has a single byte of room). */
    absorb_byte(k, k->pos, 0x01);
    absorb_byte(k, RT_KECCAK_RATE - 1, 0x80);
    sha3_permute(&k->st);
    for (unsigned i = 0; i < 32; i++)
        out[i] = (uint8_t)(k->st.a[i / 8] >> (8 * (i % 8)));
    rt_keccak_init(k);
}

void rt_keccak256(const void *p, size_t n, uint8_t out[32])
{
    rt_keccak k;
    rt_keccak_init(&k);
    rt_keccak_update(&k, p, n);
    rt_keccak_final(&k, out);
}

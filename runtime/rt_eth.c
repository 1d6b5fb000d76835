/* rt_eth.c — secp256k1 accounts and EIP-1559 transactions; see rt_eth.h. */
#include "rt_eth.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "rt_hex.h"
#include "rt_keccak.h"
#include "rt_rlp.h"

const char *rt_eth_strerror(int err)
{
    switch (err) {
    case RT_ETH_OK: return "no error";
    case RT_ETH_E_KEY: return "not a valid secp256k1 secret key";
    case RT_ETH_E_SPACE: return "transaction buffer too small";
    case RT_ETH_E_SIGN: return "secp256k1 signing failed";
    case RT_ETH_E_SIG: return "malformed or non-canonical secp256k1 signature";
    case RT_ETH_E_RECOVER: return "no public key recovers from the signature";
    default: return "unknown error";
    }
}

int rt_eth_u256_u64(const uint8_t be[32], uint64_t *v)
{
    for (int i = 0; i < 24; i++)
        if (be[i])
            return -1;
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = x << 8 | be[i];
    *v = x;
    return 0;
}

/* A context for the secret-key operations, blinded with fresh randomness
 * (side-channel protection); one per call keeps this thread-safe, and
 * since libsecp256k1 0.2 its tables are static, so creation is cheap. */
static secp256k1_context *signing_ctx(void)
{
    uint8_t seed[32];
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx)
        return NULL;
    if (RAND_bytes(seed, sizeof seed) != 1 || !secp256k1_context_randomize(ctx, seed)) {
        secp256k1_context_destroy(ctx);
        ctx = NULL;
    }
    OPENSSL_cleanse(seed, sizeof seed);
    return ctx;
}

int rt_eth_seckey_valid(const uint8_t seckey[32])
{
    return secp256k1_ec_seckey_verify(secp256k1_context_static, seckey) == 1;
}

/* The address of a parsed public key. */
static void pubkey_address(const secp256k1_pubkey *pk, uint8_t addr[RT_ETH_ADDR_LEN])
{
    uint8_t ser[65], h[32];
    size_t n = sizeof ser;
    secp256k1_ec_pubkey_serialize(secp256k1_context_static, ser, &n, pk, SECP256K1_EC_UNCOMPRESSED);
    rt_keccak256(ser + 1, 64, h);   /* without the 0x04 prefix */
    memcpy(addr, h + 12, RT_ETH_ADDR_LEN);
}

int rt_eth_address(const uint8_t seckey[32], uint8_t addr[RT_ETH_ADDR_LEN])
{
    if (!rt_eth_seckey_valid(seckey))
        return RT_ETH_E_KEY;
    secp256k1_context *ctx = signing_ctx();
    secp256k1_pubkey pk;
    int ok = ctx && secp256k1_ec_pubkey_create(ctx, &pk, seckey) == 1;
    secp256k1_context_destroy(ctx);
    if (!ok)
        return RT_ETH_E_SIGN;
    pubkey_address(&pk, addr);
    return RT_ETH_OK;
}

/* EIP-55: hex digit i is upper case when nibble i of keccak256(the
 * lowercase hex text) is 8 or more. */
static void checksum_case(char hex[40])
{
    uint8_t h[32];
    rt_keccak256(hex, 40, h);
    for (int i = 0; i < 40; i++) {
        int nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15;
        if (hex[i] >= 'a' && hex[i] <= 'f' && nib >= 8)
            hex[i] = (char)(hex[i] - 'a' + 'A');
    }
}

void rt_eth_address_str(const uint8_t addr[RT_ETH_ADDR_LEN], char out[RT_ETH_ADDR_STR])
{
    out[0] = '0';
    out[1] = 'x';
    rt_hex_encode(addr, RT_ETH_ADDR_LEN, out + 2);
    checksum_case(out + 2);
}

int rt_eth_address_parse(const char *s, size_t n, uint8_t addr[RT_ETH_ADDR_LEN])
{
    if (!s || n != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return -1;
    uint8_t a[RT_ETH_ADDR_LEN];
    if (rt_hex_decode(s + 2, 40, a, sizeof a) != 0)
        return -1;
    int lower = 0, upper = 0;
    for (int i = 2; i < 42; i++) {
        lower |= s[i] >= 'a' && s[i] <= 'f';
        upper |= s[i] >= 'A' && s[i] <= 'F';
    }
    if (lower && upper) {
        char want[RT_ETH_ADDR_STR];
        rt_eth_address_str(a, want);
        if (memcmp(want + 2, s + 2, 40) != 0)
            return -1;
    }
    memcpy(addr, a, sizeof a);
    return 0;
}

int rt_eth_tx_encode(const rt_eth_tx *tx, const rt_eth_sig *sig, uint8_t *out, size_t cap,
                     size_t *len)
{
    rt_rlp r;
    size_t n;
    if (cap < 1)
        return RT_ETH_E_SPACE;
    out[0] = 0x02;   /* EIP-2718 type of an EIP-1559 transaction */
    rt_rlp_init(&r, out + 1, cap - 1);
    rt_rlp_list_begin(&r);
    rt_rlp_uint(&r, tx->chain_id);
    rt_rlp_uint(&r, tx->nonce);
    rt_rlp_uint(&r, tx->max_priority_fee);
    rt_rlp_uint(&r, tx->max_fee);
    rt_rlp_uint(&r, tx->gas_limit);
    rt_rlp_bytes(&r, tx->to, tx->has_to ? RT_ETH_ADDR_LEN : 0);
    rt_rlp_uint256(&r, tx->value);
    rt_rlp_bytes(&r, tx->data, tx->data_len);
    rt_rlp_list_begin(&r);   /* the access list: empty */
    rt_rlp_list_end(&r);
    if (sig) {
        rt_rlp_uint(&r, (uint64_t)sig->y_parity);
        rt_rlp_uint256(&r, sig->r);
        rt_rlp_uint256(&r, sig->s);
    }
    rt_rlp_list_end(&r);
    if (rt_rlp_finish(&r, &n) != RT_RLP_OK)
        return RT_ETH_E_SPACE;
    *len = n + 1;
    return RT_ETH_OK;
}

/* keccak256 of the signing payload, in a heap buffer of its size. */
static int signing_hash(const rt_eth_tx *tx, uint8_t h[32])
{
    size_t cap = tx->data_len + RT_ETH_TX_OVERHEAD, n;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return RT_ETH_E_SPACE;
    int rc = rt_eth_tx_encode(tx, NULL, buf, cap, &n);
    if (rc == RT_ETH_OK)
        rt_keccak256(buf, n, h);
    free(buf);
    return rc;
}

int rt_eth_tx_sign(const rt_eth_tx *tx, const uint8_t seckey[32], uint8_t *out, size_t cap,
                   size_t *len, uint8_t hash[32], rt_eth_sig *sig_out)
{
    uint8_t digest[32], rs[64];
    rt_eth_sig sig;
    if (!rt_eth_seckey_valid(seckey))
        return RT_ETH_E_KEY;
    int rc = signing_hash(tx, digest);
    if (rc != RT_ETH_OK)
        return rc;
    secp256k1_context *ctx = signing_ctx();
    secp256k1_ecdsa_recoverable_signature rsig;
    int recid = 0;
    /* NULL nonce function: RFC 6979.  libsecp256k1 always returns low s. */
    int ok = ctx && secp256k1_ecdsa_sign_recoverable(ctx, &rsig, digest, seckey, NULL, NULL) == 1 &&
             secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, &recid, &rsig) == 1;
    secp256k1_context_destroy(ctx);
    if (!ok)
        return RT_ETH_E_SIGN;
    memcpy(sig.r, rs, 32);
    memcpy(sig.s, rs + 32, 32);
    sig.y_parity = recid;
    rc = rt_eth_tx_encode(tx, &sig, out, cap, len);
    if (rc != RT_ETH_OK)
        return rc;
    if (hash)
        rt_keccak256(out, *len, hash);
    if (sig_out)
        *sig_out = sig;
    return RT_ETH_OK;
}

static int is_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

int rt_eth_recover(const uint8_t digest[32], const rt_eth_sig *sig, uint8_t addr[RT_ETH_ADDR_LEN])
{
    const secp256k1_context *ctx = secp256k1_context_static;
    uint8_t rs[64];
    secp256k1_ecdsa_signature plain;
    secp256k1_ecdsa_recoverable_signature rsig;
    secp256k1_pubkey pk;
    if ((sig->y_parity != 0 && sig->y_parity != 1) || is_zero(sig->r, 32) || is_zero(sig->s, 32))
        return RT_ETH_E_SIG;
    memcpy(rs, sig->r, 32);
    memcpy(rs + 32, sig->s, 32);
    /* parse_compact refuses r or s >= n; normalize reports a high s. */
    if (secp256k1_ecdsa_signature_parse_compact(ctx, &plain, rs) != 1 ||
        secp256k1_ecdsa_signature_normalize(ctx, NULL, &plain) != 0 ||
        secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, rs, sig->y_parity) != 1)
        return RT_ETH_E_SIG;
    if (secp256k1_ecdsa_recover(ctx, &pk, &rsig, digest) != 1)
        return RT_ETH_E_RECOVER;
    pubkey_address(&pk, addr);
    return RT_ETH_OK;
}

int rt_eth_tx_sender(const rt_eth_tx *tx, const rt_eth_sig *sig, uint8_t addr[RT_ETH_ADDR_LEN])
{
    uint8_t digest[32];
    int rc = signing_hash(tx, digest);
    return rc == RT_ETH_OK ? rt_eth_recover(digest, sig, addr) : rc;
}

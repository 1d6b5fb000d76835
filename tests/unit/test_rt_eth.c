/*
 * test_rt_eth.c — unit tests for runtime/rt_keccak, rt_rlp and rt_eth:
 * Keccak-256, RLP, addresses (EIP-55) and EIP-1559 transactions.
 *
 * Known answers are published vectors, each with its source: Keccak-256
 * digests from the Keccak team's and Ethereum's documentation, the RLP
 * examples of the Ethereum wiki's RLP page (ethereum.org, "Recursive-length
 * prefix serialization"), the EIP-55 examples of the EIP itself, the
 * address of the secret key 1 and of Hardhat/anvil's first development
 * account, and a mainnet EIP-1559 transaction (hash
 * 0x0ec0b6a2df4d87424e5f6ad2a654e27aaeb7dac20ae9e8385cc09087ad532ee0) whose
 * fields, signature and sender are public on chain.  The differential test
 * against ethers (tests/integration/test_chain_ethers.sh) covers random
 * transactions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_eth.h"
#include "rt_hex.h"
#include "rt_keccak.h"
#include "rt_rlp.h"

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    if (s[0] == '0' && s[1] == 'x')
        s += 2;
    size_t n = strlen(s) / 2;
    assert_true(strlen(s) % 2 == 0 && n <= cap);
    assert_int_equal(rt_hex_decode(s, 2 * n, out, n), 0);
    return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
    char h[2 * 4096 + 1];
    assert_true(n <= 4096);
    rt_hex_encode(got, n, h);
    if (want[0] == '0' && want[1] == 'x')
        want += 2;
    assert_string_equal(h, want);
}

/* ---------------------------------------------------------- Keccak-256 */

static void test_keccak_vectors(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } v[] = {
        { "", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470" },
        { "abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45" },
        { "The quick brown fox jumps over the lazy dog",
          "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15" },
        /* The ERC-20 Transfer event's topic, which every explorer shows. */
        { "Transfer(address,address,uint256)",
          "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef" },
    };
    uint8_t h[32];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        rt_keccak256(v[i].in, strlen(v[i].in), h);
        assert_hex(h, 32, v[i].out);
    }
    /* ERC-20 transfer()'s function selector, the first 4 bytes. */
    rt_keccak256("transfer(address,uint256)", 25, h);
    assert_hex(h, 4, "a9059cbb");
}

/* Absorbing in pieces gives the one-shot digest, across the 136-byte
 * block boundary and the one-byte padding case (135 bytes in a block). */
static void test_keccak_incremental(void **state)
{
    (void)state;
    uint8_t msg[600], one[32], parts[32];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof msg; n += (n < 280 ? 1 : 37)) {
        rt_keccak256(msg, n, one);
        for (size_t step = 1; step <= 137; step += 17) {
            rt_keccak k;
            rt_keccak_init(&k);
            for (size_t at = 0; at < n; at += step)
                rt_keccak_update(&k, msg + at, at + step <= n ? step : n - at);
            rt_keccak_final(&k, parts);
            assert_memory_equal(one, parts, 32);
        }
    }
    /* Different lengths around the boundary give different digests. */
    uint8_t a[32], b[32];
    rt_keccak256(msg, 135, a);
    rt_keccak256(msg, 136, b);
    assert_memory_not_equal(a, b, 32);
}

/* ----------------------------------------------------------------- RLP */

static void rlp_check(void (*build)(rt_rlp *), const char *want)
{
    uint8_t buf[256];
    size_t n;
    rt_rlp r;
    rt_rlp_init(&r, buf, sizeof buf);
    build(&r);
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_OK);
    assert_hex(buf, n, want);
}

static void b_dog(rt_rlp *r) { rt_rlp_bytes(r, "dog", 3); }
static void b_cat_dog(rt_rlp *r)
{
    rt_rlp_list_begin(r);
    rt_rlp_bytes(r, "cat", 3);
    rt_rlp_bytes(r, "dog", 3);
    rt_rlp_list_end(r);
}
static void b_empty_string(rt_rlp *r) { rt_rlp_bytes(r, NULL, 0); }
static void b_empty_list(rt_rlp *r) { rt_rlp_list_begin(r); rt_rlp_list_end(r); }
static void b_zero(rt_rlp *r) { rt_rlp_uint(r, 0); }
static void b_byte0(rt_rlp *r) { rt_rlp_bytes(r, "\x00", 1); }
static void b_byte15(rt_rlp *r) { rt_rlp_bytes(r, "\x0f", 1); }
static void b_1024(rt_rlp *r) { rt_rlp_uint(r, 1024); }
/* The set-theoretical representation of three: [ [], [[]], [ [], [[]] ] ]. */
static void b_three(rt_rlp *r)
{
    rt_rlp_list_begin(r);
    b_empty_list(r);
    rt_rlp_list_begin(r);
    b_empty_list(r);
    rt_rlp_list_end(r);
    rt_rlp_list_begin(r);
    b_empty_list(r);
    rt_rlp_list_begin(r);
    b_empty_list(r);
    rt_rlp_list_end(r);
    rt_rlp_list_end(r);
    rt_rlp_list_end(r);
}
static const char lorem[] = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
static void b_lorem(rt_rlp *r) { rt_rlp_bytes(r, lorem, sizeof lorem - 1); }
static void b_uint256(rt_rlp *r)
{
    uint8_t be[32] = { 0 };
    be[30] = 0x04;
    rt_rlp_uint256(r, be);   /* 1024 again, from 32 bytes */
}

static void test_rlp_wiki_examples(void **state)
{
    (void)state;
    rlp_check(b_dog, "83646f67");
    rlp_check(b_cat_dog, "c88363617483646f67");
    rlp_check(b_empty_string, "80");
    rlp_check(b_empty_list, "c0");
    rlp_check(b_zero, "80");
    rlp_check(b_byte0, "00");
    rlp_check(b_byte15, "0f");
    rlp_check(b_1024, "820400");
    rlp_check(b_uint256, "820400");
    rlp_check(b_three, "c7c0c1c0c3c0c1c0");
    rlp_check(b_lorem, "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572"
                       "206164697069736963696e6720656c6974");
}

/* Long lists and strings take a length-of-length header; the payload moves
 * behind it when the list closes. */
static void test_rlp_long_forms(void **state)
{
    (void)state;
    static uint8_t buf[70000], s[66000];
    memset(s, 0xab, sizeof s);
    rt_rlp r;
    size_t n;
    rt_rlp_init(&r, buf, sizeof buf);
    rt_rlp_list_begin(&r);
    rt_rlp_bytes(&r, s, 60);        /* b8 3c ... */
    rt_rlp_bytes(&r, s, 300);       /* b9 01 2c ... */
    rt_rlp_list_end(&r);
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_OK);
    /* payload 2+60 + 3+300 = 365 = 0x016d: list header f9 01 6d */
    assert_int_equal(n, 3 + 365);
    assert_hex(buf, 5, "f9016db83c");
    assert_int_equal(buf[3 + 62], 0xb9);
    assert_int_equal(buf[3 + 63], 0x01);
    assert_int_equal(buf[3 + 64], 0x2c);
    rt_rlp_init(&r, buf, sizeof buf);
    rt_rlp_bytes(&r, s, 66000);     /* ba 01 01 d0 */
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_OK);
    assert_int_equal(n, 4 + 66000);
    assert_hex(buf, 4, "ba0101d0");
    assert_int_equal(rt_rlp_header_len(55), 1);
    assert_int_equal(rt_rlp_header_len(56), 2);
    assert_int_equal(rt_rlp_header_len(256), 3);
}

static void test_rlp_errors(void **state)
{
    (void)state;
    uint8_t buf[8];
    size_t n = 99;
    rt_rlp r;
    rt_rlp_init(&r, buf, sizeof buf);
    rt_rlp_bytes(&r, "0123456789", 10);
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_E_SPACE);
    assert_int_equal(n, 99);
    /* Sticky: later calls change nothing. */
    rt_rlp_bytes(&r, "a", 1);
    assert_int_equal(r.len, 0);

    rt_rlp_init(&r, buf, sizeof buf);
    rt_rlp_list_begin(&r);
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_E_UNBALANCED);
    rt_rlp_init(&r, buf, sizeof buf);
    rt_rlp_list_end(&r);
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_E_UNBALANCED);
    rt_rlp_init(&r, buf, sizeof buf);
    for (int i = 0; i <= RT_RLP_MAX_DEPTH; i++)
        rt_rlp_list_begin(&r);
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_E_DEPTH);
    /* A list header that no longer fits when the list closes. */
    rt_rlp_init(&r, buf, 4);
    rt_rlp_list_begin(&r);
    rt_rlp_bytes(&r, "ab", 2);     /* c3 82 61 62 */
    rt_rlp_list_end(&r);
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_OK);
    assert_int_equal(n, 4);
    rt_rlp_init(&r, buf, 4);
    rt_rlp_list_begin(&r);
    rt_rlp_bytes(&r, "abc", 3);    /* the payload fits, its header does not */
    rt_rlp_list_end(&r);
    assert_int_equal(rt_rlp_finish(&r, &n), RT_RLP_E_SPACE);
    assert_string_equal(rt_rlp_strerror(RT_RLP_E_SPACE), "RLP: output buffer too small");
}

/* ------------------------------------------------------------ accounts */

static void test_addresses(void **state)
{
    (void)state;
    uint8_t k[32] = { 0 }, a[20];
    char s[RT_ETH_ADDR_STR];
    k[31] = 1;
    assert_int_equal(rt_eth_address(k, a), RT_ETH_OK);
    rt_eth_address_str(a, s);
    assert_string_equal(s, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    unhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", k, 32);
    assert_int_equal(rt_eth_address(k, a), RT_ETH_OK);
    rt_eth_address_str(a, s);
    assert_string_equal(s, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

    /* Invalid secret keys: 0 and the group order n. */
    memset(k, 0, 32);
    assert_int_equal(rt_eth_address(k, a), RT_ETH_E_KEY);
    assert_false(rt_eth_seckey_valid(k));
    unhex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", k, 32);
    assert_int_equal(rt_eth_address(k, a), RT_ETH_E_KEY);
    k[31] = 0x40;   /* n - 1 is valid */
    assert_int_equal(rt_eth_address(k, a), RT_ETH_OK);
}

static void test_eip55(void **state)
{
    (void)state;
    static const char *mixed[] = {
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };
    static const char *caps[] = { "0x52908400098527886E0F7030069857D2E4169EE7",
                                  "0x8617E340B3D01FA5F11F306F4090FD50E238070D" };
    static const char *lower[] = { "0xde709f2102306220921060314715629080e2fb77",
                                   "0x27b1fdb04752bbc536007a920d24acb045561c26" };
    uint8_t a[20];
    char s[RT_ETH_ADDR_STR];
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rt_eth_address_parse(mixed[i], strlen(mixed[i]), a), 0);
        rt_eth_address_str(a, s);
        assert_string_equal(s, mixed[i]);
        /* One letter's case flipped: the checksum catches it. */
        char bad[43];
        memcpy(bad, mixed[i], 43);
        for (int j = 2; j < 42; j++)
            if ((bad[j] >= 'a' && bad[j] <= 'f') || (bad[j] >= 'A' && bad[j] <= 'F')) {
                bad[j] ^= 0x20;
                break;
            }
        assert_int_equal(rt_eth_address_parse(bad, 42, a), -1);
    }
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(rt_eth_address_parse(caps[i], 42, a), 0);
        assert_int_equal(rt_eth_address_parse(lower[i], 42, a), 0);
    }
    assert_int_equal(rt_eth_address_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", 41, a), -1);
    assert_int_equal(rt_eth_address_parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", 42, a), -1);
    assert_int_equal(rt_eth_address_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", 42, a), -1);
    assert_int_equal(rt_eth_address_parse(NULL, 0, a), -1);
}

/* -------------------------------------------------------- transactions */

/* Mainnet transaction 0x0ec0b6a2...2ee0 (an EIP-1559 setApprovalForAll). */
static void mainnet_tx(rt_eth_tx *tx, rt_eth_sig *sig, uint8_t *data, size_t cap)
{
    memset(tx, 0, sizeof *tx);
    tx->chain_id = 1;
    tx->nonce = 0x42;
    tx->gas_limit = 44386;
    tx->has_to = 1;
    unhex("6069a6c32cf691f5982febae4faf8a6f3ab2f0f6", tx->to, 20);
    tx->data_len = unhex("a22cb4650000000000000000000000005eee75727d804a2b13038928d36f8b188945a57a"
                         "0000000000000000000000000000000000000000000000000000000000000000",
                         data, cap);
    tx->data = data;
    tx->max_fee = 0x4a817c800;
    tx->max_priority_fee = 0x3b9aca00;
    unhex("840cfc572845f5786e702984c2a582528cad4b49b2a10b9db1be7fca90058565", sig->r, 32);
    unhex("25e7109ceb98168d95b09b18bbf6b685130e0562f233877d492b94eee0c5b6d1", sig->s, 32);
    sig->y_parity = 0;
}

static void test_tx_mainnet_vector(void **state)
{
    (void)state;
    rt_eth_tx tx;
    rt_eth_sig sig;
    uint8_t data[128], raw[512], h[32], from[20];
    size_t n;
    mainnet_tx(&tx, &sig, data, sizeof data);
    assert_int_equal(rt_eth_tx_encode(&tx, &sig, raw, sizeof raw, &n), RT_ETH_OK);
    rt_keccak256(raw, n, h);
    assert_hex(h, 32, "0ec0b6a2df4d87424e5f6ad2a654e27aaeb7dac20ae9e8385cc09087ad532ee0");
    assert_int_equal(rt_eth_tx_sender(&tx, &sig, from), RT_ETH_OK);
    assert_hex(from, 20, "dd6b8b3dc6b7ad97db52f08a275ff4483e024cea");

    /* Any change to a signed field changes the recovered sender. */
    tx.nonce++;
    assert_int_equal(rt_eth_tx_sender(&tx, &sig, from), RT_ETH_OK);
    assert_memory_not_equal(from, "\xdd\x6b\x8b\x3d", 4);
    tx.nonce--;
    /* The other parity recovers another key (or none). */
    sig.y_parity = 1;
    int rc = rt_eth_tx_sender(&tx, &sig, from);
    assert_true(rc == RT_ETH_E_RECOVER || (rc == RT_ETH_OK && memcmp(from, "\xdd\x6b\x8b\x3d", 4)));
    sig.y_parity = 2;
    assert_int_equal(rt_eth_tx_sender(&tx, &sig, from), RT_ETH_E_SIG);
}

/* EIP-2: a signature with s in the upper half is refused, although it is
 * the same signature (n - s with the other parity) to ECDSA. */
static void test_tx_high_s_refused(void **state)
{
    (void)state;
    rt_eth_tx tx;
    rt_eth_sig sig;
    uint8_t data[128], from[20];
    static const char n_hex[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    uint8_t order[32];
    unhex(n_hex, order, 32);
    mainnet_tx(&tx, &sig, data, sizeof data);
    /* s' = n - s, big-endian subtraction */
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = order[i] - sig.s[i] - borrow;
        borrow = d < 0;
        sig.s[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    sig.y_parity ^= 1;
    assert_int_equal(rt_eth_tx_sender(&tx, &sig, from), RT_ETH_E_SIG);
    /* r or s zero, s >= n */
    mainnet_tx(&tx, &sig, data, sizeof data);
    memset(sig.r, 0, 32);
    assert_int_equal(rt_eth_tx_sender(&tx, &sig, from), RT_ETH_E_SIG);
    mainnet_tx(&tx, &sig, data, sizeof data);
    memcpy(sig.s, order, 32);
    assert_int_equal(rt_eth_tx_sender(&tx, &sig, from), RT_ETH_E_SIG);
}

static void test_tx_sign_roundtrip(void **state)
{
    (void)state;
    uint8_t key[32], me[20], from[20], raw[1024], raw2[1024], h[32], h2[32], data[300];
    size_t n, n2;
    rt_eth_sig sig;
    unhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", key, 32);
    assert_int_equal(rt_eth_address(key, me), RT_ETH_OK);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    rt_eth_tx tx = { .chain_id = 31337, .nonce = 7, .max_priority_fee = 1000000000,
                     .max_fee = 3000000000u, .gas_limit = 120000, .has_to = 1,
                     .data = data, .data_len = sizeof data };
    memset(tx.to, 0x11, 20);
    tx.value[31] = 5;
    assert_int_equal(rt_eth_tx_sign(&tx, key, raw, sizeof raw, &n, h, &sig), RT_ETH_OK);
    assert_int_equal(raw[0], 2);
    uint8_t hk[32];
    rt_keccak256(raw, n, hk);
    assert_memory_equal(h, hk, 32);
    assert_int_equal(rt_eth_tx_sender(&tx, &sig, from), RT_ETH_OK);
    assert_memory_equal(from, me, 20);
    /* Deterministic (RFC 6979): the same transaction signs to the same bytes. */
    assert_int_equal(rt_eth_tx_sign(&tx, key, raw2, sizeof raw2, &n2, h2, NULL), RT_ETH_OK);
    assert_int_equal(n, n2);
    assert_memory_equal(raw, raw2, n);
    /* A contract creation has an empty `to`; a different hash. */
    tx.has_to = 0;
    assert_int_equal(rt_eth_tx_sign(&tx, key, raw2, sizeof raw2, &n2, h2, NULL), RT_ETH_OK);
    assert_int_equal(n2, n - 20);
    assert_memory_not_equal(h, h2, 32);
    /* Too small a buffer, and an invalid key. */
    assert_int_equal(rt_eth_tx_sign(&tx, key, raw2, 100, &n2, h2, NULL), RT_ETH_E_SPACE);
    memset(key, 0, 32);
    assert_int_equal(rt_eth_tx_sign(&tx, key, raw2, sizeof raw2, &n2, h2, NULL), RT_ETH_E_KEY);
    assert_string_equal(rt_eth_strerror(RT_ETH_E_KEY), "not a valid secp256k1 secret key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak_vectors),
        cmocka_unit_test(test_keccak_incremental),
        cmocka_unit_test(test_rlp_wiki_examples),
        cmocka_unit_test(test_rlp_long_forms),
        cmocka_unit_test(test_rlp_errors),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_eip55),
        cmocka_unit_test(test_tx_mainnet_vector),
        cmocka_unit_test(test_tx_high_s_refused),
        cmocka_unit_test(test_tx_sign_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

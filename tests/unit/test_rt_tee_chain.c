/*
 * test_rt_tee_chain.c — the chain side of runtime/rt_tee: the enclave's
 * secp256k1 chain key (sim and dstack providers), the report_data binding
 * of its address, and the sim provider's key gate when no registry can be
 * reached.  The gate's answers from a real app registry are tested against
 * a real node in tests/integration/test_chain.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "dstack_stub.h"
#include "rt_eth.h"
#include "rt_hex.h"
#include "rt_tee.h"

typedef struct fx {
    char dir[64], seed[96];
} fx;

static void clear_chain_env(void)
{
    unsetenv("CHAIN");
    unsetenv("CHAIN_APP_REGISTRY");
    unsetenv("CHAIN_RPC_URL");
    unsetenv("TOYAPP_COMPOSE_FILE");
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rt_tee_chain.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->seed, sizeof f->seed, "%s/seed", f->dir);
    clear_chain_env();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    unlink(f->seed);
    rmdir(f->dir);
    clear_chain_env();
    free(f);
    return 0;
}

static rt_tee *open_sim(const char *seed, const char *app)
{
    const char *err = NULL;
    rt_tee *t = rt_tee_open("sim", seed, app, &err);
    if (!t)
        fail_msg("rt_tee_open(sim): %s", err);
    return t;
}

static void test_sim_chain_key(void **state)
{
    fx *f = *state;
    uint8_t k1[32], a1[20], k2[32], a2[20], a3[20], want[20];
    rt_tee *t = open_sim(f->seed, "toyapp");
    assert_int_equal(rt_tee_secp256k1(t, RT_TEE_PATH_CHAIN, k1, a1), 0);
    /* The address is the key's, and the key is the path's derived bytes. */
    assert_int_equal(rt_eth_address(k1, want), RT_ETH_OK);
    assert_memory_equal(a1, want, 20);
    uint8_t raw[32];
    assert_int_equal(rt_tee_derive(t, RT_TEE_PATH_CHAIN, raw), 0);
    assert_memory_equal(raw, k1, 32);
    /* Another path gives another key; NULL secret output is allowed. */
    assert_int_equal(rt_tee_secp256k1(t, "toyapp/secp256k1/other/v1", NULL, a3), 0);
    assert_memory_not_equal(a1, a3, 20);
    rt_tee_close(t);

    /* Instances of the same app (same seed) share it; another app does not. */
    t = open_sim(f->seed, "toyapp");
    assert_int_equal(rt_tee_secp256k1(t, RT_TEE_PATH_CHAIN, k2, a2), 0);
    assert_memory_equal(a1, a2, 20);
    assert_memory_equal(k1, k2, 32);
    rt_tee_close(t);
    t = open_sim(f->seed, "otherapp");
    assert_int_equal(rt_tee_secp256k1(t, RT_TEE_PATH_CHAIN, NULL, a2), 0);
    assert_memory_not_equal(a1, a2, 20);
    rt_tee_close(t);
}

/* dstack's GetKey key is the secret key as it is (the stub's recorded one). */
static void test_dstack_chain_key(void **state)
{
    (void)state;
    dstack_stub *s = dstack_stub_start("tests/data/tee");
    assert_non_null(s);
    const char *err = NULL;
    rt_tee *t = rt_tee_open("dstack", dstack_stub_socket(s), NULL, &err);
    assert_non_null(t);
    uint8_t k[32], a[20], want_k[32], want_a[20];
    assert_int_equal(rt_tee_secp256k1(t, RT_TEE_PATH_CHAIN, k, a), 0);
    rt_hex_decode_str("753b1c334a5c4974ad6706b7d90913ec9aa726145e3a287f7a8e890507d84d09", want_k, 32);
    assert_memory_equal(k, want_k, 32);
    assert_int_equal(rt_eth_address(want_k, want_a), RT_ETH_OK);
    assert_memory_equal(a, want_a, 20);
    /* A key of zeros is not a secp256k1 key: refused with a reason. */
    dstack_stub_set_body(s, "GetKey", "{\"key\":\"0000000000000000000000000000000000000000000000000000000000000000\","
                                      "\"signature_chain\":[]}");
    assert_int_equal(rt_tee_secp256k1(t, RT_TEE_PATH_CHAIN, k, a), -1);
    assert_non_null(strstr(rt_tee_error(t), "not a valid secp256k1 secret key"));
    rt_tee_close(t);
    dstack_stub_stop(s);
}

static void test_report_data(void **state)
{
    (void)state;
    uint8_t pub[32], addr[20], rd[64], want[64], cat[52];
    for (int i = 0; i < 32; i++)
        pub[i] = (uint8_t)(i + 1);
    for (int i = 0; i < 20; i++)
        addr[i] = (uint8_t)(0xa0 + i);
    memcpy(cat, pub, 32);
    memcpy(cat + 32, addr, 20);
    SHA256(cat, 52, want);
    SHA256((const uint8_t *)"n0nce", 5, want + 32);
    rt_tee_report_data(pub, addr, "n0nce", 5, rd);
    assert_memory_equal(rd, want, 64);
    /* No nonce: the second half is zero.  The address is bound: change it
     * and the first half changes. */
    rt_tee_report_data(pub, addr, NULL, 0, rd);
    assert_memory_equal(rd, want, 32);
    memset(want + 32, 0, 32);
    assert_memory_equal(rd + 32, want + 32, 32);
    addr[0] ^= 1;
    rt_tee_report_data(pub, addr, NULL, 0, rd);
    assert_memory_not_equal(rd, want, 32);
    /* It is not the binding of an instance without a chain key, SHA-256
     * of the key alone, which a NULL address gives. */
    SHA256(pub, 32, want);
    assert_memory_not_equal(rd, want, 32);
    rt_tee_report_data(pub, NULL, "n0nce", 5, rd);
    SHA256((const uint8_t *)"n0nce", 5, want + 32);
    assert_memory_equal(rd, want, 64);
}

/* With a registry configured but no node, the sim releases no key, and
 * says why; CHAIN=off turns the gate off; a bad address fails at open. */
static void test_sim_gate_without_node(void **state)
{
    fx *f = *state;
    uint8_t k[32];
    setenv("CHAIN_APP_REGISTRY", "0x5FbDB2315678afecb367f032d93F642f64180aa3", 1);
    setenv("CHAIN_RPC_URL", "http://127.0.0.1:9", 1);   /* discard: nothing listens */
    rt_tee *t = open_sim(f->seed, "toyapp");
    rt_tee_info_t info;
    assert_int_equal(rt_tee_info(t, &info), 0);   /* information is not a key */
    assert_int_equal(rt_tee_derive(t, "toyapp/ed25519/signing/v1", k), -1);
    const char *e = rt_tee_error(t);
    if (!strstr(e, "cannot ask the app registry 0x5FbDB2315678afecb367f032d93F642f64180aa3") ||
        !strstr(e, info.compose_hash))
        fail_msg("unexpected error: %s", e);
    rt_tee_close(t);

    setenv("CHAIN", "off", 1);
    t = open_sim(f->seed, "toyapp");
    assert_int_equal(rt_tee_derive(t, "toyapp/ed25519/signing/v1", k), 0);
    rt_tee_close(t);

    setenv("CHAIN", "maybe", 1);
    const char *err = NULL;
    assert_null(rt_tee_open("sim", f->seed, "toyapp", &err));
    assert_non_null(strstr(err, "CHAIN=maybe"));
    setenv("CHAIN", "on", 1);
    setenv("CHAIN_APP_REGISTRY", "0x5FbDB2315678afecb367f032d93F642f64180aA3", 1); /* bad checksum */
    assert_null(rt_tee_open("sim", f->seed, "toyapp", &err));
    assert_non_null(strstr(err, "CHAIN_APP_REGISTRY"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sim_chain_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dstack_chain_key, setup, teardown),
        cmocka_unit_test(test_report_data),
        cmocka_unit_test_setup_teardown(test_sim_gate_without_node, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_rt_chain.c — unit tests for runtime/rt_chain: the registries' ABI
 * and the two forms of a deletion attestation.
 *
 * Selectors are checked against the ones solc wrote into
 * the artifacts in deploy/artifacts/ (run from the repository root, as make test
 * does); timestamps against the C library's gmtime/strftime; the
 * attestation against records serialized with the generated table of spec
 * record deletion_attestation and signed with Ed25519, as toyapp writes
 * them.  The encodings as a whole are checked against a real node and
 * ethers in tests/integration/test_chain.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "rt_chain.h"
#include "rt_hex.h"
#include "rt_keccak.h"
#include "rt_tee.h"
#include "toy_spec.h"

/* The selector solc gives to fn in the artifact of contract. */
static void solc_selector(const char *contract, const char *fn, char out[9])
{
    char path[256];
    snprintf(path, sizeof path, "deploy/artifacts/%s.json", contract);
    json_object *o = json_object_from_file(path), *ids, *v;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "methodIdentifiers", &ids));
    if (!json_object_object_get_ex(ids, fn, &v))
        fail_msg("%s has no function %s", contract, fn);
    snprintf(out, 9, "%s", json_object_get_string(v));
    json_object_put(o);
}

static void test_selectors_match_solc(void **state)
{
    (void)state;
    static const struct { const char *contract, *fn; } v[] = {
        { "DeletionRegistry", RT_CHAIN_FN_RECORD },    { "DeletionRegistry", RT_CHAIN_FN_RECORDED_IN },
        { "DeletionRegistry", RT_CHAIN_FN_ENCLAVE },   { "DeletionRegistry", RT_CHAIN_FN_OWNER },
        { "DeletionRegistry", RT_CHAIN_FN_SET_ENCLAVE }, { "AppRegistry", RT_CHAIN_FN_ADD_COMPOSE },
        { "AppRegistry", RT_CHAIN_FN_REMOVE_COMPOSE }, { "AppRegistry", RT_CHAIN_FN_ALLOWED },
        { "AppRegistry", RT_CHAIN_FN_VERSION },        { "AppRegistry", RT_CHAIN_FN_OWNER },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char want[9], got[9];
        uint8_t h[32];
        solc_selector(v[i].contract, v[i].fn, want);
        rt_chain_hash_sig(v[i].fn, h);
        rt_hex_encode(h, 4, got);
        assert_string_equal(got, want);
    }
}

/* The events' topics as the ABI in the artifacts declares them. */
static void test_event_signatures_match_abi(void **state)
{
    (void)state;
    static const struct { const char *contract, *sig; } v[] = {
        { "DeletionRegistry", RT_CHAIN_EV_RECORDED },
        { "AppRegistry", RT_CHAIN_EV_ADDED },
        { "AppRegistry", RT_CHAIN_EV_REMOVED },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char path[256], sig[256];
        snprintf(path, sizeof path, "deploy/artifacts/%s.json", v[i].contract);
        json_object *o = json_object_from_file(path), *abi;
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "abi", &abi));
        int found = 0;
        size_t nl = strcspn(v[i].sig, "(");
        for (size_t k = 0; k < json_object_array_length(abi); k++) {
            json_object *e = json_object_array_get_idx(abi, k), *t, *name, *in;
            json_object_object_get_ex(e, "type", &t);
            json_object_object_get_ex(e, "name", &name);
            if (strcmp(json_object_get_string(t), "event") != 0 ||
                strlen(json_object_get_string(name)) != nl ||
                strncmp(json_object_get_string(name), v[i].sig, nl) != 0)
                continue;
            /* Rebuild "Name(type,type,...)" from the ABI's inputs. */
            json_object_object_get_ex(e, "inputs", &in);
            size_t at = (size_t)snprintf(sig, sizeof sig, "%s(", json_object_get_string(name));
            for (size_t j = 0; j < json_object_array_length(in); j++) {
                json_object *ty;
                json_object_object_get_ex(json_object_array_get_idx(in, j), "type", &ty);
                at += (size_t)snprintf(sig + at, sizeof sig - at, "%s%s", j ? "," : "",
                                       json_object_get_string(ty));
            }
            snprintf(sig + at, sizeof sig - at, ")");
            found = 1;
        }
        json_object_put(o);
        assert_true(found);
        assert_string_equal(sig, v[i].sig);
    }
}

static void test_record_calldata(void **state)
{
    (void)state;
    rt_chain_attestation a[2];
    memset(a, 0, sizeof a);
    for (int i = 0; i < 2; i++) {
        memset(a[i].receipt_id_hash, 0x10 + i, 32);
        memset(a[i].user_id_hash, 0x20 + i, 32);
        a[i].deleted_at = 0x0102030405060708ull + (uint64_t)i;
        memset(a[i].compose_hash, 0x30 + i, 32);
        memset(a[i].public_key, 0x40 + i, 32);
        memset(a[i].signature, 0x50 + i, 64);
    }
    assert_int_equal(rt_chain_record_len(2), 4 + 64 + 448);
    uint8_t out[4 + 64 + 448];
    rt_chain_record_calldata(a, 2, out);
    uint8_t h[32];
    rt_keccak256(RT_CHAIN_FN_RECORD, strlen(RT_CHAIN_FN_RECORD), h);
    assert_memory_equal(out, h, 4);
    assert_int_equal(out[4 + 31], 0x20);   /* offset */
    assert_int_equal(out[36 + 31], 2);     /* length */
    const uint8_t *e1 = out + 68 + 224;
    assert_int_equal(e1[0], 0x11);
    assert_int_equal(e1[32], 0x21);
    for (int i = 0; i < 24; i++)
        assert_int_equal(e1[64 + i], 0);
    assert_int_equal(e1[64 + 24], 0x01);
    assert_int_equal(e1[64 + 31], 0x09);
    assert_int_equal(e1[96], 0x31);
    assert_int_equal(e1[128], 0x41);
    assert_int_equal(e1[160], 0x51);
    assert_int_equal(e1[223], 0x51);

    /* The event the contract emits for it decodes back. */
    uint8_t topics[2][32], data[192];
    rt_chain_hash_sig(RT_CHAIN_EV_RECORDED, topics[0]);
    memcpy(topics[1], e1, 32);
    memcpy(data, e1 + 32, 192);
    rt_chain_attestation back;
    assert_int_equal(rt_chain_decode_recorded((const uint8_t (*)[32])topics, 2, data, 192, &back), 0);
    assert_memory_equal(&back, &a[1], sizeof back);
    /* Wrong topic, missing topic, short data, a deletedAt over 64 bits. */
    assert_int_equal(rt_chain_decode_recorded((const uint8_t (*)[32])topics, 1, data, 192, &back), -1);
    assert_int_equal(rt_chain_decode_recorded((const uint8_t (*)[32])topics, 2, data, 160, &back), -1);
    data[32] = 1;
    assert_int_equal(rt_chain_decode_recorded((const uint8_t (*)[32])topics, 2, data, 192, &back), -1);
    data[32] = 0;
    topics[0][0] ^= 1;
    assert_int_equal(rt_chain_decode_recorded((const uint8_t (*)[32])topics, 2, data, 192, &back), -1);
}

static void test_app_registry_abi(void **state)
{
    (void)state;
    uint8_t h[32], out[132];
    size_t n;
    memset(h, 0xab, 32);
    assert_int_equal(rt_chain_call_add_compose(h, "1.2.3", out, &n), 0);
    assert_int_equal(n, 4 + 32 * 4);
    assert_int_equal(out[36 + 31], 64);
    assert_int_equal(out[68 + 31], 5);
    assert_memory_equal(out + 100, "1.2.3", 5);
    assert_int_equal(out[105], 0);
    char v65[66];
    memset(v65, 'a', 65);
    v65[65] = 0;
    assert_int_equal(rt_chain_call_add_compose(h, v65, out, &n), -1);
    assert_int_equal(rt_chain_call_add_compose(h, "", out, &n), -1);

    /* ComposeHashAdded(hash, "1.2.3"): the data is the string's ABI form,
     * which is also composeVersion()'s return value. */
    uint8_t topics[2][32], hash[32];
    char version[RT_CHAIN_VERSION_MAX + 1];
    int added = -1;
    rt_chain_hash_sig(RT_CHAIN_EV_ADDED, topics[0]);
    memcpy(topics[1], h, 32);
    uint8_t data[96];
    memcpy(data, out + 36, 96);
    data[31] = 32;   /* the offset is relative to the data: 0x20 */
    assert_int_equal(rt_chain_decode_compose((const uint8_t (*)[32])topics, 2, data, 96, &added, hash,
                                             version), 0);
    assert_int_equal(added, 1);
    assert_memory_equal(hash, h, 32);
    assert_string_equal(version, "1.2.3");
    assert_int_equal(rt_chain_ret_string(data, 96, version), 0);
    rt_chain_hash_sig(RT_CHAIN_EV_REMOVED, topics[0]);
    assert_int_equal(rt_chain_decode_compose((const uint8_t (*)[32])topics, 2, data, 96, &added, hash,
                                             version), 0);
    assert_int_equal(added, 0);
    data[64] = 0x07;   /* a control character in the version */
    assert_int_equal(rt_chain_ret_string(data, 96, version), -1);
    data[64] = '1';
    data[63] = 200;    /* a length past the data */
    assert_int_equal(rt_chain_ret_string(data, 96, version), -1);

    uint8_t w[32] = { 0 }, addr[20];
    int b;
    uint64_t u;
    w[31] = 1;
    assert_int_equal(rt_chain_ret_bool(w, 32, &b), 0);
    assert_int_equal(b, 1);
    w[31] = 2;
    assert_int_equal(rt_chain_ret_bool(w, 32, &b), -1);
    assert_int_equal(rt_chain_ret_u64(w, 32, &u), 0);
    assert_int_equal(u, 2);
    assert_int_equal(rt_chain_ret_u64(w, 31, &u), -1);
    memset(w + 12, 0xee, 20);
    assert_int_equal(rt_chain_ret_address(w, 32, addr), 0);
    assert_int_equal(addr[19], 0xee);
    w[0] = 1;
    assert_int_equal(rt_chain_ret_address(w, 32, addr), -1);
}

static void test_revert_text(void **state)
{
    (void)state;
    uint8_t d[4 + 96], h[32];
    char out[200];
    rt_chain_hash_sig("NotEnclave(address)", h);
    memcpy(d, h, 4);
    memset(d + 4, 0, 32);
    d[4 + 31] = 1;
    assert_string_equal(rt_chain_revert_text(d, 36, out, sizeof out),
                        "NotEnclave(0x0000000000000000000000000000000000000001)");
    rt_chain_hash_sig("BadVersion()", h);
    memcpy(d, h, 4);
    assert_string_equal(rt_chain_revert_text(d, 4, out, sizeof out), "BadVersion()");
    rt_chain_hash_sig("Error(string)", h);
    memcpy(d, h, 4);
    memset(d + 4, 0, 96);
    d[4 + 31] = 32;
    d[4 + 63] = 4;
    memcpy(d + 4 + 64, "oops", 4);
    assert_string_equal(rt_chain_revert_text(d, 100, out, sizeof out), "Error(\"oops\")");
    d[0] ^= 0xff;   /* unknown: shown as hex */
    char want[40] = "revert data 0x";
    rt_hex_encode(d, 5, want + 14);
    assert_string_equal(rt_chain_revert_text(d, 5, out, sizeof out), want);
    assert_string_equal(rt_chain_revert_text(d, 0, out, sizeof out), "");
}

static void test_time(void **state)
{
    (void)state;
    uint64_t ms;
    char out[32];
    assert_int_equal(rt_chain_time_parse("1970-01-01T00:00:00.000Z", 24, &ms), 0);
    assert_int_equal(ms, 0);
    /* Against the C library, over leap days, centuries and random instants. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t t = i < 4 ? (uint64_t[]){ 951782400123ull, 4107542399999ull, 68256576000000ull,
                                           253402300799999ull }[i]
                           : x % 253402300800000ull;
        time_t secs = (time_t)(t / 1000);
        struct tm tm;
        char want[40];
        gmtime_r(&secs, &tm);
        size_t k = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + k, sizeof want - k, ".%03uZ", (unsigned)(t % 1000));
        assert_int_equal(rt_chain_time_format(t, out), 24);
        assert_string_equal(out, want);
        assert_int_equal(rt_chain_time_parse(out, 24, &ms), 0);
        assert_true(ms == t);
    }
    static const char *bad[] = {
        "2026-02-29T00:00:00.000Z", "2100-02-29T00:00:00.000Z", "2026-13-01T00:00:00.000Z",
        "2026-01-01T24:00:00.000Z", "2026-01-01T00:60:00.000Z", "2026-01-01T00:00:60.000Z",
        "2026-01-01T00:00:00.00Z",  "2026-01-01T00:00:00Z",     "2026-01-01 00:00:00.000Z",
        "1969-12-31T23:59:59.999Z", "2026-01-01T00:00:00.000+", "2026-01-00T00:00:00.000Z",
        "2026-1a-01T00:00:00.000Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rt_chain_time_parse(bad[i], strlen(bad[i]), &ms), -1);
    assert_int_equal(rt_chain_time_parse("2000-02-29T12:00:00.000Z", 24, &ms), 0);
}

/* ---------------------------------------------- the attestation's forms */

static const char compose_hex[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

typedef struct signed_att {
    char *json;
    size_t n;
    uint8_t pub[32];
    rt_chain_attestation a;
} signed_att;

/* A deletion attestation as toyapp makes it: the record serialized with
 * the generated table (whatever fields the spec gives it), signed over its
 * unsigned form with Ed25519. */
static signed_att make_attestation(const char *receipt_id)
{
    signed_att s;
    uint8_t seed[32];
    char err[256];
    size_t un;
    memset(&s, 0, sizeof s);
    memset(seed, 7, 32);
    assert_int_equal(rt_ed25519_public(seed, s.pub), 0);
    rt_chain_receipt_hash(receipt_id, strlen(receipt_id), s.a.receipt_id_hash);
    memset(s.a.user_id_hash, 0x5a, 32);
    assert_int_equal(rt_chain_time_parse("2026-02-17T10:11:12.345Z", 24, &s.a.deleted_at), 0);
    assert_int_equal(rt_hex_decode_str(compose_hex, s.a.compose_hash, 32), 0);
    memcpy(s.a.public_key, s.pub, 32);
    char *u = rt_chain_attestation_json(&toy_rec_deletion_attestation_rec, &s.a, receipt_id, RT_SER_UNSIGNED,
                                        &un, err, sizeof err);
    if (!u)
        fail_msg("%s", err);
    assert_int_equal(rt_ed25519_sign(seed, (const uint8_t *)u, un, s.a.signature), 0);
    free(u);
    s.json = rt_chain_attestation_json(&toy_rec_deletion_attestation_rec, &s.a, receipt_id, 0, &s.n, err,
                                       sizeof err);
    assert_non_null(s.json);
    return s;
}

/* s.json with the first occurrence of from replaced by to (malloc'd). */
static char *replaced(const signed_att *s, const char *from, const char *to, size_t *n)
{
    const char *at = strstr(s->json, from);
    assert_non_null(at);
    size_t head = (size_t)(at - s->json), fl = strlen(from), tl = strlen(to);
    *n = s->n - fl + tl;
    char *out = malloc(*n + 1);
    memcpy(out, s->json, head);
    memcpy(out + head, to, tl);
    memcpy(out + head + tl, at + fl, s->n - head - fl);
    out[*n] = 0;
    return out;
}

static void test_attestation_roundtrip(void **state)
{
    (void)state;
    const rt_record *rec = &toy_rec_deletion_attestation_rec;
    signed_att s = make_attestation("rcpt_1");
    rt_chain_attestation a;
    char err[256];
    assert_int_equal(rt_chain_attestation_parse(rec, s.json, s.n, "rcpt_1", &a, err, sizeof err), 0);
    assert_memory_equal(&a, &s.a, sizeof a);
    /* The signed record is the canonical JSON of its fields. */
    assert_non_null(strstr(s.json, "\"deletionTimestamp\":\"2026-02-17T10:11:12.345Z\""));
    assert_non_null(strstr(s.json, compose_hex));
    assert_true(s.json[0] == '{' && s.json[s.n - 1] == '}' && !strchr(s.json, ' '));

    /* A tampered field breaks the signature; so does another receipt id
     * when the record signs the receipt id. */
    a.user_id_hash[3] ^= 1;
    size_t n;
    char *u = rt_chain_attestation_json(rec, &a, NULL, RT_SER_UNSIGNED, &n, err, sizeof err);
    int has_receipt = 0;
    for (uint16_t i = 0; i < rec->nfields; i++)
        has_receipt |= strcmp(rec->fields[i].key, "receiptId") == 0;
    if (has_receipt) {
        assert_null(u);   /* no receipt id to rebuild it with */
        assert_non_null(strstr(err, "receiptId"));
        assert_int_equal(rt_chain_attestation_parse(rec, s.json, s.n, "rcpt_2", &a, err, sizeof err), -1);
    } else {
        assert_non_null(u);
        assert_int_equal(rt_ed25519_verify(a.public_key, (const uint8_t *)u, n, a.signature), 0);
    }
    free(u);

    /* SHA-256("abc"), the FIPS 180-2 example, as a receipt id hash. */
    uint8_t rh[32];
    char hx[65];
    rt_chain_receipt_hash("abc", 3, rh);
    rt_hex_encode(rh, 32, hx);
    assert_string_equal(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    free(s.json);
}

static void expect_refused(const char *json, size_t n, const char *why)
{
    rt_chain_attestation a;
    char err[256] = "";
    assert_int_equal(rt_chain_attestation_parse(&toy_rec_deletion_attestation_rec, json, n, "r", &a,
                                                err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("expected an error containing \"%s\", got \"%s\"", why, err);
}

static void test_attestation_refusals(void **state)
{
    (void)state;
    signed_att s = make_attestation("r");
    size_t n;
    char *j;
    /* A timestamp of another precision and a prefixed compose hash have no
     * on-chain form that rebuilds them; upper-case hex is not canonical. */
    j = replaced(&s, "2026-02-17T10:11:12.345Z", "2026-02-17T10:11:12Z", &n);
    expect_refused(j, n, "deletionTimestamp");
    free(j);
    j = replaced(&s, compose_hex, "sha256:e3b0c442", &n);
    expect_refused(j, n, "composeHash");
    free(j);
    j = replaced(&s, compose_hex, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", &n);
    expect_refused(j, n, "canonical form");
    free(j);
    /* Not canonical: a space; an extra field; a broken signature; not JSON. */
    j = replaced(&s, "{", "{ ", &n);
    expect_refused(j, n, "canonical form");
    free(j);
    j = replaced(&s, "{", "{\"aa\":\"1\",", &n);
    expect_refused(j, n, "fields");
    free(j);
    char *sig = strstr(s.json, "\"signature\":\"") + 13;
    *sig = *sig == '0' ? '1' : '0';
    expect_refused(s.json, s.n, "signature does not verify");
    expect_refused("[]", 2, "not a JSON object");
    expect_refused(s.json, s.n - 1, "not a JSON object");
    free(s.json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selectors_match_solc),
        cmocka_unit_test(test_event_signatures_match_abi),
        cmocka_unit_test(test_record_calldata),
        cmocka_unit_test(test_app_registry_abi),
        cmocka_unit_test(test_revert_text),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_attestation_roundtrip),
        cmocka_unit_test(test_attestation_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

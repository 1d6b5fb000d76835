/*
 * attest.c — checks the attestation document served by the metadata port
 * (GET /attestation?nonce=...) against a report.
 *
 * What this proves and what it does not: the quote's report_data must be
 * SHA-256(publicKey) || SHA-256(nonce), so a genuine quote over it says that
 * code measured in the quote holds the report's signing key, freshly for the
 * auditor's nonce.  Whether the quote is genuine is the Intel DCAP chain
 * (PCK certificates, QE report, TCB status), which this command does not
 * verify for dstack quotes; it says so.  A "sim" quote is signed by a key
 * embedded in the quote itself: its signature shows only that the document
 * is intact, never that hardware produced it, so it is refused unless the
 * auditor passes --allow-sim and is then labelled SIMULATED.
 *
 * Quote layout (TDX quote v4, Intel sgx_quote_4.h; see rt_tee_sim.c):
 *   0    header (48): version u16, attestation key type u16, TEE type u32,
 *        QE SVN, PCE SVN, QE vendor id (16) at 12, user data (20)
 *   48   TD report body (584): TD attributes at +120, RTMR0..3 at +328
 *        (48 bytes each), report_data at +520 (= quote offset 568)
 *   632  signature data length u32, then the signature data; for sim:
 *   636  ECDSA-P256 signature over [0, 632), r || s
 *   700  attestation public key, x || y
 *   764  certification data type u16 (6), size u32, then the ASCII note
 */
#include "toyctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "rt_tee.h"
#include "toy_spec.h"

#define Q_BODY RT_TEE_QUOTE_HEADER_LEN
#define Q_TD_ATTR (Q_BODY + 120)
#define Q_RTMR (Q_BODY + 328)
#define Q_VENDOR 12
#define SIM_VENDOR "toyapp-sim"
#define SIM_NOTE "toyapp-sim: not a real TDX quote"
#define SIM_CERT_TYPE 6

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void sha384(const void *a, size_t na, const void *b, size_t nb, uint8_t out[48])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha384(), NULL) == 1 &&
             EVP_DigestUpdate(c, a, na) == 1 && (nb == 0 || EVP_DigestUpdate(c, b, nb) == 1) &&
             EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    if (!ok) {
        fprintf(stderr, "toyctl: SHA-384 failed (OpenSSL)\n");
        exit(1);
    }
}

static int is_sim_quote(const uint8_t *q)
{
    uint8_t v[16] = { 0 };
    memcpy(v, SIM_VENDOR, sizeof SIM_VENDOR - 1);
    return memcmp(q + Q_VENDOR, v, 16) == 0;
}

/* ECDSA-P256/SHA-256 verification of sig (r || s) over msg by the point
 * x || y.  Returns 1 if valid, 0 otherwise (including a point not on the
 * curve). */
static int p256_verify(const uint8_t xy[64], const uint8_t *msg, size_t n, const uint8_t sig[64])
{
    uint8_t pt[65], der[80];
    pt[0] = 0x04; /* uncompressed point */
    memcpy(pt + 1, xy, 64);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    int ok = 0;
    if (!bld || !es || !r || !s ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
        EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    if (ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by es now */
    unsigned char *dp = der;
    int dl = i2d_ECDSA_SIG(es, NULL);
    if (dl <= 0 || (size_t)dl > sizeof der || i2d_ECDSA_SIG(es, &dp) != dl)
        goto out;
    md = EVP_MD_CTX_new();
    ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(md, der, (size_t)dl, msg, n) == 1;
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    return ok;
}

/* The event log, parsed: a JSON array of {imr, event_type, digest, event,
 * event_payload} as the dstack agent sends it ("[]" for sim). */
typedef struct ev_log {
    struct json_object *arr;
    uint8_t rtmr[4][48];      /* the replay */
    char compose_hash[65];    /* RTMR3 "compose-hash" event payload, hex; "" if none */
    int rtmr3_ok;             /* every RTMR3 event's digest matches its content */
    char rtmr3_bad[96];       /* the first that does not */
} ev_log;

/* Replays the log.  Returns 0, or -1 with err set if it is malformed. */
static int replay(const char *text, size_t n, ev_log *L, char *err, size_t errcap)
{
    memset(L, 0, sizeof *L);
    L->rtmr3_ok = 1;
    L->arr = tc_json_parse(text, n, err, errcap);
    if (!L->arr)
        return -1;
    if (!json_object_is_type(L->arr, json_type_array)) {
        snprintf(err, errcap, "not a JSON array");
        return -1;
    }
    size_t ne = json_object_array_length(L->arr);
    for (size_t i = 0; i < ne; i++) {
        struct json_object *e = json_object_array_get_idx(L->arr, i), *imr, *dg, *ty, *ev, *pl;
        if (!json_object_is_type(e, json_type_object) ||
            !json_object_object_get_ex(e, "imr", &imr) || !json_object_is_type(imr, json_type_int) ||
            !json_object_object_get_ex(e, "digest", &dg) || !json_object_is_type(dg, json_type_string)) {
            snprintf(err, errcap, "event %zu lacks an integer \"imr\" or a string \"digest\"", i);
            return -1;
        }
        int64_t k = json_object_get_int64(imr);
        uint8_t d[48];
        if (k < 0 || k > 3) {
            snprintf(err, errcap, "event %zu: imr %lld is not 0..3", i, (long long)k);
            return -1;
        }
        if (rt_hex_decode(json_object_get_string(dg), (size_t)json_object_get_string_len(dg), d, 48) != 0) {
            snprintf(err, errcap, "event %zu: digest is not 48 bytes of hex", i);
            return -1;
        }
        /* RTMR extend: RTMR = SHA-384(RTMR || digest). */
        sha384(L->rtmr[k], 48, d, 48, L->rtmr[k]);
        if (k != 3)
            continue;
        /* RTMR3 holds the runtime events dstack writes; their digest is
         * SHA-384(event_type as u32 LE || ":" || event || ":" || payload),
         * which lets the compose hash be read from the log and trusted as
         * far as RTMR3 is. */
        if (!json_object_object_get_ex(e, "event_type", &ty) || !json_object_is_type(ty, json_type_int) ||
            !json_object_object_get_ex(e, "event", &ev) || !json_object_is_type(ev, json_type_string) ||
            !json_object_object_get_ex(e, "event_payload", &pl) || !json_object_is_type(pl, json_type_string)) {
            snprintf(err, errcap, "RTMR3 event %zu lacks event_type, event or event_payload", i);
            return -1;
        }
        size_t phn = (size_t)json_object_get_string_len(pl), pn = phn / 2;
        uint8_t *payload = malloc(pn ? pn : 1);
        if (!payload || rt_hex_decode(json_object_get_string(pl), phn, payload, pn) != 0) {
            free(payload);
            snprintf(err, errcap, "RTMR3 event %zu: event_payload is not hex", i);
            return -1;
        }
        int64_t t = json_object_get_int64(ty);
        uint8_t head[4] = { (uint8_t)t, (uint8_t)(t >> 8), (uint8_t)(t >> 16), (uint8_t)(t >> 24) };
        const char *name = json_object_get_string(ev);
        size_t nn = (size_t)json_object_get_string_len(ev);
        size_t mn = 4 + 1 + nn + 1 + pn;
        uint8_t *m = malloc(mn), h[48];
        if (!m) {
            free(payload);
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        memcpy(m, head, 4);
        m[4] = ':';
        memcpy(m + 5, name, nn);
        m[5 + nn] = ':';
        memcpy(m + 6 + nn, payload, pn);
        sha384(m, mn, NULL, 0, h);
        free(m);
        if (memcmp(h, d, 48) != 0 && L->rtmr3_ok) {
            L->rtmr3_ok = 0;
            snprintf(L->rtmr3_bad, sizeof L->rtmr3_bad, "event %zu (\"%.40s\")", i, name);
        }
        if (nn == 12 && memcmp(name, "compose-hash", 12) == 0 && pn == 32)
            rt_hex_encode(payload, 32, L->compose_hash);
        free(payload);
    }
    return 0;
}

int tc_verify_attestation(struct json_object *att, struct json_object *r, const tc_attest_opts *o)
{
    char what[200], err[256];
    if (!tc_shape(att, &toy_resp_attestation_rec, NULL, "attestation"))
        return 0;
    int ok = 1;

    snprintf(what, sizeof what, "attestation: publicKey is the report's publicKey");
    if (strcmp(tc_str(att, "publicKey"), tc_str(r, "publicKey")) == 0 &&
        tc_strlen(att, "publicKey") == tc_strlen(r, "publicKey")) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "attestation %s, report %s", tc_str(att, "publicKey"), tc_str(r, "publicKey"));
        ok = 0;
    }
    const char *prov = tc_str(att, "teeProvider");
    snprintf(what, sizeof what, "attestation: teeProvider is the report's teeProvider");
    if (strcmp(prov, tc_str(r, "teeProvider")) == 0 &&
        tc_strlen(att, "teeProvider") == tc_strlen(r, "teeProvider")) {
        tc_ok("%s (%s)", what, prov);
    } else {
        tc_fail(what, "attestation \"%s\", report \"%s\"", prov, tc_str(r, "teeProvider"));
        ok = 0;
    }
    if (o->nonce) {
        snprintf(what, sizeof what, "attestation: nonce is the one given with --nonce");
        if (strcmp(tc_str(att, "nonce"), o->nonce) == 0 &&
            tc_strlen(att, "nonce") == strlen(o->nonce)) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "it is \"%s\"", tc_str(att, "nonce"));
            ok = 0;
        }
    }

    /* reportData = SHA-256(publicKey) || SHA-256(nonce), the nonce half
     * zero when no nonce was asked for. */
    uint8_t rd[64], want[64], pub[32];
    snprintf(what, sizeof what, "attestation: reportData is SHA-256(publicKey) || %s",
             tc_strlen(att, "nonce") ? "SHA-256(nonce)" : "32 zero bytes (no nonce)");
    if (rt_hex_decode(tc_str(att, "reportData"), tc_strlen(att, "reportData"), rd, 64) != 0) {
        tc_fail(what, "reportData is %zu hex digits, expected 128", tc_strlen(att, "reportData"));
        ok = 0;
    } else if (rt_hex_decode(tc_str(att, "publicKey"), tc_strlen(att, "publicKey"), pub, 32) != 0) {
        tc_fail(what, "publicKey is not 32 bytes");
        ok = 0;
    } else {
        tc_sha256(pub, 32, NULL, 0, want);
        if (tc_strlen(att, "nonce"))
            tc_sha256(tc_str(att, "nonce"), tc_strlen(att, "nonce"), NULL, 0, want + 32);
        else
            memset(want + 32, 0, 32);
        if (memcmp(rd, want, 64) == 0) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "%s does not match", memcmp(rd, want, 32) ? "the key half" : "the nonce half");
            ok = 0;
        }
    }

    size_t qn = tc_strlen(att, "quote") / 2;
    uint8_t *q = malloc(qn ? qn : 1);
    if (!q) {
        fprintf(stderr, "toyctl: out of memory\n");
        exit(1);
    }
    rt_hex_decode(tc_str(att, "quote"), 2 * qn, q, qn); /* hex checked by tc_shape */
    snprintf(what, sizeof what, "attestation: quote is a TDX quote v4");
    if (qn < RT_TEE_QUOTE_SIGNED_LEN + 4 || le16(q) != 4 || le16(q + 2) != 2 || le32(q + 4) != 0x81) {
        if (qn < RT_TEE_QUOTE_SIGNED_LEN + 4)
            tc_fail(what, "%zu bytes, shorter than a header, TD report and signature length", qn);
        else
            tc_fail(what, "version %u, attestation key type %u, TEE type 0x%x (expected 4, 2, 0x81)",
                    le16(q), le16(q + 2), le32(q + 4));
        free(q);
        return 0; /* nothing below can be read from it */
    }
    tc_ok("%s", what);

    snprintf(what, sizeof what, "attestation: the quote's report_data is reportData");
    if (tc_strlen(att, "reportData") == 128 && memcmp(q + RT_TEE_QUOTE_REPORT_DATA_OFF, rd, 64) == 0) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "the quote binds other data");
        ok = 0;
    }

    ev_log L;
    snprintf(what, sizeof what, "attestation: eventLog replays to the quote's RTMR0-3");
    int log_ok = replay(tc_str(att, "eventLog"), tc_strlen(att, "eventLog"), &L, err, sizeof err) == 0;
    if (!log_ok) {
        tc_fail(what, "eventLog: %s", err);
        ok = 0;
    } else if (memcmp(L.rtmr, q + Q_RTMR, sizeof L.rtmr) != 0) {
        int k = 0;
        while (k < 3 && memcmp(L.rtmr[k], q + Q_RTMR + 48 * k, 48) == 0)
            k++;
        tc_fail(what, "RTMR%d differs from the replay of %zu events", k,
                json_object_array_length(L.arr));
        ok = 0;
    } else {
        tc_ok("%s (%zu events)", what, json_object_array_length(L.arr));
    }

    if (strcmp(prov, "sim") == 0) {
        snprintf(what, sizeof what, "attestation: simulated quote accepted");
        if (!o->allow_sim) {
            tc_fail(what, "teeProvider is \"sim\": its quote proves nothing about hardware; "
                          "refused without --allow-sim");
            ok = 0;
        } else {
            /* The sim layout exactly, so that no byte outside the signed
             * range can change unnoticed either. */
            const uint8_t *sd = q + RT_TEE_QUOTE_SIGNED_LEN;
            size_t note = sizeof SIM_NOTE - 1, sdl = 64 + 64 + 2 + 4 + note;
            snprintf(what, sizeof what, "attestation: sim quote layout");
            if (!is_sim_quote(q) || !(q[Q_TD_ATTR] & 1) || qn != RT_TEE_QUOTE_SIGNED_LEN + 4 + sdl ||
                le32(sd) != sdl || le16(sd + 4 + 128) != SIM_CERT_TYPE ||
                le32(sd + 4 + 130) != note || memcmp(sd + 4 + 134, SIM_NOTE, note) != 0) {
                tc_fail(what, "not the layout the sim provider writes (vendor id, DEBUG attribute, "
                              "signature data length, certification data)");
                ok = 0;
            } else {
                tc_ok("%s", what);
                snprintf(what, sizeof what, "attestation: sim quote signature (ECDSA-P256 over "
                                            "bytes [0,632) by the key embedded in the quote)");
                if (p256_verify(sd + 4 + 64, q, RT_TEE_QUOTE_SIGNED_LEN, sd + 4)) {
                    tc_ok("%s", what);
                } else {
                    tc_fail(what, "the signature does not verify");
                    ok = 0;
                }
            }
            tc_note("the quote is SIMULATED (teeProvider sim): it proves nothing about hardware "
                    "or the code that runs; anyone can make one. Only the document's integrity "
                    "and key binding were checked.");
        }
    } else if (strcmp(prov, "dstack") == 0) {
        snprintf(what, sizeof what, "attestation: quote is not a simulated quote");
        if (is_sim_quote(q)) {
            tc_fail(what, "teeProvider is \"dstack\" but the quote's vendor id is \"%s\"", SIM_VENDOR);
            ok = 0;
        } else {
            tc_ok("%s", what);
        }
        if (log_ok) {
            snprintf(what, sizeof what, "attestation: RTMR3 event digests match their content");
            if (L.rtmr3_ok) {
                tc_ok("%s", what);
            } else {
                tc_fail(what, "%s", L.rtmr3_bad);
                ok = 0;
            }
            const char *ch = tc_str(r, "composeHash");
            if (strncmp(ch, "sha256:", 7) == 0)
                ch += 7;
            snprintf(what, sizeof what, "attestation: the report's composeHash is the one "
                                        "measured in RTMR3");
            if (!L.compose_hash[0]) {
                tc_fail(what, "the event log has no compose-hash event");
                ok = 0;
            } else if (strcmp(ch, L.compose_hash) != 0) {
                tc_fail(what, "report %s, measured %s", tc_str(r, "composeHash"), L.compose_hash);
                ok = 0;
            } else {
                tc_ok("%s", what);
            }
        }
        tc_note("full DCAP verification of the quote (Intel PCK certificate chain, QE report, "
                "TCB status) is not done by this command; check the quote with a DCAP verifier");
    } else {
        tc_fail("attestation: teeProvider is known", "\"%s\" is neither \"sim\" nor \"dstack\"", prov);
        ok = 0;
    }
    json_object_put(L.arr);
    free(q);
    return ok;
}

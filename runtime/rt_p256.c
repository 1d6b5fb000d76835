/*
 * rt_p256.c - raw-form ECDSA-P256/SHA-256 on OpenSSL (see rt_p256.h).
 */
#include "rt_p256.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

size_t rt_p256_sig_der(const uint8_t sig[64], uint8_t der[72])
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    size_t len = 0;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es */
        int dl = i2d_ECDSA_SIG(es, NULL);
        unsigned char *p = der;
        if (dl > 0 && dl <= 72 && i2d_ECDSA_SIG(es, &p) == dl)
            len = (size_t)dl;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return len;
}

int rt_p256_verify(EVP_PKEY *key, const uint8_t *msg, size_t n, const uint8_t sig[64])
{
    uint8_t der[72];
    size_t dl = rt_p256_sig_der(sig, der);
    if (!key || dl == 0)
        return 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, der, dl, msg, n) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* Builds a P-256 EVP_PKEY from an uncompressed point and, if d is not NULL,
 * its private scalar. */
static EVP_PKEY *from_parts(const uint8_t pt65[65], const BIGNUM *d)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *key = NULL;
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt65, 65) &&
        (!d || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) &&
        (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) && EVP_PKEY_fromdata_init(pctx) == 1 &&
        EVP_PKEY_fromdata(pctx, &key, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params); /* OSSL_PARAM_BLD_to_param copies the BN securely */
    OSSL_PARAM_BLD_free(bld);
    return key;
}

EVP_PKEY *rt_p256_public(const uint8_t xy[64])
{
    uint8_t pt[65];
    pt[0] = 0x04;
    memcpy(pt + 1, xy, 64);
    /* EVP_PKEY_fromdata does not check that the point is on the curve;
     * decoding it with EC_POINT_oct2point does. */
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *P = g ? EC_POINT_new(g) : NULL;
    int on = P && EC_POINT_oct2point(g, P, pt, sizeof pt, NULL) == 1;
    EC_POINT_free(P);
    EC_GROUP_free(g);
    return on ? from_parts(pt, NULL) : NULL;
}

int rt_p256_verify_xy(const uint8_t xy[64], const uint8_t *msg, size_t n, const uint8_t sig[64])
{
    EVP_PKEY *k = rt_p256_public(xy);
    int ok = k && rt_p256_verify(k, msg, n, sig);
    EVP_PKEY_free(k);
    return ok;
}

int rt_p256_sign(EVP_PKEY *key, const uint8_t *msg, size_t n, uint8_t sig[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t der_len = sizeof der;
    ECDSA_SIG *es = NULL;
    int rc = -1;
    if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, der, &der_len, msg, n) == 1) {
        const unsigned char *p = der;
        es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        const BIGNUM *r, *s;
        if (es) {
            ECDSA_SIG_get0(es, &r, &s);
            if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32)
                rc = 0;
        }
    }
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return rc;
}

EVP_PKEY *rt_p256_from_scalar(const uint8_t d_bytes[32], uint8_t xy_out[64])
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_secure_new();
    EC_POINT *P = g ? EC_POINT_new(g) : NULL;
    EVP_PKEY *key = NULL;
    uint8_t pt[65];
    if (g && d && P && BN_bin2bn(d_bytes, 32, d) && !BN_is_zero(d) &&
        BN_cmp(d, EC_GROUP_get0_order(g)) < 0 && EC_POINT_mul(g, P, d, NULL, NULL, NULL) == 1 &&
        EC_POINT_point2oct(g, P, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof pt, NULL) == 65) {
        key = from_parts(pt, d);
        if (key && xy_out)
            memcpy(xy_out, pt + 1, 64);
    }
    EC_POINT_free(P);
    BN_clear_free(d);
    EC_GROUP_free(g);
    return key;
}

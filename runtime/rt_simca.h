/*
 * rt_simca.h - the sim provider's platform: a certification chain of its
 * own, a quoting enclave, and the collateral a PCCS would serve for it, so
 * that sim quotes go through exactly the verifier real ones go through.
 *
 * Everything derives from the 32-byte sim seed (HKDF-SHA256, salt
 * "toyapp-sim-v1", info 0x00 || label || counter): the root CA key, the PCK
 * platform CA key, the PCK key, the TCB signing key and the attestation
 * key.  The certificates say what they are ("toyapp SIM Root CA (not
 * Intel)", RT_DCAP_SIM_ROOT_CN), are valid 2025-01-01..2049-12-31, and have
 * fixed serial numbers derived from the seed; ECDSA signatures are
 * randomized, so two rt_simca on one seed make certificates with the same
 * keys and fields but different signature bytes, all valid.
 *
 * The quote is a TDX quote v4 in the exact byte layout of a real one
 * (rt_quote.h): header (QE vendor id "toyapp-sim"), TD report 1.0, the
 * attestation key's signature, and certification data type 6 holding a
 * QE report signed by the PCK key, whose report data binds the attestation
 * key and QE authentication data, and the PEM chain PCK certificate ->
 * PCK platform CA -> root (type 5, NUL-terminated, as Intel's are).
 *
 * An rt_simca is immutable after rt_simca_new and may be shared by threads
 * only if OpenSSL's EVP_PKEY signing is (it is, in OpenSSL 3).
 */
#ifndef RT_SIMCA_H
#define RT_SIMCA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rt_simca rt_simca;

/* The sim platform's fixed identity (what its PCK certificate says). */
#define RT_SIMCA_FMSPC "746f7953494d" /* "toySIM" */
#define RT_SIMCA_PCESVN 13
/* TD attributes of a sim TD: SEPT_VE_DISABLE, as production TDs have. */
#define RT_SIMCA_TD_ATTRIBUTES { 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00 }

/*
 * Derives the sim platform from seed.  Returns it (release with
 * rt_simca_free), or NULL with *err (static text) set if OpenSSL fails.
 */
rt_simca *rt_simca_new(const uint8_t seed[32], const char **err);
void rt_simca_free(rt_simca *ca);

/* HKDF-SHA256(ikm = seed, salt = "toyapp-sim-v1", info) into out[32]: the
 * sim's one derivation.  Returns 0 or -1. */
int rt_simca_hkdf(const uint8_t seed[32], const uint8_t *info, size_t info_len, uint8_t out[32])
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

/* What a sim TD reports; the quote's other fields are fixed (rt_simca.c). */
typedef struct rt_simca_td {
    uint8_t report_data[64];
    uint8_t rtmr[4][48];
    uint8_t td_attributes[8]; /* RT_SIMCA_TD_ATTRIBUTES, unless a test wants otherwise */
} rt_simca_td;

/*
 * Writes a quote for td: *quote (malloc'd, *len bytes), signed as
 * described above.  Returns 0, or -1 if OpenSSL or memory fails.
 */
int rt_simca_quote(rt_simca *ca, const rt_simca_td *td, uint8_t **quote, size_t *len)
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

/* Variations of the collateral, for tests of every TCB status: the zero
 * value gives the collateral of a platform that is up to date. */
typedef struct rt_simca_variant {
    const char *status;     /* tcbStatus of the platform's level (NULL: "UpToDate") */
    const char *advisories; /* its advisoryIDs, comma-separated (NULL: none) */
    int above;              /* the platform is below every level: no match */
    const char *qe_status;  /* tcbStatus of the QE's level (NULL: "UpToDate") */
    int qe_above;           /* the QE's ISVSVN is below every level */
    int revoke_pck;         /* the PCK CRL lists the PCK certificate */
    int revoke_tcb_signer;  /* the root CA CRL lists the TCB signing certificate */
} rt_simca_variant;

/*
 * The collateral for this platform as @phala/dcap-qvl takes it (JSON text:
 * tcb_info, qe_identity and their signatures and issuer chains, the root CA
 * CRL and the PCK CRL as hex, pck_crl_issuer_chain), every window from
 * now - 1 day to now + 30 days.  v may be NULL.  *json is malloc'd.
 * Returns 0 or -1.
 */
int rt_simca_collateral(rt_simca *ca, int64_t now, const rt_simca_variant *v, char **json)
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

/* The root certificate, DER, malloc'd into *der.  Returns 0 or -1. */
int rt_simca_root_der(rt_simca *ca, uint8_t **der, size_t *len);

/* The attestation public key, x || y. */
const uint8_t *rt_simca_att_pub(const rt_simca *ca);

#ifdef __cplusplus
}
#endif

#endif /* RT_SIMCA_H */

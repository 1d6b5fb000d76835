/*
 * rt_quote.h - parsing of Intel TDX quotes, versions 4 and 5, as the
 * quoting enclave writes them (Intel's sgx_quote_4.h and sgx_quote_5.h).
 *
 * Parsing only: no signature is checked here (rt_dcap.c does that).  The
 * parser is strict where a verifier must be: every length field must fit
 * exactly what it frames (no slack that unsigned bytes could hide in), the
 * outer certification data must be type 6 (QE report certification data),
 * and bytes after the signature data must all be zero (real quotes are
 * padded with zeros to a fixed size).  All pointers point into the caller's
 * buffer, which must outlive the rt_quote.
 *
 * Layout (offsets from the start of the quote):
 *   0    header (48): version u16, attestation key type u16, TEE type u32,
 *        QE SVN u16, PCE SVN u16, QE vendor id (16), user data (20)
 *   v5:  48  body descriptor: type u16 (2 = TD report 1.0, 3 = TD report
 *        1.5), size u32 (584 or 648)
 *   then the TD report (584 bytes for 1.0, 648 for 1.5), then
 *   signature data length u32, then the signature data:
 *        ECDSA-P256 signature r || s (64) over [0, signed_len),
 *        attestation public key x || y (64),
 *        certification data type u16 (6), size u32, then
 *          QE report (384, an SGX enclave report), its signature (64),
 *          QE authentication data size u16 and bytes,
 *          inner certification data type u16 (5: PEM PCK chain), size u32,
 *          and bytes.
 */
#ifndef RT_QUOTE_H
#define RT_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RT_QUOTE_HEADER_LEN 48
#define RT_QUOTE_TD10_LEN 584
#define RT_QUOTE_TD15_LEN 648
#define RT_QUOTE_QE_REPORT_LEN 384
#define RT_QUOTE_TEE_TDX 0x81u
#define RT_QUOTE_KEY_P256 2u
#define RT_QUOTE_CERT_QE_REPORT 6u
#define RT_QUOTE_CERT_PCK_CHAIN 5u

/* Offsets inside the TD report body (both versions). */
#define RT_QUOTE_TD_TEE_TCB_SVN 0
#define RT_QUOTE_TD_MR_SEAM 16
#define RT_QUOTE_TD_MR_SIGNER_SEAM 64
#define RT_QUOTE_TD_SEAM_ATTRIBUTES 112
#define RT_QUOTE_TD_ATTRIBUTES 120
#define RT_QUOTE_TD_XFAM 128
#define RT_QUOTE_TD_MR_TD 136
#define RT_QUOTE_TD_MR_CONFIG_ID 184
#define RT_QUOTE_TD_MR_OWNER 232
#define RT_QUOTE_TD_MR_OWNER_CONFIG 280
#define RT_QUOTE_TD_RTMR0 328
#define RT_QUOTE_TD_REPORT_DATA 520
#define RT_QUOTE_TD_TEE_TCB_SVN2 584 /* TD report 1.5 only */
#define RT_QUOTE_TD_MR_SERVICE_TD 600 /* TD report 1.5 only */

/* Offsets inside the QE report (an SGX enclave report). */
#define RT_QUOTE_QE_CPUSVN 0
#define RT_QUOTE_QE_MISCSELECT 16
#define RT_QUOTE_QE_ATTRIBUTES 48
#define RT_QUOTE_QE_MRENCLAVE 64
#define RT_QUOTE_QE_MRSIGNER 128
#define RT_QUOTE_QE_ISVPRODID 256
#define RT_QUOTE_QE_ISVSVN 258
#define RT_QUOTE_QE_REPORT_DATA 320

/* A parsed quote: every pointer points into the buffer given to
 * rt_quote_parse. */
typedef struct rt_quote {
    const uint8_t *raw;
    size_t len;
    /* header */
    uint16_t version, key_type, qe_svn, pce_svn;
    uint32_t tee_type;
    const uint8_t *qe_vendor_id; /* 16 */
    const uint8_t *user_data;    /* 20 */
    /* TD report */
    uint16_t body_type;  /* 2: TD report 1.0, 3: TD report 1.5 (v4 is always 2) */
    uint32_t body_size;  /* v5: the descriptor's size, not checked here (see rt_dcap) */
    const uint8_t *body; /* body_len bytes */
    size_t body_off, body_len;
    size_t signed_len; /* bytes [0, signed_len) are signed by the attestation key */
    /* signature data */
    size_t sig_data_off; /* offset of the u32 length */
    uint32_t sig_data_len;
    const uint8_t *sig;     /* 64: r || s */
    const uint8_t *att_key; /* 64: x || y */
    uint32_t cert_size;     /* of the type 6 certification data */
    const uint8_t *qe_report;     /* 384 */
    const uint8_t *qe_report_sig; /* 64 */
    uint16_t qe_auth_len;
    const uint8_t *qe_auth;
    uint16_t inner_type;
    uint32_t inner_len;
    const uint8_t *inner; /* inner_len bytes: a PEM chain when inner_type is 5 */
    size_t trailing;      /* zero bytes after the signature data */
    /* the first error */
    const char *reason; /* static text; NULL after a successful parse */
    size_t err_off;     /* byte offset the error is about */
} rt_quote;

/*
 * Parses buf[0..n) as a TDX quote v4 or v5 into *q (which need not be
 * initialized).  Accepts TEE type 0x81 (TDX) and attestation key type 2
 * (ECDSA-256 with P-256) only.  buf must stay valid while q is used.
 * Returns 0, or -1 with q->reason (a static string) and q->err_off set.
 */
int rt_quote_parse(rt_quote *q, const uint8_t *buf, size_t n)
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

/* The TD report field at body offset off (one of RT_QUOTE_TD_*). */
static inline const uint8_t *rt_quote_td(const rt_quote *q, size_t off)
{
    return q->body + off;
}

/* Little-endian readers, shared by the quote's users. */
static inline uint16_t rt_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rt_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#ifdef __cplusplus
}
#endif

#endif /* RT_QUOTE_H */

/*
 * rt_dcap.h - Intel DCAP verification of TDX quotes (v4 and v5) on OpenSSL.
 *
 * What rt_dcap_verify checks, in this order (the order Intel's QVL and the
 * reference verifier @phala/dcap-qvl check in, so that both name the same
 * fault first; docs/attestation.md maps one onto the other):
 *
 *   1 the quote parses (rt_quote.h): TDX, v4 or v5, ECDSA-P256 key
 *   2 the collateral parses: the JSON object @phala/dcap-qvl takes
 *     (tcb_info, tcb_info_signature, tcb_info_issuer_chain, qe_identity, ...)
 *   3 the TCB info's structure and its issueDate..nextUpdate window at now
 *   4 the TCB info signing chain to the root, at now
 *   5 the CRLs: the root CA CRL signed by the root and within its
 *     thisUpdate..nextUpdate window, the PCK CRL parses; no certificate of
 *     the TCB signing chain, nor the root, revoked; the TCB info signature
 *   6 the QE identity: structure, window, signing chain, signature, and
 *     that it is the TDX quoting enclave's (id TD_QE, version 2 or 3)
 *   7 the PCK chain (the quote's inner PEM chain, or the collateral's
 *     pck_certificate_chain) to the root, at now; the PCK CRL signed by the
 *     PCK leaf's issuer; no certificate revoked
 *   8 the QE report's signature by the PCK leaf key
 *   9 the QE report data: SHA-256(attestation key || QE authentication
 *     data) followed by 32 zero bytes
 *  10 the QE report against the QE identity (MRSIGNER, ISVPRODID, not
 *     debug, MISCSELECT and ATTRIBUTES under their masks, the TCB level of
 *     its ISVSVN)
 *  11 the quote's signature by the attestation key over [0, signed_len)
 *     (then, for v5, that the body descriptor's size is its type's)
 *  12 the PCK certificate's Intel SGX extension (FMSPC, CPUSVN, PCESVN)
 *  13 the TCB info is TDX (version 3 or later) for the PCK's FMSPC
 *  14 the first TCB level whose PCESVN, SGX and TDX components the quote's
 *     are all at or above: its status and advisories, merged with the QE's
 *  15 that status is valid (not Revoked, not unknown)
 *  16 the TD attributes: not debug, no reserved bit, SEPT_VE_DISABLE set;
 *     for a TD report 1.5, MRSERVICETD zero
 *  17 the QE vendor id is Intel's (the sim's, for a simulated quote)
 *
 * The root is Intel's SGX Root CA, compiled in and pinned by its SHA-256
 * fingerprint (RT_DCAP_INTEL_ROOT_SHA256).  With RT_DCAP_ALLOW_SIM, a quote
 * whose PCK chain ends at a self-signed certificate named
 * RT_DCAP_SIM_ROOT_CN is verified against that certificate instead, and
 * the report says so (r->sim); nothing else changes.
 *
 * Without collateral, steps 2-6, the PCK CRL and steps 10 and 12-15 are
 * skipped (r->partial): what remains shows the quote was signed by a key
 * that an Intel-certified quoting enclave vouched for, not its TCB status.
 *
 * Errors are sticky: verification stops at the first failed check, whose
 * class (rt_dcap_err), the check's name and a detail are kept in the
 * report.  Every check that ran is recorded as one line (r->lines).
 */
#ifndef RT_DCAP_H
#define RT_DCAP_H

#include <stddef.h>
#include <stdint.h>

#include "rt_quote.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The failure classes, in the order of the checks that raise them first.
 * The names are what the differential test compares with the reference's
 * verdicts (tests/dcap/classes.json maps its messages onto them). */
#define RT_DCAP_ERRORS(XX)                                                                         \
    XX(OK, "ok", "verified")                                                                       \
    XX(QUOTE_FORMAT, "quote_format", "the quote is malformed or not a TDX v4/v5 ECDSA-P256 quote") \
    XX(COLLATERAL_FORMAT, "collateral_format", "the collateral is malformed")                      \
    XX(COLLATERAL_EXPIRED, "collateral_expired", "the collateral is outside its validity window")  \
    XX(CRL, "crl", "a CRL is malformed, not signed by its issuer, or outside its window")          \
    XX(CERT_CHAIN, "cert_chain", "a certificate chain does not verify to the root")                \
    XX(CERT_EXPIRED, "cert_expired", "a certificate is expired or not yet valid")                  \
    XX(REVOKED, "revoked", "a certificate is revoked")                                             \
    XX(COLLATERAL_SIGNATURE, "collateral_signature", "the TCB info or QE identity signature is invalid") \
    XX(COLLATERAL_MISMATCH, "collateral_mismatch", "the collateral is not for this quote")         \
    XX(QE_REPORT_SIGNATURE, "qe_report_signature", "the QE report is not signed by the PCK key")   \
    XX(QE_REPORT_BINDING, "qe_report_binding", "the QE report does not bind the attestation key")  \
    XX(QE_IDENTITY, "qe_identity", "the quoting enclave is not the one the QE identity names")     \
    XX(QUOTE_SIGNATURE, "quote_signature", "the quote is not signed by the attestation key")       \
    XX(PCK_CERT, "pck_cert", "the PCK certificate's Intel SGX extension is malformed")             \
    XX(TCB_NO_MATCH, "tcb_no_match", "no TCB level of the TCB info matches the platform")          \
    XX(TCB_INVALID, "tcb_invalid", "the TCB status is Revoked or unknown")                         \
    XX(TD_ATTRIBUTES, "td_attributes", "the TD attributes are not production ones")                \
    XX(INTERNAL, "internal", "internal error (OpenSSL or memory)")

typedef enum rt_dcap_err {
#define RT_DCAP_ENUM(id, name, text) RT_DCAP_##id,
    RT_DCAP_ERRORS(RT_DCAP_ENUM)
#undef RT_DCAP_ENUM
        RT_DCAP_NERRORS
} rt_dcap_err;

/* The class's short name ("cert_chain") and its sentence; static strings. */
const char *rt_dcap_err_name(rt_dcap_err e);
const char *rt_dcap_err_text(rt_dcap_err e);

/* The pinned root: Intel SGX Root CA, SHA-256 of its DER encoding. */
#define RT_DCAP_INTEL_ROOT_SHA256 "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
/* Common name of the sim provider's root (rt_simca.c). */
#define RT_DCAP_SIM_ROOT_CN "toyapp SIM Root CA (not Intel)"
/* The Intel SGX Root CA, DER (rt_dcap_root.c). */
extern const uint8_t rt_dcap_intel_root_der[];
extern const size_t rt_dcap_intel_root_der_len;
/* Intel's QE vendor id, and the sim's ("toyapp-sim", zero padded). */
extern const uint8_t rt_dcap_intel_qe_vendor[16];
extern const uint8_t rt_dcap_sim_qe_vendor[16];

/* Flags of rt_dcap_verify. */
#define RT_DCAP_ALLOW_SIM 1u

#define RT_DCAP_MAX_LINES 32
#define RT_DCAP_MAX_ADVISORIES 64

/* One check that ran: ok, what was checked, and why it failed. */
typedef struct rt_dcap_line {
    int ok;
    int rooted; /* its trust derives from the root (marked when that root is the sim's) */
    char what[160];
    char why[240];
} rt_dcap_line;

typedef struct rt_dcap_report {
    rt_dcap_err err;  /* RT_DCAP_OK, or the class of the first failure */
    const char *name; /* rt_dcap_err_name(err) */
    int partial;      /* no collateral: TCB status, QE identity and CRLs not checked */
    int sim;          /* verified against the sim root (RT_DCAP_ALLOW_SIM) */
    char status[48];  /* the merged TCB status, "" when not reached */
    char platform_status[48], qe_status[48];
    int nadvisories;
    char advisories[RT_DCAP_MAX_ADVISORIES][24];
    /* from the PCK certificate and the collateral, when reached */
    uint8_t fmspc[6], cpusvn[16], ppid[16];
    unsigned pcesvn;
    int have_pck;
    long long tcb_eval_number;
    char tcb_date[32];
    rt_quote quote; /* valid when err is not QUOTE_FORMAT */
    int nlines;
    rt_dcap_line lines[RT_DCAP_MAX_LINES];
} rt_dcap_report;

/*
 * Verifies quote[0..qlen) with the collateral col[0..clen) (JSON text; NULL
 * for none) at now (seconds since the epoch, UTC).  flags: 0 or
 * RT_DCAP_ALLOW_SIM.  Fills *r completely (its quote field points into
 * quote, which must outlive r).  Returns 0 when every check passed (the
 * status is then in r->status; r->partial says whether the collateral's
 * checks ran), -1 otherwise (r->err, and the last line says why).
 */
int rt_dcap_verify(const uint8_t *quote, size_t qlen, const char *col, size_t clen, int64_t now,
                   unsigned flags, rt_dcap_report *r)
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

/*
 * Parses an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (the form of
 * the collateral's dates) into seconds since the epoch (the fraction is
 * dropped).  Returns 0, or -1 if s[0..n) is not one or names no real date.
 */
int rt_dcap_time(const char *s, size_t n, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RT_DCAP_H */

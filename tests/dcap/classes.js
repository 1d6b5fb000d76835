// classes.js - the one mapping from @phala/dcap-qvl 0.3.9's verdicts to
// rt_dcap's failure classes (runtime/rt_dcap.h, RT_DCAP_ERRORS), and the
// disagreements the differential test accepts, each with the reason that
// docs/attestation.md ("The differential") gives for it.
//
// dcap-qvl reports a failure as an Error whose message is one of a fixed
// set of strings (node_modules/@phala/dcap-qvl/src/verify.js, utils.js);
// errors thrown by Node itself (a certificate OpenSSL cannot parse) carry
// OpenSSL's text, and are classed by the function they came from, read
// from the stack.
'use strict';

// [message or /pattern/, class]; the first match wins.
const MESSAGES = [
    ['Failed to decode quote', 'quote_format'],
    ['Unsupported DCAP quote version', 'quote_format'],
    ['Unsupported DCAP TEE type', 'quote_format'],
    ['SGX TEE quote must have version 3', 'quote_format'],
    ['TDX TEE quote must have version 4 or 5', 'quote_format'],
    ['Unsupported DCAP attestation key type', 'quote_format'],
    ['Failed to get TD10 report', 'quote_format'],
    ['Failed to decode TcbInfo', 'collateral_format'],
    ['Failed to decode QeIdentity', 'collateral_format'],
    ['No SGX components in the TCB info', 'collateral_format'],
    ['No TDX components in the TCB info', 'collateral_format'],
    ['TCBInfo issue date is in the future', 'collateral_expired'],
    ['TCBInfo expired', 'collateral_expired'],
    ['QE Identity issue date is in the future', 'collateral_expired'],
    ['QE Identity expired', 'collateral_expired'],
    ['Certificate is revoked', 'revoked'],
    ['Certificate chain is too short for TCB Info', 'cert_chain'],
    ['Certificate chain is too short for QE Identity', 'cert_chain'],
    ['Certificate chain is too short in quote', 'cert_chain'],
    ['CaUsedAsEndEntity', 'cert_chain'],
    ['Failed to verify certificate chain - leaf signature invalid', 'cert_chain'],
    ['Failed to verify certificate chain - intermediate signature invalid', 'cert_chain'],
    ['Failed to extract PCK certificates from collateral', 'cert_chain'],
    ['Failed to extract PCK certificates from quote', 'cert_chain'],
    [/^Unsupported DCAP PCK cert format/, 'cert_chain'],
    ['Certificate is expired or not yet valid', 'cert_expired'],
    ['Signature is invalid for tcb_info', 'collateral_signature'],
    ['Signature is invalid for qe_identity', 'collateral_signature'],
    // encodeAsDer of a TCB info or QE identity signature that is not 64
    // bytes (the quote's own signatures are fixed-size fields).
    [/^Key length is invalid/, 'collateral_signature'],
    ['Unsupported QE Identity id/version for the quote TEE type', 'collateral_mismatch'],
    ['Fmspc mismatch', 'collateral_mismatch'],
    ['TDX quote with non-TDX TCB info in the collateral', 'collateral_mismatch'],
    ['SGX quote with non-SGX TCB info in the collateral', 'collateral_mismatch'],
    ['Signature is invalid for qe_report in quote', 'qe_report_signature'],
    ['QE report hash mismatch', 'qe_report_binding'],
    [/^QE MRSIGNER mismatch/, 'qe_identity'],
    [/^QE ISVPRODID mismatch/, 'qe_identity'],
    [/^QE MISCSELECT mismatch/, 'qe_identity'],
    [/^QE ATTRIBUTES mismatch/, 'qe_identity'],
    ['No TCB levels found in QE Identity', 'qe_identity'],
    [/^QE ISVSVN \d+ is below minimum/, 'qe_identity'],
    ['ISV enclave report signature is invalid', 'quote_signature'],
    ['Intel extension not found', 'pck_cert'],
    ['Intel extension ambiguity', 'pck_cert'],
    [/^OID [0-9.]+ is missing/, 'pck_cert'],
    ['Fmspc length mismatch', 'pck_cert'],
    ['CpuSvn length mismatch', 'pck_cert'],
    ['PceSvn length mismatch', 'pck_cert'],
    ['No matching TCB level found', 'tcb_no_match'],
    [/^TCB status is invalid/, 'tcb_invalid'],
    ['Reserved bits in TD attributes are set', 'td_attributes'],
    ['SEPT_VE_DISABLE is not enabled', 'td_attributes'],
    ['Invalid mr service td', 'td_attributes'],
];

// Messages shared by two checks, told apart by the function that threw.
const BY_STACK = [
    // validateSgx: the QE report's debug bit (from verifyQeIdentityPolicy)
    // or, through validateAttrs, a TD report's TUD byte.
    ['Debug mode is enabled', [['verifyQeIdentityPolicy', 'qe_identity'], ['validateAttrs', 'td_attributes']]],
];

// Errors from Node or asn1.js (not dcap-qvl's own messages), by where.
const BY_FUNCTION = [
    ['verifyCertificateChain', 'cert_chain'],
    ['checkCrlRevocation', 'cert_chain'],
    ['verifyEcdsaSignature', 'collateral_signature'],
    ['getIntelExtension', 'pck_cert'],
    ['findExtension', 'pck_cert'],
];

// Whether a stack trace passes through function fn ("at fn (" or
// "at Object.fn (").
function calledFrom(stack, fn) {
    return new RegExp(`at (\\S+\\.)?${fn} \\(`).test(stack);
}

// The class of a dcap-qvl Error, or "unknown:<message>".
function classify(err) {
    const msg = String(err && err.message);
    const stack = String(err && err.stack);
    for (const [m, cls] of MESSAGES)
        if (m instanceof RegExp ? m.test(msg) : m === msg)
            return cls;
    for (const [m, where] of BY_STACK)
        if (m === msg)
            for (const [fn, cls] of where)
                if (calledFrom(stack, fn))
                    return cls;
    for (const [fn, cls] of BY_FUNCTION)
        if (calledFrom(stack, fn))
            return cls;
    return 'unknown:' + msg;
}

// Disagreements that are explained, not fixed: [id, region, reference,
// rt_dcap].  The reference side is a pattern over its verdict ("ok" or a
// class) or 'ignored': its verdict is exactly its verdict on the unchanged
// base case, i.e. dcap-qvl did not notice the change at all.  Every id is a
// subsection of docs/attestation.md ("The differential").
const EXPLAINED = [
    // D1: dcap-qvl checks a CRL for revoked serial numbers only: it never
    // checks its signature, issuer or window, and skips a CRL it cannot
    // parse, so that a corrupted CRL on which a certificate was revoked
    // makes it accept that certificate.  rt_dcap refuses such a CRL.
    ['D1', /^collateral:(root_ca_crl|pck_crl)$/, /^(ok|revoked|[a-z_]+)$/, /^crl$/],
    ['D1', /^time:/, /^ok$/, /^crl$/],
    // D2: bytes that no signature covers.  dcap-qvl ignores the padding
    // after the signature data turned non-zero, slack left by a length
    // field, the outer certification data type, bytes outside the PEM
    // blocks, base64 padding bits, and a PEM block it cannot read (when that
    // is the root's copy, the chain still reaches the root it was given).
    // rt_dcap refuses all of them: such bytes could carry anything.
    ['D2', /^quote:(padding|auth_len|cert_data_header|qe_auth|inner_header|pem_framing|pck_cert\d)$/, 'ignored',
     /^(quote_format|cert_chain)$/],
    ['D2', /^collateral:(tcb_info_issuer_chain|qe_identity_issuer_chain)$/, 'ignored', /^cert_chain$/],
    // D3: one fault, two names.  A length field made shorter: dcap-qvl
    // reads the truncated PEM chain and fails on it (cert_chain); rt_dcap
    // refuses the length itself, since it no longer frames its content.
    ['D3', /^quote:inner_header$/, /^cert_chain$/, /^quote_format$/],
];

// The explanation of a disagreement, or null.  ref and ours are verdict
// keys ("ok STATUS ADVISORIES" or a class), baseRef the reference's key on
// the unchanged base.
function explained(region, ref, ours, baseRef) {
    const refClass = ref.split(' ')[0], ourClass = ours.split(' ')[0];
    for (const [id, r, a, b] of EXPLAINED) {
        const refOk = a === 'ignored' ? ref === baseRef : a.test(refClass);
        if (r.test(region) && refOk && b.test(ourClass))
            return id;
    }
    return null;
}

module.exports = { classify, explained, MESSAGES, EXPLAINED };

/*
 * rt_quote.c - TDX quote v4/v5 parsing (see rt_quote.h for the layout and
 * for what "strict" means here).
 */
#include "rt_quote.h"

#include <string.h>

/* Records the first error and returns -1. */
static int bad(rt_quote *q, size_t off, const char *reason)
{
    q->reason = reason;
    q->err_off = off;
    return -1;
}

int rt_quote_parse(rt_quote *q, const uint8_t *b, size_t n)
{
    memset(q, 0, sizeof *q);
    q->raw = b;
    q->len = n;
    if (n < RT_QUOTE_HEADER_LEN)
        return bad(q, n, "shorter than the 48-byte header");
    q->version = rt_le16(b);
    q->key_type = rt_le16(b + 2);
    q->tee_type = rt_le32(b + 4);
    q->qe_svn = rt_le16(b + 8);
    q->pce_svn = rt_le16(b + 10);
    q->qe_vendor_id = b + 12;
    q->user_data = b + 28;
    if (q->version != 4 && q->version != 5)
        return bad(q, 0, "quote version is not 4 or 5");
    if (q->tee_type != RT_QUOTE_TEE_TDX)
        return bad(q, 4, "TEE type is not TDX (0x81)");
    if (q->key_type != RT_QUOTE_KEY_P256)
        return bad(q, 2, "attestation key type is not 2 (ECDSA-256 with P-256)");

    size_t off = RT_QUOTE_HEADER_LEN;
    if (q->version == 4) {
        q->body_type = 2;
        q->body_len = RT_QUOTE_TD10_LEN;
    } else {
        if (n < off + 6)
            return bad(q, n, "truncated in the v5 body descriptor");
        q->body_type = rt_le16(b + off);
        uint32_t size = rt_le32(b + off + 2);
        if (q->body_type == 2)
            q->body_len = RT_QUOTE_TD10_LEN;
        else if (q->body_type == 3)
            q->body_len = RT_QUOTE_TD15_LEN;
        else
            return bad(q, off, "v5 body type is not 2 (TD report 1.0) or 3 (TD report 1.5)");
        /* The size is signed like the rest of the header: rt_dcap checks
         * it once the signature is known to be good. */
        q->body_size = size;
        off += 6;
    }
    if (n - off < q->body_len)
        return bad(q, n, "truncated in the TD report");
    q->body = b + off;
    q->body_off = off;
    off += q->body_len;
    q->signed_len = off;

    if (n - off < 4)
        return bad(q, n, "truncated before the signature data length");
    q->sig_data_off = off;
    q->sig_data_len = rt_le32(b + off);
    off += 4;
    if (n - off < q->sig_data_len)
        return bad(q, q->sig_data_off, "signature data length runs past the end");
    const size_t end = off + q->sig_data_len;
    if (end - off < 64 + 64 + 6)
        return bad(q, q->sig_data_off, "signature data too short");
    q->sig = b + off;
    q->att_key = b + off + 64;
    off += 128;
    if (rt_le16(b + off) != RT_QUOTE_CERT_QE_REPORT)
        return bad(q, off, "certification data type is not 6 (QE report certification data)");
    q->cert_size = rt_le32(b + off + 2);
    off += 6;
    if (q->cert_size != end - off)
        return bad(q, off - 4, "certification data size does not fill the signature data");

    if (end - off < RT_QUOTE_QE_REPORT_LEN + 64 + 2)
        return bad(q, off, "QE report certification data too short");
    q->qe_report = b + off;
    q->qe_report_sig = b + off + RT_QUOTE_QE_REPORT_LEN;
    off += RT_QUOTE_QE_REPORT_LEN + 64;
    q->qe_auth_len = rt_le16(b + off);
    off += 2;
    if (end - off < (size_t)q->qe_auth_len + 6)
        return bad(q, off - 2, "QE authentication data size runs past the certification data");
    q->qe_auth = b + off;
    off += q->qe_auth_len;
    q->inner_type = rt_le16(b + off);
    q->inner_len = rt_le32(b + off + 2);
    off += 6;
    if (q->inner_len != end - off)
        return bad(q, off - 4, "inner certification data size does not fill the QE report "
                               "certification data");
    q->inner = b + off;

    q->trailing = n - end;
    for (size_t i = end; i < n; i++)
        if (b[i] != 0)
            return bad(q, i, "non-zero byte after the signature data (only zero padding may follow)");
    return 0;
}

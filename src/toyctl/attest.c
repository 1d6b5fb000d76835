/*
 * attest.c — checks the attestation document served by the metadata port
 * (GET /attestation?nonce=...) against a report.
 *
 * What this proves and what it does not: the quote's report_data must be
 * SHA-256(publicKey) || SHA-256(nonce), so a genuine quote over it says that
 * code measured in the quote holds the report's signing key, freshly for the
 * auditor's nonce.  Whether the quote is genuine is the Intel DCAP chain,
 * verified by rt_dcap (quote.c): to the pinned Intel root, and with
 * --collateral also the TCB status, the QE identity and the CRLs.  A "sim"
 * quote has the same layout but its chain ends at the sim provider's own
 * root: it shows that the document is intact, never that hardware produced
 * it, so it is refused unless the auditor passes --allow-sim, and every line
 * whose trust comes from that root is marked.
 *
 * The event log is replayed into the quote's RTMRs (rt_evlog), and the
 * report's composeHash must be the compose-hash event measured in RTMR3.
 */
#include "toyctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_eth.h"
#include "rt_tee.h"
#include "toy_spec.h"

int tc_verify_attestation(struct json_object *att, struct json_object *r, const tc_attest_opts *o)
{
    char what[300];
    const char *P = o->prefix ? o->prefix : "attestation: ";
    const char *R = o->ref ? o->ref : "the report's"; /* what binds the attestation */
    if (!tc_shape(att, &toy_resp_attestation_rec, NULL, "attestation"))
        return 0;
    int ok = 1;

    snprintf(what, sizeof what, "%spublicKey is %s publicKey", P, R);
    if (strcmp(tc_str(att, "publicKey"), tc_str(r, "publicKey")) == 0 &&
        tc_strlen(att, "publicKey") == tc_strlen(r, "publicKey")) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "attestation %s, %s %s", tc_str(att, "publicKey"), R, tc_str(r, "publicKey"));
        ok = 0;
    }
    const char *prov = tc_str(att, "teeProvider");
    snprintf(what, sizeof what, "%steeProvider is %s teeProvider", P, R);
    if (strcmp(prov, tc_str(r, "teeProvider")) == 0 &&
        tc_strlen(att, "teeProvider") == tc_strlen(r, "teeProvider")) {
        tc_ok("%s (%s)", what, prov);
    } else {
        tc_fail(what, "attestation \"%s\", %s \"%s\"", prov, R, tc_str(r, "teeProvider"));
        ok = 0;
    }
    if (o->nonce) {
        snprintf(what, sizeof what, "%snonce is the one asked for", P);
        if (strcmp(tc_str(att, "nonce"), o->nonce) == 0 &&
            tc_strlen(att, "nonce") == strlen(o->nonce)) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "it is \"%s\"", tc_str(att, "nonce"));
            ok = 0;
        }
    }

    /* reportData = SHA-256(publicKey [|| enclaveAddress]) || SHA-256(nonce),
     * the address when the document names one (an instance with a chain
     * key), the nonce half zero when no nonce was asked for: the service's
     * own function (rt_tee_report_data) computes it.  The nonce is the one
     * the auditor asked for when there is one (not the document's own word
     * for it), so that this line alone shows freshness. */
    const char *nonce = o->nonce ? o->nonce : tc_str(att, "nonce");
    size_t nonce_len = o->nonce ? strlen(o->nonce) : tc_strlen(att, "nonce");
    struct json_object *ea;
    int has_addr = json_object_object_get_ex(att, "enclaveAddress", &ea) && ea != NULL;
    uint8_t rd[64], want[64], pub[32], addr[20];
    snprintf(what, sizeof what, "%sreportData is SHA-256(publicKey%s) || %s", P,
             has_addr ? " || enclaveAddress" : "", nonce_len ? "SHA-256(nonce)" : "32 zero bytes (no nonce)");
    if (rt_hex_decode(tc_str(att, "reportData"), tc_strlen(att, "reportData"), rd, 64) != 0) {
        tc_fail(what, "reportData is %zu hex digits, expected 128", tc_strlen(att, "reportData"));
        ok = 0;
    } else if (rt_hex_decode(tc_str(att, "publicKey"), tc_strlen(att, "publicKey"), pub, 32) != 0) {
        tc_fail(what, "publicKey is not 32 bytes");
        ok = 0;
    } else if (has_addr && rt_eth_address_parse(tc_str(att, "enclaveAddress"), tc_strlen(att, "enclaveAddress"),
                                                addr) != 0) {
        tc_fail(what, "enclaveAddress %s is not an address (\"0x\", 40 hex digits, EIP-55)",
                tc_str(att, "enclaveAddress"));
        ok = 0;
    } else {
        rt_tee_report_data(pub, has_addr ? addr : NULL, nonce_len ? nonce : NULL, nonce_len, want);
        if (memcmp(rd, want, 64) == 0) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "%s does not match", memcmp(rd, want, 32) ? "the key half" : "the nonce half");
            ok = 0;
        }
    }

    size_t qn = tc_strlen(att, "quote") / 2;
    uint8_t *q = malloc(qn ? qn : 1);
    rt_dcap_report *dr = calloc(1, sizeof *dr);
    if (!q || !dr) {
        fprintf(stderr, "toyctl: out of memory\n");
        exit(1);
    }
    rt_hex_decode(tc_str(att, "quote"), 2 * qn, q, qn); /* hex checked by tc_shape */
    rt_quote pq;
    snprintf(what, sizeof what, "%squote is a TDX quote v4 or v5", P);
    if (rt_quote_parse(&pq, q, qn) != 0) {
        tc_fail(what, "byte %zu: %s", pq.err_off, pq.reason);
        free(q);
        free(dr);
        return 0; /* nothing below can be read from it */
    }
    tc_ok("%s", what);

    snprintf(what, sizeof what, "%sthe quote's report_data is reportData", P);
    if (tc_strlen(att, "reportData") == 128 && memcmp(rt_quote_td(&pq, RT_QUOTE_TD_REPORT_DATA), rd, 64) == 0) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "the quote binds other data");
        ok = 0;
    }

    rt_evlog ev;
    int log_ok = tc_check_event_log(&pq, tc_str(att, "eventLog"), tc_strlen(att, "eventLog"), P, &ev);
    ok &= log_ok;
    if (log_ok) {
        const char *ch = tc_str(r, "composeHash");
        if (strncmp(ch, "sha256:", 7) == 0)
            ch += 7;
        char measured[65] = "";
        if (ev.have_compose_hash)
            rt_hex_encode(ev.compose_hash, 32, measured);
        snprintf(what, sizeof what, "%s%s composeHash is the one measured in RTMR3", P, R);
        if (!ev.have_compose_hash) {
            tc_fail(what, "the event log has no compose-hash event");
            ok = 0;
        } else if (strcmp(ch, measured) != 0) {
            tc_fail(what, "%s %s, measured %s", R, tc_str(r, "composeHash"), measured);
            ok = 0;
        } else {
            tc_ok("%s", what);
        }
    }

    tc_quote_opts qo = { .prefix = P, .collateral = o->collateral,
                         .collateral_len = o->collateral_len, .now = o->now, .allow_sim = 0 };
    int sim_vendor = memcmp(pq.qe_vendor_id, rt_dcap_sim_qe_vendor, 16) == 0;
    if (strcmp(prov, "sim") == 0) {
        snprintf(what, sizeof what, "%ssimulated quote accepted", P);
        if (!o->allow_sim) {
            tc_fail(what, "teeProvider is \"sim\": its quote proves nothing about hardware; "
                          "refused without --allow-sim");
            ok = 0;
        } else {
            qo.allow_sim = 1;
            ok &= tc_check_quote(q, qn, &qo, dr);
            snprintf(what, sizeof what, "%sthe quote is the sim provider's (SIM root, sim QE vendor id)", P);
            if (dr->err == RT_DCAP_OK && (!dr->sim || !sim_vendor)) {
                tc_fail(what, "teeProvider is \"sim\" but the quote is not simulated");
                ok = 0;
            } else if (dr->err == RT_DCAP_OK) {
                tc_ok("%s", what);
            }
        }
    } else if (strcmp(prov, "dstack") == 0) {
        snprintf(what, sizeof what, "%squote is not a simulated quote", P);
        if (sim_vendor) {
            tc_fail(what, "teeProvider is \"dstack\" but the quote's QE vendor id is the sim's");
            ok = 0;
        } else {
            tc_ok("%s", what);
        }
        ok &= tc_check_quote(q, qn, &qo, dr);
    } else {
        snprintf(what, sizeof what, "%steeProvider is known", P);
        tc_fail(what, "\"%s\" is neither \"sim\" nor \"dstack\"", prov);
        ok = 0;
    }
    if (o->out) {
        tc_attest_result *res = o->out;
        memset(res, 0, sizeof *res);
        res->quote_ok = dr->err == RT_DCAP_OK && dr->nlines > 0 && (strcmp(prov, "sim") != 0 || o->allow_sim);
        snprintf(res->status, sizeof res->status, "%s", res->quote_ok ? dr->status : "");
        res->sim = dr->sim;
        memcpy(res->mrtd, rt_quote_td(&pq, RT_QUOTE_TD_MR_TD), 48);
        memcpy(res->rtmr, rt_quote_td(&pq, RT_QUOTE_TD_RTMR0), sizeof res->rtmr);
        res->log_ok = log_ok;
        if (log_ok)
            res->ev = ev;
    }
    free(dr);
    free(q);
    return ok;
}

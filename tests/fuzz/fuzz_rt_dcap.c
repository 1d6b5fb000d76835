/*
 * fuzz_rt_dcap.c — libFuzzer harness for the quote parser and the DCAP
 * verifier without collateral (rt_quote, rt_dcap), and the event log replay
 * (rt_evlog).
 *
 * Input: byte 0 picks the target (even: a quote, odd: an event log), the
 * rest is the input.  A quote is parsed, then verified with and without
 * RT_DCAP_ALLOW_SIM at a fixed time; a parsed quote's fields must lie
 * inside the input, a failed verification must name its class and end with
 * a FAIL line, and both runs must agree on whether it parsed.  An event
 * log is replayed; an error must name its event inside the log.
 *
 * Built by `make fuzz` (libFuzzer) and, replaying tests/fuzz/corpus/fuzz_rt_dcap,
 * by `make test`.  The corpus holds the real quotes and logs of
 * tests/data/attestation (see its README) and a sim quote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt_dcap.h"
#include "rt_evlog.h"

static void inside(const uint8_t *p, size_t len, const uint8_t *b, size_t n)
{
    if (p < b || p + len > b + n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        rt_evlog ev;
        if (rt_evlog_replay((const char *)b, n, &ev) != 0 && (!ev.reason || (ev.nevents && ev.err_event >= ev.nevents)))
            abort();
        return 0;
    }
    rt_quote q;
    int parsed = rt_quote_parse(&q, b, n) == 0;
    if (parsed) {
        inside(q.body, q.body_len, b, n);
        inside(q.sig, 128, b, n);
        inside(q.qe_report, RT_QUOTE_QE_REPORT_LEN + 64, b, n);
        inside(q.qe_auth, q.qe_auth_len, b, n);
        inside(q.inner, q.inner_len, b, n);
        if (q.signed_len > n || q.trailing > n)
            abort();
    } else if (!q.reason || q.err_off > n) {
        abort();
    }
    static rt_dcap_report r;
    for (unsigned flags = 0; flags <= RT_DCAP_ALLOW_SIM; flags++) {
        int rc = rt_dcap_verify(b, n, NULL, 0, 1767225600 /* 2026-01-01 */, flags, &r);
        /* The verifier and the parser agree on parsing (a v5 body size is
         * checked after the signature, and named quote_format too). */
        if (!parsed && r.err != RT_DCAP_QUOTE_FORMAT)
            abort();
        if (parsed && r.err == RT_DCAP_QUOTE_FORMAT && !(q.version == 5 && q.body_size != q.body_len))
            abort();
        if (rc != 0 && (r.nlines == 0 || r.lines[r.nlines - 1].ok || !r.name))
            abort();
        if (rc == 0 && (r.err != RT_DCAP_OK || !r.partial))
            abort();
    }
    return 0;
}

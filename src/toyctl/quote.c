/*
 * quote.c — the quote checks toyctl prints: DCAP verification (rt_dcap),
 * the event log's replay into the quote's RTMRs (rt_evlog), report_data,
 * and the app-compose file against the measured compose hash.  Used by
 * verify-quote, verify-report --attestation and compare-instances.
 */
#include "toyctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_compose.h"

#define SIM_MARK " [SIM root: --allow-sim]"

int tc_check_quote(const uint8_t *q, size_t n, const tc_quote_opts *o, rt_dcap_report *r)
{
    int rc = rt_dcap_verify(q, n, o->collateral, o->collateral_len, o->now,
                            o->allow_sim ? RT_DCAP_ALLOW_SIM : 0, r);
    for (int i = 0; i < r->nlines; i++) {
        const rt_dcap_line *l = &r->lines[i];
        const char *mark = r->sim && l->rooted ? SIM_MARK : "";
        if (l->ok) {
            tc_ok("%s%s%s", o->prefix, l->what, mark);
        } else {
            char what[256];
            snprintf(what, sizeof what, "%s%s%s", o->prefix, l->what, mark);
            tc_fail(what, "%s", l->why);
        }
    }
    if (rc != 0) {
        tc_note("%sthe quote is refused: %s (%s); later checks did not run", o->prefix,
                rt_dcap_err_text(r->err), r->name);
        return 0;
    }
    if (r->partial) {
        tc_note("%sno --collateral: the TCB status, the QE identity and the CRLs were not checked "
                "(collateral comes from a PCCS; see docs/attestation.md)", o->prefix);
    } else {
        char adv[RT_DCAP_MAX_ADVISORIES * 26] = "none";
        size_t at = 0;
        for (int i = 0; i < r->nadvisories; i++)
            at += (size_t)snprintf(adv + at, sizeof adv - at, "%s%s", i ? ", " : "", r->advisories[i]);
        tc_note("%sTCB status %s%s; advisories: %s", o->prefix, r->status, r->sim ? " (SIMULATED)" : "", adv);
    }
    if (r->sim)
        tc_note("%sthe quote is SIMULATED: its chain ends at the sim provider's own root, not Intel's; "
                "it proves nothing about hardware or the code that runs", o->prefix);
    return 1;
}

int tc_check_event_log(const rt_quote *q, const char *log, size_t n, const char *prefix, rt_evlog *ev)
{
    char what[200];
    snprintf(what, sizeof what, "%sevent log replays to the quote's RTMR0-3", prefix);
    if (rt_evlog_replay(log, n, ev) != 0) {
        tc_fail(what, "event %zu: %s", ev->err_event, ev->reason);
        return 0;
    }
    const uint8_t *rtmr = rt_quote_td(q, RT_QUOTE_TD_RTMR0);
    int k = 0;
    while (k < 4 && memcmp(ev->rtmr[k], rtmr + 48 * k, 48) == 0)
        k++;
    if (k < 4) {
        tc_fail(what, "RTMR%d differs from the replay of %zu events", k, ev->nevents);
        return 0;
    }
    if (ev->ncomputed)
        tc_ok("%s (%zu events; %zu RTMR3 digests recomputed from their content, dstack 0.6 form)", what,
              ev->nevents, ev->ncomputed);
    else
        tc_ok("%s (%zu events)", what, ev->nevents);
    snprintf(what, sizeof what, "%sevent log: RTMR3 event digests match their content", prefix);
    if (!ev->content_ok) {
        tc_fail(what, "event %zu does not", ev->bad_event);
        return 0;
    }
    tc_ok("%s", what);
    char hex[2 * RT_EVLOG_ID_MAX + 1];
    if (ev->app_id_len) {
        rt_hex_encode(ev->app_id, ev->app_id_len, hex);
        tc_note("%sapp id %s (measured in RTMR3)", prefix, hex);
    }
    if (ev->have_compose_hash) {
        rt_hex_encode(ev->compose_hash, 32, hex);
        tc_note("%scompose hash %s (measured in RTMR3)", prefix, hex);
    }
    if (ev->instance_id_len) {
        rt_hex_encode(ev->instance_id, ev->instance_id_len, hex);
        tc_note("%sinstance id %s (measured in RTMR3)", prefix, hex);
    }
    if (ev->key_provider[0])
        tc_note("%skey provider %s (measured in RTMR3)", prefix, ev->key_provider);
    return 1;
}

int tc_check_compose(const rt_evlog *ev, const uint8_t *file, size_t n, const char *name, const char *prefix)
{
    char what[300], got[65], want[65];
    uint8_t h[32];
    snprintf(what, sizeof what, "%sSHA-256 of %s is the compose hash measured in RTMR3", prefix, name);
    if (!ev->have_compose_hash) {
        tc_fail(what, "the event log has no compose-hash event");
        return 0;
    }
    rt_compose_hash(file, n, h); /* as dstack computes it */
    rt_hex_encode(h, 32, got);
    rt_hex_encode(ev->compose_hash, 32, want);
    if (memcmp(h, ev->compose_hash, 32) != 0) {
        tc_fail(what, "the file hashes to %s, the instance runs %s", got, want);
        return 0;
    }
    tc_ok("%s", what);
    return 1;
}

int tc_parse_time(const char *s, int64_t *out)
{
    if (strcmp(s, "now") == 0) {
        *out = (int64_t)time(NULL);
        return 0;
    }
    if (*s && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 12) {
        *out = strtoll(s, NULL, 10);
        return 0;
    }
    return rt_dcap_time(s, strlen(s), out);
}

/* Decodes hex text (white space allowed between digits) into a malloc'd
 * buffer; NULL if it is not an even number of hex digits. */
static uint8_t *unhex_text(const char *s, size_t n, size_t *out)
{
    uint8_t *b = malloc(n / 2 + 1);
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; b && i < n; i++) {
        int v = rt_hex_digit((unsigned char)s[i]);
        if (v < 0) {
            if (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
                continue;
            free(b);
            return NULL;
        }
        if (hi < 0) {
            hi = v;
        } else {
            b[k++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (!b || hi >= 0 || k == 0) {
        free(b);
        return NULL;
    }
    *out = k;
    return b;
}

static const char *member_str(struct json_object *o, const char *a, const char *b, size_t *n)
{
    struct json_object *v = NULL;
    if ((json_object_object_get_ex(o, a, &v) || json_object_object_get_ex(o, b, &v)) &&
        json_object_is_type(v, json_type_string)) {
        *n = (size_t)json_object_get_string_len(v);
        return json_object_get_string(v);
    }
    return NULL;
}

int tc_load_quote(const char *path, tc_quote_input *in)
{
    char err[320], what[96];
    size_t n;
    memset(in, 0, sizeof *in);
    snprintf(what, sizeof what, "quote file %s reads", path);
    char *buf = tc_read_file(path, &n, err, sizeof err);
    if (!buf) {
        tc_fail(what, "%s", err);
        return 0;
    }
    size_t lead = strspn(buf, " \t\r\n");
    if (lead < n && buf[lead] == '{') {
        /* A dstack GetQuote response or the metadata port's /attestation. */
        struct json_object *o = tc_json_parse(buf, n, err, sizeof err);
        size_t qn = 0, ln = 0, rn = 0;
        const char *qh = o ? member_str(o, "quote", "quote", &qn) : NULL;
        const char *lg = o ? member_str(o, "event_log", "eventLog", &ln) : NULL;
        const char *rd = o ? member_str(o, "report_data", "reportData", &rn) : NULL;
        if (!o || !qh || !(in->quote = unhex_text(qh, qn, &in->quote_len))) {
            tc_fail(what, "%s", o ? "a JSON document without a hex \"quote\"" : err);
            json_object_put(o);
            free(buf);
            return 0;
        }
        if (lg && !(in->event_log = strndup(lg, ln))) {
            fprintf(stderr, "toyctl: out of memory\n");
            exit(1);
        }
        in->event_log_len = ln;
        if (rd && rn <= 128 && rt_hex_decode(rd, rn, in->report_data, rn / 2) == 0 && rn % 2 == 0)
            in->have_report_data = 1;
        json_object_put(o);
        free(buf);
        tc_ok("quote file %s: JSON with a quote%s%s", path, lg ? " and an event log" : "",
              in->have_report_data ? " and its report_data" : "");
        return 1;
    }
    uint8_t *hex = unhex_text(buf, n, &in->quote_len);
    if (hex) {
        in->quote = hex;
        free(buf);
        tc_ok("quote file %s: hex, %zu bytes", path, in->quote_len);
        return 1;
    }
    in->quote = (uint8_t *)buf;
    in->quote_len = n;
    tc_ok("quote file %s: binary, %zu bytes", path, n);
    return 1;
}

void tc_quote_input_free(tc_quote_input *in)
{
    free(in->quote);
    free(in->event_log);
    memset(in, 0, sizeof *in);
}

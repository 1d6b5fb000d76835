/*
 * test_rt_evlog.c - dstack event log replay (runtime/rt_evlog.c) on the two
 * real logs of tests/data/attestation: the one that carries RTMR3 digests
 * (dstack-getquote-a) and dstack 0.6's with empty ones (dstack-getquote-b).
 * Expected values come from the recorded quotes (their RTMR fields) and
 * from expected.json, computed independently (see its README.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "attest_fixture.h"
#include "rt_evlog.h"
#include "rt_hex.h"
#include "rt_quote.h"

/* The event log text of a GetQuote recording, and its quote's RTMRs. */
typedef struct rec {
    char *log;
    size_t len;
    uint8_t rtmr[4][48];
    struct json_object *events; /* the log, parsed, for editing */
    struct json_object *expected;
} rec;

static void load(rec *r, const char *name)
{
    char file[128];
    snprintf(file, sizeof file, "%s.json", name);
    struct json_object *g = af_json(file), *v;
    assert_true(json_object_object_get_ex(g, "event_log", &v));
    r->log = strdup(json_object_get_string(v));
    r->len = strlen(r->log);
    r->events = json_tokener_parse(r->log);
    assert_non_null(r->events);
    json_object_put(g);
    snprintf(file, sizeof file, "%s.quote.bin", name);
    size_t qn;
    uint8_t *qb = af_read(file, &qn);
    rt_quote q;
    assert_int_equal(rt_quote_parse(&q, qb, qn), 0);
    memcpy(r->rtmr, rt_quote_td(&q, RT_QUOTE_TD_RTMR0), sizeof r->rtmr);
    free(qb);
    struct json_object *all = af_json("expected.json");
    snprintf(file, sizeof file, "%s.quote.bin", name);
    assert_true(json_object_object_get_ex(all, file, &v));
    r->expected = json_object_get(v);
    json_object_put(all);
}

static void unload(rec *r)
{
    free(r->log);
    json_object_put(r->events);
    json_object_put(r->expected);
}

/* Replays the (edited) events array; returns the rc and fills *ev. */
static int replay_events(struct json_object *events, rt_evlog *ev)
{
    const char *t = json_object_to_json_string_ext(events, JSON_C_TO_STRING_PLAIN);
    return rt_evlog_replay(t, strlen(t), ev);
}

static size_t event_index(struct json_object *events, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        struct json_object *e = json_object_array_get_idx(events, i), *v;
        if (json_object_object_get_ex(e, "event", &v) && strcmp(json_object_get_string(v), name) == 0)
            return i;
    }
    fail_msg("no event %s", name);
    return 0;
}

static void set_str(struct json_object *events, size_t i, const char *k, const char *v)
{
    json_object_object_add(json_object_array_get_idx(events, i), k, json_object_new_string(v));
}

/* The identity read from the log is the payload of its RTMR3 events, as
 * expected.json lists them. */
static void check_identity(const rec *r, const rt_evlog *ev)
{
    struct json_object *evl, *list;
    assert_true(json_object_object_get_ex(r->expected, "event_log", &evl));
    assert_true(json_object_object_get_ex(evl, "runtime_events_rtmr3", &list));
    int seen = 0;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *e = json_object_array_get_idx(list, i), *nm, *pl;
        json_object_object_get_ex(e, "event", &nm);
        json_object_object_get_ex(e, "payload_hex", &pl);
        const char *name = json_object_get_string(nm), *hex = json_object_get_string(pl);
        char got[2 * RT_EVLOG_ID_MAX + 1];
        if (strcmp(name, "app-id") == 0) {
            rt_hex_encode(ev->app_id, ev->app_id_len, got);
            assert_string_equal(got, hex);
            seen++;
        } else if (strcmp(name, "instance-id") == 0) {
            rt_hex_encode(ev->instance_id, ev->instance_id_len, got);
            assert_string_equal(got, hex);
            seen++;
        } else if (strcmp(name, "compose-hash") == 0) {
            assert_true(ev->have_compose_hash);
            rt_hex_encode(ev->compose_hash, 32, got);
            assert_string_equal(got, hex);
            seen++;
        } else if (strcmp(name, "key-provider") == 0) {
            char txt[512];
            size_t n = strlen(hex) / 2;
            assert_int_equal(rt_hex_decode(hex, 2 * n, (uint8_t *)txt, n), 0);
            txt[n] = 0;
            assert_string_equal(ev->key_provider, txt);
            seen++;
        }
    }
    assert_int_equal(seen, 4);
}

static void test_replay_with_digests(void **state)
{
    (void)state;
    rec r;
    load(&r, "dstack-getquote-a");
    rt_evlog ev;
    assert_int_equal(rt_evlog_replay(r.log, r.len, &ev), 0);
    assert_memory_equal(ev.rtmr, r.rtmr, sizeof r.rtmr); /* the quote's RTMR0-3 */
    assert_int_equal(ev.nevents, 28);
    assert_int_equal(ev.nruntime, 8);
    assert_int_equal(ev.ncomputed, 0);
    assert_true(ev.content_ok);
    assert_true(ev.system_ready);
    check_identity(&r, &ev);
    unload(&r);
}

static void test_replay_dstack06_empty_digests(void **state)
{
    (void)state;
    rec r;
    load(&r, "dstack-getquote-b");
    rt_evlog ev;
    assert_int_equal(rt_evlog_replay(r.log, r.len, &ev), 0);
    assert_memory_equal(ev.rtmr, r.rtmr, sizeof r.rtmr);
    assert_int_equal(ev.nevents, 29);
    assert_int_equal(ev.ncomputed, 9); /* every RTMR3 digest was empty */
    assert_true(ev.have_os_image_hash);
    check_identity(&r, &ev);
    unload(&r);
}

/* The two forms are the same measurement: emptying log a's digests, or
 * filling log b's with expected.json's independently computed ones, leaves
 * the replay equal to the quote's RTMRs. */
static void test_forms_are_equivalent(void **state)
{
    (void)state;
    rec a, b;
    load(&a, "dstack-getquote-a");
    load(&b, "dstack-getquote-b");
    rt_evlog ev;
    for (size_t i = event_index(a.events, "system-preparing"); i < json_object_array_length(a.events); i++)
        set_str(a.events, i, "digest", "");
    assert_int_equal(replay_events(a.events, &ev), 0);
    assert_int_equal(ev.ncomputed, 8);
    assert_memory_equal(ev.rtmr, a.rtmr, sizeof a.rtmr);

    struct json_object *evl, *list;
    json_object_object_get_ex(b.expected, "event_log", &evl);
    json_object_object_get_ex(evl, "runtime_events_rtmr3", &list);
    size_t first = event_index(b.events, "system-preparing");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *d;
        json_object_object_get_ex(json_object_array_get_idx(list, i), "digest_v1", &d);
        set_str(b.events, first + i, "digest", json_object_get_string(d));
    }
    assert_int_equal(replay_events(b.events, &ev), 0);
    assert_int_equal(ev.ncomputed, 0);
    assert_true(ev.content_ok);
    assert_memory_equal(ev.rtmr, b.rtmr, sizeof b.rtmr);
    unload(&a);
    unload(&b);
}

/* rt_evlog_digest against expected.json's digests. */
static void test_runtime_digest(void **state)
{
    (void)state;
    rec r;
    load(&r, "dstack-getquote-b");
    struct json_object *evl, *list;
    json_object_object_get_ex(r.expected, "event_log", &evl);
    json_object_object_get_ex(evl, "runtime_events_rtmr3", &list);
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *e = json_object_array_get_idx(list, i), *nm, *pl;
        uint8_t want[48], got[48], p[256];
        json_object_object_get_ex(e, "event", &nm);
        json_object_object_get_ex(e, "payload_hex", &pl);
        af_hex(e, "digest_v1", want, 48);
        size_t pn = (size_t)json_object_get_string_len(pl) / 2;
        assert_true(pn <= sizeof p);
        assert_int_equal(rt_hex_decode(json_object_get_string(pl), 2 * pn, p, pn), 0);
        assert_int_equal(rt_evlog_digest(RT_EVLOG_RUNTIME_EVENT, json_object_get_string(nm),
                                         (size_t)json_object_get_string_len(nm), p, pn, got), 0);
        assert_memory_equal(got, want, 48);
    }
    unload(&r);
}

/* A payload changed under its digest: log a still replays to the quote (the
 * digest is what was extended) but its content no longer matches; in log b
 * (no digests) the replay itself moves off the quote's RTMR3. */
static void test_changed_payload(void **state)
{
    (void)state;
    rec a, b;
    load(&a, "dstack-getquote-a");
    load(&b, "dstack-getquote-b");
    rt_evlog ev;
    size_t ia = event_index(a.events, "compose-hash");
    set_str(a.events, ia, "event_payload", "00000000000000000000000000000000000000000000000000000000000000ff");
    assert_int_equal(replay_events(a.events, &ev), 0);
    assert_memory_equal(ev.rtmr, a.rtmr, sizeof a.rtmr);
    assert_false(ev.content_ok);
    assert_int_equal(ev.bad_event, ia);

    size_t ib = event_index(b.events, "app-id");
    set_str(b.events, ib, "event_payload", "00");
    assert_int_equal(replay_events(b.events, &ev), 0);
    assert_memory_equal(ev.rtmr, b.rtmr, 3 * 48);
    assert_memory_not_equal(ev.rtmr[3], b.rtmr[3], 48);
    unload(&a);
    unload(&b);
}

static void expect_refused(const char *text, const char *reason_part)
{
    rt_evlog ev;
    assert_int_equal(rt_evlog_replay(text, strlen(text), &ev), -1);
    if (!strstr(ev.reason, reason_part))
        fail_msg("reason \"%s\" lacks \"%s\"", ev.reason, reason_part);
}

static void test_malformed(void **state)
{
    (void)state;
    rec a;
    load(&a, "dstack-getquote-a");
    expect_refused("{}", "not a JSON array");
    expect_refused("[1]", "lacks");
    expect_refused("[{\"imr\":4,\"event_type\":1,\"digest\":\"\",\"event\":\"\",\"event_payload\":\"\"}]", "0..3");
    expect_refused("[{\"imr\":0,\"event_type\":1,\"digest\":\"\",\"event\":\"\",\"event_payload\":\"\"}]",
                   "empty digest");
    expect_refused("[{\"imr\":3,\"event_type\":1,\"digest\":\"\",\"event\":\"x\",\"event_payload\":\"abc\"}]",
                   "not hex");
    expect_refused("[{\"imr\":3,\"event_type\":1,\"digest\":\"00\",\"event\":\"x\",\"event_payload\":\"\"}]",
                   "48 bytes");

    /* A second compose-hash, and one after system-ready. */
    struct json_object *dup = json_tokener_parse(a.log);
    size_t ic = event_index(dup, "compose-hash");
    json_object_array_add(dup, json_object_get(json_object_array_get_idx(dup, ic)));
    const char *t = json_object_to_json_string_ext(dup, JSON_C_TO_STRING_PLAIN);
    expect_refused(t, "twice");
    json_object_put(dup);

    struct json_object *late = json_tokener_parse(a.log);
    size_t ir = event_index(late, "system-ready");
    struct json_object *c = json_object_get(json_object_array_get_idx(late, ic));
    json_object_array_del_idx(late, ic, 1);
    json_object_array_put_idx(late, json_object_array_length(late), c);
    (void)ir;
    t = json_object_to_json_string_ext(late, JSON_C_TO_STRING_PLAIN);
    expect_refused(t, "after system-ready");
    json_object_put(late);
    unload(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_with_digests),
        cmocka_unit_test(test_replay_dstack06_empty_digests),
        cmocka_unit_test(test_forms_are_equivalent),
        cmocka_unit_test(test_runtime_digest),
        cmocka_unit_test(test_changed_payload),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gen.c — the generated code behaves as spec/ says: the classify
 * derivation (streamed in any pieces), the key matchers, and the canonical
 * serializers of responses, audit entries and the report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "toy_spec.h"

/* ---- derive classify ---------------------------------------------------- */

static toy_classify_out classify_split(const char *text, size_t step)
{
    toy_classify_state st;
    toy_classify_out out;
    size_t n = strlen(text);
    toy_classify_init(&st);
    for (size_t i = 0; i < n; i += step)
        toy_classify_feed(&st, (const uint8_t *)text + i, n - i < step ? n - i : step);
    toy_classify_finish(&st, &out);
    return out;
}

static const char *fmt(toy_classify_out o)
{
    static char buf[128];
    size_t n = toy_classify_format(&o, buf, sizeof buf);
    assert_true(n < sizeof buf);
    return buf;
}

/* Every split of the input gives the same answer as the whole. */
static const char *classify(const char *text)
{
    toy_classify_out whole = classify_split(text, strlen(text) ? strlen(text) : 1);
    for (size_t step = 1; step <= strlen(text); step++) {
        toy_classify_out o = classify_split(text, step);
        assert_int_equal(o.category, whole.category);
        assert_int_equal(o.bracket, whole.bracket);
    }
    /* And so does a split into two at every offset. */
    size_t n = strlen(text);
    for (size_t cut = 0; cut <= n; cut++) {
        toy_classify_state st;
        toy_classify_out o;
        toy_classify_init(&st);
        toy_classify_feed(&st, (const uint8_t *)text, cut);
        toy_classify_feed(&st, (const uint8_t *)text + cut, n - cut);
        toy_classify_finish(&st, &o);
        assert_int_equal(o.category, whole.category);
        assert_int_equal(o.bracket, whole.bracket);
    }
    return fmt(whole);
}

static void test_classify_categories(void **state)
{
    (void)state;
    assert_string_equal(classify("I watched a movie and a concert, age: 22"),
                        "category:entertainment,bracket:18-25");
    assert_string_equal(classify("homework for my COURSE, then a Lecture. age:15"),
                        "category:education,bracket:13-17");
    assert_string_equal(classify("fitness and travel, one movie"), "category:lifestyle,bracket:unknown");
    assert_string_equal(classify("football match, tennis"), "category:sports,bracket:unknown");
    assert_string_equal(classify("new phone and some coding age: 40"), "category:technology,bracket:36-50");
    assert_string_equal(classify("nothing to see here"), "category:other,bracket:unknown");
    assert_string_equal(classify(""), "category:other,bracket:unknown");
}

static void test_classify_ties_and_overlaps(void **state)
{
    (void)state;
    /* One hit each: the label listed first wins. */
    assert_string_equal(classify("robot movie"), "category:entertainment,bracket:unknown");
    assert_string_equal(classify("robot recipe"), "category:lifestyle,bracket:unknown");
    /* Overlapping keywords both count: "moviemovie" has two hits. */
    assert_string_equal(classify("moviemovie robot robot soccer"), "category:entertainment,bracket:unknown");
    /* A keyword split by the end of a piece still counts (checked by classify()). */
    assert_string_equal(classify("mov ie robot"), "category:technology,bracket:unknown");
}

static void test_classify_age(void **state)
{
    (void)state;
    assert_string_equal(classify("age:13"), "category:other,bracket:13-17");
    assert_string_equal(classify("age:17"), "category:other,bracket:13-17");
    assert_string_equal(classify("age:18"), "category:other,bracket:18-25");
    assert_string_equal(classify("AGE:   50"), "category:other,bracket:36-50");
    assert_string_equal(classify("age:51"), "category:other,bracket:50+");
    assert_string_equal(classify("age:150"), "category:other,bracket:50+");
    assert_string_equal(classify("age:151"), "category:other,bracket:unknown");
    assert_string_equal(classify("age:12"), "category:other,bracket:unknown");
    assert_string_equal(classify("age:0"), "category:other,bracket:unknown");
    assert_string_equal(classify("age:0000025"), "category:other,bracket:unknown");
    assert_string_equal(classify("age:99999999999999999999"), "category:other,bracket:unknown");
    /* Only the first number after a marker counts... */
    assert_string_equal(classify("age: 30 and later age: 15"), "category:other,bracket:26-35");
    /* ...but a marker with no number does not stop the search. */
    assert_string_equal(classify("age: unknown; age: 44"), "category:other,bracket:36-50");
    assert_string_equal(classify("page:20"), "category:other,bracket:18-25");
    assert_string_equal(classify("age 20"), "category:other,bracket:unknown");
    assert_string_equal(classify("age:-20"), "category:other,bracket:unknown");
    assert_string_equal(classify("aage:33x"), "category:other,bracket:26-35");
}

static void test_classify_domain(void **state)
{
    (void)state;
    /* 6 categories x 6 brackets: 36 outcomes. */
    assert_int_equal(TOY_CLASSIFY_CATEGORY__COUNT, 6);
    assert_int_equal(TOY_CLASSIFY_BRACKET__COUNT, 6);
    assert_string_equal(toy_classify_category_labels[TOY_CLASSIFY_CATEGORY_OTHER], "other");
    assert_string_equal(toy_classify_bracket_labels[TOY_CLASSIFY_BRACKET_L50PLUS], "50+");
}

/* ---- key matchers ------------------------------------------------------- */

static int key(int (*f)(const uint8_t *, size_t), const char *k)
{
    return f((const uint8_t *)k, strlen(k));
}

static void test_keys(void **state)
{
    (void)state;
    assert_int_equal(key(toy_submit_data_key, "userId"), 0);
    assert_int_equal(key(toy_submit_data_key, "sensitivePayload"), 1);
    assert_int_equal(key(toy_submit_data_key, "userid"), -1);
    assert_int_equal(key(toy_submit_data_key, "userId "), -1);
    assert_int_equal(key(toy_submit_data_key, "userI"), -1);
    assert_int_equal(key(toy_submit_data_key, ""), -1);
    assert_int_equal(toy_submit_data_key((const uint8_t *)"userId\0", 7), -1);
    assert_int_equal(key(toy_signup_key, "userId"), 0);
    assert_int_equal(key(toy_signup_key, "sensitivePayload"), -1);
    assert_int_equal(key(toy_delete_data_key, "deletionToken"), 0);
}

/* ---- serializers -------------------------------------------------------- */

static char out[8192];

static const char *ser(const rt_record *rec, const void *obj, unsigned flags)
{
    rt_jw w;
    rt_jw_init(&w, out, sizeof out);
    assert_int_equal(rt_ser(&w, rec, obj, flags), 0);
    assert_int_equal(rt_jw_finish(&w), 0);
    /* Canonical output is valid JSON that json-c reads back. */
    json_object *j = json_tokener_parse(out);
    assert_non_null(j);
    json_object_put(j);
    return out;
}

static void test_audit_entry(void **state)
{
    (void)state;
    toy_audit_data_received e;
    memset(&e, 0, sizeof e);
    e.cvmId = RT_STR("cvm-1");
    e.timestamp = RT_STR("2026-02-17T12:00:00Z");
    e.receiptId = RT_STR("r_1");
    memset(e.userIdHash, 0xab, 32);
    memset(e.payloadCommitment, 0x01, 32);
    e.safeDerivative.category = TOY_CLASSIFY_CATEGORY_SPORTS;
    e.safeDerivative.bracket = TOY_CLASSIFY_BRACKET_L18_25;
    assert_string_equal(ser(&toy_audit_data_received_rec, &e, 0),
        "{\"action\":\"data_received\",\"cvmId\":\"cvm-1\","
        "\"deletionTokenHash\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"payloadCommitment\":\"0101010101010101010101010101010101010101010101010101010101010101\","
        "\"receiptId\":\"r_1\",\"safeDerivative\":\"category:sports,bracket:18-25\","
        "\"timestamp\":\"2026-02-17T12:00:00Z\","
        "\"userIdHash\":\"abababababababababababababababababababababababababababababababab\"}");
}

static void test_signed_record(void **state)
{
    (void)state;
    toy_rec_tree_head h;
    uint8_t pk[2] = { 0xde, 0xad }, sig[2] = { 0xbe, 0xef };
    memset(&h, 0, sizeof h);
    h.treeSize = 42;
    h.timestamp = RT_STR("t\"\n\x01\xc3\xa9");
    h.publicKey = (rt_bytes){ pk, 2 };
    h.signature = (rt_bytes){ sig, 2 };
    const char *root = "0000000000000000000000000000000000000000000000000000000000000000";
    char want[512];
    snprintf(want, sizeof want, "{\"publicKey\":\"dead\",\"root\":\"%s\",\"signature\":\"beef\","
             "\"timestamp\":\"t\\\"\\n\\u0001\xc3\xa9\",\"treeSize\":42}", root);
    assert_string_equal(ser(&toy_rec_tree_head_rec, &h, 0), want);
    /* The signed bytes are the same record without its signature. */
    snprintf(want, sizeof want, "{\"publicKey\":\"dead\",\"root\":\"%s\","
             "\"timestamp\":\"t\\\"\\n\\u0001\xc3\xa9\",\"treeSize\":42}", root);
    assert_string_equal(ser(&toy_rec_tree_head_rec, &h, RT_SER_UNSIGNED), want);
}

static void test_report_nested_and_null(void **state)
{
    (void)state;
    toy_rec_report r;
    memset(&r, 0, sizeof r);
    r.reportId = RT_STR("report_1");
    r.previousReportId_null = 1;
    r.summary.window.signups = 3;
    r.summary.totalSignups = 7;
    r.treeHead.treeSize = 9;
    uint8_t sig[1] = { 0x5a };
    r.signature = (rt_bytes){ sig, 1 };
    r.treeHead.signature = (rt_bytes){ sig, 1 };
    const char *s = ser(&toy_rec_report_rec, &r, 0);
    assert_non_null(strstr(s, "\"previousReportId\":null"));
    assert_non_null(strstr(s, "\"window\":{\"deletions\":0,\"safeApiCalls\":0,\"signups\":3,\"usersProcessed\":0}"));
    assert_non_null(strstr(s, ",\"signature\":\"5a\","));
    /* Unsigned form drops the report's own signature but keeps the tree head's. */
    s = ser(&toy_rec_report_rec, &r, RT_SER_UNSIGNED);
    assert_null(strstr(s, ",\"signature\":\"5a\",\"summary\""));
    assert_non_null(strstr(s, "\"treeHead\":{\"publicKey\":\"\",\"root\":"));
    assert_non_null(strstr(s, "\"signature\":\"5a\",\"timestamp\""));
    /* Keys come out sorted at every level. */
    json_object *j = json_tokener_parse(s);
    assert_non_null(j);
    const char *prev = "";
    json_object_object_foreach(j, k, v) {
        (void)v;
        assert_true(strcmp(prev, k) < 0);
        prev = k;
    }
    json_object_put(j);
}

static void test_list_and_raw(void **state)
{
    (void)state;
    toy_resp_submit_data r;
    memset(&r, 0, sizeof r);
    uint8_t path[2][32];
    memset(path[0], 0x11, 32);
    memset(path[1], 0x22, 32);
    r.inclusionPath = (rt_list){ path, 2 };
    r.auditEntry = RT_STR("{\"action\":\"data_received\"}");
    r.batchIndex = 5;
    const char *s = ser(&toy_resp_submit_data_rec, &r, 0);
    assert_non_null(strstr(s, "\"auditEntry\":{\"action\":\"data_received\"}"));
    assert_non_null(strstr(s, "\"inclusionPath\":[\"1111111111111111111111111111111111111111111111111111111111111111\","
                              "\"2222222222222222222222222222222222222222222222222222222222222222\"]"));
    assert_non_null(strstr(s, "\"batchIndex\":5"));
    assert_non_null(strstr(s, "\"safeDerivative\":\"category:entertainment,bracket:13-17\""));
}

static void test_invalid_utf8_refused(void **state)
{
    (void)state;
    toy_resp_health h;
    memset(&h, 0, sizeof h);
    h.status = RT_STR("\xc0\xaf");
    rt_jw w;
    rt_jw_init(&w, out, sizeof out);
    assert_int_not_equal(rt_ser(&w, &toy_resp_health_rec, &h, 0), 0);
    assert_int_not_equal(rt_jw_finish(&w), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_categories),
        cmocka_unit_test(test_classify_ties_and_overlaps),
        cmocka_unit_test(test_classify_age),
        cmocka_unit_test(test_classify_domain),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_audit_entry),
        cmocka_unit_test(test_signed_record),
        cmocka_unit_test(test_report_nested_and_null),
        cmocka_unit_test(test_list_and_raw),
        cmocka_unit_test(test_invalid_utf8_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

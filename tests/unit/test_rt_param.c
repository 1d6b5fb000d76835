/*
 * test_rt_param.c — path and query parameters through the generated
 * parameter tables of spec/ and rt_param_parse: every bound the spec states
 * holds, each refusal names the parameter and the right code, and nothing is
 * kept of a refused value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rt_param.h"
#include "toy_spec.h"

/* A request's raw parameters: name=value pairs (value NULL: malformed, as
 * rt_http reports a bad percent-escape), and whether each is in the path. */
typedef struct fake {
    const char *name[4], *value[4];
    int in_path[4];
    int n;
} fake;

static int get(void *ctx, const char *name, int in_path, char *out, size_t cap)
{
    const fake *f = ctx;
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->name[i], name) && f->in_path[i] == in_path) {
            if (!f->value[i] || strlen(f->value[i]) >= cap)
                return -2;
            strcpy(out, f->value[i]);
            return (int)strlen(out);
        }
    return -1;
}

/* Parses into out; returns 0 or -1 with *e set. */
static int parse(const rt_params *t, void *out, fake f, rt_param_err *e)
{
    memset(e, 0, sizeof *e);
    return rt_param_parse(t, out, get, &f, e);
}

static void test_ints(void **state)
{
    (void)state;
    toy_params_log_consistency p;
    rt_param_err e;
    assert_int_equal(parse(&toy_params_log_consistency_tab, &p,
                           (fake){ { "from", "to" }, { "0", "9007199254740991" }, { 0, 0 }, 2 }, &e), 0);
    assert_int_equal(p.from, 0);
    assert_int_equal(p.to, 9007199254740991LL);
    assert_true(p.has_from && p.has_to);
    static const char *bad[] = { "9007199254740992", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "",
                                 "99999999999999999999999", "abc" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&toy_params_log_consistency_tab, &p,
                               (fake){ { "from", "to" }, { bad[i], "5" }, { 0, 0 }, 2 }, &e), -1);
        assert_string_equal(e.code, "bad_parameter");
        assert_string_equal(e.name, "from");
        assert_string_equal(e.message, "from must be a whole number from 0 to 9007199254740991");
    }
    /* Required and absent: the first missing one is named. */
    assert_int_equal(parse(&toy_params_log_consistency_tab, &p, (fake){ { "from" }, { "3" }, { 0 }, 1 }, &e), -1);
    assert_string_equal(e.code, "missing_parameter");
    assert_string_equal(e.message, "to is required");
    /* A path capture is not a query parameter. */
    assert_int_equal(parse(&toy_params_log_consistency_tab, &p,
                           (fake){ { "from", "to" }, { "1", "2" }, { 1, 0 }, 2 }, &e), -1);
    assert_string_equal(e.message, "from is required");
    /* Optional ints: absent is fine and leaves has_ 0. */
    toy_params_reports r;
    assert_int_equal(parse(&toy_params_reports_tab, &r, (fake){ .n = 0 }, &e), 0);
    assert_false(r.has_page || r.has_limit);
    assert_int_equal(parse(&toy_params_reports_tab, &r, (fake){ { "limit" }, { "101" }, { 0 }, 1 }, &e), -1);
    assert_string_equal(e.message, "limit must be a whole number from 1 to 100");
    assert_int_equal(parse(&toy_params_reports_tab, &r, (fake){ { "limit" }, { NULL }, { 0 }, 1 }, &e), -1);
    assert_string_equal(e.code, "bad_parameter");
}

static void test_ids_and_strings(void **state)
{
    (void)state;
    toy_params_receipt_proof p;
    rt_param_err e;
    assert_int_equal(parse(&toy_params_receipt_proof_tab, &p,
                           (fake){ { "receiptId" }, { "r_0123abc" }, { 1 }, 1 }, &e), 0);
    assert_string_equal(p.receiptId, "r_0123abc");
    assert_int_equal(p.receiptId_len, 9);
    char longest[65];
    memset(longest, 'a', 64);
    longest[64] = 0;
    assert_int_equal(parse(&toy_params_receipt_proof_tab, &p, (fake){ { "receiptId" }, { longest }, { 1 }, 1 }, &e), 0);
    assert_int_equal(p.receiptId_len, 64);
    char toolong[66];
    memset(toolong, 'a', 65);
    toolong[65] = 0;
    static const char *bad[] = { "R_UPPER", "r-dash", "r%20x", "r.x", "r x", "é" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0] + 1; i++) {
        const char *v = i < sizeof bad / sizeof bad[0] ? bad[i] : toolong;
        memset(&p, 0x55, sizeof p);
        assert_int_equal(parse(&toy_params_receipt_proof_tab, &p, (fake){ { "receiptId" }, { v }, { 1 }, 1 }, &e), -1);
        assert_string_equal(e.code, "bad_parameter");
        assert_string_equal(e.message, "receiptId is 1 to 64 of [a-z0-9_]");
        /* Nothing of the refused value is kept. */
        assert_int_equal(p.receiptId_len, 0);
        assert_int_equal(p.receiptId[0], 0);
    }
    /* A free string: any bytes, bounded. */
    toy_params_attestation a;
    assert_int_equal(parse(&toy_params_attestation_tab, &a, (fake){ { "nonce" }, { "any thing/é?" }, { 0 }, 1 }, &e), 0);
    assert_string_equal(a.nonce, "any thing/é?");
    assert_true(a.has_nonce);
    memset(toolong, 'n', 65);
    assert_int_equal(parse(&toy_params_attestation_tab, &a, (fake){ { "nonce" }, { toolong }, { 0 }, 1 }, &e), -1);
    assert_string_equal(e.message, "nonce is 1 to 64 bytes");
    assert_int_equal(parse(&toy_params_attestation_tab, &a, (fake){ .n = 0 }, &e), 0);
    assert_false(a.has_nonce);
}

static void test_enums(void **state)
{
    (void)state;
    toy_params_report p;
    rt_param_err e;
    assert_int_equal(parse(&toy_params_report_tab, &p, (fake){ { "format" }, { "md" }, { 0 }, 1 }, &e), 0);
    assert_true(p.has_format);
    assert_string_equal(toy_params_report_tab.params[0].labels[p.format], "md");
    assert_int_equal(parse(&toy_params_report_tab, &p, (fake){ { "format" }, { "json" }, { 0 }, 1 }, &e), 0);
    assert_string_equal(toy_params_report_tab.params[0].labels[p.format], "json");
    static const char *bad[] = { "MD", "md ", "", "xml" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&toy_params_report_tab, &p, (fake){ { "format" }, { bad[i] }, { 0 }, 1 }, &e), -1);
        assert_string_equal(e.message, "format is one of: json, md");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_ids_and_strings),
        cmocka_unit_test(test_enums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

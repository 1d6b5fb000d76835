/*
 * test_rt_table.c — the generated write tables of spec/ (gen/toy_service.c)
 * and their interpreter rt_table: what the spec's `from` lines say flows
 * from a request's sinks into its entry, response and rows does, only for
 * the route named, and rows are encoded in Postgres' binary array format
 * (checked with an independent decoder of that format).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "toy_service.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decodes a one-dimensional binary array (array_send's format): element i's
 * bytes and length (-1: NULL).  Returns the element count, or -1. */
static int elem(const rt_pgarr *a, uint32_t want_oid, int i, const uint8_t **p, int32_t *len)
{
    if (a->n < 12)
        return -1;
    uint32_t ndim = be32(a->b), oid = be32(a->b + 8);
    if (oid != want_oid)
        return -1;
    if (ndim == 0)
        return 0;
    if (ndim != 1 || a->n < 20)
        return -1;
    int count = (int)be32(a->b + 12);
    size_t at = 20;
    for (int k = 0; k <= i && k < count; k++) {
        int32_t l = (int32_t)be32(a->b + at);
        at += 4;
        if (k == i) {
            *p = a->b + at;
            *len = l;
        }
        if (l > 0)
            at += (size_t)l;
    }
    return count;
}

static void test_copies(void **state)
{
    (void)state;
    toy_req_submit_data rq;
    memset(&rq, 0, sizeof rq);
    memset(rq.userId_pseudonym, 0xa1, 32);
    memset(rq.sensitivePayload_commit, 0xb2, 32);
    rq.sensitivePayload_classify.category = TOY_CLASSIFY_CATEGORY_SPORTS;
    rq.sensitivePayload_classify.bracket = TOY_CLASSIFY_BRACKET_L26_35;
    toy_audit_data_received e;
    memset(&e, 0, sizeof e);
    /* Another route's request is never read. */
    rt_copies_apply(&toy_kinds[TOY_K_data_received].copies, &e, TOY_R_signup, &rq);
    static const uint8_t zero[32];
    assert_memory_equal(e.userIdHash, zero, 32);
    rt_copies_apply(&toy_kinds[TOY_K_data_received].copies, &e, TOY_R_submit_data, &rq);
    assert_memory_equal(e.userIdHash, rq.userId_pseudonym, 32);
    assert_memory_equal(e.payloadCommitment, rq.sensitivePayload_commit, 32);
    assert_memory_equal(&e.safeDerivative, &rq.sensitivePayload_classify, sizeof e.safeDerivative);
    /* The spec says the entry's deletionTokenHash and receiptId come from
     * the handler: no copy writes them. */
    assert_memory_equal(e.deletionTokenHash, zero, 32);
    assert_int_equal(e.receiptId.n, 0);
    /* The response too. */
    toy_resp_submit_data r;
    memset(&r, 0, sizeof r);
    rt_copies_apply(&toy_resp_copies[TOY_R_submit_data], &r, TOY_R_submit_data, &rq);
    assert_memory_equal(r.userIdHash, rq.userId_pseudonym, 32);
    assert_memory_equal(r.payloadCommitment, rq.sensitivePayload_commit, 32);
    /* A kind no request feeds has no copies. */
    assert_int_equal(toy_kinds[TOY_K_report_generated].copies.n, 0);
}

static void test_rows(void **state)
{
    (void)state;
    toy_req_submit_data rq;
    memset(&rq, 0, sizeof rq);
    memset(rq.userId_pseudonym, 0xa1, 32);
    memset(rq.sensitivePayload_commit, 0xb2, 32);
    rq.sensitivePayload_classify.category = TOY_CLASSIFY_CATEGORY_SPORTS;
    rq.sensitivePayload_classify.bracket = TOY_CLASSIFY_BRACKET_L26_35;
    toy_audit_data_received e;
    memset(&e, 0, sizeof e);
    e.receiptId = RT_STR("r_abc");
    e.cvmId = RT_STR("cvm-1");
    memset(e.deletionTokenHash, 0xc3, 32);
    toy_row_user_data_receipts row;
    memset(&row, 0, sizeof row);
    rt_table_fill(&toy_table_user_data_receipts, &row, TOY_R_submit_data, &rq, &e);
    assert_int_equal(row.receipt_id.n, 5);
    assert_memory_equal(row.user_id_hash, rq.userId_pseudonym, 32);
    assert_memory_equal(row.deletion_token_hash, e.deletionTokenHash, 32);
    /* Encode two rows, column by column, and read them back. */
    const rt_table *t = &toy_table_user_data_receipts;
    rt_pgarr arr[8];
    memset(arr, 0, sizeof arr);
    assert_true(t->ncols <= 8);
    for (unsigned k = 0; k < t->ncols; k++) {
        rt_pgarr_begin(&arr[k], rt_col_oid(&t->cols[k]));
        rt_col_encode(&t->cols[k], &row, &arr[k]);
        rt_col_encode(&t->cols[k], &row, &arr[k]);
        rt_pgarr_end(&arr[k]);
    }
    for (unsigned k = 0; k < t->ncols; k++) {
        const uint8_t *p;
        int32_t len;
        const rt_col *c = &t->cols[k];
        assert_int_equal(elem(&arr[k], rt_col_oid(c), 1, &p, &len), 2);
        if (!strcmp(c->name, "receipt_id")) {
            assert_int_equal(len, 5);
            assert_memory_equal(p, "r_abc", 5);
        } else if (!strcmp(c->name, "safe_derivative")) {
            assert_int_equal(len, (int32_t)strlen("category:sports,bracket:26-35"));
            assert_memory_equal(p, "category:sports,bracket:26-35", (size_t)len);
        } else if (!strcmp(c->name, "payload_commitment")) {
            assert_int_equal(len, 32);
            assert_memory_equal(p, rq.sensitivePayload_commit, 32);
        } else if (!strcmp(c->name, "source_cvm")) {
            assert_memory_equal(p, "cvm-1", 5);
        }
        rt_pgarr_free(&arr[k]);
    }
    /* Integers go big-endian; an unset string is SQL NULL; an empty array
     * is the zero-dimensional form. */
    toy_row_reports rr;
    memset(&rr, 0, sizeof rr);
    rr.tree_size = 0x0102030405060708ull;
    rt_pgarr a = { 0 };
    for (unsigned k = 0; k < toy_table_reports.ncols; k++) {
        const rt_col *c = &toy_table_reports.cols[k];
        const uint8_t *p = NULL;
        int32_t len = 0;
        rt_pgarr_begin(&a, rt_col_oid(c));
        rt_col_encode(c, &rr, &a);
        rt_pgarr_end(&a);
        assert_int_equal(elem(&a, rt_col_oid(c), 0, &p, &len), 1);
        if (!strcmp(c->name, "tree_size")) {
            static const uint8_t be[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
            assert_int_equal(len, 8);
            assert_memory_equal(p, be, 8);
        } else if (!strcmp(c->name, "report_id")) {
            assert_int_equal(len, -1);
        }
    }
    rt_pgarr_begin(&a, RT_PG_OID_TEXT);
    rt_pgarr_end(&a);
    const uint8_t *p;
    int32_t len;
    assert_int_equal(a.n, 12);
    assert_int_equal(elem(&a, RT_PG_OID_TEXT, 0, &p, &len), 0);
    rt_pgarr_free(&a);
}

/* The batch statement's parameters line up with the tables' columns. */
static void test_batch_params(void **state)
{
    (void)state;
    int p = TOY_BATCH_P_TABLES;
    for (int t = 0; t < TOY_BATCH_NTABLES; t++) {
        assert_int_equal(toy_batch_tables[t]->first_param, p);
        for (unsigned k = 0; k < toy_batch_tables[t]->ncols; k++) {
            char needle[64];
            snprintf(needle, sizeof needle, "$%d::", p + (int)k);
            assert_non_null(strstr(toy_batch_sql, needle));
        }
        p += toy_batch_tables[t]->ncols;
    }
    assert_int_equal(p, TOY_BATCH_P_COUNTERS);
    assert_int_equal(TOY_BATCH_NPARAMS, TOY_BATCH_P_COUNTERS + 1);
    char last[32];
    snprintf(last, sizeof last, "$%d::", TOY_BATCH_NPARAMS);
    assert_non_null(strstr(toy_batch_sql, last));
    snprintf(last, sizeof last, "$%d", TOY_BATCH_NPARAMS + 1);
    assert_null(strstr(toy_batch_sql, last));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_batch_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

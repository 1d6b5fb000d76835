/*
 * h_log.c — the audit log's endpoints (spec/endpoints/log.spec): the latest
 * signed tree head, a receipt's inclusion proof and a consistency proof
 * between two signed heads, all read with O(log n) lookups.  On the reader
 * thread, from the primary or, when it is down, the replica.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handler.h"
#include "logdb.h"
#include "rt_be.h"

static void log_head_(job *j, worker *w)
{
    PGconn *c = worker_read(j, w);
    if (!c)
        return;
    log_head h;
    int found = 0;
    if (log_load_head(c, 0, &h, &found)) {
        worker_unavailable(j, w, "could not read the log");
        return;
    }
    if (!found) {
        job_error(j, 404, "empty_log", "nothing has been sequenced into the log yet");
        j->retry_after = 1;
        return;
    }
    job_answer(j, 200, &toy_rec_tree_head_rec, &h.th);
}
const toy_handler h_log_head = { .serve = log_head_ };

static void receipt_proof(job *j, worker *w)
{
    const toy_params_receipt_proof *p = JOB_PARAMS(j, receipt_proof);
    PGconn *c = worker_read(j, w);
    if (!c)
        return;
    sql_args a = { 0 };
    sql_str(&a, p->receiptId, p->receiptId_len);
    /* The entry, and the segment that holds it: its batch's, or its own
     * (log_segments in spec/tables/tables.spec); none yet while queued. */
    PGresult *r = sql_query(c, "log", "SELECT a.id, a.leaf_hash, s.first_leaf, s.audit_ids FROM audit_log a"
                                      " LEFT JOIN log_segments s ON s.batch_id IN (a.batch_id, -a.id)"
                                      " WHERE a.receipt_id = $1 AND a.action = 'data_received'",
                            &a, SQL_BINARY);
    if (!r) {
        worker_unavailable(j, w, "could not read the log");
        return;
    }
    if (PQntuples(r) < 1 || PQgetlength(r, 0, 0) != 8 || PQgetlength(r, 0, 1) != 32) {
        PQclear(r);
        job_error(j, 404, "unknown_receipt", "no receipt with that id");
        return;
    }
    const char *id = PQgetvalue(r, 0, 0);
    int pending = 1;
    uint64_t index = 0;
    for (int row = 0; pending && row < PQntuples(r); row++) {
        const char *ids = PQgetvalue(r, row, 3);
        int n = PQgetlength(r, row, 3) / 8;
        for (int k = 0; pending && !PQgetisnull(r, row, 2) && k < n; k++)
            if (!memcmp(ids + 8 * k, id, 8)) {
                pending = 0;
                index = rt_be_get(PQgetvalue(r, row, 2), 8) + (uint64_t)k;
            }
    }
    uint8_t leaf[32];
    memcpy(leaf, PQgetvalue(r, 0, 1), 32);
    PQclear(r);
    log_head h;
    int found = 0;
    if (log_load_head(c, 0, &h, &found)) {
        worker_unavailable(j, w, "could not read the log");
        return;
    }
    if (pending || !found || index >= h.th.treeSize) {
        job_error(j, 404, "not_in_log_yet", "the receipt is committed but not yet sequenced; retry shortly");
        j->retry_after = 1;
        return;
    }
    uint8_t path[RT_MERKLE_MAX_PROOF][32];
    rt_merkle_source src = log_source(c);
    int np = rt_merkle_inclusion_proof(&src, index, h.th.treeSize, path, RT_MERKLE_MAX_PROOF);
    if (np < 0) {
        worker_unavailable(j, w, "could not read the tree");
        return;
    }
    toy_resp_receipt_proof out = {
        .receiptId = { p->receiptId, p->receiptId_len }, .leafIndex = index,
        .treeSize = h.th.treeSize, .path = { path, (size_t)np }, .treeHead = h.th,
    };
    memcpy(out.leafHash, leaf, 32);
    job_answer(j, 200, &toy_resp_receipt_proof_rec, &out);
}
const toy_handler h_receipt_proof = { .serve = receipt_proof };

static void log_consistency(job *j, worker *w)
{
    const toy_params_log_consistency *p = JOB_PARAMS(j, log_consistency);
    uint64_t from = (uint64_t)p->from, to = (uint64_t)p->to;
    if (from > to) {
        job_error(j, 400, "bad_range", "need from <= to");
        return;
    }
    PGconn *c = worker_read(j, w);
    if (!c)
        return;
    log_head h;
    int found = 0;
    if (log_load_head(c, to, &h, &found)) {
        worker_unavailable(j, w, "could not read the log");
        return;
    }
    if (!found) {
        job_error(j, 404, "unknown_tree_size", "no signed tree head has that size");
        return;
    }
    uint8_t path[RT_MERKLE_MAX_PROOF][32];
    rt_merkle_source src = log_source(c);
    int np = rt_merkle_consistency_proof(&src, from, to, path, RT_MERKLE_MAX_PROOF);
    if (np < 0) {
        worker_unavailable(j, w, "could not read the tree");
        return;
    }
    toy_resp_log_consistency out = { .from = from, .to = to, .path = { path, (size_t)np }, .treeHead = h.th };
    job_answer(j, 200, &toy_resp_log_consistency_rec, &out);
}
const toy_handler h_log_consistency = { .serve = log_consistency };

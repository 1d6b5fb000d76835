/*
 * h_chain.c — a deletion's side on the chain (spec/endpoints/delete_data.spec):
 * the deletion_posted job the poster gives the writer for each attestation
 * the chain recorded, and GET /receipts/:receiptId/deletion.
 *
 * deletion_posted: in the batch's transaction, the lookup marks the outbox
 * row as logged — posted_audit_id set to an id reserved for the entry, only
 * where it is still null and the row says what the job says — and the
 * entry is written with that id in the same transaction.  A row already
 * logged (the poster handed it over twice: after a crash, or two instances)
 * touches nothing, and the job writes nothing: one deletion_posted entry per
 * deletion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handler.h"
#include "rt_chain.h"
#include "rt_hex.h"

static int posted_lookup(job *j, PGconn *c)
{
    const toy_params_deletion_posted *p = JOB_PARAMS(j, deletion_posted);
    char key[48];
    snprintf(key, sizeof key, "posted:%lld", (long long)p->outboxId);
    if (w_claim(key))
        return W_RETRY;   /* handed over twice into one batch: the next one sees the first */
    sql_args a = { 0 };
    sql_int(&a, p->outboxId);
    sql_str(&a, p->receiptId, p->receiptId_len);
    sql_str(&a, p->txHash, p->txHash_len);
    sql_int(&a, p->blockNumber);
    PGresult *r = sql_query(c, "deletion_posted",
                            "UPDATE deletion_outbox SET posted_audit_id = nextval('audit_log_id_seq')"
                            " WHERE id = $1 AND receipt_id = $2 AND tx_hash = $3 AND block_number = $4"
                            " AND posted_audit_id IS NULL RETURNING posted_audit_id", &a, SQL_TEXT);
    if (!r)
        return W_FAILED;
    int64_t id = PQntuples(r) == 1 ? sql_int_at(r, 0, 0) : 0;
    PQclear(r);
    if (!id) {
        job_error(j, 409, "already_logged", "this record is in the log already");
        return W_ANSWERED;
    }
    int64_t *state = malloc(sizeof *state);
    if (!state)
        return W_FAILED;
    *state = id;
    j->state = state;
    j->state_free = free;
    return W_WRITE;
}

static int posted_prepare(job *j, wentry *e, PGconn *c)
{
    (void)c;
    const toy_params_deletion_posted *p = JOB_PARAMS(j, deletion_posted);
    toy_audit_deletion_posted *ent = w_entry(e, TOY_K_deletion_posted);
    ent->receiptId = (rt_str){ p->receiptId, p->receiptId_len };
    ent->txHash = (rt_str){ p->txHash, p->txHash_len };
    ent->blockNumber = (uint64_t)p->blockNumber;
    e->id = *(const int64_t *)j->state;
    return 0;
}

static void posted_respond(job *j, const wentry *e, const wbatch *b)
{
    (void)e;
    (void)b;
    j->status = 200;   /* nobody waits for it: the job's finish reads this */
}
const toy_handler h_deletion_posted = { .lookup = posted_lookup, .prepare = posted_prepare,
                                        .respond = posted_respond };

/* ---- GET /receipts/:receiptId/deletion ----------------------------------------- */

static void deletion_status(job *j, worker *w)
{
    const toy_params_deletion_status *p = JOB_PARAMS(j, deletion_status);
    PGconn *c = worker_read(j, w);
    if (!c)
        return;
    sql_args a = { 0 };
    sql_str(&a, p->receiptId, p->receiptId_len);
    PGresult *r = sql_query(c, "deletion", "SELECT r.deleted_at IS NOT NULL, o.receipt_id IS NOT NULL,"
                                           " convert_from(o.attestation, 'UTF8'), o.tx_hash, o.block_number,"
                                           " o.rejected, o.last_error"
                                           " FROM user_data_receipts r LEFT JOIN deletion_outbox o"
                                           " ON o.receipt_id = r.receipt_id WHERE r.receipt_id = $1",
                            &a, SQL_TEXT);
    if (!r) {
        worker_unavailable(j, w, "could not read the deletion");
        return;
    }
    if (PQntuples(r) != 1) {
        job_error(j, 404, "unknown_receipt", "no receipt with that id");
    } else if (strcmp(PQgetvalue(r, 0, 0), "t") || strcmp(PQgetvalue(r, 0, 1), "t")) {
        job_error(j, 404, "not_deleted", "this receipt's data has not been deleted");
    } else {
        rt_chain_attestation ca;
        char err[300], ts[32], compose[65];
        const char *json = PQgetvalue(r, 0, 2);
        if (rt_chain_attestation_parse(&toy_rec_deletion_attestation_rec, json, strlen(json), p->receiptId,
                                       &ca, err, sizeof err)) {
            fprintf(stderr, "toyapp: deletion: the stored attestation of %s does not parse: %s\n",
                    p->receiptId, err);
            job_error(j, 500, "internal_error", "the stored attestation does not parse");
            PQclear(r);
            return;
        }
        int posted = !PQgetisnull(r, 0, 4), rejected = !strcmp(PQgetvalue(r, 0, 5), "t");
        toy_resp_deletion_status out = {
            .receiptId = { p->receiptId, p->receiptId_len },
            .attestation = {
                .receiptId = { p->receiptId, p->receiptId_len },
                .deletionTimestamp = { ts, rt_chain_time_format(ca.deleted_at, ts) },
                .composeHash = { compose, 64 },
                .publicKey = { ca.public_key, 32 }, .signature = { ca.signature, 64 },
            },
            .status = rt_cstr(posted ? "posted" : rejected ? "rejected" : "pending"),
            .txHash = rt_cstr(PQgetvalue(r, 0, 3)), .txHash_null = !posted,
            .blockNumber = posted ? strtoull(PQgetvalue(r, 0, 4), NULL, 10) : 0, .blockNumber_null = !posted,
            .reason = rt_cstr(PQgetvalue(r, 0, 6)), .reason_null = posted || PQgetisnull(r, 0, 6),
        };
        rt_hex_encode(ca.compose_hash, 32, compose);
        memcpy(out.attestation.userIdHash, ca.user_id_hash, 32);
        job_answer(j, 200, &toy_resp_deletion_status_rec, &out);
    }
    PQclear(r);
}
const toy_handler h_deletion_status = { .serve = deletion_status };

/*
 * h_delete.c — POST /delete-data/:receiptId (spec/endpoints/delete_data.spec).
 *
 * The receipt's deletion token is the capability: the parser hands its 32
 * decoded bytes to the `digest` sink only (SHA-256), and the handler
 * compares that with the stored hash in constant time.  In the batch's one
 * transaction: the receipt's row is locked, its purged columns (spec/tables:
 * `purged`) are set to NULL in user_data_receipts and in its data_received
 * audit entry (the entry's leaf hash stays: the log is redactable, not
 * rewritable, so every proof still holds), a data_deleted entry is appended
 * to the same log, and a signed deletion attestation is queued in
 * deletion_outbox for the chain.  A second deletion of the same receipt
 * answers 410 with the first one's attestation and writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "handler.h"
#include "rt_json.h"

typedef struct deletion {
    uint8_t user_id_hash[32];
    uint8_t sig[64];
    toy_rec_deletion_attestation att;
    char *att_json;              /* its canonical JSON, signed */
    size_t att_len;
} deletion;

static void deletion_free(void *p)
{
    deletion *d = p;
    if (d)
        free(d->att_json);
    free(d);
}

/* 410 with the attestation the first deletion made. */
static void already_deleted(job *j, const char *att, size_t n)
{
    char *buf = malloc(n + 256);
    if (!buf) {
        job_error(j, 500, "internal_error", "out of memory");
        return;
    }
    rt_jw w;
    rt_jw_init(&w, buf, n + 256);
    rt_jw_obj_begin(&w);
    rt_jw_key(&w, "attestation", 11);
    rt_jw_raw(&w, att, n);
    rt_jw_key(&w, "error", 5);
    rt_jw_str(&w, "already_deleted", 15);
    static const char msg[] = "this receipt's data was deleted already; the attestation is the first deletion's";
    rt_jw_key(&w, "message", 7);
    rt_jw_str(&w, msg, sizeof msg - 1);
    rt_jw_obj_end(&w);
    if (rt_jw_finish(&w)) {
        free(buf);
        job_error(j, 500, "internal_error", "could not build the answer");
        return;
    }
    free(j->body);
    j->body = buf;
    j->body_len = w.len;
    j->status = 410;
}

static int delete_lookup(job *j, PGconn *c)
{
    const toy_params_delete_data *p = JOB_PARAMS(j, delete_data);
    const toy_req_delete_data *rq = JOB_REQ(j, delete_data);
    char key[96];
    snprintf(key, sizeof key, "delete:%s", p->receiptId);
    if (w_claim(key))
        return W_RETRY;   /* the same receipt earlier in this batch: see its outcome next */
    sql_args a = { 0 };
    sql_str(&a, p->receiptId, p->receiptId_len);
    PGresult *r = sql_query(c, "delete", "SELECT deletion_token_hash, user_id_hash, deleted_at IS NOT NULL"
                                         " FROM user_data_receipts WHERE receipt_id = $1 FOR UPDATE",
                            &a, SQL_BINARY);
    if (!r)
        return W_FAILED;
    if (PQntuples(r) != 1) {
        PQclear(r);
        job_error(j, 404, "unknown_receipt", "no receipt with that id");
        return W_ANSWERED;
    }
    int match = PQgetlength(r, 0, 0) == 32
                && CRYPTO_memcmp(PQgetvalue(r, 0, 0), rq->deletionToken_digest, 32) == 0;
    int deleted = PQgetvalue(r, 0, 2)[0] != 0;
    deletion *d = calloc(1, sizeof *d);
    if (d && PQgetlength(r, 0, 1) == 32)
        memcpy(d->user_id_hash, PQgetvalue(r, 0, 1), 32);
    PQclear(r);
    if (!d)
        return W_FAILED;
    j->state = d;
    j->state_free = deletion_free;
    if (!match) {
        job_error(j, 403, "wrong_token", "the deletion token does not match this receipt");
        return W_ANSWERED;
    }
    if (deleted) {
        r = sql_query(c, "delete", "SELECT attestation FROM deletion_outbox WHERE receipt_id = $1", &a, SQL_BINARY);
        if (!r)
            return W_FAILED;
        if (PQntuples(r) == 1)
            already_deleted(j, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
        else
            job_error(j, 410, "already_deleted", "this receipt's data was deleted already");
        PQclear(r);
        return W_ANSWERED;
    }
    return W_WRITE;
}

static int delete_prepare(job *j, wentry *e, PGconn *c)
{
    const toy_params_delete_data *p = JOB_PARAMS(j, delete_data);
    deletion *d = j->state;
    sql_args a = { 0 };
    sql_str(&a, p->receiptId, p->receiptId_len);
    /* What goes: the columns spec/tables marks purged, in one statement
     * (one round trip per deletion less in the batch's transaction). */
    if (sql_exec(c, "delete", "WITH r AS (UPDATE user_data_receipts SET " TOY_PURGE_SET_user_data_receipts
                              ", deleted_at = now() WHERE receipt_id = $1)"
                              " UPDATE audit_log SET " TOY_PURGE_SET_audit_log
                              " WHERE receipt_id = $1 AND action = 'data_received'", &a))
        return -1;
    rt_str rid = { p->receiptId, p->receiptId_len };
    toy_audit_data_deleted *ent = w_entry(e, TOY_K_data_deleted);
    ent->receiptId = rid;
    memcpy(ent->userIdHash, d->user_id_hash, 32);
    d->att = (toy_rec_deletion_attestation){
        .receiptId = rid, .deletionTimestamp = w_now(),
        .composeHash = { g_app.meta.compose_hash, strlen(g_app.meta.compose_hash) },
        .publicKey = { g_app.meta.pub, 32 },
    };
    memcpy(d->att.userIdHash, d->user_id_hash, 32);
    if (sign_record(&toy_rec_deletion_attestation_rec, &d->att, d->sig))
        return -1;
    d->att.signature = (rt_bytes){ d->sig, 64 };
    d->att_json = ser_alloc(&toy_rec_deletion_attestation_rec, &d->att, 0, &d->att_len);
    if (!d->att_json)
        return -1;
    toy_row_deletion_outbox *row = w_row(e, &toy_table_deletion_outbox);
    row->attestation = (rt_bytes){ (const uint8_t *)d->att_json, d->att_len };
    return 0;
}

static void delete_respond(job *j, const wentry *e, const wbatch *b)
{
    const toy_params_delete_data *p = JOB_PARAMS(j, delete_data);
    const deletion *d = j->state;
    toy_resp_delete_data r = {
        .receiptId = { p->receiptId, p->receiptId_len }, .deleted = 1,
        .auditEntry = { e->json, e->len }, .batchHead = *b->head, .batchIndex = e->index,
        .inclusionPath = { e->path, e->npath }, .attestation = d->att,
    };
    memcpy(r.userIdHash, d->user_id_hash, 32);
    job_answer(j, 200, &toy_resp_delete_data_rec, &r);
}
const toy_handler h_delete_data = { .lookup = delete_lookup, .prepare = delete_prepare, .respond = delete_respond };

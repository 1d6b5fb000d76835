/*
 * h_submit.c — POST /submit-data (spec/endpoints/submit_data.spec).
 *
 * The parser has already turned the body into what may be kept: the user
 * id's pseudonym, the payload's salted commitment and its derivative (the
 * raw values went into the sinks and are gone).  The handler adds what is
 * new: a random receipt id and a deletion token, of which only the SHA-256
 * is stored (in the signed entry, so the log commits to the capability).
 * The writer fills the rest of the entry and the user_data_receipts row
 * from the spec's `from` lines.  The answer is the receipt: verifiable at
 * once, with its entry, the signed batch head and the inclusion path.
 */
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "app.h"
#include "handler.h"
#include "rt_hex.h"
#include "rt_rand.h"
#include "rt_sink.h"

/* What the handler made, kept from prepare to respond. */
typedef struct receipt {
    char id[40];                 /* "r_" + 32 hex digits: time, then random */
    uint8_t token[32];           /* shown once, to the user */
    uint8_t token_hash[32];
} receipt;

static void receipt_free(void *p)
{
    if (p)
        rt_wipe(p, sizeof(receipt));
    free(p);
}

static int submit_prepare(job *j, wentry *e, PGconn *c)
{
    (void)c;
    receipt *rc = calloc(1, sizeof *rc);
    /* A receipt id starts with its time (milliseconds, 48 bits), then 80
     * random bits: ids grow with time, so a new one goes into the right
     * edge of the indexes keyed by it (Postgres's fast path), instead of a
     * random page of each. */
    uint8_t rid[16];
    uint64_t ms = now_ms_wall();
    for (int i = 0; i < 6; i++)
        rid[i] = (uint8_t)(ms >> (40 - 8 * i));
    if (!rc || rt_rand(rid + 6, sizeof rid - 6) || rt_rand(rc->token, sizeof rc->token)) {
        free(rc);
        return -1;
    }
    j->state = rc;
    j->state_free = receipt_free;
    memcpy(rc->id, "r_", 2);
    rt_hex_encode(rid, sizeof rid, rc->id + 2);
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, sizeof rc->token, rc->token);
    sha256_digest(&h, 32, rc->token_hash);
    toy_audit_data_received *a = w_entry(e, TOY_K_data_received);
    a->receiptId = (rt_str){ rc->id, strlen(rc->id) };
    memcpy(a->deletionTokenHash, rc->token_hash, 32);
    return 0;
}

static void submit_respond(job *j, const wentry *e, const wbatch *b)
{
    const receipt *rc = j->state;
    toy_resp_submit_data r = {
        .receiptId = { rc->id, strlen(rc->id) },
        .salt = { j->salt, 32 }, .deletionToken = { rc->token, 32 },
        .auditEntry = { e->json, e->len }, .batchHead = *b->head, .batchIndex = e->index,
        .inclusionPath = { e->path, e->npath },
    };
    rt_copies_apply(&toy_resp_copies[j->route], &r, j->route, j->req);
    job_answer(j, 200, &toy_resp_submit_data_rec, &r);
}
const toy_handler h_submit_data = { .prepare = submit_prepare, .respond = submit_respond };

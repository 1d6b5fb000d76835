/*
 * attest.c — GET /attestation on the metadata port: a quote whose
 * report_data binds this instance's signing key and the caller's nonce:
 *   report_data[0:32]  = SHA-256(Ed25519 public key, 32 raw bytes)
 *   report_data[32:64] = SHA-256(nonce as sent), or zeros without a nonce
 * so a report signed by that key checks back to attested code
 * (`toyctl verify-report --attestation`).  Runs on the io thread: with the
 * dstack provider, a quote is a call to the guest agent.
 */
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "app.h"
#include "rt_tee.h"

void attest(job *j)
{
    uint8_t rd[64];
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, 32, g_app.k.sign_pub);
    sha256_digest(&h, 32, rd);
    memset(rd + 32, 0, 32);
    const char *nonce = j->receipt_id;
    if (*nonce) {
        sha256_init(&h);
        sha256_update(&h, strlen(nonce), (const uint8_t *)nonce);
        sha256_digest(&h, 32, rd + 32);
    }
    uint8_t *quote = NULL;
    size_t qlen = 0;
    char *log = NULL;
    if (rt_tee_quote(g_app.tee, rd, &quote, &qlen, &log)) {
        job_error(j, 502, "quote_unavailable", rt_tee_error(g_app.tee));
        return;
    }
    toy_resp_attestation r = {
        .quote = { quote, qlen }, .eventLog = { log ? log : "", log ? strlen(log) : 0 },
        .reportData = { rd, 64 }, .nonce = { nonce, strlen(nonce) },
        .teeProvider = { g_app.k.provider, strlen(g_app.k.provider) },
        .publicKey = { g_app.k.sign_pub, 32 },
    };
    j->body = ser_alloc(&toy_resp_attestation_rec, &r, 0, &j->body_len);
    j->status = j->body ? 200 : 500;
    free(quote);
    free(log);
}

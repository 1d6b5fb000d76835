/*
 * h_meta.c — the metadata port: GET /info, /compose-hash and /attestation
 * (spec/endpoints/attestation.spec).
 *
 * /attestation is a quote whose report_data binds this instance's keys and
 * the caller's nonce (rt_tee_report_data; docs/auditing.md):
 *   report_data[0:32]  = SHA-256(Ed25519 public key ‖ chain address), or,
 *                        with CHAIN=off (no chain key), SHA-256(Ed25519 public key)
 *   report_data[32:64] = SHA-256(the nonce's bytes as sent), or zeros
 * so that anything signed by those keys checks back to attested code.  It
 * runs on the io thread: with the dstack provider a quote is a call to the
 * guest agent.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handler.h"
#include "rt_tee.h"

static void info(job *j, worker *w)
{
    (void)w;
    toy_resp_info r = {
        .appId = rt_cstr(g_app.cfg.app_id), .instanceId = rt_cstr(g_app.k.instance_id),
        .cvmId = rt_cstr(g_app.cfg.cvm_id), .role = rt_cstr(g_app.cfg.role),
        .composeHash = rt_cstr(g_app.k.compose_hash), .teeProvider = rt_cstr(g_app.k.provider),
        .publicKey = { g_app.k.sign_pub, 32 }, .chain_null = !g_app.chain.cfg.on,
    };
    const chain *ch = &g_app.chain;
    if (ch->cfg.on)
        r.chain = (toy_resp_info_chain){
            .rpcUrl = rt_cstr(ch->rpc_origin), .chainId = atomic_load(&g_app.chain.chain_id),
            .deletionRegistry = rt_cstr(ch->deletion_registry), .appRegistry = rt_cstr(ch->app_registry),
            .enclaveAddress = rt_cstr(ch->enclave),
        };
    job_answer(j, 200, &toy_resp_info_rec, &r);
}
const toy_handler h_info = { .serve = info };

static void compose_hash(job *j, worker *w)
{
    (void)w;
    toy_resp_compose_hash r = { .composeHash = rt_cstr(g_app.k.compose_hash) };
    job_answer(j, 200, &toy_resp_compose_hash_rec, &r);
}
const toy_handler h_compose_hash = { .serve = compose_hash };

static void attestation(job *j, worker *w)
{
    (void)w;
    const toy_params_attestation *p = JOB_PARAMS(j, attestation);
    uint8_t rd[64];
    rt_tee_report_data(g_app.k.sign_pub, g_app.k.has_chain ? g_app.k.chain_addr : NULL,
                       p->has_nonce ? p->nonce : NULL, p->has_nonce ? p->nonce_len : 0, rd);
    uint8_t *quote = NULL;
    size_t qlen = 0;
    char *log = NULL;
    if (rt_tee_quote(g_app.tee, rd, &quote, &qlen, &log)) {
        job_error(j, 502, "quote_unavailable", rt_tee_error(g_app.tee));
        return;
    }
    toy_resp_attestation r = {
        .quote = { quote, qlen }, .eventLog = { log ? log : "", log ? strlen(log) : 0 },
        .reportData = { rd, 64 }, .nonce = { p->nonce, p->nonce_len },
        .teeProvider = rt_cstr(g_app.k.provider), .publicKey = { g_app.k.sign_pub, 32 },
        .enclaveAddress = rt_cstr(g_app.chain.enclave), .enclaveAddress_null = !g_app.k.has_chain,
    };
    job_answer(j, 200, &toy_resp_attestation_rec, &r);
    free(quote);
    free(log);
}
const toy_handler h_attestation = { .serve = attestation };

/*
 * h_meta.c — the metadata port: GET /info, /compose-hash and /attestation
 * (spec/endpoints/attestation.spec), answered by the metadata code toyapp
 * shares with toy-attestd (src/meta/meta.h), with toyapp's signing key and,
 * with the chain on, its chain address: /info adds where the instance posts
 * its deletion attestations, and /attestation's report_data binds the
 * address next to the key (rt_tee_report_data; docs/auditing.md).
 * /attestation runs on the io thread: with the dstack provider a quote is
 * a call to the guest agent.
 */
#include "app.h"
#include "handler.h"
#include "rt_tee.h"

static void info(job *j, worker *w)
{
    (void)w;
    toy_resp_info r;
    meta_info(&g_app.meta, &r);
    const chain *ch = &g_app.chain;
    if (ch->cfg.on) {
        r.chain = (toy_resp_info_chain){
            .rpcUrl = rt_cstr(ch->rpc_origin), .chainId = atomic_load(&g_app.chain.chain_id),
            .deletionRegistry = rt_cstr(ch->deletion_registry), .appRegistry = rt_cstr(ch->app_registry),
            .enclaveAddress = rt_cstr(g_app.meta.enclave),
        };
        r.chain_null = 0;
    }
    job_answer(j, 200, &toy_resp_info_rec, &r);
}
const toy_handler h_info = { .serve = info };

static void compose_hash(job *j, worker *w)
{
    (void)w;
    toy_resp_compose_hash r;
    meta_compose_hash(&g_app.meta, &r);
    job_answer(j, 200, &toy_resp_compose_hash_rec, &r);
}
const toy_handler h_compose_hash = { .serve = compose_hash };

static void attestation(job *j, worker *w)
{
    (void)w;
    const toy_params_attestation *p = JOB_PARAMS(j, attestation);
    meta_attestation a;
    if (meta_attest(&g_app.meta, p->has_nonce ? p->nonce : NULL, p->nonce_len, &a))
        job_error(j, 502, "quote_unavailable", rt_tee_error(g_app.meta.tee));
    else
        job_answer(j, 200, &toy_resp_attestation_rec, &a.r);
    meta_attestation_free(&a);
}
const toy_handler h_attestation = { .serve = attestation };

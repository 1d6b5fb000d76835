/* meta.c — the attestation metadata answers, for toyapp and toy-attestd (meta.h). */
#include "meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_tee.h"

const char *meta_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int meta_env_int(const char *name, int dflt, int lo, int hi, const char **bad)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        if (!*bad)
            *bad = name;
        return dflt;
    }
    return (int)n;
}

int meta_config_env(meta_config *c, const char *role_default, char *err, size_t errlen)
{
    static char host[256];
    if (gethostname(host, sizeof host))
        snprintf(host, sizeof host, "cvm");
    const char *bad = NULL;
    c->host = meta_env("HOST", "127.0.0.1");
    c->port = meta_env_int("METADATA_PORT", 8090, 1, 65535, &bad);
    c->provider = meta_env("TEE_PROVIDER", "sim");
    c->provider_arg = !strcmp(c->provider, "dstack") ? meta_env("DSTACK_SOCKET", RT_TEE_DSTACK_SOCKET)
                                                     : meta_env("TEE_SIM_SEED", RT_TEE_SIM_SEED_DEFAULT);
    c->app_id = meta_env("APP_ID", "toyapp");
    c->cvm_id = meta_env("CVM_ID", host);
    c->role = meta_env("TOYAPP_ROLE", role_default);
    if (bad) {
        snprintf(err, errlen, "%s=%s is not one of its values (README.md lists them)", bad, getenv(bad));
        return -1;
    }
    return 0;
}

int meta_open(meta *m, const meta_config *c, const char *key_path, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->cfg = c;
    const char *terr = NULL;
    rt_tee_info_t info;
    m->tee = rt_tee_open(c->provider, c->provider_arg, c->app_id, &terr);
    if (!m->tee || rt_tee_ed25519(m->tee, key_path, m->seed, m->pub) || rt_tee_info(m->tee, &info)) {
        snprintf(err, errlen, "TEE provider %s: %s", c->provider, m->tee ? rt_tee_error(m->tee) : terr);
        meta_close(m);
        return -1;
    }
    snprintf(m->provider, sizeof m->provider, "%s", info.kind);
    snprintf(m->instance_id, sizeof m->instance_id, "%s", info.instance_id);
    snprintf(m->compose_hash, sizeof m->compose_hash, "%s", info.compose_hash);
    return 0;
}

void meta_bind_chain(meta *m, const uint8_t addr[RT_ETH_ADDR_LEN])
{
    memcpy(m->chain_addr, addr, RT_ETH_ADDR_LEN);
    rt_eth_address_str(addr, m->enclave);
    m->has_chain = 1;
}

void meta_close(meta *m)
{
    rt_tee_close(m->tee);
    rt_wipe(m, sizeof *m);
}

void meta_info(const meta *m, toy_resp_info *r)
{
    *r = (toy_resp_info){
        .appId = rt_cstr(m->cfg->app_id), .instanceId = rt_cstr(m->instance_id),
        .cvmId = rt_cstr(m->cfg->cvm_id), .role = rt_cstr(m->cfg->role),
        .composeHash = rt_cstr(m->compose_hash), .teeProvider = rt_cstr(m->provider),
        .publicKey = { m->pub, 32 }, .chain_null = 1,
    };
}

void meta_compose_hash(const meta *m, toy_resp_compose_hash *r)
{
    *r = (toy_resp_compose_hash){ .composeHash = rt_cstr(m->compose_hash) };
}

int meta_attest(const meta *m, const char *nonce, size_t nonce_len, meta_attestation *a)
{
    memset(a, 0, sizeof *a);
    rt_tee_report_data(m->pub, m->has_chain ? m->chain_addr : NULL, nonce, nonce ? nonce_len : 0,
                       a->report_data);
    size_t qlen = 0;
    if (rt_tee_quote(m->tee, a->report_data, &a->quote, &qlen, &a->event_log))
        return -1;
    a->r = (toy_resp_attestation){
        .quote = { a->quote, qlen },
        .eventLog = rt_cstr(a->event_log ? a->event_log : ""),
        .reportData = { a->report_data, 64 }, .nonce = { nonce ? nonce : "", nonce ? nonce_len : 0 },
        .teeProvider = rt_cstr(m->provider), .publicKey = { m->pub, 32 },
        .enclaveAddress = rt_cstr(m->enclave), .enclaveAddress_null = !m->has_chain,
    };
    return 0;
}

void meta_attestation_free(meta_attestation *a)
{
    free(a->quote);
    free(a->event_log);
    memset(a, 0, sizeof *a);
}

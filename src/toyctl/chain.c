/*
 * chain.c — toyctl's verbs that read the chain (through rt_rpc, the one
 * chain client): the on-chain form of verify-deletion and history, and the
 * argument handling that operator.c shares.
 *
 *   toyctl verify-deletion RECEIPT_ID --rpc URL --registry ADDR
 *          [--pubkey HEX | --attestation FILE [--allow-sim] [--nonce TEXT]]
 *          [--from-block N] [--ca-file PEM]
 *   toyctl history --rpc URL --registry ADDR [--from-block N] [--ca-file PEM]
 *
 * verify-deletion trusts nothing the service says: it checks that the
 * registry runs exactly the DeletionRegistry compiled from this
 * repository, finds the receipt's record (recordedIn, then the event with
 * eth_getLogs), rebuilds the attestation's canonical JSON from the event's
 * fields and checks its Ed25519 signature, rebuilds the transaction from
 * its fields to check its hash and recover its sender, and checks that the
 * sender was the enclave registered at the time.  The node is trusted to
 * serve the chain's data; pointing toyctl at a node of one's own choice (or
 * several) is how an auditor removes that trust.
 */
#include "toyctl.h"
#include "tc_chain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_chain.h"
#include "rt_contracts.h"
#include "rt_keccak.h"
#include "rt_rpc.h"
#include "rt_tee.h"
#include "toy_spec.h"

/* ---- arguments ------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
    int has_value;
} chain_options[] = {
    { "--rpc", TC_O_RPC, 1 },           { "--registry", TC_O_REGISTRY, 1 },
    { "--key-file", TC_O_KEY_FILE, 1 }, { "--version", TC_O_VERSION, 1 },
    { "--pubkey", TC_O_PUBKEY, 1 },     { "--attestation", TC_O_ATTEST, 1 },
    { "--nonce", TC_O_NONCE, 1 },       { "--allow-sim", TC_O_ALLOW_SIM, 0 },
    { "--ca-file", TC_O_CA_FILE, 1 },   { "--from-block", TC_O_FROM_BLOCK, 1 },
    { "--keys", TC_O_KEYS, 0 },
};

int tc_chain_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "toyctl %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    tc_chain_usage(stderr);
    return 2;
}

int tc_chain_args(int argc, char **argv, int npos, unsigned allowed, unsigned required,
                  tc_chain_opts *a)
{
    const char *cmd = argv[1];
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (strncmp(s, "--", 2) != 0 || strcmp(s, "--") == 0) {
            if (strcmp(s, "--") == 0 && i + 1 < argc)
                s = argv[++i];
            if (a->npos == npos)
                return tc_chain_usage_error(cmd, "unexpected argument %s", s);
            a->pos[a->npos++] = s;
            continue;
        }
        size_t k = 0, nk = sizeof chain_options / sizeof chain_options[0];
        const char *eq = strchr(s, '=');
        size_t nl = eq ? (size_t)(eq - s) : strlen(s);
        while (k < nk && !(strlen(chain_options[k].name) == nl && !strncmp(chain_options[k].name, s, nl)))
            k++;
        if (k == nk || !(allowed & chain_options[k].bit))
            return tc_chain_usage_error(cmd, "unknown option %s for this command", s);
        if (a->seen & chain_options[k].bit)
            return tc_chain_usage_error(cmd, "%s given twice", chain_options[k].name);
        a->seen |= chain_options[k].bit;
        const char *val = NULL;
        if (chain_options[k].has_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return tc_chain_usage_error(cmd, "%s needs a value", chain_options[k].name);
        } else if (eq) {
            return tc_chain_usage_error(cmd, "%s takes no value", chain_options[k].name);
        }
        switch (chain_options[k].bit) {
        case TC_O_RPC: a->rpc = val; break;
        case TC_O_REGISTRY: a->registry_text = val; break;
        case TC_O_KEY_FILE: a->key_file = val; break;
        case TC_O_VERSION: a->version = val; break;
        case TC_O_PUBKEY: a->pubkey_text = val; break;
        case TC_O_ATTEST: a->attestation = val; break;
        case TC_O_NONCE: a->nonce = val; break;
        case TC_O_CA_FILE: a->ca_file = val; break;
        case TC_O_FROM_BLOCK: a->from_block_text = val; break;
        default: break;
        }
    }
    if (a->npos < npos)
        return tc_chain_usage_error(cmd, "missing argument");
    for (size_t k = 0; k < sizeof chain_options / sizeof chain_options[0]; k++)
        if ((required & chain_options[k].bit) && !(a->seen & chain_options[k].bit))
            return tc_chain_usage_error(cmd, "%s is required", chain_options[k].name);
    if (a->registry_text &&
        rt_eth_address_parse(a->registry_text, strlen(a->registry_text), a->registry) != 0)
        return tc_chain_usage_error(cmd, "--registry %s: expected an address (0x and 40 hex digits, "
                                         "with its EIP-55 checksum if mixed case)", a->registry_text);
    if (a->pubkey_text && rt_hex_decode(a->pubkey_text, strlen(a->pubkey_text), a->pubkey, 32) != 0)
        return tc_chain_usage_error(cmd, "--pubkey %s: expected 64 hex digits (an Ed25519 public key)",
                                    a->pubkey_text);
    if (a->pubkey_text && a->attestation)
        return tc_chain_usage_error(cmd, "give --pubkey or --attestation, not both");
    if ((a->seen & (TC_O_ALLOW_SIM | TC_O_NONCE)) && !a->attestation)
        return tc_chain_usage_error(cmd, "--allow-sim and --nonce apply to --attestation only");
    if (a->from_block_text) {
        char *end;
        errno = 0;
        a->from_block = strtoull(a->from_block_text, &end, 10);
        if (!*a->from_block_text || *end || errno || a->from_block_text[0] == '-')
            return tc_chain_usage_error(cmd, "--from-block %s: expected a block number", a->from_block_text);
    }
    return 0;
}

rt_rpc *tc_chain_connect(const tc_chain_opts *a, uint64_t *chain_id, uint64_t *head)
{
    char err[512];
    rt_rpc *c = rt_rpc_open(a->rpc, a->ca_file, err, sizeof err);
    if (!c) {
        tc_fail("chain: the node answers", "%s", err);
        return NULL;
    }
    if (rt_rpc_chain_id(c, chain_id) != 0 || rt_rpc_block_number(c, head) != 0) {
        tc_fail("chain: the node answers", "%s", rt_rpc_error(c));
        rt_rpc_close(c);
        return NULL;
    }
    tc_ok("chain: %s answers: chain id %llu, latest block %llu", a->rpc, (unsigned long long)*chain_id,
          (unsigned long long)*head);
    return c;
}

int tc_chain_code_equal(rt_rpc *c, const uint8_t addr[RT_ETH_ADDR_LEN], const rt_contract *want,
                        size_t *len)
{
    uint8_t *code = NULL;
    *len = 0;
    if (rt_rpc_get_code(c, addr, &code, len) != 0)
        return -1;
    int same = *len == want->code_len && memcmp(code, want->code, *len) == 0;
    free(code);
    return same;
}

int tc_chain_code_is(rt_rpc *c, const uint8_t addr[RT_ETH_ADDR_LEN], const rt_contract *want,
                     const char *role)
{
    char a[RT_ETH_ADDR_STR], what[200];
    size_t n;
    rt_eth_address_str(addr, a);
    snprintf(what, sizeof what, "%s: %s runs %s as deploy/contracts/%s.sol compiles", role, a,
             want->name, want->name);
    int same = tc_chain_code_equal(c, addr, want, &n);
    if (same < 0)
        tc_fail(what, "%s", rt_rpc_error(c));
    else if (same)
        tc_ok("%s (%zu bytes of code, byte for byte)", what, n);
    else if (n == 0)
        tc_fail(what, "there is no contract at that address on this chain");
    else
        tc_fail(what, "it holds %zu bytes of other code: not this repository's %s", n, want->name);
    return same == 1;
}

static int chain_verdict(void)
{
    if (tc_failures() == 0) {
        printf("verified: all %d checks passed\n", tc_passes());
        return 0;
    }
    printf("NOT verified: %d of %d checks failed\n", tc_failures(), tc_failures() + tc_passes());
    return 1;
}

/* ---- verify-deletion RECEIPT_ID --rpc ... ---------------------------------- */

/* The transaction of a record: its fields hash to its hash, and its
 * signature recovers its sender (*from).  Returns 1 if so. */
static int check_transaction(rt_rpc *c, const rt_rpc_log *l, const uint8_t registry[20],
                             uint8_t from[RT_ETH_ADDR_LEN])
{
    char h[67] = "0x", what[160], fa[RT_ETH_ADDR_STR], ra[RT_ETH_ADDR_STR];
    rt_hex_encode(l->tx_hash, 32, h + 2);
    snprintf(what, sizeof what, "transaction: %s's fields hash to its hash and its signature "
                                "recovers its sender", h);
    rt_rpc_tx t;
    if (rt_rpc_tx_get(c, l->tx_hash, &t) != 0) {
        tc_fail(what, "%s", rt_rpc_error(c));
        return 0;
    }
    if (!t.found) {
        tc_fail(what, "the node does not know it");
        return 0;
    }
    int ok = 0;
    size_t cap = t.tx.data_len + RT_ETH_TX_OVERHEAD, n;
    uint8_t *raw = malloc(cap), hash[32];
    if (t.type != 2 || t.has_access_list) {
        tc_fail(what, "type %d%s: not the EIP-1559 transaction without access list that toyapp sends",
                t.type, t.has_access_list ? " with an access list" : "");
    } else if (!raw || rt_eth_tx_encode(&t.tx, &t.sig, raw, cap, &n) != RT_ETH_OK) {
        tc_fail(what, "cannot encode it");
    } else if (rt_keccak256(raw, n, hash), memcmp(hash, l->tx_hash, 32) != 0) {
        tc_fail(what, "the node's fields for it do not hash to its hash");
    } else if (rt_eth_tx_sender(&t.tx, &t.sig, from) != RT_ETH_OK) {
        tc_fail(what, "its signature recovers no sender");
    } else if (memcmp(from, t.from, 20) != 0) {
        rt_eth_address_str(from, fa);
        rt_eth_address_str(t.from, ra);
        tc_fail(what, "it recovers %s, the node says %s", fa, ra);
    } else if (!t.tx.has_to || memcmp(t.tx.to, registry, 20) != 0) {
        tc_fail(what, "it is not a call to the registry");
    } else {
        rt_eth_address_str(from, fa);
        tc_ok("%s (%s)", what, fa);
        ok = 1;
    }
    free(raw);
    rt_rpc_tx_free(&t);
    return ok;
}

/* The enclave the registry accepted when the record was made: the last
 * EnclaveChanged event before the record.  Returns 1 if it is sender. */
static int check_sender(rt_rpc *c, const uint8_t registry[20], uint64_t from_block,
                        const rt_rpc_log *rec, const uint8_t sender[20])
{
    uint8_t topic[32];
    rt_rpc_log *logs = NULL;
    size_t n = 0;
    char sa[RT_ETH_ADDR_STR], what[200];
    rt_eth_address_str(sender, sa);
    snprintf(what, sizeof what, "sender: %s was the registry's registered enclave when it posted", sa);
    rt_chain_hash_sig("EnclaveChanged(address,address)", topic);
    if (rt_rpc_get_logs(c, registry, from_block, rec->block_number, topic, NULL, &logs, &n) != 0) {
        tc_fail(what, "%s", rt_rpc_error(c));
        return 0;
    }
    const rt_rpc_log *last = NULL;
    for (size_t i = 0; i < n; i++)
        if (logs[i].ntopics == 3 && !logs[i].removed &&
            (logs[i].block_number < rec->block_number ||
             (logs[i].block_number == rec->block_number && logs[i].log_index < rec->log_index)))
            last = &logs[i];
    int ok = last && memcmp(last->topics[2] + 12, sender, 20) == 0;
    if (ok) {
        tc_ok("%s (registered in block %llu)", what, (unsigned long long)last->block_number);
    } else if (!last) {
        tc_fail(what, "no EnclaveChanged event before the record (from block %llu)",
                (unsigned long long)from_block);
    } else {
        char ea[RT_ETH_ADDR_STR];
        rt_eth_address_str(last->topics[2] + 12, ea);
        tc_fail(what, "the registered enclave then was %s", ea);
    }
    rt_rpc_logs_free(logs, n);
    return ok;
}

/* --attestation: the attestation document binds the record's key (and, if
 * it names one, the sender's address) to a quote. */
static void bind_attestation(const tc_chain_opts *a, const rt_chain_attestation *att,
                             const uint8_t sender[20])
{
    struct json_object *doc = tc_load("attestation", a->attestation), *v;
    if (!doc)
        return;
    char pub[65], compose[65];
    rt_hex_encode(att->public_key, 32, pub);
    rt_hex_encode(att->compose_hash, 32, compose);
    /* The fields of the record that the attestation check compares. */
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "publicKey", json_object_new_string(pub));
    json_object_object_add(r, "composeHash", json_object_new_string(compose));
    json_object_object_add(r, "teeProvider",
                           json_object_new_string(json_object_object_get_ex(doc, "teeProvider", &v) &&
                                                          json_object_is_type(v, json_type_string)
                                                      ? json_object_get_string(v) : ""));
    tc_attest_opts o = { .allow_sim = (a->seen & TC_O_ALLOW_SIM) != 0, .nonce = a->nonce,
                         .now = (int64_t)time(NULL) };
    tc_verify_attestation(doc, r, &o);
    if (json_object_object_get_ex(doc, "enclaveAddress", &v) && json_object_is_type(v, json_type_string) &&
        json_object_get_string_len(v) > 0) {
        uint8_t ea[20];
        char sa[RT_ETH_ADDR_STR];
        rt_eth_address_str(sender, sa);
        const char *what = "attestation: its enclaveAddress is the record's sender";
        if (rt_eth_address_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v), ea) != 0)
            tc_fail(what, "enclaveAddress %s is not an address", json_object_get_string(v));
        else if (memcmp(ea, sender, 20) != 0)
            tc_fail(what, "attestation %s, sender %s", json_object_get_string(v), sa);
        else
            tc_ok("%s (%s)", what, sa);
    } else {
        tc_note("the attestation names no enclaveAddress: the sender's address is not bound to the quote");
    }
    json_object_put(r);
    json_object_put(doc);
}

static int cmd_verify_deletion(int argc, char **argv)
{
    tc_chain_opts a;
    int rc = tc_chain_args(argc, argv, 1,
                           TC_O_RPC | TC_O_REGISTRY | TC_O_PUBKEY | TC_O_ATTEST | TC_O_NONCE |
                               TC_O_ALLOW_SIM | TC_O_CA_FILE | TC_O_FROM_BLOCK,
                           TC_O_RPC | TC_O_REGISTRY, &a);
    if (rc)
        return rc;
    const char *receipt = a.pos[0];
    uint64_t chain_id, head;
    rt_rpc *c = tc_chain_connect(&a, &chain_id, &head);
    if (!c)
        return chain_verdict();
    if (!tc_chain_code_is(c, a.registry, &rt_contract_deletion_registry, "registry")) {
        rt_rpc_close(c);
        return chain_verdict();
    }

    uint8_t h[32], call[36], *ret = NULL;
    size_t rn = 0;
    uint64_t block = 0;
    char hx[65], what[256];
    rt_chain_receipt_hash(receipt, strlen(receipt), h);
    rt_hex_encode(h, 32, hx);
    snprintf(what, sizeof what, "record: the registry has a record of receipt %s (SHA-256 %s)", receipt, hx);
    rt_chain_call_bytes32(RT_CHAIN_FN_RECORDED_IN, h, call);
    if (rt_rpc_eth_call(c, NULL, a.registry, call, sizeof call, &ret, &rn) != 0 ||
        rt_chain_ret_u64(ret, rn, &block) != 0) {
        tc_fail(what, "recordedIn: %s", rt_rpc_error(c)[0] ? rt_rpc_error(c) : "not a number");
        goto out;
    }
    if (block == 0) {
        tc_fail(what, "no record: this receipt's deletion is not on this chain");
        goto out;
    }

    uint8_t topic[32];
    rt_rpc_log *logs = NULL;
    size_t n = 0;
    rt_chain_hash_sig(RT_CHAIN_EV_RECORDED, topic);
    if (rt_rpc_get_logs(c, a.registry, block, block, topic, h, &logs, &n) != 0) {
        tc_fail(what, "eth_getLogs: %s", rt_rpc_error(c));
        goto out;
    }
    rt_chain_attestation att;
    if (n != 1 || logs[0].removed ||
        rt_chain_decode_recorded((const uint8_t (*)[32])logs[0].topics, logs[0].ntopics, logs[0].data,
                                 logs[0].data_len, &att) != 0) {
        tc_fail(what, "block %llu holds %zu DeletionRecorded events for it, expected one well-formed",
                (unsigned long long)block, n);
        rt_rpc_logs_free(logs, n);
        goto out;
    }
    rt_rpc_block b;
    char tx[67] = "0x", when[32] = "?";
    rt_hex_encode(logs[0].tx_hash, 32, tx + 2);
    if (rt_rpc_get_block(c, NULL, block, &b) == 0 && b.found)
        rt_chain_time_format(b.timestamp * 1000, when);
    tc_ok("%s: block %llu (%s), transaction %s", what, (unsigned long long)block, when, tx);

    /* The signature, over the canonical JSON rebuilt from the event. */
    char err[256];
    size_t un, sn;
    char *unsigned_json = rt_chain_attestation_json(&toy_rec_deletion_attestation_rec, &att, receipt,
                                                    RT_SER_UNSIGNED, &un, err, sizeof err);
    char *signed_json = rt_chain_attestation_json(&toy_rec_deletion_attestation_rec, &att, receipt, 0,
                                                  &sn, err, sizeof err);
    const char *sw = "attestation: Ed25519 signature by its publicKey over its canonical JSON, rebuilt "
                     "from the event";
    if (!unsigned_json || !signed_json)
        tc_fail(sw, "%s", err);
    else if (!rt_ed25519_verify(att.public_key, (const uint8_t *)unsigned_json, un, att.signature))
        tc_fail(sw, "the signature does not verify: the record is not what the key signed");
    else
        tc_ok("%s: %.*s", sw, (int)sn, signed_json);
    free(unsigned_json);
    free(signed_json);

    uint8_t sender[20];
    if (check_transaction(c, &logs[0], a.registry, sender)) {
        check_sender(c, a.registry, a.from_block, &logs[0], sender);
        if (a.pubkey_text) {
            const char *pw = "attestation: publicKey is the key given with --pubkey";
            char pub[65];
            rt_hex_encode(att.public_key, 32, pub);
            if (memcmp(att.public_key, a.pubkey, 32) == 0)
                tc_ok("%s", pw);
            else
                tc_fail(pw, "the record's key is %s", pub);
        } else if (a.attestation) {
            bind_attestation(&a, &att, sender);
        } else {
            tc_note("publicKey not bound (use --pubkey or --attestation)");
        }
    }
    rt_rpc_logs_free(logs, n);
out:
    free(ret);
    rt_rpc_close(c);
    return chain_verdict();
}

/* ---- history --rpc ... --registry ... --------------------------------------- */

typedef struct transition {
    uint64_t block, index, time;
    int added;
    uint8_t hash[32], tx[32];
    char version[RT_CHAIN_VERSION_MAX + 1];
} transition;

static int by_position(const void *x, const void *y)
{
    const transition *a = x, *b = y;
    if (a->block != b->block)
        return a->block < b->block ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int cmd_history(int argc, char **argv)
{
    tc_chain_opts a;
    int rc = tc_chain_args(argc, argv, 0, TC_O_RPC | TC_O_REGISTRY | TC_O_CA_FILE | TC_O_FROM_BLOCK,
                           TC_O_RPC | TC_O_REGISTRY, &a);
    if (rc)
        return rc;
    uint64_t chain_id, head;
    rt_rpc *c = tc_chain_connect(&a, &chain_id, &head);
    if (!c || !tc_chain_code_is(c, a.registry, &rt_contract_app_registry, "registry")) {
        rt_rpc_close(c);
        return chain_verdict();
    }
    transition *t = NULL;
    size_t nt = 0;
    const char *events[2] = { RT_CHAIN_EV_ADDED, RT_CHAIN_EV_REMOVED };
    for (int e = 0; e < 2; e++) {
        uint8_t topic[32];
        rt_rpc_log *logs;
        size_t n;
        rt_chain_hash_sig(events[e], topic);
        if (rt_rpc_get_logs(c, a.registry, a.from_block, UINT64_MAX, topic, NULL, &logs, &n) != 0) {
            tc_fail("history: the registry's ComposeHashAdded and ComposeHashRemoved events", "%s",
                    rt_rpc_error(c));
            free(t);
            rt_rpc_close(c);
            return chain_verdict();
        }
        transition *g = realloc(t, (nt + n + 1) * sizeof *t);
        if (!g) {
            fprintf(stderr, "toyctl: out of memory\n");
            exit(1);
        }
        t = g;
        for (size_t i = 0; i < n; i++) {
            transition *x = &t[nt];
            if (logs[i].removed ||
                rt_chain_decode_compose((const uint8_t (*)[32])logs[i].topics, logs[i].ntopics,
                                        logs[i].data, logs[i].data_len, &x->added, x->hash,
                                        x->version) != 0)
                continue;
            x->block = logs[i].block_number;
            x->index = logs[i].log_index;
            memcpy(x->tx, logs[i].tx_hash, 32);
            nt++;
        }
        rt_rpc_logs_free(logs, n);
    }
    qsort(t, nt, sizeof *t, by_position);
    tc_ok("history: %zu version transitions in the app registry (blocks %llu to %llu)", nt,
          (unsigned long long)a.from_block, (unsigned long long)head);
    printf("%-8s  %-24s  %-7s  %-12s  %-66s  %s\n", "block", "time (UTC)", "change", "version",
           "compose hash", "transaction");
    uint64_t cached = UINT64_MAX, ctime = 0;
    for (size_t i = 0; i < nt; i++) {
        if (t[i].block != cached) {
            rt_rpc_block b;
            cached = t[i].block;
            ctime = rt_rpc_get_block(c, NULL, cached, &b) == 0 && b.found ? b.timestamp : 0;
        }
        char when[32], hx[65], tx[65];
        rt_chain_time_format(ctime * 1000, when);
        rt_hex_encode(t[i].hash, 32, hx);
        rt_hex_encode(t[i].tx, 32, tx);
        printf("%-8llu  %-24s  %-7s  %-12s  0x%s  0x%s\n", (unsigned long long)t[i].block, when,
               t[i].added ? "added" : "removed", t[i].version, hx, tx);
    }
    free(t);
    rt_rpc_close(c);
    return chain_verdict();
}

/* ---- dispatch ----------------------------------------------------------------- */

void tc_chain_usage(FILE *f)
{
    fputs("  toyctl verify-deletion RECEIPT_ID --rpc URL --registry ADDR [--pubkey HEX |\n"
          "         --attestation FILE [--allow-sim] [--nonce TEXT]] [--from-block N] [--ca-file PEM]\n"
          "  toyctl history --rpc URL --registry ADDR [--from-block N] [--ca-file PEM]\n"
          "  toyctl chain-deploy --rpc URL --key-file FILE [--ca-file PEM]\n"
          "  toyctl register-enclave ADDRESS --rpc URL --registry ADDR --key-file FILE\n"
          "  toyctl register-compose HASH --version V --rpc URL --registry ADDR --key-file FILE\n"
          "  toyctl unregister-compose HASH --rpc URL --registry ADDR --key-file FILE\n"
          "  toyctl address --key-file FILE\n"
          "  toyctl tee-info [--keys]\n",
          f);
}

int tc_chain_command(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "verify-deletion") == 0) {
        /* The on-chain form takes --rpc; the offline form (a response file)
         * is main.c's. */
        int online = 0;
        for (int i = 2; i < argc; i++)
            online |= strncmp(argv[i], "--rpc", 5) == 0 && (argv[i][5] == 0 || argv[i][5] == '=');
        return online ? cmd_verify_deletion(argc, argv) : -1;
    }
    if (strcmp(cmd, "history") == 0)
        return cmd_history(argc, argv);
    return tc_operator_command(argc, argv);
}

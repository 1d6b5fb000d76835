/*
 * operator.c — the operator's chain verbs, which sign transactions with the
 * operator's key (a file holding the secp256k1 secret key as 64 hex digits,
 * readable by its owner only), and tee-info.
 *
 *   toyctl chain-deploy --rpc URL --key-file FILE
 *       deploys the deletion registry and the app registry (the operator
 *       owns both) and prints CHAIN_ID=, CHAIN_DELETION_REGISTRY= and
 *       CHAIN_APP_REGISTRY= lines for the environment
 *   toyctl register-enclave ADDRESS --rpc URL --registry ADDR --key-file FILE
 *       lets ADDRESS (the enclave's chain address, from /info or tee-info)
 *       post to the deletion registry
 *   toyctl register-compose HASH --version V --rpc URL --registry ADDR --key-file FILE
 *   toyctl unregister-compose HASH --rpc URL --registry ADDR --key-file FILE
 *       adds (removes) a release's compose hash in the app registry
 *   toyctl address --key-file FILE
 *       prints the address of the key (the account to fund)
 *   toyctl tee-info [--keys]
 *       opens the TEE provider as toyapp does (TEE_PROVIDER, TEE_SIM_SEED,
 *       DSTACK_SOCKET, APP_ID, TOYAPP_COMPOSE_FILE) and prints its compose
 *       hash; with --keys also the enclave's chain address, which needs the
 *       keys (so the sim provider's KMS gate applies)
 *
 * Each verb that changes the chain first reads whether there is anything
 * to change, so running it twice does no harm.
 */
#include "toyctl.h"
#include "tc_chain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "rt_chain.h"
#include "rt_contracts.h"
#include "rt_rpc.h"
#include "rt_tee.h"
#include "rt_txsend.h"

#define TX_TIMEOUT_MS 120000

/* Reads the operator's key file: 64 hex digits, "0x" and white space
 * allowed around them; the file must not be readable by group or other. */
static int read_key_file(const char *path, uint8_t key[32])
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    char buf[160];
    ssize_t n = -1;
    if (fd < 0) {
        fprintf(stderr, "toyctl: key file %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        fprintf(stderr, "toyctl: key file %s must be a regular file that only its owner can read "
                        "(chmod 600)\n", path);
        close(fd);
        return -1;
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    char *p = buf, *e;
    if (n > 0) {
        buf[n] = 0;
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
            p++;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
            p += 2;
        e = p + strspn(p, "0123456789abcdefABCDEF");
        if (strspn(e, " \t\r\n") != strlen(e))
            n = -1;
    }
    int ok = n > 0 && rt_hex_decode(p, strcspn(p, " \t\r\n"), key, 32) == 0 && rt_eth_seckey_valid(key);
    OPENSSL_cleanse(buf, sizeof buf);
    if (!ok)
        fprintf(stderr, "toyctl: key file %s does not hold a secp256k1 secret key (64 hex digits)\n", path);
    return ok ? 0 : -1;
}

/* The 32-byte compose hash given as 64 hex digits (a 0x is allowed). */
static int parse_hash(const char *cmd, const char *s, uint8_t h[32])
{
    if (s[0] == '0' && s[1] == 'x')
        s += 2;
    if (rt_hex_decode(s, strlen(s), h, 32) != 0)
        return tc_chain_usage_error(cmd, "%s: expected a compose hash, 64 hex digits", s);
    return 0;
}

/* Opens the node (without the verify verbs' ok lines). */
static rt_rpc *open_node(const tc_chain_opts *a)
{
    char err[512];
    rt_rpc *c = rt_rpc_open(a->rpc, a->ca_file, err, sizeof err);
    if (!c)
        fprintf(stderr, "toyctl: %s\n", err);
    return c;
}

/* Sends one call and reports it: its transaction on stderr, then, when it
 * succeeded, "toyctl: DONE (block N)" on stdout (done may be NULL).
 * Returns 0 if it succeeded; r, if not NULL, then holds the receipt (the
 * caller frees it). */
static int send_call(rt_rpc *c, const uint8_t key[32], const uint8_t *to, const uint8_t *data,
                     size_t n, const char *what, const char *done, rt_rpc_receipt *keep)
{
    uint8_t hash[32];
    char err[512], hx[65];
    rt_rpc_receipt own, *r = keep ? keep : &own;
    if (rt_txsend_call(c, key, to, data, n, TX_TIMEOUT_MS, hash, r, err, sizeof err) != 0) {
        fprintf(stderr, "toyctl: %s: %s\n", what, err);
        rt_rpc_receipt_free(r);
        return -1;
    }
    rt_hex_encode(hash, 32, hx);
    if (r->status != 1) {
        fprintf(stderr, "toyctl: %s: transaction 0x%s reverted in block %llu\n", what, hx,
                (unsigned long long)r->block_number);
        rt_rpc_receipt_free(r);
        return -1;
    }
    fprintf(stderr, "toyctl: %s: transaction 0x%s, block %llu, gas %llu\n", what, hx,
            (unsigned long long)r->block_number, (unsigned long long)r->gas_used);
    if (done)
        printf("toyctl: %s (block %llu)\n", done, (unsigned long long)r->block_number);
    if (!keep)
        rt_rpc_receipt_free(r);
    return 0;
}

/* eth_call of a view function; *ret is malloc'd. */
static int view(rt_rpc *c, const uint8_t to[20], const uint8_t *call, size_t n, uint8_t **ret,
                size_t *rn, const char *what)
{
    if (rt_rpc_eth_call(c, NULL, to, call, n, ret, rn) == 0)
        return 0;
    fprintf(stderr, "toyctl: %s: %s\n", what, rt_rpc_error(c));
    return -1;
}

static int cmd_deploy(int argc, char **argv)
{
    tc_chain_opts a;
    int rc = tc_chain_args(argc, argv, 0, TC_O_RPC | TC_O_KEY_FILE | TC_O_CA_FILE,
                           TC_O_RPC | TC_O_KEY_FILE, &a);
    if (rc)
        return rc;
    uint8_t key[32];
    uint64_t chain_id;
    if (read_key_file(a.key_file, key) != 0)
        return 1;
    rt_rpc *c = open_node(&a);
    if (!c || rt_rpc_chain_id(c, &chain_id) != 0) {
        if (c)
            fprintf(stderr, "toyctl: %s\n", rt_rpc_error(c));
        rt_rpc_close(c);
        OPENSSL_cleanse(key, sizeof key);
        return 1;
    }
    const rt_contract *k[2] = { &rt_contract_deletion_registry, &rt_contract_app_registry };
    const char *var[2] = { "CHAIN_DELETION_REGISTRY", "CHAIN_APP_REGISTRY" };
    char out[2][RT_ETH_ADDR_STR];
    rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        rt_rpc_receipt r;
        char what[64];
        snprintf(what, sizeof what, "deploying %s", k[i]->name);
        if (send_call(c, key, NULL, k[i]->init, k[i]->init_len, what, NULL, &r) != 0 || !r.has_contract) {
            rc = 1;
            break;
        }
        rt_eth_address_str(r.contract_address, out[i]);
        size_t len;
        if (tc_chain_code_equal(c, r.contract_address, k[i], &len) != 1) {
            fprintf(stderr, "toyctl: %s at %s does not hold the compiled code\n", k[i]->name, out[i]);
            rc = 1;
        }
        rt_rpc_receipt_free(&r);
    }
    if (rc == 0)
        printf("CHAIN_ID=%llu\n%s=%s\n%s=%s\n", (unsigned long long)chain_id, var[0], out[0], var[1],
               out[1]);
    OPENSSL_cleanse(key, sizeof key);
    rt_rpc_close(c);
    return rc;
}

static int cmd_register_enclave(int argc, char **argv)
{
    tc_chain_opts a;
    uint8_t enclave[20], key[32], call[36], *ret = NULL, now[20];
    size_t rn;
    int rc = tc_chain_args(argc, argv, 1, TC_O_RPC | TC_O_REGISTRY | TC_O_KEY_FILE | TC_O_CA_FILE,
                           TC_O_RPC | TC_O_REGISTRY | TC_O_KEY_FILE, &a);
    if (rc)
        return rc;
    if (rt_eth_address_parse(a.pos[0], strlen(a.pos[0]), enclave) != 0)
        return tc_chain_usage_error(argv[1], "%s: expected an address", a.pos[0]);
    if (read_key_file(a.key_file, key) != 0)
        return 1;
    rt_rpc *c = open_node(&a);
    rc = 1;
    rt_chain_call_noarg(RT_CHAIN_FN_ENCLAVE, call);
    if (!c || view(c, a.registry, call, 4, &ret, &rn, "enclave()") != 0)
        goto out;
    if (rt_chain_ret_address(ret, rn, now) != 0) {
        fprintf(stderr, "toyctl: %s does not answer as a deletion registry\n", a.registry_text);
        goto out;
    }
    if (memcmp(now, enclave, 20) == 0) {
        printf("toyctl: %s is already the registered enclave of %s\n", a.pos[0], a.registry_text);
        rc = 0;
        goto out;
    }
    char done[200];
    snprintf(done, sizeof done, "registered enclave %s in %s", a.pos[0], a.registry_text);
    rt_chain_call_set_enclave(enclave, call);
    rc = send_call(c, key, a.registry, call, sizeof call, "setEnclave", done, NULL) == 0 ? 0 : 1;
out:
    free(ret);
    OPENSSL_cleanse(key, sizeof key);
    rt_rpc_close(c);
    return rc;
}

static int cmd_compose(int argc, char **argv, int add)
{
    tc_chain_opts a;
    uint8_t hash[32], key[32], call[132], *ret = NULL;
    size_t rn, n;
    int allowed;
    unsigned opts = TC_O_RPC | TC_O_REGISTRY | TC_O_KEY_FILE | TC_O_CA_FILE | (add ? TC_O_VERSION : 0);
    int rc = tc_chain_args(argc, argv, 1, opts, opts & ~TC_O_CA_FILE, &a);
    if (rc || (rc = parse_hash(argv[1], a.pos[0], hash)))
        return rc;
    if (add && rt_chain_call_add_compose(hash, a.version, call, &n) != 0)
        return tc_chain_usage_error(argv[1], "--version must be 1 to %d bytes", RT_CHAIN_VERSION_MAX);
    if (read_key_file(a.key_file, key) != 0)
        return 1;
    rt_rpc *c = open_node(&a);
    char hx[65];
    rt_hex_encode(hash, 32, hx);
    uint8_t q[36];
    rc = 1;
    rt_chain_call_bytes32(RT_CHAIN_FN_ALLOWED, hash, q);
    if (!c || view(c, a.registry, q, sizeof q, &ret, &rn, "allowedComposeHashes") != 0)
        goto out;
    if (rt_chain_ret_bool(ret, rn, &allowed) != 0) {
        fprintf(stderr, "toyctl: %s does not answer as an app registry\n", a.registry_text);
        goto out;
    }
    if (allowed == add) {
        char version[RT_CHAIN_VERSION_MAX + 1] = "";
        free(ret);
        ret = NULL;
        rt_chain_call_bytes32(RT_CHAIN_FN_VERSION, hash, q);
        if (view(c, a.registry, q, sizeof q, &ret, &rn, "composeVersion") == 0)
            rt_chain_ret_string(ret, rn, version);
        printf("toyctl: compose hash %s is %s in %s%s%s%s\n", hx, add ? "already registered" : "not registered",
               a.registry_text, *version ? " (version " : "", version, *version ? ")" : "");
        rc = 0;
        goto out;
    }
    if (!add) {
        rt_chain_call_bytes32(RT_CHAIN_FN_REMOVE_COMPOSE, hash, call);
        n = 36;
    }
    char done[300];
    snprintf(done, sizeof done, "%s compose hash %s%s%s in %s", add ? "registered" : "removed", hx,
             add ? " as version " : "", add ? a.version : "", a.registry_text);
    rc = send_call(c, key, a.registry, call, n, add ? "addComposeHash" : "removeComposeHash", done, NULL) == 0
             ? 0 : 1;
out:
    free(ret);
    OPENSSL_cleanse(key, sizeof key);
    rt_rpc_close(c);
    return rc;
}

static int cmd_tee_info(int argc, char **argv)
{
    tc_chain_opts a;
    int rc = tc_chain_args(argc, argv, 0, TC_O_KEYS, 0, &a);
    if (rc)
        return rc;
    const char *kind = getenv("TEE_PROVIDER"), *app = getenv("APP_ID"), *arg, *err = NULL;
    kind = kind && *kind ? kind : "sim";
    app = app && *app ? app : "toyapp";
    arg = getenv(strcmp(kind, "dstack") == 0 ? "DSTACK_SOCKET" : "TEE_SIM_SEED");
    rt_tee *t = rt_tee_open(kind, arg && *arg ? arg : NULL, app, &err);
    rt_tee_info_t info;
    if (!t || rt_tee_info(t, &info) != 0) {
        fprintf(stderr, "toyctl: TEE provider %s: %s\n", kind, t ? rt_tee_error(t) : err);
        rt_tee_close(t);
        return 1;
    }
    printf("teeProvider=%s\nappId=%s\ncomposeHash=%s\n", info.kind, info.app_id, info.compose_hash);
    if (a.seen & TC_O_KEYS) {
        uint8_t addr[20];
        char s[RT_ETH_ADDR_STR];
        if (rt_tee_secp256k1(t, RT_TEE_PATH_CHAIN, NULL, addr) != 0) {
            fprintf(stderr, "toyctl: TEE provider %s: %s\n", kind, rt_tee_error(t));
            rt_tee_close(t);
            return 1;
        }
        rt_eth_address_str(addr, s);
        printf("enclaveAddress=%s\n", s);
    }
    rt_tee_close(t);
    return 0;
}

static int cmd_address(int argc, char **argv)
{
    tc_chain_opts a;
    uint8_t key[32], addr[20];
    char s[RT_ETH_ADDR_STR];
    int rc = tc_chain_args(argc, argv, 0, TC_O_KEY_FILE, TC_O_KEY_FILE, &a);
    if (rc)
        return rc;
    if (read_key_file(a.key_file, key) != 0)
        return 1;
    rc = rt_eth_address(key, addr);
    OPENSSL_cleanse(key, sizeof key);
    if (rc != RT_ETH_OK)
        return 1;
    rt_eth_address_str(addr, s);
    printf("%s\n", s);
    return 0;
}

int tc_operator_command(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "address") == 0)
        return cmd_address(argc, argv);
    if (strcmp(cmd, "chain-deploy") == 0)
        return cmd_deploy(argc, argv);
    if (strcmp(cmd, "register-enclave") == 0)
        return cmd_register_enclave(argc, argv);
    if (strcmp(cmd, "register-compose") == 0)
        return cmd_compose(argc, argv, 1);
    if (strcmp(cmd, "unregister-compose") == 0)
        return cmd_compose(argc, argv, 0);
    if (strcmp(cmd, "tee-info") == 0)
        return cmd_tee_info(argc, argv);
    return -1;
}

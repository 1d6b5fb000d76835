/*
 * tc_chain.h — declarations shared by toyctl's chain verbs.
 *
 *   chain.c     the verbs that read the chain: verify-deletion RECEIPT_ID
 *               --rpc (the on-chain form; the offline form of a response
 *               file is main.c's), history; the argument handling of all
 *   operator.c  the operator's verbs, which sign with the operator's key:
 *               chain-deploy, register-enclave, register-compose,
 *               unregister-compose, address; and tee-info
 *
 * Unlike the file verifiers, these read (and the operator's write) a chain,
 * through the node the user names with --rpc and runtime/rt_rpc.c, the one
 * chain client.  They print toyctl's "ok / FAIL / note" lines (check.c).
 */
#ifndef TC_CHAIN_H
#define TC_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rt_rpc;
struct rt_contract;

/* Options of the chain verbs. */
enum {
    TC_O_RPC = 1 << 0,
    TC_O_REGISTRY = 1 << 1,
    TC_O_KEY_FILE = 1 << 2,
    TC_O_VERSION = 1 << 3,
    TC_O_PUBKEY = 1 << 4,
    TC_O_ATTEST = 1 << 5,
    TC_O_NONCE = 1 << 6,
    TC_O_ALLOW_SIM = 1 << 7,
    TC_O_CA_FILE = 1 << 8,
    TC_O_FROM_BLOCK = 1 << 9,
    TC_O_KEYS = 1 << 10,
};

typedef struct tc_chain_opts {
    const char *pos[2];
    int npos;
    unsigned seen;
    const char *rpc, *registry_text, *key_file, *version, *pubkey_text, *attestation, *nonce,
        *ca_file, *from_block_text;
    uint8_t registry[20], pubkey[32];
    uint64_t from_block;
} tc_chain_opts;

/* Runs a chain verb (verify-deletion with --rpc, history, and the
 * operator's verbs).  Returns its exit status, or -1 if argv[1] is not one
 * of them (verify-deletion without --rpc is the offline form). */
int tc_chain_command(int argc, char **argv);

/* The operator's verbs (operator.c); -1 if argv[1] is not one of them. */
int tc_operator_command(int argc, char **argv);

/* The chain verbs' synopsis lines. */
void tc_chain_usage(FILE *f);

/* Parses argv[2..] for a chain verb taking npos positionals, the options
 * in allowed, of which those in required must be given.  Returns 0, or 2
 * after printing a usage message. */
int tc_chain_args(int argc, char **argv, int npos, unsigned allowed, unsigned required,
                  tc_chain_opts *a);

/* Prints "toyctl CMD: <message>" and the synopsis on stderr; returns 2. */
int tc_chain_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the node of --rpc and asks its chain id and latest block (an ok or
 * FAIL line).  Returns the client (rt_rpc_close) or NULL. */
struct rt_rpc *tc_chain_connect(const tc_chain_opts *a, uint64_t *chain_id, uint64_t *head);

/* 1 if addr holds exactly the runtime code of want, 0 if not (*len: the
 * bytes it holds), -1 if the node did not answer. */
int tc_chain_code_equal(struct rt_rpc *c, const uint8_t addr[20], const struct rt_contract *want,
                        size_t *len);

/* Whether addr holds exactly the runtime code of want (one ok or FAIL line,
 * role naming the address's part).  Returns 1 if it does. */
int tc_chain_code_is(struct rt_rpc *c, const uint8_t addr[20], const struct rt_contract *want,
                     const char *role);

#endif

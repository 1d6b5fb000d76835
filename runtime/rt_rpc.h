/*
 * rt_rpc.h — the Ethereum JSON-RPC client: the one place in toyapp and
 * toyctl that talks to a chain node (tests/integration/test_boundary.sh
 * keeps it the only object file on the outbound allowlist for the chain).
 *
 * Transport: HTTP/1.1 POST to the node's URL, http:// or https:// (OpenSSL,
 * the system's CA store or a given CA file, the host name checked), the
 * connection kept alive between calls and reopened when the node closed
 * it.  One deadline covers each call: connect, send and the whole answer,
 * so a hung node costs at most the timeout.  JSON-RPC 2.0 envelopes; the
 * typed wrappers below speak Ethereum's encodings (quantities as "0x" hex
 * without leading zeros, data as "0x" hex).
 *
 * Errors: functions returning int return 0 on success and an enum
 * rt_rpc_err code otherwise; rt_rpc_error() describes the last one, which
 * tells a caller whether to retry: RT_RPC_E_CONNECT and RT_RPC_E_IO are the
 * node being unreachable or slow, RT_RPC_E_RPC is an answer the node gave
 * (rt_rpc_rpc_code: its JSON-RPC code), RT_RPC_E_REVERT an execution that
 * reverted (rt_rpc_revert_data: the revert data, e.g. a custom error).
 * An rt_rpc is used by one thread at a time.
 */
#ifndef RT_RPC_H
#define RT_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "rt_eth.h"

#define RT_RPC_TIMEOUT_MS_DEFAULT 10000
#define RT_RPC_MAX_RESPONSE (64u << 20)   /* largest answer accepted, bytes */

enum rt_rpc_err {
    RT_RPC_OK = 0,
    RT_RPC_E_URL,      /* the URL is not http(s)://host[:port][/path] */
    RT_RPC_E_CONNECT,  /* name resolution, connect or TLS handshake failed */
    RT_RPC_E_IO,       /* sending or receiving failed, or the deadline passed */
    RT_RPC_E_HTTP,     /* not a well-formed HTTP answer, or a status other than 200 */
    RT_RPC_E_JSON,     /* not a JSON-RPC answer, or a result of the wrong shape */
    RT_RPC_E_RPC,      /* the node answered with a JSON-RPC error */
    RT_RPC_E_REVERT,   /* the execution reverted (eth_call, eth_estimateGas) */
    RT_RPC_E_NOMEM
};

typedef struct rt_rpc rt_rpc;

/* Opens a client for url (nothing is sent yet).  ca_file, if not NULL, is
 * the PEM file of the CAs to trust for https (else the system's).  Returns
 * the client, or NULL with a message in err[0..errlen). */
rt_rpc *rt_rpc_open(const char *url, const char *ca_file, char *err, size_t errlen);

/* Closes the connection and frees c.  NULL is ignored. */
void rt_rpc_close(rt_rpc *c);

/* The deadline of one call, 1..600000 ms (default RT_RPC_TIMEOUT_MS_DEFAULT). */
void rt_rpc_set_timeout_ms(rt_rpc *c, int ms);

/* The URL given to rt_rpc_open (owned by c). */
const char *rt_rpc_url(const rt_rpc *c);

/* The last error: its code, its text ("" if none; valid until the next
 * call on c), the JSON-RPC error code of the last RT_RPC_E_RPC or
 * RT_RPC_E_REVERT, and the revert data of the last RT_RPC_E_REVERT (n = 0
 * if the node gave none; valid until the next call). */
int rt_rpc_errcode(const rt_rpc *c);
const char *rt_rpc_error(const rt_rpc *c);
long rt_rpc_rpc_code(const rt_rpc *c);
const uint8_t *rt_rpc_revert_data(const rt_rpc *c, size_t *n);

/* Calls method with params (the JSON text of an array, e.g. "[]") and
 * returns the JSON text of "result" in a malloc'd NUL-terminated string
 * (the caller frees it).  For methods without a typed wrapper. */
int rt_rpc_call_raw(rt_rpc *c, const char *method, const char *params, char **result);

/* ---- typed calls -------------------------------------------------------- */

int rt_rpc_chain_id(rt_rpc *c, uint64_t *id);                       /* eth_chainId */
int rt_rpc_block_number(rt_rpc *c, uint64_t *n);                    /* eth_blockNumber */
int rt_rpc_gas_price(rt_rpc *c, uint64_t *wei);                     /* eth_gasPrice */
int rt_rpc_max_priority_fee(rt_rpc *c, uint64_t *wei);              /* eth_maxPriorityFeePerGas */

/* eth_getTransactionCount(addr, block): block is "latest" or "pending". */
int rt_rpc_nonce(rt_rpc *c, const uint8_t addr[RT_ETH_ADDR_LEN], const char *block, uint64_t *n);

/* eth_getBalance(addr, "latest"): wei as 32 big-endian bytes. */
int rt_rpc_balance(rt_rpc *c, const uint8_t addr[RT_ETH_ADDR_LEN], uint8_t wei[32]);

typedef struct rt_rpc_block {
    int found;             /* 0: the node has no such block */
    uint64_t number, timestamp;
    int has_base_fee;      /* London and later */
    uint64_t base_fee;     /* baseFeePerGas, wei */
    uint8_t hash[32];
} rt_rpc_block;

/* eth_getBlockByNumber(tag or number, false): tag is "latest", "pending",
 * ... or NULL to ask for block number. */
int rt_rpc_get_block(rt_rpc *c, const char *tag, uint64_t number, rt_rpc_block *b);

/* eth_estimateGas({from, to, data}): to NULL for a contract creation.
 * A reverting execution is RT_RPC_E_REVERT. */
int rt_rpc_estimate_gas(rt_rpc *c, const uint8_t from[RT_ETH_ADDR_LEN],
                        const uint8_t *to, const uint8_t *data, size_t n, uint64_t *gas);

/* eth_call({from, to, data}, "latest"); from may be NULL.  *out (malloc'd,
 * *out_len bytes) is the return data; the caller frees it.  A reverting
 * call is RT_RPC_E_REVERT. */
int rt_rpc_eth_call(rt_rpc *c, const uint8_t *from, const uint8_t to[RT_ETH_ADDR_LEN],
                    const uint8_t *data, size_t n, uint8_t **out, size_t *out_len);

/* eth_getCode(addr, "latest"); *code is malloc'd (possibly 0 bytes). */
int rt_rpc_get_code(rt_rpc *c, const uint8_t addr[RT_ETH_ADDR_LEN], uint8_t **code, size_t *n);

/* eth_sendRawTransaction(raw): hash gets the node's transaction hash. */
int rt_rpc_send_raw(rt_rpc *c, const uint8_t *raw, size_t n, uint8_t hash[32]);

/* One event log. */
typedef struct rt_rpc_log {
    uint8_t address[RT_ETH_ADDR_LEN];
    uint8_t topics[4][32];
    int ntopics;
    uint8_t *data;         /* malloc'd */
    size_t data_len;
    uint64_t block_number, log_index;
    uint8_t tx_hash[32], block_hash[32];
    int removed;           /* the node says a reorganization removed it */
} rt_rpc_log;

void rt_rpc_logs_free(rt_rpc_log *logs, size_t n);

typedef struct rt_rpc_receipt {
    int found;             /* 0: no receipt (not mined, or unknown) */
    int status;            /* 1 success, 0 reverted */
    uint64_t block_number, gas_used, effective_gas_price;
    uint8_t block_hash[32], from[RT_ETH_ADDR_LEN];
    int has_contract;      /* a creation: contract_address is the new contract */
    uint8_t contract_address[RT_ETH_ADDR_LEN];
    rt_rpc_log *logs;
    size_t nlogs;
} rt_rpc_receipt;

/* eth_getTransactionReceipt(hash).  Free with rt_rpc_receipt_free. */
int rt_rpc_receipt_get(rt_rpc *c, const uint8_t hash[32], rt_rpc_receipt *r);
void rt_rpc_receipt_free(rt_rpc_receipt *r);

/* A transaction as eth_getTransactionByHash returns it. */
typedef struct rt_rpc_tx {
    int found;
    int type;              /* 2 for EIP-1559; other types are reported, not decoded */
    int mined;             /* has a block number */
    int has_access_list;   /* a non-empty access list (rt_eth_tx cannot express it) */
    uint64_t block_number;
    uint8_t hash[32], from[RT_ETH_ADDR_LEN];
    rt_eth_tx tx;          /* tx.data is malloc'd */
    rt_eth_sig sig;
} rt_rpc_tx;

int rt_rpc_tx_get(rt_rpc *c, const uint8_t hash[32], rt_rpc_tx *t);
void rt_rpc_tx_free(rt_rpc_tx *t);

/* eth_getLogs over blocks from..to (to = UINT64_MAX: "latest"), from one
 * contract, with topic0 and, if topic1 is not NULL, topic1.  *logs is
 * malloc'd; free with rt_rpc_logs_free. */
int rt_rpc_get_logs(rt_rpc *c, const uint8_t address[RT_ETH_ADDR_LEN], uint64_t from, uint64_t to,
                    const uint8_t topic0[32], const uint8_t *topic1, rt_rpc_log **logs, size_t *n);

#endif

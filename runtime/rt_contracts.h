/*
 * rt_contracts.h — the compiled contracts of deploy/contracts/ (the
 * deletion registry and the app registry), as make regen generates them
 * into rt_contracts.c with the pinned solc.  Their ABI and bytecode are
 * also in deploy/artifacts/NAME.json for other tools.
 */
#ifndef RT_CONTRACTS_H
#define RT_CONTRACTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_contract {
    const char *name;        /* the Solidity contract name */
    const uint8_t *init;     /* creation code: the data of a deploying transaction */
    size_t init_len;
    const uint8_t *code;     /* runtime code: what eth_getCode returns once deployed */
    size_t code_len;
} rt_contract;

extern const rt_contract rt_contract_deletion_registry;
extern const rt_contract rt_contract_app_registry;

#endif
